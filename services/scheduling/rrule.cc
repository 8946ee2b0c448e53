#include "services/scheduling/rrule.h"

#include <libical/ical.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "services/common/proto_time.h"
#include "services/common/status.h"
#include "services/common/validation.h"
#include "services/scheduling/libical_support.h"

namespace townhall::scheduling {
namespace internal {
namespace {

// Real rules are a few dozen characters; the bound keeps error messages
// (which quote the rule) and parser work small.
constexpr size_t kMaxRruleLength = 512;
// Where ValidateRrule, which has no DTSTART, looks for a first occurrence:
// a Monday at the start of the range.
constexpr absl::CivilSecond kProbeStart(2000, 1, 3, 0, 0, 0);
// The Gregorian calendar repeats every 400 years (146097 days, a whole
// number of weeks): dates, weekdays and ISO week numbers alike.
constexpr int kCalendarCycleYears = 400;
// INTERVAL of a one-period probe (HasOccurrence): whole cycles, so the
// period after the probed one looks exactly like it, and enough of them to
// jump past the year 20000 where libical's own search gives up.
constexpr short kProbeInterval = 81 * kCalendarCycleYears;

// The values of a BY* array (libical ends it with ICAL_RECURRENCE_ARRAY_MAX).
std::vector<int> Values(const short* values, int size) {
  std::vector<int> out;
  for (int i = 0; i < size && values[i] != ICAL_RECURRENCE_ARRAY_MAX; ++i) {
    out.push_back(values[i]);
  }
  return out;
}

// Whether some month allowed by BYMONTH has a day allowed by BYMONTHDAY.
// For a rule like "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30" libical's iterator
// scans every day up to its last year before giving up, and YEARLY is the
// only frequency it checks up front.
bool SomeMonthHasTheDay(const icalrecurrencetype& recur) {
  // Longest month lengths (leap years included).
  static constexpr int kDaysInMonth[] = {31, 29, 31, 30, 31, 30,
                                         31, 31, 30, 31, 30, 31};
  const std::vector<int> days =
      Values(recur.by_month_day, ICAL_BY_MONTHDAY_SIZE);
  if (days.empty()) return true;
  std::vector<int> months = Values(recur.by_month, ICAL_BY_MONTH_SIZE);
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

// Gives an empty BY* array the one value libical would take from DTSTART.
void PinIfEmpty(short* values, int value) {
  if (values[0] == ICAL_RECURRENCE_ARRAY_MAX) {
    values[0] = static_cast<short>(value);
    values[1] = ICAL_RECURRENCE_ARRAY_MAX;
  }
}

// Refuses BYDAY positions ("2MO", "-1FR") and BYSETPOS values that can never
// match. libical does not: for a MONTHLY or YEARLY rule that never matches
// it searches period by period up to the year 20000 (~1 s) before failing.
absl::Status CheckPositions(const icalrecurrencetype& recur,
                            absl::string_view field) {
  const bool monthly = recur.freq == ICAL_MONTHLY_RECURRENCE;
  const bool yearly = recur.freq == ICAL_YEARLY_RECURRENCE;
  // Positions count within the month, or within the year for YEARLY rules
  // without BYMONTH.
  const int max_position =
      yearly && Values(recur.by_month, ICAL_BY_MONTH_SIZE).empty() ? 53 : 5;
  const std::vector<int> by_day = Values(recur.by_day, ICAL_BY_DAY_SIZE);
  // Upper bound on the days one period (day, week, month, year) selects.
  int64_t days_per_period = monthly ? 31 : yearly ? 366 : 1;
  if (recur.freq == ICAL_WEEKLY_RECURRENCE) days_per_period = 7;
  // A MONTHLY rule by BYDAY alone: one day per position, five per weekday.
  const bool count_by_day =
      monthly && !by_day.empty() &&
      Values(recur.by_month_day, ICAL_BY_MONTHDAY_SIZE).empty();
  if (count_by_day) days_per_period = 0;
  for (int day : by_day) {
    const int position = icalrecurrencetype_day_position(day);
    if (position != 0 && !monthly && !yearly) {
      return InvalidField(
          field, "BYDAY positions (such as 2MO) need FREQ=MONTHLY or YEARLY");
    }
    if (std::abs(position) > max_position) {
      return InvalidField(
          field, absl::StrCat("BYDAY positions must be within -", max_position,
                              "..", max_position));
    }
    if (count_by_day) days_per_period += position != 0 ? 1 : 5;
  }
  const int64_t set_size = days_per_period * TimesPerDay(recur);
  for (int position : Values(recur.by_set_pos, ICAL_BY_SETPOS_SIZE)) {
    if (std::abs(position) > set_size) {
      return InvalidField(
          field, absl::StrCat("BYSETPOS=", position, " never matches: a ",
                              icalrecur_freq_to_string(recur.freq),
                              " period holds at most ", set_size, " starts"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status RuleError(absl::string_view rrule, absl::string_view reason) {
  return InvalidField(kRruleField, absl::StrFormat("\"%s\" %s", rrule, reason));
}

int64_t TimesPerDay(const icalrecurrencetype& recur) {
  auto count = [](const short* values, int size) -> int64_t {
    return std::max<int64_t>(1, Values(values, size).size());
  };
  return count(recur.by_hour, ICAL_BY_HOUR_SIZE) *
         count(recur.by_minute, ICAL_BY_MINUTE_SIZE) *
         count(recur.by_second, ICAL_BY_SECOND_SIZE);
}

void PinStartTimes(icalrecurrencetype& rule, const absl::CivilSecond& dtstart) {
  PinIfEmpty(rule.by_hour, dtstart.hour());
  PinIfEmpty(rule.by_minute, dtstart.minute());
  PinIfEmpty(rule.by_second, dtstart.second());
}

// Whether a MONTHLY or YEARLY rule has an occurrence from `dtstart` to
// `last`, at a cost bounded by the number of periods in between.
//
// libical cannot be asked directly: creating an iterator (or one call of
// icalrecur_iterator_next) searches period by period until a period
// matches, up to the year 20000 for a rule that never matches (0.1 to 2 s),
// and nothing in the rule stops that search (UNTIL and libical's last year,
// 2582, are checked only once a match is found). So each period is probed
// on its own, as a YEARLY rule for that year (a MONTHLY rule's month
// becoming its only BYMONTH, which makes BYDAY positions and BYSETPOS count
// within the month as MONTHLY does) with INTERVAL kProbeInterval: after the
// probed period libical looks at one more, an identical copy 32400 years
// later, and stops. The parts libical would default from DTSTART are pinned
// to `dtstart`'s values, since the probes start on other days. (A BYWEEKNO
// rule without BYDAY still takes its weekday from the probe's start: that
// moves its days within their weeks but keeps whether there are any.)
bool HasOccurrence(const icalrecurrencetype& recur,
                   const absl::CivilSecond& dtstart,
                   const absl::CivilSecond& last) {
  const bool monthly = recur.freq == ICAL_MONTHLY_RECURRENCE;
  icalrecurrencetype rule = recur;
  rule.freq = ICAL_YEARLY_RECURRENCE;
  rule.interval = kProbeInterval;
  rule.count = 0;
  rule.until = icaltime_null_time();
  PinStartTimes(rule, dtstart);
  auto has = [](const short* values) {
    return values[0] != ICAL_RECURRENCE_ARRAY_MAX;
  };
  // Without these, libical takes the day (MONTHLY) or month and day
  // (YEARLY) from DTSTART; with them, pinning would change their meaning.
  if (!has(recur.by_day) && !has(recur.by_year_day) && !has(recur.by_week_no)) {
    PinIfEmpty(rule.by_month_day, dtstart.day());
    if (!monthly) PinIfEmpty(rule.by_month, dtstart.month());
  }
  auto matches = [&](const absl::CivilSecond& start) {
    IteratorPtr it(icalrecur_iterator_new(rule, FloatingTime(start)));
    icalerror_clear_errno();
    if (it == nullptr) return false;  // Nothing in this period.
    const icaltimetype next = icalrecur_iterator_next(it.get());
    icalerror_clear_errno();
    return !icaltime_is_null_time(next) && ToCivil(next) <= last;
  };
  const int interval = std::max<int>(1, recur.interval);
  if (!monthly) {
    for (absl::CivilYear year(dtstart); year <= absl::CivilYear(last);
         year += interval) {
      if (matches(std::max(dtstart, absl::CivilSecond(year)))) return true;
    }
    return false;
  }
  const std::vector<int> months = Values(recur.by_month, ICAL_BY_MONTH_SIZE);
  for (absl::CivilMonth month(dtstart); month <= absl::CivilMonth(last);
       month += interval) {
    // MONTHLY's BYMONTH only filters months; skipping them costs nothing.
    if (!months.empty() &&
        std::none_of(months.begin(), months.end(), [&](int encoded) {
          return icalrecurrencetype_month_month(encoded) == month.month();
        })) {
      continue;
    }
    rule.by_month[0] = static_cast<short>(month.month());
    rule.by_month[1] = ICAL_RECURRENCE_ARRAY_MAX;
    if (matches(std::max(dtstart, absl::CivilSecond(month)))) return true;
  }
  return false;
}

// Parses `rrule` and rejects what would fail or misbehave later. Parse
// errors come back through libical's (per-thread) icalerrno.
absl::StatusOr<ParsedRrule> ParseRrule(absl::string_view rrule,
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
  ParsedRrule parsed(text.c_str());
  const icalerrorenum error = icalerrno;
  icalerror_clear_errno();
  const icalrecurrencetype& recur = parsed.value();
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
  // every hour/minute up to its last year).
  if (recur.freq == ICAL_SECONDLY_RECURRENCE ||
      recur.freq == ICAL_MINUTELY_RECURRENCE ||
      recur.freq == ICAL_HOURLY_RECURRENCE) {
    return InvalidField(field, "FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY");
  }
  // Non-Gregorian calendars (RFC 7529) are not understood by most clients.
  if (recur.rscale != nullptr) {
    return InvalidField(field, "RSCALE is not supported");
  }
  // libical checks every start time on every day it steps through.
  if (TimesPerDay(recur) > kMaxStartsPerDay) {
    return InvalidField(
        field, absl::StrCat("at most ", kMaxStartsPerDay,
                            " start times per day (BYHOUR x BYMINUTE x "
                            "BYSECOND)"));
  }
  if (!SomeMonthHasTheDay(recur)) {
    return InvalidField(field, "BYMONTHDAY never falls in BYMONTH");
  }
  TH_RETURN_IF_ERROR(CheckPositions(recur, field));
  // RFC 5545; HasOccurrence would not notice, its probes being YEARLY.
  if (recur.freq != ICAL_YEARLY_RECURRENCE &&
      (recur.by_week_no[0] != ICAL_RECURRENCE_ARRAY_MAX ||
       recur.by_year_day[0] != ICAL_RECURRENCE_ARRAY_MAX)) {
    return InvalidField(field, "BYWEEKNO and BYYEARDAY need FREQ=YEARLY");
  }
  if (recur.freq == ICAL_MONTHLY_RECURRENCE ||
      recur.freq == ICAL_YEARLY_RECURRENCE) {
    // Parts that never match together (the first Monday on the 8th), or
    // that libical cannot combine (BYYEARDAY with BYMONTH).
    if (!HasOccurrence(recur, kProbeStart,
                       absl::ToCivilSecond(kRangeEnd, absl::UTCTimeZone()))) {
      return InvalidField(
          field,
          absl::StrFormat("\"%s\" never matches: no occurrence from %s to %s "
                          "(or parts libical cannot combine)",
                          rrule, absl::FormatCivilTime(kProbeStart),
                          FormatInstant(kRangeEnd)));
    }
    return parsed;
  }
  // Other contradictions (BYMONTHDAY in a WEEKLY rule) are only detected
  // when an iterator is built, which costs nothing for DAILY and WEEKLY.
  IteratorPtr probe(icalrecur_iterator_new(recur, FloatingTime(kProbeStart)));
  icalerror_clear_errno();
  if (probe == nullptr) return InvalidField(field, "contradictory rule parts");
  return parsed;
}

}  // namespace internal

absl::Status ValidateRrule(absl::string_view rrule, absl::string_view field) {
  return internal::ParseRrule(rrule, field).status();
}

}  // namespace townhall::scheduling
