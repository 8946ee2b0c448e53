// DirectoryLogic: organizations and participants of a tenant, and their
// bulk import from CSV. Plain methods taking the caller, a Redis connection
// and the request; registration_service.cc wires them to gRPC after the
// access table (services/common/auth/authorization.h) has let the call in.
//
// Property-level authorization: contact details (Organization.contact_*,
// Participant.email/phone) are cleared in every response to a caller who is
// not the tenant's organizer (RedactContacts).
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/common/auth/principal.h"
#include "services/common/redis/redis_connection.h"
#include "townhall/v1/registration.pb.h"

namespace townhall::registration {

// Reads one participant of a tenant (NOT_FOUND when absent), stored as a
// serialized v1::Participant at th:{t:<tenant>}:participant:<id>; contact
// details included: callers redact before answering.
absl::StatusOr<v1::Participant> LoadParticipant(RedisConnection& redis,
                                                absl::string_view tenant_id,
                                                absl::string_view id);

// Clears personal data unless `caller` is the tenant's organizer.
void RedactContacts(const Principal& caller, v1::Organization* organization);
void RedactContacts(const Principal& caller, v1::Participant* participant);

class DirectoryLogic {
 public:
  using Redis = RedisConnection;

  absl::Status CreateOrganization(
      const Principal& caller, Redis& redis,
      const v1::CreateOrganizationRequest& request,
      v1::CreateOrganizationResponse* response) const;
  absl::Status GetOrganization(const Principal& caller, Redis& redis,
                               const v1::GetOrganizationRequest& request,
                               v1::GetOrganizationResponse* response) const;
  absl::Status ListOrganizations(const Principal& caller, Redis& redis,
                                 const v1::ListOrganizationsRequest& request,
                                 v1::ListOrganizationsResponse* response) const;
  absl::Status CreateParticipant(const Principal& caller, Redis& redis,
                                 const v1::CreateParticipantRequest& request,
                                 v1::CreateParticipantResponse* response) const;
  absl::Status GetParticipant(const Principal& caller, Redis& redis,
                              const v1::GetParticipantRequest& request,
                              v1::GetParticipantResponse* response) const;
  absl::Status ListParticipants(const Principal& caller, Redis& redis,
                                const v1::ListParticipantsRequest& request,
                                v1::ListParticipantsResponse* response) const;
  absl::Status ImportDirectory(const Principal& caller, Redis& redis,
                               const v1::ImportDirectoryRequest& request,
                               v1::ImportDirectoryResponse* response) const;
};

}  // namespace townhall::registration
