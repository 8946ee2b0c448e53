// RedisEventLoop: batched scripts (EvalBatched): the calls queued for one
// batch key go to Redis as one EVALSHA, a few batches in flight at a time.
#include <hiredis/async.h>

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "services/common/redis/eval_command.h"
#include "services/common/redis/redis_event_loop.h"
#include "services/common/redis/redis_event_loop_internal.h"

namespace townhall {

using redis_event_loop_internal::Unavailable;

void RedisEventLoop::SendBatch(const std::string& batch_id) {
  auto it = batches_.find(batch_id);
  if (it == batches_.end() || it->second.in_flight >= kMaxBatchesInFlight) {
    return;
  }
  Batch& batch = it->second;
  if (batch.waiting.empty()) {
    // Kept while a batch is in flight: its reply must find its count.
    if (batch.in_flight == 0) batches_.erase(it);
    return;
  }
  if (closed_) {
    for (Submitted& item : batch.waiting) {
      std::move(item.done)(Unavailable("shutting down"));
    }
    batches_.erase(it);
    return;
  }
  const Submitted& first = batch.waiting.front();
  const LuaScript& script = *first.batch_script;
  const int slot = first.slot;
  auto argv = std::make_shared<std::vector<std::string>>(
      EvalShaCommand(script, {first.batch_key}, {}));
  size_t calls = std::min(batch.waiting.size(), kMaxBatchCalls);
  argv->reserve(argv->size() + calls * first.argv->size());
  std::vector<Callback> dones;
  dones.reserve(calls);
  absl::Time deadline = absl::InfinitePast();
  for (size_t i = 0; i < calls; ++i) {
    Submitted& item = batch.waiting.front();
    for (std::string& arg : *item.argv) argv->push_back(std::move(arg));
    dones.push_back(std::move(item.done));
    // No call is failed early for another's shorter deadline.
    deadline = std::max(deadline, item.deadline);
    batch.waiting.pop_front();
  }
  if (metrics_ != nullptr) {
    prometheus::Histogram*& sizes = batch_sizes_[&script];
    if (sizes == nullptr) sizes = &metrics_->BatchSize(script.name());
    sizes->Observe(static_cast<double>(calls));
  }
  if (++batch.in_flight == kMaxBatchesInFlight) {
    absl::MutexLock lock(&mu_);
    full_batches_.insert(batch_id);
  }
  // Runs on the loop thread, once, whatever the outcome. A redirection
  // (MOVED, ASK) resends the whole batch before this runs.
  Callback on_reply = [this, &script, batch_id, dones = std::move(dones)](
                          absl::StatusOr<RedisReply> reply) mutable {
    // The next batch goes first (with what was queued meanwhile) and is
    // written at once: Redis runs it while these calls are finished.
    if (auto it = batches_.find(batch_id); it != batches_.end()) {
      if (it->second.in_flight == kMaxBatchesInFlight) {
        absl::MutexLock lock(&mu_);
        full_batches_.erase(batch_id);
      }
      --it->second.in_flight;
      SendQueued();
      SendBatch(batch_id);
      // Only on a real reply, whose node is connected (after a drop its
      // context is being freed); the next batch went there unless the
      // slot has just moved.
      if (reply.ok() && replying_ != nullptr &&
          replying_->context != nullptr && !closed_) {
        redisAsyncHandleWrite(replying_->context);
      }
    }
    if (reply.ok() &&
        (!reply->is_array() || reply->elements.size() != dones.size())) {
      reply = absl::InternalError(absl::StrCat("unexpected reply from ",
                                               script.name(), " for ",
                                               dones.size(), " batched calls"));
    }
    for (size_t i = 0; i < dones.size(); ++i) {
      if (reply.ok()) {
        std::move(dones[i])(std::move(reply->elements[i]));
      } else {
        std::move(dones[i])(reply.status());
      }
    }
  };
  Call call{argv, deadline,
            ScriptCallback(script, slot, argv, deadline, std::move(on_reply)),
            slot, script.writes()};
  call.script = &script;
  Send(std::move(call));
}

}  // namespace townhall
