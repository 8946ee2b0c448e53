#include "services/scheduling/recurrence.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace townhall::scheduling {
namespace {

using ::testing::Each;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

absl::TimeZone Zone(const std::string& name) {
  absl::TimeZone zone;
  EXPECT_TRUE(absl::LoadTimeZone(name, &zone)) << name;
  return zone;
}

absl::Time Local(const std::string& zone, int y, int mo, int d, int h,
                 int mi = 0) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, 0), Zone(zone));
}

absl::Time Utc(int y, int mo, int d, int h, int mi = 0, int s = 0) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s),
                         absl::UTCTimeZone());
}

std::vector<std::string> Format(const std::vector<absl::Time>& times,
                                const std::string& zone,
                                const char* format = "%Y-%m-%d %H:%M") {
  std::vector<std::string> out;
  for (absl::Time t : times) {
    out.push_back(absl::FormatTime(format, t, Zone(zone)));
  }
  return out;
}

std::vector<std::string> FormatUtc(const std::vector<absl::Time>& times) {
  return Format(times, "UTC", "%Y-%m-%d %H:%MZ");
}

absl::StatusOr<std::vector<absl::Time>> Expand(
    const std::string& rrule, absl::Time first_start,
    const std::string& zone = "Europe/Berlin") {
  return ExpandRecurrence(
      {.rrule = rrule, .first_start = first_start, .time_zone = zone});
}

void ExpectInvalid(const absl::Status& status, const std::string& prefix) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(std::string(status.message()), StartsWith(prefix)) << status;
}

TEST(ExpandRecurrenceTest, WeeklyBerlinKeepsLocalTimeAcrossSpringChange) {
  absl::StatusOr<std::vector<absl::Time>> starts =
      Expand("FREQ=WEEKLY;COUNT=4", Local("Europe/Berlin", 2027, 3, 15, 10));
  ASSERT_TRUE(starts.ok()) << starts.status();
  // Clocks go forward on Sunday 2027-03-28.
  EXPECT_THAT(FormatUtc(*starts),
              ElementsAre("2027-03-15 09:00Z", "2027-03-22 09:00Z",
                          "2027-03-29 08:00Z", "2027-04-05 08:00Z"));
  EXPECT_THAT(Format(*starts, "Europe/Berlin", "%H:%M"), Each("10:00"));
}

TEST(ExpandRecurrenceTest, WeeklyBerlinKeepsLocalTimeAcrossAutumnChange) {
  absl::StatusOr<std::vector<absl::Time>> starts =
      Expand("FREQ=WEEKLY;COUNT=4", Local("Europe/Berlin", 2027, 10, 18, 10));
  ASSERT_TRUE(starts.ok()) << starts.status();
  // Clocks go back on Sunday 2027-10-31.
  EXPECT_THAT(FormatUtc(*starts),
              ElementsAre("2027-10-18 08:00Z", "2027-10-25 08:00Z",
                          "2027-11-01 09:00Z", "2027-11-08 09:00Z"));
  EXPECT_THAT(Format(*starts, "Europe/Berlin", "%H:%M"), Each("10:00"));
}

TEST(ExpandRecurrenceTest, WeeklyBerlinWholeYear) {
  absl::StatusOr<std::vector<absl::Time>> starts =
      Expand("FREQ=WEEKLY;COUNT=52", Local("Europe/Berlin", 2027, 1, 4, 10));
  ASSERT_TRUE(starts.ok()) << starts.status();
  ASSERT_EQ(starts->size(), 52);
  EXPECT_THAT(Format(*starts, "Europe/Berlin", "%a %H:%M"), Each("Mon 10:00"));
  const absl::Time spring = Utc(2027, 3, 28, 1);
  const absl::Time autumn = Utc(2027, 10, 31, 1);
  for (absl::Time t : *starts) {
    const int utc_hour = absl::ToCivilHour(t, absl::UTCTimeZone()).hour();
    EXPECT_EQ(utc_hour, (t > spring && t < autumn) ? 8 : 9)
        << absl::FormatTime(t);
  }
}

TEST(ExpandRecurrenceTest, TashkentHasNoDst) {
  absl::StatusOr<std::vector<absl::Time>> starts =
      Expand("FREQ=WEEKLY;COUNT=52", Local("Asia/Tashkent", 2027, 1, 4, 10),
             "Asia/Tashkent");
  ASSERT_TRUE(starts.ok()) << starts.status();
  ASSERT_EQ(starts->size(), 52);
  EXPECT_THAT(Format(*starts, "UTC", "%H:%M"), Each("05:00"));
  EXPECT_THAT(Format(*starts, "Asia/Tashkent", "%H:%M"), Each("10:00"));
}

TEST(ExpandRecurrenceTest, MonthlySecondSaturday) {
  absl::StatusOr<std::vector<absl::Time>> starts =
      Expand("FREQ=MONTHLY;BYDAY=2SA;COUNT=6",
             Local("Europe/Berlin", 2027, 3, 13, 11));
  ASSERT_TRUE(starts.ok()) << starts.status();
  EXPECT_THAT(Format(*starts, "Europe/Berlin", "%a %Y-%m-%d %H:%M"),
              ElementsAre("Sat 2027-03-13 11:00", "Sat 2027-04-10 11:00",
                          "Sat 2027-05-08 11:00", "Sat 2027-06-12 11:00",
                          "Sat 2027-07-10 11:00", "Sat 2027-08-14 11:00"));
}

TEST(ExpandRecurrenceTest, DtstartOutsideRuleIsFirstAndCounts) {
  // RFC 5545: DTSTART is always an occurrence and counts for COUNT (libical
  // alone would skip the Monday and return three Saturdays).
  absl::StatusOr<std::vector<absl::Time>> starts =
      Expand("FREQ=MONTHLY;BYDAY=2SA;COUNT=3",
             Local("Europe/Berlin", 2027, 3, 15, 10));
  ASSERT_TRUE(starts.ok()) << starts.status();
  EXPECT_THAT(Format(*starts, "Europe/Berlin", "%a %m-%d"),
              ElementsAre("Mon 03-15", "Sat 04-10", "Sat 05-08"));
}

TEST(ExpandRecurrenceTest, Count) {
  absl::StatusOr<std::vector<absl::Time>> starts = Expand(
      "FREQ=DAILY;INTERVAL=2;COUNT=3", Local("Europe/Berlin", 2027, 5, 1, 9));
  ASSERT_TRUE(starts.ok()) << starts.status();
  EXPECT_THAT(
      Format(*starts, "Europe/Berlin"),
      ElementsAre("2027-05-01 09:00", "2027-05-03 09:00", "2027-05-05 09:00"));
}

TEST(ExpandRecurrenceTest, UntilUtcIsComparedAsAnInstant) {
  const absl::Time first = Local("Europe/Berlin", 2027, 3, 15, 10);
  // 2027-03-29 10:00 in Berlin (summer time) is exactly 08:00Z: included.
  // (libical compares the floating 10:00 with 08:00 and would drop it.)
  absl::StatusOr<std::vector<absl::Time>> starts =
      Expand("FREQ=WEEKLY;UNTIL=20270329T080000Z", first);
  ASSERT_TRUE(starts.ok()) << starts.status();
  EXPECT_THAT(Format(*starts, "Europe/Berlin", "%m-%d"),
              ElementsAre("03-15", "03-22", "03-29"));

  starts = Expand("FREQ=WEEKLY;UNTIL=20270329T075959Z", first);
  ASSERT_TRUE(starts.ok()) << starts.status();
  EXPECT_THAT(Format(*starts, "Europe/Berlin", "%m-%d"),
              ElementsAre("03-15", "03-22"));
}

TEST(ExpandRecurrenceTest, UntilFloatingIsLocalTime) {
  const absl::Time first = Local("Europe/Berlin", 2027, 3, 15, 10);
  absl::StatusOr<std::vector<absl::Time>> starts =
      Expand("FREQ=WEEKLY;UNTIL=20270329T100000", first);
  ASSERT_TRUE(starts.ok()) << starts.status();
  EXPECT_EQ(starts->size(), 3);
  starts = Expand("FREQ=WEEKLY;UNTIL=20270329T095959", first);
  ASSERT_TRUE(starts.ok()) << starts.status();
  EXPECT_EQ(starts->size(), 2);
}

TEST(ExpandRecurrenceTest, UntilDateIncludesThatDay) {
  absl::StatusOr<std::vector<absl::Time>> starts = Expand(
      "FREQ=WEEKLY;UNTIL=20270329", Local("Europe/Berlin", 2027, 3, 15, 10));
  ASSERT_TRUE(starts.ok()) << starts.status();
  EXPECT_THAT(Format(*starts, "Europe/Berlin", "%m-%d"),
              ElementsAre("03-15", "03-22", "03-29"));
}

TEST(ExpandRecurrenceTest, ExceptionDateRemovesOccurrence) {
  RecurrenceSpec spec{.rrule = "FREQ=WEEKLY;COUNT=4",
                      .first_start = Local("Europe/Berlin", 2027, 3, 15, 10),
                      .time_zone = "Europe/Berlin"};
  spec.exception_dates = {Local("Europe/Berlin", 2027, 3, 29, 10),
                          // Not an occurrence: ignored.
                          Local("Europe/Berlin", 2027, 3, 30, 10)};
  absl::StatusOr<std::vector<absl::Time>> starts = ExpandRecurrence(spec);
  ASSERT_TRUE(starts.ok()) << starts.status();
  EXPECT_THAT(Format(*starts, "Europe/Berlin", "%m-%d"),
              ElementsAre("03-15", "03-22", "04-05"));
}

TEST(ExpandRecurrenceTest, ExceptionDateCanRemoveFirstStart) {
  const absl::Time first = Local("Europe/Berlin", 2027, 3, 15, 10);
  RecurrenceSpec spec{.rrule = "FREQ=WEEKLY;COUNT=2",
                      .first_start = first,
                      .time_zone = "Europe/Berlin",
                      .exception_dates = {first}};
  absl::StatusOr<std::vector<absl::Time>> starts = ExpandRecurrence(spec);
  ASSERT_TRUE(starts.ok()) << starts.status();
  EXPECT_THAT(Format(*starts, "Europe/Berlin", "%m-%d"), ElementsAre("03-22"));
}

TEST(ExpandRecurrenceTest, ExtraDateIsAddedInOrder) {
  // A moved occurrence: 03-22 10:00 moved to 03-24 15:30.
  RecurrenceSpec spec{
      .rrule = "FREQ=WEEKLY;COUNT=3",
      .first_start = Local("Europe/Berlin", 2027, 3, 15, 10),
      .time_zone = "Europe/Berlin",
      .exception_dates = {Local("Europe/Berlin", 2027, 3, 22, 10)},
      .extra_dates = {Local("Europe/Berlin", 2027, 3, 24, 15, 30),
                      // Duplicate of an occurrence: deduplicated.
                      Local("Europe/Berlin", 2027, 3, 29, 10)}};
  absl::StatusOr<std::vector<absl::Time>> starts = ExpandRecurrence(spec);
  ASSERT_TRUE(starts.ok()) << starts.status();
  EXPECT_THAT(
      Format(*starts, "Europe/Berlin"),
      ElementsAre("2027-03-15 10:00", "2027-03-24 15:30", "2027-03-29 10:00"));
}

TEST(ExpandRecurrenceTest, OpenEndedRuleStopsAtHorizon) {
  const absl::Time first = Local("Europe/Berlin", 2027, 3, 15, 10);
  absl::StatusOr<std::vector<absl::Time>> starts = Expand("FREQ=WEEKLY", first);
  ASSERT_TRUE(starts.ok()) << starts.status();
  // 52 weeks = 364 days fit into 366 days, 53 weeks do not.
  ASSERT_EQ(starts->size(), 53);
  EXPECT_LE(starts->back(), first + kOpenEndedHorizon);
  EXPECT_GT(starts->back() + absl::Hours(24 * 7), first + kOpenEndedHorizon);

  starts = Expand("FREQ=MONTHLY", Local("Europe/Berlin", 2027, 1, 10, 10));
  ASSERT_TRUE(starts.ok()) << starts.status();
  EXPECT_EQ(starts->size(), 13);
  EXPECT_EQ(Format({starts->back()}, "Europe/Berlin")[0], "2028-01-10 10:00");
}

TEST(ExpandRecurrenceTest, TooManyOccurrencesRejected) {
  const absl::Time first = Local("Europe/Berlin", 2027, 3, 15, 10);
  absl::StatusOr<std::vector<absl::Time>> starts =
      Expand("FREQ=DAILY;COUNT=1000", first);
  EXPECT_EQ(starts.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(starts.status().message(),
            "series.rrule: expands to more than 200 occurrences");
  // Open-ended daily: 367 occurrences within the horizon.
  ExpectInvalid(Expand("FREQ=DAILY", first).status(), "series.rrule: ");
  ExpectInvalid(Expand("FREQ=DAILY;UNTIL=20300101T000000Z", first).status(),
                "series.rrule: ");
}

TEST(ExpandRecurrenceTest, LimitIsExact) {
  const absl::Time first = Local("Europe/Berlin", 2027, 3, 15, 10);
  absl::StatusOr<std::vector<absl::Time>> starts =
      Expand("FREQ=DAILY;COUNT=200", first);
  ASSERT_TRUE(starts.ok()) << starts.status();
  EXPECT_EQ(starts->size(), kMaxOccurrences);

  ExpectInvalid(Expand("FREQ=DAILY;COUNT=201", first).status(),
                "series.rrule: expands to more than 200");

  // 201 minus one exception is fine; 200 plus one extra date is not.
  RecurrenceSpec spec{.rrule = "FREQ=DAILY;COUNT=201",
                      .first_start = first,
                      .time_zone = "Europe/Berlin",
                      .exception_dates = {first + absl::Hours(24 * 3)}};
  starts = ExpandRecurrence(spec);
  ASSERT_TRUE(starts.ok()) << starts.status();
  EXPECT_EQ(starts->size(), kMaxOccurrences);

  spec = {.rrule = "FREQ=DAILY;COUNT=200",
          .first_start = first,
          .time_zone = "Europe/Berlin",
          .extra_dates = {first - absl::Hours(1)}};
  ExpectInvalid(ExpandRecurrence(spec).status(), "series.rrule: ");
}

TEST(ExpandRecurrenceTest, BadRulesRejected) {
  const absl::Time first = Local("Europe/Berlin", 2027, 3, 15, 10);
  for (const char* rule : {
           "FREQ=SOMETIMES",
           "",
           "COUNT=3",
           "garbage",
           "!!;;==",
           "RRULE:FREQ=WEEKLY",
           "FREQ=WEEKLY;COUNT=3;UNTIL=20270601T000000Z",
           "FREQ=WEEKLY;COUNT=0",
           "FREQ=WEEKLY;BYDAY=XX",
           "FREQ=WEEKLY;BYWEEKNO=3",
           "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
           // Never matches; libical would scan days for ~0.5 s.
           "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
           "FREQ=MONTHLY;BYMONTHDAY=31;BYMONTH=4,6,9,11",
           "FREQ=MONTHLY;BYMONTHDAY=-30;BYMONTH=2",
           "FREQ=WEEKLY COUNT=3",
           "FREQ=HOURLY;COUNT=3",
           "FREQ=MINUTELY;COUNT=3",
       }) {
    SCOPED_TRACE(rule);
    ExpectInvalid(Expand(rule, first).status(), "series.rrule: ");
    ExpectInvalid(ValidateRrule(rule), "series.rrule: ");
  }
  ExpectInvalid(
      Expand(std::string("FREQ=WEEKLY\0;COUNT=2", 20), first).status(),
      "series.rrule: ");
}

TEST(ValidateRruleTest, NamesTheGivenField) {
  EXPECT_TRUE(ValidateRrule("FREQ=MONTHLY;BYDAY=2SA;COUNT=6").ok());
  EXPECT_TRUE(ValidateRrule("FREQ=WEEKLY;BYDAY=MO,WE;UNTIL=20271231").ok());
  EXPECT_TRUE(ValidateRrule("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29").ok());
  EXPECT_TRUE(ValidateRrule("FREQ=MONTHLY;BYMONTHDAY=31").ok());
  EXPECT_TRUE(ValidateRrule("FREQ=MONTHLY;BYMONTHDAY=-1;BYMONTH=2").ok());
  absl::Status status = ValidateRrule("FREQ=SOMETIMES", "update.rrule");
  ExpectInvalid(status, "update.rrule: ");
  EXPECT_THAT(std::string(status.message()), HasSubstr("FREQ=SOMETIMES"));
  EXPECT_EQ(ValidateRrule("COUNT=3").message(),
            "series.rrule: FREQ is missing");
}

// Found by tests/fuzz (recurrence_fuzzer): a weekday ordinal that no month
// or year has ("the 6th Saturday") never matches, and libical scans up to
// its last year looking for one, for seconds, holding LibicalMutex.
TEST(ValidateRruleTest, RefusesWeekdayOrdinalsThatNeverMatch) {
  for (const char* rule : {
           "FREQ=MONTHLY;BYDAY=220SA;COUNT=6",
           "FREQ=MONTHLY;BYDAY=6SA;COUNT=6",
           "FREQ=MONTHLY;BYDAY=MO,-6FR",
           "FREQ=YEARLY;BYMONTH=3;BYDAY=6SA;COUNT=3",
           "FREQ=YEARLY;BYDAY=54SA;COUNT=3",
           "FREQ=DAILY;BYDAY=-9MO;COUNT=3",
           "FREQ=WEEKLY;BYDAY=2SA",
       }) {
    SCOPED_TRACE(rule);
    ExpectInvalid(ValidateRrule(rule), "series.rrule: BYDAY");
    ExpectInvalid(Expand(rule, Utc(2027, 3, 15, 9)).status(),
                  "series.rrule: BYDAY");
  }
  for (const char* rule : {
           "FREQ=MONTHLY;BYDAY=-5FR,5SA",
           "FREQ=YEARLY;BYDAY=53SA;COUNT=2",
           "FREQ=YEARLY;BYDAY=-53MO;COUNT=2",
           "FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3",
           "FREQ=WEEKLY;BYDAY=MO,WE",
       }) {
    SCOPED_TRACE(rule);
    EXPECT_TRUE(ValidateRrule(rule).ok());
  }
}

TEST(ExpandRecurrenceTest, UnknownTimeZoneRejected) {
  const absl::Time first = Utc(2027, 3, 15, 9);
  for (const char* zone :
       {"Mars/Olympus_Mons", "", "Europe/Berln", "../../etc/localtime",
        "localtime", "/usr/share/zoneinfo/Europe/Berlin"}) {
    SCOPED_TRACE(zone);
    absl::Status status = Expand("FREQ=WEEKLY;COUNT=2", first, zone).status();
    ExpectInvalid(status, "series.template.time_zone: unknown time zone");
  }
}

TEST(ExpandRecurrenceTest, NonexistentLocalTimeUsesOffsetBeforeGap) {
  // 02:30 does not exist in Berlin on 2027-03-28: it becomes 03:30 summer
  // time (01:30Z), as RFC 5545 prescribes.
  absl::StatusOr<std::vector<absl::Time>> starts =
      Expand("FREQ=DAILY;COUNT=3", Local("Europe/Berlin", 2027, 3, 27, 2, 30));
  ASSERT_TRUE(starts.ok()) << starts.status();
  EXPECT_THAT(FormatUtc(*starts),
              ElementsAre("2027-03-27 01:30Z", "2027-03-28 01:30Z",
                          "2027-03-29 00:30Z"));
}

TEST(ExpandRecurrenceTest, RepeatedLocalTimeUsesFirstInstance) {
  // 02:30 happens twice in Berlin on 2027-10-31; the first is 00:30Z.
  absl::StatusOr<std::vector<absl::Time>> starts =
      Expand("FREQ=DAILY;COUNT=3", Local("Europe/Berlin", 2027, 10, 30, 2, 30));
  ASSERT_TRUE(starts.ok()) << starts.status();
  EXPECT_THAT(FormatUtc(*starts),
              ElementsAre("2027-10-30 00:30Z", "2027-10-31 00:30Z",
                          "2027-11-01 01:30Z"));
}

TEST(ExpandRecurrenceTest, TruncatesToSecondsAndRejectsInfiniteTimes) {
  absl::StatusOr<std::vector<absl::Time>> starts = Expand(
      "FREQ=DAILY;COUNT=2", Utc(2027, 3, 15, 9) + absl::Milliseconds(1), "UTC");
  ASSERT_TRUE(starts.ok()) << starts.status();
  EXPECT_THAT(*starts, ElementsAre(Utc(2027, 3, 15, 9), Utc(2027, 3, 16, 9)));

  ExpectInvalid(Expand("FREQ=DAILY;COUNT=2", absl::InfiniteFuture()).status(),
                "series.template.start_time: ");
  ExpectInvalid(Expand("FREQ=DAILY;COUNT=2", Utc(3000, 1, 1, 0)).status(),
                "series.template.start_time: ");
  RecurrenceSpec spec{.rrule = "FREQ=DAILY;COUNT=2",
                      .first_start = Utc(2027, 3, 15, 9),
                      .time_zone = "UTC",
                      .extra_dates = {absl::InfinitePast()}};
  ExpectInvalid(ExpandRecurrence(spec).status(), "series.extra_dates: ");
}

}  // namespace
}  // namespace townhall::scheduling
