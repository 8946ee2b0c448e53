#include "services/common/server/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.pb.h"
#include "services/common/logging.h"
#include "services/common/redis/cluster_router.h"
#include "services/common/server/diagnostics_service.h"
#include "services/common/server/server_tls.h"
#include "services/common/status.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051",
          "Address to serve gRPC on (host:port). Without --tls_cert_file it "
          "must be loopback (see --allow_insecure_non_loopback).");
ABSL_FLAG(std::string, tls_cert_file, "",
          "PEM certificate chain to serve TLS with; empty serves plaintext. "
          "Read at start: restart to reload.");
ABSL_FLAG(std::string, tls_key_file, "", "PEM private key of --tls_cert_file.");
ABSL_FLAG(std::string, tls_client_ca_file, "",
          "PEM CA certificates for client certificates: a presented client "
          "certificate must chain to them.");
ABSL_FLAG(bool, tls_require_client_cert, false,
          "Mutual TLS: refuse clients without a certificate signed by "
          "--tls_client_ca_file.");
ABSL_FLAG(bool, allow_insecure_non_loopback, false,
          "Allow plaintext on a non-loopback --listen address (only behind a "
          "TLS-terminating proxy).");
ABSL_FLAG(std::string, services, "",
          "Comma-separated services to host, or \"all\".");
constexpr char kDefaultRedis[] = "127.0.0.1:6379";
ABSL_FLAG(std::string, redis, kDefaultRedis,
          "Redis address: host:port or unix:/path/to/socket.");
ABSL_FLAG(std::string, redis_cluster, "",
          "Redis Cluster seed nodes, host:port,host:port: turns Redis Cluster "
          "mode on (the rest of the cluster is discovered at start-up, which "
          "fails if no seed answers). Excludes --redis.");
ABSL_FLAG(int, redis_pool_size, 8, "Redis connections (worker threads).");
ABSL_FLAG(absl::Duration, redis_timeout, absl::Seconds(2),
          "Timeout of one Redis command.");
ABSL_FLAG(absl::Duration, redis_retry_budget, absl::Seconds(1),
          "Redis Cluster: how long a call may back off and retry (a master "
          "down, CLUSTERDOWN, TRYAGAIN) before it fails UNAVAILABLE.");
ABSL_FLAG(int, redis_wait_replicas, 0,
          "After every write, WAIT until this many replicas of its master "
          "have it (so that a failover loses no acknowledged write); fewer "
          "within --redis_wait_timeout fails the call with UNAVAILABLE. 0: "
          "no WAIT (Redis replicates asynchronously).");
ABSL_FLAG(absl::Duration, redis_wait_timeout, absl::Milliseconds(500),
          "Longest WAIT for --redis_wait_replicas.");
ABSL_FLAG(std::string, auth_key_file, "",
          "File of JWT signing keys, one \"<key-id> <secret>\" per line; the "
          "first one signs. Keep it outside the repository.");
ABSL_FLAG(int64_t, token_cache_size, townhall::AuthOptions().token_cache_size,
          "Tokens kept verified, so that a client's later calls with the "
          "same token skip the signature check (expiry and revocation are "
          "still checked on every call); about 1 KiB each. 0: verify every "
          "call's token in full.");
ABSL_FLAG(std::string, auth_audience, "townhall",
          "Audience (aud) that tokens must carry.");
ABSL_FLAG(std::string, token_issuer, townhall::TokenRules().issuer,
          "Issuer (iss) that tokens must carry; tokens townhall issues carry "
          "it.");
ABSL_FLAG(absl::Duration, max_organizer_token_lifetime,
          townhall::TokenRules().max_organizer_lifetime,
          "Longest lifetime (exp - iat) of an organizer token.");
ABSL_FLAG(absl::Duration, max_join_token_lifetime,
          townhall::TokenRules().max_join_token_lifetime,
          "Longest lifetime (exp - iat) of a join token.");
ABSL_FLAG(absl::Duration, max_api_key_lifetime,
          townhall::TokenRules().max_api_key_lifetime,
          "Longest lifetime (exp - iat) of an API key.");
ABSL_FLAG(std::string, bootstrap_credential_file, "",
          "File holding the operator's bootstrap credential; when empty, the "
          "environment variable TOWNHALL_BOOTSTRAP_CREDENTIAL is used.");
ABSL_FLAG(std::string, peer_address, "",
          "Where to reach services this process does not host (host:port of "
          "a gateway routing by gRPC service name); empty: only hosted ones.");
ABSL_FLAG(std::string, peer_ca_file, "",
          "PEM CA certificates to verify --peer_address with (TLS); empty: "
          "plaintext, allowed only to a loopback address.");
ABSL_FLAG(absl::Duration, revocation_max_staleness, absl::Seconds(10),
          "Refuse join tokens and API keys when the revocation list has not "
          "been confirmed current for this long (the revocation bound).");
ABSL_FLAG(absl::Duration, max_stream_lifetime, absl::Hours(1),
          "A server stream (WatchQueue, WatchAgenda) ends with UNAVAILABLE "
          "after 0.9 to 1 times this; clients resume with after_version. "
          "0: no limit.");
ABSL_FLAG(int, max_streams, 20000,
          "Open server streams per process, of all callers; 0: no limit.");
ABSL_FLAG(int, max_streams_per_participant, 5,
          "Open server streams per participant (join tokens) per process.");
ABSL_FLAG(int, max_streams_per_api_key, 100,
          "Open server streams per API key per process.");
ABSL_FLAG(int, max_streams_per_organizer, 100,
          "Open server streams per organizer (tenant and subject) per "
          "process.");
ABSL_FLAG(int, max_receive_bytes, 256 * 1024, "Largest request accepted.");
ABSL_FLAG(absl::Duration, drain_delay, absl::ZeroDuration(),
          "On SIGTERM: time between health NOT_SERVING and closing.");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(10),
          "On SIGTERM: time in-flight calls get to finish.");
ABSL_FLAG(bool, access_log, true, "Log one JSON line per RPC.");
ABSL_FLAG(std::string, metrics_listen, "",
          "host:port to serve Prometheus metrics on (plain HTTP, /metrics); "
          "empty: no metrics.");

namespace townhall {
namespace {

// For logs: the address, or the cluster's masters.
std::string RedisDescription(const RedisOptions& redis) {
  if (redis.cluster == nullptr) return redis.address;
  return absl::StrCat("cluster ",
                      absl::StrJoin(redis.cluster->Snapshot().Masters(), ","));
}

// Starts the HTTP server of --metrics_listen. prometheus-cpp reports a
// failure to listen only by throwing (civetweb's CivetException): caught
// here, at the one place townhall meets it, and made a status.
absl::StatusOr<std::unique_ptr<prometheus::Exposer>> StartExposer(
    const std::string& address, Metrics& metrics) {
  std::unique_ptr<prometheus::Exposer> exposer;
  try {
    exposer = std::make_unique<prometheus::Exposer>(address, /*num_threads=*/2);
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve metrics on ", address, ": ", e.what()));
  }
  for (const auto& collectable : metrics.collectables()) {
    exposer->RegisterCollectable(collectable);
  }
  return exposer;
}

}  // namespace

TownhallServer::TownhallServer(ServerOptions options)
    : options_(std::move(options)) {}

TownhallServer::~TownhallServer() { Shutdown(); }

absl::StatusOr<std::unique_ptr<TownhallServer>> TownhallServer::Start(
    ServerOptions options, const std::vector<ModuleSpec>& modules) {
  TH_RETURN_IF_ERROR(ValidateStreamLimits(options.streams));
  std::string tls_mode;
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      MakeServerCredentials(options, &tls_mode);
  if (!credentials.ok()) return credentials.status();
  std::unique_ptr<TownhallServer> server(
      new TownhallServer(std::move(options)));
  if (!server->options_.metrics_listen.empty()) {
    server->metrics_ = std::make_unique<Metrics>();
    server->options_.redis.metrics = &server->metrics_->redis();
    server->options_.rpc.metrics = server->metrics_.get();
  }
  const ServerOptions& opts = server->options_;
  server->redis_ = std::make_unique<RedisPool>(opts.redis);
  server->redis_loop_ = std::make_unique<RedisEventLoop>(opts.redis);
  server->revocations_ =
      std::make_unique<RevocationList>(opts.revocation_max_staleness);
  server->revocation_watcher_ = std::make_unique<RevocationWatcher>(
      opts.redis, server->revocations_.get());
  server->auth_ =
      std::make_unique<Authenticator>(opts.auth, server->revocations_.get());
  server->rpc_ = std::make_unique<RpcRunner>(server->redis_.get(),
                                             server->redis_loop_.get(),
                                             server->auth_.get(), opts.rpc);
  server->streams_ =
      std::make_unique<StreamRegistry>(opts.streams, server->auth_.get());
  ServiceEnv env{server->redis_.get(),   server->auth_.get(),
                 server->rpc_.get(),     server.get(),
                 server->streams_.get(), server->metrics_.get()};

  grpc::EnableDefaultHealthCheckService(true);
  // Keeps grpc.health.v1 descriptors linked in, so that reflection can
  // describe the built-in health service (buf curl, grpcurl).
  (void)grpc::health::v1::HealthCheckRequest::descriptor();
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(opts.listen_address, *credentials, &server->port_);
  builder.SetMaxReceiveMessageSize(opts.max_receive_bytes);

  std::vector<ModuleSpec> all = {DiagnosticsModule()};
  all.insert(all.end(), modules.begin(), modules.end());
  for (const ModuleSpec& spec : all) {
    std::unique_ptr<ServiceModule> module = spec.create(env);
    server->names_.push_back(module->grpc_name());
    if (server->metrics_ != nullptr) {
      // Every method's series now, so that calls never make one.
      if (const auto* service =
              google::protobuf::DescriptorPool::generated_pool()
                  ->FindServiceByName(module->grpc_name())) {
        server->metrics_->AddService(*service);
      }
    }
    builder.RegisterService(module->service());
    server->modules_.push_back(std::move(module));
  }
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", opts.listen_address));
  }
  if (server->metrics_ != nullptr) {
    AddProcessMetrics(server->metrics_->scrape_time());
    server->metrics_->streams_limit().Set(opts.streams.max_streams);
    RevocationList* revocations = server->revocations_.get();
    server->revocation_staleness_metric_ = server->metrics_->scrape_time().Add(
        {.name = "townhall_revocation_list_staleness_seconds",
         .help = "Time since the revocation list was last confirmed "
                 "current; join tokens and API keys are refused past "
                 "--revocation_max_staleness",
         .value = [revocations] {
           return absl::ToDoubleSeconds(revocations->Staleness(absl::Now()));
         }});
    absl::StatusOr<std::unique_ptr<prometheus::Exposer>> exposer =
        StartExposer(opts.metrics_listen, *server->metrics_);
    if (!exposer.ok()) return exposer.status();
    server->exposer_ = *std::move(exposer);
    std::vector<int> ports = server->exposer_->GetListeningPorts();
    server->metrics_port_ = ports.empty() ? 0 : ports.front();
  }
  // Not serving until Redis answers: a load balancer must not route here.
  auto* health = server->server_->GetHealthCheckService();
  health->SetServingStatus(false);
  server->health_thread_ = std::thread([s = server.get()] { s->HealthLoop(); });
  // Join tokens are refused until the revocation list has been read once;
  // with Redis up that takes one round trip.
  if (!server->revocations_->WaitForSync(opts.redis.connect_timeout +
                                         opts.redis.command_timeout)) {
    LogWarning(
        "revocation list not loaded yet; join tokens and API keys "
        "answer UNAVAILABLE until it is");
  }
  LogInfo("server started",
          {{"port", absl::StrCat(server->port_)},
           {"services", absl::StrJoin(server->names_, ",")},
           {"tls", tls_mode},
           {"redis", RedisDescription(opts.redis)},
           {"metrics_port", absl::StrCat(server->metrics_port_)}});
  return server;
}

std::shared_ptr<grpc::Channel> TownhallServer::ChannelTo(
    const std::string& service) {
  absl::MutexLock lock(&peers_mu_);
  if (std::find(names_.begin(), names_.end(), service) != names_.end()) {
    if (in_process_ == nullptr) {
      in_process_ = server_->InProcessChannel(grpc::ChannelArguments());
    }
    return in_process_;
  }
  if (remote_ == nullptr) {
    std::shared_ptr<grpc::ChannelCredentials> credentials =
        grpc::InsecureChannelCredentials();
    std::string address = options_.peer_address;
    if (address.empty()) {
      // Nothing listens here: calls fail UNAVAILABLE, naming no address.
      address = "unix:/nonexistent/townhall-peer-not-configured";
    } else if (!options_.peer_ca_file.empty()) {
      grpc::SslCredentialsOptions ssl;
      absl::StatusOr<std::string> ca =
          ReadPemFile("--peer_ca_file", options_.peer_ca_file);
      if (ca.ok()) ssl.pem_root_certs = *ca;
      credentials = grpc::SslCredentials(ssl);
    }
    remote_ = grpc::CreateChannel(address, credentials);
  }
  return remote_;
}

void TownhallServer::HealthLoop() {
  // Standalone: the one Redis. Cluster: every master of the current map,
  // each on a connection of its own (a keyless PING through the router
  // would only ever reach the master of slot 0).
  RedisConnection standalone(options_.redis);
  absl::flat_hash_map<std::string, std::unique_ptr<RedisConnection>> masters;
  absl::flat_hash_set<std::string> down;  // masters last seen down
  auto* health = server_->GetHealthCheckService();
  int last = -1;  // unknown
  do {
    // A PING unanswered within one interval counts as down (not the Redis
    // command timeout): a hung Redis turns health NOT_SERVING within two
    // intervals, the bound docs/operations.md states.
    int serving = 0;
    std::string reason = "redis answered";
    auto ping = [&](RedisConnection& connection) {
      connection.set_deadline(absl::Now() + options_.health_interval);
      absl::StatusOr<RedisReply> pong = connection.Command({"PING"});
      if (pong.ok() && pong->type == RedisReply::Type::kStatus) return true;
      reason = pong.ok() ? pong->str : pong.status().ToString();
      return false;
    };
    if (options_.redis.cluster == nullptr) {
      serving = ping(standalone) ? 1 : 0;
    } else {
      // One master down is one shard's sessions failing (UNAVAILABLE until
      // its replica takes over), not a reason for load balancers to drop
      // this process: SERVING while any master answers.
      for (const std::string& address :
           options_.redis.cluster->Snapshot().Masters()) {
        std::unique_ptr<RedisConnection>& connection = masters[address];
        if (connection == nullptr) {
          RedisOptions node = options_.redis.cluster->options().node;
          node.address = address;
          connection = std::make_unique<RedisConnection>(std::move(node));
        }
        bool up = ping(*connection);
        if (up) serving = 1;
        if (up && down.erase(address) > 0) {
          LogInfo("redis master up", {{"address", address}});
        } else if (!up && down.insert(address).second) {
          LogWarning("redis master down",
                     {{"address", address}, {"reason", reason}});
        }
      }
      if (serving == 1) reason = "a redis master answered";
    }
    if (serving != last) {
      // Overall ("") and per service: all depend on the same Redis.
      health->SetServingStatus(serving == 1);
      for (const std::string& name : names_) {
        health->SetServingStatus(name, serving == 1);
      }
      LogInfo(serving ? "health SERVING" : "health NOT_SERVING",
              {{"reason", reason}});
      last = serving;
    }
  } while (
      !stop_health_.WaitForNotificationWithTimeout(options_.health_interval));
}

void TownhallServer::Shutdown() {
  if (shut_down_ || server_ == nullptr) return;  // never started
  shut_down_ = true;
  // Scrapes read objects that stop below (revocation list, hubs).
  exposer_.reset();
  if (metrics_ != nullptr) {
    metrics_->scrape_time().Remove(revocation_staleness_metric_);
  }
  // 1. Stop polling and declare every service NOT_SERVING for good
  //    (HealthCheckServiceInterface::Shutdown ignores later updates).
  stop_health_.Notify();
  if (health_thread_.joinable()) health_thread_.join();
  server_->GetHealthCheckService()->Shutdown();
  LogInfo("shutting down",
          {{"drain_delay", absl::FormatDuration(options_.drain_delay)},
           {"grace", absl::FormatDuration(options_.shutdown_grace)}});
  // 2. Let load balancers notice before we stop accepting calls.
  absl::SleepFor(options_.drain_delay);
  // Streams never end on their own: modules finish them first.
  for (const auto& module : modules_) module->Stop();
  streams_->Stop();
  // 3. Refuse new calls, let in-flight ones finish, cancel stragglers at
  //    the deadline (Shutdown without one waits forever for open streams).
  server_->Shutdown(absl::ToChronoTime(absl::Now() + options_.shutdown_grace));
  server_->Wait();
  // 4. Workers finish the tasks already queued (their calls are cancelled).
  redis_.reset();
  redis_loop_.reset();
  revocation_watcher_.reset();
  LogInfo("server stopped");
}

int RunServerMain(int argc, char** argv,
                  const std::vector<ModuleSpec>& available,
                  const std::string& default_services) {
  absl::SetProgramUsageMessage(absl::StrCat(
      "townhall gRPC server. Services: all, ",
      absl::StrJoin(available, ",", [](std::string* out, const ModuleSpec& m) {
        out->append(m.name);
      })));
  absl::ParseCommandLine(argc, argv);
  // Debian builds Abseil without NDEBUG, so every absl::Mutex acquisition
  // would also maintain a lock-order graph (about 3 % of a busy server's
  // CPU, docs/benchmarks.md). That is a debugging aid: the tests keep it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  // Block SIGTERM/SIGINT in every thread (threads inherit the mask) and
  // wait for them here, synchronously.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::string selected = absl::GetFlag(FLAGS_services);
  if (selected.empty()) selected = default_services;
  std::vector<ModuleSpec> modules;
  if (selected == "all") {
    modules = available;
  } else {
    for (absl::string_view name :
         absl::StrSplit(selected, ',', absl::SkipEmpty())) {
      auto it =
          std::find_if(available.begin(), available.end(),
                       [&](const ModuleSpec& m) { return m.name == name; });
      if (it == available.end()) {
        LogError("unknown service", {{"service", std::string(name)}});
        return 2;
      }
      modules.push_back(*it);
    }
  }

  ServerOptions options;
  options.listen_address = absl::GetFlag(FLAGS_listen);
  options.tls.cert_file = absl::GetFlag(FLAGS_tls_cert_file);
  options.tls.key_file = absl::GetFlag(FLAGS_tls_key_file);
  options.tls.client_ca_file = absl::GetFlag(FLAGS_tls_client_ca_file);
  options.tls.require_client_cert =
      absl::GetFlag(FLAGS_tls_require_client_cert);
  options.allow_insecure_non_loopback =
      absl::GetFlag(FLAGS_allow_insecure_non_loopback);
  options.redis.address = absl::GetFlag(FLAGS_redis);
  options.redis.pool_size = absl::GetFlag(FLAGS_redis_pool_size);
  options.redis.command_timeout = absl::GetFlag(FLAGS_redis_timeout);
  options.redis.wait_replicas = absl::GetFlag(FLAGS_redis_wait_replicas);
  options.redis.wait_timeout = absl::GetFlag(FLAGS_redis_wait_timeout);
  if (options.redis.wait_replicas < 0 ||
      options.redis.wait_timeout <= absl::ZeroDuration() ||
      options.redis.wait_timeout >= options.redis.command_timeout) {
    LogError("--redis_wait_replicas must be >= 0 and --redis_wait_timeout "
             "between 0 and --redis_timeout",
             {{"redis_wait_timeout",
               absl::FormatDuration(options.redis.wait_timeout)}});
    return 2;
  }
  if (std::string seeds = absl::GetFlag(FLAGS_redis_cluster); !seeds.empty()) {
    if (options.redis.address != kDefaultRedis) {
      LogError("--redis_cluster and --redis exclude each other",
               {{"redis", options.redis.address}, {"redis_cluster", seeds}});
      return 2;
    }
    absl::StatusOr<std::shared_ptr<ClusterTopology>> cluster =
        DiscoverCluster(seeds, options.redis,
                        {.retry_budget = absl::GetFlag(FLAGS_redis_retry_budget)});
    if (!cluster.ok()) {
      LogError(
          "cannot discover the redis cluster",
          {{"redis_cluster", seeds}, {"error", cluster.status().ToString()}});
      return 1;
    }
    options.redis.cluster = *std::move(cluster);
  }
  options.peer_address = absl::GetFlag(FLAGS_peer_address);
  options.peer_ca_file = absl::GetFlag(FLAGS_peer_ca_file);
  options.revocation_max_staleness =
      absl::GetFlag(FLAGS_revocation_max_staleness);
  options.streams = {
      .max_lifetime = absl::GetFlag(FLAGS_max_stream_lifetime),
      .max_streams = absl::GetFlag(FLAGS_max_streams),
      .max_per_participant = absl::GetFlag(FLAGS_max_streams_per_participant),
      .max_per_api_key = absl::GetFlag(FLAGS_max_streams_per_api_key),
      .max_per_organizer = absl::GetFlag(FLAGS_max_streams_per_organizer)};
  options.max_receive_bytes = absl::GetFlag(FLAGS_max_receive_bytes);
  options.drain_delay = absl::GetFlag(FLAGS_drain_delay);
  options.shutdown_grace = absl::GetFlag(FLAGS_shutdown_grace);
  options.rpc.access_log = absl::GetFlag(FLAGS_access_log);
  options.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  const TokenRules tokens{
      .audience = absl::GetFlag(FLAGS_auth_audience),
      .issuer = absl::GetFlag(FLAGS_token_issuer),
      .max_organizer_lifetime =
          absl::GetFlag(FLAGS_max_organizer_token_lifetime),
      .max_join_token_lifetime = absl::GetFlag(FLAGS_max_join_token_lifetime),
      .max_api_key_lifetime = absl::GetFlag(FLAGS_max_api_key_lifetime)};
  absl::StatusOr<AuthOptions> auth =
      LoadAuthOptions(absl::GetFlag(FLAGS_auth_key_file), tokens,
                      absl::GetFlag(FLAGS_bootstrap_credential_file));
  if (!auth.ok()) {
    LogError("bad auth configuration", {{"error", auth.status().ToString()}});
    return 2;
  }
  options.auth = *std::move(auth);
  if (absl::GetFlag(FLAGS_token_cache_size) < 0) {
    LogError("bad auth configuration",
             {{"error", "--token_cache_size must not be negative"}});
    return 2;
  }
  options.auth.token_cache_size =
      static_cast<size_t>(absl::GetFlag(FLAGS_token_cache_size));

  absl::StatusOr<std::unique_ptr<TownhallServer>> server =
      TownhallServer::Start(std::move(options), modules);
  if (!server.ok()) {
    LogError("cannot start", {{"error", server.status().ToString()}});
    return 1;
  }
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  LogInfo("signal received", {{"signal", strsignal(signal_number)}});
  (*server)->Shutdown();
  return 0;
}

}  // namespace townhall
