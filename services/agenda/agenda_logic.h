// AgendaLogic: a session's agenda items, topic proposals, outcomes, action
// items (shared by every occurrence of a series), follow-ups and minutes.
// Plain methods taking the caller, a Redis connection, the session (fetched
// from SchedulingService by the glue in agenda_service.cc) and the request;
// the access table has already let the call in. Every change is one Lua
// script that also appends to the session's change feed (agenda_keys.h).
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/common/auth/principal.h"
#include "services/common/redis/redis_connection.h"
#include "townhall/v1/agenda.pb.h"
#include "townhall/v1/scheduling.pb.h"

namespace townhall::agenda {

// The whole agenda of `session`: items in order (with positions and
// overruns as of now), the active item, outcomes, the session's action
// items, server_time, and the feed version read in the same script as the
// state, so a watcher resuming after `version` misses nothing. Leaves
// speakers_queue empty (SpeakersLogic fills it).
absl::StatusOr<v1::AgendaSnapshot> ReadAgendaSnapshot(
    RedisConnection& redis, absl::string_view tenant_id,
    const v1::Session& session);

class AgendaLogic {
 public:
  using Redis = RedisConnection;

  absl::Status CreateAgendaItem(const Principal& caller, Redis& redis,
                                const v1::Session& session,
                                const v1::CreateAgendaItemRequest& request,
                                v1::CreateAgendaItemResponse* response) const;
  absl::Status UpdateAgendaItem(const Principal& caller, Redis& redis,
                                const v1::Session& session,
                                const v1::UpdateAgendaItemRequest& request,
                                v1::UpdateAgendaItemResponse* response) const;
  absl::Status MoveAgendaItem(const Principal& caller, Redis& redis,
                              const v1::Session& session,
                              const v1::MoveAgendaItemRequest& request,
                              v1::MoveAgendaItemResponse* response) const;
  absl::Status DeleteAgendaItem(const Principal& caller, Redis& redis,
                                const v1::Session& session,
                                const v1::DeleteAgendaItemRequest& request,
                                v1::DeleteAgendaItemResponse* response) const;
  absl::Status GetAgenda(const Principal& caller, Redis& redis,
                         const v1::Session& session,
                         const v1::GetAgendaRequest& request,
                         v1::GetAgendaResponse* response) const;
  absl::Status ActivateAgendaItem(
      const Principal& caller, Redis& redis, const v1::Session& session,
      const v1::ActivateAgendaItemRequest& request,
      v1::ActivateAgendaItemResponse* response) const;
  absl::Status CompleteAgendaItem(
      const Principal& caller, Redis& redis, const v1::Session& session,
      const v1::CompleteAgendaItemRequest& request,
      v1::CompleteAgendaItemResponse* response) const;
  absl::Status SkipAgendaItem(const Principal& caller, Redis& redis,
                              const v1::Session& session,
                              const v1::SkipAgendaItemRequest& request,
                              v1::SkipAgendaItemResponse* response) const;
  absl::Status ProposeTopic(const Principal& caller, Redis& redis,
                            const v1::Session& session,
                            const v1::ProposeTopicRequest& request,
                            v1::ProposeTopicResponse* response) const;
  absl::Status ListTopicProposals(
      const Principal& caller, Redis& redis, const v1::Session& session,
      const v1::ListTopicProposalsRequest& request,
      v1::ListTopicProposalsResponse* response) const;
  absl::Status AcceptTopicProposal(
      const Principal& caller, Redis& redis, const v1::Session& session,
      const v1::AcceptTopicProposalRequest& request,
      v1::AcceptTopicProposalResponse* response) const;
  absl::Status DeclineTopicProposal(
      const Principal& caller, Redis& redis, const v1::Session& session,
      const v1::DeclineTopicProposalRequest& request,
      v1::DeclineTopicProposalResponse* response) const;
  absl::Status RecordOutcome(const Principal& caller, Redis& redis,
                             const v1::Session& session,
                             const v1::RecordOutcomeRequest& request,
                             v1::RecordOutcomeResponse* response) const;
  absl::Status CreateActionItem(const Principal& caller, Redis& redis,
                                const v1::Session& session,
                                const v1::CreateActionItemRequest& request,
                                v1::CreateActionItemResponse* response) const;
  absl::Status UpdateActionItem(const Principal& caller, Redis& redis,
                                const v1::Session& session,
                                const v1::UpdateActionItemRequest& request,
                                v1::UpdateActionItemResponse* response) const;
  absl::Status ListActionItems(const Principal& caller, Redis& redis,
                               const v1::Session& session,
                               const v1::ListActionItemsRequest& request,
                               v1::ListActionItemsResponse* response) const;
  absl::Status PrepareFollowUp(const Principal& caller, Redis& redis,
                               const v1::Session& session,
                               const v1::PrepareFollowUpRequest& request,
                               v1::PrepareFollowUpResponse* response) const;
  absl::Status ExportMinutes(const Principal& caller, Redis& redis,
                             const v1::Session& session,
                             const v1::ExportMinutesRequest& request,
                             v1::ExportMinutesResponse* response) const;
};

}  // namespace townhall::agenda
