// VTIMEZONE blocks as a calendar export writes them: short, with plain IANA
// names, and giving zoneinfo's offsets for the years promised.
#include "services/scheduling/vtimezone.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libical/ical.h>

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "services/scheduling/calendar.h"
#include "services/scheduling/calendar_test_support.h"
#include "services/scheduling/libical_support.h"

namespace townhall::scheduling {
namespace {

using internal::ComponentPtr;
using testing::BerlinSeries;
using ::testing::Contains;
using testing::CountLines;
using ::testing::HasSubstr;
using testing::Local;
using ::testing::Not;
using testing::RenderOrDie;
using testing::SingleSession;
using testing::Unfold;
using testing::Zone;

// The lines of the VTIMEZONE with `tzid`, BEGIN and END included.
std::vector<std::string> VtimezoneLines(const std::string& text,
                                        const std::string& tzid) {
  std::vector<std::string> block;
  std::vector<std::string> current;
  bool inside = false;
  for (const std::string& line : Unfold(text)) {
    if (line == "BEGIN:VTIMEZONE") inside = true;
    if (inside) current.push_back(line);
    if (line == "END:VTIMEZONE") {
      inside = false;
      if (std::find(current.begin(), current.end(), "TZID:" + tzid) !=
          current.end()) {
        block = current;
      }
      current.clear();
    }
  }
  return block;
}

TEST(RenderCalendarTest, VtimezoneIsShortAndPlain) {
  const std::string text = RenderOrDie({BerlinSeries()});
  const std::vector<std::string> vtz = VtimezoneLines(text, "Europe/Berlin");
  ASSERT_FALSE(vtz.empty()) << text;
  EXPECT_LT(vtz.size(), 40) << text;
  // The zoneinfo rules until 2037 and from 2037 on are merged into one
  // open-ended rule per observance.
  EXPECT_EQ(CountLines(vtz, "BEGIN:DAYLIGHT"), 1) << text;
  EXPECT_THAT(vtz, Contains("RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3"));
  EXPECT_THAT(vtz, Contains("RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10"));
  for (const std::string& line : vtz) {
    EXPECT_THAT(line, Not(HasSubstr("UNTIL=")));
    // Nothing from before the year preceding the first event.
    if (absl::StartsWith(line, "DTSTART:")) {
      EXPECT_GE(line, "DTSTART:2026");
    }
  }
}

TEST(RenderCalendarTest, ZoneWithoutDstHasOneStandardBlock) {
  const std::string text = RenderOrDie({SingleSession("Asia/Tashkent")});
  const std::vector<std::string> vtz = VtimezoneLines(text, "Asia/Tashkent");
  ASSERT_FALSE(vtz.empty()) << text;
  EXPECT_EQ(CountLines(vtz, "BEGIN:STANDARD"), 1) << text;
  EXPECT_EQ(CountLines(vtz, "BEGIN:DAYLIGHT"), 0) << text;
  EXPECT_THAT(vtz, Contains("TZOFFSETTO:+0500"));
  EXPECT_THAT(Unfold(text),
              Contains("DTSTART;TZID=Asia/Tashkent:20270420T180000"));
}

// The truncated and merged VTIMEZONEs must still give the zone's offsets:
// read them back with libical and compare with absl (the zoneinfo files)
// for the 30 years promised, from the year before the event. Zones with rule
// changes, suspended and resumed DST, permanent DST, southern hemisphere
// rules, and zones libical itself gets wrong (St_Johns, Cairo, Sao_Paulo,
// Tehran, Lord_Howe, Chatham).
TEST(RenderCalendarTest, VtimezoneOffsetsMatchZoneinfo) {
  for (const char* name :
       {"Europe/Berlin", "America/New_York", "Asia/Tashkent",
        "Australia/Sydney", "America/Sao_Paulo", "Europe/London", "Asia/Tokyo",
        "America/Santiago", "Pacific/Auckland", "Africa/Cairo", "Europe/Moscow",
        "Asia/Tehran", "America/Mexico_City", "Africa/Casablanca",
        "Asia/Kolkata", "America/St_Johns", "Australia/Lord_Howe",
        "Pacific/Chatham"}) {
    for (int event_year : {2006, 2013, 2027}) {
      SCOPED_TRACE(absl::StrCat(name, " ", event_year));
      const absl::TimeZone zone = Zone(name);
      CalendarEvent event = SingleSession(name);
      event.start = Local(name, event_year, 4, 20, 18);
      const std::string text = RenderOrDie({event});

      absl::MutexLock lock(&internal::LibicalMutex());
      ComponentPtr calendar(icalparser_parse_string(text.c_str()));
      ASSERT_NE(calendar, nullptr);
      icalcomponent* vtz = icalcomponent_get_first_component(
          calendar.get(), ICAL_VTIMEZONE_COMPONENT);
      ASSERT_NE(vtz, nullptr);
      icaltimezone* parsed = icaltimezone_new();
      ASSERT_EQ(
          icaltimezone_set_component(parsed, icalcomponent_new_clone(vtz)), 1);
      int mismatches = 0;
      for (absl::CivilDay day(event_year - 1, 1, 1);
           day < absl::CivilDay(event_year - 1 + 30, 1, 1); day += 1) {
        const absl::CivilSecond noon(day.year(), day.month(), day.day(), 12, 0,
                                     0);
        icaltimetype local = icaltime_null_time();
        local.year = static_cast<int>(noon.year());
        local.month = noon.month();
        local.day = noon.day();
        local.hour = 12;
        int is_daylight = 0;
        const int offset =
            icaltimezone_get_utc_offset(parsed, &local, &is_daylight);
        const int expected = zone.At(absl::FromCivil(noon, zone)).offset;
        if (offset != expected && ++mismatches <= 3) {
          ADD_FAILURE() << absl::FormatCivilTime(noon) << ": " << offset
                        << " != " << expected;
        }
      }
      EXPECT_EQ(mismatches, 0);
      icaltimezone_free(parsed, 1);
    }
  }
}

}  // namespace
}  // namespace townhall::scheduling
