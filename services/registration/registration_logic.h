// RegistrationLogic: registrations with seats and a waitlist, approvals,
// cancellations, roles and join tokens. Plain methods taking the caller, a
// Redis connection and the request; registration_service.cc wires them to
// gRPC after the access table has let the call in, and first fetches the
// session (or a series' occurrences) from SchedulingService, so these run
// with the session at hand and never call another service themselves.
//
// Every change is one Lua script (lua/*.lua, run by RegistrationStore):
// seats, the waitlist and promotion are decided atomically, in arrival
// order. A cancellation or a role change bumps the registration's
// generation and appends a revocation (services/common/auth/
// revocation_list.h), so older join tokens stop working on every server.
// Invitations: invitation_logic.h; attendance: attendance_logic.h; the pure
// rules: registration_rules.h.
#pragma once

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "services/common/auth/authenticator.h"
#include "services/common/auth/principal.h"
#include "services/common/metrics/metrics.h"
#include "services/common/redis/redis_connection.h"
#include "townhall/v1/registration.pb.h"
#include "townhall/v1/scheduling.pb.h"

namespace townhall::registration {

class RegistrationLogic {
 public:
  using Redis = RedisConnection;

  // `auth` signs join tokens; it outlives this, as does `metrics` (null:
  // off), which counts new registrations.
  explicit RegistrationLogic(const Authenticator* auth,
                             BusinessMetrics* metrics = nullptr)
      : auth_(auth), metrics_(metrics) {}

  // Runs register.lua, which also reads the participant: one round trip.
  absl::Status Register(const Principal& caller, Redis& redis,
                        const v1::Session& session,
                        const v1::RegisterRequest& request,
                        v1::RegisterResponse* response) const;
  // Reads the participant (DirectoryStore), then runs register.lua per
  // upcoming occurrence (read_registrations.lua where already registered).
  // `occurrences`: the series' sessions in start order (all of them).
  absl::Status RegisterForSeries(const Principal& caller, Redis& redis,
                                 absl::Span<const v1::Session> occurrences,
                                 const v1::RegisterForSeriesRequest& request,
                                 v1::RegisterForSeriesResponse* response) const;
  // Runs approve_registration.lua.
  absl::Status ApproveRegistration(
      const Principal& caller, Redis& redis, const v1::Session& session,
      const v1::ApproveRegistrationRequest& request,
      v1::ApproveRegistrationResponse* response) const;
  // Runs cancel_registration.lua.
  absl::Status CancelRegistration(
      const Principal& caller, Redis& redis, const v1::Session& session,
      const v1::CancelRegistrationRequest& request,
      v1::CancelRegistrationResponse* response) const;
  // Runs set_role.lua.
  absl::Status SetRole(const Principal& caller, Redis& redis,
                       const v1::Session& session,
                       const v1::SetRoleRequest& request,
                       v1::SetRoleResponse* response) const;
  // Runs read_registrations.lua ("get"), then reads the organization's
  // name (DirectoryStore).
  absl::Status GetRegistration(const Principal& caller, Redis& redis,
                               const v1::Session& session,
                               const v1::GetRegistrationRequest& request,
                               v1::GetRegistrationResponse* response) const;
  // Runs read_registrations.lua ("list"), then reads the organizations'
  // names (DirectoryStore).
  absl::Status ListRegistrations(const Principal& caller, Redis& redis,
                                 const v1::Session& session,
                                 const v1::ListRegistrationsRequest& request,
                                 v1::ListRegistrationsResponse* response) const;
  // Runs read_registrations.lua ("get"), then signs the token.
  absl::Status IssueJoinToken(const Principal& caller, Redis& redis,
                              const v1::Session& session,
                              const v1::IssueJoinTokenRequest& request,
                              v1::IssueJoinTokenResponse* response) const;

 private:
  const Authenticator* auth_;
  BusinessMetrics* metrics_;
};

}  // namespace townhall::registration
