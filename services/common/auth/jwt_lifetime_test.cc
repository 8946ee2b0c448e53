// JWT lifetimes and issuer: what each kind of token may claim.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/common/auth/jwt.h"
#include "services/common/auth/jwt_test_support.h"

namespace townhall {
namespace {

using testing::Claims;
using testing::ExpectUnauthenticated;
using testing::kAudience;
using testing::Keys;
using testing::kNow;
using testing::kSecretA;
using testing::RawToken;
using testing::Rules;

// ------------------------------------------------ Lifetime and issuer

// A correctly signed token of each kind (organizer, join token, API key).
struct TokenKind {
  std::string name;
  RawToken token;
  // Its longest lifetime under the default rules.
  absl::Duration max_lifetime;
};

std::vector<TokenKind> TokenKinds() {
  RawToken organizer;
  RawToken join;
  join.grants = {{"aud", kAudience},      {"sub", "p-1"}, {"tid", "t-mfa"},
                 {"role", "participant"}, {"sid", "s-1"}, {"pid", "p-1"}};
  join.int_grants = {{"gen", 0}};
  RawToken api_key;
  api_key.grants = {{"aud", kAudience},
                    {"sub", "api-key:key-1"},
                    {"tid", "t-mfa"},
                    {"role", "api-client"},
                    {"jti", "key-1"}};
  api_key.int_grants = {{"scp", ScopeBit(ApiScope::kReadSchedule)}};
  return {{"organizer", organizer, absl::Hours(24)},
          {"join token", join, absl::Hours(24 * 7)},
          {"API key", api_key, absl::Hours(24 * 365)}};
}

TEST(Jwt, LifetimeLongerThanItsKindAllowsIsRefused) {
  KeySet keys = Keys(absl::StrCat("k1 ", kSecretA));
  for (const TokenKind& kind : TokenKinds()) {
    SCOPED_TRACE(kind.name);
    RawToken raw = kind.token;
    raw.iat = absl::ToUnixSeconds(kNow - absl::Hours(1));
    raw.exp = *raw.iat + absl::ToInt64Seconds(kind.max_lifetime);
    EXPECT_TRUE(VerifyToken(keys, Rules(), raw.Encode(), kNow).ok());
    raw.exp = *raw.exp + 1;
    ExpectUnauthenticated(VerifyToken(keys, Rules(), raw.Encode(), kNow),
                          "lifetime");
    // What the outside tester tried: ten years.
    raw.exp = *raw.iat + absl::ToInt64Seconds(absl::Hours(24 * 3653));
    ExpectUnauthenticated(VerifyToken(keys, Rules(), raw.Encode(), kNow),
                          "lifetime");
  }
}

TEST(Jwt, TokenWithoutIssueTimeOrExpiryIsRefused) {
  KeySet keys = Keys(absl::StrCat("k1 ", kSecretA));
  for (const TokenKind& kind : TokenKinds()) {
    SCOPED_TRACE(kind.name);
    RawToken no_iat = kind.token;
    no_iat.iat = std::nullopt;
    ExpectUnauthenticated(VerifyToken(keys, Rules(), no_iat.Encode(), kNow),
                          "no issue time");
    RawToken no_exp = kind.token;
    no_exp.exp = std::nullopt;
    ExpectUnauthenticated(VerifyToken(keys, Rules(), no_exp.Encode(), kNow),
                          "no expiry");
  }
}

// A short lifetime that starts in the future would still be valid for
// years: iat may be ahead of the clock by a minute of skew at most.
TEST(Jwt, TokenIssuedInTheFutureIsRefused) {
  KeySet keys = Keys(absl::StrCat("k1 ", kSecretA));
  RawToken raw;
  raw.iat = absl::ToUnixSeconds(kNow + absl::Hours(24 * 3650));
  raw.exp = *raw.iat + 3600;
  ExpectUnauthenticated(VerifyToken(keys, Rules(), raw.Encode(), kNow),
                        "issued in the future");
  raw.iat = absl::ToUnixSeconds(kNow + absl::Seconds(30));  // clock skew
  raw.exp = *raw.iat + 3600;
  EXPECT_TRUE(VerifyToken(keys, Rules(), raw.Encode(), kNow).ok());
}

TEST(Jwt, WrongOrMissingIssuerIsRefused) {
  KeySet keys = Keys(absl::StrCat("k1 ", kSecretA));
  for (const TokenKind& kind : TokenKinds()) {
    SCOPED_TRACE(kind.name);
    RawToken raw = kind.token;
    EXPECT_TRUE(VerifyToken(keys, Rules(), raw.Encode(), kNow).ok());
    for (std::optional<std::string> iss :
         {std::optional<std::string>("https://idp.example.org"),
          std::optional<std::string>(""),
          std::optional<std::string>("Townhall"),
          std::optional<std::string>()}) {
      SCOPED_TRACE(iss.value_or("(none)"));
      raw.iss = iss;
      ExpectUnauthenticated(VerifyToken(keys, Rules(), raw.Encode(), kNow),
                            "wrong issuer");
    }
  }
}

TEST(Jwt, ConfiguredIssuerAndLifetimesApply) {
  KeySet keys = Keys(absl::StrCat("k1 ", kSecretA));
  TokenRules rules = Rules();
  rules.issuer = "https://idp.gov.example";
  rules.max_organizer_lifetime = absl::Hours(2);
  TokenClaims claims = Claims();  // lives 1 h 5 min
  absl::StatusOr<std::string> token = SignToken(keys, rules, claims);
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_TRUE(VerifyToken(keys, rules, *token, kNow).ok());
  // Townhall's default issuer is not this one.
  ExpectUnauthenticated(VerifyToken(keys, Rules(), *token, kNow),
                        "wrong issuer");
  rules.max_organizer_lifetime = absl::Hours(1);
  ExpectUnauthenticated(VerifyToken(keys, rules, *token, kNow),
                        "lifetime longer than 1h, the maximum for organizer");
  // Nor is such a token signed in the first place.
  EXPECT_EQ(SignToken(keys, rules, claims).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(Jwt, FormatLifetimeSaysDaysWhenWhole) {
  EXPECT_EQ(FormatLifetime(absl::Hours(24 * 365)), "365 days");
  EXPECT_EQ(FormatLifetime(absl::Hours(24 * 7)), "7 days");
  EXPECT_EQ(FormatLifetime(absl::Hours(24)), "24h");
  EXPECT_EQ(FormatLifetime(absl::Hours(36)), "36h");
  EXPECT_EQ(FormatLifetime(absl::Minutes(10)), "10m");
}

}  // namespace
}  // namespace townhall
