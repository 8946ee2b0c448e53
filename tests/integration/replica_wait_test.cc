// --redis_wait_replicas (RedisOptions::wait_replicas): after a write, both
// Redis clients WAIT for replicas on the same connection, and too few is
// UNAVAILABLE; reads and read-only scripts never wait. Against a real
// master with one real replica of the test's own.
#include <gtest/gtest.h>

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/numbers.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "services/common/redis/command_keys.h"
#include "services/common/redis/lua_script.h"
#include "services/common/redis/redis_connection.h"
#include "services/common/redis/redis_event_loop.h"
#include "services/common/redis/replica_wait.h"
#include "services/common/redis/redis_test_support.h"
#include "tests/testing/redis_server.h"

namespace townhall {
namespace {

using ::townhall::testing::CommandCalls;
using ::townhall::testing::RedisServer;

const LuaScript kWrite("test_write", R"lua(
redis.call('INCR', KEYS[1])
return redis.call('GET', KEYS[1])
)lua");
const LuaScript kRead("test_read", "#!lua flags=no-writes\n"
                                   "return redis.call('GET', KEYS[1])\n");
const LuaScript kRefuse("test_refuse",
                        "return redis.error_reply('TH:NOT_FOUND:no such')");
// A batch script (EvalBatched): one reply per call.
const LuaScript kBatchWrite("test_batch_write", R"lua(
local replies = {}
for i = 1, #ARGV do
  replies[i] = redis.call('INCR', KEYS[1])
end
return replies
)lua");

TEST(LuaScript, WritesUnlessItsShebangSaysNoWrites) {
  EXPECT_TRUE(kWrite.writes());
  EXPECT_FALSE(kRead.writes());
  EXPECT_TRUE(LuaScript("s", "#!lua\nreturn 1").writes());
  EXPECT_TRUE(LuaScript("s", "return 1 -- flags=no-writes").writes())
      << "only the shebang line counts";
}

TEST(CommandWrites, ReadsAndServerCommandsDoNotWrite) {
  for (std::vector<std::string> argv :
       std::vector<std::vector<std::string>>{{"GET", "k"},
                                             {"hmget", "k", "f"},
                                             {"XREAD", "STREAMS", "k", "0"},
                                             {"PING"},
                                             {"CLIENT", "ID"},
                                             {"WAIT", "1", "10"}}) {
    EXPECT_FALSE(CommandWrites(argv)) << argv[0];
  }
  for (std::vector<std::string> argv :
       std::vector<std::vector<std::string>>{{"SET", "k", "v"},
                                             {"del", "k"},
                                             {"XADD", "k", "*", "f", "v"},
                                             {"INCRBY", "k", "1"},
                                             {"SOMENEWCOMMAND", "k"}}) {
    EXPECT_TRUE(CommandWrites(argv)) << argv[0] << ": unknown ones too";
  }
}

TEST(CheckReplicaWait, CountsReplicas) {
  RedisReply two;
  two.type = RedisReply::Type::kInteger;
  two.integer = 2;
  EXPECT_TRUE(CheckReplicaWait(two, 2).ok());
  absl::Status shortfall = CheckReplicaWait(two, 3);
  EXPECT_EQ(shortfall.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(shortfall.message(), "2 of 3")) << shortfall;
  EXPECT_TRUE(IsReplicaWaitShortfall(shortfall));
  EXPECT_FALSE(IsReplicaWaitShortfall(absl::UnavailableError("lost")));
  RedisReply error;
  error.type = RedisReply::Type::kError;
  error.str = "ERR WAIT cannot be used with replica instances";
  EXPECT_EQ(CheckReplicaWait(error, 1).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(CheckReplicaWait(absl::UnavailableError("lost"), 1).code(),
            absl::StatusCode::kUnavailable);
}

TEST(WaitCommand, NeverWaitsForEverNorPastTheDeadline) {
  EXPECT_EQ(WaitCommand(1, absl::Milliseconds(500), absl::InfiniteFuture()),
            (std::vector<std::string>{"WAIT", "1", "500"}));
  EXPECT_EQ(WaitCommand(2, absl::Milliseconds(500),
                        absl::Now() - absl::Seconds(1))[2],
            "1");
  int64_t ms = 0;
  ASSERT_TRUE(absl::SimpleAtoi(
      WaitCommand(1, absl::Seconds(5), absl::Now() + absl::Seconds(1))[2],
      &ms));
  EXPECT_LE(ms, 1000);
  EXPECT_GT(ms, 500);
}

// A master with one replica in sync.
class ReplicaWaitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto master = RedisServer::Start();
    ASSERT_TRUE(master.ok()) << master.status();
    master_ = *std::move(master);
    auto replica = RedisServer::Start();
    ASSERT_TRUE(replica.ok()) << replica.status();
    replica_ = *std::move(replica);
    RedisOptions to_replica = Options(0);
    to_replica.address = replica_->address();
    replica_admin_ = std::make_unique<RedisConnection>(to_replica);
    replica_admin_->set_deadline(absl::InfiniteFuture());
    ASSERT_TRUE(replica_admin_
                    ->Command({"REPLICAOF", "127.0.0.1",
                               absl::StrCat(master_->port())})
                    .ok());
    admin_ = std::make_unique<RedisConnection>(Options(0));
    admin_->set_deadline(absl::InfiniteFuture());
    // Sync at once (not after the default 5 s diskless delay), and load the
    // scripts so that WAITs are counted without NOSCRIPT round trips.
    ASSERT_TRUE(
        admin_->Command({"CONFIG", "SET", "repl-diskless-sync-delay", "0"})
            .ok());
    for (const LuaScript* script : {&kWrite, &kRead, &kRefuse, &kBatchWrite}) {
      ASSERT_TRUE(admin_->Command({"SCRIPT", "LOAD", script->body()}).ok());
    }
    // In sync once a WAIT for one replica is met.
    for (int i = 0; i < 200; ++i) {
      absl::StatusOr<RedisReply> synced = admin_->Command({"WAIT", "1", "50"});
      ASSERT_TRUE(synced.ok()) << synced.status();
      if (synced->integer == 1) return;
      absl::SleepFor(absl::Milliseconds(50));
    }
    FAIL() << "the replica never synced";
  }

  // `wait_timeout` long enough for a replica's acknowledgement on a
  // loaded machine, unless a test wants the shortfall quickly.
  RedisOptions Options(int wait_replicas,
                       absl::Duration wait_timeout = absl::Seconds(2)) {
    RedisOptions options;
    options.address = master_->address();
    options.command_timeout = absl::Seconds(5);
    options.wait_replicas = wait_replicas;
    options.wait_timeout = wait_timeout;
    return options;
  }

  // Runs `script` on `key` through a RedisEventLoop and returns its answer.
  static absl::StatusOr<RedisReply> LoopEval(RedisEventLoop& loop,
                                             const LuaScript& script,
                                             const std::string& key) {
    absl::StatusOr<RedisReply> answer = absl::UnknownError("no answer");
    absl::Notification done;
    loop.Eval(script, {key}, {}, absl::Now() + absl::Seconds(5),
              [&](absl::StatusOr<RedisReply> reply) {
                answer = std::move(reply);
                done.Notify();
              });
    done.WaitForNotification();
    return answer;
  }

  std::unique_ptr<RedisServer> master_;
  std::unique_ptr<RedisServer> replica_;
  std::unique_ptr<RedisConnection> admin_;
  std::unique_ptr<RedisConnection> replica_admin_;
  const std::string key_ = "th:{wait}:counter";
};

TEST_F(ReplicaWaitTest, ConfirmedWritesAreOnTheReplicaWhenAcknowledged) {
  RedisConnection redis(Options(1));
  redis.set_deadline(absl::Now() + absl::Seconds(5));
  const int64_t waits_before = CommandCalls(*admin_, "wait");
  for (int i = 1; i <= 20; ++i) {
    absl::StatusOr<RedisReply> reply = redis.Eval(kWrite, {key_}, {});
    ASSERT_TRUE(reply.ok()) << reply.status();
    // WAIT returned: the replica has this write, with no sleep.
    absl::StatusOr<RedisReply> on_replica = replica_admin_->Command({"GET", key_});
    ASSERT_TRUE(on_replica.ok());
    EXPECT_EQ(on_replica->str, absl::StrCat(i));
  }
  ASSERT_TRUE(redis.Command({"SET", key_ + ":plain", "v"}).ok());
  EXPECT_EQ(replica_admin_->Command({"GET", key_ + ":plain"})->str, "v");
  // Reads and read-only scripts send no WAIT.
  ASSERT_TRUE(redis.Command({"GET", key_}).ok());
  ASSERT_TRUE(redis.Eval(kRead, {key_}, {}).ok());
  EXPECT_EQ(CommandCalls(*admin_, "wait") - waits_before, 21)
      << "one WAIT per write (20 scripts, 1 SET), none for reads";
}

TEST_F(ReplicaWaitTest, TooFewReplicasIsUnavailableButReadsGoOn) {
  // There is one replica; 200 ms to find out.
  RedisConnection redis(Options(2, absl::Milliseconds(200)));
  redis.set_deadline(absl::Now() + absl::Seconds(5));
  absl::StatusOr<RedisReply> write = redis.Eval(kWrite, {key_}, {});
  EXPECT_EQ(write.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(write.status().message(), "of 2 replicas"))
      << write.status();
  EXPECT_EQ(redis.Command({"SET", key_, "9"}).status().code(),
            absl::StatusCode::kUnavailable);
  // The refused call may have written (WAIT does not undo): a retry with
  // the same request id is what makes that safe; reads are unaffected.
  EXPECT_TRUE(redis.Eval(kRead, {key_}, {}).ok());
  EXPECT_TRUE(redis.Command({"GET", key_}).ok());
  EXPECT_EQ(redis.Eval(kRefuse, {key_}, {}).status().code(),
            absl::StatusCode::kNotFound)
      << "a refused script wrote nothing: its own error, not UNAVAILABLE";
}

TEST_F(ReplicaWaitTest, AFrozenReplicaFailsWritesWithinTheWaitTimeout) {
  RedisOptions options = Options(1, absl::Milliseconds(200));
  options.command_timeout = absl::Seconds(30);
  RedisConnection redis(options);
  replica_->Pause();
  redis.set_deadline(absl::Now() + absl::Seconds(30));
  absl::Time start = absl::Now();
  absl::StatusOr<RedisReply> write = redis.Eval(kWrite, {key_}, {});
  absl::Duration took = absl::Now() - start;
  replica_->Resume();
  EXPECT_EQ(write.status().code(), absl::StatusCode::kUnavailable)
      << write.status();
  // Bounded by --redis_wait_timeout (200 ms), not by the 30 s deadline
  // (a wide margin: this is not a speed test).
  EXPECT_LT(took, absl::Seconds(15));
}

TEST_F(ReplicaWaitTest, EventLoopConfirmsScriptsAndBatches) {
  RedisEventLoop confirmed(Options(1));
  const int64_t waits_before = CommandCalls(*admin_, "wait");
  for (int i = 1; i <= 5; ++i) {
    absl::StatusOr<RedisReply> reply = LoopEval(confirmed, kWrite, key_);
    ASSERT_TRUE(reply.ok()) << reply.status();
    EXPECT_EQ(replica_admin_->Command({"GET", key_})->str, absl::StrCat(i));
  }
  EXPECT_TRUE(LoopEval(confirmed, kRead, key_).ok());
  EXPECT_EQ(CommandCalls(*admin_, "wait") - waits_before, 5);

  // A batch is one write: one WAIT answers all its calls.
  constexpr int kCalls = 50;
  absl::BlockingCounter answered(kCalls);
  std::vector<absl::StatusOr<RedisReply>> replies(kCalls);
  for (int i = 0; i < kCalls; ++i) {
    confirmed.EvalBatched(kBatchWrite, key_ + ":batch", {"x"},
                          absl::Now() + absl::Seconds(5),
                          [&, i](absl::StatusOr<RedisReply> reply) {
                            replies[i] = std::move(reply);
                            answered.DecrementCount();
                          });
  }
  answered.Wait();
  for (const auto& reply : replies) ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(replica_admin_->Command({"GET", key_ + ":batch"})->str,
            absl::StrCat(kCalls));

  // Writes sent in one turn of the loop share one WAIT: concurrent calls
  // (not batched) are all confirmed with at most one WAIT each.
  const int64_t waits_before_concurrent = CommandCalls(*admin_, "wait");
  absl::BlockingCounter concurrent(kCalls);
  std::vector<absl::StatusOr<RedisReply>> writes(kCalls);
  for (int i = 0; i < kCalls; ++i) {
    confirmed.Eval(kWrite, {key_ + ":concurrent"}, {},
                   absl::Now() + absl::Seconds(5),
                   [&, i](absl::StatusOr<RedisReply> reply) {
                     writes[i] = std::move(reply);
                     concurrent.DecrementCount();
                   });
  }
  concurrent.Wait();
  for (const auto& reply : writes) ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(replica_admin_->Command({"GET", key_ + ":concurrent"})->str,
            absl::StrCat(kCalls));
  const int64_t concurrent_waits =
      CommandCalls(*admin_, "wait") - waits_before_concurrent;
  std::cout << "replica_wait: " << kCalls << " concurrent writes, "
            << concurrent_waits << " WAITs\n";
  EXPECT_GE(concurrent_waits, 1);
  EXPECT_LE(concurrent_waits, kCalls);

  RedisEventLoop too_many(Options(2, absl::Milliseconds(200)));
  absl::StatusOr<RedisReply> refused = LoopEval(too_many, kWrite, key_);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "of 2 replicas"))
      << refused.status();
  EXPECT_TRUE(LoopEval(too_many, kRead, key_).ok());
  EXPECT_EQ(LoopEval(too_many, kRefuse, key_).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace townhall
