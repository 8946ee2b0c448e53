// Test support: grpc.health.v1 checks without generated health stubs
// (Debian's gRPC does not install them), through the generic stub.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace townhall::testing {

// Calls grpc.health.v1.Health/Check for `service`; true when SERVING.
absl::StatusOr<bool> CheckServing(const std::string& address,
                                  const std::string& service);

// Polls CheckServing until it equals `serving`; false on timeout.
bool WaitForHealth(const std::string& address, const std::string& service,
                   bool serving, absl::Duration timeout);

}  // namespace townhall::testing
