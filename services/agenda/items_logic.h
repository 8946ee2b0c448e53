// ItemsLogic: a session's agenda items: create, edit, move and delete
// them, read the whole agenda, and run it (activate, complete, skip; one
// ACTIVE item at a time, actual times and overruns). Plain methods taking
// the caller, a Redis connection, the session (fetched from
// SchedulingService by the glue in agenda_service.cc) and the request; the
// access table has already let the call in. Every change is one Lua script
// (AgendaStore) that also appends to the session's change feed.
#pragma once

#include "absl/status/status.h"
#include "services/common/auth/principal.h"
#include "services/common/redis/redis_connection.h"
#include "townhall/v1/agenda.pb.h"
#include "townhall/v1/scheduling.pb.h"

namespace townhall::agenda {

class ItemsLogic {
 public:
  using Redis = RedisConnection;

  // Runs create_item.lua.
  absl::Status CreateAgendaItem(const Principal& caller, Redis& redis,
                                const v1::Session& session,
                                const v1::CreateAgendaItemRequest& request,
                                v1::CreateAgendaItemResponse* response) const;

  // Runs read_agenda.lua ('item'), merges the mask, then update_item.lua (which
  // re-checks the etag).
  absl::Status UpdateAgendaItem(const Principal& caller, Redis& redis,
                                const v1::Session& session,
                                const v1::UpdateAgendaItemRequest& request,
                                v1::UpdateAgendaItemResponse* response) const;

  // Runs move_item.lua.
  absl::Status MoveAgendaItem(const Principal& caller, Redis& redis,
                              const v1::Session& session,
                              const v1::MoveAgendaItemRequest& request,
                              v1::MoveAgendaItemResponse* response) const;

  // Runs delete_item.lua.
  absl::Status DeleteAgendaItem(const Principal& caller, Redis& redis,
                                const v1::Session& session,
                                const v1::DeleteAgendaItemRequest& request,
                                v1::DeleteAgendaItemResponse* response) const;

  // Runs read_agenda.lua ('agenda').
  absl::Status GetAgenda(const Principal& caller, Redis& redis,
                         const v1::Session& session,
                         const v1::GetAgendaRequest& request,
                         v1::GetAgendaResponse* response) const;

  // Runs transition_item.lua ('activate'); only while the session is LIVE.
  absl::Status ActivateAgendaItem(
      const Principal& caller, Redis& redis, const v1::Session& session,
      const v1::ActivateAgendaItemRequest& request,
      v1::ActivateAgendaItemResponse* response) const;

  // Runs transition_item.lua ('complete').
  absl::Status CompleteAgendaItem(
      const Principal& caller, Redis& redis, const v1::Session& session,
      const v1::CompleteAgendaItemRequest& request,
      v1::CompleteAgendaItemResponse* response) const;

  // Runs transition_item.lua ('skip').
  absl::Status SkipAgendaItem(const Principal& caller, Redis& redis,
                              const v1::Session& session,
                              const v1::SkipAgendaItemRequest& request,
                              v1::SkipAgendaItemResponse* response) const;
};

}  // namespace townhall::agenda
