// Test support for clients that ride out server or storage trouble: which
// errors a client retries (the same request again), and a gRPC channel that
// reconnects quickly to a restarted server.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/status.h"

namespace townhall::testing {

// Errors after which the request may or may not have been applied: the
// client sends it again, unchanged. A killed server, a broken connection or
// storage in the middle of a failover or a reshard shows as UNAVAILABLE.
inline bool IsTransient(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnavailable ||
         status.code() == absl::StatusCode::kDeadlineExceeded;
}

// A channel that reconnects quickly to a restarted server (gRPC's default
// backoff grows to two minutes).
inline std::shared_ptr<grpc::Channel> FastReconnectChannel(
    const std::string& address) {
  grpc::ChannelArguments arguments;
  arguments.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  arguments.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(),
                                   arguments);
}

}  // namespace townhall::testing
