// VerifiedTokenCache: exact-bytes lookup, expiry, the bound.
#include "services/common/auth/verified_token_cache.h"

#include <gtest/gtest.h>

#include <string>

#include "absl/strings/str_cat.h"

namespace townhall {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1800000000);

Principal Organizer(absl::string_view tenant, absl::Time expires) {
  Principal principal;
  principal.tenant_id = std::string(tenant);
  principal.expire_time = expires;
  return principal;
}

TEST(VerifiedTokenCache, FindsOnlyTheExactToken) {
  VerifiedTokenCache cache(100);
  cache.Insert("aaa.bbb.ccc", Organizer("t1", kNow + absl::Hours(1)), kNow);

  std::optional<Principal> hit = cache.Find("aaa.bbb.ccc", kNow);
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->tenant_id, "t1");
  for (absl::string_view other :
       {"aaa.bbb.ccd", "aaa.bbb.cc", "aaa.bbb.ccc ", "Aaa.bbb.ccc", ""}) {
    SCOPED_TRACE(other);
    EXPECT_FALSE(cache.Find(other, kNow).has_value());
  }
}

TEST(VerifiedTokenCache, ExpiredTokensAreMissesAndDropped) {
  VerifiedTokenCache cache(100);
  cache.Insert("token", Organizer("t1", kNow + absl::Seconds(10)), kNow);
  EXPECT_TRUE(cache.Find("token", kNow + absl::Seconds(9)).has_value());
  EXPECT_FALSE(cache.Find("token", kNow + absl::Seconds(10)).has_value());
  EXPECT_EQ(cache.size(), 0u);
}

TEST(VerifiedTokenCache, NeverHoldsMoreThanItsCapacity) {
  constexpr size_t kCapacity = 64;
  VerifiedTokenCache cache(kCapacity);
  for (int i = 0; i < 10000; ++i) {
    cache.Insert(absl::StrCat("token-", i),
                 Organizer("t1", kNow + absl::Hours(1)), kNow);
    ASSERT_LE(cache.size(), kCapacity) << "after " << i + 1 << " inserts";
  }
  // The newest token is always kept (eviction happens before the insert).
  EXPECT_TRUE(cache.Find("token-9999", kNow).has_value());
}

TEST(VerifiedTokenCache, FullShardDropsExpiredTokensFirst) {
  // One token per shard at most: capacity 16 over 16 shards.
  VerifiedTokenCache cache(16);
  for (int i = 0; i < 200; ++i) {
    cache.Insert(absl::StrCat("old-", i),
                 Organizer("t1", kNow + absl::Seconds(1)), kNow);
  }
  const absl::Time later = kNow + absl::Seconds(2);
  for (int i = 0; i < 200; ++i) {
    cache.Insert(absl::StrCat("new-", i),
                 Organizer("t1", later + absl::Hours(1)), later);
  }
  // Every old token had expired: none may have survived beside a new one
  // that it pushed out.
  for (int i = 0; i < 200; ++i) {
    EXPECT_FALSE(cache.Find(absl::StrCat("old-", i), kNow).has_value());
  }
  EXPECT_LE(cache.size(), 16u);
}

TEST(VerifiedTokenCache, ZeroCapacityAndLongTokensAreNeverCached) {
  VerifiedTokenCache off(0);
  off.Insert("token", Organizer("t1", kNow + absl::Hours(1)), kNow);
  EXPECT_FALSE(off.Find("token", kNow).has_value());

  VerifiedTokenCache cache(100);
  const std::string long_token(VerifiedTokenCache::kMaxCachedTokenBytes + 1,
                               'x');
  cache.Insert(long_token, Organizer("t1", kNow + absl::Hours(1)), kNow);
  EXPECT_FALSE(cache.Find(long_token, kNow).has_value());
  EXPECT_EQ(cache.size(), 0u);
}

}  // namespace
}  // namespace townhall
