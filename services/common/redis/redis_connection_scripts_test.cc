// Scripts on a RedisConnection: EVALSHA with the NOSCRIPT fallback, script
// hashes, and script errors mapped to status codes.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/common/redis/lua_script.h"
#include "services/common/redis/redis_connection.h"
#include "services/common/redis/redis_test_support.h"

namespace townhall {
namespace {

using ::townhall::testing::CommandCalls;
using ::townhall::testing::OptionsFor;
using ::townhall::testing::Prefix;
using ::townhall::testing::RedisServer;
using ::townhall::testing::SharedRedisAddress;
using ::townhall::testing::StartPrivateRedis;

// ------------------------------------------------------------------ Scripts

TEST(RedisConnection, EvalUsesEvalshaAndFallsBackOnNoscript) {
  std::unique_ptr<RedisServer> server = StartPrivateRedis();
  ASSERT_NE(server, nullptr);
  RedisConnection redis(OptionsFor(server->address()));
  RedisConnection admin(OptionsFor(server->address()));
  LuaScript script("test_echo_keys",
                   "return {KEYS[1], ARGV[1], #KEYS, #ARGV, 'nonce-7f3a'}");
  ASSERT_EQ(script.sha1().size(), 40u);
  ASSERT_TRUE(admin.Command({"SCRIPT", "FLUSH"}).ok());
  ASSERT_TRUE(admin.Command({"CONFIG", "RESETSTAT"}).ok());

  auto expect_reply = [&](const absl::StatusOr<RedisReply>& reply) {
    ASSERT_TRUE(reply.ok()) << reply.status();
    ASSERT_TRUE(reply->is_array());
    ASSERT_EQ(reply->elements.size(), 5u);
    EXPECT_EQ(reply->elements[0].str, std::string("k\0ey", 4));
    EXPECT_EQ(reply->elements[1].str, "arg");
    EXPECT_EQ(reply->elements[2].integer, 1);
    EXPECT_EQ(reply->elements[3].integer, 2);
  };
  const std::vector<std::string> keys = {std::string("k\0ey", 4)};
  const std::vector<std::string> args = {"arg", "second"};

  // First call: EVALSHA answers NOSCRIPT, EVAL loads and runs it.
  expect_reply(redis.Eval(script, keys, args));
  EXPECT_EQ(CommandCalls(admin, "evalsha"), 1);
  EXPECT_EQ(CommandCalls(admin, "eval"), 1);
  absl::StatusOr<RedisReply> exists =
      admin.Command({"SCRIPT", "EXISTS", script.sha1()});
  ASSERT_TRUE(exists.ok());
  ASSERT_EQ(exists->elements.size(), 1u);
  EXPECT_EQ(exists->elements[0].integer, 1)
      << "EVAL must have cached the script";

  // Second call: EVALSHA only.
  expect_reply(redis.Eval(script, keys, args));
  EXPECT_EQ(CommandCalls(admin, "evalsha"), 2);
  EXPECT_EQ(CommandCalls(admin, "eval"), 1);

  // After SCRIPT FLUSH (as after a Redis restart), the fallback again.
  ASSERT_TRUE(admin.Command({"SCRIPT", "FLUSH"}).ok());
  expect_reply(redis.Eval(script, keys, args));
  EXPECT_EQ(CommandCalls(admin, "evalsha"), 3);
  EXPECT_EQ(CommandCalls(admin, "eval"), 2);
  exists = admin.Command({"SCRIPT", "EXISTS", script.sha1()});
  ASSERT_TRUE(exists.ok());
  EXPECT_EQ(exists->elements[0].integer, 1);
}

TEST(RedisConnection, LuaScriptSha1MatchesRedis) {
  RedisConnection redis(OptionsFor(SharedRedisAddress()));
  LuaScript script("sha", "return 'sha check'");
  absl::StatusOr<RedisReply> loaded =
      redis.Command({"SCRIPT", "LOAD", script.body()});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->str, script.sha1());
  EXPECT_EQ(LuaScript("empty", "").sha1(),
            "da39a3ee5e6b4b0d3255bfef95601890afd80709");
}

TEST(RedisConnection, ScriptErrorsMapToStatusCodes) {
  RedisConnection redis(OptionsFor(SharedRedisAddress()));
  std::string key = Prefix() + "s";

  absl::StatusOr<RedisReply> aborted =
      redis.Eval(LuaScript("abort", "error({err='TH:ABORTED:stale'})"), {}, {});
  ASSERT_FALSE(aborted.ok());
  EXPECT_EQ(aborted.status().code(), absl::StatusCode::kAborted)
      << aborted.status();
  EXPECT_EQ(aborted.status().message(), "stale");

  // Raised from a helper function several lines down (as th_fail does).
  absl::StatusOr<RedisReply> nested = redis.Eval(
      LuaScript("nested",
                "local function fail(code, message)\n"
                "  error({err = 'TH:' .. code .. ':' .. message})\n"
                "end\n"
                "\n"
                "fail('FAILED_PRECONDITION', 'queue closed: ' .. ARGV[1])\n"),
      {}, {"q1"});
  EXPECT_EQ(nested.status().code(), absl::StatusCode::kFailedPrecondition)
      << nested.status();
  EXPECT_EQ(nested.status().message(), "queue closed: q1");

  // The same as a returned error reply, with a message holding colons.
  absl::StatusOr<RedisReply> not_found = redis.Eval(
      LuaScript(
          "nf",
          "return redis.error_reply('TH:NOT_FOUND:session ' .. ARGV[1] .. "
          "': not found')"),
      {}, {"abc"});
  EXPECT_EQ(not_found.status().code(), absl::StatusCode::kNotFound)
      << not_found.status();
  EXPECT_EQ(not_found.status().message(), "session abc: not found");

  // A Lua runtime error is a bug: INTERNAL.
  absl::StatusOr<RedisReply> runtime =
      redis.Eval(LuaScript("npe", "local t = nil\nreturn t.field"), {}, {});
  EXPECT_EQ(runtime.status().code(), absl::StatusCode::kInternal)
      << runtime.status();

  // So is a failing redis.call inside a script.
  ASSERT_TRUE(redis.Command({"SET", key, "not a number"}).ok());
  absl::StatusOr<RedisReply> call = redis.Eval(
      LuaScript("incr", "return redis.call('INCR', KEYS[1])"), {key}, {});
  EXPECT_EQ(call.status().code(), absl::StatusCode::kInternal) << call.status();

  // And a script that does not compile.
  absl::StatusOr<RedisReply> syntax =
      redis.Eval(LuaScript("syntax", "return (("), {}, {});
  EXPECT_EQ(syntax.status().code(), absl::StatusCode::kInternal)
      << syntax.status();

  // The connection is still usable, and results pass through.
  absl::StatusOr<RedisReply> ok = redis.Eval(
      LuaScript("ok", "return redis.call('GET', KEYS[1])"), {key}, {});
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->str, "not a number");
  redis.Command({"DEL", key}).IgnoreError();
}

TEST(ScriptErrorToStatus, ParsesCodeAndMessage) {
  struct Case {
    const char* error;
    absl::StatusCode code;
    const char* message;  // nullptr: do not check
  };
  const Case cases[] = {
      {"TH:NOT_FOUND:session abc not found", absl::StatusCode::kNotFound,
       "session abc not found"},
      {"TH:INVALID_ARGUMENT:title: must not be empty",
       absl::StatusCode::kInvalidArgument, "title: must not be empty"},
      {"TH:ALREADY_EXISTS:x", absl::StatusCode::kAlreadyExists, "x"},
      {"TH:FAILED_PRECONDITION:queue closed",
       absl::StatusCode::kFailedPrecondition, "queue closed"},
      {"TH:ABORTED:stale", absl::StatusCode::kAborted, "stale"},
      {"TH:PERMISSION_DENIED:no", absl::StatusCode::kPermissionDenied, "no"},
      {"TH:RESOURCE_EXHAUSTED:rate", absl::StatusCode::kResourceExhausted,
       "rate"},
      {"TH:OUT_OF_RANGE:trimmed", absl::StatusCode::kOutOfRange, "trimmed"},
      {"TH:ABORTED:", absl::StatusCode::kAborted, ""},
      {"TH:ABORTED", absl::StatusCode::kAborted, ""},
      // Redis may prefix the error with a code of its own.
      {"ERR TH:ABORTED:stale", absl::StatusCode::kAborted, "stale"},
      // Redis 7 appends where error() was raised; clients never see that.
      {"TH:ABORTED:stale script: 8eec131b59535ce278bd7a9c7ee4a4ba0c5b4d34, on "
       "@user_script:1.",
       absl::StatusCode::kAborted, "stale"},
      {"TH:NOT_FOUND:session a: b not found script: "
       "8eec131b59535ce278bd7a9c7ee4a4ba0c5b4d34, on @user_script:27.",
       absl::StatusCode::kNotFound, "session a: b not found"},
      {"TH:ABORTED script: 8eec131b59535ce278bd7a9c7ee4a4ba0c5b4d34, on "
       "@user_script:3.",
       absl::StatusCode::kAborted, ""},
      // Text that merely looks similar is kept.
      {"TH:INVALID_ARGUMENT:title: the script: is long",
       absl::StatusCode::kInvalidArgument, "title: the script: is long"},
      // Unknown, missing and non-error codes are bugs.
      {"TH:BOGUS:x", absl::StatusCode::kInternal, nullptr},
      {"TH:OK:fine", absl::StatusCode::kInternal, nullptr},
      {"TH:INTERNAL:x", absl::StatusCode::kInternal, nullptr},
      {"TH::x", absl::StatusCode::kInternal, nullptr},
      {"TH:", absl::StatusCode::kInternal, nullptr},
      {"th:aborted:lowercase", absl::StatusCode::kInternal, nullptr},
      {"ERR user_script:1: attempt to index a nil value",
       absl::StatusCode::kInternal, nullptr},
      {"", absl::StatusCode::kInternal, nullptr},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.error);
    absl::Status status = ScriptErrorToStatus(c.error);
    EXPECT_EQ(status.code(), c.code) << status;
    if (c.message != nullptr) {
      EXPECT_EQ(status.message(), c.message);
    }
  }
}

}  // namespace
}  // namespace townhall
