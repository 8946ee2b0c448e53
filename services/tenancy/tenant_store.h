// TenantStore: TenantService's Redis keys, and the reads and scripts over
// them. One store per call (it wraps the worker's connection and one
// tenant). Key schema (docs/architecture.md):
//
//   th:{t:<tenant>}:tenant        STRING Tenant bytes
//   th:{t:<tenant>}:apikey:<id>   HASH   pb (ApiKey bytes with the key's
//                                        SHA-256, never the key), revoked_us
//   th:{t:<tenant>}:apikeys       ZSET   API key ids, score 0 (by id)
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/common/redis/redis_connection.h"
#include "townhall/v1/tenant.pb.h"

namespace townhall::tenancy {

class TenantStore {
 public:
  TenantStore(RedisConnection& redis, absl::string_view tenant_id);

  // Stores the tenant unless one with its id exists (ALREADY_EXISTS).
  absl::Status CreateTenant(const v1::Tenant& tenant);
  // NOT_FOUND if the tenant does not exist.
  absl::StatusOr<v1::Tenant> GetTenant();

  // Stores `key` (create_api_key.lua) unless the tenant holds `max_keys`
  // already (RESOURCE_EXHAUSTED).
  absl::Status CreateApiKey(const v1::ApiKey& key, int max_keys);
  // Up to `limit` key ids after `after` ("" from the start), in id order.
  absl::StatusOr<std::vector<std::string>> ListApiKeyIds(
      absl::string_view after, int limit);
  // The keys of `ids` in one round trip; missing ones are skipped.
  absl::StatusOr<std::vector<v1::ApiKey>> GetApiKeys(
      const std::vector<std::string>& ids);
  // Revokes the key once (revoke_api_key.lua; a repeat keeps the first
  // time) and returns it; NOT_FOUND if it does not exist.
  absl::StatusOr<v1::ApiKey> RevokeApiKey(absl::string_view id, absl::Time now);

 private:
  std::string ApiKeyKey(absl::string_view id) const;
  std::string ApiKeyIndexKey() const;

  RedisConnection& redis_;
  std::string tenant_id_;
  std::string prefix_;
};

}  // namespace townhall::tenancy
