// ClusterRouter against a real local Redis Cluster (3 masters, 3 replicas):
// keys and scripts spread over the masters, CROSSSLOT refused before
// sending, MOVED after a slot migration, ASK during one, and a master
// killed: the router recovers within a bound and loses no acknowledged
// write. The tests share one cluster and run in order (the last one kills
// a master).
#include "services/common/redis/cluster_router.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "services/common/ids.h"
#include "services/common/redis/cluster_slot.h"
#include "tests/testing/redis_cluster.h"

namespace townhall {
namespace {

using ::townhall::testing::RedisCluster;
using ::townhall::testing::RedisClusterOptions;

class ClusterRouterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    RedisClusterOptions cluster_options;
    // FailoverRecoversWithoutLosingAcknowledgedWrites kills a master.
    cluster_options.node_timeout = absl::Seconds(1);
    absl::StatusOr<std::unique_ptr<RedisCluster>> started =
        RedisCluster::Start(cluster_options);
    ASSERT_TRUE(started.ok()) << started.status();
    cluster_ = started->release();
    ClusterOptions options;
    // Enough attempts to ride out a failover (node timeout + election).
    options.policy.max_attempts = 100;
    options.policy.retry_budget = absl::Seconds(10);
    absl::StatusOr<std::shared_ptr<ClusterTopology>> topology =
        cluster_->DiscoverTopology(options);
    ASSERT_TRUE(topology.ok()) << topology.status();
    topology_ = new std::shared_ptr<ClusterTopology>(*std::move(topology));
  }
  static void TearDownTestSuite() {
    delete topology_;
    delete cluster_;
  }

  void SetUp() override {
    ASSERT_NE(cluster_, nullptr);
    router_ = std::make_unique<ClusterRouter>(*topology_);
    router_->set_deadline(absl::Now() + absl::Seconds(10));
  }

  ClusterTopology& topology() { return **topology_; }

  absl::StatusOr<RedisReply> Set(const std::string& key,
                                 const std::string& value) {
    return router_->Command({key}, {"SET", key, value});
  }
  std::string Get(const std::string& key) {
    absl::StatusOr<RedisReply> reply = router_->Command({key}, {"GET", key});
    return reply.ok() ? reply->str : reply.status().ToString();
  }

  void StartMigration(int slot, const std::string& source,
                      const std::string& target) {
    ASSERT_TRUE(cluster_->StartMigration(slot, source, target).ok());
  }
  void FinishMigration(int slot, const std::string& source,
                       const std::string& target,
                       const std::vector<std::string>& keys) {
    absl::Status finished = cluster_->FinishMigration(
        slot, source, target, keys, topology().Snapshot().Masters());
    ASSERT_TRUE(finished.ok()) << finished;
  }
  // A master other than `master`.
  std::string OtherMaster(const std::string& master) {
    for (const std::string& m : topology().Snapshot().Masters()) {
      if (m != master) return m;
    }
    return "";
  }

  static RedisCluster* cluster_;
  static std::shared_ptr<ClusterTopology>* topology_;
  std::unique_ptr<ClusterRouter> router_;
};

RedisCluster* ClusterRouterTest::cluster_ = nullptr;
std::shared_ptr<ClusterTopology>* ClusterRouterTest::topology_ = nullptr;

TEST_F(ClusterRouterTest, KeysSpreadOverThreeMasters) {
  std::vector<std::string> masters = topology().Snapshot().Masters();
  ASSERT_EQ(masters.size(), 3u);
  std::string run = NewId();
  for (int i = 0; i < 60; ++i) {
    std::string key = absl::StrCat("th:{spread:", run, ":", i, "}:v");
    ASSERT_TRUE(Set(key, absl::StrCat(i)).ok());
  }
  for (int i = 0; i < 60; ++i) {
    EXPECT_EQ(Get(absl::StrCat("th:{spread:", run, ":", i, "}:v")),
              absl::StrCat(i));
  }
  for (const std::string& master : masters) {
    absl::StatusOr<RedisReply> size = cluster_->Command(master, {"DBSIZE"});
    ASSERT_TRUE(size.ok());
    EXPECT_GT(size->integer, 0) << master << " got no key";
  }
}

TEST_F(ClusterRouterTest, ScriptsRunOnEveryMaster) {
  // A body new to every node: the first call on each takes NOSCRIPT.
  LuaScript script("cluster_echo",
                   absl::StrCat("-- ", NewId(), "\n",
                                "redis.call('SET', KEYS[1], ARGV[1])\n"
                                "return redis.call('GET', KEYS[1])"));
  std::set<std::string> masters_used;
  for (int i = 0; i < 30; ++i) {
    std::string key = absl::StrCat("th:{script:", NewId(), "}:v");
    masters_used.insert(topology().MasterOf(KeySlot(key)));
    absl::StatusOr<RedisReply> reply =
        router_->Eval(script, {key}, {absl::StrCat("v", i)});
    ASSERT_TRUE(reply.ok()) << reply.status();
    EXPECT_EQ(reply->str, absl::StrCat("v", i));
  }
  EXPECT_EQ(masters_used.size(), 3u);

  LuaScript failing("cluster_fail",
                    "return redis.error_reply('TH:NOT_FOUND:no such thing')");
  absl::StatusOr<RedisReply> refused =
      router_->Eval(failing, {"th:{t:x}:k"}, {});
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ClusterRouterTest, CrossSlotRefusedBeforeSending) {
  std::string a = absl::StrCat("th:{a:", NewId(), "}:k");
  std::string b = absl::StrCat("th:{b:", NewId(), "}:k");
  ASSERT_NE(KeySlot(a), KeySlot(b));
  absl::StatusOr<RedisReply> reply =
      router_->Command({a, b}, {"MSET", a, "1", b, "2"});
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kInternal);
  EXPECT_TRUE(absl::StartsWith(reply.status().message(), "CROSSSLOT"))
      << reply.status();
  absl::StatusOr<RedisReply> nothing = router_->Command({a}, {"EXISTS", a});
  ASSERT_TRUE(nothing.ok());
  EXPECT_EQ(nothing->integer, 0);
}

TEST_F(ClusterRouterTest, MovedAfterSlotMigration) {
  std::string key = absl::StrCat("th:{moved:", NewId(), "}:k");
  int slot = KeySlot(key);
  std::string source = topology().MasterOf(slot);
  std::string target = OtherMaster(source);
  ASSERT_TRUE(Set(key, "before").ok());
  StartMigration(slot, source, target);
  FinishMigration(slot, source, target, {key});
  int refreshes = topology().refreshes();

  // The map still names the source: it answers MOVED, the router follows.
  ASSERT_EQ(topology().MasterOf(slot), source);
  EXPECT_EQ(Get(key), "before");
  EXPECT_EQ(topology().MasterOf(slot), target);
  EXPECT_EQ(topology().refreshes(), refreshes) << "MOVED needs no refresh";
  ASSERT_TRUE(Set(key, "after").ok());
  absl::StatusOr<RedisReply> direct = cluster_->Command(target, {"GET", key});
  ASSERT_TRUE(direct.ok());
  EXPECT_EQ(direct->str, "after");
}

TEST_F(ClusterRouterTest, AskDuringMigration) {
  std::string tag = absl::StrCat("{ask:", NewId(), "}");
  std::string old_key = absl::StrCat("th:", tag, ":old");
  std::string new_key = absl::StrCat("th:", tag, ":new");
  std::string script_key = absl::StrCat("th:", tag, ":script");
  int slot = KeySlot(old_key);
  std::string source = topology().MasterOf(slot);
  std::string target = OtherMaster(source);
  ASSERT_TRUE(Set(old_key, "old").ok());
  StartMigration(slot, source, target);

  // Existing keys are still served by the source; new ones go to the
  // target with ASKING, and the map does not change.
  EXPECT_EQ(Get(old_key), "old");
  ASSERT_TRUE(Set(new_key, "new").ok());
  EXPECT_EQ(Get(new_key), "new");
  EXPECT_EQ(topology().MasterOf(slot), source);
  absl::StatusOr<RedisReply> on_source =
      cluster_->Command(source, {"EXISTS", new_key});
  ASSERT_TRUE(on_source.ok());
  EXPECT_EQ(on_source->integer, 0) << "the new key went to the source";

  // A script does not follow ASK (it builds keys Redis does not see): it
  // waits until the migration ends, then runs on the target.
  LuaScript script("cluster_ask",
                   absl::StrCat("-- ", NewId(), "\n",
                                "redis.call('SET', KEYS[1], 's')\n"
                                "return redis.call('GET', KEYS[1])"));
  absl::Notification ran_done;
  absl::StatusOr<RedisReply> ran = absl::UnknownError("no answer");
  std::thread runner([&] {
    ran = router_->Eval(script, {script_key}, {});
    ran_done.Notify();
  });
  EXPECT_FALSE(ran_done.WaitForNotificationWithTimeout(absl::Milliseconds(300)))
      << "the script ran during the migration";
  FinishMigration(slot, source, target, {old_key});
  runner.join();
  ASSERT_TRUE(ran.ok()) << ran.status();
  EXPECT_EQ(ran->str, "s");
  EXPECT_EQ(Get(old_key), "old");
  EXPECT_EQ(Get(new_key), "new");
  EXPECT_EQ(Get(script_key), "s");
  EXPECT_EQ(topology().MasterOf(slot), target);
}

// Last: kills a master. A writer appends through the router (each append
// acknowledged once WAIT says a replica has it) while the master owning its
// slot dies; its replica is promoted after the node
// timeout and the writer's calls then succeed without any restart.
TEST_F(ClusterRouterTest, FailoverRecoversWithoutLosingAcknowledgedWrites) {
  std::string log_key = absl::StrCat("th:{failover:", NewId(), "}:log");
  std::string victim = topology().MasterOf(KeySlot(log_key));

  absl::Mutex mu;
  // The writes a replica had when WAIT returned: none may be lost.
  std::vector<int> acknowledged;
  // When each applied write was sent and applied.
  std::vector<std::pair<absl::Time, absl::Time>> timings;
  std::atomic<bool> stop{false};
  std::atomic<int> failed{0};
  std::thread writer([&] {
    ClusterRouter router(*topology_);
    for (int i = 0; !stop.load(); ++i) {
      absl::Time sent = absl::Now();
      router.set_deadline(sent + absl::Seconds(10));
      absl::StatusOr<RedisReply> pushed =
          router.Command({log_key}, {"RPUSH", log_key, absl::StrCat(i)});
      if (!pushed.ok() || pushed->type == RedisReply::Type::kError) {
        ++failed;
        continue;
      }
      absl::Time applied = absl::Now();
      // Replication is asynchronous: a write must survive the failover only
      // once a replica has it (as the server's writes will under
      // --redis_wait_replicas). WAIT goes to the same master, routed by the
      // key; the promoted master has no replica left, so after the failover
      // writes apply but are not replicated.
      absl::StatusOr<RedisReply> replicated =
          router.Command({log_key}, {"WAIT", "1", "500"});
      absl::MutexLock lock(&mu);
      timings.emplace_back(sent, applied);
      if (replicated.ok() && replicated->type == RedisReply::Type::kInteger &&
          replicated->integer >= 1) {
        acknowledged.push_back(i);
      }
    }
  });
  absl::SleepFor(absl::Milliseconds(300));
  cluster_->Kill(victim);  // returns once the process is reaped
  absl::Time killed_at = absl::Now();

  // Recovered: the first write sent after the kill is applied.
  absl::Duration bound = cluster_->options().node_timeout + absl::Seconds(4);
  absl::Time recovered_at = absl::InfiniteFuture();
  while (recovered_at == absl::InfiniteFuture() &&
         absl::Now() < killed_at + bound + absl::Seconds(1)) {
    absl::SleepFor(absl::Milliseconds(10));
    absl::MutexLock lock(&mu);
    for (const auto& [sent, acked] : timings) {
      if (sent > killed_at) {
        recovered_at = acked;
        break;
      }
    }
  }
  absl::SleepFor(absl::Milliseconds(200));
  stop = true;
  writer.join();

  absl::Duration recovery = recovered_at - killed_at;
  std::printf(
      "failover: router recovered %s after SIGKILL of %s "
      "(node timeout %s), %d failed calls, %zu writes acknowledged\n",
      absl::FormatDuration(recovery).c_str(), victim.c_str(),
      absl::FormatDuration(cluster_->options().node_timeout).c_str(),
      failed.load(), acknowledged.size());
  EXPECT_LE(recovery, bound);
  EXPECT_EQ(failed.load(), 0);
  EXPECT_NE(topology().MasterOf(KeySlot(log_key)), victim);

  router_->set_deadline(absl::Now() + absl::Seconds(5));
  absl::StatusOr<RedisReply> history =
      router_->Command({log_key}, {"LRANGE", log_key, "0", "-1"});
  ASSERT_TRUE(history.ok()) << history.status();
  std::set<int> stored;
  for (const RedisReply& element : history->elements) {
    int value = 0;
    ASSERT_TRUE(absl::SimpleAtoi(element.str, &value));
    stored.insert(value);
  }
  ASSERT_FALSE(acknowledged.empty()) << "no write ever reached a replica";
  int lost = 0;
  for (int i : acknowledged) lost += stored.count(i) == 0 ? 1 : 0;
  EXPECT_EQ(lost, 0) << "acknowledged writes lost in the failover";
}

}  // namespace
}  // namespace townhall
