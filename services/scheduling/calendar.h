// Calendar: renders sessions and series as RFC 5545 iCalendar text (with
// libical), for calendar clients (Outlook, Google Calendar, Thunderbird).
//
// Each event carries a stable UID (derived from the session or series id, so
// a re-export updates the same calendar entry) and a SEQUENCE that grows with
// every change. Times are written with TZID and a VTIMEZONE per zone, with
// plain IANA names and only the rules the events need (libical's own
// VTIMEZONEs list every rule since the 1890s).
//
// Local times that do not name one instant are written so that readers
// (RFC 5545 and libical alike, which map such times differently) get the
// live instants back:
// - EXDATE and RECURRENCE-ID name the instance as the series' RRULE
//   generates it, which every reader maps like the instance itself: a weekly
//   series at 02:30 whose occurrence on a spring-forward night lives at 03:30
//   is excluded as 02:30.
// - A live instance whose local value is in a DST gap or a repeated hour is
//   written as an override of itself (RECURRENCE-ID, and its real start as
//   DTSTART).
// - DTSTART, DTEND and RDATE of an instant whose local time is repeated (the
//   fall-back hour) are written in UTC ("...Z"). A series' DTSTART stays
//   local, since its RRULE repeats that wall-clock time; when it is repeated
//   the series has DURATION instead of DTEND.
#pragma once

#include <cstdint>
#include <optional>
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
  // For one occurrence of a series with details of its own (title, time,
  // ...), exported as an override of the series' instance (RFC 5545
  // RECURRENCE-ID): the occurrence's original start, one the series'
  // expansion produced. `uid` is the series master's, which must be among
  // the rendered events; `rrule`, exception_dates and extra_dates must be
  // empty, and the master must neither exclude this instance nor add
  // `start` as an RDATE.
  std::optional<absl::Time> recurrence_id;
};

// Renders a VCALENDAR (PRODID, VERSION 2.0, METHOD PUBLISH) holding one
// VTIMEZONE per zone used and one VEVENT per event, in order, then the
// overrides made for instances in DST gaps and repeated hours. Lines end with
// CRLF. INVALID_ARGUMENT naming the field for a bad event, an override without
// its master or whose recurrence_id the master's rule does not generate, or a
// master whose rule does not expand (ExpandRecurrence's errors). `created` is
// the export time, written as each DTSTAMP (RFC 5545 3.8.7.2: with METHOD,
// DTSTAMP is when the iCalendar object was created).
absl::StatusOr<std::string> RenderCalendar(
    const std::vector<CalendarEvent>& events, absl::Time created);

}  // namespace townhall::scheduling
