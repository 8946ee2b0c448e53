// TownhallServer: one grpc::Server hosting a set of service modules, with
// health (grpc.health.v1, per service), server reflection, a Redis pool,
// optional TLS (and mutual TLS), and graceful shutdown. Tests start it
// in-process on port 0; binaries use RunServerMain(), which adds flags and
// signal handling.
#pragma once

#include <grpcpp/grpcpp.h>
#include <prometheus/exposer.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "services/common/auth/authenticator.h"
#include "services/common/auth/revocation_list.h"
#include "services/common/metrics/metrics.h"
#include "services/common/redis/redis_pool.h"
#include "services/common/server/rpc_runner.h"
#include "services/common/server/service_module.h"
#include "services/common/server/stream_registry.h"

namespace townhall {

// TLS of the listening port. Files are PEM and are read once, at Start():
// replacing a certificate needs a restart.
struct ServerTlsOptions {
  // Certificate chain (leaf first) and its private key. Empty cert_file
  // means plaintext.
  std::string cert_file = "";
  std::string key_file = "";
  // CA certificates that client certificates must chain to. When set,
  // clients may present a certificate and a presented one is verified
  // (a bad one is refused); clients without one are still accepted unless
  // require_client_cert.
  std::string client_ca_file = "";
  // Mutual TLS: refuse clients without a certificate signed by
  // client_ca_file (which must then be set).
  bool require_client_cert = false;
};

struct ServerOptions {
  // host:port; port 0 picks a free port (see TownhallServer::port()).
  std::string listen_address = "127.0.0.1:50051";
  ServerTlsOptions tls;
  // Without TLS, Start() refuses a listen address that is not loopback
  // (127.0.0.0/8, ::1, localhost, unix:) unless this is set (for a
  // TLS-terminating proxy in front); it then logs a warning.
  bool allow_insecure_non_loopback = false;
  RedisOptions redis;
  AuthOptions auth;
  RpcRunner::Options rpc;
  // Where services not hosted here are reached (host:port, plaintext on
  // loopback, else TLS with peer_ca_file); empty: only hosted services.
  std::string peer_address = "";
  std::string peer_ca_file = "";
  // Join tokens and API keys are refused (UNAVAILABLE) when the revocation
  // list has not been confirmed current for this long.
  absl::Duration revocation_max_staleness = absl::Seconds(10);
  // Caps and lifetime of server streams (WatchQueue, WatchAgenda).
  StreamLimits streams;
  // Largest request accepted; bigger ones fail with RESOURCE_EXHAUSTED.
  int max_receive_bytes = 256 * 1024;
  // How often health re-checks Redis, and how long a PING may take: health
  // turns NOT_SERVING within two intervals of Redis going down or hanging
  // (0.4 s; docs/operations.md promises 0.5 s).
  absl::Duration health_interval = absl::Milliseconds(200);
  // Shutdown: time between health NOT_SERVING and refusing new calls, so
  // load balancers stop sending traffic first.
  absl::Duration drain_delay = absl::ZeroDuration();
  // Shutdown: time in-flight calls get to finish before they are cancelled.
  absl::Duration shutdown_grace = absl::Seconds(10);
  // host:port to serve Prometheus metrics on (HTTP, /metrics); port 0 picks
  // a free one (metrics_port()). Empty: no metrics are kept at all.
  std::string metrics_listen = "";
};

class TownhallServer : public PeerChannels {
 public:
  // Builds and starts the server with `modules`. Health starts NOT_SERVING
  // and turns SERVING once Redis answers PING. Fails with INVALID_ARGUMENT
  // on an inconsistent or unreadable TLS configuration, and with
  // FAILED_PRECONDITION for plaintext on a non-loopback address.
  static absl::StatusOr<std::unique_ptr<TownhallServer>> Start(
      ServerOptions options, const std::vector<ModuleSpec>& modules);
  ~TownhallServer();

  int port() const { return port_; }
  // The port of --metrics_listen; 0 when metrics are off.
  int metrics_port() const { return metrics_port_; }
  // The gRPC names of the hosted services.
  const std::vector<std::string>& service_names() const { return names_; }

  // PeerChannels.
  std::shared_ptr<grpc::Channel> ChannelTo(const std::string& service) override;

  // Health NOT_SERVING, waits drain_delay, then lets in-flight calls finish
  // for up to shutdown_grace and stops. Idempotent.
  void Shutdown();

 private:
  explicit TownhallServer(ServerOptions options);
  void HealthLoop();

  ServerOptions options_;
  // Before everything that counts into it; null when metrics are off.
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<RedisPool> redis_;
  std::unique_ptr<RedisEventLoop> redis_loop_;
  std::unique_ptr<RevocationList> revocations_;
  std::unique_ptr<RevocationWatcher> revocation_watcher_;
  std::unique_ptr<Authenticator> auth_;
  std::unique_ptr<RpcRunner> rpc_;
  // Before modules_: their streams hold places in it.
  std::unique_ptr<StreamRegistry> streams_;
  std::vector<std::unique_ptr<ServiceModule>> modules_;
  std::vector<std::string> names_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  // Serves metrics_ (its own HTTP server and threads); stopped first.
  std::unique_ptr<prometheus::Exposer> exposer_;
  int metrics_port_ = 0;
  int revocation_staleness_metric_ = 0;
  absl::Mutex peers_mu_;
  std::shared_ptr<grpc::Channel> in_process_ ABSL_GUARDED_BY(peers_mu_);
  std::shared_ptr<grpc::Channel> remote_ ABSL_GUARDED_BY(peers_mu_);
  absl::Notification stop_health_;
  std::thread health_thread_;
  bool shut_down_ = false;
};

// True when `listen_address` (host:port, [v6]:port or unix:path) only
// accepts local connections.
bool IsLoopbackListenAddress(absl::string_view listen_address);

// The main() of every townhall binary: parses flags (absl flags, including
// --flagfile), starts a server hosting the modules named by `selected`
// (or all of `available` when it is "all"), and runs until SIGTERM/SIGINT.
int RunServerMain(int argc, char** argv,
                  const std::vector<ModuleSpec>& available,
                  const std::string& default_services);

}  // namespace townhall
