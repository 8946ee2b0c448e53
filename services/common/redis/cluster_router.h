// Redis Cluster routing over hiredis 0.14 (no packaged cluster client fits:
// hiredis-cluster needs hiredis >= 1.0). RedisConnection uses it when
// RedisOptions::cluster is set (--redis_cluster); see docs/redis-cluster.md.
//
// A ClusterTopology holds the slot map shared by a process and is
// thread-safe. A ClusterRouter is the cluster counterpart of one
// RedisConnection: owned by one thread (a RedisPool worker), it keeps one
// connection per master and sends each command to the master of its keys'
// slot, following MOVED and ASK (scripts back off on ASK instead, until the
// migration ends: DecideScriptRoute), backing off on TRYAGAIN and refreshing the
// map on CLUSTERDOWN or a lost connection, all within the caller's
// deadline.
//
//   TH_ASSIGN_OR_RETURN(std::shared_ptr<ClusterTopology> topology,
//                       ClusterTopology::Discover(options, deadline));
//   ClusterRouter router(topology);          // one per worker thread
//   router.set_deadline(call_deadline);
//   TH_ASSIGN_OR_RETURN(RedisReply reply,
//                       router.Eval(script, {prefix}, {arg1, arg2}));
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "services/common/redis/cluster_map.h"
#include "services/common/redis/lua_script.h"
#include "services/common/redis/redis_connection.h"
#include "services/common/redis/slot_readers.h"

namespace townhall {

struct ClusterOptions {
  // "host:port" of some nodes; the rest is discovered.
  std::vector<std::string> seeds;
  // Timeouts of every node connection (the address is ignored).
  RedisOptions node;
  RoutePolicy policy;
  // A refresh asked for sooner than this after the last one is skipped:
  // many workers that lose the same master cause one refresh.
  absl::Duration min_refresh_interval = absl::Milliseconds(100);
};

// The process's view of the cluster's slot map. Thread-safe.
class ClusterTopology {
 public:
  // Loads the map from the first seed that answers.
  static absl::StatusOr<std::shared_ptr<ClusterTopology>> Discover(
      ClusterOptions options, absl::Time deadline);

  // Returns the master serving `slot` ("host:port"), empty if none.
  std::string MasterOf(int slot) const ABSL_LOCKS_EXCLUDED(mu_);
  // Records a MOVED redirection: `address` now serves `slot`.
  void RecordMoved(int slot, absl::string_view address)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Reloads the map from any known node (masters, replicas, then seeds),
  // CLUSTER SHARDS with a CLUSTER SLOTS fallback. Skipped (OK) when a
  // refresh finished less than min_refresh_interval ago.
  absl::Status Refresh(absl::Time deadline) ABSL_LOCKS_EXCLUDED(refresh_mu_);

  // A copy of the current map (tests).
  ClusterMap Snapshot() const ABSL_LOCKS_EXCLUDED(mu_);
  // Map loads so far (the first one included).
  int refreshes() const ABSL_LOCKS_EXCLUDED(mu_);
  const ClusterOptions& options() const { return options_; }

 private:
  explicit ClusterTopology(ClusterOptions options)
      : options_(std::move(options)) {}
  absl::StatusOr<ClusterMap> LoadFrom(const std::string& address,
                                      absl::Time deadline) const;

  const ClusterOptions options_;
  absl::Mutex refresh_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  absl::Time last_refresh_ ABSL_GUARDED_BY(refresh_mu_) = absl::InfinitePast();
  mutable absl::Mutex mu_;
  ClusterMap map_ ABSL_GUARDED_BY(mu_);
  int refreshes_ ABSL_GUARDED_BY(mu_) = 0;
};

// Discovers the cluster of `seeds` ("host:port,host:port", as the flag
// --redis_cluster takes them) with the timeouts of `node`, allowing each
// seed a connect and a command timeout, and routes with `policy`. For
// RedisOptions::cluster.
absl::StatusOr<std::shared_ptr<ClusterTopology>> DiscoverCluster(
    absl::string_view seeds, const RedisOptions& node,
    RoutePolicy policy = {});

// Routes commands by key slot. Not thread-safe: one per worker thread.
class ClusterRouter {
 public:
  // `metrics` (null: off) goes to the connections to each master.
  explicit ClusterRouter(std::shared_ptr<ClusterTopology> topology,
                         RedisMetrics* metrics = nullptr);
  ClusterRouter(const ClusterRouter&) = delete;
  ClusterRouter& operator=(const ClusterRouter&) = delete;

  // Sets the deadline for the calls that follow; it holds across every
  // redirection, back-off and refresh of a call.
  void set_deadline(absl::Time deadline) { deadline_ = deadline; }

  // Runs `argv` on the master of the slot of `keys` (the command's key
  // arguments, all in one slot: else INTERNAL "CROSSSLOT", before
  // sending; none: any master, the one serving slot 0). Replies and
  // statuses as RedisConnection::Command.
  //
  // One exception to CROSSSLOT: an XREAD of streams in several slots (the
  // change-feed hub, the session cache and the revocation watcher read
  // every watched feed at once) becomes one XREAD per slot, all sent at
  // once with the call's BLOCK (SlotReaders); the first that answers with
  // entries ends the others' blocks, and every reply's entries are merged.
  // A slot whose read failed or was redirected is read again without
  // BLOCK through the routing above; if that fails, the whole call fails
  // (no partial reply: callers confirm the streams a reply leaves out).
  absl::StatusOr<RedisReply> Command(absl::Span<const std::string> keys,
                                     absl::Span<const std::string> argv);

  // Runs `script` like RedisConnection::Eval (EVALSHA, EVAL on NOSCRIPT on
  // each node, TH:<CODE> errors as statuses) on the master of its keys.
  absl::StatusOr<RedisReply> Eval(const LuaScript& script,
                                  absl::Span<const std::string> keys,
                                  absl::Span<const std::string> args);
  // Eval without the error mapping (RedisConnection::EvalReply).
  absl::StatusOr<RedisReply> EvalReply(const LuaScript& script,
                                       absl::Span<const std::string> keys,
                                       absl::Span<const std::string> args);

  // Runs `commands` (keys from CommandKeys) and returns their replies in
  // order: one round trip per master, with the commands of its slots (all
  // of them when their keys share a slot, as in every service pipeline: a
  // tenant's keys share its hash tag). Commands a master redirects (MOVED,
  // ASK), whose round trip failed, or whose own keys span slots go again
  // one by one through Command. Like Command's retries, a failed round
  // trip may repeat commands that did run: they must be idempotent.
  absl::StatusOr<std::vector<RedisReply>> Pipeline(
      absl::Span<const std::vector<std::string>> commands);

 private:
  // Sends the command to one node; `asking` after an ASK redirection.
  using Send = absl::FunctionRef<absl::StatusOr<RedisReply>(
      RedisConnection& node, bool asking)>;
  // `script`: EVAL/EVALSHA, which waits out a migration instead of
  // following ASK (DecideScriptRoute).
  absl::StatusOr<RedisReply> Route(absl::Span<const std::string> keys,
                                   bool script, Send send);
  RedisConnection& ConnectionTo(const std::string& address);
  // The cross-slot XREAD of Command.
  absl::StatusOr<RedisReply> ReadStreamsBySlot(
      absl::Span<const std::string> argv);
  // Ends blocked XREADs of SlotReaders on `master`.
  void Unblock(const std::string& master, absl::Span<const int64_t> client_ids);

  std::shared_ptr<ClusterTopology> topology_;
  RedisMetrics* const metrics_;
  absl::flat_hash_map<std::string, std::unique_ptr<RedisConnection>>
      connections_;
  SlotReaders slot_readers_;
  absl::Time deadline_ = absl::InfiniteFuture();
};

}  // namespace townhall
