// Test support: a real local Redis Cluster (3 masters, 3 replicas) of
// redis-server child processes on loopback ports, built with
// `redis-cli --cluster create`.
//
//   TH_ASSIGN_OR_RETURN(std::unique_ptr<RedisCluster> cluster,
//                       RedisCluster::Start());
//   ClusterOptions options;
//   options.seeds = cluster->addresses();
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/common/redis/cluster_router.h"
#include "services/common/redis/redis_reply.h"
#include "tests/testing/child_process.h"

namespace townhall::testing {

struct RedisClusterOptions {
  // Client ports come from [first_port, last_port]; each node's cluster bus
  // uses port + 10000, which must be free too.
  int first_port = 7100;
  int last_port = 7199;
  int masters = 3;
  int replicas_per_master = 1;
  // How long a node may be unreachable before it is failed over. Long by
  // default: on a loaded 2-core CI machine a node can miss its pings for a
  // second, and a failover nobody asked for loses the writes not yet
  // replicated. Tests that fail nodes over on purpose set a short one.
  absl::Duration node_timeout = absl::Seconds(15);
};

// Killed (SIGKILL) when destroyed, data directory removed.
class RedisCluster {
 public:
  // Starts the nodes, creates the cluster and waits until every node says
  // cluster_state:ok and every replica is in sync.
  static absl::StatusOr<std::unique_ptr<RedisCluster>> Start(
      RedisClusterOptions options = {});
  ~RedisCluster();
  RedisCluster(const RedisCluster&) = delete;
  RedisCluster& operator=(const RedisCluster&) = delete;

  // "127.0.0.1:<port>" of every node started (killed ones included).
  std::vector<std::string> addresses() const;
  const RedisClusterOptions& options() const { return options_; }
  // The slot map, discovered from every node (`options.seeds` is
  // overwritten), 5 s deadline: what a test's routed clients share.
  absl::StatusOr<std::shared_ptr<ClusterTopology>> DiscoverTopology(
      ClusterOptions options = {}) const;

  // Runs one command on one node directly (no routing), 2 s deadline.
  absl::StatusOr<RedisReply> Command(const std::string& address,
                                     const std::vector<std::string>& argv);
  // The node's cluster id (CLUSTER MYID).
  absl::StatusOr<std::string> NodeId(const std::string& address);
  // Moves `slot` from `source` to `target` as `redis-cli --cluster
  // reshard` does, in two steps: marks it importing/migrating (the source
  // answers ASK for keys it no longer has) ...
  absl::Status StartMigration(int slot, const std::string& source,
                              const std::string& target);
  // ... then migrates `keys` and hands the slot to `target` on every one of
  // `masters` (they answer MOVED from then on).
  absl::Status FinishMigration(int slot, const std::string& source,
                               const std::string& target,
                               const std::vector<std::string>& keys,
                               const std::vector<std::string>& masters);
  // Moves `slot` with its keys from `source` to `target` while clients use
  // it, as `redis-cli --cluster reshard` does: StartMigration, then
  // MIGRATE of at most `batch` keys at a time (CLUSTER GETKEYSINSLOT),
  // waiting `pause` after each batch so that clients meet a slot split
  // between two nodes, then SETSLOT NODE on the target, the source and the
  // other masters. Returns the number of keys moved.
  absl::StatusOr<int> MigrateSlot(int slot, const std::string& source,
                                  const std::string& target, int batch,
                                  absl::Duration pause);
  // SIGKILLs the node at `address`, like a crash.
  void Kill(const std::string& address);
  // Starts the killed node at `address` again, same port and flags, and
  // waits until it answers PING. It keeps its nodes.conf but no data (no
  // persistence): start it only after its replica took over, and it
  // rejoins as that one's replica (WaitUntilSynced: until it has synced).
  absl::Status Restart(const std::string& address);
  // Waits until every running node says cluster_state:ok.
  absl::Status WaitUntilHealthy(absl::Duration timeout);
  // Waits until masters * replicas_per_master replicas are in sync with
  // their master.
  absl::Status WaitUntilSynced(absl::Duration timeout);

 private:
  struct Node {
    int port;
    std::vector<std::string> argv;
    ChildProcess process;
  };
  explicit RedisCluster(RedisClusterOptions options);
  // Command that fails on an error reply too.
  absl::Status CommandOk(const std::string& address,
                         const std::vector<std::string>& argv);
  // MIGRATE of `keys` from `source` to `target`.
  absl::Status Migrate(const std::string& source, const std::string& target,
                       const std::vector<std::string>& keys);
  absl::Status Launch();
  // Waits up to `timeout` until `address` answers PING.
  absl::Status WaitForPing(const std::string& address, absl::Duration timeout);

  RedisClusterOptions options_;
  std::string dir_;
  std::vector<Node> nodes_;
};

}  // namespace townhall::testing
