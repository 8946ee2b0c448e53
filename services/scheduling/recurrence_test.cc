#include "services/scheduling/recurrence.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libical/ical.h>

#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "services/scheduling/libical_support.h"
#include "services/scheduling/scheduling_test_support.h"

namespace townhall::scheduling {
namespace {

using ::testing::Each;
using ::testing::ElementsAre;
using testing::Expand;
using testing::ExpectInvalid;
using testing::Format;
using testing::FormatUtc;
using ::testing::HasSubstr;
using testing::Local;
using testing::Utc;

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

TEST(ExpandRecurrenceInstancesTest, NameTheValuesTheRuleGenerates) {
  // New York, 02:30 weekly: on 2027-03-14 the rule generates 02:30, which
  // does not exist; the occurrence lives at 03:30 EDT (07:30Z).
  const RecurrenceSpec spec = {
      .rrule = "FREQ=WEEKLY;COUNT=3",
      .first_start = Local("America/New_York", 2027, 3, 7, 2, 30),
      .time_zone = "America/New_York",
      // Neither removes nor adds instances.
      .exception_dates = {Utc(2027, 3, 14, 7, 30)},
      .extra_dates = {Utc(2027, 3, 15, 7, 30)}};
  absl::StatusOr<std::vector<RecurrenceInstance>> instances =
      ExpandRecurrenceInstances(spec);
  ASSERT_TRUE(instances.ok()) << instances.status();
  ASSERT_EQ(instances->size(), 3);
  std::vector<absl::CivilSecond> locals;
  std::vector<absl::Time> starts;
  for (const RecurrenceInstance& i : *instances) {
    locals.push_back(i.local);
    starts.push_back(i.start);
  }
  EXPECT_THAT(locals, ElementsAre(absl::CivilSecond(2027, 3, 7, 2, 30, 0),
                                  absl::CivilSecond(2027, 3, 14, 2, 30, 0),
                                  absl::CivilSecond(2027, 3, 21, 2, 30, 0)));
  EXPECT_THAT(FormatUtc(starts),
              ElementsAre("2027-03-07 07:30Z", "2027-03-14 07:30Z",
                          "2027-03-21 06:30Z"));
  // The same starts as ExpandRecurrence without the exception and extra.
  absl::StatusOr<std::vector<absl::Time>> live =
      Expand(spec.rrule, spec.first_start, spec.time_zone);
  ASSERT_TRUE(live.ok()) << live.status();
  EXPECT_EQ(starts, *live);
}

TEST(ExpandRecurrenceInstancesTest, FirstIsDtstartItself) {
  // A series starting at the second 02:30 of 2027-10-31 in Berlin (01:30Z):
  // its first instance is that instant, named 02:30 like the first 02:30.
  absl::StatusOr<std::vector<RecurrenceInstance>> instances =
      ExpandRecurrenceInstances({.rrule = "FREQ=DAILY;COUNT=2",
                                 .first_start = Utc(2027, 10, 31, 1, 30),
                                 .time_zone = "Europe/Berlin"});
  ASSERT_TRUE(instances.ok()) << instances.status();
  ASSERT_EQ(instances->size(), 2);
  EXPECT_EQ((*instances)[0].local, absl::CivilSecond(2027, 10, 31, 2, 30, 0));
  EXPECT_EQ((*instances)[0].start, Utc(2027, 10, 31, 1, 30));
  EXPECT_EQ((*instances)[1].start, Utc(2027, 11, 1, 1, 30));
}

TEST(ExpandRecurrenceInstancesTest, ErrorsAsExpandRecurrence) {
  for (const auto& [rrule, error] :
       std::vector<std::pair<std::string, std::string>>{
           {"FREQ=SOMETIMES", "series.rrule: "},
           {"FREQ=DAILY;COUNT=500", "series.rrule: expands to more than"}}) {
    ExpectInvalid(ExpandRecurrenceInstances(
                      {.rrule = rrule,
                       .first_start = Local("Europe/Berlin", 2027, 3, 15, 10),
                       .time_zone = "Europe/Berlin"})
                      .status(),
                  error);
  }
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

// Issue 14 item 5: every occurrence lies where a single session may start,
// [2000-01-01, 2200-01-01) UTC.
TEST(ExpandRecurrenceTest, OccurrencesPastTheSessionRangeAreRefused) {
  const absl::Time first = Utc(2199, 1, 1, 10);
  absl::Status status = Expand("FREQ=YEARLY;COUNT=200", first, "UTC").status();
  ExpectInvalid(status, "series.rrule: ");
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("\"FREQ=YEARLY;COUNT=200\""));
  EXPECT_THAT(std::string(status.message()), HasSubstr("2200-01-01T00:00:00Z"));
  ExpectInvalid(
      Expand("FREQ=MONTHLY;UNTIL=22010101T000000Z", Utc(2199, 6, 1, 10), "UTC")
          .status(),
      "series.rrule: ");
  // Just inside the range is fine: the 2nd of two yearly occurrences starts
  // on 2199-12-31 23:00 UTC (00:00 local in Berlin).
  absl::StatusOr<std::vector<absl::Time>> starts =
      Expand("FREQ=YEARLY;COUNT=2", Local("Europe/Berlin", 2199, 1, 1, 0));
  ASSERT_TRUE(starts.ok()) << starts.status();
  EXPECT_THAT(FormatUtc(*starts),
              ElementsAre("2198-12-31 23:00Z", "2199-12-31 23:00Z"));
  // An UNTIL past the range would let calendar clients show occurrences
  // past it, even if the range holds none.
  ExpectInvalid(
      Expand("FREQ=YEARLY;UNTIL=22500101T000000Z;BYMONTH=6",
             Utc(2199, 6, 1, 10), "UTC")
          .status(),
      "series.rrule: \"FREQ=YEARLY;UNTIL=22500101T000000Z;BYMONTH=6\" "
      "UNTIL is too late");
  EXPECT_TRUE(
      Expand("FREQ=YEARLY;UNTIL=21991231T235959Z", Utc(2198, 6, 1, 10), "UTC")
          .ok());
  // Open-ended rules stop at the end of the range instead of the horizon.
  starts = Expand("FREQ=MONTHLY", Utc(2199, 6, 1, 10), "UTC");
  ASSERT_TRUE(starts.ok()) << starts.status();
  EXPECT_EQ(starts->size(), 7);
  EXPECT_EQ(FormatUtc({starts->back()})[0], "2199-12-01 10:00Z");
  // The first start and extra dates are held to the same range.
  ExpectInvalid(
      Expand("FREQ=DAILY;COUNT=2", Utc(1999, 12, 31, 10), "UTC").status(),
      "series.template.start_time: ");
  RecurrenceSpec spec{.rrule = "FREQ=DAILY;COUNT=2",
                      .first_start = Utc(2199, 3, 15, 9),
                      .time_zone = "UTC",
                      .extra_dates = {Utc(2200, 1, 2, 0)}};
  ExpectInvalid(ExpandRecurrence(spec).status(), "series.extra_dates: ");
}

// Issue 14 item 8: rules whose occurrences are sparse make libical step
// through every day in between; the work of one expansion is bounded.
TEST(ExpandRecurrenceTest, ExpensiveRulesExhaustTheBudget) {
  const absl::Time first = Local("Europe/Berlin", 2027, 3, 15, 10);
  for (const char* rule : {
           "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO;COUNT=200",
           "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO;COUNT=3",
           "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO;"
           "BYHOUR=1,2,3,4,5,6,7,8;BYMINUTE=0,30;COUNT=20",
       }) {
    SCOPED_TRACE(rule);
    // The budget, not libical's year 2582, ends the work (~0.5 s before).
    absl::Status status = Expand(rule, first).status();
    ExpectInvalid(status, "series.rrule: ");
    EXPECT_THAT(std::string(status.message()),
                HasSubstr(absl::StrCat("\"", rule, "\" needs more than ",
                                       kMaxExpansionCandidates, " candidate")));
  }
  // The same days written as a YEARLY rule cost a year per candidate.
  absl::StatusOr<std::vector<absl::Time>> starts =
      Expand("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO;COUNT=3",
             Local("Europe/Berlin", 2027, 3, 15, 10));
  ASSERT_TRUE(starts.ok()) << starts.status();
  EXPECT_THAT(
      Format(*starts, "Europe/Berlin"),
      ElementsAre("2027-03-15 10:00", "2044-02-29 10:00", "2072-02-29 10:00"));
  // A sparse DAILY rule within the budget still expands.
  starts = Expand("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;COUNT=3",
                  Local("Europe/Berlin", 2027, 3, 15, 10));
  ASSERT_TRUE(starts.ok()) << starts.status();
  EXPECT_THAT(
      Format(*starts, "Europe/Berlin"),
      ElementsAre("2027-03-15 10:00", "2028-02-29 10:00", "2032-02-29 10:00"));
}

TEST(ExpandRecurrenceTest, DailyRulesCarryOverFromWindowToWindow) {
  // DAILY rules are expanded in windows of days; the start times of a day
  // and the INTERVAL phase must carry over from one window to the next.
  // Two starts every 3rd day in January: 10 years, several windows.
  const absl::Time first = Local("Europe/Berlin", 2027, 1, 1, 9);
  absl::StatusOr<std::vector<absl::Time>> starts =
      Expand("FREQ=DAILY;INTERVAL=3;BYMONTH=1;BYHOUR=9,14;COUNT=200", first);
  ASSERT_TRUE(starts.ok()) << starts.status();
  std::vector<std::string> expected;
  for (absl::CivilDay day(2027, 1, 1); expected.size() < 200; day += 3) {
    if (day.month() != 1) continue;
    for (const char* time : {" 09:00", " 14:00"}) {
      expected.push_back(absl::StrCat(absl::FormatCivilTime(day), time));
    }
  }
  EXPECT_EQ(Format(*starts, "Europe/Berlin"), expected);

  ExpectInvalid(Expand("FREQ=DAILY;BYHOUR=0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,"
                       "15,16,17,18,19,20,21,22,23;BYMINUTE=0,30;COUNT=5",
                       first)
                    .status(),
                "series.rrule: at most 24 start times per day");
}

// Starts of `rrule` from `first` as libical's own iterator yields them over
// the whole range (floating times, UTC), DTSTART first as RFC 5545 wants.
std::vector<std::string> PlainLibicalStarts(const std::string& rrule,
                                            absl::CivilSecond first, int n) {
  internal::ParsedRrule parsed(rrule.c_str());
  internal::IteratorPtr it(
      icalrecur_iterator_new(parsed.value(), internal::FloatingTime(first)));
  std::vector<absl::Time> starts = {
      absl::FromCivil(first, absl::UTCTimeZone())};
  for (icaltimetype t = icalrecur_iterator_next(it.get());
       !icaltime_is_null_time(t) && static_cast<int>(starts.size()) < n;
       t = icalrecur_iterator_next(it.get())) {
    const absl::CivilSecond local = internal::ToCivil(t);
    if (local.year() >= 2200) break;
    if (local > first) {
      starts.push_back(absl::FromCivil(local, absl::UTCTimeZone()));
    }
  }
  return FormatUtc(starts);
}

// The bounded search must not change what sparse but legal MONTHLY and
// YEARLY rules expand to: the same starts as libical's plain iteration.
TEST(ExpandRecurrenceTest, SparseRulesExpandLikeLibicalItself) {
  for (const absl::CivilSecond first :
       {absl::CivilSecond(2027, 3, 15, 10, 0, 0),
        absl::CivilSecond(2000, 1, 31, 23, 30, 0),
        absl::CivilSecond(2150, 12, 29, 8, 0, 0)}) {
    for (const char* rule : {
             "FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO",
             "FREQ=MONTHLY;BYDAY=1MO;BYMONTHDAY=7",
             "FREQ=MONTHLY;INTERVAL=7;BYMONTHDAY=31",
             "FREQ=MONTHLY;INTERVAL=5;BYMONTH=2;BYMONTHDAY=29",
             "FREQ=MONTHLY;BYDAY=MO,TU;BYSETPOS=-1",
             "FREQ=MONTHLY;BYDAY=-1FR;BYHOUR=9,17",
             "FREQ=MONTHLY",
             "FREQ=MONTHLY;INTERVAL=2;BYMONTHDAY=-1",
             "FREQ=YEARLY",
             "FREQ=YEARLY;INTERVAL=3;BYMONTH=2;BYMONTHDAY=29",
             "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO",
             "FREQ=YEARLY;BYWEEKNO=53;BYDAY=TH",
             "FREQ=YEARLY;BYWEEKNO=1;BYDAY=MO",
             "FREQ=YEARLY;BYWEEKNO=20",
             "FREQ=YEARLY;BYWEEKNO=1,-1;BYDAY=SU;BYSETPOS=-1",
             "FREQ=YEARLY;BYYEARDAY=366",
             "FREQ=YEARLY;BYYEARDAY=-1;BYDAY=SU",
             "FREQ=YEARLY;BYDAY=20MO",
             "FREQ=YEARLY;BYMONTH=11;BYDAY=4TH",
             "FREQ=YEARLY;BYMONTHDAY=13;BYDAY=FR;BYSETPOS=1",
         }) {
      SCOPED_TRACE(absl::StrCat(rule, " from ", absl::FormatCivilTime(first)));
      absl::StatusOr<std::vector<absl::Time>> starts =
          Expand(absl::StrCat(rule, ";COUNT=5"),
                 absl::FromCivil(first, absl::UTCTimeZone()), "UTC");
      const std::vector<std::string> expected =
          PlainLibicalStarts(rule, first, 5);
      if (expected.size() < 5) {  // COUNT not reached before 2200.
        ExpectInvalid(starts.status(), "series.rrule: ");
        continue;
      }
      ASSERT_TRUE(starts.ok()) << starts.status();
      EXPECT_EQ(FormatUtc(*starts), expected);
    }
  }
}

// Expansion does not take the process-wide libical lock that calendar
// exports need: a long expansion cannot delay another caller's export.
TEST(ExpandRecurrenceTest, DoesNotHoldTheLibicalLock) {
  absl::Notification done;
  absl::StatusOr<std::vector<absl::Time>> starts;
  std::thread expander;
  {
    absl::MutexLock lock(&internal::LibicalMutex());
    expander = std::thread([&] {
      starts = Expand("FREQ=WEEKLY;COUNT=3",
                      Local("Europe/Berlin", 2027, 3, 15, 10));
      done.Notify();
    });
    EXPECT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(5)));
  }
  expander.join();
  ASSERT_TRUE(starts.ok()) << starts.status();
  EXPECT_EQ(starts->size(), 3);
}

}  // namespace
}  // namespace townhall::scheduling
