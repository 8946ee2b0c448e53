// Integration tests of organization invitations: quotas of delegate
// seats, delegates, waitlisted delegates and substitutes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/integration/registration/registration_test_util.h"

namespace townhall::testing::registration_test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(RegistrationTest, InviteOrganizationChecksQuotaAndOrganization) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t, {.capacity = 10}));
  std::string org = NewOrganization(t, "Diaspora Hamburg");
  EXPECT_THAT(Invite(t, s.id(), "noorg", 2),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("noorg")));
  EXPECT_THAT(
      Invite(t, s.id(), org, 0),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("seat_quota")));
  ASSERT_OK_AND_ASSIGN(v1::OrganizationInvitation inv,
                       Invite(t, s.id(), org, 2));
  EXPECT_EQ(inv.seat_quota(), 2);
  EXPECT_EQ(inv.seats_used(), 0);
  EXPECT_EQ(inv.organization_id(), org);

  std::vector<std::string> members = NewParticipants(t, 2, org);
  ASSERT_TRUE(Register(t, s.id(), members[0], AsDelegate()).ok());
  ASSERT_TRUE(Register(t, s.id(), members[1], AsDelegate()).ok());
  EXPECT_THAT(Invite(t, s.id(), org, 1),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("2 delegate seats")));
  ASSERT_OK_AND_ASSIGN(inv, Invite(t, s.id(), org, 3));
  EXPECT_EQ(inv.seat_quota(), 3);
  EXPECT_EQ(inv.seats_used(), 2);
  EXPECT_THAT(FeedKinds(t), ::testing::Contains("registration.invited"));
}

TEST(RegistrationTest, DelegatesNeedAnInvitationAndAFreeQuotaSeat) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t, {.capacity = 10}));
  std::string org = NewOrganization(t, "Uzbek Society Berlin");
  std::vector<std::string> members = NewParticipants(t, 4, org);
  std::string loner = NewParticipant(t, "No organization");

  EXPECT_THAT(Register(t, s.id(), members[0], AsDelegate()),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("not invited")));
  EXPECT_THAT(Register(t, s.id(), members[0], AsSubstitute()),
              HasCode(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(Register(t, s.id(), loner, AsDelegate()),
              HasCode(absl::StatusCode::kFailedPrecondition));

  ASSERT_TRUE(Invite(t, s.id(), org, 2).ok());
  ASSERT_OK_AND_ASSIGN(v1::Registration d0,
                       Register(t, s.id(), members[0], AsDelegate()));
  EXPECT_EQ(d0.status(), v1::REGISTRATION_STATUS_CONFIRMED);
  EXPECT_EQ(d0.delegation(), v1::DELEGATION_DELEGATE);
  ASSERT_TRUE(Register(t, s.id(), members[1], AsDelegate()).ok());
  EXPECT_THAT(
      Register(t, s.id(), members[2], AsDelegate()),
      StatusIs(absl::StatusCode::kResourceExhausted,
               HasSubstr(absl::StrCat("organization ", org,
                                      " has used all 2 delegate seats"))));
  // Individuals are outside the quota.
  ASSERT_OK_AND_ASSIGN(v1::Registration individual,
                       Register(t, s.id(), members[2]));
  EXPECT_EQ(individual.delegation(), v1::DELEGATION_INDIVIDUAL);
  EXPECT_EQ(individual.status(), v1::REGISTRATION_STATUS_CONFIRMED);

  // Cancelling a delegate releases its quota seat.
  ASSERT_TRUE(Cancel(t, s.id(), members[1]).ok());
  ASSERT_OK_AND_ASSIGN(v1::Registration d3,
                       Register(t, s.id(), members[3], AsDelegate()));
  EXPECT_EQ(d3.delegation(), v1::DELEGATION_DELEGATE);
  ASSERT_OK_AND_ASSIGN(v1::OrganizationInvitation inv,
                       Invite(t, s.id(), org, 2));
  EXPECT_EQ(inv.seats_used(), 2);
}

TEST(RegistrationTest, WaitlistedDelegatesUseQuotaSeats) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t, {.capacity = 1}));
  std::string org = NewOrganization(t, "Mission Paris");
  std::vector<std::string> members = NewParticipants(t, 3, org);
  ASSERT_TRUE(Invite(t, s.id(), org, 2).ok());
  ASSERT_OK_AND_ASSIGN(v1::Registration d0,
                       Register(t, s.id(), members[0], AsDelegate()));
  ASSERT_OK_AND_ASSIGN(v1::Registration d1,
                       Register(t, s.id(), members[1], AsDelegate()));
  EXPECT_EQ(d1.status(), v1::REGISTRATION_STATUS_WAITLISTED);
  EXPECT_THAT(Register(t, s.id(), members[2], AsDelegate()),
              HasCode(absl::StatusCode::kResourceExhausted));
}

TEST(RegistrationTest, SubstituteStandsByAndTakesACancelledDelegatesSeat) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t, {.capacity = 2}));
  std::string org = NewOrganization(t, "Uzbek Society Berlin");
  std::vector<std::string> members = NewParticipants(t, 5, org);
  std::vector<std::string> others = NewParticipants(t, 2);
  ASSERT_TRUE(Invite(t, s.id(), org, 2).ok());

  ASSERT_OK_AND_ASSIGN(v1::Registration d0,
                       Register(t, s.id(), members[0], AsDelegate()));
  ASSERT_TRUE(Register(t, s.id(), others[0]).ok());  // the last seat
  ASSERT_TRUE(Register(t, s.id(), others[1]).ok());  // waitlisted first
  ASSERT_OK_AND_ASSIGN(v1::Registration sub1,
                       Register(t, s.id(), members[1], AsSubstitute()));
  EXPECT_EQ(sub1.status(), v1::REGISTRATION_STATUS_STANDBY);
  EXPECT_EQ(sub1.delegation(), v1::DELEGATION_SUBSTITUTE);
  ASSERT_OK_AND_ASSIGN(v1::Registration sub2,
                       Register(t, s.id(), members[2], AsSubstitute()));
  EXPECT_EQ(sub2.status(), v1::REGISTRATION_STATUS_STANDBY);
  // At most seat_quota substitutes.
  EXPECT_THAT(Register(t, s.id(), members[3], AsSubstitute()),
              HasCode(absl::StatusCode::kResourceExhausted));
  ASSERT_OK_AND_ASSIGN(v1::ListRegistrationsResponse list, List(t, s.id()));
  EXPECT_EQ(list.confirmed_count(), 2);  // substitutes hold no seat

  // The delegate's seat goes to the earliest substitute, ahead of the
  // waitlist.
  ASSERT_OK_AND_ASSIGN(v1::CancelRegistrationResponse cancelled,
                       Cancel(t, s.id(), members[0], "ill"));
  EXPECT_EQ(cancelled.registration().status(),
            v1::REGISTRATION_STATUS_CANCELLED);
  EXPECT_EQ(cancelled.registration().cancel_reason(), "ill");
  EXPECT_EQ(cancelled.promoted().participant_id(), members[1]);
  EXPECT_EQ(cancelled.promoted().status(), v1::REGISTRATION_STATUS_CONFIRMED);
  EXPECT_EQ(cancelled.promoted().delegation(), v1::DELEGATION_DELEGATE);
  ASSERT_OK_AND_ASSIGN(v1::Registration waiting, Get(t, s.id(), others[1]));
  EXPECT_EQ(waiting.status(), v1::REGISTRATION_STATUS_WAITLISTED);
  ASSERT_OK_AND_ASSIGN(v1::OrganizationInvitation inv,
                       Invite(t, s.id(), org, 2));
  EXPECT_EQ(inv.seats_used(), 1);  // the substitute now holds it

  // An individual's seat goes to the waitlist, not to a substitute.
  ASSERT_OK_AND_ASSIGN(cancelled, Cancel(t, s.id(), others[0]));
  EXPECT_EQ(cancelled.promoted().participant_id(), others[1]);
  ASSERT_OK_AND_ASSIGN(v1::Registration still, Get(t, s.id(), members[2]));
  EXPECT_EQ(still.status(), v1::REGISTRATION_STATUS_STANDBY);
}

TEST(RegistrationTest, ApprovingAPendingDelegateNeedsAFreeQuotaSeat) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t, {.capacity = 10}));
  std::string org = NewOrganization(t, "Embassy Club Vienna");
  std::vector<std::string> members = NewParticipants(t, 3, org);
  ASSERT_TRUE(Invite(t, s.id(), org, 1).ok());
  RegisterOptions portal_delegate = AsDelegate();
  portal_delegate.token = PortalKey(t);
  RegisterOptions portal_substitute = AsSubstitute();
  portal_substitute.token = PortalKey(t);

  // Pending delegates hold no quota seat until approved.
  ASSERT_OK_AND_ASSIGN(v1::Registration pending,
                       Register(t, s.id(), members[0], portal_delegate));
  EXPECT_EQ(pending.status(), v1::REGISTRATION_STATUS_PENDING);
  EXPECT_EQ(pending.delegation(), v1::DELEGATION_DELEGATE);
  ASSERT_OK_AND_ASSIGN(v1::Registration sub,
                       Register(t, s.id(), members[2], portal_substitute));
  EXPECT_EQ(sub.status(), v1::REGISTRATION_STATUS_PENDING);
  ASSERT_TRUE(Register(t, s.id(), members[1], AsDelegate()).ok());
  EXPECT_THAT(Approve(t, s.id(), members[0]),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("has used all 1 delegate seats")));
  ASSERT_OK_AND_ASSIGN(v1::Registration standby,
                       Approve(t, s.id(), members[2]));
  EXPECT_EQ(standby.status(), v1::REGISTRATION_STATUS_STANDBY);

  // Once the quota has room, the approval goes through.
  ASSERT_TRUE(Invite(t, s.id(), org, 2).ok());
  ASSERT_OK_AND_ASSIGN(v1::Registration approved,
                       Approve(t, s.id(), members[0]));
  EXPECT_EQ(approved.status(), v1::REGISTRATION_STATUS_CONFIRMED);
  ASSERT_OK_AND_ASSIGN(v1::OrganizationInvitation inv,
                       Invite(t, s.id(), org, 2));
  EXPECT_EQ(inv.seats_used(), 2);
}

// ---- Cancellation ---------------------------------------------------------

}  // namespace
}  // namespace townhall::testing::registration_test
