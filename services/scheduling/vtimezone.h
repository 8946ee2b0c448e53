// VTIMEZONE: the time zone blocks of an iCalendar export (calendar.h),
// built with libical and checked against zoneinfo.
//
// Each VTIMEZONE has the plain IANA name as TZID and only the rules from the
// year before the first event on (libical's own list every rule since the
// 1890s). Where libical's rules disagree with zoneinfo, the transitions are
// spelled out instead.
//
// Usage (under internal::LibicalMutex()):
//   ComponentPtr vtimezone =
//       internal::BuildVtimezone(libical_zone, "Europe/Berlin", zone, 2026);
#pragma once

#include <libical/ical.h>

#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "services/scheduling/libical_support.h"

namespace townhall::scheduling::internal {

// Returns a VTIMEZONE with TZID `name` (the plain IANA name) that is exact
// from January 1st of `first_year` for 30 years, or nullptr for a zone
// libical does not know. Requires LibicalMutex().
ComponentPtr BuildVtimezone(icaltimezone* libical_zone, const std::string& name,
                            const absl::TimeZone& zone, int64_t first_year);

}  // namespace townhall::scheduling::internal
