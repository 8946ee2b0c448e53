// DirectoryLogic: organizations and participants of a tenant (their bulk
// import from CSV: directory_import_logic.h; the validation rules:
// directory_validation.h; keys and scripts: directory_store.h). Plain
// methods taking the caller, a Redis connection
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

// Gives a new record from a client its id, tenant and create time.
void SetServerFields(const Principal& caller, v1::Organization* org);
void SetServerFields(const Principal& caller, v1::Participant* participant);

// Clears personal data unless `caller` is the tenant's organizer.
void RedactContacts(const Principal& caller, v1::Organization* organization);
void RedactContacts(const Principal& caller, v1::Participant* participant);

class DirectoryLogic {
 public:
  using Redis = RedisConnection;

  // Runs create_organization.lua.
  absl::Status CreateOrganization(
      const Principal& caller, Redis& redis,
      const v1::CreateOrganizationRequest& request,
      v1::CreateOrganizationResponse* response) const;
  // Reads the record (DirectoryStore, no script).
  absl::Status GetOrganization(const Principal& caller, Redis& redis,
                               const v1::GetOrganizationRequest& request,
                               v1::GetOrganizationResponse* response) const;
  // Reads a page of the index, then the records (no script).
  absl::Status ListOrganizations(const Principal& caller, Redis& redis,
                                 const v1::ListOrganizationsRequest& request,
                                 v1::ListOrganizationsResponse* response) const;
  // Runs create_participant.lua.
  absl::Status CreateParticipant(const Principal& caller, Redis& redis,
                                 const v1::CreateParticipantRequest& request,
                                 v1::CreateParticipantResponse* response) const;
  // Reads the record (DirectoryStore, no script).
  absl::Status GetParticipant(const Principal& caller, Redis& redis,
                              const v1::GetParticipantRequest& request,
                              v1::GetParticipantResponse* response) const;
  // Reads a page of the index, then the records (no script).
  absl::Status ListParticipants(const Principal& caller, Redis& redis,
                                const v1::ListParticipantsRequest& request,
                                v1::ListParticipantsResponse* response) const;
};

}  // namespace townhall::registration
