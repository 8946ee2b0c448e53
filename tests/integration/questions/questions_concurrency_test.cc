// Votes under concurrency, across servers: two real townhalld processes on
// one Redis, 1,000 registered participants voting on 20 questions (five
// each, every vote sent twice, once through each process, and racing;
// then withdrawals, some sent twice, racing fresh votes of others).
// Afterwards every question's count equals the size of its voter set
// (read back per participant through voted_by_caller), the number of
// successful (changed) votes minus withdrawals, and what the plan says.
//
// And the watch across processes: a watcher on process A drops after the
// votes, changes are made through both processes while it is away
// (moderation, submissions, votes), and it resumes on process B from its
// last version: versions strictly increase, every non-vote change is seen
// exactly once, and the vote counts folded from the stream equal the
// truth. A steady watcher on A sees the same.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "services/common/ids.h"
#include "tests/integration/questions/questions_client.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/townhalld_process.h"

namespace townhall::testing {
namespace {

using ::testing::ElementsAreArray;

constexpr char kQuestions[] = "townhall.v1.QuestionService";
constexpr int kParticipants = 1000;
constexpr int kQuestionCount = 20;
constexpr int kVotesEach = 5;
constexpr int kThreads = 16;

// Runs `n` tasks on kThreads threads.
template <typename F>
void ParallelFor(int n, F f) {
  std::atomic<int> next{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = next++; i < n; i = next++) f(i);
    });
  }
  for (std::thread& thread : threads) thread.join();
}

// The vote counts a watcher ends with: the snapshot, then each change's
// questions and vote counts, in order.
void Fold(const std::vector<v1::WatchQueueResponse>& messages,
          std::map<std::string, int64_t>* votes) {
  for (const auto& m : messages) {
    if (m.has_snapshot()) {
      votes->clear();
      for (const auto& q : m.snapshot().questions())
        (*votes)[q.id()] = q.votes();
      continue;
    }
    for (const auto& q : m.change().questions()) (*votes)[q.id()] = q.votes();
    for (const auto& v : m.change().votes())
      (*votes)[v.question_id()] = v.votes();
  }
}

// (kind, question id) of every non-vote change.
std::multiset<std::pair<std::string, std::string>> NonVoteChanges(
    const std::vector<v1::WatchQueueResponse>& messages) {
  std::multiset<std::pair<std::string, std::string>> out;
  for (const auto& m : messages) {
    if (!m.has_change() || m.change().kind() == "question.votes") continue;
    // The question the change is about: for a pin the PINNED one (the
    // change also carries the one it unpinned), else the first.
    std::string id;
    for (const auto& q : m.change().questions()) {
      if (id.empty()) id = q.id();
      if (m.change().kind() == "question.pinned" &&
          q.status() == v1::QUESTION_STATUS_PINNED) {
        id = q.id();
        break;
      }
    }
    out.insert({m.change().kind(), id});
  }
  return out;
}

size_t versions_count(const std::vector<v1::WatchQueueResponse>& messages) {
  return ChangeVersions(messages).size();
}

class QuestionsConcurrencyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(fleet_.Start(TOWNHALLD_PATH, 2, kQuestions));
    tenant_ = absl::StrCat("t-", NewId());
    ASSERT_OK_AND_ASSIGN(token_, fleet_.CreateTenant(tenant_));
    for (int i = 0; i < fleet_.size(); ++i) {
      clients_.push_back(std::make_unique<TownhallClient>(
          ClientOptions{.address = fleet_.address(i), .token = token_}));
      organizers_.push_back(std::make_unique<QuestionsClient>(
          clients_.back()->channel(), token_));
    }
  }

  TownhallClient& client(int i) { return *clients_[i % 2]; }
  QuestionsClient& organizer(int i) { return *organizers_[i % 2]; }
  std::shared_ptr<grpc::Channel> channel(int i) {
    return clients_[i % 2]->channel();
  }
  // A client of participant `p` through process `via`.
  QuestionsClient As(int p, int via) {
    return QuestionsClient(channel(via), members_[p].token);
  }

  // The feed version now (a fresh snapshot's).
  int64_t Version() {
    absl::StatusOr<v1::QueueSnapshot> s =
        QueueSnapshotOf(channel(0), token_, session_id_);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? s->version() : -1;
  }

  // The organizer's view of every question's count.
  std::map<std::string, int64_t> Counts() {
    std::map<std::string, int64_t> out;
    absl::StatusOr<std::vector<v1::Question>> all =
        organizer(1).ListAll(session_id_);
    EXPECT_TRUE(all.ok()) << all.status();
    if (all.ok()) {
      for (const auto& q : *all) out[q.id()] = q.votes();
    }
    return out;
  }

  // Every participant's voted_by_caller flags over the open view, read
  // through alternating processes: question -> voters.
  std::map<std::string, std::set<int>> VoterSets() {
    absl::Mutex mu;
    std::map<std::string, std::set<int>> out;
    std::atomic<int> failures{0};
    ParallelFor(kParticipants, [&](int p) {
      absl::StatusOr<std::vector<v1::Question>> open =
          As(p, p).ListAll(session_id_, v1::ListQuestionsRequest::VIEW_ALL);
      if (!open.ok()) {
        if (failures++ < 5)
          ADD_FAILURE() << "list as " << p << ": " << open.status();
        return;
      }
      absl::MutexLock lock(&mu);
      for (const auto& q : *open) {
        if (q.voted_by_caller()) out[q.id()].insert(p);
      }
    });
    return out;
  }

  TownhalldFleet fleet_;
  std::vector<std::unique_ptr<TownhallClient>> clients_;
  std::vector<std::unique_ptr<QuestionsClient>> organizers_;
  std::string tenant_;
  std::string token_;
  std::string session_id_;
  std::vector<Member> members_;
};

TEST_F(QuestionsConcurrencyTest, ThousandVotersTwoServersExactCountsAndResume) {
  ASSERT_OK_AND_ASSIGN(
      v1::Session session,
      NewQuestionsSession(client(0), /*live=*/true, "Ommaviy savol-javob"));
  session_id_ = session.id();
  {
    v1::QueueSettings settings;
    settings.set_moderation_mode(v1::MODERATION_MODE_POST);
    ASSERT_OK(organizer(0).SetSettings(session_id_, settings).status());
  }

  // 1,000 registered participants in 50 organizations, half registered
  // through each process.
  std::vector<std::string> orgs(50);
  for (int i = 0; i < 50; ++i) {
    v1::CreateOrganizationRequest org;
    org.mutable_organization()->set_name(
        absl::StrCat("Vatandoshlar jamiyati ", i));
    org.mutable_organization()->set_country_code("RU");
    org.mutable_organization()->set_city("Moskva");
    ASSERT_OK_AND_ASSIGN(v1::CreateOrganizationResponse made,
                         client(i).CreateOrganization(org));
    orgs[i] = made.organization().id();
  }
  members_.resize(kParticipants);
  std::atomic<int> join_failures{0};
  const absl::Time join_start = absl::Now();
  ParallelFor(kParticipants, [&](int p) {
    absl::StatusOr<Member> m =
        NewMember(client(p), session_id_, absl::StrCat("Delegat ", p),
                  v1::SESSION_ROLE_PARTICIPANT, orgs[p % 50]);
    if (!m.ok()) {
      if (join_failures++ < 5)
        ADD_FAILURE() << "member " << p << ": " << m.status();
      return;
    }
    members_[p] = *m;
  });
  ASSERT_EQ(join_failures, 0);
  std::cout << kParticipants << " members registered in "
            << absl::Now() - join_start << "\n";

  // 20 questions by 20 participants, through both processes.
  std::vector<std::string> questions(kQuestionCount);
  for (int i = 0; i < kQuestionCount; ++i) {
    const int author = i * 37 % kParticipants;
    v1::SubmitQuestionRequest r;
    r.set_session_id(session_id_);
    r.set_participant_id(members_[author].participant_id);
    r.set_text(absl::StrCat("Savol ", i, ": ", NewId()));
    r.set_anonymous(i % 5 == 0);
    ASSERT_OK_AND_ASSIGN(v1::SubmitQuestionResponse s,
                         As(author, i).SubmitQuestion(r));
    ASSERT_EQ(s.question().status(), v1::QUESTION_STATUS_APPROVED);
    questions[i] = s.question().id();
  }

  // Watchers on A: one stays, one drops after phase 1.
  QueueWatcher steady(channel(0), token_, session_id_);
  auto dropping =
      std::make_unique<QueueWatcher>(channel(0), token_, session_id_);
  ASSERT_EQ(steady.WaitFor(1).size(), 1u);
  ASSERT_EQ(dropping->WaitFor(1).size(), 1u);
  const int64_t start_version = steady.WaitFor(1)[0].snapshot().version();

  // The plan: participant p votes on kVotesEach distinct questions; every
  // vote is sent twice (through A and through B), all shuffled and racing.
  std::mt19937 rng(20261129);
  std::vector<std::vector<int>> plan(kParticipants);
  for (int p = 0; p < kParticipants; ++p) {
    std::vector<int> all(kQuestionCount);
    for (int i = 0; i < kQuestionCount; ++i) all[i] = i;
    std::shuffle(all.begin(), all.end(), rng);
    plan[p].assign(all.begin(), all.begin() + kVotesEach);
  }
  struct Op {
    int participant;
    int question;
    int via;
    bool withdraw;
  };
  std::vector<Op> ops;
  for (int p = 0; p < kParticipants; ++p) {
    for (int q : plan[p]) {
      ops.push_back({p, q, 0, false});
      ops.push_back({p, q, 1, false});
    }
  }
  std::shuffle(ops.begin(), ops.end(), rng);

  // Per (participant, question): changed votes and changed withdrawals.
  absl::Mutex mu;
  std::map<std::pair<int, int>, int> changed_votes;
  std::map<std::pair<int, int>, int> changed_withdrawals;
  std::atomic<int> failures{0};
  auto run = [&](const std::vector<Op>& batch) {
    ParallelFor(static_cast<int>(batch.size()), [&](int n) {
      const Op& op = batch[n];
      QuestionsClient c = As(op.participant, op.via);
      const std::string& pid = members_[op.participant].participant_id;
      bool changed = false;
      absl::Status status;
      if (op.withdraw) {
        absl::StatusOr<v1::WithdrawVoteResponse> r =
            c.Withdraw(session_id_, questions[op.question], pid);
        status = r.status();
        changed = r.ok() && r->changed();
      } else {
        absl::StatusOr<v1::UpvoteQuestionResponse> r =
            c.Vote(session_id_, questions[op.question], pid);
        status = r.status();
        changed = r.ok() && r->changed();
      }
      if (!status.ok()) {
        if (failures++ < 10) {
          ADD_FAILURE() << (op.withdraw ? "withdraw " : "vote ")
                        << op.participant << " on " << op.question << " via "
                        << op.via << ": " << status;
        }
        return;
      }
      if (changed) {
        absl::MutexLock lock(&mu);
        ++(op.withdraw ? changed_withdrawals
                       : changed_votes)[{op.participant, op.question}];
      }
    });
  };
  const absl::Time vote_start = absl::Now();
  run(ops);
  std::cout << ops.size() << " votes in " << absl::Now() - vote_start << "\n";
  ASSERT_EQ(failures, 0);

  // Phase 2: every third participant withdraws its first vote (every sixth
  // twice, through both processes), racing fresh votes of every seventh
  // participant on a question it had not voted on.
  std::vector<Op> phase2;
  std::vector<std::set<int>> expected_voters(kQuestionCount);
  for (int p = 0; p < kParticipants; ++p) {
    for (int q : plan[p]) expected_voters[q].insert(p);
  }
  for (int p = 0; p < kParticipants; ++p) {
    if (p % 3 == 0) {
      phase2.push_back({p, plan[p][0], p, true});
      if (p % 6 == 0) phase2.push_back({p, plan[p][0], p + 1, true});
      expected_voters[plan[p][0]].erase(p);
    }
    if (p % 7 == 0) {
      int fresh = 0;
      while (std::find(plan[p].begin(), plan[p].end(), fresh) !=
             plan[p].end()) {
        ++fresh;
      }
      phase2.push_back({p, fresh, p + 1, false});
      expected_voters[fresh].insert(p);
    }
  }
  std::shuffle(phase2.begin(), phase2.end(), rng);
  run(phase2);
  ASSERT_EQ(failures, 0);

  // Every count: the voter set (as each participant sees it), the changed
  // votes minus withdrawals, and the plan.
  {
    std::map<std::string, int64_t> counts = Counts();
    std::map<std::string, std::set<int>> voters = VoterSets();
    std::vector<int64_t> net(kQuestionCount, 0);
    for (const auto& [key, n] : changed_votes) {
      EXPECT_EQ(n, 1) << "vote " << key.first << " on " << key.second
                      << " changed " << n << " times";
      net[key.second] += n;
    }
    for (const auto& [key, n] : changed_withdrawals) {
      EXPECT_EQ(n, 1) << "withdrawal " << key.first << " on " << key.second
                      << " changed " << n << " times";
      net[key.second] -= n;
    }
    for (int q = 0; q < kQuestionCount; ++q) {
      SCOPED_TRACE(absl::StrCat("question ", q));
      const std::string& id = questions[q];
      std::vector<int> want(expected_voters[q].begin(),
                            expected_voters[q].end());
      std::vector<int> got(voters[id].begin(), voters[id].end());
      EXPECT_THAT(got, ElementsAreArray(want));
      EXPECT_EQ(counts[id], static_cast<int64_t>(voters[id].size()));
      EXPECT_EQ(counts[id], net[q]);
      EXPECT_EQ(counts[id], static_cast<int64_t>(expected_voters[q].size()));
    }
  }

  // The dropping watcher leaves here, at its last position.
  std::vector<v1::WatchQueueResponse> before_drop =
      dropping->WaitForVersion(Version(), absl::Seconds(20));
  dropping->Cancel();
  before_drop = dropping->WaitFor(0);
  int64_t last = 0;
  for (const auto& m : before_drop) {
    last = std::max(
        last, m.has_snapshot() ? m.snapshot().version() : m.change().version());
  }

  // While it is away: moderation and submissions through both processes
  // (each a distinct (kind, question) change), and votes.
  std::multiset<std::pair<std::string, std::string>> expected_changes;
  auto moderated = [&](const absl::Status& status, const std::string& kind,
                       const std::string& id) {
    EXPECT_OK(status);
    expected_changes.insert({kind, id});
  };
  moderated(organizer(0).Pin(session_id_, questions[0]).status(),
            "question.pinned", questions[0]);
  moderated(organizer(1).Pin(session_id_, questions[1]).status(),
            "question.pinned", questions[1]);
  moderated(organizer(0).Answer(session_id_, questions[1], "Javob").status(),
            "question.answered", questions[1]);
  moderated(organizer(1).Answer(session_id_, questions[2]).status(),
            "question.answered", questions[2]);
  moderated(organizer(0).Reject(session_id_, questions[3], "Takror").status(),
            "question.rejected", questions[3]);
  moderated(organizer(1).Archive(session_id_, questions[4]).status(),
            "question.archived", questions[4]);
  std::vector<std::string> fresh;
  for (int i = 0; i < 6; ++i) {
    const int author = (i * 113 + 5) % kParticipants;
    v1::SubmitQuestionRequest r;
    r.set_session_id(session_id_);
    r.set_participant_id(members_[author].participant_id);
    r.set_text(absl::StrCat("Yangi savol ", i, ": ", NewId()));
    absl::StatusOr<v1::SubmitQuestionResponse> s =
        As(author, i).SubmitQuestion(r);
    ASSERT_OK(s.status());
    fresh.push_back(s->question().id());
    expected_changes.insert({"question.submitted", s->question().id()});
  }
  // Votes while away, on open questions only (5 .. 19 and the fresh ones).
  std::vector<std::tuple<int, std::string, int>> away_votes;
  for (int p = 1; p < kParticipants; p += 5) {
    away_votes.push_back({p, fresh[p % fresh.size()], p});
  }
  std::atomic<int> away_failures{0};
  ParallelFor(static_cast<int>(away_votes.size()), [&](int n) {
    const auto& [p, id, via] = away_votes[n];
    absl::Status s =
        As(p, via).Vote(session_id_, id, members_[p].participant_id).status();
    if (!s.ok() && away_failures++ < 5) ADD_FAILURE() << s;
  });
  ASSERT_EQ(away_failures, 0);

  // Resume through the OTHER process; more changes race the resume.
  QueueWatcher resumed(channel(1), token_, session_id_, last);
  moderated(organizer(1).Pin(session_id_, questions[5]).status(),
            "question.pinned", questions[5]);
  moderated(organizer(0).Unpin(session_id_, questions[5]).status(),
            "question.unpinned", questions[5]);
  // A refused action is no change.
  EXPECT_THAT(organizer(1).Approve(session_id_, fresh[0]),
              HasCode(absl::StatusCode::kFailedPrecondition));
  ParallelFor(100, [&](int n) {
    const int p = 2 + n * 9;
    absl::Status s = As(p, n)
                         .Vote(session_id_, fresh[n % fresh.size()],
                               members_[p].participant_id)
                         .status();
    if (!s.ok()) ADD_FAILURE() << s;
  });
  moderated(organizer(0).Pin(session_id_, fresh[1]).status(), "question.pinned",
            fresh[1]);

  const int64_t final_version = Version();
  std::cout << "feed versions " << start_version << " -> " << last
            << " (drop) -> " << final_version << "\n";
  std::vector<v1::WatchQueueResponse> after =
      resumed.WaitForVersion(final_version, absl::Seconds(30));
  absl::SleepFor(absl::Milliseconds(500));  // nothing more may come
  after = resumed.WaitFor(0);
  std::vector<v1::WatchQueueResponse> all_steady =
      steady.WaitForVersion(final_version, absl::Seconds(30));
  absl::SleepFor(absl::Milliseconds(200));
  all_steady = steady.WaitFor(0);

  std::cout << "dropped watcher: " << ChangeVersions(before_drop).size()
            << " changes before, " << versions_count(after) << " after ("
            << NonVoteChanges(after).size() << " not votes, "
            << expected_changes.size() << " expected); steady watcher: "
            << ChangeVersions(all_steady).size() << " changes\n";
  // The resumed stream: no snapshot (the feed still holds the changes),
  // versions strictly increasing after `last`, each non-vote change once.
  for (const auto& m : after) {
    EXPECT_FALSE(m.has_snapshot()) << "resume started over with a snapshot";
  }
  std::vector<int64_t> versions = ChangeVersions(after);
  ASSERT_FALSE(versions.empty());
  EXPECT_GT(versions.front(), last);
  EXPECT_EQ(versions.back(), final_version);
  for (size_t i = 1; i < versions.size(); ++i) {
    EXPECT_GT(versions[i], versions[i - 1]) << "at " << i;
  }
  EXPECT_EQ(NonVoteChanges(after), expected_changes);
  // The whole life of the dropped watcher, before and after.
  std::vector<v1::WatchQueueResponse> combined = before_drop;
  combined.insert(combined.end(), after.begin(), after.end());
  std::vector<int64_t> combined_versions = ChangeVersions(combined);
  for (size_t i = 1; i < combined_versions.size(); ++i) {
    EXPECT_GT(combined_versions[i], combined_versions[i - 1]) << "at " << i;
  }
  // The steady watcher saw the same non-vote changes (after its snapshot)
  // in strictly increasing versions.
  std::vector<int64_t> steady_versions = ChangeVersions(all_steady);
  for (size_t i = 1; i < steady_versions.size(); ++i) {
    EXPECT_GT(steady_versions[i], steady_versions[i - 1]) << "at " << i;
  }
  ASSERT_FALSE(steady_versions.empty());
  EXPECT_EQ(steady_versions.back(), final_version);
  EXPECT_EQ(NonVoteChanges(all_steady), NonVoteChanges(combined));

  // The vote counts folded from each stream equal the truth.
  std::map<std::string, int64_t> truth = Counts();
  std::map<std::string, int64_t> folded_resumed;
  Fold(combined, &folded_resumed);
  std::map<std::string, int64_t> folded_steady;
  Fold(all_steady, &folded_steady);
  for (const auto& [id, votes] : truth) {
    EXPECT_EQ(folded_resumed[id], votes) << "resumed watcher, question " << id;
    EXPECT_EQ(folded_steady[id], votes) << "steady watcher, question " << id;
  }
}

}  // namespace
}  // namespace townhall::testing
