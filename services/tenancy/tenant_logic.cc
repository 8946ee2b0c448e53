#include "services/tenancy/tenant_logic.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/ids.h"
#include "services/common/proto_time.h"
#include "services/common/status.h"
#include "services/common/validation.h"
#include "services/tenancy/api_key_record.h"
#include "services/tenancy/tenant_store.h"
#include "services/tenancy/tenant_validation.h"

namespace townhall::tenancy {
namespace {

// Without a requested ttl (both at most the configured maximum).
constexpr absl::Duration kDefaultTokenTtl = absl::Hours(12);
constexpr absl::Duration kDefaultApiKeyTtl = absl::Hours(24 * 365);

}  // namespace

absl::Status TenantLogic::CreateTenant(
    const Principal&, RedisConnection& redis,
    const v1::CreateTenantRequest& request,
    v1::CreateTenantResponse* response) const {
  v1::Tenant tenant = request.tenant();
  TH_RETURN_IF_ERROR(ValidateNewTenant(tenant));
  SetTime(absl::Now(), tenant.mutable_create_time());
  TH_RETURN_IF_ERROR(TenantStore(redis, tenant.id()).CreateTenant(tenant));
  *response->mutable_tenant() = std::move(tenant);
  return absl::OkStatus();
}

absl::Status TenantLogic::GetTenant(const Principal& caller,
                                    RedisConnection& redis,
                                    const v1::GetTenantRequest& request,
                                    v1::GetTenantResponse* response) const {
  TH_RETURN_IF_ERROR(ValidateTenantId("tenant_id", request.tenant_id()));
  TH_RETURN_IF_ERROR(RequireTenantAccess(caller, request.tenant_id()));
  TH_ASSIGN_OR_RETURN(*response->mutable_tenant(),
                      TenantStore(redis, request.tenant_id()).GetTenant());
  return absl::OkStatus();
}

absl::Status TenantLogic::IssueToken(const Principal& caller,
                                     RedisConnection& redis,
                                     const v1::IssueTokenRequest& request,
                                     v1::IssueTokenResponse* response) const {
  TH_RETURN_IF_ERROR(ValidateTenantId("tenant_id", request.tenant_id()));
  TH_RETURN_IF_ERROR(RequireTenantAccess(caller, request.tenant_id()));
  TH_RETURN_IF_ERROR(ValidateOrganizerTokenRequest(request));
  TH_ASSIGN_OR_RETURN(
      absl::Duration ttl,
      auth_->IssueLifetime(Role::kOrganizer,
                           ToOptionalDuration(request.has_ttl(), request.ttl()),
                           kDefaultTokenTtl));
  TH_RETURN_IF_ERROR(
      TenantStore(redis, request.tenant_id()).GetTenant().status());
  absl::Time now = absl::Now();
  TokenClaims claims{.tenant_id = request.tenant_id(),
                     .subject = request.subject(),
                     .role = Role::kOrganizer,
                     .issue_time = now,
                     .expire_time = now + ttl};
  TH_ASSIGN_OR_RETURN(std::string token, auth_->Issue(claims));
  response->set_token(std::move(token));
  SetTime(claims.expire_time, response->mutable_expire_time());
  return absl::OkStatus();
}

absl::Status TenantLogic::CreateApiKey(
    const Principal& caller, RedisConnection& redis,
    const v1::CreateApiKeyRequest& request,
    v1::CreateApiKeyResponse* response) const {
  const v1::ApiKey& wanted = request.api_key();
  TH_ASSIGN_OR_RETURN(uint32_t scopes, ValidateNewApiKey(wanted));
  TH_ASSIGN_OR_RETURN(
      absl::Duration ttl,
      auth_->IssueLifetime(Role::kApiClient,
                           ToOptionalDuration(request.has_ttl(), request.ttl()),
                           kDefaultApiKeyTtl));
  absl::Time now = absl::Now();
  v1::ApiKey key;
  key.set_id(NewId());
  key.set_tenant_id(caller.tenant_id);
  key.set_display_name(wanted.display_name());
  *key.mutable_scopes() = wanted.scopes();
  SetTime(now, key.mutable_create_time());
  SetTime(now + ttl, key.mutable_expire_time());
  TH_ASSIGN_OR_RETURN(std::string secret,
                      auth_->Issue(ApiKeyClaims(key, scopes, now, ttl)));
  key.set_key_sha256(Sha256Hex(secret));
  TH_RETURN_IF_ERROR(TenantStore(redis, caller.tenant_id)
                         .CreateApiKey(key, kMaxApiKeysPerTenant));
  *response->mutable_api_key() = std::move(key);
  response->set_key(std::move(secret));
  return absl::OkStatus();
}

absl::Status TenantLogic::ListApiKeys(const Principal& caller,
                                      RedisConnection& redis,
                                      const v1::ListApiKeysRequest& request,
                                      v1::ListApiKeysResponse* response) const {
  TH_ASSIGN_OR_RETURN(int page_size, ValidatePageSize(request.page_size()));
  // The page token is the last id of the previous page.
  const std::string& after = request.page_token();
  if (!after.empty()) TH_RETURN_IF_ERROR(ValidateId("page_token", after));
  TenantStore store(redis, caller.tenant_id);
  TH_ASSIGN_OR_RETURN(std::vector<std::string> ids,
                      store.ListApiKeyIds(after, page_size + 1));
  bool more = ids.size() > static_cast<size_t>(page_size);
  if (more) ids.resize(page_size);
  TH_ASSIGN_OR_RETURN(std::vector<v1::ApiKey> keys, store.GetApiKeys(ids));
  for (v1::ApiKey& key : keys) *response->add_api_keys() = std::move(key);
  if (more) response->set_next_page_token(ids.back());
  return absl::OkStatus();
}

absl::Status TenantLogic::RevokeApiKey(
    const Principal& caller, RedisConnection& redis,
    const v1::RevokeApiKeyRequest& request,
    v1::RevokeApiKeyResponse* response) const {
  TH_RETURN_IF_ERROR(ValidateId("api_key_id", request.api_key_id()));
  TH_ASSIGN_OR_RETURN(*response->mutable_api_key(),
                      TenantStore(redis, caller.tenant_id)
                          .RevokeApiKey(request.api_key_id(), absl::Now()));
  return absl::OkStatus();
}

}  // namespace townhall::tenancy
