// JWT key sets, signing and verification.
#include "services/common/auth/jwt.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "services/common/auth/jwt_test_support.h"

namespace townhall {
namespace {

using testing::Claims;
using testing::ExpectUnauthenticated;
using testing::kAudience;
using testing::Keys;
using testing::kNow;
using testing::kSecretA;
using testing::kSecretB;
using testing::RawToken;
using testing::Rules;

using testing::B64;

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

}  // namespace
}  // namespace townhall
