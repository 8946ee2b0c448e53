// JSON Web Tokens (RFC 7519) for townhall, on libjwt.
//
// Tokens are HS256-signed with keys from a key file that operators keep
// outside the repository (see docs/operations.md). The file holds one key
// per line, "<key-id> <secret>", the first one signing new tokens; keeping
// old keys in the file lets tokens signed before a rotation verify until
// they expire. Lines starting with '#' are comments. Secrets must be at
// least 32 bytes.
//
// Claims: iss and aud (configured, "townhall" by default), sub, tid (tenant
// id), role, iat, exp, jti; join tokens add sid (session), pid
// (participant), gen (registration generation) and oid (organization,
// optional); API keys add scp (scope bits) and use the key id as jti.
// Verification checks the signature with the key named by the header's
// kid, the algorithm (HS256 only: no "none", no algorithm confusion),
// expiry, issuer, audience, that tid and role are present, and the
// lifetime: exp - iat at most the maximum of the token's kind (TokenRules),
// with iat not in the future.
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

// What a token must say to be accepted, and how long it may live. The
// defaults are townhalld's (docs/operations.md, "Token lifetimes and
// issuer").
struct TokenRules {
  // The `aud` and `iss` tokens must carry; the tokens townhall signs carry
  // them.
  std::string audience = "townhall";
  std::string issuer = "townhall";
  // The longest lifetime (exp - iat) of each kind of token. Organizer
  // tokens cannot be revoked: short. Join tokens can (and can be issued
  // again): the longest session, 7 days. API keys can, and rotating them
  // means changing a portal's configuration: a year.
  absl::Duration max_organizer_lifetime = absl::Hours(24);
  absl::Duration max_join_token_lifetime = absl::Hours(24 * 7);
  absl::Duration max_api_key_lifetime = absl::Hours(24 * 365);

  // The longest lifetime of a token carrying `role`.
  absl::Duration MaxLifetime(Role role) const;
};

// "7 days", "24h", "30m": a lifetime for messages.
std::string FormatLifetime(absl::Duration lifetime);

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

// Signs a token with the key set's signing key, carrying the rules' issuer
// and audience. INVALID_ARGUMENT for a lifetime the rules would refuse.
absl::StatusOr<std::string> SignToken(const KeySet& keys,
                                      const TokenRules& rules,
                                      const TokenClaims& claims);

// Verifies a token; any failure is UNAUTHENTICATED with a short reason.
absl::StatusOr<Principal> VerifyToken(const KeySet& keys,
                                      const TokenRules& rules,
                                      absl::string_view token, absl::Time now);

}  // namespace townhall
