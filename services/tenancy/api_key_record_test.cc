#include "services/tenancy/api_key_record.h"

#include <gtest/gtest.h>

#include "services/common/proto_time.h"

namespace townhall::tenancy {
namespace {

RedisReply Bulk(const std::string& s) {
  RedisReply reply;
  reply.type = RedisReply::Type::kString;
  reply.str = s;
  return reply;
}

RedisReply Hash(
    std::initializer_list<std::pair<std::string, std::string>> fields) {
  RedisReply reply;
  reply.type = RedisReply::Type::kArray;
  for (const auto& [field, value] : fields) {
    reply.elements.push_back(Bulk(field));
    reply.elements.push_back(Bulk(value));
  }
  return reply;
}

TEST(Sha256HexTest, KnownDigest) {
  EXPECT_EQ(Sha256Hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ApiKeyClaimsTest, TheKeyIsAnApiClientTokenNamedByItsId) {
  v1::ApiKey key;
  key.set_id("K1");
  key.set_tenant_id("acme");
  absl::Time now = absl::FromUnixSeconds(1800000000);
  TokenClaims claims = ApiKeyClaims(key, 0b110, now, absl::Hours(1));
  EXPECT_EQ(claims.tenant_id, "acme");
  EXPECT_EQ(claims.subject, "api-key:K1");
  EXPECT_EQ(claims.token_id, "K1");
  EXPECT_EQ(claims.role, Role::kApiClient);
  EXPECT_EQ(claims.scopes, 0b110u);
  EXPECT_EQ(claims.issue_time, now);
  EXPECT_EQ(claims.expire_time, now + absl::Hours(1));
}

TEST(DecodeApiKeyTest, ReadsTheRecordAndRevokeTimeInAnyFieldOrder) {
  v1::ApiKey stored;
  stored.set_id("K1");
  stored.set_display_name("Bot");
  v1::ApiKey key;
  ASSERT_TRUE(DecodeApiKey(Hash({{"revoked_us", "1800000000123456"},
                                 {"pb", stored.SerializeAsString()}}),
                           &key)
                  .ok());
  EXPECT_EQ(key.id(), "K1");
  EXPECT_EQ(key.display_name(), "Bot");
  EXPECT_EQ(key.revoke_time().seconds(), 1800000000);
  EXPECT_EQ(key.revoke_time().nanos(), 123456000);

  v1::ApiKey live;
  ASSERT_TRUE(
      DecodeApiKey(Hash({{"pb", stored.SerializeAsString()}}), &live).ok());
  EXPECT_FALSE(live.has_revoke_time());
}

TEST(DecodeApiKeyTest, MissingIsNotFoundAndGarbageIsInternal) {
  v1::ApiKey key;
  EXPECT_EQ(DecodeApiKey(Hash({}), &key).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(DecodeApiKey(Hash({{"revoked_us", "1"}}), &key).code(),
            absl::StatusCode::kInternal);
  EXPECT_EQ(DecodeApiKey(Hash({{"pb", "\xff\xff"}}), &key).code(),
            absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace townhall::tenancy
