#include "services/scheduling/calendar.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libical/ical.h>

#include <cstddef>
#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "services/common/utf8.h"
#include "services/scheduling/calendar_test_support.h"
#include "services/scheduling/libical_support.h"
#include "services/scheduling/recurrence.h"

namespace townhall::scheduling {
namespace {

using internal::ComponentPtr;
using testing::BerlinSeries;
using ::testing::Contains;
using testing::CountLines;
using ::testing::HasSubstr;
using testing::kExportTime;
using testing::Local;
using ::testing::Not;
using testing::RenderOrDie;
using testing::SingleSession;
using ::testing::StartsWith;
using testing::Unfold;
using testing::Utc;

// RFC 5545 3.1: CRLF line ends, at most 75 octets a line, and (as libical
// promises) no UTF-8 sequence split across a fold.
void ExpectWellFormedLines(const std::string& text) {
  ASSERT_TRUE(absl::EndsWith(text, "\r\n"));
  size_t begin = 0;
  while (begin < text.size()) {
    const size_t end = text.find("\r\n", begin);
    ASSERT_NE(end, std::string::npos) << "unterminated line at " << begin;
    const absl::string_view line(text.data() + begin, end - begin);
    EXPECT_LE(line.size(), 75) << line;
    EXPECT_EQ(line.find('\n'), absl::string_view::npos) << line;
    EXPECT_EQ(line.find('\r'), absl::string_view::npos) << line;
    EXPECT_TRUE(IsValidUtf8(line)) << line;
    begin = end + 2;
  }
}

TEST(RenderCalendarTest, SeriesWithExceptions) {
  const std::string text = RenderOrDie({BerlinSeries()});
  EXPECT_THAT(text, StartsWith("BEGIN:VCALENDAR\r\n"));
  EXPECT_TRUE(absl::EndsWith(text, "END:VCALENDAR\r\n"));
  EXPECT_THAT(text, Not(HasSubstr("freeassociation")));
  ExpectWellFormedLines(text);

  const std::vector<std::string> lines = Unfold(text);
  for (const char* expected : {
           "PRODID:-//townhall//townhall 1.0//EN",
           "VERSION:2.0",
           "CALSCALE:GREGORIAN",
           "METHOD:PUBLISH",
           "BEGIN:VTIMEZONE",
           "TZID:Europe/Berlin",
           "BEGIN:VEVENT",
           "UID:series-1@townhall",
           "SEQUENCE:3",
           "DTSTAMP:20270308T120000Z",
           "LAST-MODIFIED:20270301T120000Z",
           "SUMMARY:Open Day",
           "DESCRIPTION:Consular questions",
           "URL:https://meet.example.com/j/123?pwd=a,b;c",
           "DTSTART;TZID=Europe/Berlin:20270315T100000",
           "DTEND;TZID=Europe/Berlin:20270315T113000",
           "STATUS:CONFIRMED",
           "RRULE:FREQ=WEEKLY;COUNT=10",
           "EXDATE;TZID=Europe/Berlin:20270329T100000",
           "RDATE;TZID=Europe/Berlin:20270331T150000",
           "END:VEVENT",
       }) {
    EXPECT_THAT(lines, Contains(expected));
  }
  // No LOCATION for an online session.
  for (const std::string& line : lines) {
    EXPECT_THAT(line, Not(StartsWith("LOCATION")));
  }
}

TEST(RenderCalendarTest, TextIsEscaped) {
  CalendarEvent e = SingleSession("Asia/Tashkent");
  e.summary = "Oʻzbekiston, Тошкент; «Open Day»\nline 2 back\\slash";
  e.description = "Windows\r\nline ends\rand a bell\a and tab\tend";
  e.location = "Embassy; Berlin, Perleberger Straße 62";
  const std::string text = RenderOrDie({e});
  ExpectWellFormedLines(text);
  const std::vector<std::string> lines = Unfold(text);
  EXPECT_THAT(lines, Contains("SUMMARY:Oʻzbekiston\\, Тошкент\\; «Open Day»"
                              "\\nline 2 back\\\\slash"));
  EXPECT_THAT(lines, Contains("DESCRIPTION:Windows\\nline ends\\nand a bell "
                              "and tab\tend"));
  EXPECT_THAT(lines,
              Contains("LOCATION:Embassy\\; Berlin\\, Perleberger Straße 62"));

  // A client reading it back gets the original text.
  absl::MutexLock lock(&internal::LibicalMutex());
  ComponentPtr calendar(icalparser_parse_string(text.c_str()));
  ASSERT_NE(calendar, nullptr);
  icalcomponent* vevent =
      icalcomponent_get_first_component(calendar.get(), ICAL_VEVENT_COMPONENT);
  ASSERT_NE(vevent, nullptr);
  EXPECT_EQ(std::string(icalcomponent_get_summary(vevent)), e.summary);
  EXPECT_EQ(std::string(icalcomponent_get_location(vevent)), e.location);
}

TEST(RenderCalendarTest, LongLinesAreFoldedWithoutSplittingCharacters) {
  CalendarEvent e = SingleSession("Europe/Berlin");
  std::string long_word;
  for (int i = 0; i < 60; ++i) long_word += "Ўзбекистонʻ";
  e.summary = long_word;
  e.description = "Очень длинное описание, " + long_word + " конец.";
  const std::string text = RenderOrDie({e});
  ExpectWellFormedLines(text);
  EXPECT_THAT(Unfold(text), Contains("SUMMARY:" + long_word));

  absl::MutexLock lock(&internal::LibicalMutex());
  ComponentPtr calendar(icalparser_parse_string(text.c_str()));
  ASSERT_NE(calendar, nullptr);
  icalcomponent* vevent =
      icalcomponent_get_first_component(calendar.get(), ICAL_VEVENT_COMPONENT);
  ASSERT_NE(vevent, nullptr);
  EXPECT_EQ(std::string(icalcomponent_get_summary(vevent)), long_word);
}

TEST(RenderCalendarTest, ParsesBackWithLibical) {
  CalendarEvent cancelled = SingleSession("Europe/Berlin");
  cancelled.sequence = 5;
  cancelled.status = "CANCELLED";
  cancelled.location = "Embassy";
  const std::string text = RenderOrDie({BerlinSeries(), cancelled});

  absl::MutexLock lock(&internal::LibicalMutex());
  ComponentPtr calendar(icalparser_parse_string(text.c_str()));
  ASSERT_NE(calendar, nullptr);
  EXPECT_EQ(icalcomponent_isa(calendar.get()), ICAL_VCALENDAR_COMPONENT);
  EXPECT_EQ(
      icalcomponent_count_components(calendar.get(), ICAL_VEVENT_COMPONENT), 2);
  // Both events share one VTIMEZONE.
  EXPECT_EQ(
      icalcomponent_count_components(calendar.get(), ICAL_VTIMEZONE_COMPONENT),
      1);
  std::vector<int> sequences;
  std::vector<std::string> uids;
  for (icalcomponent* c = icalcomponent_get_first_component(
           calendar.get(), ICAL_VEVENT_COMPONENT);
       c != nullptr; c = icalcomponent_get_next_component(
                         calendar.get(), ICAL_VEVENT_COMPONENT)) {
    sequences.push_back(icalcomponent_get_sequence(c));
    uids.push_back(icalcomponent_get_uid(c));
  }
  EXPECT_THAT(sequences, ::testing::ElementsAre(3, 5));
  EXPECT_THAT(
      uids, ::testing::ElementsAre("series-1@townhall", "session-2@townhall"));
  icalcomponent* second =
      icalcomponent_get_next_component(calendar.get(), ICAL_VEVENT_COMPONENT);
  EXPECT_EQ(second, nullptr);
  EXPECT_EQ(icalcomponent_count_errors(calendar.get()), 0);
}

TEST(RenderCalendarTest, UntilIsWrittenInUtc) {
  CalendarEvent e = BerlinSeries();
  // Floating UNTIL: local time in the event's zone (10:00 CEST = 08:00Z).
  e.rrule = "FREQ=WEEKLY;UNTIL=20270329T100000";
  EXPECT_THAT(Unfold(RenderOrDie({e})),
              Contains("RRULE:FREQ=WEEKLY;UNTIL=20270329T080000Z"));
  // DATE UNTIL: the whole local day.
  e.rrule = "FREQ=WEEKLY;UNTIL=20270329";
  EXPECT_THAT(Unfold(RenderOrDie({e})),
              Contains("RRULE:FREQ=WEEKLY;UNTIL=20270329T215959Z"));
  e.rrule = "FREQ=WEEKLY;UNTIL=20270329T080000Z";
  EXPECT_THAT(Unfold(RenderOrDie({e})),
              Contains("RRULE:FREQ=WEEKLY;UNTIL=20270329T080000Z"));
}

TEST(RenderCalendarTest, UtcZoneUsesUtcTimes) {
  CalendarEvent e = SingleSession("UTC");
  e.exception_dates = {Utc(2027, 4, 27, 18)};
  const std::string text = RenderOrDie({e});
  const std::vector<std::string> lines = Unfold(text);
  EXPECT_THAT(lines, Contains("DTSTART:20270420T180000Z"));
  EXPECT_THAT(lines, Contains("DTEND:20270420T190000Z"));
  EXPECT_THAT(lines, Contains("EXDATE:20270427T180000Z"));
  EXPECT_THAT(text, Not(HasSubstr("VTIMEZONE")));
}

TEST(RenderCalendarTest, EventsInSeveralZones) {
  const std::string text =
      RenderOrDie({BerlinSeries(), SingleSession("Asia/Tashkent"),
                   SingleSession("Europe/Berlin")});
  const std::vector<std::string> lines = Unfold(text);
  EXPECT_EQ(CountLines(lines, "BEGIN:VTIMEZONE"), 2);
  EXPECT_EQ(CountLines(lines, "BEGIN:VEVENT"), 3);
  EXPECT_THAT(lines, Contains("TZID:Asia/Tashkent"));
  EXPECT_THAT(lines, Contains("TZID:Europe/Berlin"));
  // Deterministic.
  EXPECT_EQ(text, RenderOrDie({BerlinSeries(), SingleSession("Asia/Tashkent"),
                               SingleSession("Europe/Berlin")}));
}

// Issue 14 item 6: a link is written under its canonical IANA name, so a
// session stored with "Asia/Calcutta" exports as Asia/Kolkata, and names
// that are not zones never reach a calendar.
TEST(RenderCalendarTest, ZonesAreExportedUnderTheirCanonicalName) {
  const std::string text = RenderOrDie(
      {SingleSession("Asia/Calcutta"), SingleSession("Asia/Kolkata")});
  const std::vector<std::string> lines = Unfold(text);
  EXPECT_EQ(CountLines(lines, "BEGIN:VTIMEZONE"), 1);
  EXPECT_THAT(lines, Contains("TZID:Asia/Kolkata"));
  EXPECT_THAT(lines, Contains("DTSTART;TZID=Asia/Kolkata:20270420T180000"));
  EXPECT_THAT(text, Not(HasSubstr("Calcutta")));

  const std::vector<std::string> utc =
      Unfold(RenderOrDie({SingleSession("Etc/UTC")}));
  EXPECT_THAT(utc, Contains("DTSTART:20270420T180000Z"));

  for (const char* zone : {"posixrules", "posix/Europe/Berlin", "Factory"}) {
    SCOPED_TRACE(zone);
    CalendarEvent e = SingleSession("Europe/Berlin");
    e.time_zone = zone;
    absl::StatusOr<std::string> rendered = RenderCalendar({e}, kExportTime);
    EXPECT_EQ(rendered.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(rendered.status().message()),
                StartsWith("events[0].time_zone: unknown time zone"));
  }
}

TEST(RenderCalendarTest, InvalidEventsRejected) {
  auto expect_invalid = [](const std::vector<CalendarEvent>& events,
                           const std::string& prefix) {
    absl::StatusOr<std::string> text = RenderCalendar(events, kExportTime);
    EXPECT_EQ(text.status().code(), absl::StatusCode::kInvalidArgument)
        << prefix;
    EXPECT_THAT(std::string(text.status().message()), StartsWith(prefix));
  };
  CalendarEvent e = SingleSession("Europe/Berlin");
  e.time_zone = "Mars/Olympus_Mons";
  expect_invalid({BerlinSeries(), e}, "events[1].time_zone: unknown time zone");
  e = SingleSession("Europe/Berlin");
  e.time_zone = "../../etc/localtime";
  expect_invalid({e}, "events[0].time_zone: unknown time zone");
  e = BerlinSeries();
  e.rrule = "FREQ=SOMETIMES";
  expect_invalid({e}, "events[0].rrule: ");
  e = BerlinSeries();
  e.uid = "";
  expect_invalid({e}, "events[0].uid: ");
  e = BerlinSeries();
  e.status = "MAYBE";
  expect_invalid({e}, "events[0].status: ");
  e = BerlinSeries();
  e.duration = absl::ZeroDuration();
  expect_invalid({e}, "events[0].duration: ");
  e = BerlinSeries();
  e.url = "https://x.example/\r\nEVIL:1";
  expect_invalid({e}, "events[0].url: ");
  e = BerlinSeries();
  e.sequence = -1;
  expect_invalid({e}, "events[0].sequence: ");
}

// libical has process-wide state; concurrent callers must get exactly what
// a single caller gets. Zones are first loaded inside the threads, so lazy
// loading races too.
TEST(ConcurrencyTest, ParallelCallsMatchSequentialResults) {
  const std::vector<std::string> zones = {
      "Europe/Paris",    "Asia/Samarkand",    "America/Chicago",
      "Australia/Perth", "Africa/Casablanca", "America/Havana",
      "Asia/Kathmandu",  "Europe/Chisinau"};
  constexpr int kRounds = 20;
  struct Result {
    std::vector<absl::Time> starts;
    std::string calendar;
  };
  auto compute = [](const std::string& zone) {
    Result r;
    absl::StatusOr<std::vector<absl::Time>> starts =
        ExpandRecurrence({.rrule = "FREQ=WEEKLY;BYDAY=MO,TH;COUNT=60",
                          .first_start = Local(zone, 2027, 1, 4, 10),
                          .time_zone = zone});
    EXPECT_TRUE(starts.ok()) << starts.status();
    if (starts.ok()) r.starts = *starts;
    CalendarEvent e = SingleSession(zone);
    e.summary = "Concurrent, " + zone;
    e.rrule = "FREQ=WEEKLY;BYDAY=MO,TH;COUNT=60";
    e.exception_dates = {r.starts.size() > 3 ? r.starts[3] : absl::Time()};
    r.calendar = RenderOrDie({e, SingleSession(zone)});
    return r;
  };

  std::vector<std::vector<Result>> parallel(zones.size());
  std::latch start(static_cast<std::ptrdiff_t>(zones.size()));
  std::vector<std::thread> threads;
  for (size_t i = 0; i < zones.size(); ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      for (int round = 0; round < kRounds; ++round) {
        parallel[i].push_back(compute(zones[i]));
      }
    });
  }
  for (std::thread& t : threads) t.join();

  for (size_t i = 0; i < zones.size(); ++i) {
    SCOPED_TRACE(zones[i]);
    const Result sequential = compute(zones[i]);
    ASSERT_EQ(sequential.starts.size(), 60);
    EXPECT_THAT(sequential.calendar, HasSubstr("TZID:" + zones[i]));
    ASSERT_EQ(parallel[i].size(), kRounds);
    for (const Result& r : parallel[i]) {
      EXPECT_EQ(r.starts, sequential.starts);
      EXPECT_EQ(r.calendar, sequential.calendar);
    }
  }
}

}  // namespace
}  // namespace townhall::scheduling
