// Test support: real townhalld processes on one shared Redis, for tests
// that need several servers (concurrency and delivery across processes).
//
//   TownhalldFleet fleet;
//   ASSERT_OK(fleet.Start(TOWNHALLD_PATH, 2, "townhall.v1.AgendaService"));
//   TownhallClient a({.address = fleet.address(0), .token = ...});
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tests/testing/child_process.h"

namespace townhall::testing {

// The townhalld flag for the shared Redis: --redis_cluster=<seeds> when
// $TOWNHALL_TEST_REDIS_CLUSTER is set (as SharedTestCluster()), else
// --redis=<SharedRedisAddress()>.
std::string SharedRedisFlag();

class TownhalldFleet {
 public:
  TownhalldFleet() = default;
  ~TownhalldFleet();  // stops the processes, removes the key files

  // Starts `count` townhalld processes (binary `path`) on free ports and
  // `redis_address` (when empty, the shared Redis: SharedRedisAddress(), or
  // the cluster of $TOWNHALL_TEST_REDIS_CLUSTER), with the test keys
  // (TestKeys(), so tokens signed with SignTestToken verify) and
  // kTestBootstrapCredential, and waits until each reports `health_service`
  // SERVING. With `cluster`, `redis_address` is the seeds of a Redis
  // Cluster (--redis_cluster=).
  absl::Status Start(const std::string& path, int count,
                     absl::string_view health_service,
                     const std::string& redis_address = "",
                     bool cluster = false);

  // Kills process `i` with SIGKILL (a crash: no drain, no goodbye).
  void Kill(int i) { servers_[i].process.Kill(); }
  // Starts process `i` again, on the same address and flags, and waits
  // until it reports SERVING.
  absl::Status Restart(int i);

  const std::string& address(int i) const { return servers_[i].address; }
  int size() const { return static_cast<int>(servers_.size()); }

  // Creates tenant `tenant_id` through the first process and returns an
  // organizer token for it.
  absl::StatusOr<std::string> CreateTenant(const std::string& tenant_id);

 private:
  struct Server {
    std::string address;
    std::vector<std::string> argv;
    ChildProcess process;
  };
  // Spawns `server.argv` and waits for health.
  absl::Status Launch(Server& server);

  std::filesystem::path dir_;
  std::string health_service_;
  std::vector<Server> servers_;
};

}  // namespace townhall::testing
