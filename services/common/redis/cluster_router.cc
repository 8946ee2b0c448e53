#include "services/common/redis/cluster_router.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
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
    absl::string_view seeds, const RedisOptions& node, RoutePolicy policy) {
  ClusterOptions options;
  options.seeds = absl::StrSplit(seeds, ',', absl::SkipWhitespace());
  options.node = node;
  options.policy = policy;
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

ClusterRouter::ClusterRouter(std::shared_ptr<ClusterTopology> topology,
                             RedisMetrics* metrics)
    : topology_(std::move(topology)),
      metrics_(metrics),
      slot_readers_(topology_->options().node) {}

RedisConnection& ClusterRouter::ConnectionTo(const std::string& address) {
  std::unique_ptr<RedisConnection>& connection = connections_[address];
  if (connection == nullptr) {
    RedisOptions options = topology_->options().node;
    options.address = address;
    options.metrics = metrics_;
    connection = std::make_unique<RedisConnection>(std::move(options));
  }
  connection->set_deadline(deadline_);
  return *connection;
}

absl::StatusOr<RedisReply> ClusterRouter::Route(
    absl::Span<const std::string> keys, bool script, Send send) {
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
    // A script waits out a migration rather than follow ASK
    // (DecideScriptRoute).
    RouteDecision next =
        (script ? DecideScriptRoute : DecideRoute)(
            result, node, attempt, absl::Now(), deadline_,
            topology_->options().policy);
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
      keys, IsScriptCommand(argv[0]),
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
  absl::StatusOr<XReadArgs> xread = XReadArgs::Parse(argv);
  if (!xread.ok()) return xread.status();
  // The streams of each slot, in the order of argv.
  std::vector<int> slots;
  std::vector<std::vector<size_t>> streams;
  for (size_t i = 0; i < xread->keys.size(); ++i) {
    int slot = KeySlot(xread->keys[i]);
    size_t g = std::find(slots.begin(), slots.end(), slot) - slots.begin();
    if (g == slots.size()) {
      slots.push_back(slot);
      streams.emplace_back();
    }
    streams[g].push_back(i);
  }
  // Redis ends the blocks itself, a margin before the deadline, so that
  // their replies arrive in time (BLOCK 0, no limit, too).
  absl::Duration block = absl::ZeroDuration();
  if (xread->block.has_value()) {
    constexpr absl::Duration kMargin = absl::Milliseconds(100);
    absl::Duration left = deadline_ - absl::Now() - kMargin;
    block = *xread->block == absl::ZeroDuration()
                ? left
                : std::min(*xread->block, left);
  }
  std::vector<SlotRead> reads;
  for (size_t g = 0; g < slots.size(); ++g) {
    reads.push_back({slots[g], topology_->MasterOf(slots[g]),
                     xread->Argv(streams[g], block)});
  }
  auto unblock = [this, block](const std::string& master,
                               absl::Span<const int64_t> client_ids) {
    // Reads without BLOCK end by themselves.
    if (block > absl::ZeroDuration()) Unblock(master, client_ids);
  };
  std::vector<absl::StatusOr<RedisReply>> replies =
      slot_readers_.ReadAll(reads, deadline_, unblock);
  RedisReply merged;
  for (size_t g = 0; g < slots.size(); ++g) {
    absl::StatusOr<RedisReply>& reply = replies[g];
    RouteDecision next = DecideRoute(reply, reads[g].master, 1, absl::Now(),
                                     deadline_, topology_->options().policy);
    if (!reply.ok() || next.step != RouteStep::kReturn) {
      // A lost connection, MOVED, ASK, CLUSTERDOWN, ...: read the slot
      // again, now, through Route, which follows, refreshes and backs off.
      // Without BLOCK: the call has waited its turn, and the read is sent
      // after the call began, so it holds every change committed before.
      std::vector<std::string> keys;
      for (size_t s : streams[g]) keys.push_back(xread->keys[s]);
      reply = Command(keys, xread->Argv(streams[g], absl::ZeroDuration()));
    }
    if (!reply.ok() || reply->type == RedisReply::Type::kError) return reply;
    for (RedisReply& stream : reply->elements) {
      merged.type = RedisReply::Type::kArray;
      merged.elements.push_back(std::move(stream));
    }
  }
  return merged;
}

void ClusterRouter::Unblock(const std::string& master,
                            absl::Span<const int64_t> client_ids) {
  std::vector<std::vector<std::string>> commands;
  for (int64_t id : client_ids) {
    commands.push_back({"CLIENT", "UNBLOCK", absl::StrCat(id), "TIMEOUT"});
  }
  // On failure the reads end at their block time or the deadline.
  absl::StatusOr<std::vector<RedisReply>> done =
      ConnectionTo(master).Pipeline(commands);
  if (!done.ok()) {
    LogWarning("redis cluster: CLIENT UNBLOCK failed",
               {{"address", master}, {"error", done.status().ToString()}});
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
  return Route(keys, /*script=*/true,
               [&](RedisConnection& node,
                   bool /*asking: never, see DecideScriptRoute*/)
                   -> absl::StatusOr<RedisReply> {
                 return node.EvalReply(script, keys, args);
               });
}

absl::StatusOr<std::vector<RedisReply>> ClusterRouter::Pipeline(
    absl::Span<const std::vector<std::string>> commands) {
  std::vector<std::vector<std::string>> keys;
  keys.reserve(commands.size());
  // One round trip per master: the commands it serves, in order.
  absl::flat_hash_map<std::string, std::vector<size_t>> by_master;
  std::vector<std::string> masters;  // in order of first command
  for (size_t i = 0; i < commands.size(); ++i) {
    keys.push_back(CommandKeys(commands[i]));
    // A command whose own keys span slots goes alone, through Command,
    // which refuses it (CROSSSLOT) or splits it (XREAD).
    absl::StatusOr<int> slot = keys.back().empty() ? 0 : CommonSlot(keys.back());
    std::string master = slot.ok() ? topology_->MasterOf(*slot) : "";
    if (master.empty()) continue;
    std::vector<size_t>& group = by_master[master];
    if (group.empty()) masters.push_back(master);
    group.push_back(i);
  }
  std::vector<RedisReply> replies(commands.size());
  std::vector<bool> answered(commands.size(), false);
  for (const std::string& master : masters) {
    const std::vector<size_t>& group = by_master[master];
    std::vector<std::vector<std::string>> batch;
    batch.reserve(group.size());
    for (size_t i : group) batch.push_back(commands[i]);
    absl::StatusOr<std::vector<RedisReply>> sent =
        ConnectionTo(master).Pipeline(batch);
    if (!sent.ok()) continue;  // each goes again through Command below
    for (size_t j = 0; j < group.size(); ++j) {
      RouteDecision next = DecideRoute((*sent)[j], master, 1, absl::Now(),
                                       deadline_, topology_->options().policy);
      if (next.step == RouteStep::kFollowMoved) {
        // Command then goes straight to the new master.
        topology_->RecordMoved(next.redirect.slot, next.redirect.address);
      }
      const size_t i = group[j];
      answered[i] = next.step == RouteStep::kReturn && next.give_up.ok();
      if (answered[i]) replies[i] = std::move((*sent)[j]);
    }
  }
  // Redirected, failed or unroutable commands: one by one, with the
  // router's retries.
  for (size_t i = 0; i < commands.size(); ++i) {
    if (answered[i]) continue;
    absl::StatusOr<RedisReply> reply = Command(keys[i], commands[i]);
    if (!reply.ok()) return reply.status();
    replies[i] = *std::move(reply);
  }
  return replies;
}

}  // namespace townhall
