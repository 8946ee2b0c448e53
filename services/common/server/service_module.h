// A ServiceModule is one gRPC service that townhalld can host. Modules are
// plain libraries; a binary picks which ones it hosts (townhalld
// --services=scheduling,...), in the spirit of Loki's -target.
#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>

#include "services/common/auth/authenticator.h"
#include "services/common/metrics/metrics.h"
#include "services/common/redis/redis_pool.h"
#include "services/common/server/rpc_runner.h"
#include "services/common/server/stream_registry.h"

namespace townhall {

// Channels from one service to another: in-process when the other service
// is hosted by the same server, else to --peer_address (a load balancer or
// gateway that routes by gRPC service name).
class PeerChannels {
 public:
  virtual ~PeerChannels() = default;
  // A channel to `service` ("townhall.v1.SchedulingService"); callable from
  // any thread once the server has started. Never null: a service that is
  // neither hosted nor reachable gives a channel whose calls fail
  // UNAVAILABLE.
  virtual std::shared_ptr<grpc::Channel> ChannelTo(
      const std::string& service) = 0;
};

// What a module gets from the server it runs in. Outlives every module.
struct ServiceEnv {
  RedisPool* redis;
  const Authenticator* auth;
  RpcRunner* rpc;
  PeerChannels* peers;
  // Counts and checks every open server stream (stream_registry.h).
  StreamRegistry* streams;
  // The process's metrics; null when they are off (no --metrics_listen).
  Metrics* metrics = nullptr;
};

class ServiceModule {
 public:
  virtual ~ServiceModule() = default;
  // Full gRPC name, used for health ("townhall.v1.SchedulingService").
  virtual std::string grpc_name() const = 0;
  virtual grpc::Service* service() = 0;
  // Called by TownhallServer::Shutdown before it waits for calls: finish
  // open streams (they would hold shutdown for the whole grace period).
  virtual void Stop() {}
};

// How a binary names and creates a module.
struct ModuleSpec {
  // Short name for --services ("scheduling").
  std::string name;
  std::function<std::unique_ptr<ServiceModule>(const ServiceEnv&)> create;
};

}  // namespace townhall
