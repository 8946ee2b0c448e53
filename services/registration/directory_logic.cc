#include "services/registration/directory_logic.h"

#include "absl/strings/str_cat.h"
#include "services/common/status.h"
#include "services/common/tenant_keys.h"

namespace townhall::registration {

absl::StatusOr<v1::Participant> LoadParticipant(RedisConnection& redis,
                                                absl::string_view tenant_id,
                                                absl::string_view id) {
  TH_ASSIGN_OR_RETURN(
      RedisReply reply,
      redis.Command(
          {"GET", absl::StrCat(TenantPrefix(tenant_id), "participant:", id)}));
  if (reply.type == RedisReply::Type::kError) {
    return absl::InternalError(reply.str);
  }
  if (reply.is_nil()) {
    return absl::NotFoundError(absl::StrCat("participant ", id, " not found"));
  }
  v1::Participant participant;
  if (!participant.ParseFromString(reply.str)) {
    return absl::InternalError("corrupt participant");
  }
  return participant;
}

void RedactContacts(const Principal& caller, v1::Organization* organization) {
  if (caller.role == Role::kOrganizer) return;
  organization->clear_contact_name();
  organization->clear_contact_email();
  organization->clear_contact_phone();
}

void RedactContacts(const Principal& caller, v1::Participant* participant) {
  if (caller.role == Role::kOrganizer) return;
  participant->clear_email();
  participant->clear_phone();
}

absl::Status DirectoryLogic::CreateOrganization(
    const Principal& caller, Redis& redis,
    const v1::CreateOrganizationRequest& request,
    v1::CreateOrganizationResponse* response) const {
  return absl::UnimplementedError("CreateOrganization");
}

absl::Status DirectoryLogic::GetOrganization(
    const Principal& caller, Redis& redis,
    const v1::GetOrganizationRequest& request,
    v1::GetOrganizationResponse* response) const {
  return absl::UnimplementedError("GetOrganization");
}

absl::Status DirectoryLogic::ListOrganizations(
    const Principal& caller, Redis& redis,
    const v1::ListOrganizationsRequest& request,
    v1::ListOrganizationsResponse* response) const {
  return absl::UnimplementedError("ListOrganizations");
}

absl::Status DirectoryLogic::CreateParticipant(
    const Principal& caller, Redis& redis,
    const v1::CreateParticipantRequest& request,
    v1::CreateParticipantResponse* response) const {
  return absl::UnimplementedError("CreateParticipant");
}

absl::Status DirectoryLogic::GetParticipant(
    const Principal& caller, Redis& redis,
    const v1::GetParticipantRequest& request,
    v1::GetParticipantResponse* response) const {
  return absl::UnimplementedError("GetParticipant");
}

absl::Status DirectoryLogic::ListParticipants(
    const Principal& caller, Redis& redis,
    const v1::ListParticipantsRequest& request,
    v1::ListParticipantsResponse* response) const {
  return absl::UnimplementedError("ListParticipants");
}

absl::Status DirectoryLogic::ImportDirectory(
    const Principal& caller, Redis& redis,
    const v1::ImportDirectoryRequest& request,
    v1::ImportDirectoryResponse* response) const {
  return absl::UnimplementedError("ImportDirectory");
}

}  // namespace townhall::registration
