// Redis Cluster slot map and redirection policy: pure data and decisions,
// no I/O, so that every branch is unit-tested with canned replies.
//
//   TH_ASSIGN_OR_RETURN(ClusterMap map, ClusterMap::FromShardsReply(reply));
//   std::string node = map.MasterOf(KeySlot(key));   // "127.0.0.1:7100"
//   RouteDecision next = DecideRoute(result, node, attempt, now, deadline,
//                                    policy);   // MOVED, ASK, back off ...
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/common/redis/cluster_slot.h"
#include "services/common/redis/redis_reply.h"

namespace townhall {

// Which master serves each of the 16384 slots, and every node named in
// the topology (masters and replicas), the candidates for a refresh.
class ClusterMap {
 public:
  // An empty map: no slot is served.
  ClusterMap();

  // Parses CLUSTER SHARDS (Redis >= 7.0). A shard whose master is not
  // online (failed, loading) serves no slot, so that calls to its slots
  // fail fast until a replica is promoted.
  static absl::StatusOr<ClusterMap> FromShardsReply(const RedisReply& reply);
  // Parses CLUSTER SLOTS (every Redis Cluster version).
  static absl::StatusOr<ClusterMap> FromSlotsReply(const RedisReply& reply);

  // Returns "host:port" of the master serving `slot`; empty if none does.
  const std::string& MasterOf(int slot) const;
  // Records that `address` serves `slot` (after a MOVED redirection).
  void SetMaster(int slot, absl::string_view address);

  // Every known node, masters first, without duplicates.
  std::vector<std::string> Nodes() const;
  // The masters that serve at least one slot.
  std::vector<std::string> Masters() const;
  // Slots that no master serves.
  int UnservedSlots() const;

 private:
  int IndexOf(absl::string_view address, bool master);

  struct Node {
    std::string address;
    bool master = false;
  };
  std::vector<Node> nodes_;
  // Index into nodes_ per slot; -1 when unserved.
  std::vector<int16_t> owner_;
};

// A MOVED or ASK error reply: "MOVED 3999 127.0.0.1:6381".
struct Redirect {
  enum class Kind { kMoved, kAsk };
  Kind kind = Kind::kMoved;
  int slot = 0;
  std::string address;
};

// Parses a redirection error; nullopt for any other error. An empty host
// (":6380", a node that does not know its own address) means the host of
// `from_address`, the node that answered.
std::optional<Redirect> ParseRedirect(absl::string_view error,
                                      absl::string_view from_address);

struct RoutePolicy {
  // Sends per call, redirections and retries together.
  int max_attempts = 16;
  // Back-off before the n-th retry: first_backoff * 2^(n-1), at most
  // max_backoff, and never past the caller's deadline.
  absl::Duration first_backoff = absl::Milliseconds(10);
  absl::Duration max_backoff = absl::Milliseconds(400);
  // Back-offs of one call for an unreachable master (lost connection,
  // CLUSTERDOWN, no master for the slot) add up to at most this; then the
  // call fails UNAVAILABLE (--redis_retry_budget). While a master is down
  // and its replica not yet promoted (the cluster's node timeout and then
  // some), calls to its slots fail fast instead of waiting out their
  // deadlines; clients retry UNAVAILABLE. A slot in migration (TRYAGAIN,
  // scripts waiting for it) is not bounded by it, only by max_attempts and
  // the deadline.
  absl::Duration retry_budget = absl::Seconds(1);
};

enum class RouteStep {
  // Hand the result to the caller: a reply (error replies other than
  // redirections included), or `give_up` when set.
  kReturn,
  // Update the map (slot -> redirect.address) and send there.
  kFollowMoved,
  // Send ASKING then the command to redirect.address, once; the map stays.
  kFollowAsk,
  // Wait `wait` and send again to the map's master (TRYAGAIN: a multi-key
  // command met a slot in migration).
  kRetry,
  // Refresh the map from any known node, wait `wait` and send again
  // (connection lost, CLUSTERDOWN, READONLY, MASTERDOWN, unserved slot).
  kRefreshAndRetry,
};

struct RouteDecision {
  RouteStep step = RouteStep::kReturn;
  Redirect redirect;
  absl::Duration wait = absl::ZeroDuration();
  // For kReturn: the status to return instead of the result (attempts or
  // time used up).
  absl::Status give_up;
};

// Decides what to do with the `attempt`-th (1-based) result of sending a
// command to `node`. Redirections are followed at once; retries back off
// exponentially and give up (UNAVAILABLE) when the back-off would pass
// `deadline`, so the caller's deadline holds across every redirection and
// refresh. Transport failures are retried too: routed commands must be
// idempotent (townhall's scripts are, by request id).
RouteDecision DecideRoute(const absl::StatusOr<RedisReply>& result,
                          absl::string_view node, int attempt, absl::Time now,
                          absl::Time deadline, const RoutePolicy& policy);

// DecideRoute for a script (EVAL, EVALSHA), which does not follow ASK: it
// backs off as for TRYAGAIN and goes again to the map's master, until the
// migration ends and that node answers MOVED. A script builds keys from
// KEYS[1] that Redis does not see (KEYS[1] itself, a prefix, never exists,
// so the migrating node answers ASK at once), and the importing node would
// run it on the part of the slot moved so far: a question not found yet, a
// count written beside the one still on the source, keys MIGRATE then
// refuses to move (BUSYKEY).
RouteDecision DecideScriptRoute(const absl::StatusOr<RedisReply>& result,
                                absl::string_view node, int attempt,
                                absl::Time now, absl::Time deadline,
                                const RoutePolicy& policy);

// Whether `command` (argv[0]) runs a script: EVAL, EVALSHA or their _RO
// forms.
bool IsScriptCommand(absl::string_view command);

}  // namespace townhall
