// RevocationList: which principals a revocation entry refuses, and the
// staleness bound. (The watcher that fills it from Redis is exercised end to
// end by the registration tests.)
#include "services/common/auth/revocation_list.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace townhall
