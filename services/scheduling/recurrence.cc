#include "services/scheduling/recurrence.h"

#include <libical/ical.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "services/common/proto_time.h"
#include "services/common/status.h"
#include "services/common/validation.h"
#include "services/scheduling/libical_support.h"
#include "services/scheduling/rrule.h"

namespace townhall::scheduling {
namespace {

using internal::FloatingTime;
using internal::FloorToSecond;
using internal::HasOccurrence;
using internal::IteratorPtr;
using internal::kRangeEnd;
using internal::kRruleField;
using internal::ParsedRrule;
using internal::ParseRrule;
using internal::PinStartTimes;
using internal::RuleError;
using internal::TimesPerDay;
using internal::ToCivil;

constexpr absl::string_view kTimeZoneField = "series.template.time_zone";
constexpr absl::string_view kStartField = "series.template.start_time";
constexpr absl::string_view kExceptionDatesField = "series.exception_dates";
constexpr absl::string_view kExtraDatesField = "series.extra_dates";

// DAILY rules are expanded in windows of about this many candidates, so the
// budget is checked while libical steps through days that do not match.
constexpr int64_t kCandidatesPerWindow = 1000;

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

// Walks the RRULE's instances in order (DTSTART first), calling
// `visit(local, start)` for each: the wall-clock value the rule generates
// and its live instant. Stops early when `visit` fails.
template <typename Visit>
absl::Status WalkInstances(const RecurrenceSpec& spec, Visit visit) {
  TH_ASSIGN_OR_RETURN(absl::TimeZone zone,
                      ValidateTimeZone(kTimeZoneField, spec.time_zone));
  // Same range as a single session's start.
  TH_RETURN_IF_ERROR(
      ValidateTimestamp(kStartField, absl::ToUnixSeconds(spec.first_start), 0));
  const absl::Time first_start = FloorToSecond(spec.first_start);
  const absl::CivilSecond local_start = absl::ToCivilSecond(first_start, zone);
  // RFC 5545: DTSTART is always the first occurrence (and counts for
  // COUNT), even when it does not match the rule; libical skips such a
  // DTSTART, so it is visited here and COUNT is applied here too.
  TH_RETURN_IF_ERROR(visit(local_start, first_start));
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
    TH_RETURN_IF_ERROR(visit(*local, start));
  }
  return absl::OkStatus();
}

// Floors and sorts exception dates, refusing infinite ones.
absl::StatusOr<std::vector<absl::Time>> SortedExceptions(
    const RecurrenceSpec& spec) {
  std::vector<absl::Time> exceptions;
  exceptions.reserve(spec.exception_dates.size());
  for (absl::Time t : spec.exception_dates) {
    if (t == absl::InfinitePast() || t == absl::InfiniteFuture()) {
      return InvalidField(kExceptionDatesField, "must be finite times");
    }
    exceptions.push_back(FloorToSecond(t));
  }
  std::sort(exceptions.begin(), exceptions.end());
  return exceptions;
}

}  // namespace

absl::StatusOr<std::vector<absl::Time>> ExpandRecurrence(
    const RecurrenceSpec& spec) {
  TH_ASSIGN_OR_RETURN(const std::vector<absl::Time> exceptions,
                      SortedExceptions(spec));
  // The expansion minus exceptions; extra dates are added at the end.
  std::vector<absl::Time> starts;
  TH_RETURN_IF_ERROR(WalkInstances(
      spec, [&](const absl::CivilSecond&, absl::Time t) -> absl::Status {
        if (std::binary_search(exceptions.begin(), exceptions.end(), t)) {
          return absl::OkStatus();
        }
        starts.push_back(t);
        // Bounds the walk. Not the exact check (that comes after
        // deduplication): two local times in a DST gap can share an instant.
        if (starts.size() > 2 * static_cast<size_t>(kMaxOccurrences)) {
          return TooMany();
        }
        return absl::OkStatus();
      }));

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

absl::StatusOr<std::vector<RecurrenceInstance>> ExpandRecurrenceInstances(
    const RecurrenceSpec& spec) {
  TH_ASSIGN_OR_RETURN(const std::vector<absl::Time> exceptions,
                      SortedExceptions(spec));
  // The same bound as ExpandRecurrence's, which counts instances after
  // removing exceptions.
  const size_t bound =
      2 * static_cast<size_t>(kMaxOccurrences) + exceptions.size();
  std::vector<RecurrenceInstance> instances;
  TH_RETURN_IF_ERROR(WalkInstances(
      spec,
      [&](const absl::CivilSecond& local, absl::Time start) -> absl::Status {
        instances.push_back({.local = local, .start = start});
        if (instances.size() > bound) return TooMany();
        return absl::OkStatus();
      }));
  return instances;
}

}  // namespace townhall::scheduling
