// RedisConnection against real Redis servers: replies, pipelines,
// deadlines, timeouts, and a Redis that dies and comes back.
#include "services/common/redis/redis_connection.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/redis/lua_script.h"
#include "services/common/redis/redis_test_support.h"

namespace townhall {
namespace {

using ::townhall::testing::OptionsFor;
using ::townhall::testing::PickFreePort;
using ::townhall::testing::Prefix;
using ::townhall::testing::RedisServer;
using ::townhall::testing::SharedRedisAddress;
using ::townhall::testing::StartPrivateRedis;

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

}  // namespace
}  // namespace townhall
