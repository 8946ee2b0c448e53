#include "services/registration/registration_rules.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/proto_time.h"

namespace townhall::registration {
namespace {

using ::testing::HasSubstr;

const absl::Time kStart = absl::FromUnixSeconds(1'800'000'000);

v1::Session MakeSession(v1::SessionState state,
                        v1::SessionFormat format = v1::SESSION_FORMAT_HYBRID) {
  v1::Session session;
  session.set_id("s1");
  session.set_state(state);
  session.set_format(format);
  SetTime(kStart, session.mutable_start_time());
  SetDuration(absl::Hours(1), session.mutable_duration());
  return session;
}

Principal Caller(Role role) {
  Principal caller;
  caller.tenant_id = "t1";
  caller.role = role;
  return caller;
}

TEST(NamesTest, DropEnumPrefixes) {
  EXPECT_EQ(StatusName(v1::REGISTRATION_STATUS_WAITLISTED), "WAITLISTED");
  EXPECT_EQ(StateName(v1::SESSION_STATE_LIVE), "LIVE");
  EXPECT_EQ(ToInt("42"), 42);
  EXPECT_EQ(ToInt("x"), 0);
}

TEST(ClosedRefusalTest, EndedAndCancelledSessionsAreClosed) {
  EXPECT_EQ(ClosedRefusal(MakeSession(v1::SESSION_STATE_SCHEDULED)), "");
  EXPECT_EQ(ClosedRefusal(MakeSession(v1::SESSION_STATE_LIVE)), "");
  EXPECT_THAT(ClosedRefusal(MakeSession(v1::SESSION_STATE_ENDED)),
              HasSubstr("session s1 is ENDED"));
  EXPECT_TRUE(IsOver(MakeSession(v1::SESSION_STATE_CANCELLED)));
  EXPECT_EQ(SessionEnd(MakeSession(v1::SESSION_STATE_LIVE)),
            kStart + absl::Hours(1));
}

TEST(CheckRegistrarTest, OrganizersAssignAnyRole) {
  auto role =
      CheckRegistrar(Caller(Role::kOrganizer), v1::SESSION_ROLE_SPEAKER);
  ASSERT_TRUE(role.ok());
  EXPECT_EQ(*role, v1::SESSION_ROLE_SPEAKER);
  role = CheckRegistrar(Caller(Role::kOrganizer), v1::SESSION_ROLE_UNSPECIFIED);
  ASSERT_TRUE(role.ok());
  EXPECT_EQ(*role, v1::SESSION_ROLE_PARTICIPANT);
}

TEST(CheckRegistrarTest, ApiKeysRegisterParticipantsOnly) {
  EXPECT_TRUE(CheckRegistrar(Caller(Role::kApiClient), 0).ok());
  EXPECT_EQ(CheckRegistrar(Caller(Role::kApiClient), v1::SESSION_ROLE_MODERATOR)
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(CheckRegistrar(Caller(Role::kParticipant), 0).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(CheckRegistrar(Caller(Role::kOrganizer), 999).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ValidateDelegationTest, KnownValuesOnly) {
  EXPECT_TRUE(ValidateDelegation(v1::DELEGATION_DELEGATE).ok());
  EXPECT_FALSE(ValidateDelegation(999).ok());
}

TEST(TokenRoleTest, MapsSessionRoles) {
  EXPECT_EQ(TokenRole(v1::SESSION_ROLE_ORGANIZER), Role::kSessionOrganizer);
  EXPECT_EQ(TokenRole(v1::SESSION_ROLE_MODERATOR), Role::kModerator);
  EXPECT_EQ(TokenRole(v1::SESSION_ROLE_SPEAKER), Role::kSpeaker);
  EXPECT_EQ(TokenRole(v1::SESSION_ROLE_OBSERVER), Role::kObserver);
  EXPECT_EQ(TokenRole(v1::SESSION_ROLE_PARTICIPANT), Role::kParticipant);
}

TEST(DelegationRefusalTest, NamesTheOrganization) {
  absl::Status not_invited = DelegationRefusal({"NOT_INVITED", {"org1"}}, "s1");
  EXPECT_EQ(not_invited.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(not_invited.message(),
              HasSubstr("organization org1 is not invited to session s1"));
  EXPECT_THAT(DelegationRefusal({"NOT_INVITED", {""}}, "s1").message(),
              HasSubstr("belongs to no organization"));
  absl::Status quota = DelegationRefusal({"QUOTA_FULL", {"3", "org1"}}, "s1");
  EXPECT_EQ(quota.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(quota.message(), HasSubstr("org1 has used all 3"));
  EXPECT_THAT(
      DelegationRefusal({"STANDBY_FULL", {"2", "org1"}}, "s1").message(),
      HasSubstr("org1 already has 2 substitutes"));
  EXPECT_TRUE(DelegationRefusal({"OK", {}}, "s1").ok());
  EXPECT_EQ(DelegationRefusal({"QUOTA_FULL", {}}, "s1").code(),
            absl::StatusCode::kInternal);
}

TEST(AttendanceRefusalTest, FormatDecidesTheActions) {
  v1::Session online =
      MakeSession(v1::SESSION_STATE_LIVE, v1::SESSION_FORMAT_ONLINE);
  EXPECT_EQ(AttendanceRefusal(online, v1::ATTENDANCE_ACTION_JOIN, kStart), "");
  EXPECT_THAT(AttendanceRefusal(online, v1::ATTENDANCE_ACTION_CHECK_IN, kStart),
              HasSubstr("online only"));
  v1::Session in_person =
      MakeSession(v1::SESSION_STATE_LIVE, v1::SESSION_FORMAT_IN_PERSON);
  EXPECT_THAT(AttendanceRefusal(in_person, v1::ATTENDANCE_ACTION_LEAVE, kStart),
              HasSubstr("in person only"));
}

TEST(AttendanceRefusalTest, OpensTwoHoursBeforeAScheduledStart) {
  v1::Session scheduled = MakeSession(v1::SESSION_STATE_SCHEDULED);
  EXPECT_EQ(AttendanceRefusal(scheduled, v1::ATTENDANCE_ACTION_JOIN,
                              kStart - absl::Hours(2)),
            "");
  std::string early = AttendanceRefusal(scheduled, v1::ATTENDANCE_ACTION_JOIN,
                                        kStart - absl::Hours(3));
  EXPECT_THAT(early, HasSubstr("SCHEDULED (starts " + FormatInstant(kStart)));
  EXPECT_NE(AttendanceRefusal(scheduled, v1::ATTENDANCE_ACTION_CHECK_IN,
                              kStart + absl::Hours(1)),
            "");
  // Leaving is always allowed: it closes an open join.
  EXPECT_EQ(AttendanceRefusal(MakeSession(v1::SESSION_STATE_ENDED),
                              v1::ATTENDANCE_ACTION_LEAVE, kStart),
            "");
  EXPECT_NE(AttendanceRefusal(MakeSession(v1::SESSION_STATE_ENDED),
                              v1::ATTENDANCE_ACTION_JOIN, kStart),
            "");
}

TEST(OccurrenceCountsTest, PastOrUnderWayButNotCancelled) {
  EXPECT_TRUE(OccurrenceCounts(MakeSession(v1::SESSION_STATE_LIVE),
                               kStart - absl::Hours(1)));
  EXPECT_TRUE(
      OccurrenceCounts(MakeSession(v1::SESSION_STATE_SCHEDULED), kStart));
  EXPECT_FALSE(OccurrenceCounts(MakeSession(v1::SESSION_STATE_SCHEDULED),
                                kStart - absl::Seconds(1)));
  EXPECT_FALSE(OccurrenceCounts(MakeSession(v1::SESSION_STATE_CANCELLED),
                                kStart + absl::Hours(5)));
}

TEST(DecodeTest, RegistrationRecord) {
  std::vector<std::string> values = {"p1",      "3",   "2", "2",
                                     "org1",    "Ann", "1", "1000000",
                                     "2000000", "",    "4", "7"};
  ScriptOutcome outcome{"OK", values};
  v1::Registration registration;
  int64_t generation = 0;
  ASSERT_TRUE(
      DecodeFirstRegistration(outcome, "s1", &registration, &generation).ok());
  EXPECT_EQ(registration.session_id(), "s1");
  EXPECT_EQ(registration.participant_id(), "p1");
  EXPECT_EQ(registration.status(), v1::REGISTRATION_STATUS_WAITLISTED);
  EXPECT_EQ(registration.organization_id(), "org1");
  EXPECT_EQ(registration.participant_display_name(), "Ann");
  EXPECT_TRUE(registration.self_registered());
  EXPECT_EQ(registration.create_time().seconds(), 1);
  EXPECT_EQ(registration.waitlist_position(), 4);
  EXPECT_EQ(generation, 7);
  values.pop_back();
  EXPECT_EQ(DecodeFirstRegistration({"OK", values}, "s1", &registration).code(),
            absl::StatusCode::kInternal);
}

TEST(DecodeTest, AttendanceCountsOpenJoinUpToNow) {
  std::vector<std::string> values = {"p1",      "Ann",      "org1", "1000000",
                                     "5000000", "10000000", ""};
  v1::AttendanceRecord record;
  DecodeAttendance(values, 0, 12'000'000, &record);
  EXPECT_TRUE(record.online_now());
  EXPECT_EQ(record.online_duration().seconds(), 7);
  EXPECT_FALSE(record.has_check_in_time());
  EXPECT_EQ(record.first_seen_time().seconds(), 1);
}

}  // namespace
}  // namespace townhall::registration
