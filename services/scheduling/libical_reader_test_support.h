// Test support: reads an iCalendar text back with libical, as a calendar
// client would, and returns the start instants it shows. Used by the
// calendar unit tests and by tests/e2e/ics_instants (the libical side of the
// time zone property test, tests/e2e/test_calendar_zones_e2e.py).
//
// Each VEVENT with an RRULE is expanded by libical's iterator (in floating
// time), each instance converted by the VTIMEZONE the text embeds (each local
// time converted as libical converts it: a skipped time with the offset after
// the gap, a repeated one as its second instance, unlike RFC 5545), plus
// RDATEs, minus EXDATEs (compared in UTC, as libical's
// icalproperty_recurrence_is_excluded does); a VEVENT with a RECURRENCE-ID
// replaces the instance of its UID's series that it names (in UTC); any other
// VEVENT is its DTSTART. Cancelled events (STATUS:CANCELLED) are left out.
//
//   absl::StatusOr<std::vector<absl::Time>> starts = LibicalStarts(ics);
#pragma once

#include <libical/ical.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/scheduling/libical_support.h"

namespace townhall::scheduling::testing {

// The value of a DTSTART-like property of `event`, with its TZID resolved
// against the VTIMEZONEs of `calendar` (libical leaves it to the caller for
// RECURRENCE-ID).
inline icaltimetype ZonedValue(icalcomponent* calendar, icalcomponent* event,
                               icalproperty_kind kind) {
  icalproperty* prop = icalcomponent_get_first_property(event, kind);
  if (prop == nullptr) return icaltime_null_time();
  icaltimetype t = icalvalue_get_datetime(icalproperty_get_value(prop));
  icalparameter* tzid =
      icalproperty_get_first_parameter(prop, ICAL_TZID_PARAMETER);
  if (tzid != nullptr) {
    icaltimezone* zone =
        icalcomponent_get_timezone(calendar, icalparameter_get_tzid(tzid));
    if (zone != nullptr) t = icaltime_set_timezone(&t, zone);
  }
  return t;
}

inline absl::Time InstantOf(const icaltimetype& t) {
  return absl::FromTimeT(icaltime_as_timet_with_zone(
      t, t.zone != nullptr ? t.zone : icaltimezone_get_utc_timezone()));
}

// The start instants of every occurrence the calendar shows, sorted (an
// instant shown twice is listed twice).
inline absl::StatusOr<std::vector<absl::Time>> LibicalStarts(
    const std::string& text) {
  absl::MutexLock lock(&internal::LibicalMutex());
  icalerror_clear_errno();
  internal::ComponentPtr calendar(icalparser_parse_string(text.c_str()));
  if (calendar == nullptr) {
    return absl::InvalidArgumentError("libical cannot parse the calendar");
  }
  // Overrides by UID: the instants of the instances they replace, and
  // their own starts.
  std::map<std::string, std::set<absl::Time>> replaced;
  std::vector<absl::Time> starts;
  std::vector<icalcomponent*> masters;
  for (icalcomponent* c = icalcomponent_get_first_component(
           calendar.get(), ICAL_VEVENT_COMPONENT);
       c != nullptr; c = icalcomponent_get_next_component(
                         calendar.get(), ICAL_VEVENT_COMPONENT)) {
    // Calendars hide cancelled events (STATUS:CANCELLED).
    if (icalcomponent_get_status(c) == ICAL_STATUS_CANCELLED) continue;
    const icaltimetype dtstart =
        ZonedValue(calendar.get(), c, ICAL_DTSTART_PROPERTY);
    if (icaltime_is_null_time(dtstart)) {
      return absl::InvalidArgumentError("a VEVENT without DTSTART");
    }
    const icaltimetype rid =
        ZonedValue(calendar.get(), c, ICAL_RECURRENCEID_PROPERTY);
    if (!icaltime_is_null_time(rid)) {
      replaced[icalcomponent_get_uid(c)].insert(InstantOf(rid));
      starts.push_back(InstantOf(dtstart));
    } else if (icalcomponent_get_first_property(c, ICAL_RRULE_PROPERTY) !=
               nullptr) {
      masters.push_back(c);
    } else {
      starts.push_back(InstantOf(dtstart));
    }
  }
  for (icalcomponent* c : masters) {
    // libical 3.0's icalcomponent_foreach_recurrence gives every instance
    // DTSTART's UTC offset, so the rule is expanded with libical's iterator
    // and each instance converted by the VTIMEZONE, as libical converts a
    // time.
    const icaltimetype dtstart =
        ZonedValue(calendar.get(), c, ICAL_DTSTART_PROPERTY);
    std::set<absl::Time> excluded;
    for (icalproperty* p =
             icalcomponent_get_first_property(c, ICAL_EXDATE_PROPERTY);
         p != nullptr;
         p = icalcomponent_get_next_property(c, ICAL_EXDATE_PROPERTY)) {
      icaltimetype t = icalvalue_get_datetime(icalproperty_get_value(p));
      if (icalparameter* tzid =
              icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER)) {
        t = icaltime_set_timezone(
            &t, icalcomponent_get_timezone(calendar.get(),
                                           icalparameter_get_tzid(tzid)));
      }
      excluded.insert(InstantOf(t));  // libical compares them in UTC.
    }
    // RFC 5545: DTSTART is the first instance (libical skips it when it
    // does not match the rule).
    std::vector<absl::Time> instances = {InstantOf(dtstart)};
    const icalrecurrencetype recur = icalproperty_get_rrule(
        icalcomponent_get_first_property(c, ICAL_RRULE_PROPERTY));
    // Iterated in floating time, as recurrence.cc does: with a zoned
    // DTSTART, libical 3.0's iterator moves an instance that falls in a DST
    // gap (02:30 to 03:30) and keeps the moved wall-clock time for the
    // instances after it.
    icaltimetype floating = dtstart;
    floating.zone = nullptr;
    internal::IteratorPtr it(icalrecur_iterator_new(recur, floating));
    if (it == nullptr) return absl::InvalidArgumentError("bad RRULE");
    for (int n = 0; n < 10000; ++n) {
      icaltimetype t = icalrecur_iterator_next(it.get());
      if (icaltime_is_null_time(t)) break;
      t = icaltime_set_timezone(&t, dtstart.zone);
      instances.push_back(InstantOf(t));
    }
    for (icalproperty* p =
             icalcomponent_get_first_property(c, ICAL_RDATE_PROPERTY);
         p != nullptr;
         p = icalcomponent_get_next_property(c, ICAL_RDATE_PROPERTY)) {
      icaltimetype t = icalproperty_get_rdate(p).time;
      if (icalparameter* tzid =
              icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER)) {
        t = icaltime_set_timezone(
            &t, icalcomponent_get_timezone(calendar.get(),
                                           icalparameter_get_tzid(tzid)));
      }
      instances.push_back(InstantOf(t));
    }
    std::sort(instances.begin(), instances.end());
    instances.erase(std::unique(instances.begin(), instances.end()),
                    instances.end());
    const std::set<absl::Time>& gone = replaced[icalcomponent_get_uid(c)];
    for (absl::Time t : instances) {
      if (!excluded.contains(t) && !gone.contains(t)) starts.push_back(t);
    }
  }
  icalerror_clear_errno();
  std::sort(starts.begin(), starts.end());
  return starts;
}

}  // namespace townhall::scheduling::testing
