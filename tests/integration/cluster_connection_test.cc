// RedisConnection in cluster mode (RedisOptions::cluster) against a real
// local Redis Cluster (3 masters, 3 replicas, ports 7300-7399): the code
// that talks to RedisConnection, RedisPool and RedisEventLoop runs
// unchanged, and each command lands on the master of its keys. Every
// placement is checked on the owning master through a plain connection.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "services/common/ids.h"
#include "services/common/redis/cluster_router.h"
#include "services/common/redis/cluster_slot.h"
#include "services/common/redis/redis_connection.h"
#include "services/common/redis/redis_event_loop.h"
#include "services/common/redis/redis_pool.h"
#include "tests/testing/redis_cluster.h"

namespace townhall {
namespace {

using ::townhall::testing::RedisCluster;
using ::townhall::testing::RedisClusterOptions;

class ClusterConnectionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    RedisClusterOptions options;
    options.first_port = 7300;
    options.last_port = 7399;
    absl::StatusOr<std::unique_ptr<RedisCluster>> started =
        RedisCluster::Start(options);
    ASSERT_TRUE(started.ok()) << started.status();
    cluster_ = started->release();
    absl::StatusOr<std::shared_ptr<ClusterTopology>> topology =
        DiscoverCluster(cluster_->addresses()[0], RedisOptions());
    ASSERT_TRUE(topology.ok()) << topology.status();
    topology_ = new std::shared_ptr<ClusterTopology>(*std::move(topology));
  }
  static void TearDownTestSuite() {
    delete topology_;
    delete cluster_;
  }

  void SetUp() override {
    ASSERT_NE(cluster_, nullptr);
    redis_ = std::make_unique<RedisConnection>(Options());
    redis_->set_deadline(absl::Now() + absl::Seconds(10));
  }

  static RedisOptions Options() {
    RedisOptions options;
    options.cluster = *topology_;
    options.pool_size = 3;
    return options;
  }
  ClusterTopology& topology() { return **topology_; }

  // A key of its own slot: its hash tag is new.
  static std::string NewKey(absl::string_view name) {
    return absl::StrCat("th:{", name, ":", NewId(), "}:k");
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
  // Moves the slot of `key` (and the key) to another master; the shared
  // map still names the old one, which answers MOVED from now on.
  void MoveSlotOf(const std::string& key) {
    int slot = KeySlot(key);
    std::string source = topology().MasterOf(slot);
    std::string target = OtherMaster(source);
    ASSERT_TRUE(cluster_->StartMigration(slot, source, target).ok());
    absl::Status finished = cluster_->FinishMigration(
        slot, source, target, {key}, topology().Snapshot().Masters());
    ASSERT_TRUE(finished.ok()) << finished;
    ASSERT_EQ(topology().MasterOf(slot), source);
  }

  static RedisCluster* cluster_;
  static std::shared_ptr<ClusterTopology>* topology_;
  std::unique_ptr<RedisConnection> redis_;
};

RedisCluster* ClusterConnectionTest::cluster_ = nullptr;
std::shared_ptr<ClusterTopology>* ClusterConnectionTest::topology_ = nullptr;

TEST_F(ClusterConnectionTest, CommandsLandOnTheMasterOfTheirSlot) {
  std::set<std::string> masters;
  for (int i = 0; i < 30; ++i) {
    std::string key = NewKey("spread");
    absl::StatusOr<RedisReply> set =
        redis_->Command({"SET", key, absl::StrCat(i)});
    ASSERT_TRUE(set.ok()) << set.status();
    ASSERT_EQ(set->type, RedisReply::Type::kStatus) << set->str;
    // CLUSTER KEYSLOT is keyless (any master): Redis agrees on the slot.
    absl::StatusOr<RedisReply> slot =
        redis_->Command({"CLUSTER", "KEYSLOT", key});
    ASSERT_TRUE(slot.ok()) << slot.status();
    EXPECT_EQ(slot->integer, KeySlot(key));
    EXPECT_EQ(OnOwner(key), absl::StrCat(i));
    absl::StatusOr<RedisReply> get = redis_->Command({"GET", key});
    ASSERT_TRUE(get.ok());
    EXPECT_EQ(get->str, absl::StrCat(i));
    masters.insert(topology().MasterOf(KeySlot(key)));
  }
  EXPECT_EQ(masters.size(), 3u);
}

TEST_F(ClusterConnectionTest, KeylessPingAnswers) {
  absl::StatusOr<RedisReply> pong = redis_->Command({"PING"});
  ASSERT_TRUE(pong.ok()) << pong.status();
  EXPECT_EQ(pong->type, RedisReply::Type::kStatus);
  EXPECT_EQ(pong->str, "PONG");
}

TEST_F(ClusterConnectionTest, CrossSlotCommandRefusedBeforeSending) {
  std::string a = NewKey("a");
  std::string b = NewKey("b");
  ASSERT_NE(KeySlot(a), KeySlot(b));
  absl::StatusOr<RedisReply> reply = redis_->Command({"MGET", a, b});
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kInternal);
  EXPECT_TRUE(absl::StartsWith(reply.status().message(), "CROSSSLOT"));
}

TEST_F(ClusterConnectionTest, DeadlineCarriesOverToTheRouter) {
  redis_->set_deadline(absl::Now() - absl::Milliseconds(1));
  absl::StatusOr<RedisReply> reply = redis_->Command({"GET", NewKey("late")});
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kDeadlineExceeded)
      << reply.status();
  absl::StatusOr<std::vector<RedisReply>> replies =
      redis_->Pipeline({{"GET", NewKey("late")}});
  EXPECT_EQ(replies.status().code(), absl::StatusCode::kDeadlineExceeded)
      << replies.status();
}

TEST_F(ClusterConnectionTest, EvalRunsOnTheMasterOfItsKeys) {
  LuaScript script("cluster_connection_echo",
                   absl::StrCat("-- ", NewId(), "\n",
                                "redis.call('SET', KEYS[1], ARGV[1])\n"
                                "return redis.call('GET', KEYS[1])"));
  std::set<std::string> masters;
  for (int i = 0; i < 20; ++i) {
    std::string key = NewKey("script");
    absl::StatusOr<RedisReply> reply =
        redis_->Eval(script, {key}, {absl::StrCat("v", i)});
    ASSERT_TRUE(reply.ok()) << reply.status();
    EXPECT_EQ(reply->str, absl::StrCat("v", i));
    EXPECT_EQ(OnOwner(key), absl::StrCat("v", i));
    masters.insert(topology().MasterOf(KeySlot(key)));
  }
  EXPECT_EQ(masters.size(), 3u);
  LuaScript failing("cluster_connection_fail",
                    "return redis.error_reply('TH:NOT_FOUND:no such thing')");
  absl::StatusOr<RedisReply> refused =
      redis_->Eval(failing, {NewKey("fail")}, {});
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(refused.status().message(), "no such thing");
  absl::StatusOr<RedisReply> raw =
      redis_->EvalReply(failing, {NewKey("fail")}, {});
  ASSERT_TRUE(raw.ok()) << raw.status();
  EXPECT_EQ(raw->type, RedisReply::Type::kError);
}

TEST_F(ClusterConnectionTest, SameSlotPipeline) {
  std::string tag = absl::StrCat("{pipe:", NewId(), "}");
  std::string a = absl::StrCat("th:", tag, ":a");
  std::string b = absl::StrCat("th:", tag, ":b");
  absl::StatusOr<std::vector<RedisReply>> replies = redis_->Pipeline(
      {{"SET", a, "1"}, {"SET", b, "2"}, {"MGET", a, b}, {"PING"}});
  ASSERT_TRUE(replies.ok()) << replies.status();
  ASSERT_EQ(replies->size(), 4u);
  ASSERT_EQ((*replies)[2].elements.size(), 2u);
  EXPECT_EQ((*replies)[2].elements[0].str, "1");
  EXPECT_EQ((*replies)[2].elements[1].str, "2");
  EXPECT_EQ((*replies)[3].str, "PONG");
  EXPECT_EQ(OnOwner(a), "1");
  EXPECT_EQ(OnOwner(b), "2");
}

TEST_F(ClusterConnectionTest, CrossSlotPipelineKeepsTheOrder) {
  std::vector<std::string> keys;
  std::vector<std::vector<std::string>> sets;
  std::vector<std::vector<std::string>> gets;
  for (int i = 0; i < 12; ++i) {
    keys.push_back(NewKey("cross"));
    sets.push_back({"SET", keys.back(), absl::StrCat("x", i)});
    gets.push_back({"GET", keys.back()});
  }
  absl::StatusOr<std::vector<RedisReply>> set = redis_->Pipeline(sets);
  ASSERT_TRUE(set.ok()) << set.status();
  absl::StatusOr<std::vector<RedisReply>> got = redis_->Pipeline(gets);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), keys.size());
  std::set<std::string> masters;
  for (size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ((*got)[i].str, absl::StrCat("x", i));
    EXPECT_EQ(OnOwner(keys[i]), absl::StrCat("x", i));
    masters.insert(topology().MasterOf(KeySlot(keys[i])));
  }
  EXPECT_GT(masters.size(), 1u);
}

TEST_F(ClusterConnectionTest, StreamsOfSeveralSlotsReadTogether) {
  std::string a = NewKey("stream");
  std::string b = NewKey("stream");
  ASSERT_NE(KeySlot(a), KeySlot(b));
  ASSERT_TRUE(redis_->Command({"XADD", a, "1-0", "f", "a1"}).ok());
  ASSERT_TRUE(redis_->Command({"XADD", b, "1-0", "f", "b1"}).ok());
  absl::StatusOr<RedisReply> both =
      redis_->Command({"XREAD", "COUNT", "10", "STREAMS", a, b, "0-0", "0-0"});
  ASSERT_TRUE(both.ok()) << both.status();
  ASSERT_EQ(both->elements.size(), 2u);
  EXPECT_EQ(both->elements[0].elements[0].str, a);
  EXPECT_EQ(both->elements[1].elements[0].str, b);

  // Nothing new: BLOCK waits its time, then nil.
  absl::Time start = absl::Now();
  absl::StatusOr<RedisReply> none =
      redis_->Command({"XREAD", "BLOCK", "200", "STREAMS", a, b, "1-0", "1-0"});
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->is_nil());
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(200));

  // An entry added while blocked is returned before the block time is up.
  std::thread writer([&] {
    absl::SleepFor(absl::Milliseconds(100));
    RedisConnection other(Options());
    other.set_deadline(absl::Now() + absl::Seconds(5));
    (void)other.Command({"XADD", b, "2-0", "f", "b2"});
  });
  start = absl::Now();
  absl::StatusOr<RedisReply> later = redis_->Command(
      {"XREAD", "BLOCK", "5000", "STREAMS", a, b, "1-0", "1-0"});
  writer.join();
  ASSERT_TRUE(later.ok()) << later.status();
  ASSERT_EQ(later->elements.size(), 1u);
  EXPECT_EQ(later->elements[0].elements[0].str, b);
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
}

TEST_F(ClusterConnectionTest, MovedAfterSlotMigration) {
  std::string key = NewKey("moved");
  int slot = KeySlot(key);
  ASSERT_TRUE(redis_->Command({"SET", key, "before"}).ok());
  std::string source = topology().MasterOf(slot);
  MoveSlotOf(key);
  absl::StatusOr<RedisReply> get = redis_->Command({"GET", key});
  ASSERT_TRUE(get.ok()) << get.status();
  EXPECT_EQ(get->str, "before");
  EXPECT_NE(topology().MasterOf(slot), source) << "MOVED not recorded";
  ASSERT_TRUE(redis_->Command({"SET", key, "after"}).ok());
  EXPECT_EQ(OnOwner(key), "after");
}

TEST_F(ClusterConnectionTest, MovedInsideASameSlotPipeline) {
  std::string tag = absl::StrCat("{pipe-moved:", NewId(), "}");
  std::string a = absl::StrCat("th:", tag, ":a");
  std::string b = absl::StrCat("th:", tag, ":b");
  ASSERT_TRUE(redis_->Command({"SET", a, "A"}).ok());
  int slot = KeySlot(a);
  std::string source = topology().MasterOf(slot);
  MoveSlotOf(a);
  absl::StatusOr<std::vector<RedisReply>> replies =
      redis_->Pipeline({{"GET", a}, {"SET", b, "B"}, {"GET", b}});
  ASSERT_TRUE(replies.ok()) << replies.status();
  EXPECT_EQ((*replies)[0].str, "A");
  EXPECT_EQ((*replies)[2].str, "B");
  EXPECT_NE(topology().MasterOf(slot), source);
  EXPECT_EQ(OnOwner(b), "B");
}

TEST_F(ClusterConnectionTest, PoolWorkersShareTheTopology) {
  RedisPool pool(Options());
  std::vector<std::string> keys;
  for (int i = 0; i < 20; ++i) keys.push_back(NewKey("pool"));
  std::vector<absl::StatusOr<RedisReply>> results(keys.size());
  absl::Notification all_done;
  std::atomic<int> left = static_cast<int>(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    ASSERT_TRUE(pool.Submit(absl::Now() + absl::Seconds(10),
                            [&, i](RedisConnection& redis) {
                              results[i] = redis.Command(
                                  {"SET", keys[i], absl::StrCat("p", i)});
                              if (--left == 0) all_done.Notify();
                            })
                    .ok());
  }
  all_done.WaitForNotification();
  for (size_t i = 0; i < keys.size(); ++i) {
    ASSERT_TRUE(results[i].ok()) << results[i].status();
    EXPECT_EQ(OnOwner(keys[i]), absl::StrCat("p", i));
  }
  absl::StatusOr<RedisReply> read =
      pool.Run(absl::Now() + absl::Seconds(10), [&](RedisConnection& redis) {
        return redis.Command({"GET", keys[3]});
      });
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->str, "p3");
}

TEST_F(ClusterConnectionTest, EventLoopRunsCallsOnTheCluster) {
  RedisEventLoop loop(Options());
  std::string key = NewKey("loop");
  ASSERT_TRUE(redis_->Command({"SET", key, "L"}).ok());
  absl::Notification got;
  absl::StatusOr<RedisReply> reply;
  loop.Command({"GET", key}, absl::Now() + absl::Seconds(5),
               [&](absl::StatusOr<RedisReply> r) {
                 reply = std::move(r);
                 got.Notify();
               });
  got.WaitForNotification();
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->str, "L");

  // A batched script answers one element per call.
  LuaScript batched("cluster_connection_batched",
                    absl::StrCat("-- ", NewId(), "\n",
                                 "redis.call('SET', KEYS[1], ARGV[1])\n"
                                 "return {ARGV[1]}"));
  std::string batch_key = NewKey("batch");
  absl::Notification ran;
  absl::StatusOr<RedisReply> element;
  loop.EvalBatched(batched, batch_key, {"E"}, absl::Now() + absl::Seconds(5),
                   [&](absl::StatusOr<RedisReply> r) {
                     element = std::move(r);
                     ran.Notify();
                   });
  ran.WaitForNotification();
  ASSERT_TRUE(element.ok()) << element.status();
  EXPECT_EQ(element->str, "E");
  EXPECT_EQ(OnOwner(batch_key), "E");
}

}  // namespace
}  // namespace townhall
