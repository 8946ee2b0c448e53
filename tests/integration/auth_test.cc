// Authentication and authorization of every RPC, through gRPC against an
// in-process server: bad credentials are UNAUTHENTICATED everywhere, the
// bootstrap credential only manages tenants, a tenant's token never reaches
// another tenant's data. Tenant management itself (organizers see only
// their own tenant) is tested in tenancy/tenants_test.cc.
//
// Methods come from the service descriptors; the access table
// (services/common/auth/authorization.cc) must have a row for each, or
// AccessTableCoversEveryMethodOfEveryService fails. What each caller kind may
// call is tested in access_test.cc.
#include <gmock/gmock.h>
#include <google/protobuf/descriptor.h>
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/common/auth/authorization.h"
#include "tests/testing/generic_call.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/shared_server.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_server.h"
#include "townhall/v1/questions.grpc.pb.h"

namespace townhall::testing {
namespace {

using ::testing::HasSubstr;

// ---- Every method of every hosted service
// ---------------------------------------------------------------

std::vector<std::string> MethodsOf(const std::string& service) {
  std::vector<std::string> out;
  for (const std::string& path : AllMethods()) {
    if (absl::StartsWith(path, absl::StrCat("/", service, "/"))) {
      out.push_back(path);
    }
  }
  return out;
}

TEST(AuthTest, AccessTableCoversEveryMethodOfEveryService) {
  std::set<std::string> in_protos;
  for (const std::string& name : ServiceNames()) {
    const google::protobuf::ServiceDescriptor* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
            name);
    ASSERT_NE(service, nullptr) << name;
    ASSERT_GT(service->method_count(), 0) << name;
    for (int i = 0; i < service->method_count(); ++i) {
      const google::protobuf::MethodDescriptor* m = service->method(i);
      // Server streams take one request like unary calls, so the generic
      // calls here cover them; client streams would need their own.
      EXPECT_FALSE(m->client_streaming())
          << m->full_name() << " streams requests: give it an entry";
      in_protos.insert(absl::StrCat("/", name, "/", m->name()));
    }
  }
  std::set<std::string> in_table;
  for (const AccessRule& rule : AccessRules()) {
    EXPECT_TRUE(in_table.insert(std::string(rule.method)).second)
        << "listed twice: " << rule.method;
  }
  for (const std::string& path : in_protos) {
    EXPECT_TRUE(in_table.contains(path))
        << "missing from the access table: " << path;
  }
  for (const std::string& path : in_table) {
    EXPECT_TRUE(in_protos.contains(path)) << "not in any service: " << path;
  }
}

// ---- Credentials
// ---------------------------------------------------------------

TokenClaims OrganizerClaims(const std::string& tenant_id) {
  absl::Time now = absl::Now();
  return TokenClaims{.tenant_id = tenant_id,
                     .subject = "organizer@example.org",
                     .role = Role::kOrganizer,
                     .issue_time = now,
                     .expire_time = now + absl::Hours(1)};
}

std::string Base64Url(absl::string_view json) {
  return absl::WebSafeBase64Escape(json);
}

// An unsigned token ("alg": "none") with otherwise perfect claims.
std::string AlgNoneToken(const std::string& tenant_id,
                         absl::string_view header_json) {
  int64_t now = absl::ToUnixSeconds(absl::Now());
  std::string claims = absl::StrCat(
      R"({"iss":"townhall","aud":"townhall","sub":"mallory@example.org","tid":")",
      tenant_id, R"(","role":"organizer","jti":"0123456789abcdef","iat":)", now,
      R"(,"exp":)", now + 3600, "}");
  return absl::StrCat(Base64Url(header_json), ".", Base64Url(claims), ".");
}

struct BadCredential {
  std::string name;
  // The token after "Bearer " ("": no authorization metadata at all).
  std::string token;
  // Part of the expected UNAUTHENTICATED message.
  std::string reason;
};

std::vector<BadCredential> BadCredentials(const std::string& tenant_id) {
  TokenClaims expired = OrganizerClaims(tenant_id);
  expired.issue_time = absl::Now() - absl::Hours(2);
  expired.expire_time = absl::Now() - absl::Minutes(1);
  TokenClaims no_tenant = OrganizerClaims("");
  TokenClaims operator_claims = OrganizerClaims(tenant_id);
  operator_claims.role = Role::kOperator;  // "operator" is never a token role
  // Correctly signed, but living longer than their kind may (the outside
  // tester's ten-year organizer token; a join token and an API key a day
  // past their maximum).
  TokenClaims ten_years = OrganizerClaims(tenant_id);
  ten_years.expire_time = ten_years.issue_time + absl::Hours(24 * 3653);
  TokenClaims long_join = OrganizerClaims(tenant_id);
  long_join.role = Role::kParticipant;
  long_join.session_id = "s-1";
  long_join.participant_id = "p-1";
  long_join.expire_time = long_join.issue_time + absl::Hours(24 * 8);
  TokenClaims long_api_key = OrganizerClaims(tenant_id);
  long_api_key.role = Role::kApiClient;
  long_api_key.scopes = ScopeBit(ApiScope::kReadSchedule);
  long_api_key.token_id = "key-1";
  long_api_key.expire_time = long_api_key.issue_time + absl::Hours(24 * 366);
  // Signed by an issuer with no lifetime limits (SignToken keeps to them).
  const TokenRules lax{.max_organizer_lifetime = absl::InfiniteDuration(),
                       .max_join_token_lifetime = absl::InfiniteDuration(),
                       .max_api_key_lifetime = absl::InfiniteDuration()};
  const std::string valid = SignTestToken(OrganizerClaims(tenant_id));
  std::string tampered = valid;
  // Flip a character of the signature.
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  return {
      {"no token", "", "missing credentials"},
      {"garbage", "garbage", "malformed"},
      {"three empty parts", "..", "malformed"},
      {"foreign signature",
       SignTestToken(OrganizerClaims(tenant_id), ForeignKeys()),
       "bad signature"},
      {"tampered signature", tampered, "bad signature"},
      {"expired", SignTestToken(expired), "expired"},
      {"wrong audience",
       SignTestToken(OrganizerClaims(tenant_id), TestKeys(),
                     TokenRules{.audience = "not-townhall"}),
       "wrong audience"},
      {"wrong issuer",
       SignTestToken(OrganizerClaims(tenant_id), TestKeys(),
                     TokenRules{.issuer = "https://idp.example.org"}),
       "wrong issuer"},
      {"no tenant claim", SignTestToken(no_tenant), "no tenant"},
      {"operator role claim", SignTestToken(operator_claims), "unknown role"},
      {"alg none", AlgNoneToken(tenant_id, R"({"alg":"none","typ":"JWT"})"),
       "bad signature"},
      {"alg none with kid",
       AlgNoneToken(tenant_id,
                    R"({"alg":"none","typ":"JWT","kid":"test-key"})"),
       "bad signature"},
      {"alg none, signature kept",
       absl::StrCat(
           AlgNoneToken(tenant_id,
                        R"({"alg":"none","typ":"JWT","kid":"test-key"})"),
           valid.substr(valid.rfind('.') + 1)),
       "bad signature"},
      {"unknown key id",
       AlgNoneToken(tenant_id,
                    R"({"alg":"HS256","typ":"JWT","kid":"no-such-key"})"),
       "unknown key id"},
      {"ten-year organizer token", SignTestToken(ten_years, TestKeys(), lax),
       "lifetime"},
      {"eight-day join token", SignTestToken(long_join, TestKeys(), lax),
       "lifetime"},
      {"366-day API key", SignTestToken(long_api_key, TestKeys(), lax),
       "lifetime"},
      {"bootstrap credential with a suffix",
       absl::StrCat(kTestBootstrapCredential, "x"), "malformed"},
      {"bootstrap credential truncated",
       std::string(kTestBootstrapCredential,
                   sizeof(kTestBootstrapCredential) - 2),
       "malformed"},
  };
}

// Calls `path` with an empty request and `token` ("" sends none).
absl::Status CallWith(TownhallClient& client, const std::string& path,
                      const std::string& token) {
  return RawCall(client.channel(), path,
                 token.empty() ? "" : absl::StrCat("Bearer ", token));
}

TEST(AuthTest, BadCredentialsAreUnauthenticatedOnEveryRpc) {
  std::string tenant_id;
  absl::StatusOr<std::string> token =
      ServerEnvironment::server().NewTenantToken(&tenant_id);
  ASSERT_TRUE(token.ok()) << token.status();
  TownhallClient client = ServerEnvironment::server().Client();
  for (const BadCredential& credential : BadCredentials(tenant_id)) {
    for (const std::string& rpc : AllMethods()) {
      SCOPED_TRACE(absl::StrCat(credential.name, " on ", rpc));
      // The reason shows that each credential fails the check it is meant
      // to exercise (an "expired" token that was malformed would prove
      // nothing about expiry).
      EXPECT_THAT(CallWith(client, rpc, credential.token),
                  StatusIs(absl::StatusCode::kUnauthenticated,
                           HasSubstr(credential.reason)));
    }
  }
}

TEST(AuthTest, MalformedAuthorizationHeadersAreUnauthenticatedOnEveryMethod) {
  std::string tenant_id;
  absl::StatusOr<std::string> token =
      ServerEnvironment::server().NewTenantToken(&tenant_id);
  ASSERT_TRUE(token.ok()) << token.status();
  TownhallClient client = ServerEnvironment::server().Client();
  const std::string headers[] = {
      *token,                                        // no scheme
      absl::StrCat("Basic ", *token),                // another scheme
      "Basic dXNlcjpwYXNzd29yZA==",                  // user:password
      "Bearer",                                      // scheme only
      "Bearer ",                                     // empty token
      absl::StrCat("Bearer ", *token, " ", *token),  // two tokens
      kTestBootstrapCredential,                      // bootstrap, no scheme
  };
  for (const std::string& path : AllMethods()) {
    for (const std::string& header : headers) {
      SCOPED_TRACE(
          absl::StrCat(path, " with \"", header.substr(0, 20), "...\""));
      EXPECT_THAT(RawCall(client.channel(), path, header),
                  HasCode(absl::StatusCode::kUnauthenticated));
    }
  }
}

TEST(AuthTest, ValidOrganizerTokenPassesAuthenticationOnEveryRpc) {
  // The control for the tests above: the same calls with a good token are
  // not refused for who is calling (they may still fail validation).
  absl::StatusOr<std::string> token =
      ServerEnvironment::server().NewTenantToken();
  ASSERT_TRUE(token.ok()) << token.status();
  TownhallClient client = ServerEnvironment::server().Client();
  for (const std::string& rpc : AllMethods()) {
    SCOPED_TRACE(rpc);
    absl::Status status = CallWith(client, rpc, *token);
    EXPECT_NE(status.code(), absl::StatusCode::kUnauthenticated) << status;
    EXPECT_NE(status.code(), absl::StatusCode::kUnimplemented) << status;
    EXPECT_NE(status.code(), absl::StatusCode::kInternal) << status;
    if (absl::EndsWith(rpc, "/CreateTenant")) {
      EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied) << status;
    } else {
      EXPECT_NE(status.code(), absl::StatusCode::kPermissionDenied) << status;
    }
  }
}

TEST(AuthTest, BootstrapCredentialIsRefusedOnEverySchedulingRpc) {
  TownhallClient client = ServerEnvironment::server().Client();
  std::vector<std::string> rpcs =
      MethodsOf(v1::SchedulingService::service_full_name());
  for (const std::string& rpc :
       MethodsOf(v1::RegistrationService::service_full_name())) {
    rpcs.push_back(rpc);
  }
  ASSERT_EQ(rpcs.size(), 18u + 24u);
  for (const std::string& rpc : rpcs) {
    SCOPED_TRACE(rpc);
    EXPECT_THAT(CallWith(client, rpc, kTestBootstrapCredential),
                HasCode(absl::StatusCode::kPermissionDenied));
  }
  // Also with a request that would otherwise be valid.
  v1::ListSessionsRequest list;
  CallOptions as_operator;
  as_operator.token = kTestBootstrapCredential;
  EXPECT_THAT(client.ListSessions(list, as_operator),
              HasCode(absl::StatusCode::kPermissionDenied));
  // The operator may still ping.
  EXPECT_TRUE(client.Ping(v1::PingRequest(), as_operator).ok());
}

TEST(AuthTest, TokenOfTenantADoesNotReachTenantBData) {
  std::string a_id;
  absl::StatusOr<std::string> a_token =
      ServerEnvironment::server().NewTenantToken(&a_id);
  ASSERT_TRUE(a_token.ok()) << a_token.status();
  absl::StatusOr<std::string> b_token =
      ServerEnvironment::server().NewTenantToken();
  ASSERT_TRUE(b_token.ok()) << b_token.status();
  TownhallClient b = ServerEnvironment::server().Client(*b_token);
  v1::CreateSessionRequest create;
  create.mutable_session()->set_title("B's session");
  create.mutable_session()->mutable_start_time()->set_seconds(1830000000);
  create.mutable_session()->mutable_duration()->set_seconds(3600);
  create.mutable_session()->set_time_zone("Asia/Tashkent");
  absl::StatusOr<v1::CreateSessionResponse> created = b.CreateSession(create);
  ASSERT_TRUE(created.ok()) << created.status();
  // A freshly self-signed token for tenant A, with a correct signature: it
  // sees A's (empty) schedule, never B's.
  TownhallClient a =
      ServerEnvironment::server().Client(SignTestToken(OrganizerClaims(a_id)));
  absl::StatusOr<v1::ListSessionsResponse> listed =
      a.ListSessions(v1::ListSessionsRequest());
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_EQ(listed->sessions_size(), 0);
  v1::GetSessionRequest get;
  get.set_session_id(created->session().id());
  EXPECT_THAT(a.GetSession(get), HasCode(absl::StatusCode::kNotFound));
}

// ---- Malformed requests
// ---------------------------------------------------------------

// Bytes that are not a valid protobuf message of any type.
struct MalformedBody {
  std::string name;
  std::string bytes;
};

std::vector<MalformedBody> MalformedBodies() {
  // Groups nested far deeper than protobuf's recursion limit (100), each
  // closed properly: field 1, START_GROUP (0x0b) ... END_GROUP (0x0c).
  std::string nested =
      absl::StrCat(std::string(2000, '\x0b'), std::string(2000, '\x0c'));
  return {
      // Field 1, length 16, but only "abc" follows.
      {"truncated field", std::string("\x0a\x10"
                                      "abc",
                                      5)},
      // Field 1 as a varint whose last byte is missing.
      {"truncated varint", std::string("\x08\xff", 2)},
      // A tag with field number 0.
      {"field number 0", std::string("\x00\x01", 2)},
      {"deeply nested groups", nested},
      // A length-delimited field whose length does not fit in 32 bits.
      {"huge length", std::string("\x0a\xff\xff\xff\xff\x7f", 6)},
  };
}

// A request protobuf cannot parse is INVALID_ARGUMENT with a message (not
// gRPC's bare UNIMPLEMENTED), on every method, unary and server-streaming
// alike. Authentication comes first, as for invalid UTF-8: without a valid
// credential the caller learns only that (UNAUTHENTICATED).
TEST(AuthTest, MalformedRequestsAreInvalidArgumentOnEveryRpc) {
  absl::StatusOr<std::string> token =
      ServerEnvironment::server().NewTenantToken();
  ASSERT_TRUE(token.ok()) << token.status();
  TownhallClient client = ServerEnvironment::server().Client();
  for (const std::string& rpc : AllMethods()) {
    for (const MalformedBody& body : MalformedBodies()) {
      SCOPED_TRACE(absl::StrCat(body.name, " to ", rpc));
      absl::Status with_token = RawCall(
          client.channel(), rpc, absl::StrCat("Bearer ", *token), body.bytes);
      EXPECT_THAT(with_token, StatusIs(absl::StatusCode::kInvalidArgument,
                                       HasSubstr("malformed protobuf")));
      EXPECT_THAT(RawCall(client.channel(), rpc, "", body.bytes),
                  StatusIs(absl::StatusCode::kUnauthenticated,
                           HasSubstr("missing credentials")));
    }
  }
  // The server keeps serving well-formed requests.
  EXPECT_TRUE(
      client.Ping(v1::PingRequest(), CallOptions{.token = *token}).ok());
}

}  // namespace
}  // namespace townhall::testing
