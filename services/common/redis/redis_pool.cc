#include "services/common/redis/redis_pool.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace townhall {

RedisPool::RedisPool(RedisOptions options) : options_(std::move(options)) {
  int size = std::max(1, options_.pool_size);
  workers_.reserve(size);
  for (int i = 0; i < size; ++i) {
    workers_.emplace_back([this] { WorkerLoop(); });
  }
}

RedisPool::~RedisPool() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& worker : workers_) worker.join();
}

absl::Status RedisPool::Submit(absl::Time deadline, Task task) {
  absl::MutexLock lock(&mu_);
  if (stopping_) return absl::UnavailableError("server is shutting down");
  if (queue_.size() >= static_cast<size_t>(options_.max_queue)) {
    return absl::UnavailableError(absl::StrCat(
        "server overloaded: ", queue_.size(), " storage calls queued"));
  }
  RedisMetrics* metrics = options_.metrics;
  queue_.push_back(Item{deadline, std::move(task),
                        metrics != nullptr ? absl::Now() : absl::Time()});
  if (metrics != nullptr) metrics->pool_queue_length().Set(queue_.size());
  return absl::OkStatus();
}

bool RedisPool::HasWorkOrStopping() const {
  return stopping_ || !queue_.empty();
}

void RedisPool::WorkerLoop() {
  RedisConnection connection(options_);
  while (true) {
    Item item;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &RedisPool::HasWorkOrStopping));
      if (queue_.empty()) return;  // stopping, and nothing left to run
      item = std::move(queue_.front());
      queue_.pop_front();
      if (options_.metrics != nullptr) {
        options_.metrics->pool_queue_length().Set(queue_.size());
      }
    }
    if (options_.metrics != nullptr) {
      options_.metrics->pool_wait().Observe(
          absl::ToDoubleSeconds(absl::Now() - item.queued));
    }
    connection.set_deadline(item.deadline);
    std::move(item.task)(connection);
  }
}

}  // namespace townhall
