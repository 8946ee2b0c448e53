// RevocationList: which principals a revocation entry refuses, and the
// staleness bound; RevocationWatcher: it follows the index of tenants and
// every listed tenant's stream in a real Redis. (The scripts that revoke
// are exercised end to end by the registration and tenancy tests.)
#include "services/common/auth/revocation_list.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/ids.h"
#include "tests/testing/redis_server.h"

namespace townhall {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1800000000);

Principal JoinToken(int64_t generation) {
  Principal p;
  p.role = Role::kParticipant;
  p.tenant_id = "t1";
  p.session_id = "s1";
  p.participant_id = "p1";
  p.generation = generation;
  return p;
}

Principal ApiKey(const std::string& id) {
  Principal p;
  p.role = Role::kApiClient;
  p.tenant_id = "t1";
  p.token_id = id;
  return p;
}

TEST(RevocationList, RefusesOlderGenerationsOnly) {
  RevocationList list(absl::Seconds(10));
  list.MarkSynced(kNow);
  EXPECT_TRUE(list.Check(JoinToken(1), kNow).ok());
  list.Apply(RegistrationRevocationKey("t1", "s1", "p1"), 3);
  EXPECT_EQ(list.Check(JoinToken(1), kNow).code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(list.Check(JoinToken(2), kNow).code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(list.Check(JoinToken(3), kNow).ok());  // issued after
  // An older entry arriving late does not lower the bar.
  list.Apply(RegistrationRevocationKey("t1", "s1", "p1"), 2);
  EXPECT_FALSE(list.Check(JoinToken(2), kNow).ok());
  // Another participant, session or tenant is unaffected.
  Principal other = JoinToken(1);
  other.participant_id = "p2";
  EXPECT_TRUE(list.Check(other, kNow).ok());
  other = JoinToken(1);
  other.tenant_id = "t2";
  EXPECT_TRUE(list.Check(other, kNow).ok());
}

TEST(RevocationList, RevokedApiKeyIsRefused) {
  RevocationList list;
  list.MarkSynced(kNow);
  list.Apply(ApiKeyRevocationKey("t1", "k1"), 0);
  EXPECT_EQ(list.Check(ApiKey("k1"), kNow).code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(list.Check(ApiKey("k2"), kNow).ok());
}

TEST(RevocationList, StaleListRefusesRevocableCredentialsOnly) {
  RevocationList list(absl::Seconds(10));
  Principal organizer;
  organizer.role = Role::kOrganizer;
  organizer.tenant_id = "t1";
  // Never synced: join tokens and API keys cannot be trusted yet.
  EXPECT_EQ(list.Check(JoinToken(1), kNow).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(list.Check(ApiKey("k1"), kNow).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_TRUE(list.Check(organizer, kNow).ok());
  list.MarkSynced(kNow);
  EXPECT_TRUE(list.Check(JoinToken(1), kNow + absl::Seconds(10)).ok());
  EXPECT_EQ(list.Check(JoinToken(1), kNow + absl::Seconds(11)).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_TRUE(list.Check(organizer, kNow + absl::Hours(1)).ok());
}

TEST(RevocationList, WaitForSyncTimesOutThenSucceeds) {
  RevocationList list;
  EXPECT_FALSE(list.WaitForSync(absl::Milliseconds(10)));
  list.MarkSynced(kNow);
  EXPECT_TRUE(list.WaitForSync(absl::Milliseconds(10)));
}

// Appends a registration revocation to the tenant's stream as th_revoke does.
void Revoke(RedisConnection& redis, const std::string& tenant,
            int64_t generation) {
  absl::StatusOr<RedisReply> reply =
      redis.Command({"XADD", RevocationStreamKey(tenant), "*", "k",
                     RegistrationRevocationKey(tenant, "s1", "p1"), "g",
                     absl::StrCat(generation)});
  ASSERT_TRUE(reply.ok()) << reply.status();
  ASSERT_NE(reply->type, RedisReply::Type::kError) << reply->str;
}

// Polls until `caller` is refused as revoked; false after 5 s.
bool RefusedSoon(const RevocationList& list, const Principal& caller) {
  absl::Time give_up = absl::Now() + absl::Seconds(5);
  while (absl::Now() < give_up) {
    if (list.Check(caller, absl::Now()).code() ==
        absl::StatusCode::kUnauthenticated) {
      return true;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return false;
}

TEST(RevocationWatcher, FollowsEveryListedTenantsStream) {
  RedisOptions options;
  options.address = testing::SharedRedisAddress();
  RedisConnection redis(options);
  // Fresh tenants: the shared Redis keeps other tests' streams.
  const std::string before = absl::StrCat("t-", NewId());
  const std::string after = absl::StrCat("t-", NewId());
  ASSERT_TRUE(ListRevocationStream(redis, before).ok());
  Revoke(redis, before, 2);
  // Listing twice adds one index entry only.
  ASSERT_TRUE(ListRevocationStream(redis, before).ok());

  RevocationList list;
  RevocationWatcher watcher(options, &list);
  ASSERT_TRUE(list.WaitForSync(absl::Seconds(5)));
  // Synced means every revocation written before was read.
  Principal token = JoinToken(1);
  token.tenant_id = before;
  EXPECT_EQ(list.Check(token, absl::Now()).code(),
            absl::StatusCode::kUnauthenticated);
  token.generation = 2;
  EXPECT_TRUE(list.Check(token, absl::Now()).ok());

  // A tenant listed while the watcher blocks: its stream joins the read.
  token = JoinToken(1);
  token.tenant_id = after;
  EXPECT_TRUE(list.Check(token, absl::Now()).ok());
  ASSERT_TRUE(ListRevocationStream(redis, after).ok());
  Revoke(redis, after, 2);
  EXPECT_TRUE(RefusedSoon(list, token));
  // And the first tenant's stream is still followed.
  token.tenant_id = before;
  Revoke(redis, before, 5);
  token.generation = 4;
  EXPECT_TRUE(RefusedSoon(list, token));

  // Each tenant is in the index once, though `before` was listed twice.
  absl::StatusOr<RedisReply> index =
      redis.Command({"XRANGE", std::string(kRevocationIndexKey), "-", "+"});
  ASSERT_TRUE(index.ok()) << index.status();
  int entries_before = 0;
  int entries_after = 0;
  for (const RedisReply& entry : index->elements) {
    const std::string& tenant = entry.elements.at(1).elements.at(1).str;
    entries_before += tenant == before;
    entries_after += tenant == after;
  }
  EXPECT_EQ(entries_before, 1);
  EXPECT_EQ(entries_after, 1);
}

}  // namespace
}  // namespace townhall
