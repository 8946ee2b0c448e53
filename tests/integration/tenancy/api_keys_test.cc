// API keys for third-party clients: created by organizers, shown once,
// stored as a hash, limited by scopes and in number, revocable on every
// server.
#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/redis/redis_connection.h"
#include "services/common/tenant_keys.h"
#include "services/tenancy/tenant_logic.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/shared_server.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_server.h"

namespace townhall::testing {
namespace {

std::string Sha256Hex(const std::string& data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(),
         digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

class ApiKeyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(token_,
                         ServerEnvironment::server().NewTenantToken(&tenant_));
  }

  TownhallClient Organizer() const {
    return ServerEnvironment::server().Client(token_);
  }
  TownhallClient As(const std::string& key) const {
    return ServerEnvironment::server().Client(key);
  }

  absl::StatusOr<v1::CreateApiKeyResponse> Create(
      const std::string& name, std::initializer_list<v1::ApiScope> scopes) {
    v1::CreateApiKeyRequest request;
    request.mutable_api_key()->set_display_name(name);
    for (v1::ApiScope scope : scopes)
      request.mutable_api_key()->add_scopes(scope);
    return Organizer().CreateApiKey(request);
  }

  std::string tenant_;
  std::string token_;
};

TEST_F(ApiKeyTest, KeyWorksWithinItsScopesOnly) {
  ASSERT_OK_AND_ASSIGN(
      v1::CreateApiKeyResponse created,
      Create("Diaspora portal", {v1::API_SCOPE_READ_SCHEDULE}));
  EXPECT_FALSE(created.key().empty());
  EXPECT_EQ(created.api_key().tenant_id(), tenant_);
  EXPECT_EQ(created.api_key().key_sha256(), Sha256Hex(created.key()));
  EXPECT_TRUE(created.api_key().has_expire_time());
  EXPECT_FALSE(created.api_key().has_revoke_time());

  TownhallClient portal = As(created.key());
  EXPECT_TRUE(portal.ListSessions(v1::ListSessionsRequest()).ok());
  EXPECT_TRUE(portal.ListVenues(v1::ListVenuesRequest()).ok());
  // Outside its scope: refused before any work.
  v1::CreateSessionRequest create;
  create.mutable_session()->set_title("Not allowed");
  EXPECT_THAT(portal.CreateSession(create),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       ::testing::HasSubstr("scopes")));
  EXPECT_THAT(portal.ListOrganizations(v1::ListOrganizationsRequest()),
              HasCode(absl::StatusCode::kPermissionDenied));
  // Keys never manage keys or tenants.
  EXPECT_THAT(portal.ListApiKeys(v1::ListApiKeysRequest()),
              HasCode(absl::StatusCode::kPermissionDenied));
  v1::GetTenantRequest get_tenant;
  get_tenant.set_tenant_id(tenant_);
  EXPECT_THAT(portal.GetTenant(get_tenant),
              HasCode(absl::StatusCode::kPermissionDenied));
}

TEST_F(ApiKeyTest, ListShowsHashesNeverKeys) {
  ASSERT_OK_AND_ASSIGN(
      v1::CreateApiKeyResponse a,
      Create("Telegram bot", {v1::API_SCOPE_SUBMIT_QUESTIONS}));
  ASSERT_OK_AND_ASSIGN(v1::CreateApiKeyResponse b,
                       Create("Portal", {v1::API_SCOPE_READ_SCHEDULE,
                                         v1::API_SCOPE_MANAGE_REGISTRATIONS}));
  // Paging one by one visits both, in id order.
  v1::ListApiKeysRequest list;
  list.set_page_size(1);
  std::vector<v1::ApiKey> seen;
  do {
    ASSERT_OK_AND_ASSIGN(v1::ListApiKeysResponse page,
                         Organizer().ListApiKeys(list));
    ASSERT_LE(page.api_keys_size(), 1);
    for (const v1::ApiKey& key : page.api_keys()) seen.push_back(key);
    list.set_page_token(page.next_page_token());
  } while (!list.page_token().empty());
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_LT(seen[0].id(), seen[1].id());
  for (const v1::ApiKey& key : seen) {
    const std::string& secret =
        key.id() == a.api_key().id() ? a.key() : b.key();
    EXPECT_EQ(key.key_sha256(), Sha256Hex(secret));
    EXPECT_FALSE(absl::StrContains(key.SerializeAsString(), secret));
  }
  // Another tenant sees none of them.
  ASSERT_OK_AND_ASSIGN(std::string other,
                       ServerEnvironment::server().NewTenantToken());
  ASSERT_OK_AND_ASSIGN(v1::ListApiKeysResponse theirs,
                       ServerEnvironment::server().Client(other).ListApiKeys(
                           v1::ListApiKeysRequest()));
  EXPECT_EQ(theirs.api_keys_size(), 0);
}

TEST_F(ApiKeyTest, RevokedKeyStopsWorkingEverywhere) {
  ASSERT_OK_AND_ASSIGN(v1::CreateApiKeyResponse created,
                       Create("Leaky bot", {v1::API_SCOPE_READ_SCHEDULE}));
  TownhallClient bot = As(created.key());
  ASSERT_TRUE(bot.ListSessions(v1::ListSessionsRequest()).ok());

  // Another tenant cannot revoke it: NOT_FOUND, and it keeps working.
  ASSERT_OK_AND_ASSIGN(std::string other,
                       ServerEnvironment::server().NewTenantToken());
  v1::RevokeApiKeyRequest revoke;
  revoke.set_api_key_id(created.api_key().id());
  EXPECT_THAT(ServerEnvironment::server().Client(other).RevokeApiKey(revoke),
              HasCode(absl::StatusCode::kNotFound));
  EXPECT_TRUE(bot.ListSessions(v1::ListSessionsRequest()).ok());

  ASSERT_OK_AND_ASSIGN(v1::RevokeApiKeyResponse revoked,
                       Organizer().RevokeApiKey(revoke));
  EXPECT_TRUE(revoked.api_key().has_revoke_time());
  // A second revoke keeps the first time.
  ASSERT_OK_AND_ASSIGN(v1::RevokeApiKeyResponse again,
                       Organizer().RevokeApiKey(revoke));
  EXPECT_EQ(again.api_key().revoke_time().seconds(),
            revoked.api_key().revoke_time().seconds());

  // The revocation reaches the server through the tenant's revocation
  // stream (th:{t:<tenant>}:revocations); poll (the bound is a round trip,
  // at most --revocation_max_staleness).
  absl::Status status;
  absl::Time give_up = absl::Now() + absl::Seconds(5);
  do {
    status = bot.ListSessions(v1::ListSessionsRequest()).status();
    if (status.code() == absl::StatusCode::kUnauthenticated) break;
    absl::SleepFor(absl::Milliseconds(20));
  } while (absl::Now() < give_up);
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kUnauthenticated,
                               ::testing::HasSubstr("revoked")));
  // Its siblings still work.
  ASSERT_OK_AND_ASSIGN(v1::CreateApiKeyResponse sibling,
                       Create("New bot", {v1::API_SCOPE_READ_SCHEDULE}));
  EXPECT_TRUE(As(sibling.key()).ListSessions(v1::ListSessionsRequest()).ok());
}

TEST_F(ApiKeyTest, BadRequestsNameTheField) {
  EXPECT_THAT(Create("", {v1::API_SCOPE_READ_SCHEDULE}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::HasSubstr("api_key.display_name")));
  EXPECT_THAT(Create("No scopes", {}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::HasSubstr("api_key.scopes")));
  EXPECT_THAT(Create("Unspecified", {v1::API_SCOPE_UNSPECIFIED}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::HasSubstr("api_key.scopes")));
  v1::CreateApiKeyRequest unknown;
  unknown.mutable_api_key()->set_display_name("Unknown scope");
  unknown.mutable_api_key()->add_scopes(static_cast<v1::ApiScope>(99));
  EXPECT_THAT(Organizer().CreateApiKey(unknown),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::HasSubstr("api_key.scopes")));
  v1::CreateApiKeyRequest long_lived;
  long_lived.mutable_api_key()->set_display_name("Forever");
  long_lived.mutable_api_key()->add_scopes(v1::API_SCOPE_READ_SCHEDULE);
  long_lived.mutable_ttl()->set_seconds(400LL * 24 * 3600);
  EXPECT_THAT(Organizer().CreateApiKey(long_lived),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::HasSubstr("ttl")));
  v1::RevokeApiKeyRequest revoke;
  EXPECT_THAT(Organizer().RevokeApiKey(revoke),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::HasSubstr("api_key_id")));
  revoke.set_api_key_id("NOSUCHKEY");
  EXPECT_THAT(Organizer().RevokeApiKey(revoke),
              HasCode(absl::StatusCode::kNotFound));
}

TEST_F(ApiKeyTest, ShortLivedKeyExpires) {
  v1::CreateApiKeyRequest request;
  request.mutable_api_key()->set_display_name("One-second key");
  request.mutable_api_key()->add_scopes(v1::API_SCOPE_READ_SCHEDULE);
  request.mutable_ttl()->set_seconds(1);
  ASSERT_OK_AND_ASSIGN(v1::CreateApiKeyResponse created,
                       Organizer().CreateApiKey(request));
  absl::SleepFor(absl::Seconds(2));
  EXPECT_THAT(As(created.key()).ListSessions(v1::ListSessionsRequest()),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       ::testing::HasSubstr("expired")));
}

// The count and the write are one script: creates racing for the last free
// places never leave the tenant above kMaxApiKeysPerTenant.
TEST_F(ApiKeyTest, ConcurrentCreatesNeverExceedTheLimit) {
  constexpr int kFree = 5;
  constexpr int kCallers = 16;
  // Fill the index up to kFree places short of the limit (ids only: the
  // limit counts index entries).
  RedisConnection redis(SharedRedisOptions());
  redis.set_deadline(absl::Now() + absl::Seconds(5));
  const std::string index = absl::StrCat(TenantPrefix(tenant_), "apikeys");
  std::vector<std::string> fill = {"ZADD", index};
  for (int i = 0; i < tenancy::kMaxApiKeysPerTenant - kFree; ++i) {
    fill.push_back("0");
    fill.push_back(absl::StrCat("filler-", i));
  }
  ASSERT_OK(redis.Command(fill).status());

  std::atomic<int> created = 0;
  std::atomic<int> refused = 0;
  std::vector<std::thread> callers;
  for (int i = 0; i < kCallers; ++i) {
    callers.emplace_back([&, i] {
      absl::StatusOr<v1::CreateApiKeyResponse> response =
          Create(absl::StrCat("Racer ", i), {v1::API_SCOPE_READ_SCHEDULE});
      if (response.ok()) {
        ++created;
      } else if (response.status().code() ==
                     absl::StatusCode::kResourceExhausted &&
                 absl::StrContains(
                     response.status().message(),
                     absl::StrCat("at most ", tenancy::kMaxApiKeysPerTenant,
                                  " API keys"))) {
        ++refused;
      }
    });
  }
  for (std::thread& caller : callers) caller.join();
  EXPECT_EQ(created, kFree);
  EXPECT_EQ(refused, kCallers - kFree);
  redis.set_deadline(absl::Now() + absl::Seconds(5));
  ASSERT_OK_AND_ASSIGN(RedisReply count, redis.Command({"ZCARD", index}));
  EXPECT_EQ(count.integer, tenancy::kMaxApiKeysPerTenant);
}

}  // namespace
}  // namespace townhall::testing
