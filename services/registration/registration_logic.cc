#include "services/registration/registration_logic.h"

namespace townhall::registration {

absl::Status RegistrationLogic::InviteOrganization(
    const Principal& caller, Redis& redis, const v1::Session& session,
    const v1::InviteOrganizationRequest& request,
    v1::InviteOrganizationResponse* response) const {
  return absl::UnimplementedError("InviteOrganization");
}

absl::Status RegistrationLogic::Register(const Principal& caller, Redis& redis,
                                         const v1::Session& session,
                                         const v1::RegisterRequest& request,
                                         v1::RegisterResponse* response) const {
  return absl::UnimplementedError("Register");
}

absl::Status RegistrationLogic::RegisterForSeries(
    const Principal& caller, Redis& redis,
    absl::Span<const v1::Session> occurrences,
    const v1::RegisterForSeriesRequest& request,
    v1::RegisterForSeriesResponse* response) const {
  return absl::UnimplementedError("RegisterForSeries");
}

absl::Status RegistrationLogic::ApproveRegistration(
    const Principal& caller, Redis& redis, const v1::Session& session,
    const v1::ApproveRegistrationRequest& request,
    v1::ApproveRegistrationResponse* response) const {
  return absl::UnimplementedError("ApproveRegistration");
}

absl::Status RegistrationLogic::CancelRegistration(
    const Principal& caller, Redis& redis, const v1::Session& session,
    const v1::CancelRegistrationRequest& request,
    v1::CancelRegistrationResponse* response) const {
  return absl::UnimplementedError("CancelRegistration");
}

absl::Status RegistrationLogic::SetRole(const Principal& caller, Redis& redis,
                                        const v1::Session& session,
                                        const v1::SetRoleRequest& request,
                                        v1::SetRoleResponse* response) const {
  return absl::UnimplementedError("SetRole");
}

absl::Status RegistrationLogic::GetRegistration(
    const Principal& caller, Redis& redis, const v1::Session& session,
    const v1::GetRegistrationRequest& request,
    v1::GetRegistrationResponse* response) const {
  return absl::UnimplementedError("GetRegistration");
}

absl::Status RegistrationLogic::ListRegistrations(
    const Principal& caller, Redis& redis, const v1::Session& session,
    const v1::ListRegistrationsRequest& request,
    v1::ListRegistrationsResponse* response) const {
  return absl::UnimplementedError("ListRegistrations");
}

absl::Status RegistrationLogic::IssueJoinToken(
    const Principal& caller, Redis& redis, const v1::Session& session,
    const v1::IssueJoinTokenRequest& request,
    v1::IssueJoinTokenResponse* response) const {
  return absl::UnimplementedError("IssueJoinToken");
}

absl::Status RegistrationLogic::RecordAttendance(
    const Principal& caller, Redis& redis, const v1::Session& session,
    const v1::RecordAttendanceRequest& request,
    v1::RecordAttendanceResponse* response) const {
  return absl::UnimplementedError("RecordAttendance");
}

absl::Status RegistrationLogic::GetAttendanceReport(
    const Principal& caller, Redis& redis, const v1::Session& session,
    const v1::GetAttendanceReportRequest& request,
    v1::GetAttendanceReportResponse* response) const {
  return absl::UnimplementedError("GetAttendanceReport");
}

absl::Status RegistrationLogic::GetSeriesAttendance(
    const Principal& caller, Redis& redis,
    absl::Span<const v1::Session> occurrences,
    const v1::GetSeriesAttendanceRequest& request,
    v1::GetSeriesAttendanceResponse* response) const {
  return absl::UnimplementedError("GetSeriesAttendance");
}

}  // namespace townhall::registration
