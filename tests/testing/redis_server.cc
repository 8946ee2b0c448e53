#include "tests/testing/redis_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/redis/redis_connection.h"

extern char** environ;

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

absl::StatusOr<std::unique_ptr<RedisServer>> RedisServer::Start() {
  std::unique_ptr<RedisServer> server(new RedisServer(PickFreePort()));
  absl::Status launched = server->Launch();
  if (!launched.ok()) return launched;
  return server;
}

RedisServer::~RedisServer() { Stop(); }

std::string RedisServer::address() const { return absl::StrCat("127.0.0.1:", port_); }

absl::Status RedisServer::Launch() {
  std::vector<std::string> args = {"redis-server", "--port", absl::StrCat(port_),
                                   "--bind", "127.0.0.1", "--save", "",
                                   "--appendonly", "no", "--loglevel", "warning",
                                   "--enable-debug-command", "local"};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  if (posix_spawnp(&pid_, "redis-server", nullptr, nullptr, argv.data(), environ) != 0) {
    pid_ = -1;
    return absl::UnavailableError("cannot start redis-server (is it installed?)");
  }
  RedisOptions options;
  options.address = address();
  absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (absl::Now() < give_up) {
    RedisConnection connection(options);
    connection.set_deadline(absl::Now() + absl::Seconds(1));
    absl::StatusOr<RedisReply> pong = connection.Command({"PING"});
    if (pong.ok() && pong->type == RedisReply::Type::kStatus) return absl::OkStatus();
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::UnavailableError(absl::StrCat("redis-server on port ", port_, " did not answer"));
}

void RedisServer::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

absl::Status RedisServer::Restart() {
  Stop();
  return Launch();
}

std::string SharedRedisAddress() {
  if (const char* env = std::getenv("TOWNHALL_TEST_REDIS"); env != nullptr && *env) {
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

}  // namespace townhall::testing
