#include "services/common/server/session_cache.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/ids.h"
#include "services/common/tenant_keys.h"
#include "tests/testing/redis_server.h"

namespace townhall {
namespace {

using ::townhall::testing::SharedRedisAddress;

RedisOptions Redis() {
  RedisOptions options;
  options.address = SharedRedisAddress();
  return options;
}

SessionCache::Options Fast(size_t max_entries = 100) {
  SessionCache::Options options;
  options.max_entries = max_entries;
  options.max_staleness = absl::Milliseconds(500);
  options.block = absl::Milliseconds(20);
  options.invalidate_in_process = false;
  return options;
}

v1::Session Session(const std::string& id,
                    v1::SessionState state = v1::SESSION_STATE_LIVE) {
  v1::Session s;
  s.set_id(id);
  s.set_state(state);
  s.set_capacity(10);
  return s;
}

// Polls `done` for up to `wait`.
template <typename Done>
bool Eventually(Done done, absl::Duration wait = absl::Seconds(3)) {
  absl::Time give_up = absl::Now() + wait;
  while (absl::Now() < give_up) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return static_cast<bool>(done());
}

class SessionCacheTest : public ::testing::Test {
 protected:
  SessionCacheTest() : tenant_(NewId()), redis_(Redis()) {}

  // Waits until the cache follows the tenant; returns a ticket.
  uint64_t Followed(SessionCache& cache, const std::string& tenant) {
    std::optional<uint64_t> ticket;
    EXPECT_TRUE(Eventually(
        [&] { return (ticket = cache.BeginFetch(tenant)).has_value(); }));
    return ticket.value_or(0);
  }

  // Appends a feed entry the way th_feed_append does.
  void Append(const std::string& kind, const std::string& id,
              int64_t skip = 0) {
    std::string prefix = TenantPrefix(tenant_);
    redis_.set_deadline(absl::Now() + absl::Seconds(2));
    if (skip > 0) {
      ASSERT_TRUE(
          redis_.Command({"INCRBY", prefix + "version", absl::StrCat(skip)})
              .ok());
    }
    absl::StatusOr<RedisReply> version =
        redis_.Command({"INCR", prefix + "version"});
    ASSERT_TRUE(version.ok());
    ASSERT_TRUE(redis_
                    .Command({"XADD", prefix + "events",
                              absl::StrCat(version->integer, "-0"), "kind",
                              kind, "id", id, "data", ""})
                    .ok());
  }

  std::string tenant_;
  RedisConnection redis_;
};

TEST_F(SessionCacheTest, CachesOnlyOnceTheTenantsFeedIsFollowed) {
  SessionCache cache(Redis(), Fast());
  EXPECT_EQ(cache.BeginFetch(tenant_), std::nullopt);
  cache.Insert(tenant_, Session("s1"), 0);
  EXPECT_EQ(cache.Get(tenant_, "s1"), std::nullopt);

  cache.Insert(tenant_, Session("s1"), Followed(cache, tenant_));
  std::optional<v1::Session> got = cache.Get(tenant_, "s1");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->state(), v1::SESSION_STATE_LIVE);
  EXPECT_EQ(cache.stats().hits, 1);
}

TEST_F(SessionCacheTest, AnotherTenantsSessionIsNotServed) {
  SessionCache cache(Redis(), Fast());
  cache.Insert(tenant_, Session("s1"), Followed(cache, tenant_));
  std::string other = NewId();
  Followed(cache, other);
  EXPECT_EQ(cache.Get(other, "s1"), std::nullopt);
}

TEST_F(SessionCacheTest, ASessionChangeInTheFeedDropsThatSession) {
  SessionCache cache(Redis(), Fast());
  uint64_t ticket = Followed(cache, tenant_);
  cache.Insert(tenant_, Session("s1"), ticket);
  cache.Insert(tenant_, Session("s2"), ticket);
  Append("session.state", "s1");
  EXPECT_TRUE(Eventually([&] { return !cache.Get(tenant_, "s1").has_value(); },
                         absl::Milliseconds(500)));
  EXPECT_TRUE(cache.Get(tenant_, "s2").has_value());
}

TEST_F(SessionCacheTest, RegistrationEntriesChangeNoSession) {
  SessionCache cache(Redis(), Fast());
  cache.Insert(tenant_, Session("s1"), Followed(cache, tenant_));
  Append("registration.created", "p1");
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_TRUE(cache.Get(tenant_, "s1").has_value());
}

TEST_F(SessionCacheTest, ASeriesChangeOrAGapDropsTheTenant) {
  SessionCache cache(Redis(), Fast());
  cache.Insert(tenant_, Session("s1"), Followed(cache, tenant_));
  Append("series.updated", "r1");
  EXPECT_TRUE(
      Eventually([&] { return !cache.Get(tenant_, "s1").has_value(); }));

  cache.Insert(tenant_, Session("s2"), Followed(cache, tenant_));
  ASSERT_TRUE(cache.Get(tenant_, "s2").has_value());
  // Versions 3..5 are missing from the stream (trimmed): a gap.
  Append("registration.created", "p1", /*skip=*/3);
  EXPECT_TRUE(
      Eventually([&] { return !cache.Get(tenant_, "s2").has_value(); }));
}

TEST_F(SessionCacheTest, AFetchBegunBeforeAChangeIsNotCached) {
  SessionCache cache(Redis(), Fast());
  uint64_t ticket = Followed(cache, tenant_);
  Append("session.updated", "s1");
  // The fetch may have read the session before the change.
  EXPECT_TRUE(Eventually([&] { return cache.BeginFetch(tenant_) != ticket; }));
  cache.Insert(tenant_, Session("s1"), ticket);
  EXPECT_EQ(cache.Get(tenant_, "s1"), std::nullopt);

  ticket = *cache.BeginFetch(tenant_);
  cache.InvalidateTenant(tenant_);
  cache.Insert(tenant_, Session("s1"), ticket);
  EXPECT_EQ(cache.Get(tenant_, "s1"), std::nullopt);
}

TEST_F(SessionCacheTest, InvalidateTenantInProcessReachesRegisteredCaches) {
  SessionCache::Options options = Fast();
  options.invalidate_in_process = true;
  SessionCache cache(Redis(), options);
  cache.Insert(tenant_, Session("s1"), Followed(cache, tenant_));
  SessionCache::InvalidateTenantInProcess(tenant_);
  EXPECT_EQ(cache.Get(tenant_, "s1"), std::nullopt);
}

TEST_F(SessionCacheTest, KeepsAtMostMaxEntriesOldestFirst) {
  SessionCache cache(Redis(), Fast(/*max_entries=*/2));
  uint64_t ticket = Followed(cache, tenant_);
  cache.Insert(tenant_, Session("s1"), ticket);
  cache.Insert(tenant_, Session("s2"), ticket);
  cache.Insert(tenant_, Session("s3"), ticket);
  EXPECT_EQ(cache.stats().entries, 2);
  EXPECT_EQ(cache.Get(tenant_, "s1"), std::nullopt);
  EXPECT_TRUE(cache.Get(tenant_, "s2").has_value());
  EXPECT_TRUE(cache.Get(tenant_, "s3").has_value());
}

TEST(SessionCacheNoRedisTest, NothingIsServedWithoutAFeed) {
  RedisOptions unreachable;
  unreachable.address = "127.0.0.1:1";
  SessionCache cache(unreachable, Fast());
  for (int i = 0; i < 20; ++i) {
    std::optional<uint64_t> ticket = cache.BeginFetch("t");
    EXPECT_EQ(ticket, std::nullopt);
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(cache.Get("t", "s1"), std::nullopt);
}

}  // namespace
}  // namespace townhall
