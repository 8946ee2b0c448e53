#include "services/tenancy/tenant_validation.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "services/common/status.h"
#include "services/common/validation.h"

namespace townhall::tenancy {

absl::Status ValidateTenantId(absl::string_view field, absl::string_view id) {
  if (id.size() < 3 || id.size() > 63) {
    return InvalidField(field, "must be 3 to 63 characters");
  }
  for (char c : id) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '-') {
      return InvalidField(field, "may contain only a-z, 0-9 and '-'");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateNewTenant(const v1::Tenant& tenant) {
  TH_RETURN_IF_ERROR(ValidateTenantId("tenant.id", tenant.id()));
  return ValidateText("tenant.display_name", tenant.display_name(),
                      {.min_chars = 1, .max_chars = 200});
}

absl::Status RequireTenantAccess(const Principal& caller,
                                 absl::string_view tenant_id) {
  if (caller.is_operator() || caller.tenant_id == tenant_id) {
    return absl::OkStatus();
  }
  return absl::NotFoundError(absl::StrCat("tenant ", tenant_id, " not found"));
}

absl::Status ValidateOrganizerTokenRequest(
    const v1::IssueTokenRequest& request) {
  TH_RETURN_IF_ERROR(ValidateText("subject", request.subject(),
                                  {.min_chars = 1, .max_chars = 200}));
  if (!request.role().empty() && request.role() != "organizer") {
    return InvalidField("role", "must be \"organizer\"");
  }
  return absl::OkStatus();
}

absl::StatusOr<uint32_t> ValidateNewApiKey(const v1::ApiKey& wanted) {
  TH_RETURN_IF_ERROR(ValidateText("api_key.display_name", wanted.display_name(),
                                  {.min_chars = 1, .max_chars = 200}));
  if (wanted.scopes().empty()) {
    return InvalidField("api_key.scopes", "needs at least one scope");
  }
  uint32_t scopes = 0;
  for (int scope : wanted.scopes()) {
    if (!v1::ApiScope_IsValid(scope) || scope == v1::API_SCOPE_UNSPECIFIED) {
      return InvalidField("api_key.scopes", "has an unknown scope");
    }
    scopes |= ScopeBit(static_cast<ApiScope>(scope));
  }
  return scopes;
}

}  // namespace townhall::tenancy
