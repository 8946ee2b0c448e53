// RRULE: parsing and validating RFC 5545 recurrence rules (with libical)
// before anything expands them (recurrence.h) or writes them into a
// calendar (calendar.h).
//
// A rule is refused up front when libical would fail on it or misbehave:
// sub-daily frequencies, RSCALE, too many start times per day, BY* parts
// that never match together (libical would search up to the year 20000
// for a first match, 0.1 to 2 s a call).
//
// Usage:
//   TH_RETURN_IF_ERROR(ValidateRrule(series.rrule(), "series.rrule"));
#pragma once

#include <libical/ical.h>

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "services/common/validation.h"
#include "services/scheduling/libical_support.h"

namespace townhall::scheduling {

// BYHOUR x BYMINUTE x BYSECOND: start times a rule may have per day.
inline constexpr int64_t kMaxStartsPerDay = 24;

// Checks that `rrule` parses and is within the limits (INVALID_ARGUMENT
// naming `field` otherwise); a MONTHLY or YEARLY rule must have an
// occurrence between 2000-01-03 and the end of the session range. Costs at
// most one probe per month or year of that range (~30 ms of CPU).
absl::Status ValidateRrule(absl::string_view rrule,
                           absl::string_view field = "series.rrule");

namespace internal {

// Field named by errors about a series' rule.
inline constexpr absl::string_view kRruleField = "series.rrule";
// Occurrences start where a single session may (ValidateTimestamp).
inline constexpr absl::Time kRangeEnd =
    absl::FromUnixSeconds(kTimestampEndSeconds);

// INVALID_ARGUMENT on kRruleField quoting `rrule`, then `reason`.
absl::Status RuleError(absl::string_view rrule, absl::string_view reason);

// Parses `rrule` and rejects what ValidateRrule rejects, naming `field`.
absl::StatusOr<ParsedRrule> ParseRrule(absl::string_view rrule,
                                       absl::string_view field);

// Start times per day: BYHOUR x BYMINUTE x BYSECOND (an empty part means
// DTSTART's one value). Each is a candidate libical checks on every day.
int64_t TimesPerDay(const icalrecurrencetype& recur);

// Gives empty BYHOUR, BYMINUTE and BYSECOND the values libical would take
// from `dtstart`, for iterators that start on another day or time.
void PinStartTimes(icalrecurrencetype& rule, const absl::CivilSecond& dtstart);

// Whether a MONTHLY or YEARLY rule has an occurrence from `dtstart` to
// `last`, at a cost bounded by the number of periods in between (libical's
// own search for a first match is unbounded).
bool HasOccurrence(const icalrecurrencetype& recur,
                   const absl::CivilSecond& dtstart,
                   const absl::CivilSecond& last);

}  // namespace internal
}  // namespace townhall::scheduling
