// RedisEventLoop in cluster mode against a real local Redis Cluster (3
// masters, 3 replicas, ports 7400-7499): commands, scripts and batched
// scripts go to the master of their slot on the loop's own async
// connections, follow MOVED and ASK, and ride out a failover. Placements
// are checked on the owning master through a plain connection.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "services/common/ids.h"
#include "services/common/redis/cluster_router.h"
#include "services/common/redis/cluster_slot.h"
#include "services/common/redis/redis_connection.h"
#include "services/common/redis/redis_event_loop.h"
#include "tests/testing/redis_cluster.h"

namespace townhall {
namespace {

using ::townhall::testing::RedisCluster;
using ::townhall::testing::RedisClusterOptions;

// Adds #ARGV to KEYS[1]; answers each call with {its arg, the batch's size}.
const LuaScript kCountScript("cluster_loop_count", R"lua(
redis.call('INCRBY', KEYS[1], #ARGV)
local replies = {}
for i = 1, #ARGV do replies[i] = {ARGV[i], #ARGV} end
return replies
)lua");

class ClusterEventLoopTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    RedisClusterOptions options;
    options.first_port = 7400;
    options.last_port = 7499;
    options.node_timeout = absl::Seconds(1);  // a test kills a master
    absl::StatusOr<std::unique_ptr<RedisCluster>> started =
        RedisCluster::Start(options);
    ASSERT_TRUE(started.ok()) << started.status();
    cluster_ = started->release();
    ClusterOptions cluster_options;
    // Enough attempts to ride out a failover (node timeout + election).
    cluster_options.policy.max_attempts = 100;
    cluster_options.policy.retry_budget = absl::Seconds(10);
    absl::StatusOr<std::shared_ptr<ClusterTopology>> topology =
        cluster_->DiscoverTopology(cluster_options);
    ASSERT_TRUE(topology.ok()) << topology.status();
    topology_ = new std::shared_ptr<ClusterTopology>(*std::move(topology));
  }
  static void TearDownTestSuite() {
    delete topology_;
    delete cluster_;
  }

  void SetUp() override {
    ASSERT_NE(cluster_, nullptr);
    RedisOptions options;
    options.cluster = *topology_;
    loop_ = std::make_unique<RedisEventLoop>(options);
  }

  ClusterTopology& topology() { return **topology_; }

  // A key of its own slot: its hash tag is new.
  static std::string NewKey(absl::string_view name) {
    return absl::StrCat("th:{", name, ":", NewId(), "}:k");
  }
  // A new key on `master`.
  std::string KeyOn(const std::string& master, absl::string_view name) {
    while (true) {
      std::string key = NewKey(name);
      if (topology().MasterOf(KeySlot(key)) == master) return key;
    }
  }
  // GET `key` on the master that owns its slot, bypassing routing.
  std::string OnOwner(const std::string& key) {
    std::string master = topology().MasterOf(KeySlot(key));
    absl::StatusOr<RedisReply> reply = cluster_->Command(master, {"GET", key});
    if (!reply.ok()) return reply.status().ToString();
    return reply->is_nil() ? "(nil)" : reply->str;
  }
  std::string OtherMaster(const std::string& master) {
    for (const std::string& m : topology().Snapshot().Masters()) {
      if (m != master) return m;
    }
    return "";
  }

  // Starts a call with `done` and waits for its one answer.
  static absl::StatusOr<RedisReply> Wait(
      absl::FunctionRef<void(RedisEventLoop::Callback)> start) {
    absl::Notification answered;
    absl::StatusOr<RedisReply> result = absl::UnknownError("no answer");
    start([&](absl::StatusOr<RedisReply> reply) {
      result = std::move(reply);
      answered.Notify();
    });
    answered.WaitForNotification();
    return result;
  }
  absl::StatusOr<RedisReply> Command(std::vector<std::string> argv,
                                     absl::Duration timeout = absl::Seconds(
                                         10)) {
    return Wait([&](RedisEventLoop::Callback done) {
      loop_->Command(std::move(argv), absl::Now() + timeout, std::move(done));
    });
  }
  absl::StatusOr<RedisReply> Eval(const LuaScript& script,
                                  const std::string& key,
                                  const std::string& arg) {
    return Wait([&](RedisEventLoop::Callback done) {
      loop_->Eval(script, {key}, {arg}, absl::Now() + absl::Seconds(10),
                  std::move(done));
    });
  }
  absl::StatusOr<RedisReply> EvalBatched(const std::string& key,
                                         const std::string& arg,
                                         absl::Duration timeout =
                                             absl::Seconds(10)) {
    return Wait([&](RedisEventLoop::Callback done) {
      loop_->EvalBatched(kCountScript, key, {arg}, absl::Now() + timeout,
                         std::move(done));
    });
  }

  // Holds `master` busy (DEBUG SLEEP, shorter than the node timeout) from
  // another connection; returns once it has stopped answering.
  std::thread Stall(const std::string& master, double seconds) {
    std::thread sleeper([this, master, seconds] {
      (void)cluster_->Command(master, {"DEBUG", "SLEEP", absl::StrCat(seconds)});
    });
    RedisConnection probe(
        {.address = master, .command_timeout = absl::Milliseconds(50)});
    for (int i = 0; i < 200; ++i) {
      probe.set_deadline(absl::Now() + absl::Milliseconds(50));
      if (!probe.Command({"PING"}).ok()) break;
      absl::SleepFor(absl::Milliseconds(5));
    }
    return sleeper;
  }

  static RedisCluster* cluster_;
  static std::shared_ptr<ClusterTopology>* topology_;
  std::unique_ptr<RedisEventLoop> loop_;
};

RedisCluster* ClusterEventLoopTest::cluster_ = nullptr;
std::shared_ptr<ClusterTopology>* ClusterEventLoopTest::topology_ = nullptr;

TEST_F(ClusterEventLoopTest, CommandsAndScriptsRunOnEveryMaster) {
  // A body new to every node: the first call on each takes NOSCRIPT.
  LuaScript script("cluster_loop_echo",
                   absl::StrCat("-- ", NewId(), "\n",
                                "redis.call('SET', KEYS[1], ARGV[1])\n"
                                "return redis.call('GET', KEYS[1])"));
  std::vector<std::string> masters = topology().Snapshot().Masters();
  ASSERT_EQ(masters.size(), 3u);
  for (const std::string& master : masters) {
    std::string key = KeyOn(master, "cmd");
    absl::StatusOr<RedisReply> set = Command({"SET", key, master});
    ASSERT_TRUE(set.ok()) << set.status();
    EXPECT_EQ(set->type, RedisReply::Type::kStatus) << set->str;
    EXPECT_EQ(OnOwner(key), master);
    absl::StatusOr<RedisReply> get = Command({"GET", key});
    ASSERT_TRUE(get.ok()) << get.status();
    EXPECT_EQ(get->str, master);

    std::string script_key = KeyOn(master, "script");
    absl::StatusOr<RedisReply> ran = Eval(script, script_key, "s");
    ASSERT_TRUE(ran.ok()) << ran.status();
    EXPECT_EQ(ran->str, "s");
    EXPECT_EQ(OnOwner(script_key), "s");
  }
  absl::StatusOr<RedisReply> pong = Command({"PING"});
  ASSERT_TRUE(pong.ok()) << pong.status();
  EXPECT_EQ(pong->str, "PONG");

  LuaScript failing("cluster_loop_fail",
                    "return redis.error_reply('TH:NOT_FOUND:no such thing')");
  absl::StatusOr<RedisReply> refused = Eval(failing, NewKey("fail"), "");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ClusterEventLoopTest, CrossSlotRefusedBeforeSending) {
  std::string a = NewKey("a");
  std::string b = NewKey("b");
  ASSERT_NE(KeySlot(a), KeySlot(b));
  absl::StatusOr<RedisReply> reply = Command({"MSET", a, "1", b, "2"});
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kInternal);
  EXPECT_TRUE(absl::StartsWith(reply.status().message(), "CROSSSLOT"))
      << reply.status();
  EXPECT_EQ(OnOwner(a), "(nil)");
}

// Many concurrent calls on one key per master, each master stalled while
// they arrive: every call is counted once, and they share batches.
TEST_F(ClusterEventLoopTest, EvalBatchedBatchesOnEveryMaster) {
  constexpr int kCallsPerKey = 100;
  std::vector<std::string> masters = topology().Snapshot().Masters();
  std::vector<std::string> keys;
  for (const std::string& master : masters) keys.push_back(KeyOn(master, "n"));
  std::vector<std::thread> sleepers;
  for (const std::string& master : masters) {
    sleepers.push_back(Stall(master, 0.5));
  }
  const int calls = kCallsPerKey * static_cast<int>(keys.size());
  std::vector<absl::StatusOr<RedisReply>> replies(
      calls, absl::UnknownError("no answer"));
  std::atomic<int> answers{0};
  absl::BlockingCounter answered(calls);
  for (int i = 0; i < calls; ++i) {
    loop_->EvalBatched(kCountScript, keys[i % keys.size()],
                       {absl::StrCat(i)}, absl::Now() + absl::Seconds(10),
                       [&, i](absl::StatusOr<RedisReply> reply) {
                         replies[i] = std::move(reply);
                         ++answers;
                         answered.DecrementCount();
                       });
  }
  answered.Wait();
  for (std::thread& sleeper : sleepers) sleeper.join();
  int shared = 0;
  for (int i = 0; i < calls; ++i) {
    ASSERT_TRUE(replies[i].ok()) << replies[i].status();
    ASSERT_EQ(replies[i]->elements.size(), 2u);
    EXPECT_EQ(replies[i]->elements[0].str, absl::StrCat(i));
    if (replies[i]->elements[1].integer > 1) ++shared;
  }
  EXPECT_EQ(answers.load(), calls);
  for (const std::string& key : keys) {
    EXPECT_EQ(OnOwner(key), absl::StrCat(kCallsPerKey)) << key;
  }
  // Most calls arrived while their master slept and went in shared
  // batches (the first per key may go alone).
  EXPECT_GE(shared, calls / 2);
}

TEST_F(ClusterEventLoopTest, MovedAfterSlotMigration) {
  std::string tag = absl::StrCat("{moved:", NewId(), "}");
  std::string key = absl::StrCat("th:", tag, ":k");
  std::string counter = absl::StrCat("th:", tag, ":n");
  int slot = KeySlot(key);
  std::string source = topology().MasterOf(slot);
  std::string target = OtherMaster(source);
  ASSERT_TRUE(Command({"SET", key, "before"}).ok());
  ASSERT_TRUE(EvalBatched(counter, "warm").ok());  // connects to the source
  ASSERT_TRUE(cluster_->StartMigration(slot, source, target).ok());
  absl::Status finished = cluster_->FinishMigration(
      slot, source, target, {key, counter}, topology().Snapshot().Masters());
  ASSERT_TRUE(finished.ok()) << finished;
  int refreshes = topology().refreshes();

  // The map still names the source: it answers MOVED, the loop follows.
  ASSERT_EQ(topology().MasterOf(slot), source);
  absl::StatusOr<RedisReply> get = Command({"GET", key});
  ASSERT_TRUE(get.ok()) << get.status();
  EXPECT_EQ(get->str, "before");
  EXPECT_EQ(topology().MasterOf(slot), target) << "MOVED not recorded";
  EXPECT_EQ(topology().refreshes(), refreshes) << "MOVED needs no refresh";

  // A batch is resent whole to the new master.
  topology().RecordMoved(slot, source);
  absl::StatusOr<RedisReply> counted = EvalBatched(counter, "moved");
  ASSERT_TRUE(counted.ok()) << counted.status();
  EXPECT_EQ(counted->elements[0].str, "moved");
  EXPECT_EQ(topology().MasterOf(slot), target);
  absl::StatusOr<RedisReply> on_target =
      cluster_->Command(target, {"GET", counter});
  ASSERT_TRUE(on_target.ok());
  EXPECT_EQ(on_target->str, "2");
}

TEST_F(ClusterEventLoopTest, AskDuringMigration) {
  std::string tag = absl::StrCat("{ask:", NewId(), "}");
  std::string old_key = absl::StrCat("th:", tag, ":old");
  std::string new_key = absl::StrCat("th:", tag, ":new");
  std::string script_key = absl::StrCat("th:", tag, ":script");
  std::string counter = absl::StrCat("th:", tag, ":n");
  int slot = KeySlot(old_key);
  std::string source = topology().MasterOf(slot);
  std::string target = OtherMaster(source);
  ASSERT_TRUE(Command({"SET", old_key, "old"}).ok());
  ASSERT_TRUE(cluster_->StartMigration(slot, source, target).ok());

  // Existing keys are still served by the source; new ones go to the
  // target with ASKING, and the map does not change.
  absl::StatusOr<RedisReply> old_value = Command({"GET", old_key});
  ASSERT_TRUE(old_value.ok()) << old_value.status();
  EXPECT_EQ(old_value->str, "old");
  absl::StatusOr<RedisReply> set = Command({"SET", new_key, "new"});
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->type, RedisReply::Type::kStatus) << set->str;
  EXPECT_EQ(topology().MasterOf(slot), source);
  // The importing target serves the slot only after ASKING.
  RedisConnection direct({.address = target});
  direct.set_deadline(absl::Now() + absl::Seconds(5));
  absl::StatusOr<std::vector<RedisReply>> on_target =
      direct.Pipeline({{"ASKING"}, {"EXISTS", new_key}});
  ASSERT_TRUE(on_target.ok()) << on_target.status();
  EXPECT_EQ((*on_target)[1].integer, 1) << "the new key did not go to the target";

  // Scripts do not follow ASK (they build keys Redis does not see): they
  // wait until the migration ends, then run on the target.
  LuaScript script("cluster_loop_ask",
                   absl::StrCat("-- ", NewId(), "\n",
                                "redis.call('SET', KEYS[1], 's')\n"
                                "return redis.call('GET', KEYS[1])"));
  absl::Notification ran_done, counted_done;
  absl::StatusOr<RedisReply> ran = absl::UnknownError("no answer");
  absl::StatusOr<RedisReply> counted = absl::UnknownError("no answer");
  loop_->Eval(script, {script_key}, {""}, absl::Now() + absl::Seconds(10),
              [&](absl::StatusOr<RedisReply> reply) {
                ran = std::move(reply);
                ran_done.Notify();
              });
  loop_->EvalBatched(kCountScript, counter, {"asked"},
                     absl::Now() + absl::Seconds(10),
                     [&](absl::StatusOr<RedisReply> reply) {
                       counted = std::move(reply);
                       counted_done.Notify();
                     });
  EXPECT_FALSE(ran_done.WaitForNotificationWithTimeout(absl::Milliseconds(300)))
      << "a script ran during the migration: " << ran.status();
  EXPECT_FALSE(counted_done.HasBeenNotified());

  absl::Status finished = cluster_->FinishMigration(
      slot, source, target, {old_key}, topology().Snapshot().Masters());
  ASSERT_TRUE(finished.ok()) << finished;
  ran_done.WaitForNotification();
  ASSERT_TRUE(ran.ok()) << ran.status();
  EXPECT_EQ(ran->str, "s");
  counted_done.WaitForNotification();
  ASSERT_TRUE(counted.ok()) << counted.status();
  EXPECT_EQ(counted->elements[0].str, "asked");
  absl::StatusOr<RedisReply> moved = Command({"GET", new_key});
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(moved->str, "new");
  EXPECT_EQ(topology().MasterOf(slot), target);
  for (const std::string& key : {script_key, counter}) {
    absl::StatusOr<RedisReply> there = cluster_->Command(target, {"EXISTS", key});
    ASSERT_TRUE(there.ok());
    EXPECT_EQ(there->integer, 1) << key << " is not on the target";
  }
}

// Last: kills a master. Its calls fail by their deadline until its replica
// is promoted, then succeed on the same loop; each is answered once.
TEST_F(ClusterEventLoopTest, KilledMasterFailsByDeadlineThenRecovers) {
  std::string key = NewKey("failover");
  std::string victim = topology().MasterOf(KeySlot(key));
  std::string counter = KeyOn(victim, "failover-n");
  ASSERT_TRUE(Command({"SET", key, "before"}).ok());
  ASSERT_TRUE(EvalBatched(counter, "before").ok());
  cluster_->Kill(victim);

  // Well within the node timeout: no replica can have taken over.
  absl::StatusOr<RedisReply> during =
      Command({"GET", key}, absl::Milliseconds(300));
  ASSERT_FALSE(during.ok());
  EXPECT_TRUE(during.status().code() == absl::StatusCode::kUnavailable ||
              during.status().code() == absl::StatusCode::kDeadlineExceeded)
      << during.status();
  absl::StatusOr<RedisReply> batched =
      EvalBatched(counter, "during", absl::Milliseconds(300));
  EXPECT_TRUE(batched.status().code() == absl::StatusCode::kUnavailable ||
              batched.status().code() == absl::StatusCode::kDeadlineExceeded)
      << batched.status();

  ASSERT_TRUE(cluster_->WaitUntilHealthy(absl::Seconds(20)).ok());
  absl::StatusOr<RedisReply> after = Command({"SET", key, "after"});
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->type, RedisReply::Type::kStatus) << after->str;
  EXPECT_EQ(OnOwner(key), "after");
  EXPECT_NE(topology().MasterOf(KeySlot(key)), victim);
  absl::StatusOr<RedisReply> counted = EvalBatched(counter, "after");
  ASSERT_TRUE(counted.ok()) << counted.status();
  EXPECT_EQ(counted->elements[0].str, "after");
}

}  // namespace
}  // namespace townhall
