#include "services/common/redis/cluster_router.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "services/common/logging.h"

namespace townhall {

absl::StatusOr<std::shared_ptr<ClusterTopology>> ClusterTopology::Discover(
    ClusterOptions options, absl::Time deadline) {
  if (options.seeds.empty()) {
    return absl::InvalidArgumentError("redis cluster: no seed nodes");
  }
  std::shared_ptr<ClusterTopology> topology(
      new ClusterTopology(std::move(options)));
  if (absl::Status s = topology->Refresh(deadline); !s.ok()) return s;
  return topology;
}

std::string ClusterTopology::MasterOf(int slot) const {
  absl::ReaderMutexLock lock(&mu_);
  return map_.MasterOf(slot);
}

void ClusterTopology::RecordMoved(int slot, absl::string_view address) {
  absl::MutexLock lock(&mu_);
  map_.SetMaster(slot, address);
}

ClusterMap ClusterTopology::Snapshot() const {
  absl::ReaderMutexLock lock(&mu_);
  return map_;
}

int ClusterTopology::refreshes() const {
  absl::ReaderMutexLock lock(&mu_);
  return refreshes_;
}

absl::StatusOr<ClusterMap> ClusterTopology::LoadFrom(
    const std::string& address, absl::Time deadline) const {
  RedisOptions options = options_.node;
  options.address = address;
  RedisConnection connection(options);
  connection.set_deadline(deadline);
  absl::StatusOr<RedisReply> shards = connection.Command({"CLUSTER", "SHARDS"});
  if (!shards.ok()) return shards.status();
  if (shards->type != RedisReply::Type::kError) {
    return ClusterMap::FromShardsReply(*shards);
  }
  // Redis before 7.0 has no CLUSTER SHARDS.
  absl::StatusOr<RedisReply> slots = connection.Command({"CLUSTER", "SLOTS"});
  if (!slots.ok()) return slots.status();
  if (slots->type == RedisReply::Type::kError) {
    return absl::UnavailableError(
        absl::StrCat("redis cluster: ", address, ": ", slots->str));
  }
  return ClusterMap::FromSlotsReply(*slots);
}

absl::Status ClusterTopology::Refresh(absl::Time deadline) {
  absl::MutexLock refresh_lock(&refresh_mu_);
  if (absl::Now() - last_refresh_ < options_.min_refresh_interval) {
    return absl::OkStatus();
  }
  std::vector<std::string> candidates = Snapshot().Nodes();
  for (const std::string& seed : options_.seeds) {
    if (std::find(candidates.begin(), candidates.end(), seed) ==
        candidates.end()) {
      candidates.push_back(seed);
    }
  }
  std::vector<std::string> failures;
  for (const std::string& address : candidates) {
    absl::StatusOr<ClusterMap> map = LoadFrom(address, deadline);
    if (!map.ok()) {
      failures.push_back(absl::StrCat(address, ": ", map.status().message()));
      if (absl::Now() >= deadline) break;
      continue;
    }
    last_refresh_ = absl::Now();
    absl::MutexLock lock(&mu_);
    map_ = *std::move(map);
    ++refreshes_;
    return absl::OkStatus();
  }
  LogWarning("redis cluster map refresh failed",
             {{"errors", absl::StrJoin(failures, "; ")}});
  return absl::UnavailableError(
      absl::StrCat("storage unavailable (redis cluster: no node answered: ",
                   absl::StrJoin(failures, "; "), ")"));
}

ClusterRouter::ClusterRouter(std::shared_ptr<ClusterTopology> topology)
    : topology_(std::move(topology)) {}

RedisConnection& ClusterRouter::ConnectionTo(const std::string& address) {
  std::unique_ptr<RedisConnection>& connection = connections_[address];
  if (connection == nullptr) {
    RedisOptions options = topology_->options().node;
    options.address = address;
    connection = std::make_unique<RedisConnection>(std::move(options));
  }
  connection->set_deadline(deadline_);
  return *connection;
}

absl::StatusOr<RedisReply> ClusterRouter::Route(
    absl::Span<const std::string> keys, Send send) {
  absl::StatusOr<int> slot = CommonSlot(keys);
  if (!slot.ok()) return slot.status();
  std::string node = topology_->MasterOf(*slot);
  bool asking = false;
  for (int attempt = 1;; ++attempt) {
    absl::StatusOr<RedisReply> result =
        node.empty()
            ? absl::UnavailableError(absl::StrCat(
                  "storage unavailable (redis cluster: no master serves slot ",
                  *slot, ")"))
            : send(ConnectionTo(node), asking);
    RouteDecision next = DecideRoute(result, node, attempt, absl::Now(),
                                     deadline_, topology_->options().policy);
    asking = false;
    switch (next.step) {
      case RouteStep::kReturn:
        if (!next.give_up.ok()) return next.give_up;
        return result;
      case RouteStep::kFollowMoved:
        topology_->RecordMoved(next.redirect.slot, next.redirect.address);
        node = next.redirect.address;
        break;
      case RouteStep::kFollowAsk:
        node = next.redirect.address;
        asking = true;
        break;
      case RouteStep::kRefreshAndRetry:
        // A failed refresh leaves the old map; the retry decides again.
        (void)topology_->Refresh(deadline_);
        absl::SleepFor(next.wait);
        node = topology_->MasterOf(*slot);
        break;
      case RouteStep::kRetry:
        absl::SleepFor(next.wait);
        node = topology_->MasterOf(*slot);
        break;
    }
  }
}

absl::StatusOr<RedisReply> ClusterRouter::Command(
    absl::Span<const std::string> keys, absl::Span<const std::string> argv) {
  return Route(
      keys,
      [argv](RedisConnection& node, bool asking) -> absl::StatusOr<RedisReply> {
        if (!asking) return node.Command(argv);
        std::vector<std::vector<std::string>> commands = {
            {"ASKING"}, std::vector<std::string>(argv.begin(), argv.end())};
        absl::StatusOr<std::vector<RedisReply>> replies =
            node.Pipeline(commands);
        if (!replies.ok()) return replies.status();
        return std::move((*replies)[1]);
      });
}

absl::StatusOr<RedisReply> ClusterRouter::Eval(
    const LuaScript& script, absl::Span<const std::string> keys,
    absl::Span<const std::string> args) {
  absl::StatusOr<RedisReply> reply = Route(
      keys,
      [&](RedisConnection& node, bool asking) -> absl::StatusOr<RedisReply> {
        if (asking) {
          // ASKING covers one command: load the script first, so that a
          // NOSCRIPT fallback (EVAL, sent without ASKING) is not needed on
          // the importing node.
          std::vector<std::vector<std::string>> commands = {
              {"SCRIPT", "LOAD", script.body()}, {"ASKING"}};
          absl::StatusOr<std::vector<RedisReply>> loaded =
              node.Pipeline(commands);
          if (!loaded.ok()) return loaded.status();
        }
        return node.EvalReply(script, keys, args);
      });
  return ScriptReplyToStatus(std::move(reply), script);
}

}  // namespace townhall
