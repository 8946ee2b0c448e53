// One synchronous hiredis connection with deadlines and lazy reconnects.
//
// A RedisConnection is owned by exactly one worker thread of a RedisPool
// (hiredis contexts are not thread-safe). Every command has a timeout: the
// smaller of the configured command timeout and the caller's deadline. A
// connection that failed or timed out is dropped (a failed hiredis context
// is dead, and a timed-out one may still deliver the late reply) and a new
// one is made on the next command.
//
// With RedisOptions::cluster set, the connection talks to a Redis Cluster:
// each call goes to the master of its keys' slot through a ClusterRouter
// the connection owns (docs/redis-cluster.md), and callers do not change.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "services/common/metrics/metrics.h"
#include "services/common/redis/lua_script.h"
#include "services/common/redis/redis_reply.h"

struct redisContext;

namespace townhall {

class ClusterRouter;
class ClusterTopology;

struct RedisOptions {
  // "host:port" or "unix:/path/to/socket".
  std::string address = "127.0.0.1:6379";
  absl::Duration connect_timeout = absl::Milliseconds(500);
  absl::Duration command_timeout = absl::Seconds(2);
  // Worker threads (and connections) of a RedisPool.
  int pool_size = 8;
  // Tasks waiting for a worker before Submit refuses with UNAVAILABLE.
  int max_queue = 10000;
  // --redis_wait_replicas: after every write (a script that writes,
  // CommandWrites), WAIT until this many replicas have it, at most
  // `wait_timeout`; fewer is UNAVAILABLE (replica_wait.h). 0: no WAIT.
  int wait_replicas = 0;
  absl::Duration wait_timeout = absl::Milliseconds(500);
  // Redis Cluster mode when set (`address` is then unused): the slot map
  // shared by every connection of the process (DiscoverCluster).
  std::shared_ptr<ClusterTopology> cluster;
  // Latency, errors and reconnects of every connection made with these
  // options (metrics.h); null: off.
  RedisMetrics* metrics = nullptr;
};

class RedisConnection {
 public:
  explicit RedisConnection(RedisOptions options);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // Sets the deadline for the commands that follow (the RPC's deadline).
  void set_deadline(absl::Time deadline) { deadline_ = deadline; }
  absl::Time deadline() const { return deadline_; }

  // Runs one command. In cluster mode it runs on the master of its keys
  // (command_keys.h; keyless commands such as PING on any master), and keys
  // in more than one slot fail with INTERNAL "CROSSSLOT" before sending
  // (except XREAD: see ClusterRouter::Command).
  // Transport failures and timeouts give UNAVAILABLE (or
  // DEADLINE_EXCEEDED once the deadline has passed); Redis error replies
  // are returned as values of type kError, not as a failed status.
  absl::StatusOr<RedisReply> Command(absl::Span<const std::string> argv);

  // Sends all commands in one round trip and returns their replies in order.
  // In cluster mode that holds when their keys share a slot; commands of
  // different slots go one by one (ClusterRouter::Pipeline).
  absl::StatusOr<std::vector<RedisReply>> Pipeline(
      absl::Span<const std::vector<std::string>> commands);

  // Runs a script with EVALSHA, loading it with EVAL on NOSCRIPT (with
  // wait_replicas, and a script that writes, WAIT in the same round trip:
  // too few replicas is UNAVAILABLE). A script
  // error of the form "TH:<CODE>:<message>" becomes an absl::Status with
  // that code (CODE is a canonical name such as ABORTED); other script
  // errors become INTERNAL.
  absl::StatusOr<RedisReply> Eval(const LuaScript& script,
                                  absl::Span<const std::string> keys,
                                  absl::Span<const std::string> args);

  // Eval without the error mapping: EVALSHA (EVAL on NOSCRIPT) and the raw
  // reply, error replies included (a cluster router reads MOVED/ASK there).
  absl::StatusOr<RedisReply> EvalReply(const LuaScript& script,
                                       absl::Span<const std::string> keys,
                                       absl::Span<const std::string> args);

  // A command split in two, so that one thread can wait on several
  // connections with poll(2) (ClusterRouter's concurrent blocking XREADs).
  // Standalone mode only. Send writes `argv` and does not wait for the
  // reply; fd() is then the socket to poll. Receive, once fd() is
  // readable, reads what arrived and returns the reply when it is whole
  // (nullopt: not yet). Failures drop the connection, as Command's do.
  absl::Status Send(absl::Span<const std::string> argv);
  int fd() const;
  absl::StatusOr<std::optional<RedisReply>> Receive();

 private:
  // The standalone Pipeline: one round trip to options_.address. With
  // `confirm` and wait_replicas, a WAIT follows the commands in the same
  // round trip, and too few replicas fails the call with UNAVAILABLE
  // (unless a command got an error reply: it wrote nothing to confirm).
  absl::StatusOr<std::vector<RedisReply>> SendPipeline(
      absl::Span<const std::vector<std::string>> commands, bool confirm);
  absl::Status EnsureConnected();
  // Times a call that started at `start` into `histogram` (null: metrics
  // off), or counts its failure.
  void Record(prometheus::Histogram* histogram, absl::Time start,
              const absl::Status& status);
  // Applies the effective timeout to the socket; fails once past deadline.
  absl::Status ApplyTimeout();
  void Drop(absl::string_view why);
  absl::Status TransportError(absl::string_view what);

  RedisOptions options_;
  redisContext* context_ = nullptr;
  absl::Time deadline_ = absl::InfiniteFuture();
  absl::Duration applied_timeout_ = absl::ZeroDuration();
  absl::Time last_connect_failure_ = absl::InfinitePast();
  bool ever_connected_ = false;
  // Standalone mode: this connection's node (options_.address).
  RedisInstruments instruments_;
  // Cluster mode only; then context_ stays null.
  std::unique_ptr<ClusterRouter> router_;
};

// Parses a script error reply ("TH:NOT_FOUND:session abc not found").
absl::Status ScriptErrorToStatus(absl::string_view error);

// A script's reply with an error reply turned into its status (INTERNAL
// ones, a bug in the script, are logged naming `script`).
absl::StatusOr<RedisReply> ScriptReplyToStatus(absl::StatusOr<RedisReply> reply,
                                               const LuaScript& script);

}  // namespace townhall
