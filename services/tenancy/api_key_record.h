// An API key as townhall keeps it: the v1::ApiKey with the SHA-256 of the
// key (never the key itself), and the claims of the JWT that is the key.
// Pure: no Redis, no clock.
//
// An API key is a JWT (role api-client, scopes, jti = key id) verified like
// any token, with no lookup; townhall keeps only its hash, for listing and
// audit, and revokes it through the revocation stream.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/common/auth/jwt.h"
#include "services/common/redis/redis_reply.h"
#include "townhall/v1/tenant.pb.h"

namespace townhall::tenancy {

// Lowercase hex SHA-256 of `data`: what is stored of a key.
std::string Sha256Hex(absl::string_view data);

// The claims of the JWT that is `key` (its tenant and id), issued at `now`
// for `ttl`, with `scopes` as ScopeBit()s.
TokenClaims ApiKeyClaims(const v1::ApiKey& key, uint32_t scopes, absl::Time now,
                         absl::Duration ttl);

// Reads an API key hash (an HGETALL reply: "pb", the ApiKey bytes without
// revoke_time, and "revoked_us") into `key`. NOT_FOUND for an empty reply.
absl::Status DecodeApiKey(const RedisReply& reply, v1::ApiKey* key);

}  // namespace townhall::tenancy
