// Recurrence: expanding RFC 5545 RRULEs (with libical) into the instants of
// a series' occurrences, in the series' IANA time zone.
//
// Expansion happens in local wall-clock time and each local start is then
// mapped to an absolute instant with the zone's rules, so a series at 10:00
// in Europe/Berlin stays at 10:00 local across daylight-saving changes (its
// UTC instant moves by an hour).
//
// Usage:
//   TH_ASSIGN_OR_RETURN(std::vector<absl::Time> starts,
//       ExpandRecurrence({.rrule = "FREQ=WEEKLY;COUNT=4",
//                         .first_start = start, .time_zone =
//                         "Europe/Berlin"}));
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/scheduling/rrule.h"  // ValidateRrule, for every caller.

namespace townhall::scheduling {

// Hard bound on occurrences of one series: a series is materialized as one
// session per occurrence.
inline constexpr int kMaxOccurrences = 200;
// Rules without COUNT or UNTIL are expanded up to this far after the first
// start (and never past the range of session starts).
inline constexpr absl::Duration kOpenEndedHorizon = absl::Hours(24 * 366);
// Bound on the work of one expansion, in candidates libical checks: for
// DAILY rules every start time of every day stepped through (a sparse rule
// such as FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO steps through ~10,000
// days per occurrence), for WEEKLY every day of every week, for MONTHLY and
// YEARLY each month or year expanded. 10,000 cost ~25 ms of CPU.
inline constexpr int64_t kMaxExpansionCandidates = 10000;

struct RecurrenceSpec {
  // RRULE value without "RRULE:", e.g. "FREQ=MONTHLY;BYDAY=2SA;COUNT=6".
  std::string rrule;
  // DTSTART: its local wall-clock time in `time_zone` is what repeats.
  absl::Time first_start;
  // IANA name, e.g. "Europe/Berlin".
  std::string time_zone;
  // EXDATEs: original starts to leave out.
  std::vector<absl::Time> exception_dates;
  // RDATEs: extra starts to add.
  std::vector<absl::Time> extra_dates;
};

// Returns the occurrence starts in increasing order: the RRULE expansion
// (DTSTART included), minus exception_dates, plus extra_dates. Open-ended
// rules stop at kOpenEndedHorizon. INVALID_ARGUMENT naming the field: more
// than kMaxOccurrences occurrences, an occurrence (or UNTIL) outside the
// range a single session may start in (ValidateTimestamp), a rule that needs
// more than kMaxExpansionCandidates to expand, a bad rule (as ValidateRrule
// refuses it) or an unknown time zone. Thread-safe; does not take
// internal::LibicalMutex().
absl::StatusOr<std::vector<absl::Time>> ExpandRecurrence(
    const RecurrenceSpec& spec);

// One instance of a rule, as RFC 5545 generates it.
struct RecurrenceInstance {
  // The wall-clock value the RRULE generates in the zone: the value an
  // EXDATE or a RECURRENCE-ID must name (RFC 5545 matches them by value).
  // It may fall in a DST gap (02:30 on a spring-forward night) or in a
  // repeated hour.
  absl::CivilSecond local;
  // The live start: first_start for DTSTART, else `local` read as RFC 5545
  // reads it (a skipped time with the offset from before the gap, a
  // repeated one as its first instance).
  absl::Time start;
};

// The RRULE's instances in increasing order, DTSTART first, with their
// local values: exception_dates are not removed and extra_dates not added,
// so each original start that ExpandRecurrence returns (or that an
// exception date removed) has its instance here. Two instances may share a
// start (local times in a DST gap and after it). Errors as
// ExpandRecurrence's. Thread-safe; does not take internal::LibicalMutex().
absl::StatusOr<std::vector<RecurrenceInstance>> ExpandRecurrenceInstances(
    const RecurrenceSpec& spec);

}  // namespace townhall::scheduling
