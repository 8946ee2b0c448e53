// Test support: real Redis servers for integration tests (no fakes).
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace townhall::testing {

// A redis-server child process on a free loopback port, without
// persistence. Stopped (SIGKILL) when destroyed.
class RedisServer {
 public:
  static absl::StatusOr<std::unique_ptr<RedisServer>> Start();
  ~RedisServer();

  std::string address() const;
  int port() const { return port_; }

  // Kills the server abruptly (like a crash or a network cut).
  void Stop();
  // Starts it again on the same port.
  absl::Status Restart();

 private:
  explicit RedisServer(int port) : port_(port) {}
  absl::Status Launch();

  int port_;
  pid_t pid_ = -1;
};

// The Redis shared by tests in this process: $TOWNHALL_TEST_REDIS
// (host:port, started by tests/run.sh) or, when unset, one started here.
// Tests sharing it isolate themselves with fresh tenant ids.
std::string SharedRedisAddress();

// Returns a free TCP port on 127.0.0.1.
int PickFreePort();

}  // namespace townhall::testing
