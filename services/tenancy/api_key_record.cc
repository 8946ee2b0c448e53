#include "services/tenancy/api_key_record.h"

#include <openssl/sha.h>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/common/proto_time.h"

namespace townhall::tenancy {

std::string Sha256Hex(absl::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(),
         digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

TokenClaims ApiKeyClaims(const v1::ApiKey& key, uint32_t scopes, absl::Time now,
                         absl::Duration ttl) {
  return TokenClaims{.tenant_id = key.tenant_id(),
                     .subject = absl::StrCat("api-key:", key.id()),
                     .role = Role::kApiClient,
                     .issue_time = now,
                     .expire_time = now + ttl,
                     .scopes = scopes,
                     .token_id = key.id()};
}

absl::Status DecodeApiKey(const RedisReply& reply, v1::ApiKey* key) {
  if (!reply.is_array() || reply.elements.empty()) {
    return absl::NotFoundError("API key not found");
  }
  // Field order in a hash reply is not defined: parse "pb" first, since
  // parsing replaces the whole message.
  const std::string* data = nullptr;
  const std::string* revoked = nullptr;
  for (size_t i = 0; i + 1 < reply.elements.size(); i += 2) {
    const std::string& field = reply.elements[i].str;
    if (field == "pb") data = &reply.elements[i + 1].str;
    if (field == "revoked_us") revoked = &reply.elements[i + 1].str;
  }
  if (data == nullptr || !key->ParseFromString(*data)) {
    return absl::InternalError("corrupt API key");
  }
  int64_t micros = 0;
  if (revoked != nullptr && absl::SimpleAtoi(*revoked, &micros)) {
    SetTimestamp(micros, key->mutable_revoke_time());
  }
  return absl::OkStatus();
}

}  // namespace townhall::tenancy
