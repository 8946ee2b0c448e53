// Integration tests of registrations: seats and the waitlist in arrival
// order, refusals, retries, self-registration and approval, cancellation
// with promotion, roles, reads and series registration.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/integration/registration/registration_test_util.h"

namespace townhall::testing::registration_test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// ---- Seats and the waitlist --------------------------------------------

TEST(RegistrationTest, OrganizerFillsSeatsThenTheWaitlistInArrivalOrder) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t, {.capacity = 2}));
  std::string org = NewOrganization(t, "Uzbek Society Berlin");
  std::string a = NewParticipant(t, "Aziza", org);
  std::vector<std::string> rest = NewParticipants(t, 3);

  ASSERT_OK_AND_ASSIGN(v1::Registration ra, Register(t, s.id(), a));
  EXPECT_EQ(ra.status(), v1::REGISTRATION_STATUS_CONFIRMED);
  EXPECT_EQ(ra.role(), v1::SESSION_ROLE_PARTICIPANT);
  EXPECT_EQ(ra.delegation(), v1::DELEGATION_INDIVIDUAL);
  EXPECT_EQ(ra.organization_id(), org);
  EXPECT_EQ(ra.participant_display_name(), "Aziza");
  EXPECT_EQ(ra.session_id(), s.id());
  EXPECT_FALSE(ra.self_registered());
  EXPECT_EQ(ra.waitlist_position(), 0);
  EXPECT_GT(ra.create_time().seconds(), 0);

  ASSERT_OK_AND_ASSIGN(v1::Registration r0, Register(t, s.id(), rest[0]));
  EXPECT_EQ(r0.status(), v1::REGISTRATION_STATUS_CONFIRMED);
  ASSERT_OK_AND_ASSIGN(v1::Registration r1, Register(t, s.id(), rest[1]));
  EXPECT_EQ(r1.status(), v1::REGISTRATION_STATUS_WAITLISTED);
  EXPECT_EQ(r1.waitlist_position(), 1);
  ASSERT_OK_AND_ASSIGN(v1::Registration r2, Register(t, s.id(), rest[2]));
  EXPECT_EQ(r2.waitlist_position(), 2);

  ASSERT_OK_AND_ASSIGN(v1::ListRegistrationsResponse list, List(t, s.id()));
  EXPECT_THAT(Participants(list.registrations()),
              ElementsAre(a, rest[0], rest[1], rest[2]));
  EXPECT_EQ(list.capacity(), 2);
  EXPECT_EQ(list.confirmed_count(), 2);
  EXPECT_EQ(list.waitlisted_count(), 2);
  EXPECT_EQ(list.registrations(3).waitlist_position(), 2);
  EXPECT_THAT(FeedKinds(t), ::testing::Contains("registration.created"));
}

TEST(RegistrationTest, UnlimitedCapacityConfirmsEveryone) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t, {.capacity = 0}));
  for (const std::string& p : NewParticipants(t, 5)) {
    ASSERT_OK_AND_ASSIGN(v1::Registration r, Register(t, s.id(), p));
    EXPECT_EQ(r.status(), v1::REGISTRATION_STATUS_CONFIRMED);
  }
}

TEST(RegistrationTest, RegisterRefusals) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t, {.capacity = 1}));
  std::vector<std::string> p = NewParticipants(t, 2);

  EXPECT_THAT(Register(t, s.id(), "no-such-person"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("participant")));
  EXPECT_THAT(Register(t, s.id(), "bad id!"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("participant_id")));
  EXPECT_THAT(Register(t, "nosuchsession", p[0]),
              HasCode(absl::StatusCode::kNotFound));
  RegisterOptions bad_role;
  bad_role.role = static_cast<v1::SessionRole>(42);
  EXPECT_THAT(Register(t, s.id(), p[0], bad_role),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("role")));

  ASSERT_OK_AND_ASSIGN(v1::Registration r, Register(t, s.id(), p[0]));
  EXPECT_THAT(
      Register(t, s.id(), p[0]),
      StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("CONFIRMED")));
  ASSERT_OK_AND_ASSIGN(v1::Registration w, Register(t, s.id(), p[1]));
  EXPECT_THAT(
      Register(t, s.id(), p[1]),
      StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("WAITLISTED")));

  // Ended and cancelled sessions take no registrations.
  ASSERT_OK_AND_ASSIGN(v1::Session ended, NewSession(t));
  ASSERT_TRUE(Start(t, ended.id()).ok());
  ASSERT_TRUE(End(t, ended.id()).ok());
  EXPECT_THAT(
      Register(t, ended.id(), p[0]),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("ENDED")));
  ASSERT_OK_AND_ASSIGN(v1::Session cancelled, NewSession(t));
  ASSERT_TRUE(CancelSession(t, cancelled.id()).ok());
  EXPECT_THAT(
      Register(t, cancelled.id(), p[0]),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("CANCELLED")));
}

TEST(RegistrationTest, AnotherTenantsSessionAndParticipantAreNotFound) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(Tenant other, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t));
  std::string p = NewParticipant(t, "Aziza");
  std::string theirs = NewParticipant(other, "Bobur");
  EXPECT_THAT(Register(other, s.id(), theirs),
              HasCode(absl::StatusCode::kNotFound));
  EXPECT_THAT(Register(t, s.id(), theirs),
              HasCode(absl::StatusCode::kNotFound));
  ASSERT_TRUE(Register(t, s.id(), p).ok());
  EXPECT_THAT(Get(other, s.id(), p), HasCode(absl::StatusCode::kNotFound));
}

TEST(RegistrationTest, CancelledParticipantMayRegisterAgainAsANewArrival) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t, {.capacity = 1}));
  std::vector<std::string> p = NewParticipants(t, 3);
  ASSERT_TRUE(Register(t, s.id(), p[0]).ok());
  ASSERT_TRUE(Register(t, s.id(), p[1]).ok());  // waitlisted
  ASSERT_TRUE(Register(t, s.id(), p[2]).ok());  // waitlisted
  ASSERT_OK_AND_ASSIGN(v1::CancelRegistrationResponse cancelled,
                       Cancel(t, s.id(), p[0]));
  EXPECT_EQ(cancelled.promoted().participant_id(), p[1]);

  // Back at the end of the line: after p[2], arrived later than everyone.
  ASSERT_OK_AND_ASSIGN(v1::Registration again, Register(t, s.id(), p[0]));
  EXPECT_EQ(again.status(), v1::REGISTRATION_STATUS_WAITLISTED);
  EXPECT_EQ(again.waitlist_position(), 2);
  EXPECT_TRUE(again.cancel_reason().empty());
  ASSERT_OK_AND_ASSIGN(v1::ListRegistrationsResponse list, List(t, s.id()));
  EXPECT_THAT(Participants(list.registrations()),
              ElementsAre(p[1], p[2], p[0]));
}

TEST(RegistrationTest, WaitlistIsPromotedWhenCapacityGrows) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t, {.capacity = 1}));
  std::vector<std::string> p = NewParticipants(t, 4);
  ASSERT_TRUE(Register(t, s.id(), p[0]).ok());
  ASSERT_TRUE(Register(t, s.id(), p[1]).ok());
  ASSERT_TRUE(Register(t, s.id(), p[2]).ok());
  ASSERT_TRUE(SetCapacity(t, s.id(), 2).ok());
  // The new arrival does not jump the line: p[1] takes the new seat first.
  ASSERT_OK_AND_ASSIGN(v1::Registration r3, Register(t, s.id(), p[3]));
  EXPECT_EQ(r3.status(), v1::REGISTRATION_STATUS_WAITLISTED);
  EXPECT_EQ(r3.waitlist_position(), 2);
  ASSERT_OK_AND_ASSIGN(v1::Registration r1, Get(t, s.id(), p[1]));
  EXPECT_EQ(r1.status(), v1::REGISTRATION_STATUS_CONFIRMED);
  ASSERT_OK_AND_ASSIGN(v1::Registration r2, Get(t, s.id(), p[2]));
  EXPECT_EQ(r2.waitlist_position(), 1);
  EXPECT_THAT(FeedKinds(t), ::testing::Contains("registration.promoted"));
}

// ---- Idempotency ---------------------------------------------------------

TEST(RegistrationTest, RetryWithTheSameRequestIdRegistersOnce) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t, {.capacity = 5}));
  std::string p = NewParticipant(t, "Aziza");
  ASSERT_OK_AND_ASSIGN(v1::Registration first,
                       Register(t, s.id(), p, WithRequestId("req-1")));
  ASSERT_OK_AND_ASSIGN(v1::Registration retry,
                       Register(t, s.id(), p, WithRequestId("req-1")));
  EXPECT_EQ(retry.participant_id(), first.participant_id());
  EXPECT_EQ(retry.status(), first.status());
  EXPECT_EQ(retry.create_time().seconds(), first.create_time().seconds());
  EXPECT_EQ(retry.create_time().nanos(), first.create_time().nanos());
  // Without the request id it is a second registration attempt.
  EXPECT_THAT(Register(t, s.id(), p),
              HasCode(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(
      Register(t, s.id(), p, WithRequestId("bad id é")),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("request_id")));
}

TEST(RegistrationTest, ConcurrentRetriesRegisterOnce) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t, {.capacity = 1}));
  std::string p = NewParticipant(t, "Aziza");
  constexpr int kRetries = 8;
  std::vector<absl::StatusOr<v1::Registration>> results(kRetries);
  std::vector<std::thread> threads;
  for (int i = 0; i < kRetries; ++i) {
    threads.emplace_back([&t, &s, &p, &results, i] {
      results[i] = Register(t, s.id(), p, WithRequestId("same-request"));
    });
  }
  for (std::thread& th : threads) th.join();
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->participant_id(), p);
    EXPECT_EQ(r->status(), v1::REGISTRATION_STATUS_CONFIRMED);
  }
  ASSERT_OK_AND_ASSIGN(v1::ListRegistrationsResponse list, List(t, s.id()));
  EXPECT_THAT(list.registrations(), SizeIs(1));
  EXPECT_EQ(list.confirmed_count(), 1);
}

// ---- Self-registration and approval ---------------------------------------

TEST(RegistrationTest, ApiKeyRegistrationIsPendingUntilApproved) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t, {.capacity = 1}));
  std::vector<std::string> p = NewParticipants(t, 3);
  RegisterOptions portal;
  portal.token = PortalKey(t);

  ASSERT_OK_AND_ASSIGN(v1::Registration r0, Register(t, s.id(), p[0], portal));
  EXPECT_EQ(r0.status(), v1::REGISTRATION_STATUS_PENDING);
  EXPECT_TRUE(r0.self_registered());
  ASSERT_OK_AND_ASSIGN(v1::Registration r1, Register(t, s.id(), p[1], portal));
  EXPECT_EQ(r1.status(), v1::REGISTRATION_STATUS_PENDING);
  ASSERT_OK_AND_ASSIGN(v1::Registration r2, Register(t, s.id(), p[2], portal));

  RegisterOptions portal_moderator = portal;
  portal_moderator.role = v1::SESSION_ROLE_MODERATOR;
  std::string q = NewParticipant(t, "Dilshod");
  EXPECT_THAT(Register(t, s.id(), q, portal_moderator),
              HasCode(absl::StatusCode::kPermissionDenied));
  RegisterOptions portal_participant = portal;
  portal_participant.role = v1::SESSION_ROLE_PARTICIPANT;
  EXPECT_TRUE(Register(t, s.id(), q, portal_participant).ok());

  ASSERT_OK_AND_ASSIGN(v1::ListRegistrationsResponse pending,
                       List(t, s.id(), {v1::REGISTRATION_STATUS_PENDING}));
  EXPECT_THAT(pending.registrations(), SizeIs(4));
  EXPECT_EQ(pending.confirmed_count(), 0);

  // Approval order decides seats and the waitlist, not arrival.
  ASSERT_OK_AND_ASSIGN(v1::Registration a2, Approve(t, s.id(), p[2]));
  EXPECT_EQ(a2.status(), v1::REGISTRATION_STATUS_CONFIRMED);
  EXPECT_TRUE(a2.self_registered());
  ASSERT_OK_AND_ASSIGN(v1::Registration a1, Approve(t, s.id(), p[1]));
  EXPECT_EQ(a1.status(), v1::REGISTRATION_STATUS_WAITLISTED);
  EXPECT_EQ(a1.waitlist_position(), 1);
  ASSERT_OK_AND_ASSIGN(v1::Registration a0, Approve(t, s.id(), p[0]));
  EXPECT_EQ(a0.waitlist_position(), 2);

  EXPECT_THAT(
      Approve(t, s.id(), p[2]),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("CONFIRMED")));
  EXPECT_THAT(
      Approve(t, s.id(), p[1]),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("WAITLISTED")));
  EXPECT_THAT(Approve(t, s.id(), "nobody"),
              HasCode(absl::StatusCode::kNotFound));

  // Rejecting a pending one is cancelling it.
  ASSERT_OK_AND_ASSIGN(v1::CancelRegistrationResponse rejected,
                       Cancel(t, s.id(), q, "not eligible"));
  EXPECT_EQ(rejected.registration().status(),
            v1::REGISTRATION_STATUS_CANCELLED);
  EXPECT_FALSE(rejected.has_promoted());
  EXPECT_THAT(FeedKinds(t), ::testing::Contains("registration.approved"));
}

// ---- Organizations: quotas and substitutes -------------------------------

TEST(RegistrationTest, CancelPromotesTheFirstWaitlisted) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t, {.capacity = 1}));
  std::vector<std::string> p = NewParticipants(t, 3);
  for (const std::string& id : p) ASSERT_TRUE(Register(t, s.id(), id).ok());
  ASSERT_OK_AND_ASSIGN(v1::CancelRegistrationResponse c,
                       Cancel(t, s.id(), p[0], "travel"));
  EXPECT_EQ(c.registration().status(), v1::REGISTRATION_STATUS_CANCELLED);
  EXPECT_EQ(c.registration().cancel_reason(), "travel");
  EXPECT_EQ(c.promoted().participant_id(), p[1]);
  EXPECT_EQ(c.promoted().status(), v1::REGISTRATION_STATUS_CONFIRMED);
  ASSERT_OK_AND_ASSIGN(v1::Registration last, Get(t, s.id(), p[2]));
  EXPECT_EQ(last.waitlist_position(), 1);

  // A waitlisted one cancelling frees no seat.
  ASSERT_OK_AND_ASSIGN(c, Cancel(t, s.id(), p[2]));
  EXPECT_FALSE(c.has_promoted());

  EXPECT_THAT(
      Cancel(t, s.id(), p[0]),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("CANCELLED")));
  EXPECT_THAT(Cancel(t, s.id(), "nobody"),
              HasCode(absl::StatusCode::kNotFound));
  EXPECT_THAT(
      Cancel(t, s.id(), p[1], std::string(501, 'x')),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("reason")));
  EXPECT_TRUE(Cancel(t, s.id(), p[1], std::string(500, 'x')).ok());

  ASSERT_OK_AND_ASSIGN(v1::ListRegistrationsResponse cancelled,
                       List(t, s.id(), {v1::REGISTRATION_STATUS_CANCELLED}));
  EXPECT_THAT(cancelled.registrations(), SizeIs(3));
  EXPECT_EQ(cancelled.confirmed_count(), 0);
  EXPECT_THAT(FeedKinds(t), ::testing::Contains("registration.cancelled"));
}

// ---- Roles ------------------------------------------------------------------

TEST(RegistrationTest, SetRoleChangesTheRole) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t));
  std::vector<std::string> p = NewParticipants(t, 2);
  ASSERT_OK_AND_ASSIGN(
      v1::Registration r,
      Register(t, s.id(), p[0], WithRole(v1::SESSION_ROLE_SPEAKER)));
  EXPECT_EQ(r.role(), v1::SESSION_ROLE_SPEAKER);
  ASSERT_OK_AND_ASSIGN(r, SetRole(t, s.id(), p[0], v1::SESSION_ROLE_MODERATOR));
  EXPECT_EQ(r.role(), v1::SESSION_ROLE_MODERATOR);
  ASSERT_OK_AND_ASSIGN(r, Get(t, s.id(), p[0]));
  EXPECT_EQ(r.role(), v1::SESSION_ROLE_MODERATOR);

  EXPECT_THAT(SetRole(t, s.id(), p[0], v1::SESSION_ROLE_UNSPECIFIED),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("role")));
  EXPECT_THAT(SetRole(t, s.id(), p[1], v1::SESSION_ROLE_OBSERVER),
              HasCode(absl::StatusCode::kNotFound));
  ASSERT_TRUE(Register(t, s.id(), p[1]).ok());
  ASSERT_TRUE(Cancel(t, s.id(), p[1]).ok());
  EXPECT_THAT(
      SetRole(t, s.id(), p[1], v1::SESSION_ROLE_OBSERVER),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("CANCELLED")));
  EXPECT_THAT(FeedKinds(t), ::testing::Contains("registration.role"));
}

// ---- Reads ------------------------------------------------------------------

TEST(RegistrationTest, GetAndListWithFiltersAndPages) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t, {.capacity = 3}));
  std::vector<std::string> p = NewParticipants(t, 7);
  for (const std::string& id : p) ASSERT_TRUE(Register(t, s.id(), id).ok());
  ASSERT_TRUE(Cancel(t, s.id(), p[1]).ok());  // p[3] promoted

  EXPECT_THAT(
      Get(t, s.id(), NewParticipant(t, "Unregistered")),
      StatusIs(absl::StatusCode::kNotFound, HasSubstr("not registered")));

  // Pages of 2 cover everyone once, in arrival order.
  std::vector<std::string> seen;
  std::string token;
  for (int page = 0; page < 10; ++page) {
    ASSERT_OK_AND_ASSIGN(v1::ListRegistrationsResponse list,
                         List(t, s.id(), {}, 2, token));
    EXPECT_LE(list.registrations_size(), 2);
    for (const auto& r : list.registrations())
      seen.push_back(r.participant_id());
    token = list.next_page_token();
    if (token.empty()) break;
  }
  EXPECT_EQ(seen, p);

  ASSERT_OK_AND_ASSIGN(v1::ListRegistrationsResponse waiting,
                       List(t, s.id(), {v1::REGISTRATION_STATUS_WAITLISTED}));
  EXPECT_THAT(Participants(waiting.registrations()),
              ElementsAre(p[4], p[5], p[6]));
  std::vector<int> positions;
  for (const auto& r : waiting.registrations()) {
    positions.push_back(r.waitlist_position());
  }
  EXPECT_THAT(positions, ElementsAre(1, 2, 3));
  EXPECT_EQ(waiting.confirmed_count(), 3);
  EXPECT_EQ(waiting.waitlisted_count(), 3);

  ASSERT_OK_AND_ASSIGN(v1::ListRegistrationsResponse two,
                       List(t, s.id(),
                            {v1::REGISTRATION_STATUS_CONFIRMED,
                             v1::REGISTRATION_STATUS_CANCELLED}));
  EXPECT_THAT(Participants(two.registrations()),
              ElementsAre(p[0], p[1], p[2], p[3]));

  EXPECT_THAT(
      List(t, s.id(), {}, 0, "garbage"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")));
  EXPECT_THAT(List(t, s.id(), {static_cast<v1::RegistrationStatus>(9)}),
              HasCode(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(List(t, s.id(), {}, -1),
              HasCode(absl::StatusCode::kInvalidArgument));

  ASSERT_OK_AND_ASSIGN(v1::Session empty, NewSession(t, {.capacity = 4}));
  ASSERT_OK_AND_ASSIGN(v1::ListRegistrationsResponse none, List(t, empty.id()));
  EXPECT_THAT(none.registrations(), SizeIs(0));
  EXPECT_EQ(none.capacity(), 4);
  EXPECT_TRUE(none.next_page_token().empty());
}

TEST(RegistrationTest, ReadsNameTheOrganizationAlsoForAModerator) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t));
  std::string org = NewOrganization(t, "Qozon oʻzbek madaniyat markazi");
  std::string delegate = NewParticipant(t, "Dilnoza Karimova", org);
  std::string alone = NewParticipant(t, "Ирина Петрова");
  std::string moderator = NewParticipant(t, "Moderator Aziza");
  ASSERT_TRUE(Register(t, s.id(), delegate).ok());
  ASSERT_TRUE(Register(t, s.id(), alone).ok());
  ASSERT_TRUE(
      Register(t, s.id(), moderator, WithRole(v1::SESSION_ROLE_MODERATOR))
          .ok());
  ASSERT_OK_AND_ASSIGN(v1::IssueJoinTokenResponse token,
                       IssueJoinToken(t, s.id(), moderator));
  TownhallClient as_moderator =
      ServerEnvironment::server().Client(token.token());
  // The directory is the organizers'; the registrations name whom each
  // participant represents.
  v1::GetOrganizationRequest get_org;
  get_org.set_organization_id(org);
  EXPECT_THAT(as_moderator.GetOrganization(get_org),
              HasCode(absl::StatusCode::kPermissionDenied));
  v1::ListRegistrationsRequest list;
  list.set_session_id(s.id());
  ASSERT_OK_AND_ASSIGN(v1::ListRegistrationsResponse listed,
                       as_moderator.ListRegistrations(list));
  std::vector<std::string> rows;
  for (const v1::Registration& r : listed.registrations()) {
    rows.push_back(r.participant_display_name() + " / " +
                   r.organization_name());
  }
  EXPECT_THAT(rows,
              ElementsAre("Dilnoza Karimova / Qozon oʻzbek madaniyat markazi",
                          "Ирина Петрова / ", "Moderator Aziza / "));
  ASSERT_OK_AND_ASSIGN(v1::Registration one, Get(t, s.id(), delegate));
  EXPECT_EQ(one.organization_name(), "Qozon oʻzbek madaniyat markazi");
}

// ---- Join tokens ------------------------------------------------------------

TEST(RegistrationTest, RegisterForSeriesCoversUpcomingOccurrencesInOrder) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Session> occ, NewSeries(t, 4, 1));
  ASSERT_THAT(occ, SizeIs(4));
  const std::string& series = occ[0].series_id();
  std::vector<std::string> p = NewParticipants(t, 2);
  // The first occurrence has ended, the last is cancelled: neither is
  // upcoming.
  ASSERT_TRUE(Start(t, occ[0].id()).ok());
  ASSERT_TRUE(End(t, occ[0].id()).ok());
  ASSERT_TRUE(CancelSession(t, occ[3].id()).ok());
  // p[1] already holds the only seat of the third occurrence.
  ASSERT_TRUE(Register(t, occ[2].id(), p[1]).ok());
  ASSERT_TRUE(Register(t, occ[1].id(), p[0]).ok());

  ASSERT_OK_AND_ASSIGN(v1::RegisterForSeriesResponse r,
                       RegisterForSeries(t, series, p[1], "series-1"));
  ASSERT_THAT(r.registrations(), SizeIs(2));
  EXPECT_EQ(r.registrations(0).session_id(), occ[1].id());
  EXPECT_EQ(r.registrations(0).status(), v1::REGISTRATION_STATUS_WAITLISTED);
  // Already registered: the existing registration, not an error.
  EXPECT_EQ(r.registrations(1).session_id(), occ[2].id());
  EXPECT_EQ(r.registrations(1).status(), v1::REGISTRATION_STATUS_CONFIRMED);

  // A retry answers the same; a new request finds them all registered.
  ASSERT_OK_AND_ASSIGN(v1::RegisterForSeriesResponse retry,
                       RegisterForSeries(t, series, p[1], "series-1"));
  ASSERT_THAT(retry.registrations(), SizeIs(2));
  EXPECT_EQ(retry.registrations(0).waitlist_position(), 1);
  ASSERT_OK_AND_ASSIGN(v1::RegisterForSeriesResponse again,
                       RegisterForSeries(t, series, p[1]));
  EXPECT_THAT(again.registrations(), SizeIs(2));
  ASSERT_OK_AND_ASSIGN(v1::ListRegistrationsResponse list,
                       List(t, occ[1].id()));
  EXPECT_THAT(list.registrations(), SizeIs(2));

  EXPECT_THAT(RegisterForSeries(t, series, "nobody"),
              HasCode(absl::StatusCode::kNotFound));
  EXPECT_THAT(RegisterForSeries(t, "nosuchseries", p[0]),
              HasCode(absl::StatusCode::kNotFound));
}

// ---- Attendance -------------------------------------------------------------

}  // namespace
}  // namespace townhall::testing::registration_test
