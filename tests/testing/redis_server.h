// Test support: real Redis servers for integration tests (no fakes).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/common/redis/redis_connection.h"
#include "services/common/redis/redis_reply.h"
#include "tests/testing/child_process.h"

namespace townhall::testing {

struct RedisServerOptions {
  // Append-only file with fsync on every write (as deployed), in a fresh
  // temporary directory, so that data survives Stop() and Restart().
  bool persistent = false;
};

// A redis-server child process on a free loopback port. Stopped (SIGKILL)
// when destroyed.
class RedisServer {
 public:
  static absl::StatusOr<std::unique_ptr<RedisServer>> Start(
      RedisServerOptions options = {});
  ~RedisServer();

  std::string address() const;
  int port() const { return port_; }

  // Kills the server abruptly (like a crash or a network cut).
  void Stop();
  // Starts it again on the same port.
  absl::Status Restart();
  // Freezes the server (SIGSTOP): connections stay open but nothing is
  // answered, like a Redis stuck in a long command or a blackholed network.
  void Pause();
  // Lets a paused server run again (SIGCONT).
  void Resume();

 private:
  RedisServer(int port, RedisServerOptions options);
  absl::Status Launch();

  int port_;
  RedisServerOptions options_;
  std::string dir_;
  ChildProcess process_;
};

// The Redis shared by tests in this process: $TOWNHALL_TEST_REDIS
// (host:port, started by tests/run.sh) or, when unset, one started here.
// Tests sharing it isolate themselves with fresh tenant ids.
std::string SharedRedisAddress();

// The cluster named by $TOWNHALL_TEST_REDIS_CLUSTER (seed nodes,
// "host:port,host:port"), discovered once; null when unset. When set, it
// replaces SharedRedisAddress() for test servers (cluster mode), for
// TownhalldFleet and for SharedRedisOptions(), so that a suite runs against
// a Redis Cluster unchanged.
std::shared_ptr<ClusterTopology> SharedTestCluster();

// Options of a connection of a test's own to the shared Redis: in cluster
// mode on SharedTestCluster() when set (routed commands work unchanged),
// else SharedRedisAddress().
RedisOptions SharedRedisOptions();

// Runs `argv`, a command a cluster cannot route to one node (KEYS, SCRIPT
// FLUSH, ...), on every master of the shared Redis (on the one server when
// standalone); one reply per master. Error replies fail the call.
absl::StatusOr<std::vector<RedisReply>> CommandOnEveryMaster(
    const std::vector<std::string>& argv);

// Returns a free TCP port on 127.0.0.1.
int PickFreePort();

}  // namespace townhall::testing
