#include "services/scheduling/recurrence.h"

#include <libical/ical.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
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
namespace {

using internal::FloatingTime;
using internal::FloorToSecond;
using internal::IteratorPtr;
using internal::ParsedRrule;
using internal::ToCivil;

constexpr absl::string_view kRruleField = "series.rrule";
constexpr absl::string_view kTimeZoneField = "series.template.time_zone";
constexpr absl::string_view kStartField = "series.template.start_time";
constexpr absl::string_view kExceptionDatesField = "series.exception_dates";
constexpr absl::string_view kExtraDatesField = "series.extra_dates";

// Real rules are a few dozen characters; the bound keeps error messages
// (which quote the rule) and parser work small.
constexpr size_t kMaxRruleLength = 512;
// DAILY rules are expanded in windows of about this many candidates, so the
// budget is checked while libical steps through days that do not match.
constexpr int64_t kCandidatesPerWindow = 1000;

// Occurrences start where a single session may (ValidateTimestamp).
const absl::Time kRangeEnd = absl::FromUnixSeconds(kTimestampEndSeconds);
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

absl::Status RuleError(absl::string_view rrule, absl::string_view reason) {
  return InvalidField(kRruleField, absl::StrFormat("\"%s\" %s", rrule, reason));
}

absl::Status TooMany() {
  return InvalidField(
      kRruleField,
      absl::StrCat("expands to more than ", kMaxOccurrences, " occurrences"));
}

absl::Status PastTheRange(absl::string_view rrule, absl::string_view what) {
  return RuleError(
      rrule, absl::StrCat(what, ": every occurrence must start before ",
                          FormatInstant(kRangeEnd), ", like a single session"));
}

// The values of a BY* array (libical ends it with ICAL_RECURRENCE_ARRAY_MAX).
std::vector<int> Values(const short* values, int size) {
  std::vector<int> out;
  for (int i = 0; i < size && values[i] != ICAL_RECURRENCE_ARRAY_MAX; ++i) {
    out.push_back(values[i]);
  }
  return out;
}

// Start times per day: BYHOUR x BYMINUTE x BYSECOND (an empty part means
// DTSTART's one value). Each is a candidate libical checks on every day.
int64_t TimesPerDay(const icalrecurrencetype& recur) {
  auto count = [](const short* values, int size) -> int64_t {
    return std::max<int64_t>(1, Values(values, size).size());
  };
  return count(recur.by_hour, ICAL_BY_HOUR_SIZE) *
         count(recur.by_minute, ICAL_BY_MINUTE_SIZE) *
         count(recur.by_second, ICAL_BY_SECOND_SIZE);
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

// UNTIL, interpreted like RFC 5545 intends rather than like libical does:
// libical compares a floating DTSTART with a UTC UNTIL as if both were UTC,
// and a DATE UNTIL excludes occurrences on that day.
struct Until {
  enum class Kind { kNone, kInstant, kLocal, kDate };
  Kind kind = Kind::kNone;
  absl::Time instant;       // kInstant: "UNTIL=...Z", inclusive.
  absl::CivilSecond local;  // kLocal: floating, wall time in the zone.
  absl::CivilDay date;      // kDate: the whole local day is included.

  // Whether an occurrence at `local` (instant `start`) is past UNTIL.
  bool Excludes(const absl::CivilSecond& at, absl::Time start) const {
    switch (kind) {
      case Kind::kNone:
        return false;
      case Kind::kInstant:
        return start > instant;
      case Kind::kLocal:
        return at > local;
      case Kind::kDate:
        return absl::CivilDay(at) > date;
    }
    return false;
  }

  // The last instant UNTIL allows (InfiniteFuture() without UNTIL).
  absl::Time Last(const absl::TimeZone& zone) const {
    switch (kind) {
      case Kind::kNone:
        return absl::InfiniteFuture();
      case Kind::kInstant:
        return instant;
      case Kind::kLocal:
        return zone.At(local).pre;
      case Kind::kDate:
        return zone.At(absl::CivilSecond(date + 1)).pre - absl::Seconds(1);
    }
    return absl::InfiniteFuture();
  }
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

// Walks the local start times libical produces for a rule (DTSTART's own
// time may come first), charging the candidates it steps through against
// kMaxExpansionCandidates.
//
// libical steps a DAILY rule day by day, checking every start time of each
// day against BYMONTH, BYMONTHDAY and BYDAY; WEEKLY, MONTHLY and YEARLY
// rules jump through the matching days of each week, month or year. DAILY
// rules are therefore expanded in windows of days (an iterator each, with
// UNTIL at the window's end): libical cannot be interrupted inside one
// call, and a window bounds how far one call can scan. MONTHLY and YEARLY
// rules get one iterator, created only once HasOccurrence has found a first
// match within `last`.
class LocalStarts {
 public:
  // `last` is the last local time to look at.
  LocalStarts(const icalrecurrencetype& recur, absl::string_view rrule,
              const absl::CivilSecond& dtstart, const absl::CivilSecond& last)
      : recur_(recur),
        rrule_(rrule),
        dtstart_(dtstart),
        last_(last),
        times_per_day_(TimesPerDay(recur)),
        interval_(std::max<int>(1, recur.interval)),
        charged_(dtstart) {
    recur_.count = 0;
    recur_.until = icaltime_null_time();
    // Later DAILY windows start at midnight: pin the start times that
    // libical would otherwise take from DTSTART.
    if (recur_.freq == ICAL_DAILY_RECURRENCE) {
      PinStartTimes(recur_, dtstart);
      window_days_ = interval_ * std::max<int64_t>(
                                     1, kCandidatesPerWindow / times_per_day_);
    }
  }

  // The next local start, nullopt after `last`, or INVALID_ARGUMENT when
  // the budget is used up.
  absl::StatusOr<std::optional<absl::CivilSecond>> Next() {
    for (;;) {
      if (done_) return std::nullopt;
      if (it_ == nullptr) {
        if (window_start_ > absl::CivilDay(last_)) return std::nullopt;
        TH_RETURN_IF_ERROR(OpenIterator());
        if (done_) return std::nullopt;
      }
      const icaltimetype next = icalrecur_iterator_next(it_.get());
      icalerror_clear_errno();
      if (!icaltime_is_null_time(next)) {
        const absl::CivilSecond local = ToCivil(next);
        if (window_days_ == 0) TH_RETURN_IF_ERROR(ChargeUpTo(local));
        if (local > last_) {
          done_ = true;
          return std::nullopt;
        }
        return local;
      }
      if (window_days_ == 0) {  // Past `last_`.
        done_ = true;
        return std::nullopt;
      }
      it_.reset();
      window_start_ += window_days_;
    }
  }

 private:
  // One iterator for the whole walk, or one per DAILY window.
  absl::Status OpenIterator() {
    icalrecurrencetype rule = recur_;
    absl::CivilSecond start = dtstart_;
    if (window_days_ > 0) {
      if (window_start_ != absl::CivilDay(dtstart_)) {
        start = absl::CivilSecond(window_start_);
      }
      const absl::CivilSecond window_last =
          absl::CivilSecond(window_start_ + window_days_) - 1;
      rule.until = FloatingTime(std::min(window_last, last_));
      TH_RETURN_IF_ERROR(Charge(window_days_ / interval_ * times_per_day_));
    } else {
      // Once a rule has matched, libical finds the next match within one
      // 400-year cycle; only the search for a first one is unbounded.
      if (recur_.freq != ICAL_WEEKLY_RECURRENCE &&
          !HasOccurrence(recur_, dtstart_, last_)) {
        done_ = true;
        return absl::OkStatus();
      }
      // libical stops where a call would pass UNTIL.
      rule.until = FloatingTime(last_);
    }
    it_.reset(icalrecur_iterator_new(rule, FloatingTime(start)));
    icalerror_clear_errno();
    if (it_ == nullptr) {
      return InvalidField(
          kRruleField, absl::StrCat("cannot be expanded from ", kStartField));
    }
    return absl::OkStatus();
  }

  // WEEKLY: every day of every INTERVAL-th week may be a candidate;
  // MONTHLY and YEARLY: one per month or year expanded.
  absl::Status ChargeUpTo(const absl::CivilSecond& local) {
    int64_t periods = 0;
    switch (recur_.freq) {
      case ICAL_WEEKLY_RECURRENCE:
        periods =
            (absl::CivilDay(local) - absl::CivilDay(charged_)) * times_per_day_;
        break;
      case ICAL_MONTHLY_RECURRENCE:
        periods = absl::CivilMonth(local) - absl::CivilMonth(charged_);
        break;
      default:
        periods = absl::CivilYear(local) - absl::CivilYear(charged_);
        break;
    }
    charged_ = local;
    return Charge(periods / interval_ + 1);
  }

  absl::Status Charge(int64_t candidates) {
    used_ += candidates;
    if (used_ > kMaxExpansionCandidates) {
      return RuleError(
          rrule_,
          absl::StrCat("needs more than ", kMaxExpansionCandidates,
                       " candidate days or times to expand; write sparse "
                       "rules with a coarser FREQ (e.g. "
                       "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29 rather than "
                       "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29)"));
    }
    return absl::OkStatus();
  }

  icalrecurrencetype recur_;
  const absl::string_view rrule_;
  const absl::CivilSecond dtstart_;
  const absl::CivilSecond last_;
  const int64_t times_per_day_;
  const int64_t interval_;
  // DAILY only: days per window, and the first day of the current one.
  int64_t window_days_ = 0;
  absl::CivilDay window_start_ = absl::CivilDay(dtstart_);
  absl::CivilSecond charged_;
  int64_t used_ = 0;
  bool done_ = false;
  IteratorPtr it_;
};

}  // namespace

absl::Status ValidateRrule(absl::string_view rrule, absl::string_view field) {
  return ParseRrule(rrule, field).status();
}

absl::StatusOr<std::vector<absl::Time>> ExpandRecurrence(
    const RecurrenceSpec& spec) {
  TH_ASSIGN_OR_RETURN(absl::TimeZone zone,
                      ValidateTimeZone(kTimeZoneField, spec.time_zone));
  // Same range as a single session's start.
  TH_RETURN_IF_ERROR(
      ValidateTimestamp(kStartField, absl::ToUnixSeconds(spec.first_start), 0));
  const absl::Time first_start = FloorToSecond(spec.first_start);
  const absl::CivilSecond local_start = absl::ToCivilSecond(first_start, zone);

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
  TH_RETURN_IF_ERROR(keep(first_start));
  int produced = 1;

  TH_ASSIGN_OR_RETURN(ParsedRrule parsed, ParseRrule(spec.rrule, kRruleField));
  const int count = parsed.value().count;
  const Until until = UntilOf(parsed.value());
  if (until.kind != Until::Kind::kNone && until.Last(zone) >= kRangeEnd) {
    return PastTheRange(spec.rrule, "UNTIL is too late");
  }
  const bool open_ended = count == 0 && until.kind == Until::Kind::kNone;
  const absl::Time horizon_end = first_start + kOpenEndedHorizon;
  // A day of margin: local times near the end of the range may map either
  // side of it.
  LocalStarts walker(parsed.value(), spec.rrule, local_start,
                     absl::ToCivilSecond(kRangeEnd, zone) + 24 * 3600);
  // Floating DTSTART: libical steps through wall-clock times and never
  // sees the zone's offsets, so 10:00 stays 10:00 across DST changes.
  while (count == 0 || produced < count) {
    TH_ASSIGN_OR_RETURN(std::optional<absl::CivilSecond> local, walker.Next());
    if (!local.has_value()) {
      if (count == 0) break;  // UNTIL or the horizon came first.
      return PastTheRange(spec.rrule,
                          absl::StrCat("does not reach COUNT=", count,
                                       " within the allowed range"));
    }
    if (*local <= local_start) continue;  // DTSTART is already in.
    // RFC 5545 (3.3.5), which calendar clients apply to the exported
    // RRULE too: a local time skipped by a DST gap uses the offset from
    // before the gap (02:30 on a spring-forward night becomes 03:30 summer
    // time), a repeated one means its first instance. That is `pre`; absl's
    // FromCivil() would map a skipped time to the transition (03:00).
    const absl::Time start = zone.At(*local).pre;
    if (until.Excludes(*local, start)) break;
    if (open_ended && (start > horizon_end || start >= kRangeEnd)) break;
    if (start >= kRangeEnd) {
      return PastTheRange(spec.rrule, absl::StrCat("has an occurrence at ",
                                                   FormatInstant(start)));
    }
    ++produced;
    TH_RETURN_IF_ERROR(keep(start));
  }

  for (absl::Time t : spec.extra_dates) {
    TH_RETURN_IF_ERROR(
        ValidateTimestamp(kExtraDatesField, absl::ToUnixSeconds(t), 0));
    starts.push_back(FloorToSecond(t));
  }
  std::sort(starts.begin(), starts.end());
  starts.erase(std::unique(starts.begin(), starts.end()), starts.end());
  if (starts.size() > static_cast<size_t>(kMaxOccurrences)) return TooMany();
  return starts;
}

}  // namespace townhall::scheduling
