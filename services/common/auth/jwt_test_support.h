// Test support for the JWT and Authenticator tests: key sets, claims, a
// fixed clock, and tokens built with libjwt directly.
//
//   absl::StatusOr<std::string> token =
//       SignToken(Keys(absl::StrCat("k1 ", kSecretA)), Claims(), Rules());
#pragma once

#include <gtest/gtest.h>
#include <jwt.h>

#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "services/common/auth/jwt.h"
#include "services/common/auth/principal.h"

namespace townhall::testing {

inline constexpr char kSecretA[] =
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";  // 40 bytes
inline constexpr char kSecretB[] = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
inline constexpr char kAudience[] = "townhall";

// townhall's default rules, with `audience`.
inline TokenRules Rules(const std::string& audience = kAudience) {
  return TokenRules{.audience = audience};
}

inline KeySet Keys(const std::string& contents) {
  absl::StatusOr<KeySet> keys = KeySet::Parse(contents);
  EXPECT_TRUE(keys.ok()) << keys.status();
  return keys.ok() ? *std::move(keys) : KeySet();
}

// A fixed "now" with whole seconds (tokens carry seconds only).
inline const absl::Time kNow = absl::FromUnixSeconds(1800000000);

inline TokenClaims Claims() {
  TokenClaims claims;
  claims.tenant_id = "t-mfa";
  claims.subject = "organizer@example.uz";
  claims.role = Role::kOrganizer;
  claims.issue_time = kNow - absl::Minutes(5);
  claims.expire_time = kNow + absl::Hours(1);
  return claims;
}

inline void ExpectUnauthenticated(const absl::StatusOr<Principal>& result,
                                  const std::string& reason) {
  ASSERT_FALSE(result.ok()) << "verified a token that must be rejected";
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnauthenticated)
      << result.status();
  EXPECT_TRUE(absl::StrContains(result.status().message(), reason))
      << result.status();
}

inline std::string B64(const std::string& s) {
  return absl::WebSafeBase64Escape(s);
}

// Builds a token with libjwt directly, for algorithms and claims that
// SignToken never produces.
struct RawToken {
  jwt_alg_t alg = JWT_ALG_HS256;
  std::string secret = kSecretA;
  std::string kid = "k1";
  std::vector<std::pair<std::string, std::string>> grants = {
      {"aud", kAudience},
      {"sub", "someone"},
      {"tid", "t-mfa"},
      {"role", "organizer"}};
  std::vector<std::pair<std::string, long>> int_grants;
  // Each is left out when nullopt.
  std::optional<std::string> iss = "townhall";
  std::optional<long> iat = absl::ToUnixSeconds(kNow - absl::Minutes(5));
  std::optional<long> exp = absl::ToUnixSeconds(kNow + absl::Hours(1));

  std::string Encode() const {
    jwt_t* jwt = nullptr;
    EXPECT_EQ(jwt_new(&jwt), 0);
    std::unique_ptr<jwt_t, void (*)(jwt_t*)> owned(jwt, jwt_free);
    EXPECT_EQ(jwt_set_alg(jwt, alg,
                          reinterpret_cast<const unsigned char*>(secret.data()),
                          static_cast<int>(secret.size())),
              0);
    if (!kid.empty()) {
      EXPECT_EQ(jwt_add_header(jwt, "kid", kid.c_str()), 0);
    }
    for (const auto& [name, value] : grants) {
      EXPECT_EQ(jwt_add_grant(jwt, name.c_str(), value.c_str()), 0);
    }
    for (const auto& [name, value] : int_grants) {
      EXPECT_EQ(jwt_add_grant_int(jwt, name.c_str(), value), 0);
    }
    if (iss.has_value()) {
      EXPECT_EQ(jwt_add_grant(jwt, "iss", iss->c_str()), 0);
    }
    if (iat.has_value()) {
      EXPECT_EQ(jwt_add_grant_int(jwt, "iat", *iat), 0);
    }
    if (exp.has_value()) {
      EXPECT_EQ(jwt_add_grant_int(jwt, "exp", *exp), 0);
    }
    char* encoded = jwt_encode_str(jwt);
    EXPECT_NE(encoded, nullptr);
    std::string token = encoded != nullptr ? encoded : "";
    free(encoded);
    return token;
  }
};

}  // namespace townhall::testing
