// RedisEventLoop::EvalBatched against a real Redis of the test's own (its
// tests stall Redis with DEBUG SLEEP to hold a batch in flight).
#include "services/common/redis/redis_event_loop.h"

#include <algorithm>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/redis_server.h"

namespace townhall {
namespace {

using ::testing::ElementsAreArray;

// Takes calls of one arg; answers each with {its arg, the batch's size,
// KEYS[1]}.
const LuaScript kEchoScript("echo", R"lua(
local replies = {}
for i = 1, #ARGV do replies[i] = {ARGV[i], #ARGV, KEYS[1]} end
return replies
)lua");

// Refuses the whole batch.
const LuaScript kFailingScript(
    "failing", "return redis.error_reply('TH:NOT_FOUND:no such thing')");

// Answers one reply too few.
const LuaScript kShortScript("short", R"lua(
local replies = {}
for i = 2, #ARGV do replies[#replies + 1] = {ARGV[i]} end
return replies
)lua");

struct Outcome {
  absl::StatusOr<RedisReply> reply = absl::UnknownError("no reply");
};

class EvalBatchedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto redis = testing::RedisServer::Start();
    ASSERT_TRUE(redis.ok()) << redis.status();
    redis_ = std::move(*redis);
    loop_ = std::make_unique<RedisEventLoop>(RedisOptions{
        .address = redis_->address(), .command_timeout = absl::Seconds(5)});
  }

  // Holds Redis busy for `seconds` from another connection.
  std::thread StallRedis(double seconds) {
    std::thread sleeper([address = redis_->address(), seconds] {
      RedisConnection raw(
          {.address = address, .command_timeout = absl::Seconds(10)});
      raw.set_deadline(absl::Now() + absl::Seconds(10));
      (void)raw.Command({"DEBUG", "SLEEP", absl::StrCat(seconds)});
    });
    // Returns once Redis has stopped answering (a loaded machine may take
    // a while to start the sleep).
    RedisConnection probe({.address = redis_->address(),
                           .command_timeout = absl::Milliseconds(50)});
    for (int i = 0; i < 200; ++i) {
      probe.set_deadline(absl::Now() + absl::Milliseconds(50));
      if (!probe.Command({"PING"}).ok()) break;
      absl::SleepFor(absl::Milliseconds(5));
    }
    return sleeper;
  }

  // Calls under way, answered into `outcomes`.
  struct Calls {
    explicit Calls(int n) : outcomes(n), answered(n) {}
    std::vector<Outcome> outcomes;
    absl::BlockingCounter answered;
    std::vector<Outcome>& Wait() {
      answered.Wait();
      return outcomes;
    }
  };

  // Sends call i of `script` with args[i] on keys[i] (or on keys[0] for
  // all), without waiting.
  std::unique_ptr<Calls> Start(const LuaScript& script,
                               const std::vector<std::string>& keys,
                               const std::vector<std::string>& args,
                               absl::Duration timeout = absl::Seconds(5)) {
    auto calls = std::make_unique<Calls>(static_cast<int>(args.size()));
    for (size_t i = 0; i < args.size(); ++i) {
      loop_->EvalBatched(
          script, keys.size() == 1 ? keys[0] : keys[i], {args[i]},
          absl::Now() + timeout,
          [calls = calls.get(), i](absl::StatusOr<RedisReply> reply) {
            calls->outcomes[i].reply = std::move(reply);
            calls->answered.DecrementCount();
          });
    }
    return calls;
  }

  // Sends `args.size()` calls of `script` on `key` at once and waits for
  // every answer.
  std::vector<Outcome> EvalAll(const LuaScript& script, const std::string& key,
                               const std::vector<std::string>& args,
                               absl::Duration timeout = absl::Seconds(5)) {
    return Start(script, {key}, args, timeout)->Wait();
  }

  std::unique_ptr<testing::RedisServer> redis_;
  std::unique_ptr<RedisEventLoop> loop_;
};

std::vector<std::string> Args(int n, absl::string_view prefix = "call-") {
  std::vector<std::string> args;
  for (int i = 0; i < n; ++i) args.push_back(absl::StrCat(prefix, i));
  return args;
}

TEST_F(EvalBatchedTest, IdleLoopSendsACallAlone) {
  std::vector<Outcome> outcomes = EvalAll(kEchoScript, "k", {"only"});
  ASSERT_TRUE(outcomes[0].reply.ok()) << outcomes[0].reply.status();
  const RedisReply& reply = *outcomes[0].reply;
  ASSERT_EQ(reply.elements.size(), 3);
  EXPECT_EQ(reply.elements[0].str, "only");
  EXPECT_EQ(reply.elements[1].integer, 1);
  EXPECT_EQ(reply.elements[2].str, "k");
}

// While one batch is in flight (Redis stalled), the calls that arrive wait
// and then go together; each gets its own reply.
TEST_F(EvalBatchedTest, CallsWaitingForABatchGoTogether) {
  // Long enough that all 50 calls are queued before Redis answers, even
  // under the sanitizers on a loaded machine (0.5 s was not).
  std::thread sleeper = StallRedis(2.0);
  std::vector<std::string> args = Args(50);
  std::vector<Outcome> outcomes = EvalAll(kEchoScript, "k", args);
  sleeper.join();
  std::vector<std::string> echoed;
  std::vector<int64_t> batch_sizes;
  for (const Outcome& outcome : outcomes) {
    ASSERT_TRUE(outcome.reply.ok()) << outcome.reply.status();
    ASSERT_EQ(outcome.reply->elements.size(), 3);
    echoed.push_back(outcome.reply->elements[0].str);
    batch_sizes.push_back(outcome.reply->elements[1].integer);
  }
  EXPECT_THAT(echoed, ElementsAreArray(args));
  // The first call may go alone; the others waited for it and went in
  // shared batches. On a loaded machine the callers may reach the loop
  // across two in-flight batches, so count calls that shared one rather
  // than demand one big batch (26 + 23 + 1 was seen).
  int64_t calls_that_shared =
      absl::c_count_if(batch_sizes, [](int64_t size) { return size > 1; });
  EXPECT_GE(calls_that_shared, 40);
}

TEST_F(EvalBatchedTest, BatchesHoldAtMostMaxBatchCalls) {
  std::thread sleeper = StallRedis(0.5);
  int calls = static_cast<int>(RedisEventLoop::kMaxBatchCalls) * 2 + 10;
  std::vector<Outcome> outcomes = EvalAll(kEchoScript, "k", Args(calls));
  sleeper.join();
  for (const Outcome& outcome : outcomes) {
    ASSERT_TRUE(outcome.reply.ok()) << outcome.reply.status();
    EXPECT_LE(outcome.reply->elements[1].integer,
              static_cast<int64_t>(RedisEventLoop::kMaxBatchCalls));
  }
}

// Calls on different keys (Cluster slots) never share a batch.
TEST_F(EvalBatchedTest, DifferentKeysAreDifferentBatches) {
  std::thread sleeper = StallRedis(0.3);
  std::vector<std::string> keys;
  for (int i = 0; i < 20; ++i) keys.push_back(i % 2 == 0 ? "even" : "odd");
  std::vector<Outcome> outcomes =
      Start(kEchoScript, keys, Args(20, ""))->Wait();
  sleeper.join();
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(outcomes[i].reply.ok()) << outcomes[i].reply.status();
    EXPECT_EQ(outcomes[i].reply->elements[0].str, absl::StrCat(i));
    EXPECT_EQ(outcomes[i].reply->elements[2].str, i % 2 == 0 ? "even" : "odd");
    EXPECT_LE(outcomes[i].reply->elements[1].integer, 10);
  }
}

TEST_F(EvalBatchedTest, AScriptErrorIsEveryCallsError) {
  std::thread sleeper = StallRedis(0.3);
  std::vector<Outcome> outcomes = EvalAll(kFailingScript, "k", Args(10));
  sleeper.join();
  for (const Outcome& outcome : outcomes) {
    EXPECT_EQ(outcome.reply.status().code(), absl::StatusCode::kNotFound)
        << outcome.reply.status();
    EXPECT_EQ(outcome.reply.status().message(), "no such thing");
  }
}

TEST_F(EvalBatchedTest, AReplyOfTheWrongSizeIsInternal) {
  std::vector<Outcome> outcomes = EvalAll(kShortScript, "k", {"a"});
  EXPECT_EQ(outcomes[0].reply.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(outcomes[0].reply.status().message(),
              ::testing::HasSubstr("short"));
}

// After SCRIPT FLUSH the batch goes again as EVAL, once, with every call.
TEST_F(EvalBatchedTest, NoScriptFallsBackToEval) {
  EXPECT_TRUE(EvalAll(kEchoScript, "k", {"warm"})[0].reply.ok());
  RedisConnection raw({.address = redis_->address()});
  raw.set_deadline(absl::Now() + absl::Seconds(5));
  ASSERT_TRUE(raw.Command({"SCRIPT", "FLUSH"}).ok());
  ASSERT_TRUE(raw.Command({"CONFIG", "RESETSTAT"}).ok());
  std::vector<std::string> args = Args(5);
  std::vector<Outcome> outcomes = EvalAll(kEchoScript, "k", args);
  for (size_t i = 0; i < args.size(); ++i) {
    ASSERT_TRUE(outcomes[i].reply.ok()) << outcomes[i].reply.status();
    EXPECT_EQ(outcomes[i].reply->elements[0].str, args[i]);
  }
  auto stats = raw.Command({"INFO", "commandstats"});
  ASSERT_TRUE(stats.ok());
  EXPECT_THAT(stats->str, ::testing::HasSubstr("cmdstat_eval:calls="));
}

// A call whose deadline passes while it waits for its turn fails with
// DEADLINE_EXCEEDED and is never sent; later calls go through.
TEST_F(EvalBatchedTest, WaitingCallsExpireUnsent) {
  std::thread sleeper = StallRedis(1.0);
  // Batches in flight first (as many as may be), with long deadlines.
  constexpr int kInFlight = RedisEventLoop::kMaxBatchesInFlight;
  std::vector<Outcome> slow(kInFlight);
  absl::BlockingCounter slow_answered(kInFlight);
  for (int i = 0; i < kInFlight; ++i) {
    loop_->EvalBatched(kEchoScript, "k", {absl::StrCat("first-", i)},
                       absl::Now() + absl::Seconds(5),
                       [&, i](absl::StatusOr<RedisReply> reply) {
                         slow[i].reply = std::move(reply);
                         slow_answered.DecrementCount();
                       });
    absl::SleepFor(absl::Milliseconds(50));
  }
  std::vector<Outcome> waiting =
      EvalAll(kEchoScript, "k", Args(5), absl::Milliseconds(200));
  for (const Outcome& outcome : waiting) {
    EXPECT_EQ(outcome.reply.status().code(),
              absl::StatusCode::kDeadlineExceeded)
        << outcome.reply.status();
  }
  slow_answered.Wait();
  sleeper.join();
  for (const Outcome& outcome : slow) {
    ASSERT_TRUE(outcome.reply.ok()) << outcome.reply.status();
    EXPECT_EQ(outcome.reply->elements[1].integer, 1)
        << "the expired calls must not have been sent";
  }
  RedisConnection raw({.address = redis_->address()});
  raw.set_deadline(absl::Now() + absl::Seconds(5));
  auto stats = raw.Command({"INFO", "commandstats"});
  ASSERT_TRUE(stats.ok());
  EXPECT_THAT(stats->str, ::testing::HasSubstr(absl::StrCat(
                              "cmdstat_evalsha:calls=", kInFlight, ",")));
  std::vector<Outcome> after = EvalAll(kEchoScript, "k", {"after"});
  ASSERT_TRUE(after[0].reply.ok()) << after[0].reply.status();
  EXPECT_EQ(after[0].reply->elements[0].str, "after");
}

// Redis gone: every call fails UNAVAILABLE, waiting ones too; nothing hangs.
TEST_F(EvalBatchedTest, LostRedisFailsEveryCall) {
  std::thread sleeper = StallRedis(0.3);
  std::unique_ptr<Calls> calls = Start(kEchoScript, {"k"}, Args(10));
  absl::SleepFor(absl::Milliseconds(50));
  redis_->Stop();
  std::vector<Outcome>& outcomes = calls->Wait();
  sleeper.join();
  for (const Outcome& outcome : outcomes) {
    EXPECT_EQ(outcome.reply.status().code(), absl::StatusCode::kUnavailable)
        << outcome.reply.status();
  }
}

// Destroying the loop answers the calls that wait.
TEST_F(EvalBatchedTest, ShutdownAnswersWaitingCalls) {
  std::thread sleeper = StallRedis(0.5);
  std::unique_ptr<Calls> calls = Start(kEchoScript, {"k"}, Args(10));
  absl::SleepFor(absl::Milliseconds(50));
  loop_.reset();
  std::vector<Outcome>& outcomes = calls->Wait();
  sleeper.join();
  for (const Outcome& outcome : outcomes) {
    EXPECT_EQ(outcome.reply.status().code(), absl::StatusCode::kUnavailable)
        << outcome.reply.status();
  }
}

}  // namespace
}  // namespace townhall
