// Test support for the calendar and VTIMEZONE tests: sample events, a
// render that must succeed, and content lines to look at.
//
//   std::vector<std::string> lines = Unfold(RenderOrDie({BerlinSeries()}));
//   EXPECT_THAT(lines, Contains("TZID:Europe/Berlin"));
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/scheduling/calendar.h"
#include "services/scheduling/scheduling_test_support.h"

namespace townhall::scheduling::testing {

// DTSTAMP of every rendered calendar: 2027-03-08T12:00:00Z.
inline const absl::Time kExportTime = absl::FromUnixSeconds(1804507200);

inline CalendarEvent BerlinSeries() {
  CalendarEvent e;
  e.uid = "series-1@townhall";
  e.sequence = 3;
  e.last_modified = Utc(2027, 3, 1, 12);
  e.summary = "Open Day";
  e.description = "Consular questions";
  e.url = "https://meet.example.com/j/123?pwd=a,b;c";
  e.start = Local("Europe/Berlin", 2027, 3, 15, 10);
  e.duration = absl::Minutes(90);
  e.time_zone = "Europe/Berlin";
  e.rrule = "FREQ=WEEKLY;COUNT=10";
  e.exception_dates = {Local("Europe/Berlin", 2027, 3, 29, 10)};
  e.extra_dates = {Local("Europe/Berlin", 2027, 3, 31, 15)};
  return e;
}

inline CalendarEvent SingleSession(const std::string& zone) {
  CalendarEvent e;
  e.uid = "session-2@townhall";
  e.sequence = 0;
  e.last_modified = Utc(2027, 2, 1, 8);
  e.summary = "Q&A";
  e.start = Local(zone, 2027, 4, 20, 18);
  e.duration = absl::Hours(1);
  e.time_zone = zone;
  return e;
}

inline std::string RenderOrDie(const std::vector<CalendarEvent>& events) {
  absl::StatusOr<std::string> text = RenderCalendar(events, kExportTime);
  EXPECT_TRUE(text.ok()) << text.status();
  return text.ok() ? *text : std::string();
}

// Content lines: CRLF-separated, folded lines joined.
inline std::vector<std::string> Unfold(const std::string& text) {
  std::string unfolded = absl::StrReplaceAll(text, {{"\r\n ", ""}});
  std::vector<std::string> lines = absl::StrSplit(unfolded, "\r\n");
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

inline int CountLines(const std::vector<std::string>& lines,
                      absl::string_view line) {
  return static_cast<int>(std::count(lines.begin(), lines.end(), line));
}

}  // namespace townhall::scheduling::testing
