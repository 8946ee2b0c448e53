// Authenticator: turns the `authorization: Bearer <credential>` metadata of
// a call into a Principal, or UNAUTHENTICATED.
//
// The credential is a JWT (organizer token, join token or API key; verified
// locally, no Redis round trip, revocations from the in-memory
// RevocationList) or the operator's bootstrap credential.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/common/auth/jwt.h"
#include "services/common/auth/principal.h"
#include "services/common/auth/revocation_list.h"
#include "services/common/auth/verified_token_cache.h"

namespace grpc {
class ServerContextBase;
}

namespace townhall {

// Organizer tokens that services mint for calls to each other
// (SessionDirectory) live this long; no lifetime limit may be shorter.
inline constexpr absl::Duration kServiceTokenLifetime = absl::Minutes(10);

struct AuthOptions {
  KeySet keys;
  // Issuer, audience and lifetimes: checked on every token, carried by the
  // tokens this server issues.
  TokenRules tokens;
  // Empty disables the bootstrap credential.
  std::string bootstrap_credential;
  // Tokens kept verified (VerifiedTokenCache; --token_cache_size); 0 verifies
  // every call's token in full.
  size_t token_cache_size = 65536;
};

class Authenticator {
 public:
  // `revocations` (optional; must outlive this) is consulted for join
  // tokens and API keys.
  explicit Authenticator(AuthOptions options,
                         const RevocationList* revocations = nullptr);

  // Authenticates the credential from a call's metadata.
  absl::StatusOr<Principal> Authenticate(
      const grpc::ServerContextBase& context) const;
  // Authenticates the value of an authorization header.
  absl::StatusOr<Principal> AuthenticateHeader(absl::string_view header) const;
  // Checks that an authenticated `caller` is still valid at `now`: not
  // expired, not revoked (UNAUTHENTICATED), and for join tokens and API
  // keys that the revocation list is current (else UNAVAILABLE). For calls
  // that outlive their start: streams.
  absl::Status Revalidate(const Principal& caller, absl::Time now) const;

  // Issues a token with the configured issuer and audience (organizer
  // tokens, join tokens, API keys); INVALID_ARGUMENT for a lifetime longer
  // than the kind's maximum.
  absl::StatusOr<std::string> Issue(const TokenClaims& claims) const;

  // The lifetime to issue a token of `role` with: `requested` (a request's
  // `ttl` field), else `fallback` shortened to the kind's maximum.
  // INVALID_ARGUMENT naming `ttl` when `requested` is not positive or is
  // longer than the maximum.
  absl::StatusOr<absl::Duration> IssueLifetime(
      Role role, std::optional<absl::Duration> requested,
      absl::Duration fallback) const;

  const AuthOptions& options() const { return options_; }

 private:
  AuthOptions options_;
  const RevocationList* revocations_;
  // Mutable state behind a pointer: Authenticator is used through const
  // references by every service.
  std::unique_ptr<VerifiedTokenCache> verified_;
};

// Loads auth options from flags-style inputs: the key file path, the token
// rules (INVALID_ARGUMENT for an empty issuer or audience, or a lifetime
// limit under kServiceTokenLifetime) and the bootstrap credential from a
// file or, when `credential_file` is empty, the environment variable
// TOWNHALL_BOOTSTRAP_CREDENTIAL.
absl::StatusOr<AuthOptions> LoadAuthOptions(const std::string& key_file,
                                            const TokenRules& tokens,
                                            const std::string& credential_file);

}  // namespace townhall
