// Resharding under load (issue 16): 8 clients vote continuously on the
// questions of a live session through townhalld on its own 3+3 Redis
// Cluster (ports 7700-7799) while the session's slot (hash tag
// {s:<tenant>:<session>}) migrates to another master with its keys moved a
// few at a time, as `redis-cli --cluster reshard` does, and then back.
// Every vote is a new voter, so every vote counts; a client retries a
// transiently failed vote with the SAME request (and request id).
//
// Asserts: no vote failed for good (first-attempt failures are counted
// and printed with their codes), the slot really moved and back, the
// nodes answered MOVED and ASK, and every acknowledged vote is counted
// exactly once: each question's count through the API equals its
// acknowledged voters, and its voter set in Redis is exactly them.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/common/ids.h"
#include "services/common/redis/cluster_slot.h"
#include "services/common/redis/redis_connection.h"
#include "services/questions/question_store.h"
#include "tests/integration/questions/questions_client.h"
#include "tests/testing/retrying_call.h"
#include "tests/testing/redis_cluster.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/townhalld_process.h"

namespace townhall::testing {
namespace {

constexpr char kQuestions[] = "townhall.v1.QuestionService";
constexpr int kClients = 8;
constexpr int kQuestionCount = 24;
// Keys per MIGRATE and the pause after each: the slot stays split between
// two nodes for about a second.
constexpr int kBatch = 3;
constexpr absl::Duration kBatchPause = absl::Milliseconds(40);
// Votes before, between and after the two migrations.
constexpr absl::Duration kSteady = absl::Seconds(3);
constexpr absl::Duration kAttemptDeadline = absl::Seconds(5);
// A vote still failing this long after it started is given up (failed).
constexpr absl::Duration kGiveUp = absl::Seconds(30);

// One vote as its client saw it.
struct Vote {
  int question = 0;
  std::string voter;
  absl::Time sent;
  absl::Time done;
  int attempts = 0;
  bool acked = false;
  absl::Status first_error;  // of the first attempt
  absl::Status last_error;   // when not acked
};

// Sum over `addresses` of INFO errorstats' count per error prefix
// ("errorstat_MOVED:count=12" -> {"MOVED", 12}).
std::map<std::string, int64_t> ErrorStats(RedisCluster& cluster,
                                          const std::vector<std::string>& nodes) {
  std::map<std::string, int64_t> stats;
  for (const std::string& node : nodes) {
    absl::StatusOr<RedisReply> info =
        cluster.Command(node, {"INFO", "errorstats"});
    if (!info.ok()) continue;
    for (absl::string_view line : absl::StrSplit(info->str, "\r\n")) {
      if (!absl::ConsumePrefix(&line, "errorstat_")) continue;
      std::vector<absl::string_view> parts = absl::StrSplit(line, ":count=");
      int64_t count = 0;
      if (parts.size() == 2 && absl::SimpleAtoi(parts[1], &count)) {
        stats[std::string(parts[0])] += count;
      }
    }
  }
  return stats;
}

std::string Delta(const std::map<std::string, int64_t>& before,
                  const std::map<std::string, int64_t>& after) {
  std::vector<std::string> out;
  for (const auto& [error, count] : after) {
    auto it = before.find(error);
    int64_t delta = count - (it == before.end() ? 0 : it->second);
    if (delta > 0) out.push_back(absl::StrCat(error, " ", delta));
  }
  return out.empty() ? "none" : absl::StrJoin(out, ", ");
}

class ClusterReshardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RedisClusterOptions options;
    options.first_port = 7700;
    options.last_port = 7799;
    ASSERT_OK_AND_ASSIGN(cluster_, RedisCluster::Start(options));
    ASSERT_OK(fleet_.Start(
        TOWNHALLD_PATH, 1, kQuestions,
        absl::StrCat("--redis_cluster=",
                     absl::StrJoin(cluster_->addresses(), ","))));
    tenant_ = absl::StrCat("t-", NewId());
    ASSERT_OK_AND_ASSIGN(token_, fleet_.CreateTenant(tenant_));
    channel_ = FastReconnectChannel(fleet_.address(0));
    client_ = std::make_unique<TownhallClient>(
        ClientOptions{.address = fleet_.address(0), .token = token_}, channel_);

    ASSERT_OK_AND_ASSIGN(
        v1::Session session,
        NewQuestionsSession(*client_, /*live=*/true, "Reshard: savol-javob"));
    session_ = session.id();
    v1::QueueSettings settings;
    settings.set_moderation_mode(v1::MODERATION_MODE_POST);
    settings.set_submissions_per_minute(10000);
    settings.set_votes_per_minute(10000);
    ASSERT_OK(
        QuestionsClient(channel_, token_).SetSettings(session_, settings).status());
    ASSERT_OK_AND_ASSIGN(Member asker,
                         NewMember(*client_, session_, "Asker"));
    for (int i = 0; i < kQuestionCount; ++i) {
      v1::SubmitQuestionRequest r;
      r.set_session_id(session_);
      r.set_participant_id(asker.participant_id);
      r.set_text(absl::StrCat("Reshard question ", i, " about the budget?"));
      ASSERT_OK_AND_ASSIGN(v1::SubmitQuestionResponse s,
                           client_->SubmitQuestion(r, {.token = asker.token}));
      questions_.push_back(s.question().id());
    }
  }

  // One client's votes until `stop_`: each a new voter (the organizer may
  // vote for any participant) on the next question, with a request id of
  // its own, sent again unchanged after a transient failure.
  std::vector<Vote> RunClient(int c) {
    std::vector<Vote> votes;
    for (int n = 0; !stop_; ++n) {
      Vote vote;
      vote.question = (n * kClients + c) % kQuestionCount;
      vote.voter = NewId();
      v1::UpvoteQuestionRequest r;
      r.set_session_id(session_);
      r.set_question_id(questions_[vote.question]);
      r.set_participant_id(vote.voter);
      const CallOptions call{.deadline = kAttemptDeadline,
                             .request_id = absl::StrCat("reshard-", c, "-", n),
                             .max_attempts = 1};
      vote.sent = absl::Now();
      const absl::Time give_up = vote.sent + kGiveUp;
      absl::Duration backoff = absl::Milliseconds(20);
      while (true) {
        ++vote.attempts;
        absl::StatusOr<v1::UpvoteQuestionResponse> answer =
            client_->UpvoteQuestion(r, call);
        if (vote.attempts == 1) vote.first_error = answer.status();
        if (answer.ok()) {
          vote.acked = true;
          break;
        }
        vote.last_error = answer.status();
        if (!IsTransient(answer.status()) ||
            absl::Now() + backoff >= give_up) {
          break;
        }
        absl::SleepFor(backoff);
        backoff = std::min(backoff * 2, absl::Milliseconds(500));
      }
      vote.done = absl::Now();
      votes.push_back(std::move(vote));
    }
    return votes;
  }

  // Moves the session's slot from `source` to `target` under load; records
  // the window and what the nodes answered.
  void Migrate(const std::string& source, const std::string& target) {
    const absl::Time start = absl::Now();
    absl::StatusOr<int> moved =
        cluster_->MigrateSlot(slot_, source, target, kBatch, kBatchPause);
    const absl::Time end = absl::Now();
    ASSERT_OK(moved.status());
    windows_.push_back({start, end});
    std::cout << "[ reshard ] slot " << slot_ << " " << source << " -> "
              << target << ": " << *moved << " keys in "
              << absl::FormatDuration(end - start) << "\n";
    ASSERT_OK_AND_ASSIGN(std::shared_ptr<ClusterTopology> topology,
                         cluster_->DiscoverTopology());
    EXPECT_EQ(topology->MasterOf(slot_), target);
  }

  bool DuringMigration(absl::Time t) const {
    for (const auto& [start, end] : windows_) {
      if (t >= start && t <= end) return true;
    }
    return false;
  }

  std::unique_ptr<RedisCluster> cluster_;
  TownhalldFleet fleet_;
  std::string tenant_;
  std::string token_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<TownhallClient> client_;
  std::string session_;
  std::vector<std::string> questions_;
  int slot_ = 0;
  std::atomic<bool> stop_{false};
  std::vector<std::pair<absl::Time, absl::Time>> windows_;
};

TEST_F(ClusterReshardTest, VotesSurviveLiveSlotMigration) {
  if (HasFatalFailure()) return;
  slot_ = KeySlot(questions::QueuePrefix(tenant_, session_));
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<ClusterTopology> topology,
                       cluster_->DiscoverTopology());
  const std::string source = topology->MasterOf(slot_);
  std::string target;
  for (const std::string& master : topology->Snapshot().Masters()) {
    if (master != source) target = master;
  }
  ASSERT_FALSE(target.empty());

  // Counted over the whole run: a vote backing off when the migration
  // ends meets the MOVED a little later.
  const std::map<std::string, int64_t> errors_before =
      ErrorStats(*cluster_, cluster_->addresses());
  const absl::Time started = absl::Now();
  std::vector<std::vector<Vote>> histories(kClients);
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] { histories[c] = RunClient(c); });
  }
  absl::SleepFor(kSteady);
  Migrate(source, target);
  if (!HasFatalFailure()) {
    absl::SleepFor(kSteady);
    Migrate(target, source);
  }
  if (!HasFatalFailure()) absl::SleepFor(kSteady);
  stop_ = true;
  for (std::thread& t : clients) t.join();
  const absl::Time ended = absl::Now();
  ASSERT_EQ(windows_.size(), 2u);
  const std::map<std::string, int64_t> errors_after =
      ErrorStats(*cluster_, cluster_->addresses());
  auto redirects = [&](const std::string& error) {
    auto before = errors_before.find(error);
    auto after = errors_after.find(error);
    return (after == errors_after.end() ? 0 : after->second) -
           (before == errors_before.end() ? 0 : before->second);
  };

  // Tallies: outcomes, first-attempt failures by code, retries, rates.
  std::map<int, std::set<std::string>> acked;  // question -> voters
  std::map<std::string, int> first_failures, failures;
  int total = 0, retries = 0, retried_votes = 0;
  int during = 0;
  absl::Duration slowest;
  for (const std::vector<Vote>& history : histories) {
    for (const Vote& vote : history) {
      ++total;
      retries += vote.attempts - 1;
      if (vote.attempts > 1) ++retried_votes;
      if (DuringMigration(vote.done)) ++during;
      slowest = std::max(slowest, vote.done - vote.sent);
      if (!vote.first_error.ok()) {
        ++first_failures[absl::StatusCodeToString(vote.first_error.code())];
      }
      if (vote.acked) {
        EXPECT_TRUE(acked[vote.question].insert(vote.voter).second);
      } else {
        ++failures[absl::StatusCodeToString(vote.last_error.code())];
        ADD_FAILURE() << "vote on " << questions_[vote.question] << " by "
                      << vote.voter << " failed after " << vote.attempts
                      << " attempts: " << vote.last_error;
      }
    }
  }
  absl::Duration migrating;
  for (const auto& [start, end] : windows_) migrating += end - start;
  const absl::Duration outside = ended - started - migrating;
  auto per_second = [](int calls, absl::Duration d) {
    return static_cast<int>(calls / absl::ToDoubleSeconds(d));
  };
  auto codes = [](const std::map<std::string, int>& by_code) {
    std::vector<std::string> out;
    for (const auto& [code, n] : by_code) out.push_back(absl::StrCat(code, " ", n));
    return out.empty() ? std::string("none") : absl::StrJoin(out, ", ");
  };
  std::cout << "[ reshard ] " << total << " votes by " << kClients
            << " clients in " << absl::FormatDuration(ended - started)
            << "; calls/s during the migrations " << per_second(during, migrating)
            << " (" << during << " in " << absl::FormatDuration(migrating)
            << "), outside " << per_second(total - during, outside)
            << "; slowest vote " << absl::FormatDuration(slowest)
            << "; first attempts failed: " << codes(first_failures)
            << "; retries " << retries << " (" << retried_votes
            << " votes); failed after retries: " << codes(failures)
            << "; error replies of the nodes: "
            << Delta(errors_before, errors_after) << "\n";

  // The run did what it is for: the slot was split between two nodes
  // while votes came in.
  EXPECT_GT(redirects("MOVED"), 0);
  EXPECT_GT(redirects("ASK"), 0);
  EXPECT_GT(during, 0);
  EXPECT_EQ(failures.size(), 0u) << codes(failures);

  // Every acknowledged vote counted once: the API's counts, and the voter
  // sets in Redis (read through the routed client).
  ASSERT_OK_AND_ASSIGN(
      std::vector<v1::Question> all,
      QuestionsClient(channel_, token_)
          .ListAll(session_, v1::ListQuestionsRequest::VIEW_ALL));
  ASSERT_EQ(all.size(), static_cast<size_t>(kQuestionCount));
  std::map<std::string, int64_t> counts;
  for (const v1::Question& q : all) counts[q.id()] = q.votes();
  ASSERT_OK_AND_ASSIGN(topology, cluster_->DiscoverTopology());
  RedisConnection redis({.cluster = topology});
  const std::string prefix = questions::QueuePrefix(tenant_, session_);
  for (int i = 0; i < kQuestionCount; ++i) {
    const std::string& id = questions_[i];
    EXPECT_EQ(counts[id], static_cast<int64_t>(acked[i].size()))
        << "question " << id << ": count through the API vs acknowledged";
    redis.set_deadline(absl::Now() + absl::Seconds(5));
    ASSERT_OK_AND_ASSIGN(
        RedisReply keys,
        redis.Command({"HKEYS", absl::StrCat(prefix, "q:", id, ":voters")}));
    std::set<std::string> stored;
    for (const RedisReply& k : keys.elements) stored.insert(k.str);
    EXPECT_EQ(stored.size(), keys.elements.size());
    EXPECT_TRUE(stored == acked[i])
        << "question " << id << ": " << stored.size()
        << " voters in Redis vs " << acked[i].size() << " acknowledged";
  }
}

}  // namespace
}  // namespace townhall::testing
