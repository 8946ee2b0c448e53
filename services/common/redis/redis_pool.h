// RedisPool: a bounded set of worker threads, each owning one Redis
// connection, that run storage work off the gRPC callback threads.
//
// gRPC callback threads must never block on I/O. A unary RPC handler
// therefore authenticates and validates on the callback thread, then hands
// the Redis part of the work to Submit(); the task runs on a worker with
// that worker's connection and finishes the RPC from there. Scripts make
// each mutation one round trip, so a small pool keeps Redis busy.
//
// Mutations and multi-step reads use the pool: their code stays plain
// sequential code. The hottest single-command reads (GetSession) use
// RedisEventLoop instead, which keeps many commands in flight on one
// connection without a hand-off per call (docs/benchmarks.md has both).
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "services/common/redis/redis_connection.h"

namespace townhall {

class RedisPool {
 public:
  using Task = absl::AnyInvocable<void(RedisConnection& redis) &&>;

  explicit RedisPool(RedisOptions options);
  // Runs the tasks already queued, then joins the workers.
  ~RedisPool();
  RedisPool(const RedisPool&) = delete;
  RedisPool& operator=(const RedisPool&) = delete;

  // Queues `task` to run on a worker whose connection carries `deadline`.
  // Returns UNAVAILABLE (and drops the task) if the queue is full or the
  // pool is shutting down.
  absl::Status Submit(absl::Time deadline, Task task);

  // Runs `task` on a worker and waits for it. For tests, tools and
  // start-up code only: never call it from a gRPC callback thread.
  template <typename Fn>
  auto Run(absl::Time deadline, Fn fn)
      -> decltype(fn(std::declval<RedisConnection&>()));

  const RedisOptions& options() const { return options_; }

 private:
  struct Item {
    absl::Time deadline;
    Task task;
    // When it was queued (metrics: the wait for a worker).
    absl::Time queued;
  };
  void WorkerLoop();
  bool HasWorkOrStopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const RedisOptions options_;
  absl::Mutex mu_;
  std::deque<Item> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> workers_;
};

template <typename Fn>
auto RedisPool::Run(absl::Time deadline, Fn fn)
    -> decltype(fn(std::declval<RedisConnection&>())) {
  using Result = decltype(fn(std::declval<RedisConnection&>()));
  absl::Notification done;
  std::optional<Result> result;
  absl::Status submitted = Submit(deadline, [&](RedisConnection& redis) {
    result.emplace(fn(redis));
    done.Notify();
  });
  if (!submitted.ok()) return Result(submitted);
  done.WaitForNotification();
  return *std::move(result);
}

}  // namespace townhall
