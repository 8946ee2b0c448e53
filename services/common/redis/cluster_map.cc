#include "services/common/redis/cluster_map.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/common/redis/replica_wait.h"

namespace townhall {
namespace {

absl::Status Malformed(absl::string_view what) {
  return absl::InternalError(
      absl::StrCat("redis cluster: malformed ", what, " reply"));
}

// The value after `name` in a flat name/value array (RESP2 maps).
const RedisReply* FieldOf(const RedisReply& map, absl::string_view name) {
  if (!map.is_array()) return nullptr;
  for (size_t i = 0; i + 1 < map.elements.size(); i += 2) {
    if (map.elements[i].str == name) return &map.elements[i + 1];
  }
  return nullptr;
}

bool ValidSlotRange(int64_t first, int64_t last) {
  return first >= 0 && first <= last && last < kClusterSlots;
}

}  // namespace

ClusterMap::ClusterMap() : owner_(kClusterSlots, -1) {}

int ClusterMap::IndexOf(absl::string_view address, bool master) {
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].address == address) {
      nodes_[i].master = nodes_[i].master || master;
      return static_cast<int>(i);
    }
  }
  nodes_.push_back(Node{std::string(address), master});
  return static_cast<int>(nodes_.size() - 1);
}

const std::string& ClusterMap::MasterOf(int slot) const {
  static const std::string* const kNone = new std::string();
  int owner = owner_[slot];
  return owner < 0 ? *kNone : nodes_[owner].address;
}

void ClusterMap::SetMaster(int slot, absl::string_view address) {
  owner_[slot] = static_cast<int16_t>(IndexOf(address, /*master=*/true));
}

std::vector<std::string> ClusterMap::Nodes() const {
  std::vector<std::string> nodes;
  for (bool masters : {true, false}) {
    for (const Node& node : nodes_) {
      if (node.master == masters) nodes.push_back(node.address);
    }
  }
  return nodes;
}

std::vector<std::string> ClusterMap::Masters() const {
  std::vector<bool> serving(nodes_.size(), false);
  for (int16_t owner : owner_) {
    if (owner >= 0) serving[owner] = true;
  }
  std::vector<std::string> masters;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (serving[i]) masters.push_back(nodes_[i].address);
  }
  return masters;
}

int ClusterMap::UnservedSlots() const {
  return static_cast<int>(std::count(owner_.begin(), owner_.end(), -1));
}

absl::StatusOr<ClusterMap> ClusterMap::FromShardsReply(
    const RedisReply& reply) {
  if (!reply.is_array()) return Malformed("CLUSTER SHARDS");
  ClusterMap map;
  for (const RedisReply& shard : reply.elements) {
    const RedisReply* slots = FieldOf(shard, "slots");
    const RedisReply* nodes = FieldOf(shard, "nodes");
    if (slots == nullptr || nodes == nullptr || !slots->is_array() ||
        !nodes->is_array() || slots->elements.size() % 2 != 0) {
      return Malformed("CLUSTER SHARDS");
    }
    int master = -1;
    for (const RedisReply& node : nodes->elements) {
      const RedisReply* endpoint = FieldOf(node, "endpoint");
      const RedisReply* ip = FieldOf(node, "ip");
      const RedisReply* port = FieldOf(node, "port");
      const RedisReply* role = FieldOf(node, "role");
      const RedisReply* health = FieldOf(node, "health");
      if (port == nullptr || role == nullptr ||
          (endpoint == nullptr && ip == nullptr)) {
        return Malformed("CLUSTER SHARDS");
      }
      absl::StatusOr<int64_t> port_number = port->AsInteger();
      if (!port_number.ok()) return Malformed("CLUSTER SHARDS");
      std::string host = endpoint != nullptr ? endpoint->str : "";
      if ((host.empty() || host == "?") && ip != nullptr) host = ip->str;
      bool is_master = role->str == "master";
      bool online = health == nullptr || health->str == "online";
      int index = map.IndexOf(absl::StrCat(host, ":", *port_number),
                              is_master && online);
      if (is_master && online) master = index;
    }
    for (size_t i = 0; i < slots->elements.size(); i += 2) {
      absl::StatusOr<int64_t> first = slots->elements[i].AsInteger();
      absl::StatusOr<int64_t> last = slots->elements[i + 1].AsInteger();
      if (!first.ok() || !last.ok() || !ValidSlotRange(*first, *last)) {
        return Malformed("CLUSTER SHARDS");
      }
      if (master < 0) continue;  // failed over or loading: unserved
      std::fill(map.owner_.begin() + *first, map.owner_.begin() + *last + 1,
                static_cast<int16_t>(master));
    }
  }
  return map;
}

absl::StatusOr<ClusterMap> ClusterMap::FromSlotsReply(const RedisReply& reply) {
  if (!reply.is_array()) return Malformed("CLUSTER SLOTS");
  ClusterMap map;
  for (const RedisReply& range : reply.elements) {
    if (!range.is_array() || range.elements.size() < 3) {
      return Malformed("CLUSTER SLOTS");
    }
    absl::StatusOr<int64_t> first = range.elements[0].AsInteger();
    absl::StatusOr<int64_t> last = range.elements[1].AsInteger();
    if (!first.ok() || !last.ok() || !ValidSlotRange(*first, *last)) {
      return Malformed("CLUSTER SLOTS");
    }
    int master = -1;
    for (size_t i = 2; i < range.elements.size(); ++i) {
      const RedisReply& node = range.elements[i];
      if (!node.is_array() || node.elements.size() < 2) {
        return Malformed("CLUSTER SLOTS");
      }
      absl::StatusOr<int64_t> port = node.elements[1].AsInteger();
      if (!port.ok()) return Malformed("CLUSTER SLOTS");
      int index = map.IndexOf(absl::StrCat(node.elements[0].str, ":", *port),
                              /*master=*/i == 2);
      if (i == 2) master = index;
    }
    std::fill(map.owner_.begin() + *first, map.owner_.begin() + *last + 1,
              static_cast<int16_t>(master));
  }
  return map;
}

std::optional<Redirect> ParseRedirect(absl::string_view error,
                                      absl::string_view from_address) {
  std::vector<absl::string_view> parts = absl::StrSplit(error, ' ');
  if (parts.size() != 3) return std::nullopt;
  Redirect redirect;
  if (parts[0] == "MOVED") {
    redirect.kind = Redirect::Kind::kMoved;
  } else if (parts[0] == "ASK") {
    redirect.kind = Redirect::Kind::kAsk;
  } else {
    return std::nullopt;
  }
  size_t colon = parts[2].rfind(':');
  if (!absl::SimpleAtoi(parts[1], &redirect.slot) || redirect.slot < 0 ||
      redirect.slot >= kClusterSlots || colon == absl::string_view::npos) {
    return std::nullopt;
  }
  if (colon == 0) {
    absl::string_view from_host =
        from_address.substr(0, from_address.rfind(':'));
    redirect.address = absl::StrCat(from_host, parts[2]);
  } else {
    redirect.address = std::string(parts[2]);
  }
  return redirect;
}

namespace {

// Errors after which the map's master for the slot is the one to retry.
bool IsTryAgain(absl::string_view error) {
  return absl::StrContains(error, "TRYAGAIN");
}

RouteDecision Retry(RouteStep step, int attempt, absl::Time now,
                    absl::Time deadline, const RoutePolicy& policy,
                    absl::Status last) {
  RouteDecision decision;
  if (attempt >= policy.max_attempts) {
    decision.give_up = absl::UnavailableError(
        absl::StrCat("storage unavailable (redis cluster: gave up after ",
                     attempt, " attempts: ", last.message(), ")"));
    return decision;
  }
  // The back-off before this retry, and those before the earlier ones (an
  // upper bound: redirections among them did not wait).
  absl::Duration waited = absl::ZeroDuration();
  absl::Duration wait = policy.first_backoff;
  for (int i = 1; i < attempt; ++i) {
    waited += wait;
    wait = std::min(wait * 2, policy.max_backoff);
  }
  wait = std::min(wait, policy.max_backoff);
  // The budget is for a master that does not answer; a slot in migration
  // (TRYAGAIN, a script waiting for the migration) retries to the deadline.
  if (step == RouteStep::kRefreshAndRetry &&
      waited + wait > policy.retry_budget) {
    decision.give_up = absl::UnavailableError(
        absl::StrCat("storage unavailable (redis cluster: retried for ",
                     absl::FormatDuration(waited), ": ", last.message(), ")"));
    return decision;
  }
  if (now + wait >= deadline) {
    decision.give_up = last.code() == absl::StatusCode::kUnavailable
                           ? last
                           : absl::UnavailableError(last.message());
    return decision;
  }
  decision.step = step;
  decision.wait = wait;
  return decision;
}

}  // namespace

RouteDecision DecideRoute(const absl::StatusOr<RedisReply>& result,
                          absl::string_view node, int attempt, absl::Time now,
                          absl::Time deadline, const RoutePolicy& policy) {
  if (!result.ok()) {
    if (result.status().code() != absl::StatusCode::kUnavailable ||
        IsReplicaWaitShortfall(result.status())) {
      return {};
    }
    RouteStep step = IsTryAgain(result.status().message())
                         ? RouteStep::kRetry
                         : RouteStep::kRefreshAndRetry;
    return Retry(step, attempt, now, deadline, policy, result.status());
  }
  if (result->type != RedisReply::Type::kError) return {};
  std::optional<Redirect> redirect = ParseRedirect(result->str, node);
  if (redirect.has_value()) {
    RouteDecision decision;
    if (attempt >= policy.max_attempts) {
      decision.give_up = absl::UnavailableError(absl::StrCat(
          "storage unavailable (redis cluster: too many redirections, last ",
          result->str, ")"));
      return decision;
    }
    decision.step = redirect->kind == Redirect::Kind::kMoved
                        ? RouteStep::kFollowMoved
                        : RouteStep::kFollowAsk;
    decision.redirect = *std::move(redirect);
    return decision;
  }
  if (IsTransientRedisError(*result)) {
    absl::Status last = absl::UnavailableError(
        absl::StrCat("storage unavailable (redis: ", result->str, ")"));
    RouteStep step = IsTryAgain(result->str) ? RouteStep::kRetry
                                             : RouteStep::kRefreshAndRetry;
    return Retry(step, attempt, now, deadline, policy, last);
  }
  return {};
}

RouteDecision DecideScriptRoute(const absl::StatusOr<RedisReply>& result,
                                absl::string_view node, int attempt,
                                absl::Time now, absl::Time deadline,
                                const RoutePolicy& policy) {
  RouteDecision decision =
      DecideRoute(result, node, attempt, now, deadline, policy);
  if (decision.step != RouteStep::kFollowAsk) return decision;
  return Retry(RouteStep::kRetry, attempt, now, deadline, policy,
               absl::UnavailableError(absl::StrCat(
                   "storage unavailable (redis cluster: slot ",
                   decision.redirect.slot, " is migrating)")));
}

bool IsScriptCommand(absl::string_view command) {
  return absl::EqualsIgnoreCase(command, "EVALSHA") ||
         absl::EqualsIgnoreCase(command, "EVAL") ||
         absl::EqualsIgnoreCase(command, "EVALSHA_RO") ||
         absl::EqualsIgnoreCase(command, "EVAL_RO");
}

}  // namespace townhall
