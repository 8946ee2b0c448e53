#include "services/common/redis/redis_event_loop.h"

#include <event2/event.h>
#include <event2/thread.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/logging.h"
#include "services/common/redis/cluster_map.h"
#include "services/common/redis/cluster_router.h"
#include "services/common/redis/cluster_slot.h"
#include "services/common/redis/command_keys.h"
#include "services/common/redis/eval_command.h"
#include "services/common/redis/redis_event_loop_internal.h"
#include "services/common/redis/replica_wait.h"

namespace townhall {

using redis_event_loop_internal::MayHaveWritten;
using redis_event_loop_internal::ReplyOf;
using redis_event_loop_internal::Unavailable;

namespace {

// How often deadlines are checked (and a lost connection retried).
constexpr absl::Duration kTick = absl::Milliseconds(10);
constexpr absl::Duration kNodeReconnectBackoff = absl::Milliseconds(50);

}  // namespace

RedisEventLoop::RedisEventLoop(RedisOptions options)
    : options_(std::move(options)),
      cluster_(options_.cluster.get()),
      metrics_(options_.metrics) {
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
  if (cluster_ != nullptr) {
    refresher_ = std::thread([this] { RefreshTopology(); });
  }
}

RedisEventLoop::~RedisEventLoop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  event_active(wake_, 0, 0);
  thread_.join();
  if (refresher_.joinable()) {
    {
      absl::MutexLock lock(&refresh_mu_);
      refresh_stopping_ = true;
      refresh_wanted_ = true;  // wakes it
    }
    refresher_.join();
  }
  // The loop has stopped: free the connections (their pending callbacks
  // run with a null reply) and answer what was never sent.
  closed_ = true;
  for (auto& [address, node] : nodes_) {
    if (redisAsyncContext* context = std::exchange(node->context, nullptr)) {
      redisAsyncFree(context);
    }
  }
  for (Delayed& delayed : std::exchange(delayed_, {})) {
    std::move(delayed.call.done)(Unavailable("shutting down"));
  }
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

absl::StatusOr<int> RedisEventLoop::SlotOf(
    absl::Span<const std::string> keys) const {
  if (cluster_ == nullptr || keys.empty()) return 0;
  return CommonSlot(keys);
}

void RedisEventLoop::Command(std::vector<std::string> argv, absl::Time deadline,
                             Callback done) {
  absl::StatusOr<int> slot = SlotOf(CommandKeys(argv));
  if (!slot.ok()) {
    std::move(done)(slot.status());
    return;
  }
  const bool writes = CommandWrites(argv);
  Enqueue({std::make_shared<std::vector<std::string>>(std::move(argv)),
           deadline, std::move(done), *slot, writes});
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
      if (metrics_ != nullptr) {
        metrics_->event_loop_queue_depth().Set(queue_.size());
      }
    }
  }
  if (item.done != nullptr) {
    std::move(item.done)(Unavailable("shutting down"));
    return;
  }
  if (wake) event_active(wake_, 0, 0);
}

RedisEventLoop::Callback RedisEventLoop::ScriptCallback(
    const LuaScript& script, int slot,
    std::shared_ptr<std::vector<std::string>> argv, absl::Time deadline,
    Callback done) {
  // On NOSCRIPT (from the node that ran it) the same argv goes again as
  // EVAL, routed afresh, queued from the reply callback (quick: the loop
  // sends it next). Scripts are embedded at build time and live as long as
  // the process, so `script` may be captured.
  return [this, &script, slot, argv = std::move(argv), deadline,
          done = std::move(done)](absl::StatusOr<RedisReply> reply) mutable {
    if (IsNoScript(reply)) {
      ToEvalCommand(script, argv.get());
      Submitted eval{argv, deadline,
                     [this, &script, done = std::move(done)](
                         absl::StatusOr<RedisReply> reply) mutable {
                       std::move(done)(ScriptStatus(std::move(reply), script));
                     },
                     slot, script.writes()};
      eval.script = &script;
      Enqueue(std::move(eval));
      return;
    }
    std::move(done)(ScriptStatus(std::move(reply), script));
  };
}

void RedisEventLoop::Eval(const LuaScript& script,
                          const std::vector<std::string>& keys,
                          const std::vector<std::string>& args,
                          absl::Time deadline, Callback done) {
  absl::StatusOr<int> slot = SlotOf(keys);
  if (!slot.ok()) {
    std::move(done)(slot.status());
    return;
  }
  auto argv = std::make_shared<std::vector<std::string>>(
      EvalShaCommand(script, keys, args));
  Submitted item{argv, deadline,
                 ScriptCallback(script, *slot, argv, deadline, std::move(done)),
                 *slot, script.writes()};
  item.script = &script;
  Enqueue(std::move(item));
}

void RedisEventLoop::EvalBatched(const LuaScript& script, std::string key,
                                 std::vector<std::string> args,
                                 absl::Time deadline, Callback done) {
  Submitted item{std::make_shared<std::vector<std::string>>(std::move(args)),
                 deadline, std::move(done)};
  // One key, one slot: a batch goes to that slot's master.
  item.slot = cluster_ == nullptr ? 0 : KeySlot(key);
  item.confirm = script.writes();
  item.batch_script = &script;
  item.batch_id = absl::StrCat(script.sha1(), " ", key);
  item.batch_key = std::move(key);
  Enqueue(std::move(item));
}

absl::StatusOr<RedisReply> RedisEventLoop::ScriptStatus(
    absl::StatusOr<RedisReply> reply, const LuaScript& script) {
  const bool error_reply =
      reply.ok() && reply->type == RedisReply::Type::kError;
  absl::StatusOr<RedisReply> result =
      ScriptReplyToStatus(std::move(reply), script);
  // A script's bug; transport failures are counted in Route.
  if (error_reply && result.status().code() == absl::StatusCode::kInternal) {
    CountFailure(result.status());
  }
  return result;
}

void RedisEventLoop::RefreshTopology() {
  const RedisOptions& node = cluster_->options().node;
  while (true) {
    {
      absl::MutexLock lock(&refresh_mu_);
      refresh_mu_.Await(absl::Condition(&refresh_wanted_));
      if (refresh_stopping_) return;
      refresh_wanted_ = false;
    }
    // A failed refresh keeps the old map: the calls' retries ask again.
    (void)cluster_->Refresh(absl::Now() + node.connect_timeout +
                            node.command_timeout);
  }
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
  loop->SendWaits();
}

void RedisEventLoop::OnTick(int, short, void* self) {
  auto* loop = static_cast<RedisEventLoop*>(self);
  // Calls for a full batch wait in the queue without a wake-up: take them,
  // so that they expire on time even if the batch's reply never comes.
  loop->SendQueued();
  loop->SendDelayed();
  loop->ExpireOverdue();
  loop->SendWaits();
}

void RedisEventLoop::SendQueued() {
  std::vector<Submitted> queued;
  {
    absl::MutexLock lock(&mu_);
    queued.swap(queue_);
    wake_pending_ = false;
    if (metrics_ != nullptr) metrics_->event_loop_queue_depth().Set(0);
  }
  std::vector<std::string> batched;  // batch ids that got calls, in order
  for (Submitted& item : queued) {
    if (item.batch_script == nullptr) {
      Call call{std::move(item.argv), item.deadline, std::move(item.done),
                item.slot, item.confirm};
      call.script = item.script;
      Send(std::move(call));
      continue;
    }
    Batch& batch = batches_[item.batch_id];
    if (batch.waiting.empty()) batched.push_back(item.batch_id);
    batch.waiting.push_back(std::move(item));
  }
  for (const std::string& id : batched) SendBatch(id);
}

RedisEventLoop::Node* RedisEventLoop::Connected(const std::string& address) {
  std::unique_ptr<Node>& node = nodes_[address];
  if (node == nullptr) {
    node.reset(new Node{.loop = this,
                        .address = address,
                        .instruments = RedisInstruments(metrics_, address)});
    // The node's series exists before its first reconnect.
    if (metrics_ != nullptr) metrics_->Reconnects(address);
  }
  if (node->context != nullptr) return node.get();
  absl::Time now = absl::Now();
  if (now < node->next_connect) return nullptr;
  node->next_connect = now + kNodeReconnectBackoff;
  redisAsyncContext* context =
      absl::StartsWith(address, "unix:")
          ? redisAsyncConnectUnix(address.c_str() + 5)
          : [&]() -> redisAsyncContext* {
    size_t colon = address.rfind(':');
    int port = 0;
    if (colon == std::string::npos ||
        !absl::SimpleAtoi(address.substr(colon + 1), &port)) {
      return nullptr;
    }
    return redisAsyncConnect(address.substr(0, colon).c_str(), port);
  }();
  if (context == nullptr) return nullptr;
  if (context->err != 0) {
    redisAsyncFree(context);
    return nullptr;
  }
  context->data = node.get();
  redisLibeventAttach(context, base_);
  redisAsyncSetConnectCallback(context, &RedisEventLoop::OnConnect);
  redisAsyncSetDisconnectCallback(context, &RedisEventLoop::OnDisconnect);
  node->context = context;
  if (node->ever_connected && metrics_ != nullptr) {
    metrics_->Reconnects(address).Increment();
  }
  node->ever_connected = true;
  return node.get();
}

void RedisEventLoop::Send(Call call, std::string address) {
  if (closed_) {
    std::move(call.done)(Unavailable("shutting down"));
    return;
  }
  ++call.attempt;
  if (address.empty()) {
    address = cluster_ == nullptr ? options_.address
                                  : cluster_->MasterOf(call.slot);
  }
  call.node = address;
  if (address.empty()) {
    Route(std::move(call),
          Unavailable(absl::StrCat("cluster: no master serves slot ",
                                   call.slot)));
    return;
  }
  Node* node = Connected(address);
  if (node == nullptr) {
    Route(std::move(call), Unavailable("is down"));
    return;
  }
  absl::Time deadline =
      std::min(call.deadline, absl::Now() + options_.command_timeout);
  // ASKING covers the next command only; its reply is dropped.
  if (call.asking &&
      redisAsyncCommand(node->context, nullptr, nullptr, "ASKING") !=
          REDIS_OK) {
    Route(std::move(call), Unavailable("write failed"));
    return;
  }
  auto* pending = new Pending{std::move(call), deadline};
  pending->position = node->in_flight.insert(node->in_flight.end(), pending);
  HiredisArgv hiredis(*pending->call.argv);
  if (redisAsyncCommandArgv(node->context, &RedisEventLoop::OnReply, pending,
                            hiredis.argc(), hiredis.argv(),
                            hiredis.lengths()) != REDIS_OK) {
    node->in_flight.erase(pending->position);
    Route(std::move(pending->call), Unavailable("write failed"));
    delete pending;
    return;
  }
  if (metrics_ != nullptr) {
    pending->sent = absl::Now();
    metrics_->event_loop_in_flight().Set(++in_flight_);
  }
  if (pending->call.confirm && options_.wait_replicas > 0) {
    pending->confirm = Pending::Confirm::kAwaiting;
    if (node->unconfirmed.empty()) to_confirm_.push_back(node);
    node->unconfirmed.push_back(pending);
  }
}

void RedisEventLoop::Route(Call call, absl::StatusOr<RedisReply> result) {
  RouteDecision next;  // standalone: the result is the answer
  if (cluster_ != nullptr && !closed_) {
    // A script waits out a migration rather than follow ASK
    // (DecideScriptRoute): vote.lua would count on the importing node's
    // part of the slot.
    next = (IsScriptCommand(call.argv->front()) ? DecideScriptRoute
                                                 : DecideRoute)(
        result, call.node, call.attempt, absl::Now(), call.deadline,
        cluster_->options().policy);
  }
  call.asking = false;
  switch (next.step) {
    case RouteStep::kReturn:
      if (!next.give_up.ok()) {
        result = next.give_up;
      } else if (result.ok() && IsTransientRedisError(*result)) {
        result = Unavailable(result->str);
      }
      CountFailure(result.status());
      std::move(call.done)(std::move(result));
      return;
    case RouteStep::kFollowMoved:
      cluster_->RecordMoved(next.redirect.slot, next.redirect.address);
      Send(std::move(call), next.redirect.address);
      return;
    case RouteStep::kFollowAsk:
      call.asking = true;
      Send(std::move(call), next.redirect.address);
      return;
    case RouteStep::kRefreshAndRetry: {
      absl::MutexLock lock(&refresh_mu_);
      refresh_wanted_ = true;
    }
      [[fallthrough]];
    case RouteStep::kRetry:
      delayed_.push_back({absl::Now() + next.wait, std::move(call)});
      return;
  }
}

void RedisEventLoop::SendDelayed() {
  if (delayed_.empty()) return;
  absl::Time now = absl::Now();
  // Sending may delay calls again: take the list first.
  for (Delayed& delayed : std::exchange(delayed_, {})) {
    if (delayed.due > now) {
      delayed_.push_back(std::move(delayed));
    } else {
      Send(std::move(delayed.call));
    }
  }
}

void RedisEventLoop::OnReply(redisAsyncContext* context, void* reply,
                             void* privdata) {
  auto* node = static_cast<Node*>(context->data);
  auto* pending = static_cast<Pending*>(privdata);
  absl::StatusOr<RedisReply> result = ReplyOf(reply);
  RedisEventLoop* loop = node->loop;
  switch (pending->confirm) {
    case Pending::Confirm::kAwaiting:
      if (pending->group != nullptr) {
        pending->reply = std::move(result);  // answered with the WAIT's reply
        return;
      }
      // Lost before its WAIT was sent (the connection dropped this turn):
      // unconfirmed, answered now.
      std::erase(node->unconfirmed, pending);
      if (MayHaveWritten(result)) result = Unavailable("connection lost");
      break;
    case Pending::Confirm::kUnsent:
      if (MayHaveWritten(result)) {
        result = Unavailable("WAIT for replicas not sent");
      }
      break;
    case Pending::Confirm::kNone:
      break;
  }
  Finish(node, pending, reply != nullptr, std::move(result));
  loop->SendWaits();
}

void RedisEventLoop::Finish(Node* node, Pending* pending, bool connected,
                            absl::StatusOr<RedisReply> result) {
  node->in_flight.erase(pending->position);
  RedisEventLoop* loop = node->loop;
  if (loop->metrics_ != nullptr) {
    loop->metrics_->event_loop_in_flight().Set(--loop->in_flight_);
    const Call& call = pending->call;
    prometheus::Histogram* timer =
        call.script != nullptr ? node->instruments.Script(call.script->name())
                               : node->instruments.Command(call.argv->front());
    if (result.ok() && !pending->answered) {
      timer->Observe(absl::ToDoubleSeconds(absl::Now() - pending->sent));
    }
  }
  if (!pending->answered) {
    Node* outer = std::exchange(loop->replying_, connected ? node : nullptr);
    loop->Route(std::move(pending->call), std::move(result));
    loop->replying_ = outer;
  }
  delete pending;
}

void RedisEventLoop::OnConnect(const redisAsyncContext* context, int status) {
  if (status == REDIS_OK) return;
  // hiredis frees a context that failed to connect (and runs the pending
  // callbacks with a null reply); it must not be used again.
  auto* node = static_cast<Node*>(context->data);
  if (node->context == context) node->context = nullptr;
}

void RedisEventLoop::OnDisconnect(const redisAsyncContext* context,
                                  int status) {
  auto* node = static_cast<Node*>(context->data);
  if (node->context == context) node->context = nullptr;
  if (status != REDIS_OK) {
    LogWarning("redis connection dropped",
               {{"address", node->address}, {"reason", context->errstr}});
  }
}

void RedisEventLoop::ExpireOverdue() {
  absl::Time now = absl::Now();
  // Answering may send (a batch's next one) and so add nodes: take them
  // first.
  std::vector<Node*> nodes;
  nodes.reserve(nodes_.size());
  for (auto& [address, node] : nodes_) nodes.push_back(node.get());
  for (Node* node : nodes) {
    bool stuck = false;
    for (Pending* pending : node->in_flight) {
      // Deadlines are not in send order (callers' deadlines differ): check
      // all.
      if (pending->answered || pending->deadline > now) continue;
      pending->answered = true;
      CountFailure(absl::DeadlineExceededError(""));
      std::move(pending->call.done)(
          absl::DeadlineExceededError("redis did not answer in time"));
      // Still unanswered long after its deadline: the connection is stuck.
      if (now - pending->deadline > options_.command_timeout) stuck = true;
    }
    if (stuck && node->context != nullptr) {
      // Frees at once; the pending callbacks run with null replies.
      redisAsyncFree(std::exchange(node->context, nullptr));
    }
  }
  // Batched calls still waiting for their batch's turn.
  for (auto& [id, batch] : batches_) {
    for (auto it = batch.waiting.begin(); it != batch.waiting.end();) {
      if (it->deadline > now) {
        ++it;
        continue;
      }
      CountFailure(absl::DeadlineExceededError(""));
      std::move(it->done)(
          absl::DeadlineExceededError("redis did not answer in time"));
      it = batch.waiting.erase(it);
    }
  }
}

}  // namespace townhall
