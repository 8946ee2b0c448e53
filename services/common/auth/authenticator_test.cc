// The Authenticator: bearer tokens, the bootstrap credential and issuing.
#include "services/common/auth/authenticator.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/auth/jwt_test_support.h"

namespace townhall {
namespace {

using testing::Claims;
using testing::Keys;
using testing::kSecretA;
using testing::Rules;

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

// ------------------------------------------- verified tokens (the cache)
//
// A token verified once is not verified again (VerifiedTokenCache); what
// can change after that must still be seen on the very next call.

TokenClaims JoinClaims(absl::Time expires) {
  TokenClaims claims;
  claims.tenant_id = "t-mfa";
  claims.subject = "p-1";
  claims.role = Role::kParticipant;
  claims.session_id = "s-1";
  claims.participant_id = "p-1";
  claims.generation = 1;
  claims.issue_time = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()));
  claims.expire_time = expires;
  return claims;
}

TEST(Authenticator, CachedJoinTokenIsRefusedOnceRevoked) {
  RevocationList revocations;
  revocations.MarkSynced(absl::Now());
  Authenticator auth(Options(kBootstrap), &revocations);
  absl::StatusOr<std::string> token =
      auth.Issue(JoinClaims(absl::Now() + absl::Hours(1)));
  ASSERT_TRUE(token.ok()) << token.status();
  const std::string header = "Bearer " + *token;
  for (int call = 0; call < 3; ++call) {  // verified, then cached
    ASSERT_TRUE(auth.AuthenticateHeader(header).ok()) << "call " << call;
  }

  revocations.Apply(RegistrationRevocationKey("t-mfa", "s-1", "p-1"), 2);
  absl::StatusOr<Principal> revoked = auth.AuthenticateHeader(header);
  EXPECT_EQ(revoked.status().code(), absl::StatusCode::kUnauthenticated)
      << revoked.status();
}

TEST(Authenticator, CachedJoinTokenIsRefusedWhenRevocationsAreStale) {
  RevocationList revocations(absl::Seconds(10));
  revocations.MarkSynced(absl::Now());
  Authenticator auth(Options(kBootstrap), &revocations);
  absl::StatusOr<std::string> token =
      auth.Issue(JoinClaims(absl::Now() + absl::Hours(1)));
  ASSERT_TRUE(token.ok()) << token.status();
  ASSERT_TRUE(auth.AuthenticateHeader("Bearer " + *token).ok());

  revocations.MarkSynced(absl::Now() - absl::Minutes(1));
  EXPECT_EQ(auth.AuthenticateHeader("Bearer " + *token).status().code(),
            absl::StatusCode::kUnavailable);
}

TEST(Authenticator, CachedTokenExpires) {
  Authenticator auth(Options(kBootstrap));
  // Tokens carry whole seconds: expire at the second after next.
  const absl::Time expires =
      absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()) + 2);
  absl::StatusOr<std::string> token = auth.Issue(JoinClaims(expires));
  ASSERT_TRUE(token.ok()) << token.status();
  ASSERT_TRUE(auth.AuthenticateHeader("Bearer " + *token).ok());

  absl::SleepFor(expires - absl::Now() + absl::Milliseconds(50));
  absl::StatusOr<Principal> expired =
      auth.AuthenticateHeader("Bearer " + *token);
  EXPECT_EQ(expired.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(absl::StrContains(expired.status().message(), "expired"))
      << expired.status();
}

TEST(Authenticator, AlteredCachedTokenIsVerifiedInFull) {
  Authenticator auth(Options(kBootstrap));
  absl::StatusOr<std::string> token =
      auth.Issue(JoinClaims(absl::Now() + absl::Hours(1)));
  ASSERT_TRUE(token.ok()) << token.status();
  ASSERT_TRUE(auth.AuthenticateHeader("Bearer " + *token).ok());

  // Every byte of the cached token changed in turn, and the token cut
  // short or lengthened: none is the cached token, none verifies.
  int refused = 0;
  for (size_t i = 0; i < token->size(); ++i) {
    std::string altered = *token;
    altered[i] = altered[i] == 'A' ? 'B' : 'A';
    absl::StatusOr<Principal> principal =
        auth.AuthenticateHeader("Bearer " + altered);
    // A few base64url characters differ only in bits the decoder ignores
    // (the last one of a segment): those decode to the same bytes and
    // verify as the same token, as they would without the cache.
    if (!principal.ok()) {
      EXPECT_EQ(principal.status().code(), absl::StatusCode::kUnauthenticated);
      ++refused;
    }
  }
  EXPECT_GE(refused, static_cast<int>(token->size()) - 3);
  for (const std::string& altered :
       {token->substr(0, token->size() - 1), *token + "A", "x" + *token}) {
    EXPECT_FALSE(auth.AuthenticateHeader("Bearer " + altered).ok()) << altered;
  }
}

TEST(Authenticator, TokenCacheOffVerifiesEveryCall) {
  AuthOptions options = Options(kBootstrap);
  options.token_cache_size = 0;
  RevocationList revocations;
  revocations.MarkSynced(absl::Now());
  Authenticator auth(options, &revocations);
  absl::StatusOr<std::string> token =
      auth.Issue(JoinClaims(absl::Now() + absl::Hours(1)));
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_TRUE(auth.AuthenticateHeader("Bearer " + *token).ok());
  revocations.Apply(RegistrationRevocationKey("t-mfa", "s-1", "p-1"), 2);
  EXPECT_FALSE(auth.AuthenticateHeader("Bearer " + *token).ok());
}

}  // namespace
}  // namespace townhall
