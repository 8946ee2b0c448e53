// Ballots under concurrency, across servers: two real townhalld processes
// on one Redis, 1,000 registered participants with their own join tokens
// voting in three polls at once (single choice with allow_change, multiple
// choice of at most 2, ranked choice with allow_change), every ballot sent
// twice (once through each process, same request_id, racing), then a third
// of the voters changing their single-choice and ranked ballots (again
// twice each), then the first ballots of those who changed sent once more
// (stale retries: their request ids must keep them from undoing the
// change) while a ninth of the voters change their single choice.
//
// Afterwards the moderator's GetPoll says exactly what the plan says: 1,000
// ballots, the tallies of every voter's final ballot, every named ballot,
// the ranked poll's instant runoff. Two WatchPolls streams of the
// moderator fold to the same polls: one steady on process A, one that
// drops after the first ballots and resumes on process B from its last
// version. Then the polls are closed, and the closed results (GetPoll and
// both streams) are the same again.
#include <gmock/gmock.h>
#include <google/protobuf/util/message_differencer.h>
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
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "services/common/ids.h"
#include "tests/integration/questions/questions_client.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/stream_reader.h"
#include "tests/testing/townhalld_process.h"
#include "townhall/v1/polls.grpc.pb.h"

namespace townhall::testing {
namespace {

using ::google::protobuf::util::MessageDifferencer;

constexpr char kPolls[] = "townhall.v1.PollService";
constexpr int kVoters = 1000;
constexpr int kOptions = 4;
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

// Reads a WatchPolls stream on its own thread and keeps every message.
class PollsWatcher : public StreamReader<v1::WatchPollsResponse> {
 public:
  PollsWatcher(std::shared_ptr<grpc::Channel> channel, const std::string& token,
               const std::string& session_id, int64_t after_version = 0)
      : StreamReader(token,
                     [stub = std::shared_ptr(v1::PollService::NewStub(channel)),
                      session_id, after_version](grpc::ClientContext* context) {
                       v1::WatchPollsRequest request;
                       request.set_session_id(session_id);
                       request.set_after_version(after_version);
                       return stub->WatchPolls(context, request);
                     }) {}
};

// The polls a watcher ends with: the snapshot's, then each change's poll.
std::map<std::string, v1::Poll> Fold(
    const std::vector<v1::WatchPollsResponse>& messages) {
  std::map<std::string, v1::Poll> polls;
  for (const auto& m : messages) {
    if (m.has_snapshot()) {
      polls.clear();
      for (const v1::Poll& p : m.snapshot().polls()) polls[p.id()] = p;
    } else {
      polls[m.change().poll().id()] = m.change().poll();
    }
  }
  return polls;
}

// (kind, poll id) of every change but ballots.
std::multiset<std::pair<std::string, std::string>> NonBallotChanges(
    const std::vector<v1::WatchPollsResponse>& messages) {
  std::multiset<std::pair<std::string, std::string>> out;
  for (const auto& m : messages) {
    if (m.has_change() && m.change().kind() != "poll.ballot") {
      out.insert({m.change().kind(), m.change().poll().id()});
    }
  }
  return out;
}

int64_t LastVersion(const std::vector<v1::WatchPollsResponse>& messages) {
  int64_t last = 0;
  for (const auto& m : messages) {
    last = std::max(
        last, m.has_snapshot() ? m.snapshot().version() : m.change().version());
  }
  return last;
}

// Checks a stream's order: versions strictly increase, and each poll's
// ballot_count never goes down (ballots are only ever added).
void ExpectOrdered(const std::vector<v1::WatchPollsResponse>& messages,
                   const std::string& name) {
  SCOPED_TRACE(name);
  std::vector<int64_t> versions = ChangeVersions(messages);
  for (size_t i = 1; i < versions.size(); ++i) {
    EXPECT_GT(versions[i], versions[i - 1]) << "at " << i;
  }
  std::map<std::string, int64_t> count;
  for (const auto& m : messages) {
    std::vector<const v1::Poll*> polls;
    if (m.has_snapshot()) {
      for (const v1::Poll& p : m.snapshot().polls()) polls.push_back(&p);
    } else {
      polls.push_back(&m.change().poll());
    }
    for (const v1::Poll* p : polls) {
      EXPECT_GE(p->ballot_count(), count[p->id()])
          << "poll " << p->id() << " went back";
      EXPECT_LE(p->ballot_count(), kVoters);
      count[p->id()] = p->ballot_count();
    }
  }
}

// "1:2 2:0 3:1": a results' option tallies.
std::string TallyText(const v1::PollResults& results) {
  std::vector<std::string> parts;
  for (const v1::OptionTally& t : results.tallies()) {
    parts.push_back(absl::StrCat(t.option_id(), ":", t.votes()));
  }
  return absl::StrJoin(parts, " ");
}

// The same for counts of options "1".."kOptions".
std::string TallyText(const std::vector<int64_t>& counts) {
  std::vector<std::string> parts;
  for (int o = 0; o < kOptions; ++o) {
    parts.push_back(absl::StrCat(o + 1, ":", counts[o]));
  }
  return absl::StrJoin(parts, " ");
}

// Instant runoff as polls.proto states it, written apart from the
// server's (instant_runoff.cc): the winner's index, or -1 without ballots.
// `rankings` hold option indexes, most preferred first.
int RunoffWinner(const std::vector<std::vector<int>>& rankings,
                 std::vector<std::vector<int64_t>>* rounds) {
  std::vector<bool> in(kOptions, true);
  for (int remaining = kOptions; remaining > 0; --remaining) {
    std::vector<int64_t> votes(kOptions, 0);
    int64_t counted = 0;
    for (const std::vector<int>& r : rankings) {
      for (int o : r) {
        if (in[o]) {
          ++votes[o];
          ++counted;
          break;
        }
      }
    }
    rounds->push_back(votes);
    if (counted == 0) return -1;
    for (int o = 0; o < kOptions; ++o) {
      if (in[o] && votes[o] * 2 > counted) return o;
    }
    // Fewest now; ties by the earlier rounds, latest first; then the
    // option listed last goes.
    std::vector<int> tied;
    for (int o = 0; o < kOptions; ++o) {
      if (!in[o]) continue;
      if (tied.empty() || votes[o] < votes[tied[0]]) {
        tied = {o};
      } else if (votes[o] == votes[tied[0]]) {
        tied.push_back(o);
      }
    }
    for (int r = static_cast<int>(rounds->size()) - 2;
         r >= 0 && tied.size() > 1; --r) {
      int64_t fewest = (*rounds)[r][tied[0]];
      for (int o : tied) fewest = std::min(fewest, (*rounds)[r][o]);
      std::vector<int> still;
      for (int o : tied) {
        if ((*rounds)[r][o] == fewest) still.push_back(o);
      }
      tied = still;
    }
    in[tied.back()] = false;
  }
  return -1;
}

// What voter p marks in each poll.
struct Plan {
  int single = 0;                   // option index
  std::vector<int> multiple;        // 1 or 2 distinct indexes
  std::vector<int> ranked;          // 2 to 4 distinct indexes
  bool changes = false;             // a third of the voters
  int single_changed = 0;           // != single
  std::vector<int> ranked_changed;  // != ranked
  bool late = false;                // others, while the watcher resumes
  int single_late = 0;              // != single
};

v1::Ballot BallotOf(const std::vector<int>& options) {
  v1::Ballot ballot;
  for (int o : options) ballot.add_option_ids(absl::StrCat(o + 1));
  return ballot;
}

enum PollIndex { kSingle = 0, kMultiple = 1, kRanked = 2, kPollCount = 3 };
constexpr const char* kPollNames[kPollCount] = {"single", "multiple", "ranked"};

class PollsConcurrencyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(fleet_.Start(TOWNHALLD_PATH, 2, kPolls));
    tenant_ = absl::StrCat("t-", NewId());
    ASSERT_OK_AND_ASSIGN(token_, fleet_.CreateTenant(tenant_));
    for (int i = 0; i < fleet_.size(); ++i) {
      clients_.push_back(std::make_unique<TownhallClient>(
          ClientOptions{.address = fleet_.address(i), .token = token_}));
    }
  }

  TownhallClient& client(int i) { return *clients_[i % 2]; }
  std::shared_ptr<grpc::Channel> channel(int i) {
    return clients_[i % 2]->channel();
  }
  CallOptions AsModerator() const { return {.token = moderator_.token}; }

  // Voter p's ballot in `poll` through process `via`: the response, or
  // the error.
  absl::StatusOr<v1::CastBallotResponse> Cast(int p, int poll, int via,
                                              const v1::Ballot& ballot,
                                              const std::string& request_id) {
    v1::CastBallotRequest request;
    request.set_session_id(session_id_);
    request.set_poll_id(poll_ids_[poll]);
    request.set_participant_id(voters_[p].participant_id);
    *request.mutable_ballot() = ballot;
    request.set_request_id(request_id);
    return client(via).CastBallot(request, {.token = voters_[p].token});
  }

  absl::StatusOr<v1::GetPollResponse> Get(int poll, int via) {
    v1::GetPollRequest request;
    request.set_session_id(session_id_);
    request.set_poll_id(poll_ids_[poll]);
    return client(via).GetPoll(request, AsModerator());
  }

  // The feed version now (a fresh snapshot's).
  int64_t Version() {
    PollsWatcher probe(channel(1), moderator_.token, session_id_);
    std::vector<v1::WatchPollsResponse> got = probe.WaitFor(1);
    EXPECT_FALSE(got.empty());
    if (got.empty() || !got[0].has_snapshot()) return -1;
    return got[0].snapshot().version();
  }

  TownhalldFleet fleet_;
  std::vector<std::unique_ptr<TownhallClient>> clients_;
  std::string tenant_;
  std::string token_;
  std::string session_id_;
  Member moderator_;
  std::vector<Member> voters_;
  std::vector<std::string> poll_ids_;
};

TEST_F(PollsConcurrencyTest, ThousandVotersTwoServersExactTalliesAndResume) {
  ASSERT_OK_AND_ASSIGN(
      v1::Session session,
      NewQuestionsSession(client(0), /*live=*/true, "Muloqot: ovoz berish"));
  session_id_ = session.id();
  ASSERT_OK_AND_ASSIGN(moderator_,
                       NewMember(client(1), session_id_, "Moderator Aziza",
                                 v1::SESSION_ROLE_MODERATOR));

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
  voters_.resize(kVoters);
  std::atomic<int> join_failures{0};
  const absl::Time join_start = absl::Now();
  ParallelFor(kVoters, [&](int p) {
    absl::StatusOr<Member> m =
        NewMember(client(p), session_id_, absl::StrCat("Saylovchi ", p),
                  v1::SESSION_ROLE_PARTICIPANT, orgs[p % 50]);
    if (!m.ok()) {
      if (join_failures++ < 5) {
        ADD_FAILURE() << "member " << p << ": " << m.status();
      }
      return;
    }
    voters_[p] = *m;
  });
  ASSERT_EQ(join_failures, 0);
  std::map<std::string, int> voter_of;
  for (int p = 0; p < kVoters; ++p) voter_of[voters_[p].participant_id] = p;
  std::cout << kVoters << " voters registered in " << absl::Now() - join_start
            << "\n";

  // Both watchers (the moderator's: live tallies) come before the polls.
  PollsWatcher steady(channel(0), moderator_.token, session_id_);
  auto dropping =
      std::make_unique<PollsWatcher>(channel(0), moderator_.token, session_id_);
  ASSERT_EQ(steady.WaitFor(1).size(), 1u);
  ASSERT_EQ(dropping->WaitFor(1).size(), 1u);

  // The polls, made and opened through alternating processes.
  std::multiset<std::pair<std::string, std::string>> lifecycle;
  const std::vector<std::string> texts = {"Pensiya", "Viza", "Ta'lim",
                                          "Tibbiyot"};
  for (int poll = 0; poll < kPollCount; ++poll) {
    v1::CreatePollRequest create;
    create.set_session_id(session_id_);
    v1::Poll* p = create.mutable_poll();
    p->set_kind(poll == kSingle     ? v1::POLL_KIND_SINGLE_CHOICE
                : poll == kMultiple ? v1::POLL_KIND_MULTIPLE_CHOICE
                                    : v1::POLL_KIND_RANKED_CHOICE);
    p->set_question(
        absl::StrCat("Qaysi mavzu muhimroq? (", kPollNames[poll], ")"));
    for (const std::string& text : texts) p->add_options()->set_text(text);
    if (poll == kMultiple) p->set_max_choices(2);
    p->set_allow_change(poll != kMultiple);
    ASSERT_OK_AND_ASSIGN(v1::CreatePollResponse made,
                         client(poll).CreatePoll(create, AsModerator()));
    poll_ids_.push_back(made.poll().id());
    v1::OpenPollRequest open;
    open.set_session_id(session_id_);
    open.set_poll_id(made.poll().id());
    ASSERT_OK_AND_ASSIGN(v1::OpenPollResponse opened,
                         client(poll + 1).OpenPoll(open, AsModerator()));
    ASSERT_EQ(opened.poll().state(), v1::POLL_STATE_OPEN);
    // Every CONFIRMED registration but observers: the voters and the
    // moderator.
    EXPECT_EQ(opened.poll().results().eligible_count(), kVoters + 1);
    lifecycle.insert({"poll.created", made.poll().id()});
    lifecycle.insert({"poll.opened", made.poll().id()});
  }

  // The plan. First choices are skewed (35/30/20/15 %) so that the ranked
  // poll needs several rounds.
  std::mt19937 rng(20261207);
  auto skewed = [&rng] {
    const int r = static_cast<int>(rng() % 100);
    return r < 35 ? 0 : r < 65 ? 1 : r < 85 ? 2 : 3;
  };
  auto ranking = [&](int first) {
    std::vector<int> rest;
    for (int o = 0; o < kOptions; ++o) {
      if (o != first) rest.push_back(o);
    }
    std::shuffle(rest.begin(), rest.end(), rng);
    std::vector<int> out = {first};
    const int length = 2 + static_cast<int>(rng() % 3);  // 2 to 4
    out.insert(out.end(), rest.begin(), rest.begin() + (length - 1));
    return out;
  };
  std::vector<Plan> plan(kVoters);
  for (int p = 0; p < kVoters; ++p) {
    Plan& v = plan[p];
    v.single = skewed();
    v.multiple = {skewed()};
    if (rng() % 2 == 0) {
      const int second = static_cast<int>(rng() % kOptions);
      if (second != v.multiple[0]) v.multiple.push_back(second);
    }
    v.ranked = ranking(skewed());
    v.changes = p % 3 == 0;
    if (v.changes) {
      v.single_changed = (v.single + 1 + static_cast<int>(rng() % 3)) % 4;
      do {
        v.ranked_changed = ranking(skewed());
      } while (v.ranked_changed == v.ranked);
    }
    v.late = p % 9 == 1;
    if (v.late)
      v.single_late = (v.single + 1 + static_cast<int>(rng() % 3)) % 4;
  }

  struct Op {
    int voter;
    int poll;
    int via;
    v1::Ballot ballot;
    std::string request_id;
    int phase;
  };
  // Per (phase, voter, poll): answers with changed=true.
  absl::Mutex mu;
  std::map<std::tuple<int, int, int>, int> changed;
  std::atomic<int> failures{0};
  auto run = [&](std::vector<Op> ops) {
    std::shuffle(ops.begin(), ops.end(), rng);
    ParallelFor(static_cast<int>(ops.size()), [&](int n) {
      const Op& op = ops[n];
      absl::StatusOr<v1::CastBallotResponse> r =
          Cast(op.voter, op.poll, op.via, op.ballot, op.request_id);
      if (!r.ok()) {
        if (failures++ < 10) {
          ADD_FAILURE() << "phase " << op.phase << ": voter " << op.voter
                        << " in " << kPollNames[op.poll] << " via " << op.via
                        << ": " << r.status();
        }
        return;
      }
      EXPECT_TRUE(r->poll().voted());
      absl::MutexLock lock(&mu);
      int& n_changed = changed[{op.phase, op.voter, op.poll}];
      if (r->changed()) ++n_changed;
    });
    return ops.size();
  };
  auto first_ballot = [&](int p, int poll) {
    return BallotOf(poll == kSingle     ? std::vector<int>{plan[p].single}
                    : poll == kMultiple ? plan[p].multiple
                                        : plan[p].ranked);
  };

  // Phase 1: every voter's three ballots, each sent through both processes
  // with one request id, all shuffled and racing.
  std::vector<Op> phase1;
  for (int p = 0; p < kVoters; ++p) {
    for (int poll = 0; poll < kPollCount; ++poll) {
      for (int via = 0; via < 2; ++via) {
        phase1.push_back({p, poll, via, first_ballot(p, poll),
                          absl::StrCat("first-", poll, "-", p), 1});
      }
    }
  }
  absl::Time start = absl::Now();
  const size_t sent1 = run(phase1);
  std::cout << sent1 << " ballots in " << absl::Now() - start << "\n";
  ASSERT_EQ(failures, 0);

  // The dropping watcher leaves here, at its last position.
  std::vector<v1::WatchPollsResponse> before_drop =
      dropping->WaitForVersion(Version(), absl::Seconds(20));
  dropping->Cancel();
  before_drop = dropping->WaitFor(0);
  const int64_t last = LastVersion(before_drop);

  // Phase 2, while it is away: a third of the voters change their single
  // choice and ranked ballots, each change sent through both processes.
  std::vector<Op> phase2;
  for (int p = 0; p < kVoters; ++p) {
    if (!plan[p].changes) continue;
    for (int via = 0; via < 2; ++via) {
      phase2.push_back({p, kSingle, p + via, BallotOf({plan[p].single_changed}),
                        absl::StrCat("change-", kSingle, "-", p), 2});
      phase2.push_back({p, kRanked, p + via, BallotOf(plan[p].ranked_changed),
                        absl::StrCat("change-", kRanked, "-", p), 2});
    }
  }
  start = absl::Now();
  const size_t sent2 = run(phase2);
  std::cout << sent2 << " changes in " << absl::Now() - start << "\n";
  ASSERT_EQ(failures, 0);

  // Resume through the OTHER process. Phase 3 races it: the first ballots
  // of those who changed, sent again with their first request ids (a
  // client retrying late; without the request ids they would undo the
  // changes), and other voters changing their single choice (twice each).
  PollsWatcher resumed(channel(1), moderator_.token, session_id_, last);
  std::vector<Op> phase3;
  for (int p = 0; p < kVoters; ++p) {
    if (plan[p].changes) {
      for (int poll : {kSingle, kRanked}) {
        phase3.push_back({p, poll, p, first_ballot(p, poll),
                          absl::StrCat("first-", poll, "-", p), 3});
      }
    }
    if (plan[p].late) {
      for (int via = 0; via < 2; ++via) {
        phase3.push_back({p, kSingle, p + via, BallotOf({plan[p].single_late}),
                          absl::StrCat("late-", p), 3});
      }
    }
  }
  run(phase3);
  ASSERT_EQ(failures, 0);

  // Every first ballot changed the poll exactly once; every change
  // exactly once; no stale retry at all.
  int miscounted = 0;
  auto expect_changed = [&](int phase, int p, int poll, int want) {
    const int got = changed[{phase, p, poll}];
    if (got != want && miscounted++ < 5) {
      ADD_FAILURE() << "phase " << phase << ", voter " << p << " in "
                    << kPollNames[poll] << ": changed " << got
                    << " time(s), expected " << want;
    }
  };
  for (int p = 0; p < kVoters; ++p) {
    for (int poll = 0; poll < kPollCount; ++poll) {
      expect_changed(1, p, poll, 1);
      if (plan[p].changes && poll != kMultiple) {
        expect_changed(2, p, poll, 1);
        expect_changed(3, p, poll, 0);  // the stale retries
      }
      if (plan[p].late && poll == kSingle) expect_changed(3, p, poll, 1);
    }
  }
  EXPECT_EQ(miscounted, 0);

  // What the plan says: each voter's final ballot.
  std::vector<std::vector<int>> final_ballots[kPollCount];
  for (int p = 0; p < kVoters; ++p) {
    const Plan& v = plan[p];
    final_ballots[kSingle].push_back({v.changes ? v.single_changed
                                      : v.late  ? v.single_late
                                                : v.single});
    final_ballots[kMultiple].push_back(v.multiple);
    final_ballots[kRanked].push_back(v.changes ? v.ranked_changed : v.ranked);
  }
  std::vector<int64_t> expected[kPollCount];
  for (int poll = 0; poll < kPollCount; ++poll) {
    expected[poll].assign(kOptions, 0);
    for (const std::vector<int>& b : final_ballots[poll]) {
      // Choice polls: every option marked; ranked: first preferences.
      for (int o : b) {
        ++expected[poll][o];
        if (poll == kRanked) break;
      }
    }
  }
  std::vector<std::vector<int64_t>> rounds;
  const int winner = RunoffWinner(final_ballots[kRanked], &rounds);
  ASSERT_GE(winner, 0);
  std::cout << "plan: single " << TallyText(expected[kSingle]) << "; multiple "
            << TallyText(expected[kMultiple]) << "; ranked "
            << TallyText(expected[kRanked]) << ", winner " << winner + 1
            << " after " << rounds.size() << " round(s)\n";

  // The moderator's view, through each process in turn.
  v1::PollResults truth[kPollCount];
  auto check_polls = [&](v1::PollState state) {
    for (int poll = 0; poll < kPollCount; ++poll) {
      SCOPED_TRACE(kPollNames[poll]);
      absl::StatusOr<v1::GetPollResponse> got = Get(poll, poll);
      ASSERT_OK(got.status());
      const v1::Poll& p = got->poll();
      EXPECT_EQ(p.state(), state);
      EXPECT_EQ(p.ballot_count(), kVoters);
      ASSERT_TRUE(p.has_results());
      EXPECT_EQ(p.results().ballot_count(), kVoters);
      EXPECT_EQ(TallyText(p.results()), TallyText(expected[poll]));
      if (poll == kRanked) {
        const v1::RankedChoiceResult& rc = p.results().ranked_choice();
        EXPECT_EQ(rc.winner_option_id(), absl::StrCat(winner + 1));
        ASSERT_EQ(rc.rounds_size(), static_cast<int>(rounds.size()));
        for (int r = 0; r < rc.rounds_size(); ++r) {
          for (const v1::OptionTally& t : rc.rounds(r).tallies()) {
            EXPECT_EQ(t.votes(), rounds[r][std::stoi(t.option_id()) - 1])
                << "round " << r + 1 << ", option " << t.option_id();
          }
        }
      }
      // Every named ballot is the voter's final one.
      EXPECT_EQ(got->ballots_size(), kVoters);
      int wrong = 0;
      for (const v1::NamedBallot& b : got->ballots()) {
        auto it = voter_of.find(b.participant_id());
        if (it == voter_of.end()) {
          ADD_FAILURE() << "a ballot of a stranger: " << b.participant_id();
          continue;
        }
        const v1::Ballot want = BallotOf(final_ballots[poll][it->second]);
        if (!MessageDifferencer::Equals(b.ballot(), want) && wrong++ < 5) {
          ADD_FAILURE() << "voter " << it->second << ": "
                        << b.ballot().ShortDebugString() << ", planned "
                        << want.ShortDebugString();
        }
      }
      EXPECT_EQ(wrong, 0) << "named ballots other than planned";
      truth[poll] = p.results();
    }
  };
  check_polls(v1::POLL_STATE_OPEN);

  // Both streams fold to the moderator's view: the last message of each
  // poll carries it, results included.
  auto check_streams = [&](const std::string& final_kind) {
    const int64_t final_version = Version();
    std::vector<v1::WatchPollsResponse> after =
        resumed.WaitForVersion(final_version, absl::Seconds(30));
    std::vector<v1::WatchPollsResponse> all_steady =
        steady.WaitForVersion(final_version, absl::Seconds(30));
    absl::SleepFor(absl::Milliseconds(500));  // nothing more may come
    after = resumed.WaitFor(0);
    all_steady = steady.WaitFor(0);
    for (const auto& m : after) {
      EXPECT_FALSE(m.has_snapshot()) << "resume started over with a snapshot";
    }
    std::vector<int64_t> versions = ChangeVersions(after);
    ASSERT_FALSE(versions.empty());
    EXPECT_GT(versions.front(), last);
    EXPECT_EQ(versions.back(), final_version);
    EXPECT_EQ(LastVersion(all_steady), final_version);
    std::vector<v1::WatchPollsResponse> combined = before_drop;
    combined.insert(combined.end(), after.begin(), after.end());
    ExpectOrdered(all_steady, "steady");
    ExpectOrdered(combined, "dropped and resumed");
    EXPECT_EQ(NonBallotChanges(all_steady), lifecycle);
    EXPECT_EQ(NonBallotChanges(combined), lifecycle);
    int ballot_messages = 0;
    for (const auto& m : all_steady) {
      if (m.has_change() && m.change().kind() == "poll.ballot") {
        ++ballot_messages;
      }
    }
    std::cout << "feed version " << final_version
              << "; steady watcher: " << ChangeVersions(all_steady).size()
              << " changes (" << ballot_messages << " of ballots); dropped at "
              << last << ", then " << versions.size() << " changes\n";
    for (const auto& [name, messages] :
         {std::pair{"steady", &all_steady},
          std::pair{"dropped and resumed", &combined}}) {
      std::map<std::string, v1::Poll> folded = Fold(*messages);
      std::map<std::string, std::string> last_kind;
      for (const auto& m : *messages) {
        if (m.has_change())
          last_kind[m.change().poll().id()] = m.change().kind();
      }
      for (int poll = 0; poll < kPollCount; ++poll) {
        SCOPED_TRACE(absl::StrCat(name, " watcher, ", kPollNames[poll]));
        const v1::Poll& p = folded[poll_ids_[poll]];
        // The poll comes from a change (the snapshot was before the polls).
        EXPECT_FALSE(last_kind[poll_ids_[poll]].empty());
        EXPECT_EQ(p.ballot_count(), kVoters);
        ASSERT_TRUE(p.has_results());
        EXPECT_EQ(TallyText(p.results()), TallyText(expected[poll]));
        EXPECT_TRUE(MessageDifferencer::Equals(p.results(), truth[poll]))
            << p.results().ShortDebugString()
            << "\nGetPoll: " << truth[poll].ShortDebugString();
        if (!final_kind.empty()) {
          EXPECT_EQ(last_kind[poll_ids_[poll]], final_kind);
          EXPECT_EQ(p.state(), v1::POLL_STATE_CLOSED);
        }
      }
    }
  };
  check_streams("");

  // Close through alternating processes: the closed results are the same.
  for (int poll = 0; poll < kPollCount; ++poll) {
    v1::ClosePollRequest close;
    close.set_session_id(session_id_);
    close.set_poll_id(poll_ids_[poll]);
    ASSERT_OK_AND_ASSIGN(v1::ClosePollResponse closed,
                         client(poll + 1).ClosePoll(close, AsModerator()));
    EXPECT_EQ(closed.poll().state(), v1::POLL_STATE_CLOSED);
    EXPECT_EQ(TallyText(closed.poll().results()), TallyText(expected[poll]));
    lifecycle.insert({"poll.closed", poll_ids_[poll]});
  }
  const v1::PollResults open_truth[kPollCount] = {truth[0], truth[1], truth[2]};
  check_polls(v1::POLL_STATE_CLOSED);
  for (int poll = 0; poll < kPollCount; ++poll) {
    EXPECT_TRUE(MessageDifferencer::Equals(truth[poll], open_truth[poll]))
        << kPollNames[poll]
        << " changed at close: " << truth[poll].ShortDebugString();
  }
  check_streams("poll.closed");
  // And a closed poll takes no ballot.
  EXPECT_EQ(Cast(1, kSingle, 0, BallotOf({0}), "after-close").status().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace townhall::testing
