// JSON Web Tokens (RFC 7519) for townhall, on libjwt.
//
// Tokens are HS256-signed with keys from a key file that operators keep
// outside the repository (see docs/operations.md). The file holds one key
// per line, "<key-id> <secret>", the first one signing new tokens; keeping
// old keys in the file lets tokens signed before a rotation verify until
// they expire. Lines starting with '#' are comments. Secrets must be at
// least 32 bytes.
//
// Claims: iss "townhall", aud (configured, "townhall" by default), sub,
// tid (tenant id), role, iat, exp, jti; join tokens add sid (session), pid
// (participant), gen (registration generation) and oid (organization,
// optional); API keys add scp (scope
// bits) and use the key id as jti. Verification checks the signature
// with the key named by the header's kid, the algorithm (HS256 only: no
// "none", no algorithm confusion), expiry, audience and that tid and role
// are present.
#pragma once

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/common/auth/principal.h"

namespace townhall {

class KeySet {
 public:
  // Parses the key file's contents.
  static absl::StatusOr<KeySet> Parse(absl::string_view contents);
  // Reads and parses a key file.
  static absl::StatusOr<KeySet> Load(const std::string& path);

  const std::string& signing_key_id() const { return signing_key_id_; }
  // The secret for `key_id`, or nullptr.
  const std::string* Find(absl::string_view key_id) const;

 private:
  std::string signing_key_id_;
  std::map<std::string, std::string, std::less<>> keys_;
};

struct TokenClaims {
  std::string tenant_id;
  std::string subject;
  Role role = Role::kOrganizer;
  absl::Time issue_time;
  absl::Time expire_time;
  // Join tokens (session roles) only.
  std::string session_id;
  std::string participant_id;
  int64_t generation = 0;
  // The participant's organization ("" for none).
  std::string organization_id;
  // API keys only: ScopeBit()s.
  uint32_t scopes = 0;
  // The jti; random when empty.
  std::string token_id;
};

// Signs a token with the key set's signing key.
absl::StatusOr<std::string> SignToken(const KeySet& keys,
                                      absl::string_view audience,
                                      const TokenClaims& claims);

// Verifies a token; any failure is UNAUTHENTICATED with a short reason.
absl::StatusOr<Principal> VerifyToken(const KeySet& keys,
                                      absl::string_view audience,
                                      absl::string_view token, absl::Time now);

}  // namespace townhall
