// RRULE validation: rules refused before (and by) expansion, naming the
// field and quoting the rule.
#include "services/scheduling/rrule.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "services/scheduling/scheduling_test_support.h"

namespace townhall::scheduling {
namespace {

using testing::Expand;
using testing::ExpectInvalid;
using ::testing::HasSubstr;
using testing::Local;

TEST(RruleTest, BadRulesRejected) {
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

// Refused by their shape, before libical searches for a first match period
// by period up to the year 20000 (~1 s for the first rule).
TEST(RruleTest, PositionsThatNeverMatchAreRefusedUpFront) {
  const absl::Time first = Local("Europe/Berlin", 2027, 3, 15, 10);
  for (const auto& [rule, reason] :
       std::vector<std::pair<std::string, std::string>>{
           {"FREQ=MONTHLY;BYSETPOS=7;BYDAY=MO",
            "BYSETPOS=7 never matches: a MONTHLY period holds at most 5"},
           {"FREQ=DAILY;BYSETPOS=2",
            "BYSETPOS=2 never matches: a DAILY period holds at most 1"},
           {"FREQ=MONTHLY;BYDAY=6MO", "BYDAY positions must be within -5..5"},
           {"FREQ=YEARLY;BYMONTH=2;BYDAY=-6FR",
            "BYDAY positions must be within -5..5"},
           {"FREQ=WEEKLY;BYDAY=2MO", "BYDAY positions (such as 2MO) need"},
       }) {
    SCOPED_TRACE(rule);
    ExpectInvalid(Expand(rule, first).status(), "series.rrule: " + reason);
    ExpectInvalid(ValidateRrule(rule), "series.rrule: " + reason);
  }
  EXPECT_TRUE(
      ValidateRrule("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1").ok());
  EXPECT_TRUE(ValidateRrule("FREQ=MONTHLY;BYDAY=5FR").ok());
  EXPECT_TRUE(ValidateRrule("FREQ=MONTHLY;BYDAY=1MO,-1MO;BYSETPOS=2").ok());
  EXPECT_TRUE(ValidateRrule("FREQ=YEARLY;BYDAY=20MO").ok());
  EXPECT_TRUE(ValidateRrule("FREQ=YEARLY;BYMONTH=11;BYDAY=4TH").ok());
  EXPECT_TRUE(ValidateRrule("FREQ=DAILY;BYHOUR=9,14;BYSETPOS=-1").ok());
}

// Rules that never match in a way the checks on their shape do not catch:
// libical 3.0 would search period by period up to the year 20000 inside one
// call (0.1 to 2 s each). Every one is refused, quoting the rule, after a
// search bounded by the allowed range (docs/operations.md, "Recurrence
// limits"; timings in docs/benchmarks.md).
TEST(RruleTest, RulesThatNeverMatchAreRefusedNamingTheRule) {
  const absl::Time first = Local("Europe/Berlin", 2027, 3, 15, 10);
  for (const char* rule : {
           // The first Monday is never the 8th.
           "FREQ=MONTHLY;BYDAY=1MO;BYMONTHDAY=8",
           "FREQ=MONTHLY;BYDAY=1MO;BYMONTHDAY=8;BYMONTH=2",
           "FREQ=MONTHLY;INTERVAL=5;BYDAY=-1FR;BYMONTHDAY=1,2,3,4,5,6,7",
           "FREQ=MONTHLY;BYDAY=1MO,1TU;BYSETPOS=2;BYMONTHDAY=1",
           "FREQ=YEARLY;BYDAY=1MO;BYMONTHDAY=8;"
           "BYMONTH=1,2,3,4,5,6,7,8,9,10,11,12",
           "FREQ=YEARLY;BYMONTH=6;BYDAY=5MO;BYMONTHDAY=1,2,3,4,5,6,7",
           // Week 53's Thursday is always in late December.
           "FREQ=YEARLY;BYWEEKNO=53;BYMONTH=1;BYDAY=TH",
           "FREQ=YEARLY;BYWEEKNO=53;BYMONTH=6;BYDAY=TH",
           // One day a year, the second of the set asked for.
           "FREQ=YEARLY;BYWEEKNO=1;BYSETPOS=2",
           "FREQ=YEARLY;BYYEARDAY=1;BYDAY=MO;BYSETPOS=2",
           // Combinations libical does not implement.
           "FREQ=YEARLY;BYYEARDAY=366;BYMONTH=1",
           "FREQ=YEARLY;BYWEEKNO=1;BYMONTHDAY=1",
       }) {
    SCOPED_TRACE(rule);
    for (const std::string& variant :
         {std::string(rule), absl::StrCat(rule, ";COUNT=3"),
          absl::StrCat(rule, ";UNTIL=20300101T000000Z")}) {
      absl::Status status = Expand(variant, first).status();
      ExpectInvalid(status, "series.rrule: ");
      EXPECT_THAT(std::string(status.message()),
                  HasSubstr(absl::StrCat("\"", variant, "\"")))
          << status;
    }
    absl::Status status = ValidateRrule(rule);
    ExpectInvalid(status, "series.rrule: ");
    EXPECT_THAT(std::string(status.message()),
                HasSubstr(absl::StrCat("\"", rule, "\"")));
  }
}

// Issue 14 item 12: libical mallocs the RSCALE value; the refusal must free
// it (LeakSanitizer in the sanitizer CI pass catches a regression here).
TEST(RruleTest, RscaleIsRefused) {
  const absl::Time first = Local("Europe/Berlin", 2027, 3, 15, 10);
  for (int i = 0; i < 3; ++i) {
    absl::Status status =
        Expand("FREQ=DAILY;COUNT=5;RSCALE=HEBREW", first).status();
    ExpectInvalid(status, "series.rrule: ");
    EXPECT_THAT(std::string(status.message()), HasSubstr("RSCALE"));
    ExpectInvalid(ValidateRrule("RSCALE=GREGORIAN;FREQ=YEARLY;COUNT=2"),
                  "series.rrule: ");
  }
}

}  // namespace
}  // namespace townhall::scheduling
