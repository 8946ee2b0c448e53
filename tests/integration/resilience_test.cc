// What happens when Redis goes away: calls fail fast with UNAVAILABLE, the
// server stays up, health follows Redis, the server recovers by itself, and
// a mutation is either fully stored or not at all.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/redis/redis_connection.h"
#include "tests/testing/health.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/test_server.h"

namespace townhall::testing {
namespace {

v1::CreateSeriesRequest WeeklySeries(int count, int64_t start) {
  v1::CreateSeriesRequest request;
  v1::Session* tmpl = request.mutable_series()->mutable_template_();
  tmpl->set_title("Weekly consultation");
  tmpl->mutable_start_time()->set_seconds(start);
  tmpl->mutable_duration()->set_seconds(3600);
  tmpl->set_time_zone("Asia/Tashkent");
  request.mutable_series()->set_rrule(
      absl::StrCat("FREQ=WEEKLY;COUNT=", count));
  request.set_allow_conflicts(true);
  return request;
}

constexpr char kScheduling[] = "townhall.v1.SchedulingService";

// A private Redis with an fsynced AOF (so that data survives a kill) and a
// server on it with short Redis timeouts.
struct Stack {
  std::unique_ptr<RedisServer> redis;
  std::unique_ptr<TestServer> server;
};

absl::StatusOr<Stack> StartStack() {
  Stack stack;
  absl::StatusOr<std::unique_ptr<RedisServer>> redis =
      RedisServer::Start({.persistent = true});
  if (!redis.ok()) return redis.status();
  stack.redis = *std::move(redis);
  TestServerOptions options;
  options.redis_address = stack.redis->address();
  options.redis_timeout = absl::Milliseconds(500);
  absl::StatusOr<std::unique_ptr<TestServer>> server =
      TestServer::Start(options);
  if (!server.ok()) return server.status();
  stack.server = *std::move(server);
  return stack;
}

TEST(Resilience, RedisDownGivesUnavailableThenRecovers) {
  absl::StatusOr<Stack> stack = StartStack();
  ASSERT_TRUE(stack.ok()) << stack.status();
  auto& redis = stack->redis;
  auto& server = stack->server;
  std::string token = *server->NewTenantToken();
  TownhallClient client = server->Client(token);
  ASSERT_TRUE(
      WaitForHealth(server->address(), kScheduling, true, absl::Seconds(5)));

  auto series = client.CreateSeries(WeeklySeries(3, 1815000000));
  ASSERT_TRUE(series.ok()) << series.status();

  redis->Stop();
  v1::GetSeriesRequest get;
  get.set_series_id(series->series().id());
  for (int i = 0; i < 5; ++i) {
    auto failed = client.GetSeries(get, {.deadline = absl::Seconds(2)});
    ASSERT_FALSE(failed.ok());
    EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable)
        << failed.status();
    auto create = client.CreateSeries(WeeklySeries(2, 1816000000));
    EXPECT_EQ(create.status().code(), absl::StatusCode::kUnavailable)
        << create.status();
    // GetSession takes the event-loop path (RedisEventLoop), not the pool.
    v1::GetSessionRequest get_session;
    get_session.set_session_id(series->series().session_ids(0));
    auto session =
        client.GetSession(get_session, {.deadline = absl::Seconds(2)});
    EXPECT_EQ(session.status().code(), absl::StatusCode::kUnavailable)
        << session.status();
  }
  EXPECT_TRUE(
      WaitForHealth(server->address(), kScheduling, false, absl::Seconds(5)))
      << "health must turn NOT_SERVING while Redis is down";

  ASSERT_TRUE(redis->Restart().ok());
  EXPECT_TRUE(
      WaitForHealth(server->address(), kScheduling, true, absl::Seconds(5)))
      << "health must turn SERVING again";
  // The same server recovers by itself; data written before is intact.
  absl::StatusOr<v1::GetSeriesResponse> again;
  for (int i = 0; i < 20; ++i) {
    again = client.GetSeries(get);
    if (again.ok()) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_TRUE(again.ok()) << again.status();
  v1::GetSessionRequest get_session;
  get_session.set_session_id(series->series().session_ids(1));
  absl::StatusOr<v1::GetSessionResponse> session;
  for (int i = 0; i < 20; ++i) {
    session = client.GetSession(get_session);
    if (session.ok()) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_TRUE(session.ok())
      << "the event loop must reconnect: " << session.status();
  EXPECT_EQ(session->session().series_id(), series->series().id());
  EXPECT_EQ(again->series().session_ids_size(), 3);
}

// A Redis that hangs (DEBUG SLEEP) longer than the command timeout: calls on
// the event-loop path fail by their deadline, and once Redis answers again
// every call gets its own reply (late replies are not handed to later calls).
TEST(Resilience, HungRedisTimesOutWithoutMixingUpReplies) {
  absl::StatusOr<Stack> stack = StartStack();  // command timeout 500 ms
  ASSERT_TRUE(stack.ok()) << stack.status();
  TownhallClient client =
      stack->server->Client(*stack->server->NewTenantToken());
  auto series = client.CreateSeries(WeeklySeries(3, 1815000000));
  ASSERT_TRUE(series.ok()) << series.status();

  std::thread sleeper([&] {
    RedisConnection raw({.address = stack->redis->address(),
                         .command_timeout = absl::Seconds(5)});
    raw.set_deadline(absl::Now() + absl::Seconds(5));
    (void)raw.Command({"DEBUG", "SLEEP", "1.5"});
  });
  absl::SleepFor(absl::Milliseconds(100));
  v1::GetSessionRequest get;
  get.set_session_id(series->series().session_ids(0));
  auto timed_out = client.GetSession(get, {.deadline = absl::Seconds(5)});
  // Without our own timeout the call would succeed once Redis wakes up.
  EXPECT_FALSE(timed_out.ok());
  EXPECT_THAT(timed_out.status().code(),
              ::testing::AnyOf(absl::StatusCode::kDeadlineExceeded,
                               absl::StatusCode::kUnavailable));
  sleeper.join();

  for (int i = 0; i < 3; ++i) {
    v1::GetSessionRequest each;
    each.set_session_id(series->series().session_ids(i));
    auto got = client.GetSession(each);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(got->session().id(), series->series().session_ids(i));
  }
}

// A Redis that hangs (SIGSTOP: connections stay open, nothing answers) turns
// health NOT_SERVING within the bound docs/operations.md promises (0.5 s),
// with the server's default health interval and Redis timeout, and SERVING
// again once Redis runs (SIGCONT).
TEST(Resilience, HealthTurnsNotServingWithinHalfASecondOfARedisHang) {
  absl::StatusOr<std::unique_ptr<RedisServer>> redis = RedisServer::Start();
  ASSERT_TRUE(redis.ok()) << redis.status();
  TestServerOptions options;
  options.redis_address = (*redis)->address();
  options.redis_timeout = RedisOptions().command_timeout;
  options.health_interval = ServerOptions().health_interval;
  absl::StatusOr<std::unique_ptr<TestServer>> server =
      TestServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string address = (*server)->address();
  ASSERT_TRUE(WaitForHealth(address, kScheduling, true, absl::Seconds(5)));

  constexpr absl::Duration kBound = absl::Milliseconds(500);
  // Polling, thread scheduling on a busy machine.
  constexpr absl::Duration kMargin = absl::Milliseconds(250);
  // Two phases of the hang against the health checks: right after one
  // passed (health just turned SERVING: the worst case), and 100 ms later.
  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    absl::SleepFor(absl::Milliseconds(round * 100));
    (*redis)->Pause();
    const absl::Time hung = absl::Now();
    absl::Duration took = absl::InfiniteDuration();
    while (absl::Now() - hung < absl::Seconds(5)) {
      absl::StatusOr<bool> serving = CheckServing(address, kScheduling);
      if (serving.ok() && !*serving) {
        took = absl::Now() - hung;
        break;
      }
      absl::SleepFor(absl::Milliseconds(10));
    }
    // The overall status ("") follows too.
    absl::StatusOr<bool> overall = CheckServing(address, "");
    (*redis)->Resume();
    EXPECT_LE(took, kBound + kMargin)
        << "health NOT_SERVING after " << took << " of a Redis hang";
    EXPECT_TRUE(overall.ok() && !*overall) << "overall health still SERVING";
    const absl::Time resumed = absl::Now();
    EXPECT_TRUE(WaitForHealth(address, kScheduling, true, absl::Seconds(5)));
    EXPECT_LE(absl::Now() - resumed, kBound + kMargin)
        << "health must turn SERVING again soon after Redis answers";
  }
}

// Creates series with 20 occurrences from several threads while Redis is
// killed and restarted; afterwards every series has all its sessions or does
// not exist, and no session lacks its series (one script = one atomic step,
// and the AOF replays whole transactions).
TEST(Resilience, NoHalfWrittenSeriesWhenRedisDiesMidRun) {
  absl::StatusOr<Stack> stack = StartStack();
  ASSERT_TRUE(stack.ok()) << stack.status();
  auto& redis = stack->redis;
  auto& server = stack->server;
  std::string tenant;
  std::string token = *server->NewTenantToken(&tenant);

  std::atomic<bool> stop{false};
  std::atomic<int> succeeded{0};
  std::atomic<int> unavailable{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      TownhallClient client = server->Client(token);
      for (int i = 0; !stop.load(); ++i) {
        // One attempt each: the client's retries would ride out the outage
        // this test wants to land in the middle of some calls.
        auto created = client.CreateSeries(
            WeeklySeries(20, 1815000000 + (w * 100000 + i) * 60),
            {.deadline = absl::Seconds(2), .max_attempts = 1});
        if (created.ok()) {
          ++succeeded;
        } else if (created.status().code() == absl::StatusCode::kUnavailable ||
                   created.status().code() ==
                       absl::StatusCode::kDeadlineExceeded) {
          ++unavailable;
        } else {
          ADD_FAILURE() << created.status();
        }
      }
    });
  }
  absl::SleepFor(absl::Milliseconds(300));
  redis->Stop();  // SIGKILL mid-run
  absl::SleepFor(absl::Milliseconds(300));
  ASSERT_TRUE(redis->Restart().ok());
  absl::SleepFor(absl::Milliseconds(500));
  stop = true;
  for (auto& t : writers) t.join();
  EXPECT_GT(succeeded.load(), 0);
  EXPECT_GT(unavailable.load(), 0)
      << "Redis was down: some calls must have failed";

  // Inspect Redis directly: every session belongs to a complete series.
  RedisConnection redis_conn({.address = redis->address()});
  redis_conn.set_deadline(absl::Now() + absl::Seconds(10));
  std::string prefix = absl::StrCat("th:{t:", tenant, "}:");
  auto series_keys = redis_conn.Command({"KEYS", prefix + "series:*:sessions"});
  ASSERT_TRUE(series_keys.ok());
  int64_t sessions_in_series = 0;
  for (const RedisReply& key : series_keys->elements) {
    auto count = redis_conn.Command({"ZCARD", key.str});
    ASSERT_TRUE(count.ok());
    EXPECT_EQ(count->integer, 20) << key.str << " is half-written";
    sessions_in_series += count->integer;
    std::string series_key =
        key.str.substr(0, key.str.size() - strlen(":sessions"));
    auto exists = redis_conn.Command({"EXISTS", series_key});
    EXPECT_EQ(exists->integer, 1) << series_key << " missing";
  }
  auto session_keys = redis_conn.Command({"KEYS", prefix + "session:*"});
  auto index = redis_conn.Command({"ZCARD", prefix + "sessions"});
  EXPECT_EQ(static_cast<int64_t>(session_keys->elements.size()),
            sessions_in_series);
  EXPECT_EQ(index->integer, sessions_in_series);
}

}  // namespace
}  // namespace townhall::testing
