// Pure checks of TenantService requests: no Redis, no clock. Each names
// the offending field (INVALID_ARGUMENT), as validation.h does.
#pragma once

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/common/auth/principal.h"
#include "townhall/v1/tenant.pb.h"

namespace townhall::tenancy {

// A tenant id: 3 to 63 characters of a-z, 0-9 and '-' (it is part of every
// key and of DNS-like names).
absl::Status ValidateTenantId(absl::string_view field, absl::string_view id);

// The tenant CreateTenant is asked to make: its id and display name.
absl::Status ValidateNewTenant(const v1::Tenant& tenant);

// Refuses (NOT_FOUND, as if it did not exist) a tenant other than the
// caller's own, unless the caller is the operator.
absl::Status RequireTenantAccess(const Principal& caller,
                                 absl::string_view tenant_id);

// The subject and role of IssueToken (organizer tokens only: join tokens
// come from RegistrationService.IssueJoinToken, API keys from CreateApiKey).
absl::Status ValidateOrganizerTokenRequest(
    const v1::IssueTokenRequest& request);

// The API key CreateApiKey is asked to make; returns its scopes as
// ScopeBit()s.
absl::StatusOr<uint32_t> ValidateNewApiKey(const v1::ApiKey& wanted);

}  // namespace townhall::tenancy
