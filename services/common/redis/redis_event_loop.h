// RedisEventLoop: hiredis' async API on one event-loop thread (libevent),
// for hot read paths.
//
// Many commands are in flight on one connection at once and Redis answers
// them in order, so a busy server pays one wake-up per batch instead of a
// worker hand-off and a blocking round trip per call (see
// docs/benchmarks.md). Callers on any thread submit a command with a
// deadline; the callback runs exactly once, on the loop thread, and must be
// quick (finish a gRPC call, not more Redis work).
//
//   loop.Command({"HMGET", key, "data"}, deadline,
//                [](absl::StatusOr<RedisReply> reply) { ... });
//
// Hot scripts called many times at once (votes) can be batched:
// EvalBatched sends the calls of one script and key that wait together as
// one EVALSHA, so Redis runs the script, parses a command and propagates a
// transaction once per batch instead of once per call.
//
// Failures: no connection or a dropped one is UNAVAILABLE; a command not
// answered by its deadline (the smaller of the caller's and
// RedisOptions::command_timeout) fails with DEADLINE_EXCEEDED or
// UNAVAILABLE, and its late reply is ignored (replies stay matched to their
// commands, so nothing shifts). A connection whose replies stop coming is
// dropped and made again.
//
// Cluster mode (RedisOptions::cluster set): one async connection per
// master, all on the loop thread; each call goes to the master of its keys'
// slot (CommandKeys; keys of two slots fail with INTERNAL "CROSSSLOT"
// before sending, keyless commands go to slot 0's master), following MOVED
// (the shared ClusterTopology is updated) and ASK (ASKING + the command,
// once; a script backs off instead until the migration ends:
// DecideScriptRoute), and backing off within the call's deadline on TRYAGAIN,
// CLUSTERDOWN or a lost connection, while a helper thread refreshes the
// topology. The DecideRoute policy is ClusterRouter's. Standalone mode is
// the same code with one node that serves every slot and no redirections.
// As with ClusterRouter, a call may be sent again after a lost connection:
// commands must be idempotent.
#pragma once

#include <list>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "services/common/redis/lua_script.h"
#include "services/common/redis/redis_connection.h"
#include "services/common/redis/redis_reply.h"

struct event_base;
struct event;
struct redisAsyncContext;

namespace townhall {

class ClusterTopology;

class RedisEventLoop {
 public:
  using Callback = absl::AnyInvocable<void(absl::StatusOr<RedisReply>) &&>;

  explicit RedisEventLoop(RedisOptions options);
  // Fails what is still pending with UNAVAILABLE, then stops the thread.
  ~RedisEventLoop();
  RedisEventLoop(const RedisEventLoop&) = delete;
  RedisEventLoop& operator=(const RedisEventLoop&) = delete;

  // Thread-safe. Sends `argv` and calls `done` with the reply. (In cluster
  // mode, keys of two slots fail at once, on the caller's thread.)
  void Command(std::vector<std::string> argv, absl::Time deadline,
               Callback done);

  // Thread-safe. Runs `script` with EVALSHA (EVAL on NOSCRIPT) and calls
  // `done` with its reply; a script error becomes a status as in
  // RedisConnection::Eval. For hot mutations that are one script. (In
  // cluster mode, keys of two slots fail at once, on the caller's thread.)
  // `script` must outlive the call (embedded scripts live forever).
  void Eval(const LuaScript& script, const std::vector<std::string>& keys,
            const std::vector<std::string>& args, absl::Time deadline,
            Callback done);

  // Thread-safe. Like Eval with the one key `key`, for a script written to
  // take a batch: calls of the same `script` and `key` that wait to be sent
  // go together as one EVALSHA whose ARGV is their `args` concatenated
  // (every call of a script passes the same number of args), and the script
  // returns an array with one reply per call, in order; `done` gets its
  // own. At most kMaxBatchesInFlight batches per (script, key) are in
  // flight, so calls that arrive meanwhile wait for a reply and then go as
  // the next batch: an idle loop sends a call at once, a busy one sends
  // bigger batches. The next batch is written before the replies of the
  // last are handed out, so Redis runs it meanwhile. A failure of the batch
  // (a script error, a timeout, a dropped connection) is every call's
  // failure.
  void EvalBatched(const LuaScript& script, std::string key,
                   std::vector<std::string> args, absl::Time deadline,
                   Callback done);

  // Calls per batch at most (a batch is one script run that blocks Redis).
  static constexpr size_t kMaxBatchCalls = 64;
  // Batches of one (script, key) in flight at once.
  static constexpr int kMaxBatchesInFlight = 2;

 private:
  struct Node;
  struct Pending;
  struct WaitGroup;
  struct Submitted {
    // Shared with an EVALSHA's callback, which resends it as EVAL on
    // NOSCRIPT. For an EvalBatched call, only the call's args.
    std::shared_ptr<std::vector<std::string>> argv;
    absl::Time deadline;
    Callback done;
    // The slot of the command's keys (cluster mode; else 0).
    int slot = 0;
    // A write to confirm with WAIT (RedisOptions::wait_replicas).
    bool confirm = false;
    // EvalBatched calls only: their script and batch (script SHA1 + key).
    const LuaScript* batch_script = nullptr;
    // Eval and EvalBatched: the script (metrics name the latency by it).
    const LuaScript* script = nullptr;
    std::string batch_id;
    std::string batch_key;
  };
  // A command on its way: sent, redirected, or waiting to be sent again.
  struct Call {
    std::shared_ptr<std::vector<std::string>> argv;
    absl::Time deadline;  // the caller's: it holds across every redirection
    Callback done;
    int slot = 0;
    bool confirm = false;  // WAIT for replicas after it
    int attempt = 0;       // sends so far
    std::string node;  // address of the last send
    bool asking = false;
    const LuaScript* script = nullptr;  // Submitted::script
  };
  // A call backing off before it is sent again to its slot's master.
  struct Delayed {
    absl::Time due;
    Call call;
  };
  // The EvalBatched calls of one (script, key) waiting for the batch in
  // flight.
  struct Batch {
    int in_flight = 0;  // batches sent and not answered
    std::list<Submitted> waiting;
  };

  static void OnWake(int fd, short what, void* self);
  static void OnTick(int fd, short what, void* self);
  static void OnReply(redisAsyncContext* context, void* reply, void* privdata);
  // The reply to the WAIT sent after writes to confirm (Call::confirm).
  static void OnWaitReply(redisAsyncContext* context, void* reply,
                          void* privdata);
  // Answers (or redirects, retries) `pending` with `result` and frees it.
  static void Finish(Node* node, Pending* pending, bool connected,
                     absl::StatusOr<RedisReply> result);
  static void OnConnect(const redisAsyncContext* context, int status);
  static void OnDisconnect(const redisAsyncContext* context, int status);

  // Counts a call that failed with `status` (metrics).
  void CountFailure(const absl::Status& status) {
    if (metrics_ != nullptr) metrics_->Failed(status);
  }
  // The slot of `keys`: 0 for none or in standalone mode (where it is
  // unused), CROSSSLOT for keys of two slots.
  absl::StatusOr<int> SlotOf(absl::Span<const std::string> keys) const;
  void Enqueue(Submitted item);
  // EVALSHA's reply callback: EVAL on NOSCRIPT, script errors as statuses.
  Callback ScriptCallback(const LuaScript& script, int slot,
                          std::shared_ptr<std::vector<std::string>> argv,
                          absl::Time deadline, Callback done);
  // ScriptReplyToStatus, counting a script's bug (metrics).
  absl::StatusOr<RedisReply> ScriptStatus(absl::StatusOr<RedisReply> reply,
                                          const LuaScript& script);
  // Cluster mode: refreshes the topology whenever the loop asks for it.
  void RefreshTopology();

  // Loop thread only, from here on.
  void SendQueued();
  // Sends `call` to `address`, or to its slot's master when empty.
  void Send(Call call, std::string address = "");
  // Decides what `result` (of call.node) means: the call's answer, or a
  // redirection, or a retry (DecideRoute; standalone mode never retries).
  void Route(Call call, absl::StatusOr<RedisReply> result);
  // Sends the next batch of `batch_id` unless one is in flight.
  void SendBatch(const std::string& batch_id);
  // The node at `address`, connected (or connecting); null while it is
  // down.
  Node* Connected(const std::string& address);
  void SendDelayed();
  void ExpireOverdue();
  // Sends a WAIT to each node with writes to confirm
  // (RedisOptions::wait_replicas) and no WAIT out; a node with one out gets
  // its next WAIT when that one answers (OnWaitReply), for every write sent
  // meanwhile. Called at the end of every loop callback that may send:
  // hiredis writes what was appended only after the callback returns, so
  // no reply can arrive before its WAIT is appended, and Redis runs the
  // WAIT after them all.
  void SendWaits();

  const RedisOptions options_;
  // Cluster mode only: the slot map.
  ClusterTopology* const cluster_;
  event_base* base_ = nullptr;
  event* wake_ = nullptr;
  event* tick_ = nullptr;
  // One per address, made on first use and kept.
  absl::flat_hash_map<std::string, std::unique_ptr<Node>> nodes_;
  // The node whose reply is being handled (OnReply).
  Node* replying_ = nullptr;
  // Nodes with writes to confirm and no WAIT yet (SendWaits).
  std::vector<Node*> to_confirm_;
  std::vector<Delayed> delayed_;
  // EvalBatched calls by batch id; a batch is dropped when none is in flight
  // and none waits.
  absl::flat_hash_map<std::string, Batch> batches_;
  // Set once the loop has stopped: nothing is sent any more.
  bool closed_ = false;
  // Metrics (loop thread): commands in flight, batch sizes by script.
  RedisMetrics* const metrics_;
  int in_flight_ = 0;
  absl::flat_hash_map<const LuaScript*, prometheus::Histogram*> batch_sizes_;

  absl::Mutex mu_;
  std::vector<Submitted> queue_ ABSL_GUARDED_BY(mu_);
  // The loop has been woken and has not yet taken the queue.
  bool wake_pending_ ABSL_GUARDED_BY(mu_) = false;
  // Batch ids with kMaxBatchesInFlight batches in flight. A call for one of
  // them does not wake the loop, which could only park it: the batch's
  // reply takes the queue (most votes arrive while their batch is full).
  absl::flat_hash_set<std::string> full_batches_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  // Cluster mode: topology refreshes run off the loop thread (they block
  // on other nodes), coalesced by ClusterTopology::Refresh.
  absl::Mutex refresh_mu_;
  bool refresh_wanted_ ABSL_GUARDED_BY(refresh_mu_) = false;
  bool refresh_stopping_ ABSL_GUARDED_BY(refresh_mu_) = false;
  std::thread refresher_;

  std::thread thread_;
};

}  // namespace townhall
