#include "services/common/auth/jwt.h"

#include <jwt.h>
#include <openssl/rand.h>

#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace townhall {
namespace {

constexpr size_t kMinSecretBytes = 32;
// How far a token's iat may be ahead of our clock (the issuer's clock may
// run a little fast).
constexpr absl::Duration kMaxClockSkew = absl::Minutes(1);

struct JwtDeleter {
  void operator()(jwt_t* jwt) const { jwt_free(jwt); }
};
using JwtPtr = std::unique_ptr<jwt_t, JwtDeleter>;

absl::Status Unauthenticated(absl::string_view why) {
  return absl::UnauthenticatedError(absl::StrCat("invalid token: ", why));
}

}  // namespace

absl::StatusOr<KeySet> KeySet::Parse(absl::string_view contents) {
  KeySet set;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(contents, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    std::vector<absl::string_view> parts =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (parts.size() != 2) {
      return absl::InvalidArgumentError(absl::StrCat(
          "key file line ", line_number, ": expected \"<key-id> <secret>\""));
    }
    if (parts[1].size() < kMinSecretBytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          "key file line ", line_number, ": secret of key ", parts[0],
          " is shorter than ", kMinSecretBytes, " bytes"));
    }
    if (set.keys_.count(parts[0]) != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("key file line ", line_number, ": key id ", parts[0],
                       " appears twice"));
    }
    if (set.signing_key_id_.empty())
      set.signing_key_id_ = std::string(parts[0]);
    set.keys_[std::string(parts[0])] = std::string(parts[1]);
  }
  if (set.keys_.empty()) {
    return absl::InvalidArgumentError("key file holds no keys");
  }
  return set;
}

absl::StatusOr<KeySet> KeySet::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read key file ", path));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  absl::StatusOr<KeySet> set = Parse(buffer.str());
  if (!set.ok()) {
    return absl::Status(set.status().code(),
                        absl::StrCat(path, ": ", set.status().message()));
  }
  return set;
}

const std::string* KeySet::Find(absl::string_view key_id) const {
  auto it = keys_.find(key_id);
  return it == keys_.end() ? nullptr : &it->second;
}

absl::Duration TokenRules::MaxLifetime(Role role) const {
  if (role == Role::kApiClient) return max_api_key_lifetime;
  if (IsSessionRole(role)) return max_join_token_lifetime;
  return max_organizer_lifetime;
}

std::string FormatLifetime(absl::Duration lifetime) {
  absl::Duration rest;
  int64_t days = absl::IDivDuration(lifetime, absl::Hours(24), &rest);
  if (days >= 2 && rest == absl::ZeroDuration()) {
    return absl::StrCat(days, " days");
  }
  return absl::FormatDuration(lifetime);
}

absl::StatusOr<std::string> SignToken(const KeySet& keys,
                                      const TokenRules& rules,
                                      const TokenClaims& claims) {
  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0) return absl::InternalError("jwt_new failed");
  JwtPtr jwt(raw);
  const std::string* secret = keys.Find(keys.signing_key_id());
  // A default-constructed KeySet has no keys: never sign (or crash) then.
  if (secret == nullptr) {
    return absl::FailedPreconditionError("no signing key configured");
  }
  unsigned char nonce[12];
  if (RAND_bytes(nonce, sizeof(nonce)) != 1) {
    return absl::InternalError("RAND_bytes failed");
  }
  std::string jti = !claims.token_id.empty()
                        ? claims.token_id
                        : absl::BytesToHexString(absl::string_view(
                              reinterpret_cast<char*>(nonce), sizeof(nonce)));
  const absl::Duration max_lifetime = rules.MaxLifetime(claims.role);
  if (claims.expire_time - claims.issue_time > max_lifetime) {
    return absl::InvalidArgumentError(
        absl::StrCat(RoleName(claims.role), " tokens may live at most ",
                     FormatLifetime(max_lifetime)));
  }
  std::string role(RoleName(claims.role));
  bool ok =
      jwt_set_alg(jwt.get(), JWT_ALG_HS256,
                  reinterpret_cast<const unsigned char*>(secret->data()),
                  static_cast<int>(secret->size())) == 0 &&
      jwt_add_header(jwt.get(), "kid", keys.signing_key_id().c_str()) == 0 &&
      jwt_add_grant(jwt.get(), "iss", rules.issuer.c_str()) == 0 &&
      jwt_add_grant(jwt.get(), "aud", rules.audience.c_str()) == 0 &&
      jwt_add_grant(jwt.get(), "sub", claims.subject.c_str()) == 0 &&
      jwt_add_grant(jwt.get(), "tid", claims.tenant_id.c_str()) == 0 &&
      jwt_add_grant(jwt.get(), "role", role.c_str()) == 0 &&
      jwt_add_grant(jwt.get(), "jti", jti.c_str()) == 0 &&
      jwt_add_grant_int(jwt.get(), "iat",
                        absl::ToUnixSeconds(claims.issue_time)) == 0 &&
      jwt_add_grant_int(jwt.get(), "exp",
                        absl::ToUnixSeconds(claims.expire_time)) == 0;
  if (ok && IsSessionRole(claims.role)) {
    if (claims.session_id.empty() || claims.participant_id.empty()) {
      return absl::InvalidArgumentError(
          "a join token needs a session and a participant");
    }
    ok = jwt_add_grant(jwt.get(), "sid", claims.session_id.c_str()) == 0 &&
         jwt_add_grant(jwt.get(), "pid", claims.participant_id.c_str()) == 0 &&
         jwt_add_grant_int(jwt.get(), "gen", claims.generation) == 0 &&
         (claims.organization_id.empty() ||
          jwt_add_grant(jwt.get(), "oid", claims.organization_id.c_str()) == 0);
  }
  if (ok && claims.role == Role::kApiClient) {
    ok = jwt_add_grant_int(jwt.get(), "scp", claims.scopes) == 0;
  }
  if (!ok) return absl::InternalError("building the token failed");
  char* encoded = jwt_encode_str(jwt.get());
  if (encoded == nullptr)
    return absl::InternalError("signing the token failed");
  std::string token(encoded);
  free(encoded);  // libjwt 1.10 allocates with malloc
  return token;
}

absl::StatusOr<Principal> VerifyToken(const KeySet& keys,
                                      const TokenRules& rules,
                                      absl::string_view token, absl::Time now) {
  std::string token_str(token);
  // First read the header (unverified) only to pick the key by its kid.
  jwt_t* raw = nullptr;
  if (jwt_decode(&raw, token_str.c_str(), nullptr, 0) != 0 || raw == nullptr) {
    return Unauthenticated("malformed");
  }
  JwtPtr unverified(raw);
  const char* kid = jwt_get_header(unverified.get(), "kid");
  const std::string* secret =
      keys.Find(kid != nullptr ? kid : keys.signing_key_id());
  if (secret == nullptr) return Unauthenticated("unknown key id");
  raw = nullptr;
  if (jwt_decode(&raw, token_str.c_str(),
                 reinterpret_cast<const unsigned char*>(secret->data()),
                 static_cast<int>(secret->size())) != 0 ||
      raw == nullptr) {
    return Unauthenticated("bad signature");
  }
  JwtPtr jwt(raw);
  if (jwt_get_alg(jwt.get()) != JWT_ALG_HS256) {
    return Unauthenticated("algorithm must be HS256");
  }
  errno = 0;
  long exp = jwt_get_grant_int(jwt.get(), "exp");
  if (errno != 0) return Unauthenticated("no expiry");
  errno = 0;
  long iat = jwt_get_grant_int(jwt.get(), "iat");
  if (errno != 0) return Unauthenticated("no issue time");
  if (absl::FromUnixSeconds(exp) <= now) return Unauthenticated("expired");
  const char* iss = jwt_get_grant(jwt.get(), "iss");
  if (iss == nullptr || rules.issuer != iss) {
    return Unauthenticated("wrong issuer");
  }
  const char* aud = jwt_get_grant(jwt.get(), "aud");
  if (aud == nullptr || rules.audience != aud) {
    return Unauthenticated("wrong audience");
  }
  // Else a short lifetime starting years ahead would be valid for years.
  if (absl::FromUnixSeconds(iat) > now + kMaxClockSkew) {
    return Unauthenticated("issued in the future");
  }
  const char* tid = jwt_get_grant(jwt.get(), "tid");
  if (tid == nullptr || *tid == '\0') return Unauthenticated("no tenant");
  const char* role_claim = jwt_get_grant(jwt.get(), "role");
  Principal principal;
  if (role_claim == nullptr || !ParseRole(role_claim, &principal.role)) {
    return Unauthenticated("unknown role");
  }
  const absl::Duration max_lifetime = rules.MaxLifetime(principal.role);
  // Time arithmetic saturates: no overflow with absurd claims.
  if (absl::FromUnixSeconds(exp) - absl::FromUnixSeconds(iat) > max_lifetime) {
    return Unauthenticated(
        absl::StrCat("lifetime longer than ", FormatLifetime(max_lifetime),
                     ", the maximum for ", role_claim, " tokens"));
  }
  const char* sub = jwt_get_grant(jwt.get(), "sub");
  const char* jti = jwt_get_grant(jwt.get(), "jti");
  principal.tenant_id = tid;
  principal.subject = sub != nullptr ? sub : "";
  principal.token_id = jti != nullptr ? jti : "";
  principal.issue_time = absl::FromUnixSeconds(iat);
  principal.expire_time = absl::FromUnixSeconds(exp);
  if (principal.is_session_scoped()) {
    const char* sid = jwt_get_grant(jwt.get(), "sid");
    const char* pid = jwt_get_grant(jwt.get(), "pid");
    errno = 0;
    long gen = jwt_get_grant_int(jwt.get(), "gen");
    if (sid == nullptr || *sid == '\0' || pid == nullptr || *pid == '\0' ||
        errno != 0) {
      return Unauthenticated("join token without session or participant");
    }
    principal.session_id = sid;
    principal.participant_id = pid;
    principal.generation = gen;
    const char* oid = jwt_get_grant(jwt.get(), "oid");
    principal.organization_id = oid != nullptr ? oid : "";
  }
  if (principal.role == Role::kApiClient) {
    errno = 0;
    long scopes = jwt_get_grant_int(jwt.get(), "scp");
    if (errno != 0 || principal.token_id.empty()) {
      return Unauthenticated("API key without scopes or id");
    }
    principal.scopes = static_cast<uint32_t>(scopes);
  }
  return principal;
}

}  // namespace townhall
