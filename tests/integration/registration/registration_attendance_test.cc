// Integration tests of attendance: joining and leaving online, the
// attendance window, check-in at the venue and series attendance by
// organization.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/integration/registration/registration_test_util.h"

namespace townhall::testing::registration_test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(RegistrationTest, OnlineJoinLeaveAndReport) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  // Scheduled to start within the next 2 hours: joining is open.
  ASSERT_OK_AND_ASSIGN(
      v1::Session s,
      NewSession(t, {.capacity = 3, .start = absl::Now() + absl::Minutes(30)}));
  std::vector<std::string> p = NewParticipants(t, 4);
  for (const std::string& id : p) ASSERT_TRUE(Register(t, s.id(), id).ok());

  ASSERT_OK_AND_ASSIGN(v1::AttendanceRecord joined,
                       Attend(t, s.id(), p[1], v1::ATTENDANCE_ACTION_JOIN));
  EXPECT_TRUE(joined.online_now());
  EXPECT_TRUE(joined.has_first_seen_time());
  EXPECT_EQ(joined.participant_display_name(), "Person 1");
  // A second JOIN while online changes nothing.
  ASSERT_OK_AND_ASSIGN(v1::AttendanceRecord twice,
                       Attend(t, s.id(), p[1], v1::ATTENDANCE_ACTION_JOIN));
  EXPECT_EQ(FromTs(twice.first_seen_time()), FromTs(joined.first_seen_time()));
  absl::SleepFor(absl::Milliseconds(300));
  ASSERT_OK_AND_ASSIGN(v1::AttendanceRecord left,
                       Attend(t, s.id(), p[1], v1::ATTENDANCE_ACTION_LEAVE));
  EXPECT_FALSE(left.online_now());
  absl::Duration first_stint =
      absl::Seconds(left.online_duration().seconds()) +
      absl::Nanoseconds(left.online_duration().nanos());
  EXPECT_GE(first_stint, absl::Milliseconds(300));
  EXPECT_THAT(
      Attend(t, s.id(), p[1], v1::ATTENDANCE_ACTION_LEAVE),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("not joined")));
  EXPECT_THAT(Attend(t, s.id(), p[1], v1::ATTENDANCE_ACTION_CHECK_IN),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("online only")));
  EXPECT_THAT(Attend(t, s.id(), p[1], v1::ATTENDANCE_ACTION_UNSPECIFIED),
              HasCode(absl::StatusCode::kInvalidArgument));

  // The participant's own join token may record their own attendance only.
  ASSERT_OK_AND_ASSIGN(v1::IssueJoinTokenResponse token,
                       IssueJoinToken(t, s.id(), p[0]));
  ASSERT_TRUE(
      Attend(t, s.id(), p[0], v1::ATTENDANCE_ACTION_JOIN, "", token.token())
          .ok());
  EXPECT_THAT(
      Attend(t, s.id(), p[2], v1::ATTENDANCE_ACTION_JOIN, "", token.token()),
      HasCode(absl::StatusCode::kPermissionDenied));
  // Rejoining adds to the online time.
  ASSERT_TRUE(Attend(t, s.id(), p[1], v1::ATTENDANCE_ACTION_JOIN).ok());

  // Waitlisted: no attendance.
  EXPECT_THAT(
      Attend(t, s.id(), p[3], v1::ATTENDANCE_ACTION_JOIN),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("WAITLISTED")));
  EXPECT_THAT(Attend(t, s.id(), "nobody", v1::ATTENDANCE_ACTION_JOIN),
              HasCode(absl::StatusCode::kNotFound));

  absl::SleepFor(absl::Milliseconds(200));
  ASSERT_OK_AND_ASSIGN(v1::GetAttendanceReportResponse report,
                       t.client.GetAttendanceReport([&] {
                         v1::GetAttendanceReportRequest r;
                         r.set_session_id(s.id());
                         return r;
                       }()));
  EXPECT_EQ(report.registered_count(), 3);
  EXPECT_EQ(report.attended_count(), 2);
  ASSERT_THAT(report.records(), SizeIs(2));
  EXPECT_EQ(report.records(0).participant_id(), p[1]);  // first to appear
  EXPECT_EQ(report.records(1).participant_id(), p[0]);
  EXPECT_TRUE(report.records(0).online_now());
  absl::Duration total =
      absl::Seconds(report.records(0).online_duration().seconds()) +
      absl::Nanoseconds(report.records(0).online_duration().nanos());
  // Closed stint plus the open one counted up to the report.
  EXPECT_GE(total, first_stint + absl::Milliseconds(200));
  EXPECT_THAT(FeedKinds(t), ::testing::Contains("attendance.joined"));
}

TEST(RegistrationTest, AttendanceWindowAndIdempotency) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session later,
                       NewSession(t, {.start = absl::Now() + absl::Hours(5)}));
  std::string p = NewParticipant(t, "Aziza");
  ASSERT_TRUE(Register(t, later.id(), p).ok());
  EXPECT_THAT(
      Attend(t, later.id(), p, v1::ATTENDANCE_ACTION_JOIN),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("2 hours")));
  // Live: open whatever the clock says.
  ASSERT_TRUE(Start(t, later.id()).ok());
  ASSERT_OK_AND_ASSIGN(
      v1::AttendanceRecord joined,
      Attend(t, later.id(), p, v1::ATTENDANCE_ACTION_JOIN, "join-1"));
  ASSERT_TRUE(Attend(t, later.id(), p, v1::ATTENDANCE_ACTION_LEAVE).ok());
  // The same JOIN again (a retry) records nothing new: still offline.
  ASSERT_OK_AND_ASSIGN(
      v1::AttendanceRecord retried,
      Attend(t, later.id(), p, v1::ATTENDANCE_ACTION_JOIN, "join-1"));
  EXPECT_FALSE(retried.online_now());
  // Ended: no more joining, but an open JOIN may still be closed.
  ASSERT_TRUE(Attend(t, later.id(), p, v1::ATTENDANCE_ACTION_JOIN).ok());
  ASSERT_TRUE(End(t, later.id()).ok());
  EXPECT_TRUE(Attend(t, later.id(), p, v1::ATTENDANCE_ACTION_LEAVE).ok());
  EXPECT_THAT(
      Attend(t, later.id(), p, v1::ATTENDANCE_ACTION_JOIN),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("ENDED")));

  ASSERT_OK_AND_ASSIGN(v1::Session draft,
                       NewSession(t, {.start = absl::Now() + absl::Minutes(10),
                                      .publish = false}));
  ASSERT_TRUE(Register(t, draft.id(), p).ok());
  EXPECT_THAT(
      Attend(t, draft.id(), p, v1::ATTENDANCE_ACTION_JOIN),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("DRAFT")));
}

TEST(RegistrationTest, CheckInAtTheVenue) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session in_person,
                       NewSession(t, {.format = v1::SESSION_FORMAT_IN_PERSON,
                                      .start = absl::Now() + absl::Hours(1)}));
  ASSERT_OK_AND_ASSIGN(v1::Session hybrid,
                       NewSession(t, {.format = v1::SESSION_FORMAT_HYBRID}));
  std::string p = NewParticipant(t, "Aziza");
  ASSERT_TRUE(Register(t, in_person.id(), p).ok());
  ASSERT_TRUE(Register(t, hybrid.id(), p).ok());

  ASSERT_OK_AND_ASSIGN(
      v1::AttendanceRecord checked,
      Attend(t, in_person.id(), p, v1::ATTENDANCE_ACTION_CHECK_IN));
  EXPECT_TRUE(checked.has_check_in_time());
  EXPECT_TRUE(checked.has_first_seen_time());
  EXPECT_FALSE(checked.online_now());
  EXPECT_THAT(Attend(t, in_person.id(), p, v1::ATTENDANCE_ACTION_JOIN),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("in person only")));
  EXPECT_THAT(Attend(t, in_person.id(), p, v1::ATTENDANCE_ACTION_LEAVE),
              HasCode(absl::StatusCode::kFailedPrecondition));

  // Hybrid takes both, once live.
  ASSERT_TRUE(Start(t, hybrid.id()).ok());
  ASSERT_TRUE(Attend(t, hybrid.id(), p, v1::ATTENDANCE_ACTION_CHECK_IN).ok());
  ASSERT_OK_AND_ASSIGN(v1::AttendanceRecord both,
                       Attend(t, hybrid.id(), p, v1::ATTENDANCE_ACTION_JOIN));
  EXPECT_TRUE(both.online_now());
  EXPECT_TRUE(both.has_check_in_time());
}

TEST(RegistrationTest, SeriesAttendanceByOrganization) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Session> occ, NewSeries(t, 3));
  ASSERT_THAT(occ, SizeIs(3));
  const std::string& series = occ[0].series_id();
  std::string berlin = NewOrganization(t, "Berlin Society");
  std::string paris = NewOrganization(t, "Paris Mission");
  std::string aachen = NewOrganization(t, "Aachen Students");
  std::string b1 = NewParticipant(t, "B1", berlin);
  std::string b2 = NewParticipant(t, "B2", berlin);
  std::string p1 = NewParticipant(t, "P1", paris);
  std::string a1 = NewParticipant(t, "A1", aachen);
  std::string solo = NewParticipant(t, "Solo");
  for (const std::string& id : {b1, b2, p1, a1, solo}) {
    ASSERT_TRUE(RegisterForSeries(t, series, id).ok());
  }

  // Occurrence 1: Berlin (twice over) and the individual attend.
  ASSERT_TRUE(Start(t, occ[0].id()).ok());
  ASSERT_TRUE(Attend(t, occ[0].id(), b1, v1::ATTENDANCE_ACTION_JOIN).ok());
  ASSERT_TRUE(Attend(t, occ[0].id(), b2, v1::ATTENDANCE_ACTION_JOIN).ok());
  ASSERT_TRUE(Attend(t, occ[0].id(), solo, v1::ATTENDANCE_ACTION_JOIN).ok());
  ASSERT_TRUE(End(t, occ[0].id()).ok());
  // Occurrence 2: Berlin and Paris; still live.
  ASSERT_TRUE(Start(t, occ[1].id()).ok());
  ASSERT_TRUE(Attend(t, occ[1].id(), b2, v1::ATTENDANCE_ACTION_JOIN).ok());
  ASSERT_TRUE(Attend(t, occ[1].id(), p1, v1::ATTENDANCE_ACTION_JOIN).ok());
  ASSERT_TRUE(Attend(t, occ[1].id(), p1, v1::ATTENDANCE_ACTION_LEAVE).ok());
  // Occurrence 3 has not taken place.

  v1::GetSeriesAttendanceRequest request;
  request.set_series_id(series);
  ASSERT_OK_AND_ASSIGN(v1::GetSeriesAttendanceResponse report,
                       t.client.GetSeriesAttendance(request));
  EXPECT_EQ(report.occurrences_total(), 2);
  ASSERT_THAT(report.organizations(), SizeIs(3));
  EXPECT_EQ(report.organizations(0).organization_id(), berlin);
  EXPECT_EQ(report.organizations(0).organization_name(), "Berlin Society");
  EXPECT_EQ(report.organizations(0).occurrences_attended(), 2);
  EXPECT_EQ(report.organizations(0).occurrences_total(), 2);
  EXPECT_THAT(report.organizations(0).session_ids(),
              ElementsAre(occ[0].id(), occ[1].id()));
  EXPECT_EQ(report.organizations(1).organization_id(), paris);
  EXPECT_EQ(report.organizations(1).occurrences_attended(), 1);
  EXPECT_THAT(report.organizations(1).session_ids(), ElementsAre(occ[1].id()));
  // Registered, never came: listed with 0.
  EXPECT_EQ(report.organizations(2).organization_id(), aachen);
  EXPECT_EQ(report.organizations(2).organization_name(), "Aachen Students");
  EXPECT_EQ(report.organizations(2).occurrences_attended(), 0);
  EXPECT_THAT(report.organizations(2).session_ids(), SizeIs(0));

  v1::GetAttendanceReportRequest one;
  one.set_session_id(occ[0].id());
  ASSERT_OK_AND_ASSIGN(v1::GetAttendanceReportResponse first,
                       t.client.GetAttendanceReport(one));
  EXPECT_EQ(first.registered_count(), 5);
  EXPECT_EQ(first.attended_count(), 3);
  EXPECT_EQ(first.records(0).participant_id(), b1);
  EXPECT_EQ(first.records(0).organization_id(), berlin);
}

}  // namespace
}  // namespace townhall::testing::registration_test
