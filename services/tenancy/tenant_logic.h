// TenantLogic: what each TenantService RPC does, as plain methods that take
// the caller, a Redis connection and the request (unary_handler.h's plain
// shape). tenant_service.cc only wires them to the server; tests can call
// them directly. Tenants are made by the operator; organizers manage their
// own tenant's tokens and API keys.
#pragma once

#include "absl/status/status.h"
#include "services/common/auth/authenticator.h"
#include "services/common/auth/principal.h"
#include "services/common/redis/redis_connection.h"
#include "townhall/v1/tenant.pb.h"

namespace townhall::tenancy {

// The most API keys a tenant may hold, revoked ones included.
inline constexpr int kMaxApiKeysPerTenant = 1000;

class TenantLogic {
 public:
  // `auth` signs organizer tokens and API keys; it outlives the logic.
  explicit TenantLogic(const Authenticator* auth) : auth_(auth) {}

  // No script: one SET NX (ALREADY_EXISTS for a taken id).
  absl::Status CreateTenant(const Principal& caller, RedisConnection& redis,
                            const v1::CreateTenantRequest& request,
                            v1::CreateTenantResponse* response) const;
  // No script: one GET.
  absl::Status GetTenant(const Principal& caller, RedisConnection& redis,
                         const v1::GetTenantRequest& request,
                         v1::GetTenantResponse* response) const;
  // Signs an organizer token of an existing tenant. No script: one GET (the
  // tenant exists).
  absl::Status IssueToken(const Principal& caller, RedisConnection& redis,
                          const v1::IssueTokenRequest& request,
                          v1::IssueTokenResponse* response) const;
  // Signs an API key (api_key_record.h) and stores its hash with
  // create_api_key.lua, which counts and writes in one step
  // (RESOURCE_EXHAUSTED beyond kMaxApiKeysPerTenant).
  absl::Status CreateApiKey(const Principal& caller, RedisConnection& redis,
                            const v1::CreateApiKeyRequest& request,
                            v1::CreateApiKeyResponse* response) const;
  // No script: ZRANGE BYLEX, then the keys in one pipeline.
  absl::Status ListApiKeys(const Principal& caller, RedisConnection& redis,
                           const v1::ListApiKeysRequest& request,
                           v1::ListApiKeysResponse* response) const;
  // revoke_api_key.lua: marks the key revoked once and appends it to the
  // revocation stream every server follows.
  absl::Status RevokeApiKey(const Principal& caller, RedisConnection& redis,
                            const v1::RevokeApiKeyRequest& request,
                            v1::RevokeApiKeyResponse* response) const;

 private:
  const Authenticator* auth_;
};

}  // namespace townhall::tenancy
