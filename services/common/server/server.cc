#include "services/common/server/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <pthread.h>
#include <signal.h>

#include <cstdlib>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.pb.h"
#include "services/common/logging.h"
#include "services/common/server/diagnostics_service.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051",
          "Address to serve gRPC on (host:port). Plaintext: keep it on "
          "loopback unless a TLS-terminating proxy is in front.");
ABSL_FLAG(std::string, services, "",
          "Comma-separated services to host, or \"all\".");
ABSL_FLAG(std::string, redis, "127.0.0.1:6379",
          "Redis address: host:port or unix:/path/to/socket.");
ABSL_FLAG(int, redis_pool_size, 8, "Redis connections (worker threads).");
ABSL_FLAG(absl::Duration, redis_timeout, absl::Seconds(2),
          "Timeout of one Redis command.");
ABSL_FLAG(std::string, auth_key_file, "",
          "File of JWT signing keys, one \"<key-id> <secret>\" per line; the "
          "first one signs. Keep it outside the repository.");
ABSL_FLAG(std::string, auth_audience, "townhall",
          "Audience (aud) that tokens must carry.");
ABSL_FLAG(std::string, bootstrap_credential_file, "",
          "File holding the operator's bootstrap credential; when empty, the "
          "environment variable TOWNHALL_BOOTSTRAP_CREDENTIAL is used.");
ABSL_FLAG(int, max_receive_bytes, 256 * 1024, "Largest request accepted.");
ABSL_FLAG(absl::Duration, drain_delay, absl::ZeroDuration(),
          "On SIGTERM: time between health NOT_SERVING and closing.");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(10),
          "On SIGTERM: time in-flight calls get to finish.");
ABSL_FLAG(bool, access_log, true, "Log one JSON line per RPC.");

namespace townhall {

TownhallServer::TownhallServer(ServerOptions options)
    : options_(std::move(options)) {}

TownhallServer::~TownhallServer() { Shutdown(); }

absl::StatusOr<std::unique_ptr<TownhallServer>> TownhallServer::Start(
    ServerOptions options, const std::vector<ModuleSpec>& modules) {
  std::unique_ptr<TownhallServer> server(
      new TownhallServer(std::move(options)));
  const ServerOptions& opts = server->options_;
  server->redis_ = std::make_unique<RedisPool>(opts.redis);
  server->auth_ = std::make_unique<Authenticator>(opts.auth);
  server->rpc_ = std::make_unique<RpcRunner>(server->redis_.get(),
                                             server->auth_.get(), opts.rpc);
  ServiceEnv env{server->redis_.get(), server->auth_.get(), server->rpc_.get()};

  grpc::EnableDefaultHealthCheckService(true);
  // Keeps grpc.health.v1 descriptors linked in, so that reflection can
  // describe the built-in health service (buf curl, grpcurl).
  (void)grpc::health::v1::HealthCheckRequest::descriptor();
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(opts.listen_address,
                           grpc::InsecureServerCredentials(), &server->port_);
  builder.SetMaxReceiveMessageSize(opts.max_receive_bytes);

  std::vector<ModuleSpec> all = {DiagnosticsModule()};
  all.insert(all.end(), modules.begin(), modules.end());
  for (const ModuleSpec& spec : all) {
    std::unique_ptr<ServiceModule> module = spec.create(env);
    server->names_.push_back(module->grpc_name());
    builder.RegisterService(module->service());
    server->modules_.push_back(std::move(module));
  }
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", opts.listen_address));
  }
  // Not serving until Redis answers: a load balancer must not route here.
  auto* health = server->server_->GetHealthCheckService();
  health->SetServingStatus(false);
  server->health_thread_ = std::thread([s = server.get()] { s->HealthLoop(); });
  LogInfo("server started", {{"port", absl::StrCat(server->port_)},
                             {"services", absl::StrJoin(server->names_, ",")},
                             {"redis", opts.redis.address}});
  return server;
}

void TownhallServer::HealthLoop() {
  RedisConnection connection(options_.redis);
  auto* health = server_->GetHealthCheckService();
  int last = -1;  // unknown
  do {
    connection.set_deadline(absl::Now() + options_.health_interval +
                            options_.redis.command_timeout);
    absl::StatusOr<RedisReply> pong = connection.Command({"PING"});
    int serving = pong.ok() && pong->type == RedisReply::Type::kStatus ? 1 : 0;
    if (serving != last) {
      // Overall ("") and per service: all depend on the same Redis.
      health->SetServingStatus(serving == 1);
      for (const std::string& name : names_) {
        health->SetServingStatus(name, serving == 1);
      }
      LogInfo(serving ? "health SERVING" : "health NOT_SERVING",
              {{"reason",
                pong.ok() ? "redis answered" : pong.status().ToString()}});
      last = serving;
    }
  } while (
      !stop_health_.WaitForNotificationWithTimeout(options_.health_interval));
}

void TownhallServer::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
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
  // 3. Refuse new calls, let in-flight ones finish, cancel stragglers at
  //    the deadline (Shutdown without one waits forever for open streams).
  server_->Shutdown(absl::ToChronoTime(absl::Now() + options_.shutdown_grace));
  server_->Wait();
  // 4. Workers finish the tasks already queued (their calls are cancelled).
  redis_.reset();
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
  options.redis.address = absl::GetFlag(FLAGS_redis);
  options.redis.pool_size = absl::GetFlag(FLAGS_redis_pool_size);
  options.redis.command_timeout = absl::GetFlag(FLAGS_redis_timeout);
  options.max_receive_bytes = absl::GetFlag(FLAGS_max_receive_bytes);
  options.drain_delay = absl::GetFlag(FLAGS_drain_delay);
  options.shutdown_grace = absl::GetFlag(FLAGS_shutdown_grace);
  options.rpc.access_log = absl::GetFlag(FLAGS_access_log);
  absl::StatusOr<AuthOptions> auth = LoadAuthOptions(
      absl::GetFlag(FLAGS_auth_key_file), absl::GetFlag(FLAGS_auth_audience),
      absl::GetFlag(FLAGS_bootstrap_credential_file));
  if (!auth.ok()) {
    LogError("bad auth configuration", {{"error", auth.status().ToString()}});
    return 2;
  }
  options.auth = *std::move(auth);

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
