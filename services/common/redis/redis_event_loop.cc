#include "services/common/redis/redis_event_loop.h"

#include <event2/event.h>
#include <event2/thread.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/logging.h"
#include "services/common/redis/eval_command.h"
#include "services/common/redis/redis_pool.h"

namespace townhall {
namespace {

// How often deadlines are checked (and a lost connection retried).
constexpr absl::Duration kTick = absl::Milliseconds(10);
constexpr absl::Duration kReconnectBackoff = absl::Milliseconds(50);

absl::Status Unavailable(absl::string_view why) {
  return absl::UnavailableError(
      absl::StrCat("storage unavailable (redis ", why, ")"));
}

}  // namespace

struct RedisEventLoop::Pending {
  Callback done;
  absl::Time deadline;
  bool answered = false;  // `done` has run (on a reply, a timeout or a drop)
  std::list<Pending*>::iterator position;

  void Answer(absl::StatusOr<RedisReply> result) {
    if (answered) return;
    answered = true;
    std::move(done)(std::move(result));
  }
};

RedisEventLoop::RedisEventLoop(RedisOptions options)
    : options_(std::move(options)) {
  if (options_.cluster != nullptr) {
    cluster_pool_ = std::make_unique<RedisPool>(options_);
    return;
  }
  // event_active() from other threads needs libevent's locking.
  static const bool threads_enabled = [] {
    return evthread_use_pthreads() == 0;
  }();
  (void)threads_enabled;
  base_ = event_base_new();
  wake_ = event_new(base_, -1, 0, &RedisEventLoop::OnWake, this);
  tick_ = event_new(base_, -1, EV_PERSIST, &RedisEventLoop::OnTick, this);
  struct timeval tick = absl::ToTimeval(kTick);
  event_add(tick_, &tick);
  thread_ = std::thread([this] { event_base_dispatch(base_); });
}

RedisEventLoop::~RedisEventLoop() {
  // Cluster mode: the pool's destructor runs what is queued.
  if (cluster_pool_ != nullptr) return;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  event_active(wake_, 0, 0);
  thread_.join();
  // The loop has stopped: free the connection (its pending callbacks run
  // with a null reply) and answer what was never sent.
  closed_ = true;
  if (context_ != nullptr) redisAsyncFree(context_);
  std::vector<Submitted> unsent;
  {
    absl::MutexLock lock(&mu_);
    unsent.swap(queue_);
  }
  for (auto& [id, batch] : batches_) {
    for (Submitted& item : batch.waiting) unsent.push_back(std::move(item));
  }
  batches_.clear();
  for (Submitted& item : unsent)
    std::move(item.done)(Unavailable("shutting down"));
  event_free(wake_);
  event_free(tick_);
  event_base_free(base_);
}

void RedisEventLoop::Command(std::vector<std::string> argv, absl::Time deadline,
                             Callback done) {
  if (cluster_pool_ != nullptr) {
    RunOnPool(
        deadline,
        [argv = std::move(argv)](RedisConnection& redis) {
          return redis.Command(argv);
        },
        std::move(done));
    return;
  }
  Enqueue({std::make_shared<std::vector<std::string>>(std::move(argv)),
           deadline, std::move(done)});
}

void RedisEventLoop::Enqueue(Submitted item) {
  bool wake = false;
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_) {
      // One wake-up at a time: the pending one takes the whole queue. A
      // call whose batch is full waits for that batch's reply, which takes
      // the queue too.
      wake = !wake_pending_ && (item.batch_script == nullptr ||
                                !full_batches_.contains(item.batch_id));
      wake_pending_ = wake_pending_ || wake;
      queue_.push_back(std::move(item));
      item.done = nullptr;
    }
  }
  if (item.done != nullptr) {
    std::move(item.done)(Unavailable("shutting down"));
    return;
  }
  if (wake) event_active(wake_, 0, 0);
}

RedisEventLoop::Callback RedisEventLoop::ScriptCallback(
    const LuaScript& script, std::shared_ptr<std::vector<std::string>> argv,
    absl::Time deadline, Callback done) {
  // On NOSCRIPT the same argv goes again as EVAL, queued from the reply
  // callback (quick: the loop sends it next). Scripts are embedded at build
  // time and live as long as the process, so `script` may be captured.
  return [this, &script, argv = std::move(argv), deadline,
          done = std::move(done)](absl::StatusOr<RedisReply> reply) mutable {
    if (IsNoScript(reply)) {
      ToEvalCommand(script, argv.get());
      Enqueue({argv, deadline,
               [&script, done = std::move(done)](
                   absl::StatusOr<RedisReply> reply) mutable {
                 std::move(done)(ScriptReplyToStatus(std::move(reply), script));
               }});
      return;
    }
    std::move(done)(ScriptReplyToStatus(std::move(reply), script));
  };
}

void RedisEventLoop::Eval(const LuaScript& script,
                          const std::vector<std::string>& keys,
                          const std::vector<std::string>& args,
                          absl::Time deadline, Callback done) {
  if (cluster_pool_ != nullptr) {
    RunOnPool(
        deadline,
        [&script, keys, args](RedisConnection& redis) {
          return redis.Eval(script, keys, args);
        },
        std::move(done));
    return;
  }
  auto argv = std::make_shared<std::vector<std::string>>(
      EvalShaCommand(script, keys, args));
  Enqueue({argv, deadline,
           ScriptCallback(script, argv, deadline, std::move(done))});
}

void RedisEventLoop::EvalBatched(const LuaScript& script, std::string key,
                                 std::vector<std::string> args,
                                 absl::Time deadline, Callback done) {
  if (cluster_pool_ != nullptr) {
    RunOnPool(
        deadline,
        [&script, key = std::move(key), args = std::move(args)](
            RedisConnection& redis) -> absl::StatusOr<RedisReply> {
          absl::StatusOr<RedisReply> reply = redis.Eval(script, {key}, args);
          if (!reply.ok()) return reply;
          if (!reply->is_array() || reply->elements.size() != 1) {
            return absl::InternalError(absl::StrCat(
                "unexpected reply from ", script.name(), " for 1 call"));
          }
          return std::move(reply->elements[0]);
        },
        std::move(done));
    return;
  }
  Submitted item{std::make_shared<std::vector<std::string>>(std::move(args)),
                 deadline, std::move(done)};
  item.batch_script = &script;
  item.batch_id = absl::StrCat(script.sha1(), " ", key);
  item.batch_key = std::move(key);
  Enqueue(std::move(item));
}

void RedisEventLoop::RunOnPool(
    absl::Time deadline,
    absl::AnyInvocable<absl::StatusOr<RedisReply>(RedisConnection&) &&> call,
    Callback done) {
  // Shared with the task, which a refused Submit drops unrun.
  auto shared_done = std::make_shared<Callback>(std::move(done));
  absl::Status submitted = cluster_pool_->Submit(
      deadline,
      [call = std::move(call), shared_done](RedisConnection& redis) mutable {
        std::move (*shared_done)(std::move(call)(redis));
      });
  if (!submitted.ok()) std::move (*shared_done)(submitted);
}

void RedisEventLoop::OnWake(int, short, void* self) {
  auto* loop = static_cast<RedisEventLoop*>(self);
  bool stopping = false;
  {
    absl::MutexLock lock(&loop->mu_);
    stopping = loop->stopping_;
  }
  if (stopping) {
    event_base_loopbreak(loop->base_);
    return;
  }
  loop->SendQueued();
}

void RedisEventLoop::OnTick(int, short, void* self) {
  auto* loop = static_cast<RedisEventLoop*>(self);
  // Calls for a full batch wait in the queue without a wake-up: take them,
  // so that they expire on time even if the batch's reply never comes.
  loop->SendQueued();
  loop->ExpireOverdue();
}

void RedisEventLoop::SendQueued() {
  std::vector<Submitted> queued;
  {
    absl::MutexLock lock(&mu_);
    queued.swap(queue_);
    wake_pending_ = false;
  }
  std::vector<std::string> batched;  // batch ids that got calls, in order
  for (Submitted& item : queued) {
    if (item.batch_script == nullptr) {
      Send(std::move(item));
      continue;
    }
    Batch& batch = batches_[item.batch_id];
    if (batch.waiting.empty()) batched.push_back(item.batch_id);
    batch.waiting.push_back(std::move(item));
  }
  for (const std::string& id : batched) SendBatch(id);
}

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
  if (++batch.in_flight == kMaxBatchesInFlight) {
    absl::MutexLock lock(&mu_);
    full_batches_.insert(batch_id);
  }
  // Runs on the loop thread, once, whatever the outcome.
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
      // Only on a real reply: after a drop the context is being freed.
      if (reply.ok() && context_ != nullptr && !closed_) {
        redisAsyncHandleWrite(context_);
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
  Send({argv, deadline,
        ScriptCallback(script, argv, deadline, std::move(on_reply))});
}

bool RedisEventLoop::EnsureConnected() {
  if (context_ != nullptr) return true;
  absl::Time now = absl::Now();
  if (now < next_connect_) return false;
  next_connect_ = now + kReconnectBackoff;
  redisAsyncContext* context =
      absl::StartsWith(options_.address, "unix:")
          ? redisAsyncConnectUnix(options_.address.c_str() + 5)
          : [&]() -> redisAsyncContext* {
    size_t colon = options_.address.rfind(':');
    int port = 0;
    if (colon == std::string::npos ||
        !absl::SimpleAtoi(options_.address.substr(colon + 1), &port)) {
      return nullptr;
    }
    return redisAsyncConnect(options_.address.substr(0, colon).c_str(), port);
  }();
  if (context == nullptr) return false;
  if (context->err != 0) {
    redisAsyncFree(context);
    return false;
  }
  context->data = this;
  redisLibeventAttach(context, base_);
  redisAsyncSetConnectCallback(context, &RedisEventLoop::OnConnect);
  redisAsyncSetDisconnectCallback(context, &RedisEventLoop::OnDisconnect);
  context_ = context;
  return true;
}

void RedisEventLoop::Send(Submitted item) {
  absl::Time deadline =
      std::min(item.deadline, absl::Now() + options_.command_timeout);
  if (!EnsureConnected()) {
    std::move(item.done)(Unavailable("is down"));
    return;
  }
  auto* pending = new Pending{std::move(item.done), deadline};
  pending->position = in_flight_.insert(in_flight_.end(), pending);
  HiredisArgv hiredis(*item.argv);
  if (redisAsyncCommandArgv(context_, &RedisEventLoop::OnReply, pending,
                            hiredis.argc(), hiredis.argv(),
                            hiredis.lengths()) != REDIS_OK) {
    in_flight_.erase(pending->position);
    pending->Answer(Unavailable("write failed"));
    delete pending;
  }
}

void RedisEventLoop::OnReply(redisAsyncContext* context, void* reply,
                             void* privdata) {
  auto* loop = static_cast<RedisEventLoop*>(context->data);
  auto* pending = static_cast<Pending*>(privdata);
  loop->in_flight_.erase(pending->position);
  if (reply == nullptr) {
    pending->Answer(Unavailable("connection lost"));
  } else {
    RedisReply copy = RedisReply::FromHiredis(*static_cast<redisReply*>(reply));
    if (IsTransientRedisError(copy)) {
      pending->Answer(Unavailable(copy.str));
    } else {
      pending->Answer(std::move(copy));
    }
  }
  delete pending;
}

void RedisEventLoop::OnConnect(const redisAsyncContext* context, int status) {
  if (status == REDIS_OK) return;
  // hiredis frees a context that failed to connect (and runs the pending
  // callbacks with a null reply); it must not be used again.
  auto* loop = static_cast<RedisEventLoop*>(context->data);
  if (loop->context_ == context) loop->context_ = nullptr;
}

void RedisEventLoop::OnDisconnect(const redisAsyncContext* context,
                                  int status) {
  auto* loop = static_cast<RedisEventLoop*>(context->data);
  if (loop->context_ == context) loop->context_ = nullptr;
  if (status != REDIS_OK) {
    LogWarning("redis connection dropped", {{"address", loop->options_.address},
                                            {"reason", context->errstr}});
  }
}

void RedisEventLoop::ExpireOverdue() {
  absl::Time now = absl::Now();
  bool stuck = false;
  for (Pending* pending : in_flight_) {
    // Deadlines are not in send order (callers' deadlines differ): check all.
    if (pending->deadline > now) continue;
    pending->Answer(
        absl::DeadlineExceededError("redis did not answer in time"));
    // Still unanswered long after its deadline: the connection is stuck.
    if (now - pending->deadline > options_.command_timeout) stuck = true;
  }
  // Batched calls still waiting for their batch's turn.
  for (auto& [id, batch] : batches_) {
    for (auto it = batch.waiting.begin(); it != batch.waiting.end();) {
      if (it->deadline > now) {
        ++it;
        continue;
      }
      std::move(it->done)(
          absl::DeadlineExceededError("redis did not answer in time"));
      it = batch.waiting.erase(it);
    }
  }
  if (stuck && context_ != nullptr) {
    redisAsyncContext* context = context_;
    context_ = nullptr;
    // Frees at once; the pending callbacks run with null replies.
    redisAsyncFree(context);
  }
}

}  // namespace townhall
