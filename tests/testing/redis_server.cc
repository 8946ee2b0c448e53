#include "tests/testing/redis_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/redis/cluster_router.h"
#include "services/common/redis/redis_connection.h"

namespace townhall::testing {

int PickFreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

RedisServer::RedisServer(int port, RedisServerOptions options)
    : port_(port), options_(options) {
  char dir[] = "/tmp/townhall-redis-XXXXXX";
  dir_ = mkdtemp(dir) != nullptr ? dir : "/tmp";
}

absl::StatusOr<std::unique_ptr<RedisServer>> RedisServer::Start(
    RedisServerOptions options) {
  std::unique_ptr<RedisServer> server(new RedisServer(PickFreePort(), options));
  absl::Status launched = server->Launch();
  if (!launched.ok()) return launched;
  return server;
}

RedisServer::~RedisServer() {
  Stop();
  if (dir_ != "/tmp") std::filesystem::remove_all(dir_);
}

std::string RedisServer::address() const {
  return absl::StrCat("127.0.0.1:", port_);
}

absl::Status RedisServer::Launch() {
  absl::StatusOr<ChildProcess> process = ChildProcess::Spawn(
      {"redis-server", "--port", absl::StrCat(port_), "--bind", "127.0.0.1",
       "--save", "", "--dir", dir_, "--appendonly",
       options_.persistent ? "yes" : "no", "--appendfsync", "always",
       "--loglevel", "warning", "--enable-debug-command", "local"});
  if (!process.ok()) return process.status();
  process_ = *std::move(process);
  RedisOptions options;
  options.address = address();
  absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (absl::Now() < give_up) {
    RedisConnection connection(options);
    connection.set_deadline(absl::Now() + absl::Seconds(1));
    absl::StatusOr<RedisReply> pong = connection.Command({"PING"});
    if (pong.ok() && pong->type == RedisReply::Type::kStatus)
      return absl::OkStatus();
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::UnavailableError(
      absl::StrCat("redis-server on port ", port_, " did not answer"));
}

void RedisServer::Stop() { process_.Kill(); }

void RedisServer::Pause() { process_.Signal(SIGSTOP); }

void RedisServer::Resume() { process_.Signal(SIGCONT); }

absl::Status RedisServer::Restart() {
  Stop();
  return Launch();
}

std::string SharedRedisAddress() {
  if (const char* env = std::getenv("TOWNHALL_TEST_REDIS");
      env != nullptr && *env) {
    return env;
  }
  // Destroyed (and killed) when the test process exits.
  static std::unique_ptr<RedisServer> server = [] {
    absl::StatusOr<std::unique_ptr<RedisServer>> started = RedisServer::Start();
    if (!started.ok()) {
      fprintf(stderr, "%s\n", started.status().ToString().c_str());
      std::abort();
    }
    return *std::move(started);
  }();
  return server->address();
}

std::shared_ptr<ClusterTopology> SharedTestCluster() {
  const char* seeds = std::getenv("TOWNHALL_TEST_REDIS_CLUSTER");
  if (seeds == nullptr || *seeds == '\0') return nullptr;
  static const std::shared_ptr<ClusterTopology>* topology = [seeds] {
    absl::StatusOr<std::shared_ptr<ClusterTopology>> discovered =
        DiscoverCluster(seeds, RedisOptions());
    if (!discovered.ok()) {
      fprintf(stderr, "TOWNHALL_TEST_REDIS_CLUSTER=%s: %s\n", seeds,
              discovered.status().ToString().c_str());
      std::abort();
    }
    return new std::shared_ptr<ClusterTopology>(*std::move(discovered));
  }();
  return *topology;
}

RedisOptions SharedRedisOptions() {
  RedisOptions options;
  options.cluster = SharedTestCluster();
  if (options.cluster == nullptr) options.address = SharedRedisAddress();
  return options;
}

absl::StatusOr<std::vector<RedisReply>> CommandOnEveryMaster(
    const std::vector<std::string>& argv) {
  std::vector<std::string> masters = {SharedRedisAddress()};
  if (std::shared_ptr<ClusterTopology> cluster = SharedTestCluster()) {
    masters = cluster->Snapshot().Masters();
  }
  std::vector<RedisReply> replies;
  for (const std::string& master : masters) {
    RedisConnection connection(RedisOptions{.address = master});
    connection.set_deadline(absl::Now() + absl::Seconds(10));
    absl::StatusOr<RedisReply> reply = connection.Command(argv);
    if (!reply.ok()) return reply.status();
    if (reply->type == RedisReply::Type::kError) {
      return absl::InternalError(
          absl::StrCat(argv[0], " on ", master, ": ", reply->str));
    }
    replies.push_back(*std::move(reply));
  }
  return replies;
}

}  // namespace townhall::testing
