// ClusterRouter's XREAD of streams on several masters against a real local
// Redis Cluster (3 masters, 3 replicas, ports 7500-7599): one blocking
// XREAD per slot, all at once, the first answer with entries ending the
// others' blocks (SlotReaders). No polling: the XREAD calls each master
// counts (INFO commandstats) follow the changes, not the time.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "services/common/ids.h"
#include "services/common/redis/cluster_router.h"
#include "services/common/redis/cluster_slot.h"
#include "tests/testing/redis_cluster.h"

namespace townhall {
namespace {

using ::townhall::testing::RedisCluster;
using ::townhall::testing::RedisClusterOptions;

class ClusterStreamReadTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    RedisClusterOptions options;
    options.first_port = 7500;
    options.last_port = 7599;
    absl::StatusOr<std::unique_ptr<RedisCluster>> started =
        RedisCluster::Start(options);
    ASSERT_TRUE(started.ok()) << started.status();
    cluster_ = started->release();
    absl::StatusOr<std::shared_ptr<ClusterTopology>> topology =
        cluster_->DiscoverTopology();
    ASSERT_TRUE(topology.ok()) << topology.status();
    topology_ = new std::shared_ptr<ClusterTopology>(*std::move(topology));
  }
  static void TearDownTestSuite() {
    delete topology_;
    delete cluster_;
  }

  void SetUp() override {
    ASSERT_NE(cluster_, nullptr);
    masters_ = topology().Snapshot().Masters();
    ASSERT_EQ(masters_.size(), 3u);
    // A fresh (empty) feed on each master.
    std::string run = NewId();
    for (const std::string& master : masters_) {
      for (int i = 0;; ++i) {
        std::string key = absl::StrCat("th:{t:", run, i, "}:events");
        if (topology().MasterOf(KeySlot(key)) == master) {
          keys_.push_back(key);
          break;
        }
      }
    }
  }

  ClusterTopology& topology() { return **topology_; }

  // XREAD COUNT 100 BLOCK `block_ms` over keys_ after `ids`.
  absl::StatusOr<RedisReply> Read(ClusterRouter& router,
                                  const std::vector<std::string>& ids,
                                  int block_ms) {
    std::vector<std::string> argv = {"XREAD", "COUNT", "100", "BLOCK",
                                     absl::StrCat(block_ms), "STREAMS"};
    argv.insert(argv.end(), keys_.begin(), keys_.end());
    argv.insert(argv.end(), ids.begin(), ids.end());
    router.set_deadline(absl::Now() + absl::Milliseconds(block_ms) +
                        absl::Seconds(2));
    return router.Command(keys_, argv);
  }

  // Advances `ids` past the entries of `reply`, as the callers do, and
  // returns the entries' ("key", "field value") pairs.
  std::vector<std::pair<std::string, std::string>> Take(
      const RedisReply& reply, std::vector<std::string>& ids) {
    std::vector<std::pair<std::string, std::string>> taken;
    for (const RedisReply& stream : reply.elements) {
      if (stream.elements.size() != 2) continue;
      size_t k = std::find(keys_.begin(), keys_.end(),
                           stream.elements[0].str) - keys_.begin();
      if (k == keys_.size()) continue;
      for (const RedisReply& entry : stream.elements[1].elements) {
        ids[k] = entry.elements[0].str;
        taken.emplace_back(keys_[k], entry.elements[1].elements[1].str);
      }
    }
    return taken;
  }

  // XADD on the map's master of `key`, or on `node`.
  void Add(const std::string& key, const std::string& value,
           std::string node = "") {
    if (node.empty()) node = topology().MasterOf(KeySlot(key));
    absl::StatusOr<RedisReply> added =
        cluster_->Command(node, {"XADD", key, "*", "v", value});
    ASSERT_TRUE(added.ok()) << added.status();
    ASSERT_EQ(added->type, RedisReply::Type::kString) << added->str;
  }

  // Waits until each master has a client blocked (the reads are sent).
  void AwaitBlocked() {
    for (const std::string& master : masters_) {
      for (int i = 0; i < 1000 && Info(master, "blocked_clients") < 1; ++i) {
        absl::SleepFor(absl::Milliseconds(5));
      }
      ASSERT_GE(Info(master, "blocked_clients"), 1) << master;
    }
  }

  // A counter of INFO: "blocked_clients", or "cmdstat_xread" (its calls).
  int64_t Info(const std::string& master, const std::string& name) {
    absl::StatusOr<RedisReply> info =
        cluster_->Command(master, {"INFO", "everything"});
    if (!info.ok()) return -1;
    for (absl::string_view line : absl::StrSplit(info->str, "\r\n")) {
      if (!absl::ConsumePrefix(&line, absl::StrCat(name, ":"))) continue;
      absl::ConsumePrefix(&line, "calls=");
      int64_t value = 0;
      (void)absl::SimpleAtoi(line.substr(0, line.find(',')), &value);
      return value;
    }
    return 0;
  }
  std::map<std::string, int64_t> XReadCalls() {
    std::map<std::string, int64_t> calls;
    for (const std::string& m : masters_) calls[m] = Info(m, "cmdstat_xread");
    return calls;
  }

  static RedisCluster* cluster_;
  static std::shared_ptr<ClusterTopology>* topology_;
  std::vector<std::string> masters_;
  std::vector<std::string> keys_;  // keys_[i] is on masters_[i]
};

RedisCluster* ClusterStreamReadTest::cluster_ = nullptr;
std::shared_ptr<ClusterTopology>* ClusterStreamReadTest::topology_ = nullptr;

TEST_F(ClusterStreamReadTest, AnEntryOnAnyMasterEndsTheBlock) {
  constexpr int kBlockMs = 60000;
  ClusterRouter router(*topology_);
  std::vector<std::string> ids(keys_.size(), "0-0");
  for (size_t m = 0; m < masters_.size(); ++m) {
    absl::StatusOr<RedisReply> reply;
    absl::Time started = absl::Now();
    std::thread reader([&] { reply = Read(router, ids, kBlockMs); });
    AwaitBlocked();
    std::string value = absl::StrCat("on-", m);
    Add(keys_[m], value);
    reader.join();
    absl::Duration took = absl::Now() - started;

    ASSERT_TRUE(reply.ok()) << reply.status();
    std::vector<std::pair<std::string, std::string>> taken =
        Take(*reply, ids);
    ASSERT_EQ(taken.size(), 1u) << masters_[m];
    EXPECT_EQ(taken[0].first, keys_[m]);
    EXPECT_EQ(taken[0].second, value);
    // Not the block time: the other masters' reads were unblocked.
    EXPECT_LT(took, absl::Milliseconds(kBlockMs) / 2) << masters_[m];
  }
}

TEST_F(ClusterStreamReadTest, EntriesOnTwoMastersAllArriveOnce) {
  ClusterRouter router(*topology_);
  std::vector<std::string> ids(keys_.size(), "0-0");
  absl::StatusOr<RedisReply> reply;
  std::thread reader([&] { reply = Read(router, ids, 60000); });
  AwaitBlocked();
  Add(keys_[0], "a");
  Add(keys_[2], "c");
  reader.join();
  ASSERT_TRUE(reply.ok()) << reply.status();
  std::vector<std::pair<std::string, std::string>> taken = Take(*reply, ids);
  // The second one may come with the next read, at once.
  if (taken.size() < 2) {
    absl::StatusOr<RedisReply> next = Read(router, ids, 60000);
    ASSERT_TRUE(next.ok()) << next.status();
    std::vector<std::pair<std::string, std::string>> more = Take(*next, ids);
    taken.insert(taken.end(), more.begin(), more.end());
  }
  std::sort(taken.begin(), taken.end());
  std::vector<std::pair<std::string, std::string>> expected = {
      {keys_[0], "a"}, {keys_[2], "c"}};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(taken, expected);
}

TEST_F(ClusterStreamReadTest, NothingNewIsNilAfterTheBlockTime) {
  ClusterRouter router(*topology_);
  std::vector<std::string> ids(keys_.size(), "0-0");
  absl::StatusOr<RedisReply> reply = Read(router, ids, 300);
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_TRUE(reply->is_nil());
}

TEST_F(ClusterStreamReadTest, XReadCallsFollowChangesNotTime) {
  ClusterRouter router(*topology_);
  std::vector<std::string> ids(keys_.size(), "0-0");
  ASSERT_TRUE(Read(router, ids, 1).ok());  // connections made

  // Idle: BLOCK 1000 for 3 s. Polling every 20 ms would be 150 per master.
  std::map<std::string, int64_t> before = XReadCalls();
  absl::Time until = absl::Now() + absl::Seconds(3);
  while (absl::Now() < until) {
    absl::StatusOr<RedisReply> reply = Read(router, ids, 1000);
    ASSERT_TRUE(reply.ok()) << reply.status();
    ASSERT_TRUE(reply->is_nil());
  }
  std::map<std::string, int64_t> after = XReadCalls();
  for (const std::string& m : masters_) {
    std::printf("idle 3 s, BLOCK 1000: %s: %lld XREAD calls\n", m.c_str(),
                static_cast<long long>(after[m] - before[m]));
    EXPECT_LE(after[m] - before[m], 5) << m << " while idle";
  }

  // N changes on one stream, 200 ms apart: about N reads per master.
  constexpr int kChanges = 10;
  std::atomic<int> seen{0};
  before = XReadCalls();
  std::thread reader([&] {
    while (seen.load() < kChanges) {
      absl::StatusOr<RedisReply> reply = Read(router, ids, 1000);
      if (!reply.ok()) return;
      seen += static_cast<int>(Take(*reply, ids).size());
    }
  });
  for (int i = 0; i < kChanges; ++i) {
    absl::SleepFor(absl::Milliseconds(200));
    Add(keys_[1], absl::StrCat(i));
  }
  reader.join();
  after = XReadCalls();
  EXPECT_EQ(seen.load(), kChanges);
  for (const std::string& m : masters_) {
    std::printf("%d changes on one stream: %s: %lld XREAD calls\n", kChanges,
                m.c_str(), static_cast<long long>(after[m] - before[m]));
    EXPECT_LE(after[m] - before[m], 2 * kChanges + 4) << m;
  }
}

TEST_F(ClusterStreamReadTest, MovedSlotIsReadWithoutLosingEntries) {
  ClusterRouter router(*topology_);
  std::vector<std::string> ids(keys_.size(), "0-0");
  int slot = KeySlot(keys_[0]);
  std::string source = masters_[0];
  std::string target = masters_[1];
  Add(keys_[0], "before-move");
  ASSERT_TRUE(cluster_->StartMigration(slot, source, target).ok());
  ASSERT_TRUE(cluster_
                  ->FinishMigration(slot, source, target, {keys_[0]},
                                    masters_)
                  .ok());
  Add(keys_[0], "after-move", target);
  // The router's map still names the source: its read answers MOVED.
  ASSERT_EQ(topology().MasterOf(slot), source);

  absl::StatusOr<RedisReply> reply = Read(router, ids, 60000);
  ASSERT_TRUE(reply.ok()) << reply.status();
  std::vector<std::pair<std::string, std::string>> taken = Take(*reply, ids);
  std::vector<std::pair<std::string, std::string>> expected = {
      {keys_[0], "before-move"}, {keys_[0], "after-move"}};
  EXPECT_EQ(taken, expected);
  EXPECT_EQ(topology().MasterOf(slot), target);
}

}  // namespace
}  // namespace townhall
