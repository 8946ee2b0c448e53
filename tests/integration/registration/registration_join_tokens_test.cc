// Integration tests of join tokens: scoped to their session and role,
// revoked by cancellation and role changes, none for ended sessions.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/integration/registration/registration_test_util.h"

namespace townhall::testing::registration_test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(RegistrationTest, JoinTokenIsScopedToItsSession) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t, {.capacity = 1}));
  ASSERT_OK_AND_ASSIGN(v1::Session other, NewSession(t));
  std::vector<std::string> p = NewParticipants(t, 2);
  ASSERT_TRUE(Register(t, s.id(), p[0]).ok());
  ASSERT_TRUE(Register(t, s.id(), p[1]).ok());  // waitlisted

  absl::Time before = absl::Now();
  ASSERT_OK_AND_ASSIGN(v1::IssueJoinTokenResponse issued,
                       IssueJoinToken(t, s.id(), p[0]));
  EXPECT_EQ(issued.role(), v1::SESSION_ROLE_PARTICIPANT);
  absl::Time expires = FromTs(issued.expire_time());
  EXPECT_GE(expires, before + absl::Hours(12) - absl::Seconds(2));
  EXPECT_LE(expires, absl::Now() + absl::Hours(12) + absl::Seconds(1));

  EXPECT_TRUE(GetSessionAs(t, s.id(), issued.token()).ok());
  // Any other session is invisible to it (NOT_FOUND, as for an unknown id).
  EXPECT_THAT(GetSessionAs(t, other.id(), issued.token()),
              HasCode(absl::StatusCode::kNotFound));
  // Its own registration, not another participant's.
  v1::GetRegistrationRequest own;
  own.set_session_id(s.id());
  own.set_participant_id(p[0]);
  EXPECT_TRUE(t.client.GetRegistration(own, {.token = issued.token()}).ok());
  own.set_participant_id(p[1]);
  EXPECT_THAT(t.client.GetRegistration(own, {.token = issued.token()}),
              HasCode(absl::StatusCode::kPermissionDenied));

  EXPECT_THAT(
      IssueJoinToken(t, s.id(), p[1]),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("WAITLISTED")));
  EXPECT_THAT(IssueJoinToken(t, s.id(), "nobody"),
              HasCode(absl::StatusCode::kNotFound));
  EXPECT_THAT(IssueJoinToken(t, s.id(), p[0], absl::Hours(24 * 7 + 1)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("ttl")));
  EXPECT_THAT(IssueJoinToken(t, s.id(), p[0], -absl::Seconds(5)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("ttl")));
  ASSERT_OK_AND_ASSIGN(v1::IssueJoinTokenResponse week,
                       IssueJoinToken(t, s.id(), p[0], absl::Hours(24 * 7)));
  EXPECT_GE(FromTs(week.expire_time()),
            before + absl::Hours(24 * 7) - absl::Seconds(2));
}

TEST(RegistrationTest, JoinTokenCarriesTheSessionRole) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t));
  std::vector<std::string> p = NewParticipants(t, 2);
  ASSERT_TRUE(
      Register(t, s.id(), p[0], WithRole(v1::SESSION_ROLE_MODERATOR)).ok());
  ASSERT_TRUE(Register(t, s.id(), p[1]).ok());
  ASSERT_OK_AND_ASSIGN(v1::IssueJoinTokenResponse moderator,
                       IssueJoinToken(t, s.id(), p[0]));
  EXPECT_EQ(moderator.role(), v1::SESSION_ROLE_MODERATOR);
  ASSERT_OK_AND_ASSIGN(v1::IssueJoinTokenResponse participant,
                       IssueJoinToken(t, s.id(), p[1]));
  // Moderators may list the session's registrations; participants may not.
  v1::ListRegistrationsRequest list;
  list.set_session_id(s.id());
  EXPECT_TRUE(
      t.client.ListRegistrations(list, {.token = moderator.token()}).ok());
  EXPECT_THAT(t.client.ListRegistrations(list, {.token = participant.token()}),
              HasCode(absl::StatusCode::kPermissionDenied));
}

TEST(RegistrationTest, CancellingRevokesJoinTokensAndReRegisteringIssuesNew) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t));
  std::string p = NewParticipant(t, "Aziza");
  ASSERT_TRUE(Register(t, s.id(), p).ok());
  ASSERT_OK_AND_ASSIGN(v1::IssueJoinTokenResponse old,
                       IssueJoinToken(t, s.id(), p));
  ASSERT_TRUE(GetSessionAs(t, s.id(), old.token()).ok());

  ASSERT_TRUE(Cancel(t, s.id(), p).ok());
  EXPECT_THAT(WaitUntilRefused(t, s.id(), old.token()),
              HasCode(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(
      IssueJoinToken(t, s.id(), p),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("CANCELLED")));

  ASSERT_TRUE(Register(t, s.id(), p).ok());
  ASSERT_OK_AND_ASSIGN(v1::IssueJoinTokenResponse fresh,
                       IssueJoinToken(t, s.id(), p));
  EXPECT_TRUE(GetSessionAs(t, s.id(), fresh.token()).ok());
  EXPECT_THAT(GetSessionAs(t, s.id(), old.token()),
              HasCode(absl::StatusCode::kUnauthenticated));
}

TEST(RegistrationTest, SetRoleRevokesTokensWithTheOldRole) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t));
  std::string p = NewParticipant(t, "Aziza");
  ASSERT_TRUE(Register(t, s.id(), p).ok());
  ASSERT_OK_AND_ASSIGN(v1::IssueJoinTokenResponse old,
                       IssueJoinToken(t, s.id(), p));
  ASSERT_TRUE(GetSessionAs(t, s.id(), old.token()).ok());
  ASSERT_TRUE(SetRole(t, s.id(), p, v1::SESSION_ROLE_SPEAKER).ok());
  EXPECT_THAT(WaitUntilRefused(t, s.id(), old.token()),
              HasCode(absl::StatusCode::kUnauthenticated));
  ASSERT_OK_AND_ASSIGN(v1::IssueJoinTokenResponse fresh,
                       IssueJoinToken(t, s.id(), p));
  EXPECT_EQ(fresh.role(), v1::SESSION_ROLE_SPEAKER);
  EXPECT_TRUE(GetSessionAs(t, s.id(), fresh.token()).ok());
}

TEST(RegistrationTest, NoJoinTokensForEndedSessions) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t));
  std::string p = NewParticipant(t, "Aziza");
  ASSERT_TRUE(Register(t, s.id(), p).ok());
  ASSERT_TRUE(Start(t, s.id()).ok());
  ASSERT_TRUE(IssueJoinToken(t, s.id(), p).ok());
  ASSERT_TRUE(End(t, s.id()).ok());
  EXPECT_THAT(
      IssueJoinToken(t, s.id(), p),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("ENDED")));
}

}  // namespace
}  // namespace townhall::testing::registration_test
