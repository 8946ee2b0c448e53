#include "services/registration/invitation_logic.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "services/common/status.h"
#include "services/common/validation.h"
#include "services/registration/registration_rules.h"
#include "services/registration/registration_store.h"

namespace townhall::registration {

absl::Status InvitationLogic::InviteOrganization(
    const Principal& caller, Redis& redis, const v1::Session& session,
    const v1::InviteOrganizationRequest& request,
    v1::InviteOrganizationResponse* response) const {
  TH_RETURN_IF_ERROR(ValidateId("organization_id", request.organization_id()));
  if (request.seat_quota() < 1) {
    return InvalidField("seat_quota", "must be at least 1");
  }
  if (std::string refusal = ClosedRefusal(session); !refusal.empty()) {
    return absl::FailedPreconditionError(refusal);
  }
  RegistrationStore store(redis, caller.tenant_id);
  TH_ASSIGN_OR_RETURN(
      ScriptOutcome outcome,
      store.InviteOrganization(session.id(), request.organization_id(),
                               request.seat_quota()));
  if (outcome.kind == "BELOW_USED") {
    return absl::FailedPreconditionError(absl::StrCat(
        "organization ", request.organization_id(), " already uses ",
        outcome.values.at(0), " delegate seats of session ", session.id(),
        ": the quota cannot drop below that"));
  }
  if (outcome.kind != "OK" || outcome.values.size() < 2) {
    return UnexpectedOutcome(outcome);
  }
  v1::OrganizationInvitation* invitation = response->mutable_invitation();
  invitation->set_session_id(session.id());
  invitation->set_organization_id(request.organization_id());
  invitation->set_seat_quota(static_cast<int32_t>(ToInt(outcome.values[0])));
  invitation->set_seats_used(static_cast<int32_t>(ToInt(outcome.values[1])));
  return absl::OkStatus();
}

}  // namespace townhall::registration
