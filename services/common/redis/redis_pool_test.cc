// RedisPool: workers, deadlines carried by tasks, and the bounded queue.
#include "services/common/redis/redis_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "services/common/redis/redis_test_support.h"

namespace townhall {
namespace {

using ::townhall::testing::OptionsFor;
using ::townhall::testing::Prefix;
using ::townhall::testing::SharedRedisAddress;

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
