#include "services/agenda/agenda_logic.h"

namespace townhall::agenda {

absl::Status AgendaLogic::CreateAgendaItem(
    const Principal& caller, Redis& redis, const v1::Session& session,
    const v1::CreateAgendaItemRequest& request,
    v1::CreateAgendaItemResponse* response) const {
  return absl::UnimplementedError("CreateAgendaItem");
}

absl::Status AgendaLogic::UpdateAgendaItem(
    const Principal& caller, Redis& redis, const v1::Session& session,
    const v1::UpdateAgendaItemRequest& request,
    v1::UpdateAgendaItemResponse* response) const {
  return absl::UnimplementedError("UpdateAgendaItem");
}

absl::Status AgendaLogic::MoveAgendaItem(
    const Principal& caller, Redis& redis, const v1::Session& session,
    const v1::MoveAgendaItemRequest& request,
    v1::MoveAgendaItemResponse* response) const {
  return absl::UnimplementedError("MoveAgendaItem");
}

absl::Status AgendaLogic::DeleteAgendaItem(
    const Principal& caller, Redis& redis, const v1::Session& session,
    const v1::DeleteAgendaItemRequest& request,
    v1::DeleteAgendaItemResponse* response) const {
  return absl::UnimplementedError("DeleteAgendaItem");
}

absl::Status AgendaLogic::GetAgenda(const Principal& caller, Redis& redis,
                                    const v1::Session& session,
                                    const v1::GetAgendaRequest& request,
                                    v1::GetAgendaResponse* response) const {
  return absl::UnimplementedError("GetAgenda");
}

absl::Status AgendaLogic::ActivateAgendaItem(
    const Principal& caller, Redis& redis, const v1::Session& session,
    const v1::ActivateAgendaItemRequest& request,
    v1::ActivateAgendaItemResponse* response) const {
  return absl::UnimplementedError("ActivateAgendaItem");
}

absl::Status AgendaLogic::CompleteAgendaItem(
    const Principal& caller, Redis& redis, const v1::Session& session,
    const v1::CompleteAgendaItemRequest& request,
    v1::CompleteAgendaItemResponse* response) const {
  return absl::UnimplementedError("CompleteAgendaItem");
}

absl::Status AgendaLogic::SkipAgendaItem(
    const Principal& caller, Redis& redis, const v1::Session& session,
    const v1::SkipAgendaItemRequest& request,
    v1::SkipAgendaItemResponse* response) const {
  return absl::UnimplementedError("SkipAgendaItem");
}

absl::Status AgendaLogic::ProposeTopic(
    const Principal& caller, Redis& redis, const v1::Session& session,
    const v1::ProposeTopicRequest& request,
    v1::ProposeTopicResponse* response) const {
  return absl::UnimplementedError("ProposeTopic");
}

absl::Status AgendaLogic::ListTopicProposals(
    const Principal& caller, Redis& redis, const v1::Session& session,
    const v1::ListTopicProposalsRequest& request,
    v1::ListTopicProposalsResponse* response) const {
  return absl::UnimplementedError("ListTopicProposals");
}

absl::Status AgendaLogic::AcceptTopicProposal(
    const Principal& caller, Redis& redis, const v1::Session& session,
    const v1::AcceptTopicProposalRequest& request,
    v1::AcceptTopicProposalResponse* response) const {
  return absl::UnimplementedError("AcceptTopicProposal");
}

absl::Status AgendaLogic::DeclineTopicProposal(
    const Principal& caller, Redis& redis, const v1::Session& session,
    const v1::DeclineTopicProposalRequest& request,
    v1::DeclineTopicProposalResponse* response) const {
  return absl::UnimplementedError("DeclineTopicProposal");
}

absl::Status AgendaLogic::RecordOutcome(
    const Principal& caller, Redis& redis, const v1::Session& session,
    const v1::RecordOutcomeRequest& request,
    v1::RecordOutcomeResponse* response) const {
  return absl::UnimplementedError("RecordOutcome");
}

absl::Status AgendaLogic::CreateActionItem(
    const Principal& caller, Redis& redis, const v1::Session& session,
    const v1::CreateActionItemRequest& request,
    v1::CreateActionItemResponse* response) const {
  return absl::UnimplementedError("CreateActionItem");
}

absl::Status AgendaLogic::UpdateActionItem(
    const Principal& caller, Redis& redis, const v1::Session& session,
    const v1::UpdateActionItemRequest& request,
    v1::UpdateActionItemResponse* response) const {
  return absl::UnimplementedError("UpdateActionItem");
}

absl::Status AgendaLogic::ListActionItems(
    const Principal& caller, Redis& redis, const v1::Session& session,
    const v1::ListActionItemsRequest& request,
    v1::ListActionItemsResponse* response) const {
  return absl::UnimplementedError("ListActionItems");
}

absl::Status AgendaLogic::PrepareFollowUp(
    const Principal& caller, Redis& redis, const v1::Session& session,
    const v1::PrepareFollowUpRequest& request,
    v1::PrepareFollowUpResponse* response) const {
  return absl::UnimplementedError("PrepareFollowUp");
}

absl::Status AgendaLogic::ExportMinutes(
    const Principal& caller, Redis& redis, const v1::Session& session,
    const v1::ExportMinutesRequest& request,
    v1::ExportMinutesResponse* response) const {
  return absl::UnimplementedError("ExportMinutes");
}

}  // namespace townhall::agenda
