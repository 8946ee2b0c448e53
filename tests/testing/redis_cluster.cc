#include "tests/testing/redis_cluster.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "services/common/redis/redis_connection.h"
#include "services/common/status.h"

namespace townhall::testing {
namespace {

bool PortIsFree(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  bool free = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return free;
}

std::string Address(int port) { return absl::StrCat("127.0.0.1:", port); }

// The value of `field` in an INFO-style "field:value" text.
std::string InfoField(absl::string_view info, absl::string_view field) {
  std::string prefix = absl::StrCat(field, ":");
  size_t pos = info.find(prefix);
  if (pos == absl::string_view::npos) return "";
  size_t end = info.find_first_of("\r\n", pos);
  return std::string(
      info.substr(pos + prefix.size(), end == absl::string_view::npos
                                           ? absl::string_view::npos
                                           : end - pos - prefix.size()));
}

}  // namespace

RedisCluster::RedisCluster(RedisClusterOptions options)
    : options_(std::move(options)) {
  char dir[] = "/tmp/townhall-cluster-XXXXXX";
  dir_ = mkdtemp(dir) != nullptr ? dir : "/tmp";
}

RedisCluster::~RedisCluster() {
  for (Node& node : nodes_) node.process.Kill();
  if (dir_ != "/tmp") std::filesystem::remove_all(dir_);
}

absl::StatusOr<std::unique_ptr<RedisCluster>> RedisCluster::Start(
    RedisClusterOptions options) {
  std::unique_ptr<RedisCluster> cluster(new RedisCluster(std::move(options)));
  if (absl::Status s = cluster->Launch(); !s.ok()) return s;
  return cluster;
}

std::vector<std::string> RedisCluster::addresses() const {
  std::vector<std::string> addresses;
  for (const Node& node : nodes_) addresses.push_back(Address(node.port));
  return addresses;
}

absl::StatusOr<RedisReply> RedisCluster::Command(
    const std::string& address, const std::vector<std::string>& argv) {
  RedisOptions options;
  options.address = address;
  RedisConnection connection(options);
  connection.set_deadline(absl::Now() + absl::Seconds(2));
  return connection.Command(argv);
}

absl::StatusOr<std::string> RedisCluster::NodeId(const std::string& address) {
  absl::StatusOr<RedisReply> id = Command(address, {"CLUSTER", "MYID"});
  if (!id.ok()) return id.status();
  return id->AsString();
}

absl::Status RedisCluster::CommandOk(const std::string& address,
                                     const std::vector<std::string>& argv) {
  absl::StatusOr<RedisReply> reply = Command(address, argv);
  if (!reply.ok()) return reply.status();
  if (reply->type == RedisReply::Type::kError) {
    return absl::InternalError(
        absl::StrCat(argv[0], " on ", address, ": ", reply->str));
  }
  return absl::OkStatus();
}

absl::Status RedisCluster::StartMigration(int slot, const std::string& source,
                                          const std::string& target) {
  absl::StatusOr<std::string> source_id = NodeId(source);
  if (!source_id.ok()) return source_id.status();
  absl::StatusOr<std::string> target_id = NodeId(target);
  if (!target_id.ok()) return target_id.status();
  if (absl::Status s = CommandOk(
          target,
          {"CLUSTER", "SETSLOT", absl::StrCat(slot), "IMPORTING", *source_id});
      !s.ok()) {
    return s;
  }
  return CommandOk(source, {"CLUSTER", "SETSLOT", absl::StrCat(slot),
                            "MIGRATING", *target_id});
}

absl::Status RedisCluster::Migrate(const std::string& source,
                                   const std::string& target,
                                   const std::vector<std::string>& keys) {
  size_t colon = target.rfind(':');
  std::vector<std::string> migrate = {"MIGRATE",
                                      target.substr(0, colon),
                                      target.substr(colon + 1),
                                      "",
                                      "0",
                                      "5000",
                                      "KEYS"};
  migrate.insert(migrate.end(), keys.begin(), keys.end());
  return CommandOk(source, migrate);
}

absl::Status RedisCluster::FinishMigration(
    int slot, const std::string& source, const std::string& target,
    const std::vector<std::string>& keys,
    const std::vector<std::string>& masters) {
  if (!keys.empty()) {
    if (absl::Status s = Migrate(source, target, keys); !s.ok()) return s;
  }
  absl::StatusOr<std::string> target_id = NodeId(target);
  if (!target_id.ok()) return target_id.status();
  for (const std::string& master : masters) {
    if (absl::Status s = CommandOk(
            master,
            {"CLUSTER", "SETSLOT", absl::StrCat(slot), "NODE", *target_id});
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<int> RedisCluster::MigrateSlot(int slot,
                                              const std::string& source,
                                              const std::string& target,
                                              int batch,
                                              absl::Duration pause) {
  absl::StatusOr<std::shared_ptr<ClusterTopology>> topology =
      DiscoverTopology();
  if (!topology.ok()) return topology.status();
  if (absl::Status s = StartMigration(slot, source, target); !s.ok()) return s;
  int moved = 0;
  while (true) {
    absl::StatusOr<RedisReply> keys =
        Command(source, {"CLUSTER", "GETKEYSINSLOT", absl::StrCat(slot),
                         absl::StrCat(batch)});
    if (!keys.ok()) return keys.status();
    if (keys->type != RedisReply::Type::kArray) {
      return absl::InternalError(
          absl::StrCat("CLUSTER GETKEYSINSLOT on ", source, ": ", keys->str));
    }
    if (keys->elements.empty()) break;
    std::vector<std::string> names;
    for (const RedisReply& key : keys->elements) names.push_back(key.str);
    if (absl::Status s = Migrate(source, target, names); !s.ok()) return s;
    moved += static_cast<int>(names.size());
    absl::SleepFor(pause);
  }
  // Target first, then source, as redis-cli does: the source's MOVED must
  // point to a node that already owns the slot.
  std::vector<std::string> masters = {target, source};
  for (const std::string& master : (*topology)->Snapshot().Masters()) {
    if (master != target && master != source) masters.push_back(master);
  }
  if (absl::Status s = FinishMigration(slot, source, target, {}, masters);
      !s.ok()) {
    return s;
  }
  return moved;
}

void RedisCluster::Kill(const std::string& address) {
  for (Node& node : nodes_) {
    if (Address(node.port) == address) node.process.Kill();
  }
}

absl::Status RedisCluster::Restart(const std::string& address) {
  for (Node& node : nodes_) {
    if (Address(node.port) != address) continue;
    node.process.Kill();
    absl::StatusOr<ChildProcess> process = ChildProcess::Spawn(node.argv);
    if (!process.ok()) return process.status();
    node.process = *std::move(process);
    return WaitForPing(address, absl::Seconds(10));
  }
  return absl::NotFoundError(absl::StrCat("no node at ", address));
}

absl::Status RedisCluster::WaitForPing(const std::string& address,
                                       absl::Duration timeout) {
  absl::Time give_up = absl::Now() + timeout;
  while (true) {
    absl::StatusOr<RedisReply> pong = Command(address, {"PING"});
    if (pong.ok() && pong->type == RedisReply::Type::kStatus) {
      return absl::OkStatus();
    }
    if (absl::Now() >= give_up) {
      return absl::UnavailableError(absl::StrCat(address, " did not start"));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
}

absl::Status RedisCluster::Launch() {
  int nodes = options_.masters * (1 + options_.replicas_per_master);
  for (int port = options_.first_port;
       port <= options_.last_port && static_cast<int>(nodes_.size()) < nodes;
       ++port) {
    if (!PortIsFree(port) || !PortIsFree(port + 10000)) continue;
    std::vector<std::string> argv = {
        "redis-server",
        "--port",
        absl::StrCat(port),
        "--bind",
        "127.0.0.1",
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        absl::StrCat("nodes-", port, ".conf"),
        "--cluster-node-timeout",
        absl::StrCat(absl::ToInt64Milliseconds(options_.node_timeout)),
        "--dir",
        dir_,
        "--save",
        "",
        "--appendonly",
        "no",
        "--repl-diskless-sync-delay",
        "0",
        "--loglevel",
        "warning",
        "--enable-debug-command",
        "local"};
    absl::StatusOr<ChildProcess> process = ChildProcess::Spawn(argv);
    if (!process.ok()) return process.status();
    nodes_.push_back(Node{port, std::move(argv), *std::move(process)});
  }
  if (static_cast<int>(nodes_.size()) < nodes) {
    return absl::UnavailableError(
        absl::StrCat("no ", nodes, " free port pairs in ", options_.first_port,
                     "-", options_.last_port));
  }
  absl::Time give_up = absl::Now() + absl::Seconds(10);
  for (const std::string& address : addresses()) {
    TH_RETURN_IF_ERROR(WaitForPing(address, give_up - absl::Now()));
  }
  std::vector<std::string> create = {"redis-cli", "--cluster", "create"};
  for (const std::string& address : addresses()) create.push_back(address);
  std::string command =
      absl::StrCat(absl::StrJoin(create, " "), " --cluster-replicas ",
                   options_.replicas_per_master, " --cluster-yes > ", dir_,
                   "/create.log 2>&1");
  absl::StatusOr<ChildProcess> cli = ChildProcess::Spawn({"sh", "-c", command});
  if (!cli.ok()) return cli.status();
  std::optional<int> exit_code = cli->WaitFor(absl::Seconds(30));
  if (exit_code != 0) {
    return absl::UnavailableError(absl::StrCat(
        "redis-cli --cluster create failed; see ", dir_, "/create.log"));
  }
  if (absl::Status s = WaitUntilHealthy(absl::Seconds(20)); !s.ok()) return s;
  return WaitUntilSynced(absl::Seconds(20));
}

absl::Status RedisCluster::WaitUntilHealthy(absl::Duration timeout) {
  absl::Time give_up = absl::Now() + timeout;
  int expected_nodes = static_cast<int>(nodes_.size());
  for (const Node& node : nodes_) {
    if (!node.process.running()) continue;
    while (true) {
      absl::StatusOr<RedisReply> info =
          Command(Address(node.port), {"CLUSTER", "INFO"});
      if (info.ok() && InfoField(info->str, "cluster_state") == "ok" &&
          InfoField(info->str, "cluster_known_nodes") ==
              absl::StrCat(expected_nodes)) {
        break;
      }
      if (absl::Now() >= give_up) {
        return absl::DeadlineExceededError(
            absl::StrCat("cluster not healthy at ", Address(node.port), ": ",
                         info.ok() ? info->str : info.status().ToString()));
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<ClusterTopology>> RedisCluster::DiscoverTopology(
    ClusterOptions options) const {
  options.seeds = addresses();
  return ClusterTopology::Discover(std::move(options),
                                   absl::Now() + absl::Seconds(5));
}

absl::Status RedisCluster::WaitUntilSynced(absl::Duration timeout) {
  // Counts replicas rather than accepting "role:master": right after
  // `--cluster create` a node about to become a replica still says master,
  // and a test that kills a master then would find its replica empty.
  const int want = options_.masters * options_.replicas_per_master;
  absl::Time give_up = absl::Now() + timeout;
  while (true) {
    int synced = 0;
    std::string last;
    for (const Node& node : nodes_) {
      absl::StatusOr<RedisReply> info =
          Command(Address(node.port), {"INFO", "replication"});
      if (!info.ok()) {
        last = info.status().ToString();
        continue;
      }
      if (InfoField(info->str, "role") == "slave" &&
          InfoField(info->str, "master_link_status") == "up" &&
          InfoField(info->str, "master_sync_in_progress") == "0") {
        ++synced;
      }
    }
    if (synced == want) return absl::OkStatus();
    if (absl::Now() >= give_up) {
      return absl::DeadlineExceededError(absl::StrCat(
          synced, " of ", want, " replicas in sync after ",
          absl::FormatDuration(timeout), last.empty() ? "" : ": ", last));
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
}

}  // namespace townhall::testing
