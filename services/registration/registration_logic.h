// RegistrationLogic: invitations, registrations with seats and a waitlist,
// roles, join tokens and attendance. Plain methods taking the caller, a
// Redis connection and the request; registration_service.cc wires them to
// gRPC after the access table has let the call in, and first fetches the
// session (or a series' occurrences) from SchedulingService, so these run
// with the session at hand and never call another service themselves.
//
// Every change is one Lua script (lua/*.lua): seats, the waitlist and
// promotion are decided atomically, in arrival order. A cancellation or a
// role change bumps the registration's generation and appends a revocation
// (services/common/auth/revocation_list.h), so older join tokens stop
// working on every server.
#pragma once

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "services/common/auth/authenticator.h"
#include "services/common/auth/principal.h"
#include "services/common/redis/redis_connection.h"
#include "townhall/v1/registration.pb.h"
#include "townhall/v1/scheduling.pb.h"

namespace townhall::registration {

class RegistrationLogic {
 public:
  using Redis = RedisConnection;

  // `auth` signs join tokens; it outlives this.
  explicit RegistrationLogic(const Authenticator* auth) : auth_(auth) {}

  absl::Status InviteOrganization(
      const Principal& caller, Redis& redis, const v1::Session& session,
      const v1::InviteOrganizationRequest& request,
      v1::InviteOrganizationResponse* response) const;
  absl::Status Register(const Principal& caller, Redis& redis,
                        const v1::Session& session,
                        const v1::RegisterRequest& request,
                        v1::RegisterResponse* response) const;
  // `occurrences`: the series' sessions in start order (all of them).
  absl::Status RegisterForSeries(const Principal& caller, Redis& redis,
                                 absl::Span<const v1::Session> occurrences,
                                 const v1::RegisterForSeriesRequest& request,
                                 v1::RegisterForSeriesResponse* response) const;
  absl::Status ApproveRegistration(
      const Principal& caller, Redis& redis, const v1::Session& session,
      const v1::ApproveRegistrationRequest& request,
      v1::ApproveRegistrationResponse* response) const;
  absl::Status CancelRegistration(
      const Principal& caller, Redis& redis, const v1::Session& session,
      const v1::CancelRegistrationRequest& request,
      v1::CancelRegistrationResponse* response) const;
  absl::Status SetRole(const Principal& caller, Redis& redis,
                       const v1::Session& session,
                       const v1::SetRoleRequest& request,
                       v1::SetRoleResponse* response) const;
  absl::Status GetRegistration(const Principal& caller, Redis& redis,
                               const v1::Session& session,
                               const v1::GetRegistrationRequest& request,
                               v1::GetRegistrationResponse* response) const;
  absl::Status ListRegistrations(const Principal& caller, Redis& redis,
                                 const v1::Session& session,
                                 const v1::ListRegistrationsRequest& request,
                                 v1::ListRegistrationsResponse* response) const;
  absl::Status IssueJoinToken(const Principal& caller, Redis& redis,
                              const v1::Session& session,
                              const v1::IssueJoinTokenRequest& request,
                              v1::IssueJoinTokenResponse* response) const;
  absl::Status RecordAttendance(const Principal& caller, Redis& redis,
                                const v1::Session& session,
                                const v1::RecordAttendanceRequest& request,
                                v1::RecordAttendanceResponse* response) const;
  absl::Status GetAttendanceReport(
      const Principal& caller, Redis& redis, const v1::Session& session,
      const v1::GetAttendanceReportRequest& request,
      v1::GetAttendanceReportResponse* response) const;
  absl::Status GetSeriesAttendance(
      const Principal& caller, Redis& redis,
      absl::Span<const v1::Session> occurrences,
      const v1::GetSeriesAttendanceRequest& request,
      v1::GetSeriesAttendanceResponse* response) const;

 private:
  const Authenticator* auth_;
};

}  // namespace townhall::registration
