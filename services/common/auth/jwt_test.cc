// JWT key sets, signing and verification, and the Authenticator.
#include "services/common/auth/jwt.h"

#include <gtest/gtest.h>
#include <jwt.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "services/common/auth/authenticator.h"

namespace townhall {
namespace {

constexpr char kSecretA[] =
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";  // 40 bytes
constexpr char kSecretB[] = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
constexpr char kAudience[] = "townhall";

// townhall's default rules, with `audience`.
TokenRules Rules(const std::string& audience = kAudience) {
  return TokenRules{.audience = audience};
}

KeySet Keys(const std::string& contents) {
  absl::StatusOr<KeySet> keys = KeySet::Parse(contents);
  EXPECT_TRUE(keys.ok()) << keys.status();
  return keys.ok() ? *std::move(keys) : KeySet();
}

// A fixed "now" with whole seconds (tokens carry seconds only).
const absl::Time kNow = absl::FromUnixSeconds(1800000000);

TokenClaims Claims() {
  TokenClaims claims;
  claims.tenant_id = "t-mfa";
  claims.subject = "organizer@example.uz";
  claims.role = Role::kOrganizer;
  claims.issue_time = kNow - absl::Minutes(5);
  claims.expire_time = kNow + absl::Hours(1);
  return claims;
}

void ExpectUnauthenticated(const absl::StatusOr<Principal>& result,
                           const std::string& reason) {
  ASSERT_FALSE(result.ok()) << "verified a token that must be rejected";
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnauthenticated)
      << result.status();
  EXPECT_TRUE(absl::StrContains(result.status().message(), reason))
      << result.status();
}

std::string B64(const std::string& s) { return absl::WebSafeBase64Escape(s); }

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

// ---------------------------------------------------------------- KeySet

TEST(KeySet, ParsesCommentsBlankLinesAndSeveralKeys) {
  absl::StatusOr<KeySet> keys =
      KeySet::Parse(absl::StrCat("# townhall signing keys\n"
                                 "\n"
                                 "  k2024b ",
                                 kSecretB, "  \n",
                                 "# retired after the next rotation\n"
                                 "k2024a\t",
                                 kSecretA, "\n"));
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(keys->signing_key_id(), "k2024b");  // the first key signs
  ASSERT_NE(keys->Find("k2024b"), nullptr);
  EXPECT_EQ(*keys->Find("k2024b"), kSecretB);
  ASSERT_NE(keys->Find("k2024a"), nullptr);
  EXPECT_EQ(*keys->Find("k2024a"), kSecretA);
  EXPECT_EQ(keys->Find("k2023"), nullptr);
  EXPECT_EQ(keys->Find("# townhall"), nullptr);
}

TEST(KeySet, RejectsShortSecret) {
  std::string secret_31(31, 's');
  absl::StatusOr<KeySet> keys = KeySet::Parse("# c\nk1 " + secret_31 + "\n");
  ASSERT_FALSE(keys.ok());
  EXPECT_EQ(keys.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(keys.status().message(), "line 2"))
      << keys.status();
  EXPECT_TRUE(absl::StrContains(keys.status().message(), "32 bytes"))
      << keys.status();
  // The secret itself never appears in the error.
  EXPECT_FALSE(absl::StrContains(keys.status().message(), secret_31))
      << keys.status();
  EXPECT_TRUE(KeySet::Parse("k1 " + std::string(32, 's')).ok());
}

TEST(KeySet, RejectsMalformedLineWithLineNumber) {
  for (const std::string& bad :
       {std::string("k1"), absl::StrCat("k1 ", kSecretA, " extra")}) {
    absl::StatusOr<KeySet> keys =
        KeySet::Parse(absl::StrCat("# keys\nk0 ", kSecretB, "\n", bad, "\n"));
    ASSERT_FALSE(keys.ok()) << bad;
    EXPECT_EQ(keys.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StrContains(keys.status().message(), "line 3"))
        << keys.status();
  }
}

TEST(KeySet, RejectsEmptyFileAndDuplicateKeyIds) {
  EXPECT_EQ(KeySet::Parse("").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(KeySet::Parse("# only a comment\n\n").status().code(),
            absl::StatusCode::kInvalidArgument);
  // Two secrets under one id: which one verifies old tokens is a guess.
  absl::StatusOr<KeySet> dup =
      KeySet::Parse(absl::StrCat("k1 ", kSecretA, "\nk1 ", kSecretB, "\n"));
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(dup.status().message(), "line 2"))
      << dup.status();
}

TEST(KeySet, LoadPrefixesPathInErrors) {
  EXPECT_EQ(KeySet::Load("/nonexistent/townhall-keys").status().code(),
            absl::StatusCode::kNotFound);
  char path[] = "/tmp/townhall-jwt-test-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  {
    std::ofstream out(path);
    out << "k1 short\n";
  }
  absl::StatusOr<KeySet> keys = KeySet::Load(path);
  EXPECT_EQ(keys.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(keys.status().message(), path)) << keys.status();
  {
    std::ofstream out(path);
    out << "k1 " << kSecretA << "\n";
  }
  EXPECT_TRUE(KeySet::Load(path).ok());
  std::remove(path);
}

// ------------------------------------------------------- Sign and verify

TEST(Jwt, SignVerifyRoundTripPreservesClaims) {
  KeySet keys = Keys(absl::StrCat("k1 ", kSecretA));
  absl::StatusOr<std::string> token = SignToken(keys, Rules(), Claims());
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(std::count(token->begin(), token->end(), '.'), 2);
  absl::StatusOr<Principal> principal =
      VerifyToken(keys, Rules(), *token, kNow);
  ASSERT_TRUE(principal.ok()) << principal.status();
  EXPECT_EQ(principal->tenant_id, "t-mfa");
  EXPECT_EQ(principal->subject, "organizer@example.uz");
  EXPECT_EQ(principal->role, Role::kOrganizer);
  EXPECT_FALSE(principal->is_operator());
  EXPECT_EQ(principal->expire_time, kNow + absl::Hours(1));

  // The header names the key and the algorithm; the payload has the claims.
  std::vector<std::string> parts = absl::StrSplit(*token, '.');
  ASSERT_EQ(parts.size(), 3u);
  std::string header, payload;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(parts[0], &header));
  ASSERT_TRUE(absl::WebSafeBase64Unescape(parts[1], &payload));
  EXPECT_TRUE(absl::StrContains(header, "\"kid\":\"k1\"")) << header;
  EXPECT_TRUE(absl::StrContains(header, "HS256")) << header;
  EXPECT_TRUE(absl::StrContains(payload, "\"iss\":\"townhall\"")) << payload;
  EXPECT_TRUE(absl::StrContains(payload, "\"jti\":")) << payload;
  EXPECT_TRUE(absl::StrContains(
      payload, absl::StrCat("\"iat\":", absl::ToUnixSeconds(kNow) - 300)))
      << payload;

  // Two tokens for the same claims differ (random jti).
  absl::StatusOr<std::string> again = SignToken(keys, Rules(), Claims());
  ASSERT_TRUE(again.ok());
  EXPECT_NE(*again, *token);
}

TEST(Jwt, UnicodeSubjectSurvives) {
  KeySet keys = Keys(absl::StrCat("k1 ", kSecretA));
  TokenClaims claims = Claims();
  claims.subject = "Oʻlmas \"Qodirov\" <o@example.uz>";
  absl::StatusOr<std::string> token = SignToken(keys, Rules(), claims);
  ASSERT_TRUE(token.ok());
  absl::StatusOr<Principal> principal =
      VerifyToken(keys, Rules(), *token, kNow);
  ASSERT_TRUE(principal.ok()) << principal.status();
  EXPECT_EQ(principal->subject, claims.subject);
}

TEST(Jwt, ExpiredTokenRejected) {
  KeySet keys = Keys(absl::StrCat("k1 ", kSecretA));
  absl::StatusOr<std::string> token = SignToken(keys, Rules(), Claims());
  ASSERT_TRUE(token.ok());
  EXPECT_TRUE(
      VerifyToken(keys, Rules(), *token, kNow + absl::Minutes(59)).ok());
  ExpectUnauthenticated(
      VerifyToken(keys, Rules(), *token, kNow + absl::Hours(1)), "expired");
  ExpectUnauthenticated(
      VerifyToken(keys, Rules(), *token, kNow + absl::Hours(2)), "expired");
}

TEST(Jwt, WrongAudienceRejected) {
  KeySet keys = Keys(absl::StrCat("k1 ", kSecretA));
  absl::StatusOr<std::string> token =
      SignToken(keys, Rules("other-app"), Claims());
  ASSERT_TRUE(token.ok());
  ExpectUnauthenticated(VerifyToken(keys, Rules(), *token, kNow), "audience");
  EXPECT_TRUE(VerifyToken(keys, Rules("other-app"), *token, kNow).ok());
}

TEST(Jwt, WrongSecretUnderSameKeyIdRejected) {
  KeySet ours = Keys(absl::StrCat("k1 ", kSecretA));
  KeySet forged = Keys(absl::StrCat("k1 ", kSecretB));
  absl::StatusOr<std::string> token = SignToken(forged, Rules(), Claims());
  ASSERT_TRUE(token.ok());
  ExpectUnauthenticated(VerifyToken(ours, Rules(), *token, kNow),
                        "bad signature");
}

TEST(Jwt, UnknownKeyIdRejected) {
  KeySet ours = Keys(absl::StrCat("k1 ", kSecretA));
  KeySet other = Keys(absl::StrCat("k9 ", kSecretA));  // same secret, other id
  absl::StatusOr<std::string> token = SignToken(other, Rules(), Claims());
  ASSERT_TRUE(token.ok());
  ExpectUnauthenticated(VerifyToken(ours, Rules(), *token, kNow),
                        "unknown key id");
}

TEST(Jwt, KeyRotationKeepsOldTokensValid) {
  KeySet before = Keys(absl::StrCat("k1 ", kSecretA, "\n"));
  // Rotation: a new first line signs; the old key stays for verification.
  KeySet after = Keys(absl::StrCat("k2 ", kSecretB, "\nk1 ", kSecretA, "\n"));
  absl::StatusOr<std::string> old_token = SignToken(before, Rules(), Claims());
  absl::StatusOr<std::string> new_token = SignToken(after, Rules(), Claims());
  ASSERT_TRUE(old_token.ok());
  ASSERT_TRUE(new_token.ok());
  EXPECT_TRUE(VerifyToken(after, Rules(), *old_token, kNow).ok());
  EXPECT_TRUE(VerifyToken(after, Rules(), *new_token, kNow).ok());
  // The new token names k2, which the old key set does not know.
  ExpectUnauthenticated(VerifyToken(before, Rules(), *new_token, kNow),
                        "unknown key id");
  // Once k1 is removed from the file, old tokens stop verifying.
  KeySet retired = Keys(absl::StrCat("k2 ", kSecretB, "\n"));
  ExpectUnauthenticated(VerifyToken(retired, Rules(), *old_token, kNow),
                        "unknown key id");
}

TEST(Jwt, AlgNoneRejected) {
  KeySet keys = Keys(absl::StrCat("k1 ", kSecretA));
  std::string payload = absl::StrCat(
      R"({"iss":"townhall","aud":"townhall","sub":"mallory","tid":"t-mfa",)",
      R"("role":"organizer","exp":)",
      absl::ToUnixSeconds(kNow + absl::Hours(1)), "}");
  for (const std::string& header :
       {std::string(R"({"alg":"none","typ":"JWT"})"),
        std::string(R"({"alg":"none","typ":"JWT","kid":"k1"})"),
        std::string(R"({"alg":"None","typ":"JWT","kid":"k1"})"),
        std::string(R"({"alg":"NONE","typ":"JWT","kid":"k1"})")}) {
    SCOPED_TRACE(header);
    std::string token = absl::StrCat(B64(header), ".", B64(payload), ".");
    absl::StatusOr<Principal> principal =
        VerifyToken(keys, Rules(), token, kNow);
    ExpectUnauthenticated(principal, "invalid token");
    // Also without the trailing dot.
    ExpectUnauthenticated(
        VerifyToken(keys, Rules(), absl::StrCat(B64(header), ".", B64(payload)),
                    kNow),
        "invalid token");
  }
}

TEST(Jwt, Hs256HeaderWithEmptySignatureRejected) {
  KeySet keys = Keys(absl::StrCat("k1 ", kSecretA));
  std::string payload = absl::StrCat(
      R"({"aud":"townhall","tid":"t-mfa","role":"organizer","exp":)",
      absl::ToUnixSeconds(kNow + absl::Hours(1)), "}");
  std::string token = absl::StrCat(
      B64(R"({"alg":"HS256","typ":"JWT","kid":"k1"})"), ".", B64(payload), ".");
  ExpectUnauthenticated(VerifyToken(keys, Rules(), token, kNow),
                        "bad signature");
}

TEST(Jwt, OtherAlgorithmsRejected) {
  KeySet keys = Keys(absl::StrCat("k1 ", kSecretA));
  // Correctly signed with the right secret, but HS512/HS384.
  for (jwt_alg_t alg : {JWT_ALG_HS512, JWT_ALG_HS384}) {
    RawToken raw;
    raw.alg = alg;
    std::string token = raw.Encode();
    ASSERT_FALSE(token.empty());
    ExpectUnauthenticated(VerifyToken(keys, Rules(), token, kNow), "HS256");
  }
  // The same claims as HS256 verify: the rejection is about the algorithm.
  RawToken hs256;
  EXPECT_TRUE(VerifyToken(keys, Rules(), hs256.Encode(), kNow).ok());
}

TEST(Jwt, TamperedPayloadRejected) {
  KeySet keys = Keys(absl::StrCat("k1 ", kSecretA));
  absl::StatusOr<std::string> token = SignToken(keys, Rules(), Claims());
  ASSERT_TRUE(token.ok());
  std::vector<std::string> parts = absl::StrSplit(*token, '.');
  ASSERT_EQ(parts.size(), 3u);
  std::string payload;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(parts[1], &payload));
  std::string evil = absl::StrReplaceAll(payload, {{"t-mfa", "t-gov"}});
  ASSERT_NE(evil, payload);
  std::string tampered = absl::StrCat(parts[0], ".", B64(evil), ".", parts[2]);
  ExpectUnauthenticated(VerifyToken(keys, Rules(), tampered, kNow),
                        "bad signature");
  // A tampered signature too.
  std::string sig = parts[2];
  sig[0] = sig[0] == 'A' ? 'B' : 'A';
  ExpectUnauthenticated(
      VerifyToken(keys, Rules(),
                  absl::StrCat(parts[0], ".", parts[1], ".", sig), kNow),
      "bad signature");
}

TEST(Jwt, GarbageRejected) {
  KeySet keys = Keys(absl::StrCat("k1 ", kSecretA));
  for (const std::string& token :
       {std::string(""), std::string("abc"), std::string("a.b.c"),
        std::string(".."), std::string("\xff\xfe.\x01.")}) {
    ExpectUnauthenticated(VerifyToken(keys, Rules(), token, kNow),
                          "invalid token");
  }
}

TEST(Jwt, MissingTenantOrUnknownRoleRejected) {
  KeySet keys = Keys(absl::StrCat("k1 ", kSecretA));
  {
    RawToken raw;
    raw.grants = {{"aud", kAudience}, {"sub", "x"}, {"role", "organizer"}};
    ExpectUnauthenticated(VerifyToken(keys, Rules(), raw.Encode(), kNow),
                          "no tenant");
  }
  {
    RawToken raw;
    raw.grants = {{"aud", kAudience}, {"tid", ""}, {"role", "organizer"}};
    ExpectUnauthenticated(VerifyToken(keys, Rules(), raw.Encode(), kNow),
                          "no tenant");
  }
  // "operator" is never a token claim: only the bootstrap credential is.
  for (const char* role : {"operator", "admin", "Organizer", ""}) {
    SCOPED_TRACE(role);
    RawToken raw;
    raw.grants = {{"aud", kAudience}, {"tid", "t-mfa"}};
    if (*role != '\0') raw.grants.push_back({"role", role});
    ExpectUnauthenticated(VerifyToken(keys, Rules(), raw.Encode(), kNow),
                          "unknown role");
  }
}

TEST(Jwt, JoinTokenCarriesSessionParticipantAndGeneration) {
  KeySet keys = Keys(absl::StrCat("k1 ", kSecretA));
  TokenClaims claims = Claims();
  claims.role = Role::kModerator;
  claims.subject = "p-1";
  claims.session_id = "s-1";
  claims.participant_id = "p-1";
  claims.generation = 7;
  claims.organization_id = "org-9";
  absl::StatusOr<std::string> token = SignToken(keys, Rules(), claims);
  ASSERT_TRUE(token.ok()) << token.status();
  absl::StatusOr<Principal> principal =
      VerifyToken(keys, Rules(), *token, kNow);
  ASSERT_TRUE(principal.ok()) << principal.status();
  EXPECT_EQ(principal->role, Role::kModerator);
  EXPECT_TRUE(principal->is_session_scoped());
  EXPECT_EQ(principal->session_id, "s-1");
  EXPECT_EQ(principal->participant_id, "p-1");
  EXPECT_EQ(principal->generation, 7);
  EXPECT_EQ(principal->organization_id, "org-9");
  EXPECT_EQ(principal->issue_time, claims.issue_time);
}

TEST(Jwt, JoinTokenNeedsSessionAndParticipant) {
  KeySet keys = Keys(absl::StrCat("k1 ", kSecretA));
  TokenClaims claims = Claims();
  claims.role = Role::kParticipant;
  claims.session_id = "s-1";  // no participant
  EXPECT_EQ(SignToken(keys, Rules(), claims).status().code(),
            absl::StatusCode::kInvalidArgument);
  // Forged without sid/pid: refused on verification too.
  for (const char* role : {"participant", "moderator", "speaker", "observer",
                           "session-organizer"}) {
    SCOPED_TRACE(role);
    RawToken raw;
    raw.grants = {{"aud", kAudience}, {"tid", "t-mfa"}, {"role", role}};
    ExpectUnauthenticated(VerifyToken(keys, Rules(), raw.Encode(), kNow),
                          "join token without session or participant");
    raw.grants.push_back({"sid", "s-1"});
    raw.grants.push_back({"pid", "p-1"});  // still no gen
    ExpectUnauthenticated(VerifyToken(keys, Rules(), raw.Encode(), kNow),
                          "join token without session or participant");
  }
}

TEST(Jwt, ApiKeyCarriesScopesAndId) {
  KeySet keys = Keys(absl::StrCat("k1 ", kSecretA));
  TokenClaims claims = Claims();
  claims.role = Role::kApiClient;
  claims.scopes =
      ScopeBit(ApiScope::kReadSchedule) | ScopeBit(ApiScope::kSubmitQuestions);
  claims.token_id = "key-123";
  absl::StatusOr<std::string> token = SignToken(keys, Rules(), claims);
  ASSERT_TRUE(token.ok()) << token.status();
  absl::StatusOr<Principal> principal =
      VerifyToken(keys, Rules(), *token, kNow);
  ASSERT_TRUE(principal.ok()) << principal.status();
  EXPECT_EQ(principal->role, Role::kApiClient);
  EXPECT_EQ(principal->token_id, "key-123");
  EXPECT_TRUE(principal->has_scope(ApiScope::kReadSchedule));
  EXPECT_FALSE(principal->has_scope(ApiScope::kManageRegistrations));
  EXPECT_TRUE(principal->has_scope(ApiScope::kSubmitQuestions));
  // Forged without scopes: refused.
  RawToken raw;
  raw.grants = {{"aud", kAudience},
                {"tid", "t-mfa"},
                {"role", "api-client"},
                {"jti", "key-1"}};
  ExpectUnauthenticated(VerifyToken(keys, Rules(), raw.Encode(), kNow),
                        "API key without scopes");
}

TEST(Jwt, RoleNamesRoundTrip) {
  for (Role role : {Role::kOrganizer, Role::kSessionOrganizer, Role::kModerator,
                    Role::kSpeaker, Role::kParticipant, Role::kObserver,
                    Role::kApiClient}) {
    Role parsed = Role::kOperator;
    EXPECT_TRUE(ParseRole(RoleName(role), &parsed)) << RoleName(role);
    EXPECT_EQ(parsed, role);
  }
  Role parsed = Role::kOrganizer;
  EXPECT_FALSE(ParseRole("operator", &parsed));
}

TEST(Jwt, SignWithEmptyKeySetFails) {
  absl::StatusOr<std::string> token = SignToken(KeySet(), Rules(), Claims());
  EXPECT_FALSE(token.ok());
  ExpectUnauthenticated(
      VerifyToken(KeySet(), Rules(), RawToken().Encode(), kNow),
      "invalid token");
}

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

// --------------------------------------------------------- Authenticator

AuthOptions Options(const std::string& bootstrap) {
  AuthOptions options;
  options.keys = Keys(absl::StrCat("k1 ", kSecretA));
  options.tokens = Rules();
  options.bootstrap_credential = bootstrap;
  return options;
}

constexpr char kBootstrap[] = "bootstrap-credential-0123456789";

TEST(Authenticator, RequiresBearerPrefix) {
  Authenticator auth(Options(kBootstrap));
  TokenClaims claims = Claims();
  claims.issue_time = absl::Now();
  claims.expire_time = absl::Now() + absl::Hours(1);
  absl::StatusOr<std::string> token = auth.Issue(claims);
  ASSERT_TRUE(token.ok()) << token.status();

  absl::StatusOr<Principal> principal =
      auth.AuthenticateHeader("Bearer " + *token);
  ASSERT_TRUE(principal.ok()) << principal.status();
  EXPECT_EQ(principal->tenant_id, "t-mfa");
  EXPECT_FALSE(principal->is_operator());

  for (const std::string& header :
       {*token, "Basic " + *token, "Bearer" + *token, std::string("Bearer "),
        std::string(""), "Token " + std::string(kBootstrap),
        std::string(kBootstrap)}) {
    SCOPED_TRACE(header);
    absl::StatusOr<Principal> rejected = auth.AuthenticateHeader(header);
    ASSERT_FALSE(rejected.ok());
    EXPECT_EQ(rejected.status().code(), absl::StatusCode::kUnauthenticated);
  }
}

TEST(Authenticator, BootstrapCredentialIsOperator) {
  Authenticator auth(Options(kBootstrap));
  absl::StatusOr<Principal> principal =
      auth.AuthenticateHeader(absl::StrCat("Bearer ", kBootstrap));
  ASSERT_TRUE(principal.ok()) << principal.status();
  EXPECT_TRUE(principal->is_operator());
  EXPECT_EQ(principal->role, Role::kOperator);
  EXPECT_TRUE(principal->tenant_id.empty());
  // Near misses are not the operator.
  std::string wrong = kBootstrap;
  wrong.back() = 'X';
  for (const std::string& cred : {wrong, std::string(kBootstrap).substr(1),
                                  absl::StrCat(kBootstrap, "0")}) {
    absl::StatusOr<Principal> rejected =
        auth.AuthenticateHeader("Bearer " + cred);
    EXPECT_EQ(rejected.status().code(), absl::StatusCode::kUnauthenticated)
        << cred;
  }
}

TEST(Authenticator, EmptyBootstrapDisablesIt) {
  Authenticator auth(Options(""));
  for (const char* header : {"Bearer ", "Bearer  ", "Bearer \"\""}) {
    absl::StatusOr<Principal> principal = auth.AuthenticateHeader(header);
    ASSERT_FALSE(principal.ok()) << header;
    EXPECT_EQ(principal.status().code(), absl::StatusCode::kUnauthenticated);
  }
  // The credential of another installation means nothing here.
  EXPECT_FALSE(
      auth.AuthenticateHeader(absl::StrCat("Bearer ", kBootstrap)).ok());
}

TEST(Authenticator, LoadAuthOptionsRejectsShortBootstrapCredential) {
  char keys_path[] = "/tmp/townhall-jwt-keys-XXXXXX";
  int fd = mkstemp(keys_path);
  ASSERT_GE(fd, 0);
  close(fd);
  { std::ofstream(keys_path) << "k1 " << kSecretA << "\n"; }
  char cred_path[] = "/tmp/townhall-jwt-cred-XXXXXX";
  fd = mkstemp(cred_path);
  ASSERT_GE(fd, 0);
  close(fd);

  { std::ofstream(cred_path) << "short\n"; }
  EXPECT_EQ(LoadAuthOptions(keys_path, Rules(), cred_path).status().code(),
            absl::StatusCode::kInvalidArgument);
  { std::ofstream(cred_path) << kBootstrap << "\n"; }
  absl::StatusOr<AuthOptions> options =
      LoadAuthOptions(keys_path, Rules(), cred_path);
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->bootstrap_credential, kBootstrap);  // newline stripped
  EXPECT_EQ(options->keys.signing_key_id(), "k1");
  EXPECT_EQ(LoadAuthOptions("", Rules(), cred_path).status().code(),
            absl::StatusCode::kInvalidArgument);
  // Token rules: an issuer, and no limit below the services' own tokens.
  TokenRules no_issuer = Rules();
  no_issuer.issuer = "";
  EXPECT_EQ(LoadAuthOptions(keys_path, no_issuer, cred_path).status().code(),
            absl::StatusCode::kInvalidArgument);
  TokenRules too_short = Rules();
  too_short.max_join_token_lifetime = absl::Minutes(5);
  EXPECT_EQ(LoadAuthOptions(keys_path, too_short, cred_path).status().code(),
            absl::StatusCode::kInvalidArgument);
  std::remove(keys_path);
  std::remove(cred_path);
}

TEST(Authenticator, IssueLifetimeKeepsToTheKindsMaximum) {
  AuthOptions options = Options(kBootstrap);
  options.tokens.max_organizer_lifetime = absl::Hours(6);
  Authenticator auth(options);
  // No ttl requested: the fallback, shortened to the maximum.
  EXPECT_EQ(
      *auth.IssueLifetime(Role::kOrganizer, std::nullopt, absl::Hours(12)),
      absl::Hours(6));
  EXPECT_EQ(
      *auth.IssueLifetime(Role::kModerator, std::nullopt, absl::Hours(12)),
      absl::Hours(12));
  EXPECT_EQ(
      *auth.IssueLifetime(Role::kOrganizer, absl::Hours(6), absl::Hours(12)),
      absl::Hours(6));
  for (absl::Duration bad : {absl::Hours(6) + absl::Seconds(1),
                             absl::ZeroDuration(), -absl::Seconds(1)}) {
    absl::StatusOr<absl::Duration> refused =
        auth.IssueLifetime(Role::kOrganizer, bad, absl::Hours(12));
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StrContains(refused.status().message(),
                                  "ttl: must be positive and at most 6h"))
        << refused.status();
  }
  EXPECT_TRUE(absl::StrContains(
      auth.IssueLifetime(Role::kParticipant, absl::Hours(24 * 8), {})
          .status()
          .message(),
      "at most 7 days"));
  EXPECT_TRUE(absl::StrContains(
      auth.IssueLifetime(Role::kApiClient, absl::Hours(24 * 366), {})
          .status()
          .message(),
      "at most 365 days"));
}

}  // namespace
}  // namespace townhall
