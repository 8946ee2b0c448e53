// Calendar: renders sessions and series as RFC 5545 iCalendar text (with
// libical), for calendar clients (Outlook, Google Calendar, Thunderbird).
//
// Each event carries a stable UID (derived from the session or series id, so
// a re-export updates the same calendar entry) and a SEQUENCE that grows with
// every change. Times are written with TZID and a VTIMEZONE per zone, with
// plain IANA names and only the rules the events need (libical's own
// VTIMEZONEs list every rule since the 1890s).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace townhall::scheduling {

struct CalendarEvent {
  // Globally unique and stable, e.g. "<session-id>@townhall".
  std::string uid;
  int64_t sequence = 0;
  // DTSTAMP/LAST-MODIFIED: when this version of the event was made.
  absl::Time last_modified;
  std::string summary;
  std::string description;
  // LOCATION: venue name and address, empty for online sessions.
  std::string location;
  // URL: the video platform's join link.
  std::string url;
  absl::Time start;
  absl::Duration duration;
  // IANA zone used for DTSTART/EXDATE/RDATE; written under its canonical
  // name (a link such as Asia/Calcutta becomes Asia/Kolkata).
  std::string time_zone;
  // STATUS: "CONFIRMED", "TENTATIVE" or "CANCELLED".
  std::string status = "CONFIRMED";
  // For a series master: the RRULE value and its exceptions.
  std::string rrule;
  std::vector<absl::Time> exception_dates;
  std::vector<absl::Time> extra_dates;
};

// Renders a VCALENDAR (PRODID, VERSION 2.0, METHOD PUBLISH) holding one
// VTIMEZONE per zone used and one VEVENT per event. Lines end with CRLF.
// `created` is the export time, written as each DTSTAMP (RFC 5545 3.8.7.2:
// with METHOD, DTSTAMP is when the iCalendar object was created).
absl::StatusOr<std::string> RenderCalendar(
    const std::vector<CalendarEvent>& events, absl::Time created);

}  // namespace townhall::scheduling
