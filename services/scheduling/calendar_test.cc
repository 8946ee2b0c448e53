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
#include "services/scheduling/libical_reader_test_support.h"
#include "services/scheduling/libical_support.h"
#include "services/scheduling/recurrence.h"

namespace townhall::scheduling {
namespace {

using internal::ComponentPtr;
using testing::BerlinSeries;
using ::testing::Contains;
using testing::CountLines;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using testing::ExpectInvalid;
using ::testing::HasSubstr;
using testing::kExportTime;
using testing::LibicalStarts;
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
// A weekly series at 02:30 in New York: on 2027-03-14 02:30 does not exist
// and the occurrence lives at 03:30 EDT (07:30Z).
CalendarEvent NewYorkSeries() {
  CalendarEvent e;
  e.uid = "series-ny@townhall";
  e.last_modified = Utc(2027, 3, 1, 12);
  e.summary = "Town hall";
  e.start = Local("America/New_York", 2027, 3, 7, 2, 30);
  e.duration = absl::Hours(1);
  e.time_zone = "America/New_York";
  e.rrule = "FREQ=WEEKLY;COUNT=3";
  return e;
}

std::vector<absl::Time> LiveStarts(const CalendarEvent& e) {
  absl::StatusOr<std::vector<absl::Time>> starts =
      ExpandRecurrence({.rrule = e.rrule,
                        .first_start = e.start,
                        .time_zone = e.time_zone,
                        .exception_dates = e.exception_dates,
                        .extra_dates = e.extra_dates});
  EXPECT_TRUE(starts.ok()) << starts.status();
  return starts.ok() ? *starts : std::vector<absl::Time>();
}

std::vector<absl::Time> LibicalStartsOrDie(const std::string& text) {
  absl::StatusOr<std::vector<absl::Time>> starts = LibicalStarts(text);
  EXPECT_TRUE(starts.ok()) << starts.status() << "\n" << text;
  return starts.ok() ? *starts : std::vector<absl::Time>();
}

TEST(RenderCalendarTest, ExdateNamesTheRruleInstanceInADstGap) {
  CalendarEvent e = NewYorkSeries();
  const std::vector<absl::Time> all = LiveStarts(e);
  ASSERT_EQ(all.size(), 3);
  ASSERT_EQ(all[1], Utc(2027, 3, 14, 7, 30));  // 03:30 EDT
  // Live, the instance in the gap is an override of itself with its real
  // start: libical reads 02:30 as 06:30Z (01:30 EST), RFC 5545 as 07:30Z.
  std::string text = RenderOrDie({e});
  std::vector<std::string> lines = Unfold(text);
  EXPECT_EQ(CountLines(lines, "BEGIN:VEVENT"), 2);
  EXPECT_THAT(lines,
              Contains("RECURRENCE-ID;TZID=America/New_York:20270314T023000"));
  EXPECT_THAT(lines, Contains("DTSTART;TZID=America/New_York:20270314T033000"));
  EXPECT_THAT(LibicalStartsOrDie(text), ElementsAreArray(all)) << text;

  e.exception_dates = {all[1]};
  text = RenderOrDie({e});
  lines = Unfold(text);
  EXPECT_EQ(CountLines(lines, "BEGIN:VEVENT"), 1);
  // The value the RRULE generates, not the live 03:30.
  EXPECT_THAT(lines, Contains("EXDATE;TZID=America/New_York:20270314T023000"));
  EXPECT_THAT(lines,
              Not(Contains("EXDATE;TZID=America/New_York:20270314T033000")));
  EXPECT_THAT(LibicalStartsOrDie(text), ElementsAre(all[0], all[2])) << text;
}

TEST(RenderCalendarTest, InstancesFoldedByADstGapAreOneOccurrence) {
  // 02:30 (skipped) and 03:30 are both 07:30Z on 2027-03-14: one occurrence.
  CalendarEvent e = NewYorkSeries();
  e.start = Local("America/New_York", 2027, 3, 13, 2, 30);
  e.rrule = "FREQ=DAILY;BYHOUR=2,3;BYMINUTE=30;COUNT=4";
  const std::vector<absl::Time> live = LiveStarts(e);
  ASSERT_EQ(live.size(), 3);
  const std::string text = RenderOrDie({e});
  EXPECT_THAT(Unfold(text),
              Contains("EXDATE;TZID=America/New_York:20270314T033000"));
  EXPECT_THAT(LibicalStartsOrDie(text), ElementsAreArray(live)) << text;
}

TEST(RenderCalendarTest, RepeatedLocalTimesAreWrittenInUtc) {
  // 2027-10-31 02:30 in Berlin is 00:30Z (CEST) and 01:30Z (CET).
  for (const absl::Time start :
       {Utc(2027, 10, 31, 0, 30), Utc(2027, 10, 31, 1, 30)}) {
    CalendarEvent e = SingleSession("Europe/Berlin");
    e.start = start;
    const std::string text = RenderOrDie({e});
    const std::vector<std::string> lines = Unfold(text);
    EXPECT_THAT(lines, Contains(absl::FormatTime("DTSTART:%Y%m%dT%H%M%SZ",
                                                 start, absl::UTCTimeZone())));
    EXPECT_THAT(lines, Not(Contains("DTSTART;TZID=Europe/Berlin:"
                                    "20271031T023000")));
    EXPECT_THAT(LibicalStartsOrDie(text), ElementsAre(start)) << text;
  }
  // The end (02:30Z is 03:30 CET) is not repeated: local.
  CalendarEvent e = SingleSession("Europe/Berlin");
  e.start = Utc(2027, 10, 31, 1, 30);
  EXPECT_THAT(Unfold(RenderOrDie({e})),
              Contains("DTEND;TZID=Europe/Berlin:20271031T033000"));

  // A moved occurrence (RDATE) in the repeated hour.
  CalendarEvent series = BerlinSeries();
  series.extra_dates = {Utc(2027, 10, 31, 1, 30)};
  const std::string text = RenderOrDie({series});
  EXPECT_THAT(Unfold(text), Contains("RDATE:20271031T013000Z"));
  EXPECT_THAT(LibicalStartsOrDie(text), ElementsAreArray(LiveStarts(series)))
      << text;
}

TEST(RenderCalendarTest, SeriesStartingAtTheSecondOfARepeatedTime) {
  CalendarEvent e = SingleSession("Europe/Berlin");
  e.uid = "series-berlin@townhall";
  e.start = Utc(2027, 10, 31, 1, 30);  // The second 02:30 (CET).
  e.rrule = "FREQ=WEEKLY;COUNT=3";
  const std::vector<absl::Time> live = LiveStarts(e);
  ASSERT_EQ(live.front(), e.start);
  std::string text = RenderOrDie({e});
  std::vector<std::string> lines = Unfold(text);
  // DTSTART stays local (the RRULE repeats 02:30), but readers map it to
  // different instants (RFC 5545: 00:30Z, libical: 01:30Z): the instance is
  // an override of itself with its start in UTC, and the series has a
  // DURATION rather than a DTEND measured from DTSTART.
  EXPECT_THAT(lines, Contains("DTSTART;TZID=Europe/Berlin:20271031T023000"));
  EXPECT_THAT(lines, Contains("DURATION:PT1H"));
  EXPECT_THAT(lines,
              Contains("RECURRENCE-ID;TZID=Europe/Berlin:20271031T023000"));
  EXPECT_THAT(lines, Contains("DTSTART:20271031T013000Z"));
  EXPECT_THAT(lines, Contains("DTEND;TZID=Europe/Berlin:20271031T033000"));
  EXPECT_EQ(CountLines(lines, "BEGIN:VEVENT"), 2);
  EXPECT_THAT(LibicalStartsOrDie(text), ElementsAreArray(live)) << text;

  // Cancelled, the first occurrence is excluded, and has no override.
  e.exception_dates = {e.start};
  text = RenderOrDie({e});
  lines = Unfold(text);
  EXPECT_EQ(CountLines(lines, "EXDATE;TZID=Europe/Berlin:20271031T023000"), 1);
  EXPECT_EQ(CountLines(lines, "BEGIN:VEVENT"), 1);
  EXPECT_THAT(LibicalStartsOrDie(text), ElementsAreArray(LiveStarts(e)))
      << text;

  // At the first 02:30 (CEST) likewise.
  e.exception_dates.clear();
  e.start = Utc(2027, 10, 31, 0, 30);
  text = RenderOrDie({e});
  lines = Unfold(text);
  EXPECT_THAT(lines, Contains("DTSTART;TZID=Europe/Berlin:20271031T023000"));
  EXPECT_THAT(lines, Contains("DTSTART:20271031T003000Z"));
  for (const std::string& line : lines) {
    EXPECT_THAT(line, Not(StartsWith("EXDATE")));
    EXPECT_THAT(line, Not(StartsWith("RDATE")));
  }
  EXPECT_THAT(LibicalStartsOrDie(text), ElementsAreArray(LiveStarts(e)))
      << text;
}

TEST(RenderCalendarTest, OverrideNamesTheRruleInstance) {
  const CalendarEvent master = NewYorkSeries();
  const std::vector<absl::Time> all = LiveStarts(master);
  ASSERT_EQ(all.size(), 3);
  CalendarEvent own = master;
  own.rrule.clear();
  own.sequence = 2;
  own.summary = "Town hall (with the consul)";
  own.start = all[1] + absl::Hours(2);
  own.recurrence_id = all[1];
  const std::string text = RenderOrDie({master, own});
  const std::vector<std::string> lines = Unfold(text);
  EXPECT_EQ(CountLines(lines, "BEGIN:VEVENT"), 2);
  EXPECT_EQ(CountLines(lines, "UID:series-ny@townhall"), 2);
  EXPECT_THAT(lines,
              Contains("RECURRENCE-ID;TZID=America/New_York:20270314T023000"));
  EXPECT_THAT(lines, Contains("SUMMARY:Town hall (with the consul)"));
  EXPECT_THAT(lines, Contains("DTSTART;TZID=America/New_York:20270314T053000"));
  EXPECT_EQ(CountLines(lines, "RRULE:FREQ=WEEKLY;COUNT=3"), 1);
  for (const std::string& line : lines) {
    EXPECT_THAT(line, Not(StartsWith("EXDATE")));
    EXPECT_THAT(line, Not(StartsWith("RDATE")));
  }
  EXPECT_THAT(LibicalStartsOrDie(text), ElementsAre(all[0], own.start, all[2]))
      << text;

  // The first occurrence of a series starting at the second 02:30 in
  // Berlin: the override replaces the instance DTSTART reads as (no EXDATE
  // or RDATE) and has its own start in UTC.
  CalendarEvent berlin = SingleSession("Europe/Berlin");
  berlin.uid = "series-berlin@townhall";
  berlin.start = Utc(2027, 10, 31, 1, 30);
  berlin.rrule = "FREQ=WEEKLY;COUNT=2";
  CalendarEvent first = berlin;
  first.rrule.clear();
  first.summary = "First";
  first.recurrence_id = berlin.start;
  const std::string berlin_text = RenderOrDie({berlin, first});
  const std::vector<std::string> berlin_lines = Unfold(berlin_text);
  EXPECT_THAT(berlin_lines,
              Contains("RECURRENCE-ID;TZID=Europe/Berlin:20271031T023000"));
  EXPECT_THAT(berlin_lines, Contains("DTSTART:20271031T013000Z"));
  for (const std::string& line : berlin_lines) {
    EXPECT_THAT(line, Not(StartsWith("EXDATE")));
    EXPECT_THAT(line, Not(StartsWith("RDATE")));
  }
  EXPECT_THAT(LibicalStartsOrDie(berlin_text),
              ElementsAreArray(LiveStarts(berlin)))
      << berlin_text;
}

TEST(RenderCalendarTest, InvalidOverridesRejected) {
  const CalendarEvent master = NewYorkSeries();
  CalendarEvent own = master;
  own.rrule.clear();
  own.recurrence_id = Utc(2027, 3, 14, 7, 30);
  // Without its master.
  ExpectInvalid(RenderCalendar({own}, kExportTime).status(), "events[0].uid");
  // Not an instance of the rule.
  own.recurrence_id = Utc(2027, 3, 15, 7, 30);
  ExpectInvalid(RenderCalendar({master, own}, kExportTime).status(),
                "events[1].recurrence_id");
  // The master excludes the instance the override replaces.
  own.recurrence_id = Utc(2027, 3, 14, 7, 30);
  CalendarEvent excluding = master;
  excluding.exception_dates = {*own.recurrence_id};
  ExpectInvalid(RenderCalendar({excluding, own}, kExportTime).status(),
                "events[0].exception_dates");
  // An override with a rule of its own.
  own.rrule = "FREQ=DAILY;COUNT=2";
  ExpectInvalid(RenderCalendar({master, own}, kExportTime).status(),
                "events[1].recurrence_id");
}

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
