// Tenant management: the operator creates tenants, organizers see only
// their own (another tenant, existing or not, is NOT_FOUND alike) and
// IssueToken mints organizer tokens within their lifetime.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "tests/testing/shared_server.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_server.h"

namespace townhall::testing {
namespace {

using ::testing::HasSubstr;

TEST(TenantsTest, OrganizerCannotCreateTenants) {
  std::string tenant_id;
  absl::StatusOr<std::string> token =
      ServerEnvironment::server().NewTenantToken(&tenant_id);
  ASSERT_TRUE(token.ok()) << token.status();
  TownhallClient organizer = ServerEnvironment::server().Client(*token);
  v1::CreateTenantRequest create;
  create.mutable_tenant()->set_id(absl::StrCat(tenant_id, "-2"));
  create.mutable_tenant()->set_display_name("Self-made tenant");
  EXPECT_THAT(organizer.CreateTenant(create),
              HasCode(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(organizer.CreateTenant(v1::CreateTenantRequest()),
              HasCode(absl::StatusCode::kPermissionDenied));
  // Nothing was created: the operator can create that id now.
  TownhallClient operator_client =
      ServerEnvironment::server().Client(kTestBootstrapCredential);
  EXPECT_TRUE(operator_client.CreateTenant(create).ok());
  EXPECT_THAT(operator_client.CreateTenant(create),
              HasCode(absl::StatusCode::kAlreadyExists));
}

TEST(TenantsTest, OrganizerSeesOnlyTheirOwnTenant) {
  std::string a_id;
  std::string b_id;
  absl::StatusOr<std::string> a_token =
      ServerEnvironment::server().NewTenantToken(&a_id);
  ASSERT_TRUE(a_token.ok()) << a_token.status();
  ASSERT_TRUE(ServerEnvironment::server().NewTenantToken(&b_id).ok());
  TownhallClient a = ServerEnvironment::server().Client(*a_token);

  // Own tenant: fine.
  v1::GetTenantRequest get_own;
  get_own.set_tenant_id(a_id);
  absl::StatusOr<v1::GetTenantResponse> own = a.GetTenant(get_own);
  ASSERT_TRUE(own.ok()) << own.status();
  EXPECT_EQ(own->tenant().id(), a_id);
  v1::IssueTokenRequest issue_own;
  issue_own.set_tenant_id(a_id);
  issue_own.set_subject("colleague@example.org");
  absl::StatusOr<v1::IssueTokenResponse> issued = a.IssueToken(issue_own);
  ASSERT_TRUE(issued.ok()) << issued.status();
  // The issued token works for scheduling in A.
  CallOptions as_colleague;
  as_colleague.token = issued->token();
  EXPECT_TRUE(a.ListSessions(v1::ListSessionsRequest(), as_colleague).ok());

  // Another tenant, existing (B) or not: NOT_FOUND, with the same message.
  const std::string missing_id = absl::StrCat(b_id, "-nope");
  std::vector<std::string> messages;
  for (const std::string& other : {b_id, missing_id}) {
    SCOPED_TRACE(other);
    v1::GetTenantRequest get;
    get.set_tenant_id(other);
    absl::Status got = a.GetTenant(get).status();
    EXPECT_THAT(got, HasCode(absl::StatusCode::kNotFound));
    v1::IssueTokenRequest issue;
    issue.set_tenant_id(other);
    issue.set_subject("mallory@example.org");
    absl::Status issued_other = a.IssueToken(issue).status();
    EXPECT_THAT(issued_other, HasCode(absl::StatusCode::kNotFound));
    messages.push_back(absl::StrReplaceAll(
        absl::StrCat(got.message(), "|", issued_other.message()),
        {{other, "<id>"}}));
  }
  EXPECT_EQ(messages[0], messages[1]) << "existence of another tenant leaks";

  // The operator sees B.
  TownhallClient operator_client =
      ServerEnvironment::server().Client(kTestBootstrapCredential);
  v1::GetTenantRequest get_b;
  get_b.set_tenant_id(b_id);
  EXPECT_TRUE(operator_client.GetTenant(get_b).ok());
  get_b.set_tenant_id(missing_id);
  EXPECT_THAT(operator_client.GetTenant(get_b),
              HasCode(absl::StatusCode::kNotFound));
  v1::IssueTokenRequest issue_missing;
  issue_missing.set_tenant_id(missing_id);
  issue_missing.set_subject("x@example.org");
  EXPECT_THAT(operator_client.IssueToken(issue_missing),
              HasCode(absl::StatusCode::kNotFound));
}

// IssueToken never mints an organizer token that the servers would refuse
// for its lifetime (24 h by default), and what it mints names its issuer.
TEST(TenantsTest, IssueTokenKeepsToTheOrganizerTokenLifetime) {
  std::string tenant_id;
  ASSERT_TRUE(ServerEnvironment::server().NewTenantToken(&tenant_id).ok());
  TownhallClient operator_client =
      ServerEnvironment::server().Client(kTestBootstrapCredential);
  v1::IssueTokenRequest issue;
  issue.set_tenant_id(tenant_id);
  issue.set_subject("organizer@example.org");
  issue.mutable_ttl()->set_seconds(25 * 3600);
  EXPECT_THAT(operator_client.IssueToken(issue),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("ttl")));
  issue.mutable_ttl()->set_seconds(24 * 3600);
  absl::StatusOr<v1::IssueTokenResponse> day =
      operator_client.IssueToken(issue);
  ASSERT_TRUE(day.ok()) << day.status();
  CallOptions as_organizer;
  as_organizer.token = day->token();
  EXPECT_TRUE(
      operator_client.ListSessions(v1::ListSessionsRequest(), as_organizer)
          .ok());
  std::vector<std::string> parts = absl::StrSplit(day->token(), '.');
  ASSERT_EQ(parts.size(), 3u);
  std::string payload;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(parts[1], &payload));
  EXPECT_THAT(payload, HasSubstr(R"("iss":"townhall")"));
}

}  // namespace
}  // namespace townhall::testing
