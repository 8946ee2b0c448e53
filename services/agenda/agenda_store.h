// AgendaStore: the keys the agenda's scripts receive, and the runs and
// reads of those scripts, for one session of one tenant. One store per call
// (it wraps the worker's connection, the caller's tenant and the session).
//
// Every agenda and speakers' queue script gets the same KEYS:
//   KEYS[1]  the tenant prefix "th:{t:<tenant>}:" (TenantPrefix)
//   KEYS[2]  the session's feed version  (AgendaFeedKeys, agenda_keys.h)
//   KEYS[3]  the session's feed events
// and ARGV[1] = the session id, then the script's own arguments. A script
// derives the agenda's data keys ("<P>agenda:<session>:items", ...; the
// table in docs/architecture.md) by appending to KEYS[1] and never builds
// the feed keys; C++ builds only these three. All of them share the hash
// tag {t:<tenant>}, so every script runs in one Cluster slot.
//
//   AgendaStore store(redis, caller.tenant_id, session.id());
//   TH_ASSIGN_OR_RETURN(ScriptOutcome outcome,
//                       store.Run(lua::kMoveItemScript, {item_id, "2", now}));
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/common/redis/lua_script.h"
#include "services/common/redis/redis_connection.h"
#include "services/common/redis/script_outcome.h"
#include "townhall/v1/agenda.pb.h"

namespace townhall::agenda {

class AgendaStore {
 public:
  AgendaStore(RedisConnection& redis, absl::string_view tenant_id,
              absl::string_view session_id);

  // Runs `script` with the keys above and ARGV = {session id, args...}.
  absl::StatusOr<ScriptOutcome> Run(const LuaScript& script,
                                    std::vector<std::string> args);

  // The session's agenda as of `now` (read_agenda.lua 'agenda'): items in
  // order with positions and overruns, the active item, outcomes, the
  // session's action items and the feed version, read in one step.
  absl::StatusOr<v1::AgendaSnapshot> ReadAgenda(absl::Time now);
  // One item as stored, without position and overrun (read_agenda.lua
  // 'item'); NOT_FOUND when the session has no such item.
  absl::StatusOr<v1::AgendaItem> ReadItem(absl::string_view item_id);
  // The session's topic proposals, oldest first (read_agenda.lua
  // 'proposals').
  absl::StatusOr<std::vector<v1::TopicProposal>> ReadProposals();
  // The action items of `series_id`, oldest first (read_agenda.lua
  // 'series_actions').
  absl::StatusOr<std::vector<v1::ActionItem>> ReadSeriesActions(
      absl::string_view series_id);
  // One item's speakers' queue as the API shows it (read_queue.lua);
  // NOT_FOUND when the item does not exist.
  absl::StatusOr<v1::SpeakersQueue> ReadSpeakersQueue(
      absl::string_view agenda_item_id);

 private:
  RedisConnection& redis_;
  std::string session_id_;
  std::vector<std::string> keys_;
};

// INTERNAL: a script replied with a kind or a shape its caller does not
// know (a bug, not a request error).
absl::Status UnexpectedOutcome(const ScriptOutcome& outcome);

// Decodes read_agenda.lua's 'agenda' reply {version, active id, #items,
// item JSON..., #outcomes, outcome JSON..., #actions, action JSON...} into
// a snapshot of `session_id` as of `now` (positions, overruns,
// server_time). Pure, for the store and its tests.
absl::StatusOr<v1::AgendaSnapshot> DecodeAgendaReply(
    const ScriptOutcome& outcome, absl::string_view session_id, absl::Time now);

}  // namespace townhall::agenda
