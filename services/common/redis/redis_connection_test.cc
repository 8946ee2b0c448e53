// RedisConnection and RedisPool against real Redis servers: replies,
// pipelines, scripts (EVALSHA/NOSCRIPT, error mapping), deadlines, timeouts,
// a Redis that dies and comes back, and the pool's queue.
#include "services/common/redis/redis_connection.h"

#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "services/common/ids.h"
#include "services/common/redis/lua_script.h"
#include "services/common/redis/redis_pool.h"
#include "tests/testing/redis_server.h"

namespace townhall {
namespace {

using ::townhall::testing::PickFreePort;
using ::townhall::testing::RedisServer;
using ::townhall::testing::SharedRedisAddress;

// hiredis 0.14 writes with write(2); a killed Redis must not kill the test
// (townhalld does the same in RunServerMain).
const bool kSigpipeIgnored = [] {
  signal(SIGPIPE, SIG_IGN);
  return true;
}();

RedisOptions OptionsFor(const std::string& address) {
  RedisOptions options;
  options.address = address;
  options.command_timeout = absl::Seconds(2);
  return options;
}

// A key prefix of its own, so that tests sharing a Redis never collide.
std::string Prefix() { return absl::StrCat("th:{test:", NewId(), "}:"); }

std::unique_ptr<RedisServer> StartPrivateRedis() {
  absl::StatusOr<std::unique_ptr<RedisServer>> server = RedisServer::Start();
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? *std::move(server) : nullptr;
}

// The `calls` count of `command` in INFO commandstats (0 if never called).
int64_t CommandCalls(RedisConnection& redis, const std::string& command) {
  absl::StatusOr<RedisReply> info = redis.Command({"INFO", "commandstats"});
  EXPECT_TRUE(info.ok()) << info.status();
  if (!info.ok()) return -1;
  std::string prefix = absl::StrCat("cmdstat_", command, ":calls=");
  for (absl::string_view line : absl::StrSplit(info->str, "\r\n")) {
    if (!absl::ConsumePrefix(&line, prefix)) continue;
    int64_t calls = 0;
    EXPECT_TRUE(absl::SimpleAtoi(line.substr(0, line.find(',')), &calls))
        << line;
    return calls;
  }
  return 0;
}

// ------------------------------------------------------ Commands, pipelines

TEST(RedisConnection, CommandRoundTripIsBinarySafe) {
  RedisConnection redis(OptionsFor(SharedRedisAddress()));
  std::string key = Prefix() + "bin";
  const std::string value("a\0b\r\n\xff\x00z", 8);
  ASSERT_EQ(value.size(), 8u);

  absl::StatusOr<RedisReply> set = redis.Command({"SET", key, value});
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->type, RedisReply::Type::kStatus);
  EXPECT_EQ(set->str, "OK");

  absl::StatusOr<RedisReply> get = redis.Command({"GET", key});
  ASSERT_TRUE(get.ok()) << get.status();
  EXPECT_EQ(get->type, RedisReply::Type::kString);
  EXPECT_EQ(get->str, value);
  EXPECT_EQ(*get->AsString(), value);

  // A key name with \0 in it is a different key.
  std::string odd_key = key + std::string("\0x", 2);
  ASSERT_TRUE(redis.Command({"SET", odd_key, "other"}).ok());
  EXPECT_EQ(redis.Command({"GET", key})->str, value);
  EXPECT_EQ(redis.Command({"GET", odd_key})->str, "other");

  absl::StatusOr<RedisReply> missing =
      redis.Command({"GET", Prefix() + "missing"});
  ASSERT_TRUE(missing.ok());
  EXPECT_TRUE(missing->is_nil());

  absl::StatusOr<RedisReply> incr = redis.Command({"INCRBY", key + ":n", "41"});
  ASSERT_TRUE(incr.ok());
  EXPECT_EQ(incr->type, RedisReply::Type::kInteger);
  EXPECT_EQ(*incr->AsInteger(), 41);
  EXPECT_EQ(*redis.Command({"GET", key + ":n"})->AsInteger(), 41);  // bulk "41"

  // A Redis error reply is a value, not a failed status.
  absl::StatusOr<RedisReply> wrong = redis.Command({"INCR", key});
  ASSERT_TRUE(wrong.ok()) << wrong.status();
  EXPECT_EQ(wrong->type, RedisReply::Type::kError);
  EXPECT_TRUE(absl::StartsWith(wrong->str, "ERR")) << wrong->str;
  EXPECT_FALSE(wrong->AsInteger().ok());
  EXPECT_FALSE(wrong->AsString().ok());

  // Empty strings are values too.
  ASSERT_TRUE(redis.Command({"SET", key + ":empty", ""}).ok());
  absl::StatusOr<RedisReply> empty = redis.Command({"GET", key + ":empty"});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->type, RedisReply::Type::kString);
  EXPECT_EQ(empty->str, "");

  redis.Command({"DEL", key, odd_key, key + ":n", key + ":empty"})
      .IgnoreError();
}

TEST(RedisConnection, PipelineReturnsRepliesInOrder) {
  RedisConnection redis(OptionsFor(SharedRedisAddress()));
  std::string p = Prefix();
  const std::string binary("\0\x01\x02\xfe", 4);
  std::vector<std::vector<std::string>> commands = {
      {"SET", p + "a", binary},
      {"RPUSH", p + "l", "x", std::string("y\0y", 3), "z"},
      {"GET", p + "a"},
      {"LRANGE", p + "l", "0", "-1"},
      {"HSET", p + "a", "f", "v"},  // WRONGTYPE: an error value in place
      {"GET", p + "none"},
      {"INCR", p + "n"},
  };
  absl::StatusOr<std::vector<RedisReply>> replies = redis.Pipeline(commands);
  ASSERT_TRUE(replies.ok()) << replies.status();
  ASSERT_EQ(replies->size(), commands.size());
  EXPECT_EQ((*replies)[0].str, "OK");
  EXPECT_EQ((*replies)[1].integer, 3);
  EXPECT_EQ((*replies)[2].str, binary);
  ASSERT_TRUE((*replies)[3].is_array());
  ASSERT_EQ((*replies)[3].elements.size(), 3u);
  EXPECT_EQ((*replies)[3].elements[0].str, "x");
  EXPECT_EQ((*replies)[3].elements[1].str, std::string("y\0y", 3));
  EXPECT_EQ((*replies)[3].elements[2].str, "z");
  EXPECT_EQ((*replies)[4].type, RedisReply::Type::kError);
  EXPECT_TRUE(absl::StartsWith((*replies)[4].str, "WRONGTYPE"))
      << (*replies)[4].str;
  EXPECT_TRUE((*replies)[5].is_nil());
  EXPECT_EQ((*replies)[6].integer, 1);

  // The connection is in sync afterwards.
  absl::StatusOr<RedisReply> echo = redis.Command({"ECHO", "in-sync"});
  ASSERT_TRUE(echo.ok());
  EXPECT_EQ(echo->str, "in-sync");

  // A large pipeline (bigger than socket buffers) works in one call.
  std::vector<std::vector<std::string>> many;
  for (int i = 0; i < 2000; ++i) {
    many.push_back({"SET", absl::StrCat(p, "k", i), std::string(100, 'v')});
  }
  many.push_back({"DBSIZE"});
  absl::StatusOr<std::vector<RedisReply>> big = redis.Pipeline(many);
  ASSERT_TRUE(big.ok()) << big.status();
  EXPECT_EQ(big->size(), many.size());
  EXPECT_EQ(big->back().type, RedisReply::Type::kInteger);

  std::vector<std::vector<std::string>> cleanup;
  for (int i = 0; i < 2000; ++i)
    cleanup.push_back({"DEL", absl::StrCat(p, "k", i)});
  cleanup.push_back({"DEL", p + "a", p + "l", p + "n"});
  EXPECT_TRUE(redis.Pipeline(cleanup).ok());
}

TEST(RedisConnection, BadAddressIsInvalidArgument) {
  RedisConnection redis(OptionsFor("no-port-here"));
  EXPECT_EQ(redis.Command({"PING"}).status().code(),
            absl::StatusCode::kInvalidArgument);
  RedisConnection redis2(OptionsFor("127.0.0.1:http"));
  EXPECT_EQ(redis2.Command({"PING"}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

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

// ------------------------------------------------- Deadlines and timeouts

TEST(RedisConnection, PastDeadlineFailsWithoutTouchingRedis) {
  // Nothing listens on this port: any attempt to connect would fail with
  // UNAVAILABLE instead.
  RedisConnection nowhere(
      OptionsFor(absl::StrCat("127.0.0.1:", PickFreePort())));
  nowhere.set_deadline(absl::Now() - absl::Milliseconds(1));
  EXPECT_EQ(nowhere.Command({"PING"}).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(nowhere.Pipeline({{"PING"}}).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(nowhere.Eval(LuaScript("x", "return 1"), {}, {}).status().code(),
            absl::StatusCode::kDeadlineExceeded);

  // On a live connection: nothing is sent, and the connection is kept.
  RedisConnection redis(OptionsFor(SharedRedisAddress()));
  std::string key = Prefix() + "deadline";
  absl::StatusOr<RedisReply> id = redis.Command({"CLIENT", "ID"});
  ASSERT_TRUE(id.ok()) << id.status();
  redis.set_deadline(absl::Now() - absl::Seconds(1));
  EXPECT_EQ(redis.Command({"SET", key, "written"}).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  redis.set_deadline(absl::InfiniteFuture());
  absl::StatusOr<RedisReply> get = redis.Command({"GET", key});
  ASSERT_TRUE(get.ok());
  EXPECT_TRUE(get->is_nil()) << "a command past its deadline must not run";
  absl::StatusOr<RedisReply> same_id = redis.Command({"CLIENT", "ID"});
  ASSERT_TRUE(same_id.ok());
  EXPECT_EQ(same_id->integer, id->integer)
      << "the connection must not be dropped";
}

TEST(RedisConnection, DeadlineShorterThanCommandTimeoutWins) {
  std::unique_ptr<RedisServer> server = StartPrivateRedis();
  ASSERT_NE(server, nullptr);
  RedisOptions options = OptionsFor(server->address());
  options.command_timeout = absl::Seconds(5);
  RedisConnection redis(options);
  ASSERT_TRUE(redis.Command({"PING"}).ok());
  absl::Time start = absl::Now();
  redis.set_deadline(start + absl::Milliseconds(150));
  absl::StatusOr<RedisReply> slow = redis.Command({"DEBUG", "SLEEP", "0.6"});
  absl::Duration took = absl::Now() - start;
  ASSERT_FALSE(slow.ok());
  EXPECT_EQ(slow.status().code(), absl::StatusCode::kDeadlineExceeded)
      << slow.status();
  EXPECT_LT(took, absl::Milliseconds(450));
  EXPECT_GE(took, absl::Milliseconds(100));
}

TEST(RedisConnection, TimedOutCommandNeverDeliversItsLateReply) {
  std::unique_ptr<RedisServer> server = StartPrivateRedis();
  ASSERT_NE(server, nullptr);
  RedisOptions options = OptionsFor(server->address());
  options.command_timeout = absl::Milliseconds(200);
  RedisConnection redis(options);
  ASSERT_TRUE(redis.Command({"PING"}).ok());

  absl::Time start = absl::Now();
  absl::StatusOr<RedisReply> slow = redis.Command({"DEBUG", "SLEEP", "1"});
  absl::Duration took = absl::Now() - start;
  ASSERT_FALSE(slow.ok()) << "DEBUG SLEEP 1 must time out after 200ms";
  EXPECT_TRUE(slow.status().code() == absl::StatusCode::kUnavailable ||
              slow.status().code() == absl::StatusCode::kDeadlineExceeded)
      << slow.status();
  EXPECT_LT(took, absl::Milliseconds(700));

  // Let Redis finish sleeping and send its late "+OK".
  absl::SleepFor(absl::Seconds(1) - took + absl::Milliseconds(150));

  // The next command on the same RedisConnection gets its own reply, not
  // the "+OK" of DEBUG SLEEP.
  absl::StatusOr<RedisReply> echo = redis.Command({"ECHO", "fresh-reply"});
  ASSERT_TRUE(echo.ok()) << echo.status();
  EXPECT_EQ(echo->type, RedisReply::Type::kString);
  EXPECT_EQ(echo->str, "fresh-reply");
  absl::StatusOr<std::vector<RedisReply>> replies =
      redis.Pipeline({{"ECHO", "one"}, {"ECHO", "two"}});
  ASSERT_TRUE(replies.ok()) << replies.status();
  EXPECT_EQ((*replies)[0].str, "one");
  EXPECT_EQ((*replies)[1].str, "two");
}

TEST(RedisConnection, TimedOutPipelineDoesNotDesyncTheConnection) {
  std::unique_ptr<RedisServer> server = StartPrivateRedis();
  ASSERT_NE(server, nullptr);
  RedisOptions options = OptionsFor(server->address());
  options.command_timeout = absl::Milliseconds(150);
  RedisConnection redis(options);
  // The first reply arrives in time, the second one does not.
  absl::StatusOr<std::vector<RedisReply>> replies = redis.Pipeline(
      {{"ECHO", "early"}, {"DEBUG", "SLEEP", "0.5"}, {"ECHO", "late"}});
  ASSERT_FALSE(replies.ok());
  absl::SleepFor(absl::Milliseconds(600));
  absl::StatusOr<RedisReply> echo = redis.Command({"ECHO", "mine"});
  ASSERT_TRUE(echo.ok()) << echo.status();
  EXPECT_EQ(echo->str, "mine");
}

TEST(RedisConnection, RedisDownIsUnavailableQuicklyAndReconnects) {
  std::unique_ptr<RedisServer> server = StartPrivateRedis();
  ASSERT_NE(server, nullptr);
  RedisOptions options = OptionsFor(server->address());
  options.command_timeout = absl::Seconds(2);
  RedisConnection redis(options);
  std::string key = Prefix() + "k";
  ASSERT_TRUE(redis.Command({"SET", key, "before"}).ok());

  server->Stop();
  for (int i = 0; i < 5; ++i) {
    absl::Time start = absl::Now();
    absl::StatusOr<RedisReply> down = redis.Command({"GET", key});
    ASSERT_FALSE(down.ok());
    EXPECT_EQ(down.status().code(), absl::StatusCode::kUnavailable)
        << down.status();
    EXPECT_LT(absl::Now() - start, absl::Milliseconds(500)) << "must fail fast";
  }
  EXPECT_EQ(redis.Eval(LuaScript("x", "return 1"), {}, {}).status().code(),
            absl::StatusCode::kUnavailable);

  ASSERT_TRUE(server->Restart().ok());
  // Past the reconnect back-off, the same connection works again.
  absl::SleepFor(absl::Milliseconds(100));
  absl::StatusOr<RedisReply> echo = redis.Command({"ECHO", "back"});
  ASSERT_TRUE(echo.ok()) << echo.status();
  EXPECT_EQ(echo->str, "back");
  // Scripts are gone after a restart: the NOSCRIPT fallback loads them.
  absl::StatusOr<RedisReply> script =
      redis.Eval(LuaScript("y", "return 42"), {}, {});
  ASSERT_TRUE(script.ok()) << script.status();
  EXPECT_EQ(script->integer, 42);
}

TEST(RedisConnection, RefusedConnectIsUnavailableAndBacksOff) {
  RedisOptions options = OptionsFor(absl::StrCat("127.0.0.1:", PickFreePort()));
  RedisConnection redis(options);
  absl::Time start = absl::Now();
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(redis.Command({"PING"}).status().code(),
              absl::StatusCode::kUnavailable);
  }
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
}

// --------------------------------------------------------------- RedisPool

TEST(RedisPool, SubmitRunsTasksOnWorkers) {
  RedisOptions options = OptionsFor(SharedRedisAddress());
  options.pool_size = 3;
  RedisPool pool(options);
  constexpr int kTasks = 30;
  absl::BlockingCounter done(kTasks);
  absl::Mutex mu;
  std::set<std::thread::id> threads;
  std::atomic<int> ok_replies{0};
  for (int i = 0; i < kTasks; ++i) {
    ASSERT_TRUE(
        pool.Submit(absl::Now() + absl::Seconds(5),
                    [&, i](RedisConnection& redis) {
                      absl::StatusOr<RedisReply> echo =
                          redis.Command({"ECHO", absl::StrCat("task-", i)});
                      if (echo.ok() && echo->str == absl::StrCat("task-", i)) {
                        ok_replies.fetch_add(1);
                      }
                      {
                        absl::MutexLock lock(&mu);
                        threads.insert(std::this_thread::get_id());
                      }
                      done.DecrementCount();
                    })
            .ok());
  }
  done.Wait();
  EXPECT_EQ(ok_replies.load(), kTasks);
  absl::MutexLock lock(&mu);
  EXPECT_LE(threads.size(), 3u);
  EXPECT_GE(threads.size(), 1u);
  EXPECT_EQ(threads.count(std::this_thread::get_id()), 0u)
      << "tasks run on workers";
}

TEST(RedisPool, TasksCarryTheirDeadline) {
  RedisOptions options = OptionsFor(SharedRedisAddress());
  options.pool_size = 1;
  RedisPool pool(options);
  absl::StatusOr<RedisReply> late =
      pool.Run(absl::Now() - absl::Seconds(1),
               [](RedisConnection& redis) { return redis.Command({"PING"}); });
  EXPECT_EQ(late.status().code(), absl::StatusCode::kDeadlineExceeded);
  // The next task's deadline replaces the previous one.
  absl::StatusOr<RedisReply> fine =
      pool.Run(absl::Now() + absl::Seconds(5),
               [](RedisConnection& redis) { return redis.Command({"PING"}); });
  ASSERT_TRUE(fine.ok()) << fine.status();
  EXPECT_EQ(fine->str, "PONG");
}

TEST(RedisPool, RunReturnsValues) {
  RedisOptions options = OptionsFor(SharedRedisAddress());
  options.pool_size = 2;
  RedisPool pool(options);
  std::string key = Prefix() + "run";
  absl::StatusOr<int64_t> value = pool.Run(
      absl::Now() + absl::Seconds(5),
      [&](RedisConnection& redis) -> absl::StatusOr<int64_t> {
        absl::StatusOr<RedisReply> r = redis.Command({"INCRBY", key, "7"});
        if (!r.ok()) return r.status();
        return r->AsInteger();
      });
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(*value, 7);
  absl::Status deleted = pool.Run(absl::Now() + absl::Seconds(5),
                                  [&](RedisConnection& redis) -> absl::Status {
                                    return redis.Command({"DEL", key}).status();
                                  });
  EXPECT_TRUE(deleted.ok()) << deleted;
}

TEST(RedisPool, FullQueueRefusesWithUnavailable) {
  RedisOptions options = OptionsFor(SharedRedisAddress());
  options.pool_size = 1;
  options.max_queue = 1;
  std::atomic<bool> second_ran{false};
  std::atomic<bool> third_ran{false};
  {
    RedisPool pool(options);
    absl::Notification started, release;
    absl::Time deadline = absl::Now() + absl::Seconds(10);
    ASSERT_TRUE(pool.Submit(deadline,
                            [&](RedisConnection&) {
                              started.Notify();
                              release.WaitForNotification();
                            })
                    .ok());
    started.WaitForNotification();  // the only worker is busy now
    ASSERT_TRUE(
        pool.Submit(deadline, [&](RedisConnection&) { second_ran = true; })
            .ok());
    absl::Status full =
        pool.Submit(deadline, [&](RedisConnection&) { third_ran = true; });
    EXPECT_EQ(full.code(), absl::StatusCode::kUnavailable) << full;
    // Run reports the refusal as its result instead of waiting forever.
    absl::Status run =
        pool.Run(deadline, [](RedisConnection&) { return absl::OkStatus(); });
    EXPECT_EQ(run.code(), absl::StatusCode::kUnavailable) << run;
    release.Notify();
    // The destructor runs the queued task before joining.
  }
  EXPECT_TRUE(second_ran.load());
  EXPECT_FALSE(third_ran.load()) << "a refused task must be dropped";
}

}  // namespace
}  // namespace townhall
