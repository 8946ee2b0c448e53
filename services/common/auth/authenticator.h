// Authenticator: turns the `authorization: Bearer <credential>` metadata of
// a call into a Principal, or UNAUTHENTICATED.
//
// The credential is a JWT (organizer token, join token or API key; verified
// locally, no Redis round trip, revocations from the in-memory
// RevocationList) or the operator's bootstrap credential.
#pragma once

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/common/auth/jwt.h"
#include "services/common/auth/principal.h"
#include "services/common/auth/revocation_list.h"

namespace grpc {
class ServerContextBase;
}

namespace townhall {

struct AuthOptions {
  KeySet keys;
  std::string audience = "townhall";
  // Empty disables the bootstrap credential.
  std::string bootstrap_credential;
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

  // Issues an organizer token (TenantService.IssueToken, tests, tools).
  absl::StatusOr<std::string> Issue(const TokenClaims& claims) const;

  const AuthOptions& options() const { return options_; }

 private:
  AuthOptions options_;
  const RevocationList* revocations_;
};

// Loads auth options from flags-style inputs: the key file path and the
// bootstrap credential from a file or, when `credential_file` is empty, the
// environment variable TOWNHALL_BOOTSTRAP_CREDENTIAL.
absl::StatusOr<AuthOptions> LoadAuthOptions(const std::string& key_file,
                                            const std::string& audience,
                                            const std::string& credential_file);

}  // namespace townhall
