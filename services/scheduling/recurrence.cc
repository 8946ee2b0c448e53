#include "services/scheduling/recurrence.h"

#include <libical/ical.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "services/common/validation.h"
#include "services/scheduling/libical_support.h"

namespace townhall::scheduling {
namespace {

using internal::FloorToSecond;
using internal::IteratorPtr;
using internal::LibicalMutex;

constexpr absl::string_view kRruleField = "series.rrule";
constexpr absl::string_view kTimeZoneField = "series.template.time_zone";
constexpr absl::string_view kStartField = "series.template.start_time";
constexpr absl::string_view kExceptionDatesField = "series.exception_dates";
constexpr absl::string_view kExtraDatesField = "series.extra_dates";

// Real rules are a few dozen characters; the bound keeps error messages
// (which quote the rule) and parser work small.
constexpr size_t kMaxRruleLength = 512;
// libical's iterator refuses to start in far-future years (~2582); this
// range leaves a margin and excludes nonsense dates.
constexpr int kMinYear = 1900;
constexpr int kMaxYear = 2500;

// A time without zone: libical then iterates in plain wall-clock time.
icaltimetype FloatingTime(const absl::CivilSecond& local) {
  icaltimetype t = icaltime_null_time();
  t.year = static_cast<int>(local.year());
  t.month = local.month();
  t.day = local.day();
  t.hour = local.hour();
  t.minute = local.minute();
  t.second = local.second();
  return t;
}

absl::CivilSecond ToCivil(const icaltimetype& t) {
  return absl::CivilSecond(t.year, t.month, t.day, t.hour, t.minute, t.second);
}

absl::StatusOr<absl::TimeZone> LoadZone(absl::string_view name) {
  return ValidateTimeZone(kTimeZoneField, name);
}

// Whether some month allowed by BYMONTH has a day allowed by BYMONTHDAY.
// For a rule like "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30" libical's iterator
// scans every day up to its last year before giving up (~0.5 s, holding
// LibicalMutex), and YEARLY is the only frequency it checks up front.
bool SomeMonthHasTheDay(const icalrecurrencetype& recur) {
  // Longest month lengths (leap years included).
  static constexpr int kDaysInMonth[] = {31, 29, 31, 30, 31, 30,
                                         31, 31, 30, 31, 30, 31};
  auto allowed = [](const short* values, int size) {
    std::vector<int> out;
    for (int i = 0; i < size && values[i] != ICAL_RECURRENCE_ARRAY_MAX; ++i) {
      out.push_back(values[i]);
    }
    return out;
  };
  const std::vector<int> days =
      allowed(recur.by_month_day, ICAL_BY_MONTHDAY_SIZE);
  if (days.empty()) return true;
  std::vector<int> months = allowed(recur.by_month, ICAL_BY_MONTH_SIZE);
  if (months.empty()) months = {1, 3, 5, 7, 8, 10, 12};
  for (int encoded : months) {
    const int month = icalrecurrencetype_month_month(encoded);
    if (month < 1 || month > 12) return true;  // Leave it to libical.
    for (int day : days) {
      if (std::abs(day) <= kDaysInMonth[month - 1]) return true;
    }
  }
  return false;
}

// Checks the ordinals of BYDAY ("2SA", "-1FR"). RFC 5545 allows them only
// in MONTHLY rules (the n-th weekday of the month: at most 5) and YEARLY
// ones (of the year: at most 53; of each BYMONTH month: at most 5). For an
// ordinal that never matches libical scans up to its last year, for
// seconds, holding LibicalMutex (found by tests/fuzz/recurrence_fuzzer).
absl::Status CheckWeekdayOrdinals(const icalrecurrencetype& recur,
                                  absl::string_view field) {
  int max_ordinal = 0;
  if (recur.freq == ICAL_MONTHLY_RECURRENCE) max_ordinal = 5;
  if (recur.freq == ICAL_YEARLY_RECURRENCE) {
    const bool has_months = recur.by_month[0] != ICAL_RECURRENCE_ARRAY_MAX;
    max_ordinal = has_months ? 5 : 53;
  }
  for (int i = 0;
       i < ICAL_BY_DAY_SIZE && recur.by_day[i] != ICAL_RECURRENCE_ARRAY_MAX;
       ++i) {
    const int ordinal = icalrecurrencetype_day_position(recur.by_day[i]);
    if (ordinal == 0 || std::abs(ordinal) <= max_ordinal) continue;
    if (max_ordinal == 0) {
      return InvalidField(field,
                          "BYDAY with an ordinal (like 2SA) needs FREQ=MONTHLY "
                          "or FREQ=YEARLY");
    }
    return InvalidField(
        field, absl::StrFormat("BYDAY ordinal %d is outside -%d..%d here",
                               ordinal, max_ordinal, max_ordinal));
  }
  return absl::OkStatus();
}

// Parses `rrule` and rejects what would fail or misbehave later. Requires
// LibicalMutex() (see libical_support.h); parse errors come back through
// libical's icalerrno.
absl::StatusOr<icalrecurrencetype> ParseRruleLocked(absl::string_view rrule,
                                                    absl::string_view field) {
  if (rrule.empty()) return InvalidField(field, "must not be empty");
  if (rrule.size() > kMaxRruleLength) {
    return InvalidField(
        field, absl::StrCat("longer than ", kMaxRruleLength, " characters"));
  }
  // Also keeps NULs out of the C string handed to libical.
  for (char c : rrule) {
    if (!absl::ascii_isgraph(static_cast<unsigned char>(c))) {
      return InvalidField(field, "must be printable ASCII without spaces");
    }
  }
  const std::string text(rrule);
  icalerror_clear_errno();
  icalrecurrencetype recur = icalrecurrencetype_from_string(text.c_str());
  const icalerrorenum error = icalerrno;
  icalerror_clear_errno();
  if (error != ICAL_NO_ERROR) {
    return InvalidField(field,
                        absl::StrFormat("not a valid RRULE: \"%s\"", rrule));
  }
  // "" and "COUNT=3" parse without error but have no frequency.
  if (recur.freq == ICAL_NO_RECURRENCE) {
    return InvalidField(field, "FREQ is missing");
  }
  // Sub-daily series make no sense for sessions, and an impossible
  // sub-daily rule keeps libical busy for seconds to minutes (it scans
  // every hour/minute up to its last year) while holding LibicalMutex.
  if (recur.freq == ICAL_SECONDLY_RECURRENCE ||
      recur.freq == ICAL_MINUTELY_RECURRENCE ||
      recur.freq == ICAL_HOURLY_RECURRENCE) {
    return InvalidField(field, "FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY");
  }
  // Non-Gregorian calendars (RFC 7529) are not understood by most clients.
  if (recur.rscale != nullptr)
    return InvalidField(field, "RSCALE is not supported");
  if (!SomeMonthHasTheDay(recur)) {
    return InvalidField(field, "BYMONTHDAY never falls in BYMONTH");
  }
  if (absl::Status ordinals = CheckWeekdayOrdinals(recur, field);
      !ordinals.ok()) {
    return ordinals;
  }
  // Some contradictions (BYWEEKNO in a WEEKLY rule, February 30 in a YEARLY
  // one) are only detected when an iterator is built.
  IteratorPtr probe(icalrecur_iterator_new(
      recur, FloatingTime(absl::CivilSecond(2000, 1, 3, 0, 0, 0))));
  icalerror_clear_errno();
  if (probe == nullptr) return InvalidField(field, "contradictory rule parts");
  return recur;
}

// UNTIL, interpreted like RFC 5545 intends rather than like libical does:
// libical compares a floating DTSTART with a UTC UNTIL as if both were UTC,
// and a DATE UNTIL excludes occurrences on that day.
struct Until {
  enum class Kind { kNone, kInstant, kLocal, kDate };
  Kind kind = Kind::kNone;
  absl::Time instant;       // kInstant: "UNTIL=...Z", inclusive.
  absl::CivilSecond local;  // kLocal: floating, wall time in the zone.
  absl::CivilDay date;      // kDate: the whole local day is included.
};

Until UntilOf(const icalrecurrencetype& recur) {
  Until until;
  if (icaltime_is_null_time(recur.until)) return until;
  const absl::CivilSecond civil = ToCivil(recur.until);
  if (recur.until.is_date) {
    until.kind = Until::Kind::kDate;
    until.date = absl::CivilDay(civil);
  } else if (icaltime_is_utc(recur.until)) {
    until.kind = Until::Kind::kInstant;
    until.instant = absl::FromCivil(civil, absl::UTCTimeZone());
  } else {
    until.kind = Until::Kind::kLocal;
    until.local = civil;
  }
  return until;
}

absl::Status TooMany() {
  return InvalidField(
      kRruleField,
      absl::StrCat("expands to more than ", kMaxOccurrences, " occurrences"));
}

}  // namespace

absl::Status ValidateRrule(absl::string_view rrule, absl::string_view field) {
  absl::MutexLock lock(&LibicalMutex());
  return ParseRruleLocked(rrule, field).status();
}

absl::StatusOr<std::vector<absl::Time>> ExpandRecurrence(
    const RecurrenceSpec& spec) {
  absl::StatusOr<absl::TimeZone> zone = LoadZone(spec.time_zone);
  if (!zone.ok()) return zone.status();
  if (spec.first_start == absl::InfinitePast() ||
      spec.first_start == absl::InfiniteFuture()) {
    return InvalidField(kStartField, "must be a finite time");
  }
  const absl::Time first_start = FloorToSecond(spec.first_start);
  const absl::CivilSecond local_start = absl::ToCivilSecond(first_start, *zone);
  if (local_start.year() < kMinYear || local_start.year() > kMaxYear) {
    return InvalidField(kStartField, absl::StrFormat("year must be in [%d, %d]",
                                                     kMinYear, kMaxYear));
  }

  std::vector<absl::Time> exceptions;
  exceptions.reserve(spec.exception_dates.size());
  for (absl::Time t : spec.exception_dates) {
    if (t == absl::InfinitePast() || t == absl::InfiniteFuture()) {
      return InvalidField(kExceptionDatesField, "must be finite times");
    }
    exceptions.push_back(FloorToSecond(t));
  }
  std::sort(exceptions.begin(), exceptions.end());
  auto is_exception = [&exceptions](absl::Time t) {
    return std::binary_search(exceptions.begin(), exceptions.end(), t);
  };

  // The expansion minus exceptions; extra dates are added at the end.
  std::vector<absl::Time> starts;
  auto keep = [&](absl::Time t) -> absl::Status {
    if (is_exception(t)) return absl::OkStatus();
    starts.push_back(t);
    // Bounds the loop below. Not the exact check (that comes after
    // deduplication): two local times in a DST gap can share an instant.
    if (starts.size() > 2 * static_cast<size_t>(kMaxOccurrences)) {
      return TooMany();
    }
    return absl::OkStatus();
  };
  // RFC 5545: DTSTART is always the first occurrence (and counts for
  // COUNT), even when it does not match the rule; libical skips such a
  // DTSTART, so it is added here and COUNT is applied here too.
  if (absl::Status s = keep(first_start); !s.ok()) return s;
  int produced = 1;

  {
    absl::MutexLock lock(&LibicalMutex());
    absl::StatusOr<icalrecurrencetype> recur =
        ParseRruleLocked(spec.rrule, kRruleField);
    if (!recur.ok()) return recur.status();
    const int count = recur->count;
    const Until until = UntilOf(*recur);
    const bool open_ended = count == 0 && until.kind == Until::Kind::kNone;
    const absl::Time horizon_end = first_start + kOpenEndedHorizon;
    recur->count = 0;
    recur->until = icaltime_null_time();

    // Floating DTSTART: libical steps through wall-clock times and never
    // sees the zone's offsets, so 10:00 stays 10:00 across DST changes.
    IteratorPtr it(icalrecur_iterator_new(*recur, FloatingTime(local_start)));
    icalerror_clear_errno();
    if (it == nullptr) {
      return InvalidField(
          kRruleField, absl::StrCat("cannot be expanded from ", kStartField));
    }
    while (count == 0 || produced < count) {
      const icaltimetype next = icalrecur_iterator_next(it.get());
      if (icaltime_is_null_time(next)) break;
      const absl::CivilSecond local = ToCivil(next);
      if (local <= local_start) continue;  // DTSTART is already in.
      if (until.kind == Until::Kind::kLocal && local > until.local) break;
      if (until.kind == Until::Kind::kDate &&
          absl::CivilDay(local) > until.date) {
        break;
      }
      // RFC 5545 (3.3.5), which calendar clients apply to the exported
      // RRULE too: a local time skipped by a DST gap uses the offset from
      // before the gap (02:30 on a spring-forward night becomes 03:30 summer
      // time), a repeated one means its first instance. That is `pre`; absl's
      // FromCivil() would map a skipped time to the transition (03:00).
      const absl::Time start = zone->At(local).pre;
      if (until.kind == Until::Kind::kInstant && start > until.instant) break;
      if (open_ended && start > horizon_end) break;
      ++produced;
      if (absl::Status s = keep(start); !s.ok()) return s;
    }
    icalerror_clear_errno();
  }

  for (absl::Time t : spec.extra_dates) {
    if (t == absl::InfinitePast() || t == absl::InfiniteFuture()) {
      return InvalidField(kExtraDatesField, "must be finite times");
    }
    starts.push_back(FloorToSecond(t));
  }
  std::sort(starts.begin(), starts.end());
  starts.erase(std::unique(starts.begin(), starts.end()), starts.end());
  if (starts.size() > static_cast<size_t>(kMaxOccurrences)) return TooMany();
  return starts;
}

}  // namespace townhall::scheduling
