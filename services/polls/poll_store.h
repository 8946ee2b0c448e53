// PollStore: a session's polls in Redis and the one way their scripts run.
// Every key shares the session's hash tag {s:<tenant>:<session>} (the
// question queue's slot), so each script touches one Redis Cluster slot;
// the scripts (lua/) receive the prefix as KEYS[1] and derive every key by
// appending to it. lua/polls.lua lists the schema:
//
//   th:{s:<tenant>:<session>}:polls:version, :polls:events   the poll feed
//   th:{s:<tenant>:<session>}:polls, polls:seq, polls:open, polls:rl
//   th:{s:<tenant>:<session>}:poll:<id>[:voters|:tally|:words]
//   th:{s:<tenant>:<session>}:audit, audit:n   the moderation log
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "services/common/change_feed.h"
#include "services/common/redis/lua_script.h"
#include "services/common/redis/redis_connection.h"
#include "services/common/redis/script_outcome.h"
#include "services/common/tenant_keys.h"
#include "townhall/v1/polls.pb.h"

namespace townhall::polls {

// "th:{s:<tenant>:<session>}:": KEYS[1] of every polls script.
inline std::string PollPrefix(absl::string_view tenant_id,
                              absl::string_view session_id) {
  return absl::StrCat(SessionSlotScope(tenant_id, session_id), ":");
}

// The session's poll feed: <prefix>polls:version, <prefix>polls:events.
inline FeedKeys PollFeedKeys(absl::string_view tenant_id,
                             absl::string_view session_id) {
  return FeedKeys::ForScope(
      absl::StrCat(SessionSlotScope(tenant_id, session_id), ":polls"));
}

// One session's polls. One store per call (it wraps the worker's
// connection).
class PollStore {
 public:
  PollStore(RedisConnection& redis, absl::string_view tenant_id,
            absl::string_view session_id)
      : redis_(redis), prefix_(PollPrefix(tenant_id, session_id)) {}

  // Runs a polls script with KEYS = {prefix}.
  absl::StatusOr<ScriptOutcome> RunScript(
      const LuaScript& script, const std::vector<std::string>& args) const {
    return townhall::RunScript(redis_, script, {prefix_}, args);
  }

 private:
  RedisConnection& redis_;
  std::string prefix_;
};

// The session's polls (or only `poll_id`: NOT_FOUND when it has no such
// poll), oldest first, each as ApplyVisibility(privileged) leaves it
// (poll_rules.h), with the poll feed's version read at the same instant:
// WatchPolls' snapshot, and the minutes.
absl::StatusOr<v1::PollsSnapshot> ReadPollsSnapshot(
    RedisConnection& redis, absl::string_view tenant_id,
    absl::string_view session_id, absl::string_view poll_id, bool privileged);

}  // namespace townhall::polls
