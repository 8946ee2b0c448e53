#include "services/common/redis/cluster_router.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "services/common/logging.h"
#include "services/common/redis/command_keys.h"

namespace townhall {

absl::StatusOr<std::shared_ptr<ClusterTopology>> ClusterTopology::Discover(
    ClusterOptions options, absl::Time deadline) {
  if (options.seeds.empty()) {
    return absl::InvalidArgumentError("redis cluster: no seed nodes");
  }
  // Node connections are plain ones (and the topology must not own itself).
  options.node.cluster = nullptr;
  std::shared_ptr<ClusterTopology> topology(
      new ClusterTopology(std::move(options)));
  if (absl::Status s = topology->Refresh(deadline); !s.ok()) return s;
  return topology;
}

absl::StatusOr<std::shared_ptr<ClusterTopology>> DiscoverCluster(
    absl::string_view seeds, const RedisOptions& node) {
  ClusterOptions options;
  options.seeds = absl::StrSplit(seeds, ',', absl::SkipWhitespace());
  options.node = node;
  absl::Time deadline =
      absl::Now() + (node.connect_timeout + node.command_timeout) *
                        std::max<size_t>(1, options.seeds.size());
  return ClusterTopology::Discover(std::move(options), deadline);
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
  absl::StatusOr<int> slot = keys.empty() ? 0 : CommonSlot(keys);
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
  if (keys.size() > 1 && absl::EqualsIgnoreCase(argv[0], "XREAD") &&
      !CommonSlot(keys).ok()) {
    return ReadStreamsBySlot(argv);
  }
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

absl::StatusOr<RedisReply> ClusterRouter::ReadStreamsBySlot(
    absl::Span<const std::string> argv) {
  // XREAD [COUNT n] [BLOCK ms] STREAMS k1 .. kn id1 .. idn; CommandKeys
  // found the keys, so STREAMS is there and the ids match them.
  std::vector<std::string> options = {argv[0]};
  absl::Time block_until = absl::Now();
  size_t streams = 1;
  for (; !absl::EqualsIgnoreCase(argv[streams], "STREAMS"); ++streams) {
    int64_t ms = 0;
    if (absl::EqualsIgnoreCase(argv[streams], "BLOCK") &&
        streams + 1 < argv.size() && absl::SimpleAtoi(argv[streams + 1], &ms)) {
      block_until = ms == 0 ? deadline_ : absl::Now() + absl::Milliseconds(ms);
      ++streams;
      continue;
    }
    options.push_back(argv[streams]);
  }
  size_t count = (argv.size() - streams - 1) / 2;
  // Per slot: its keys and their ids, in the order of argv.
  struct Group {
    int slot;
    std::vector<std::string> keys;
    std::vector<std::string> ids;
  };
  std::vector<Group> groups;
  for (size_t i = 0; i < count; ++i) {
    const std::string& key = argv[streams + 1 + i];
    int slot = KeySlot(key);
    auto it = std::find_if(groups.begin(), groups.end(),
                           [slot](const Group& g) { return g.slot == slot; });
    if (it == groups.end()) it = groups.insert(groups.end(), Group{slot});
    it->keys.push_back(key);
    it->ids.push_back(argv[streams + 1 + count + i]);
  }
  while (true) {
    RedisReply merged;
    for (const Group& group : groups) {
      std::vector<std::string> read = options;
      read.push_back("STREAMS");
      read.insert(read.end(), group.keys.begin(), group.keys.end());
      read.insert(read.end(), group.ids.begin(), group.ids.end());
      absl::StatusOr<RedisReply> reply = Command(group.keys, read);
      if (!reply.ok() || reply->type == RedisReply::Type::kError) return reply;
      for (RedisReply& stream : reply->elements) {
        merged.type = RedisReply::Type::kArray;
        merged.elements.push_back(std::move(stream));
      }
    }
    absl::Time now = absl::Now();
    if (merged.is_array() || now >= block_until) return merged;
    absl::SleepFor(std::min(kStreamPoll, block_until - now));
  }
}

absl::StatusOr<RedisReply> ClusterRouter::Eval(
    const LuaScript& script, absl::Span<const std::string> keys,
    absl::Span<const std::string> args) {
  return ScriptReplyToStatus(EvalReply(script, keys, args), script);
}

absl::StatusOr<RedisReply> ClusterRouter::EvalReply(
    const LuaScript& script, absl::Span<const std::string> keys,
    absl::Span<const std::string> args) {
  return Route(
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
}

absl::StatusOr<std::vector<RedisReply>> ClusterRouter::Pipeline(
    absl::Span<const std::vector<std::string>> commands) {
  std::vector<std::vector<std::string>> keys;
  keys.reserve(commands.size());
  std::vector<std::string> all_keys;
  for (const std::vector<std::string>& argv : commands) {
    keys.push_back(CommandKeys(argv));
    all_keys.insert(all_keys.end(), keys.back().begin(), keys.back().end());
  }
  std::vector<RedisReply> replies(commands.size());
  std::vector<bool> answered(commands.size(), false);
  absl::StatusOr<int> slot = all_keys.empty() ? 0 : CommonSlot(all_keys);
  std::string node = slot.ok() ? topology_->MasterOf(*slot) : "";
  if (!node.empty()) {
    absl::StatusOr<std::vector<RedisReply>> sent =
        ConnectionTo(node).Pipeline(commands);
    if (sent.ok()) {
      for (size_t i = 0; i < commands.size(); ++i) {
        RouteDecision next =
            DecideRoute((*sent)[i], node, 1, absl::Now(), deadline_,
                        topology_->options().policy);
        if (next.step == RouteStep::kFollowMoved) {
          // Command then goes straight to the new master.
          topology_->RecordMoved(next.redirect.slot, next.redirect.address);
        }
        answered[i] = next.step == RouteStep::kReturn && next.give_up.ok();
        if (answered[i]) replies[i] = std::move((*sent)[i]);
      }
    }
  }
  for (size_t i = 0; i < commands.size(); ++i) {
    if (answered[i]) continue;
    absl::StatusOr<RedisReply> reply = Command(keys[i], commands[i]);
    if (!reply.ok()) return reply.status();
    replies[i] = *std::move(reply);
  }
  return replies;
}

}  // namespace townhall
