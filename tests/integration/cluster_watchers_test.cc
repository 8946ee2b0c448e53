// Many watchers on a Redis Cluster: three townhalld processes on one 3+3
// cluster (its own, ports 7800-7899), 3,000 WatchQueue streams spread over
// them. Every change is delivered once to every watcher, and the number
// of XREADs a process sends does not grow with its watchers: each process
// has one change-feed hub that reads each watched feed once per change for
// all of its watchers (docs/architecture.md, docs/redis-cluster.md).
//
// Counted with INFO commandstats on every master: the same changes are
// made twice, once with 1 watcher per process and once with 1,000, and
// the XREADs each time are compared (the test reads the exact figures out
// on stdout; they are in docs/redis-cluster.md).
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "services/common/ids.h"
#include "services/common/redis/cluster_slot.h"
#include "tests/integration/questions/questions_client.h"
#include "tests/testing/redis_cluster.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/townhalld_process.h"

namespace townhall::testing {
namespace {

constexpr char kQuestions[] = "townhall.v1.QuestionService";
constexpr int kProcesses = 3;
constexpr int kWatchers = 3000;
constexpr int kChanges = 20;

// One WatchQueue stream on a callback reactor (no thread of its own: 3,000
// threads would not do). Keeps the question ids of the non-vote changes.
class Watcher final : public grpc::ClientReadReactor<v1::WatchQueueResponse> {
 public:
  void Start(v1::QuestionService::Stub* stub, const std::string& token,
             const std::string& session_id) {
    request_.set_session_id(session_id);
    context_.AddMetadata("authorization", absl::StrCat("Bearer ", token));
    stub->async()->WatchQueue(&context_, &request_, this);
    StartRead(&response_);
    StartCall();
  }
  void OnReadDone(bool ok) override {
    if (!ok) return;  // OnDone follows
    {
      absl::MutexLock lock(&mu_);
      if (response_.has_snapshot()) {
        ++snapshots_;
      } else if (response_.change().kind() != "question.votes") {
        for (const v1::Question& q : response_.change().questions()) {
          seen_.push_back(q.id());
        }
      }
    }
    StartRead(&response_);
  }
  void OnDone(const grpc::Status& status) override {
    absl::MutexLock lock(&mu_);
    done_ = true;
    status_ = status;
  }
  void Cancel() { context_.TryCancel(); }
  // Waits (at most `timeout`) until the stream ended.
  bool WaitDone(absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(absl::Condition(&done_), timeout);
  }
  int snapshots() {
    absl::MutexLock lock(&mu_);
    return snapshots_;
  }
  bool done() {
    absl::MutexLock lock(&mu_);
    return done_;
  }
  std::vector<std::string> seen() {
    absl::MutexLock lock(&mu_);
    return seen_;
  }
  grpc::Status status() {
    absl::MutexLock lock(&mu_);
    return status_;
  }

 private:
  grpc::ClientContext context_;
  v1::WatchQueueRequest request_;
  v1::WatchQueueResponse response_;
  absl::Mutex mu_;
  int snapshots_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::string> seen_ ABSL_GUARDED_BY(mu_);
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
};

class ClusterWatchersTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    RedisClusterOptions options;
    options.first_port = 7800;
    options.last_port = 7899;
    absl::StatusOr<std::unique_ptr<RedisCluster>> started =
        RedisCluster::Start(options);
    ASSERT_TRUE(started.ok()) << started.status();
    cluster_ = started->release();
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(cluster_, nullptr);
    std::string seeds = absl::StrJoin(cluster_->addresses(), ",");
    // One organizer token watches 1,000 times per process: lift the
    // per-credential cap (the per-process one stays above it).
    ASSERT_OK(fleet_.Start(TOWNHALLD_PATH, kProcesses, kQuestions,
                           absl::StrCat("--redis_cluster=", seeds),
                           {"--max_streams_per_organizer=2000",
                            "--max_streams=5000"}));
    tenant_ = absl::StrCat("t-", NewId());
    ASSERT_OK_AND_ASSIGN(token_, fleet_.CreateTenant(tenant_));
    for (int i = 0; i < kProcesses; ++i) {
      clients_.push_back(std::make_unique<TownhallClient>(
          ClientOptions{.address = fleet_.address(i), .token = token_}));
    }
  }

  // XREAD calls so far on each master, by address.
  std::map<std::string, int64_t> XReadsPerMaster() {
    std::map<std::string, int64_t> out;
    for (const std::string& master : Masters()) {
      absl::StatusOr<RedisReply> info =
          cluster_->Command(master, {"INFO", "commandstats"});
      EXPECT_TRUE(info.ok()) << info.status();
      if (!info.ok()) continue;
      out[master] = 0;
      for (absl::string_view line : absl::StrSplit(info->str, "\r\n")) {
        if (!absl::ConsumePrefix(&line, "cmdstat_xread:calls=")) continue;
        EXPECT_TRUE(
            absl::SimpleAtoi(line.substr(0, line.find(',')), &out[master]));
      }
    }
    return out;
  }

  std::vector<std::string> Masters() {
    absl::StatusOr<std::shared_ptr<ClusterTopology>> topology =
        cluster_->DiscoverTopology();
    EXPECT_TRUE(topology.ok()) << topology.status();
    return topology.ok() ? (*topology)->Snapshot().Masters()
                         : std::vector<std::string>{};
  }

  // Opens `per_process` watchers on each process (over a few channels
  // each) and waits for every snapshot.
  std::vector<std::unique_ptr<Watcher>> OpenWatchers(int per_process) {
    std::vector<std::unique_ptr<Watcher>> watchers;
    for (int i = 0; i < kProcesses * per_process; ++i) {
      const int process = i % kProcesses;
      const int channel = (i / kProcesses) % kChannelsPerProcess;
      watchers.push_back(std::make_unique<Watcher>());
      watchers.back()->Start(Stub(process, channel), token_, session_id_);
    }
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    for (auto& watcher : watchers) {
      // A stream that ended will not get one: no wait for it.
      while (watcher->snapshots() == 0 && !watcher->done() &&
             absl::Now() < deadline) {
        absl::SleepFor(absl::Milliseconds(10));
      }
      EXPECT_EQ(watcher->snapshots(), 1)
          << "stream ended: " << watcher->done() << ", status "
          << watcher->status().error_code() << " "
          << watcher->status().error_message();
    }
    return watchers;
  }

  v1::QuestionService::Stub* Stub(int process, int channel) {
    auto& stub = stubs_[{process, channel}];
    if (stub == nullptr) {
      grpc::ChannelArguments args;
      // A channel of its own (gRPC shares subchannels with equal args).
      args.SetInt("townhall.test.channel", channel);
      stub = v1::QuestionService::NewStub(grpc::CreateCustomChannel(
          fleet_.address(process), grpc::InsecureChannelCredentials(), args));
    }
    return stub.get();
  }

  // kChanges questions submitted through the processes in turn, each one
  // change of the session's feed; returns their ids.
  std::vector<std::string> MakeChanges(const Member& author) {
    std::vector<std::string> ids;
    for (int i = 0; i < kChanges; ++i) {
      QuestionsClient as(clients_[i % kProcesses]->channel(), author.token);
      v1::SubmitQuestionRequest r;
      r.set_session_id(session_id_);
      r.set_participant_id(author.participant_id);
      r.set_text(absl::StrCat("Savol ", i, ": ", NewId()));
      absl::StatusOr<v1::SubmitQuestionResponse> s = as.SubmitQuestion(r);
      EXPECT_TRUE(s.ok()) << s.status();
      if (s.ok()) ids.push_back(s->question().id());
      // Apart, so that each change is its own read (not several changes
      // caught by one).
      absl::SleepFor(absl::Milliseconds(50));
    }
    return ids;
  }

  // Waits until every watcher saw every id of `ids` and checks that each
  // saw each exactly once.
  void ExpectEachDeliveredOnce(std::vector<std::unique_ptr<Watcher>>& watchers,
                               const std::vector<std::string>& ids) {
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    int incomplete = 0;
    for (size_t w = 0; w < watchers.size(); ++w) {
      std::vector<std::string> seen = watchers[w]->seen();
      while (seen.size() < ids.size() && !watchers[w]->done() &&
             absl::Now() < deadline) {
        absl::SleepFor(absl::Milliseconds(10));
        seen = watchers[w]->seen();
      }
      std::map<std::string, int> count;
      for (const std::string& id : seen) ++count[id];
      bool exact = seen.size() == ids.size();
      for (const std::string& id : ids) exact = exact && count[id] == 1;
      if (!exact && ++incomplete <= 3) {
        ADD_FAILURE() << "watcher " << w << " saw " << seen.size()
                      << " changes for " << ids.size() << " questions"
                      << (watchers[w]->done()
                              ? absl::StrCat(
                                    "; its stream ended: ",
                                    watchers[w]->status().error_code(), " ",
                                    watchers[w]->status().error_message())
                              : std::string());
      }
    }
    EXPECT_EQ(incomplete, 0) << "watchers without every change exactly once";
  }

  static constexpr int kChannelsPerProcess = 4;
  static RedisCluster* cluster_;
  TownhalldFleet fleet_;
  std::vector<std::unique_ptr<TownhallClient>> clients_;
  std::map<std::pair<int, int>, std::unique_ptr<v1::QuestionService::Stub>>
      stubs_;
  std::string tenant_;
  std::string token_;
  std::string session_id_;
};

RedisCluster* ClusterWatchersTest::cluster_ = nullptr;

int64_t Sum(const std::map<std::string, int64_t>& after,
            const std::map<std::string, int64_t>& before) {
  int64_t sum = 0;
  for (const auto& [master, calls] : after) sum += calls - before.at(master);
  return sum;
}

TEST_F(ClusterWatchersTest, ThreeProcessesThreeThousandWatchersReadsPerChange) {
  ASSERT_OK_AND_ASSIGN(v1::Session session,
                       NewQuestionsSession(*clients_[0], /*live=*/true));
  session_id_ = session.id();
  {
    QuestionsClient organizer(clients_[0]->channel(), token_);
    v1::QueueSettings settings;
    settings.set_moderation_mode(v1::MODERATION_MODE_POST);
    // One author makes every change.
    settings.set_submissions_per_minute(2 * kChanges);
    ASSERT_OK(organizer.SetSettings(session_id_, settings).status());
  }
  ASSERT_OK_AND_ASSIGN(Member author,
                       NewMember(*clients_[0], session_id_, "Muallif"));
  const std::string session_master = [&] {
    absl::StatusOr<std::shared_ptr<ClusterTopology>> topology =
        cluster_->DiscoverTopology();
    return topology.ok()
               ? (*topology)->MasterOf(KeySlot(absl::StrCat(
                     "th:{s:", tenant_, ":", session_id_, "}:events")))
               : std::string();
  }();
  ASSERT_FALSE(session_master.empty());

  // Few watchers: one per process.
  std::vector<std::unique_ptr<Watcher>> few = OpenWatchers(1);
  std::map<std::string, int64_t> before_few = XReadsPerMaster();
  const absl::Time few_start = absl::Now();
  std::vector<std::string> ids_few = MakeChanges(author);
  ExpectEachDeliveredOnce(few, ids_few);
  const absl::Duration few_time = absl::Now() - few_start;
  std::map<std::string, int64_t> after_few = XReadsPerMaster();
  for (auto& watcher : few) watcher->Cancel();
  for (auto& watcher : few) EXPECT_TRUE(watcher->WaitDone(absl::Seconds(10)));

  // Many watchers: kWatchers over the processes.
  const absl::Time open_start = absl::Now();
  std::vector<std::unique_ptr<Watcher>> many =
      OpenWatchers(kWatchers / kProcesses);
  const absl::Duration open_time = absl::Now() - open_start;
  std::map<std::string, int64_t> before_many = XReadsPerMaster();
  const absl::Time many_start = absl::Now();
  std::vector<std::string> ids_many = MakeChanges(author);
  ExpectEachDeliveredOnce(many, ids_many);
  const absl::Duration many_time = absl::Now() - many_start;
  std::map<std::string, int64_t> after_many = XReadsPerMaster();

  const int64_t reads_few = Sum(after_few, before_few);
  const int64_t reads_many = Sum(after_many, before_many);
  const int64_t on_session_few =
      after_few[session_master] - before_few[session_master];
  const int64_t on_session_many =
      after_many[session_master] - before_many[session_master];
  std::cout << "cluster_watchers: " << kChanges << " changes, " << kProcesses
            << " processes; XREADs on the session's master with "
            << kProcesses << " watchers: " << on_session_few << " (all masters "
            << reads_few << ", " << few_time << "); with " << many.size()
            << " watchers: " << on_session_many << " (all masters "
            << reads_many << ", " << many_time << "); opening the "
            << many.size() << " streams took " << open_time << "\n";
  for (const auto& [master, calls] : after_many) {
    std::cout << "cluster_watchers: master " << master
              << (master == session_master ? " (session's)" : "")
              << " XREADs with few watchers "
              << after_few.at(master) - before_few.at(master)
              << " / with many " << calls - before_many.at(master) << "\n";
  }
  // Per change, each process's hub reads the session's feed about once
  // (a read returns on a change and is sent again; one may catch two
  // changes). Between changes a read times out after the hub's block time
  // (kBlock in feed_hub.cc, 100 ms) and is sent again: one read per
  // process per 100 ms of the phase, whatever the number of watchers, and
  // the phases last longer on a loaded machine or under sanitizers (5 s
  // instead of 1 s there). The bound allows each process two reads per
  // change, its idle reads and 10 more; it does not depend on the watcher
  // count: per-watcher reads would be about 1,000 per change per process.
  constexpr absl::Duration kHubBlock = absl::Milliseconds(100);
  auto idle_reads = [&](absl::Duration phase) {
    return kProcesses * absl::ToInt64Milliseconds(phase) /
           absl::ToInt64Milliseconds(kHubBlock);
  };
  auto bound = [&](absl::Duration phase) {
    return kProcesses * (2 * kChanges + 10) + idle_reads(phase);
  };
  EXPECT_LE(on_session_few, bound(few_time));
  EXPECT_LE(on_session_many, bound(many_time))
      << "XREADs grew with the watchers: " << on_session_few << " with "
      << kProcesses << " watchers";
  EXPECT_LE(on_session_many,
            on_session_few + on_session_few / 2 + 10 +
                idle_reads(std::max(many_time - few_time, absl::ZeroDuration())))
      << "1,000 times the watchers, about the same reads (beyond the idle "
         "reads of a longer phase)";
  EXPECT_GE(on_session_many, kProcesses) << "the hubs read the feed";
  for (auto& watcher : many) watcher->Cancel();
  for (auto& watcher : many) EXPECT_TRUE(watcher->WaitDone(absl::Seconds(10)));
}

}  // namespace
}  // namespace townhall::testing
