#include "services/common/auth/authenticator.h"

#include <grpcpp/server_context.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "services/common/status.h"

namespace townhall {
namespace {

constexpr absl::string_view kBearer = "Bearer ";
constexpr size_t kMinBootstrapCredentialBytes = 24;

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  return a.size() == b.size() &&
         CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

Authenticator::Authenticator(AuthOptions options,
                             const RevocationList* revocations)
    : options_(std::move(options)),
      revocations_(revocations),
      verified_(
          std::make_unique<VerifiedTokenCache>(options_.token_cache_size)) {}

absl::StatusOr<Principal> Authenticator::Authenticate(
    const grpc::ServerContextBase& context) const {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) {
    return absl::UnauthenticatedError(
        "missing credentials: send metadata \"authorization: Bearer <token>\"");
  }
  return AuthenticateHeader(
      absl::string_view(it->second.data(), it->second.size()));
}

absl::StatusOr<Principal> Authenticator::AuthenticateHeader(
    absl::string_view header) const {
  // The scheme name is case-insensitive (RFC 7235 section 2.1).
  if (header.size() < kBearer.size() ||
      !absl::EqualsIgnoreCase(header.substr(0, kBearer.size()), kBearer)) {
    return absl::UnauthenticatedError(
        "authorization metadata must be \"Bearer <token>\"");
  }
  header = absl::StripAsciiWhitespace(header.substr(kBearer.size()));
  if (!options_.bootstrap_credential.empty() &&
      ConstantTimeEquals(header, options_.bootstrap_credential)) {
    Principal principal;
    principal.role = Role::kOperator;
    principal.subject = "operator";
    return principal;
  }
  absl::Time now = absl::Now();
  std::optional<Principal> verified = verified_->Find(header, now);
  if (!verified.has_value()) {
    absl::StatusOr<Principal> principal =
        VerifyToken(options_.keys, options_.tokens, header, now);
    if (!principal.ok()) return principal.status();
    verified_->Insert(header, *principal, now);
    verified = *std::move(principal);
  }
  // Expiry and revocation on every call, whether the token was verified
  // now or before.
  TH_RETURN_IF_ERROR(Revalidate(*verified, now));
  return *std::move(verified);
}

absl::Status Authenticator::Revalidate(const Principal& caller,
                                       absl::Time now) const {
  if (caller.expire_time <= now) {
    return absl::UnauthenticatedError("invalid token: expired");
  }
  if (revocations_ == nullptr) return absl::OkStatus();
  return revocations_->Check(caller, now);
}

absl::StatusOr<std::string> Authenticator::Issue(
    const TokenClaims& claims) const {
  return SignToken(options_.keys, options_.tokens, claims);
}

absl::StatusOr<absl::Duration> Authenticator::IssueLifetime(
    Role role, std::optional<absl::Duration> requested,
    absl::Duration fallback) const {
  const absl::Duration max = options_.tokens.MaxLifetime(role);
  if (!requested.has_value()) return std::min(fallback, max);
  if (*requested <= absl::ZeroDuration() || *requested > max) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ttl: must be positive and at most ", FormatLifetime(max)));
  }
  return *requested;
}

namespace {

absl::Status ValidateTokenRules(const TokenRules& tokens) {
  if (tokens.issuer.empty() || tokens.audience.empty()) {
    return absl::InvalidArgumentError(
        "--token_issuer and --auth_audience must not be empty");
  }
  for (absl::Duration limit :
       {tokens.max_organizer_lifetime, tokens.max_join_token_lifetime,
        tokens.max_api_key_lifetime}) {
    if (limit < kServiceTokenLifetime) {
      return absl::InvalidArgumentError(
          absl::StrCat("token lifetime limits must be at least ",
                       FormatLifetime(kServiceTokenLifetime), ", not ",
                       FormatLifetime(limit)));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<AuthOptions> LoadAuthOptions(
    const std::string& key_file, const TokenRules& tokens,
    const std::string& credential_file) {
  if (key_file.empty()) {
    return absl::InvalidArgumentError(
        "--auth_key_file is required (lines \"<key-id> <secret>\")");
  }
  TH_RETURN_IF_ERROR(ValidateTokenRules(tokens));
  AuthOptions options;
  absl::StatusOr<KeySet> keys = KeySet::Load(key_file);
  if (!keys.ok()) return keys.status();
  options.keys = *std::move(keys);
  options.tokens = tokens;
  if (!credential_file.empty()) {
    std::ifstream in(credential_file);
    if (!in) {
      return absl::NotFoundError(absl::StrCat(
          "cannot read bootstrap credential file ", credential_file));
    }
    std::stringstream buffer;
    buffer << in.rdbuf();
    options.bootstrap_credential =
        std::string(absl::StripAsciiWhitespace(buffer.str()));
  } else if (const char* env = std::getenv("TOWNHALL_BOOTSTRAP_CREDENTIAL")) {
    options.bootstrap_credential = std::string(absl::StripAsciiWhitespace(env));
  }
  if (!options.bootstrap_credential.empty() &&
      options.bootstrap_credential.size() < kMinBootstrapCredentialBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("the bootstrap credential must be at least ",
                     kMinBootstrapCredentialBytes, " bytes"));
  }
  return options;
}

}  // namespace townhall
