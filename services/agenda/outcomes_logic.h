// OutcomesLogic: what a session settled and what it left to do: outcomes
// (agreements, decisions) of an item, action items (one record for the
// whole series, with a history), the follow-up item that carries a
// series' open action items into the next occurrence, and the minutes
// (minutes.h). Same conventions as ItemsLogic.
#pragma once

#include "absl/status/status.h"
#include "services/common/auth/principal.h"
#include "services/common/redis/redis_connection.h"
#include "townhall/v1/agenda.pb.h"
#include "townhall/v1/scheduling.pb.h"

namespace townhall::agenda {

class OutcomesLogic {
 public:
  using Redis = RedisConnection;

  // Runs record_outcome.lua.
  absl::Status RecordOutcome(const Principal& caller, Redis& redis,
                             const v1::Session& session,
                             const v1::RecordOutcomeRequest& request,
                             v1::RecordOutcomeResponse* response) const;

  // Runs create_action.lua.
  absl::Status CreateActionItem(const Principal& caller, Redis& redis,
                                const v1::Session& session,
                                const v1::CreateActionItemRequest& request,
                                v1::CreateActionItemResponse* response) const;

  // Runs update_action.lua.
  absl::Status UpdateActionItem(const Principal& caller, Redis& redis,
                                const v1::Session& session,
                                const v1::UpdateActionItemRequest& request,
                                v1::UpdateActionItemResponse* response) const;

  // Runs read_agenda.lua ('series_actions' for the whole series, else
  // 'agenda').
  absl::Status ListActionItems(const Principal& caller, Redis& redis,
                               const v1::Session& session,
                               const v1::ListActionItemsRequest& request,
                               v1::ListActionItemsResponse* response) const;

  // Runs prepare_follow_up.lua.
  absl::Status PrepareFollowUp(const Principal& caller, Redis& redis,
                               const v1::Session& session,
                               const v1::PrepareFollowUpRequest& request,
                               v1::PrepareFollowUpResponse* response) const;

  // Runs read_agenda.lua ('agenda'), then renders minutes.h.
  absl::Status ExportMinutes(const Principal& caller, Redis& redis,
                             const v1::Session& session,
                             const v1::ExportMinutesRequest& request,
                             v1::ExportMinutesResponse* response) const;
};

}  // namespace townhall::agenda
