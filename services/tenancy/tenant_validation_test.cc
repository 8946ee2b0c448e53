#include "services/tenancy/tenant_validation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace townhall::tenancy {
namespace {

using ::testing::HasSubstr;

TEST(ValidateTenantIdTest, AcceptsLowercaseDigitsAndDashes) {
  EXPECT_TRUE(ValidateTenantId("id", "abc").ok());
  EXPECT_TRUE(ValidateTenantId("id", "city-council-2024").ok());
  EXPECT_TRUE(ValidateTenantId("id", std::string(63, 'a')).ok());
}

TEST(ValidateTenantIdTest, RefusesOtherIdsNamingTheField) {
  for (const std::string& id :
       {std::string("ab"), std::string(64, 'a'), std::string("Upper"),
        std::string("under_score"), std::string("dot.ted"),
        std::string("th:{t:x}")}) {
    SCOPED_TRACE(id);
    absl::Status status = ValidateTenantId("tenant_id", id);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(status.message(), HasSubstr("tenant_id"));
  }
}

TEST(ValidateNewTenantTest, NeedsIdAndDisplayName) {
  v1::Tenant tenant;
  tenant.set_id("acme");
  tenant.set_display_name("Acme");
  EXPECT_TRUE(ValidateNewTenant(tenant).ok());
  tenant.set_display_name("");
  EXPECT_THAT(ValidateNewTenant(tenant).message(),
              HasSubstr("tenant.display_name"));
  tenant.set_id("x");
  EXPECT_THAT(ValidateNewTenant(tenant).message(), HasSubstr("tenant.id"));
}

TEST(RequireTenantAccessTest, OwnTenantOrOperatorElseNotFound) {
  Principal organizer;
  organizer.role = Role::kOrganizer;
  organizer.tenant_id = "acme";
  EXPECT_TRUE(RequireTenantAccess(organizer, "acme").ok());
  absl::Status other = RequireTenantAccess(organizer, "globex");
  EXPECT_EQ(other.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(other.message(), "tenant globex not found");
  Principal op;
  op.role = Role::kOperator;
  EXPECT_TRUE(RequireTenantAccess(op, "globex").ok());
}

TEST(ValidateOrganizerTokenRequestTest, SubjectAndOrganizerRoleOnly) {
  v1::IssueTokenRequest request;
  request.set_subject("organizer@example.org");
  EXPECT_TRUE(ValidateOrganizerTokenRequest(request).ok());
  request.set_role("organizer");
  EXPECT_TRUE(ValidateOrganizerTokenRequest(request).ok());
  request.set_role("participant");
  EXPECT_THAT(ValidateOrganizerTokenRequest(request).message(),
              HasSubstr("role"));
  request.set_role("");
  request.set_subject("");
  EXPECT_THAT(ValidateOrganizerTokenRequest(request).message(),
              HasSubstr("subject"));
}

TEST(ValidateNewApiKeyTest, ReturnsTheScopeBits) {
  v1::ApiKey key;
  key.set_display_name("Portal");
  key.add_scopes(v1::API_SCOPE_READ_SCHEDULE);
  key.add_scopes(v1::API_SCOPE_SUBMIT_QUESTIONS);
  absl::StatusOr<uint32_t> scopes = ValidateNewApiKey(key);
  ASSERT_TRUE(scopes.ok()) << scopes.status();
  EXPECT_EQ(*scopes, ScopeBit(ApiScope::kReadSchedule) |
                         ScopeBit(ApiScope::kSubmitQuestions));
}

TEST(ValidateNewApiKeyTest, RefusesNamingTheField) {
  v1::ApiKey unnamed;
  unnamed.add_scopes(v1::API_SCOPE_READ_SCHEDULE);
  EXPECT_THAT(ValidateNewApiKey(unnamed).status().message(),
              HasSubstr("api_key.display_name"));
  v1::ApiKey no_scopes;
  no_scopes.set_display_name("Bot");
  EXPECT_THAT(ValidateNewApiKey(no_scopes).status().message(),
              HasSubstr("api_key.scopes"));
  v1::ApiKey unspecified = no_scopes;
  unspecified.add_scopes(v1::API_SCOPE_UNSPECIFIED);
  EXPECT_THAT(ValidateNewApiKey(unspecified).status().message(),
              HasSubstr("api_key.scopes"));
  v1::ApiKey unknown = no_scopes;
  unknown.add_scopes(static_cast<v1::ApiScope>(99));
  EXPECT_THAT(ValidateNewApiKey(unknown).status().message(),
              HasSubstr("api_key.scopes"));
}

}  // namespace
}  // namespace townhall::tenancy
