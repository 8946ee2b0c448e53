#include "services/scheduling/calendar.h"

#include <libical/ical.h>

#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
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
#include "services/scheduling/rrule.h"
#include "services/scheduling/vtimezone.h"

namespace townhall::scheduling {
namespace {

using internal::BufferPtr;
using internal::BuildVtimezone;
using internal::ComponentPtr;
using internal::FloatingTime;
using internal::FloorToSecond;
using internal::LibicalMutex;
using internal::ParsedRrule;
using internal::ToCivil;
using internal::UtcTime;

constexpr char kProdId[] = "-//townhall//townhall 1.0//EN";

bool IsFinite(absl::Time t) {
  return t != absl::InfinitePast() && t != absl::InfiniteFuture();
}

bool HasControl(absl::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    return absl::ascii_iscntrl(static_cast<unsigned char>(c));
  });
}

// libical escapes '\', ';', ',' and newlines in TEXT values but passes other
// control characters through, which RFC 5545 forbids (they also break some
// clients). Line breaks become LF, which libical writes as "\n".
std::string CleanText(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\r') {
      if (i + 1 < text.size() && text[i + 1] == '\n') continue;
      out.push_back('\n');
    } else if (c == '\n' || c == '\t' ||
               !absl::ascii_iscntrl(static_cast<unsigned char>(c))) {
      out.push_back(c);
    }
  }
  return out;
}

// One zone used by the events.
struct ZoneUse {
  absl::TimeZone zone;
  // libical's own UTC zone has no VTIMEZONE: such times are written as
  // UTC ("...Z") without TZID.
  bool utc = false;
  // Earliest time written in this zone: the VTIMEZONE starts before it.
  absl::Time earliest = absl::InfiniteFuture();
  // For error messages.
  std::string field;
};

// An event, checked and with its times normalized.
struct PreparedEvent {
  const CalendarEvent* event;
  std::string field;  // "events[3]"
  std::string tzid;   // Canonical IANA name of event->time_zone.
  icalproperty_status status;
  absl::Time start;
  absl::Time end;
  std::vector<absl::Time> exception_dates;
  std::vector<absl::Time> extra_dates;
};

absl::StatusOr<std::vector<absl::Time>> SortedTimes(
    const std::vector<absl::Time>& times, absl::string_view field) {
  std::vector<absl::Time> out;
  out.reserve(times.size());
  for (absl::Time t : times) {
    if (!IsFinite(t)) return InvalidField(field, "must be finite times");
    out.push_back(FloorToSecond(t));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

absl::StatusOr<PreparedEvent> Prepare(const CalendarEvent& event,
                                      size_t index) {
  PreparedEvent p;
  p.event = &event;
  p.field = absl::StrCat("events[", index, "]");
  if (event.uid.empty() || HasControl(event.uid)) {
    return InvalidField(absl::StrCat(p.field, ".uid"),
                        "must be non-empty, without control characters");
  }
  if (event.sequence < 0 || event.sequence > INT_MAX) {
    return InvalidField(absl::StrCat(p.field, ".sequence"), "out of range");
  }
  if (!IsFinite(event.last_modified)) {
    return InvalidField(absl::StrCat(p.field, ".last_modified"),
                        "must be a finite time");
  }
  if (!IsFinite(event.start)) {
    return InvalidField(absl::StrCat(p.field, ".start"),
                        "must be a finite time");
  }
  if (event.duration <= absl::ZeroDuration() ||
      event.duration == absl::InfiniteDuration()) {
    return InvalidField(absl::StrCat(p.field, ".duration"),
                        "must be positive and finite");
  }
  if (HasControl(event.url) || absl::StrContains(event.url, ' ')) {
    return InvalidField(absl::StrCat(p.field, ".url"),
                        "must not contain spaces or control characters");
  }
  if (event.status.empty() || event.status == "CONFIRMED") {
    p.status = ICAL_STATUS_CONFIRMED;
  } else if (event.status == "TENTATIVE") {
    p.status = ICAL_STATUS_TENTATIVE;
  } else if (event.status == "CANCELLED") {
    p.status = ICAL_STATUS_CANCELLED;
  } else {
    return InvalidField(absl::StrCat(p.field, ".status"),
                        "must be CONFIRMED, TENTATIVE or CANCELLED");
  }
  if (!event.rrule.empty()) {
    if (absl::Status s =
            ValidateRrule(event.rrule, absl::StrCat(p.field, ".rrule"));
        !s.ok()) {
      return s;
    }
  }
  p.start = FloorToSecond(event.start);
  p.end = FloorToSecond(event.start + event.duration);
  absl::StatusOr<std::vector<absl::Time>> exdates = SortedTimes(
      event.exception_dates, absl::StrCat(p.field, ".exception_dates"));
  if (!exdates.ok()) return exdates.status();
  p.exception_dates = *std::move(exdates);
  absl::StatusOr<std::vector<absl::Time>> rdates =
      SortedTimes(event.extra_dates, absl::StrCat(p.field, ".extra_dates"));
  if (!rdates.ok()) return rdates.status();
  p.extra_dates = *std::move(rdates);
  return p;
}
// ---------------------------------------------------------------------------
// VEVENT. Requires LibicalMutex().

class EventWriter {
 public:
  EventWriter(const std::string& tzid, const ZoneUse& zone)
      : tzid_(tzid), zone_(zone) {}

  // DTSTART and friends: local time with TZID, or UTC for the UTC zone.
  icalproperty* WithZone(icalproperty* prop) const {
    if (!zone_.utc) {
      icalproperty_add_parameter(prop, icalparameter_new_tzid(tzid_.c_str()));
    }
    return prop;
  }

  icaltimetype Time(absl::Time t) const {
    if (zone_.utc) return UtcTime(t);
    return FloatingTime(absl::ToCivilSecond(t, zone_.zone));
  }

  // The RRULE property. RFC 5545: with a zoned DTSTART, UNTIL must be UTC.
  // Floating and DATE values are read as local times in the event's zone (a
  // DATE covers its whole day), matching ExpandRecurrence.
  icalproperty* Rule(const std::string& rrule) const {
    const ParsedRrule parsed(rrule.c_str());
    icalerror_clear_errno();
    // Borrows the parsed rule's RSCALE string; the property copies it.
    icalrecurrencetype recur = parsed.value();
    if (!icaltime_is_null_time(recur.until) && !icaltime_is_utc(recur.until)) {
      const absl::CivilSecond local = ToCivil(recur.until);
      absl::Time until;
      if (recur.until.is_date) {
        const absl::CivilDay next_day = absl::CivilDay(local) + 1;
        until = absl::FromCivil(next_day, zone_.zone) - absl::Seconds(1);
      } else {
        until = absl::FromCivil(local, zone_.zone);
      }
      recur.until = UtcTime(until);
    }
    return icalproperty_new_rrule(recur);
  }

 private:
  const std::string& tzid_;
  const ZoneUse& zone_;
};

ComponentPtr BuildVevent(const PreparedEvent& p, const std::string& tzid,
                         const ZoneUse& zone, absl::Time created) {
  const CalendarEvent& e = *p.event;
  const EventWriter w(tzid, zone);
  ComponentPtr vevent(icalcomponent_new_vevent());
  icalcomponent* c = vevent.get();
  icalcomponent_add_property(c, icalproperty_new_uid(e.uid.c_str()));
  icalcomponent_add_property(
      c, icalproperty_new_sequence(static_cast<int>(e.sequence)));
  icalcomponent_add_property(
      c, icalproperty_new_dtstamp(UtcTime(FloorToSecond(created))));
  icalcomponent_add_property(c, icalproperty_new_lastmodified(
                                    UtcTime(FloorToSecond(e.last_modified))));
  icalcomponent_add_property(
      c, icalproperty_new_summary(CleanText(e.summary).c_str()));
  if (const std::string description = CleanText(e.description);
      !description.empty()) {
    icalcomponent_add_property(
        c, icalproperty_new_description(description.c_str()));
  }
  if (const std::string location = CleanText(e.location); !location.empty()) {
    icalcomponent_add_property(c, icalproperty_new_location(location.c_str()));
  }
  if (!e.url.empty()) {
    icalcomponent_add_property(c, icalproperty_new_url(e.url.c_str()));
  }
  icalcomponent_add_property(
      c, w.WithZone(icalproperty_new_dtstart(w.Time(p.start))));
  // DTEND rather than DURATION: better supported by Outlook. The end is
  // written in local time, so an event spanning a DST change still lasts
  // `duration`.
  icalcomponent_add_property(c,
                             w.WithZone(icalproperty_new_dtend(w.Time(p.end))));
  icalcomponent_add_property(c, icalproperty_new_status(p.status));
  if (!e.rrule.empty()) {
    icalcomponent_add_property(c, w.Rule(e.rrule));
  }
  for (absl::Time t : p.exception_dates) {
    icalcomponent_add_property(c,
                               w.WithZone(icalproperty_new_exdate(w.Time(t))));
  }
  for (absl::Time t : p.extra_dates) {
    icaldatetimeperiodtype rdate;
    rdate.time = w.Time(t);
    rdate.period = icalperiodtype_null_period();
    icalcomponent_add_property(c, w.WithZone(icalproperty_new_rdate(rdate)));
  }
  return vevent;
}

}  // namespace

absl::StatusOr<std::string> RenderCalendar(
    const std::vector<CalendarEvent>& events, absl::Time created) {
  std::vector<PreparedEvent> prepared;
  prepared.reserve(events.size());
  // Ordered by name, so the output does not depend on event order.
  std::map<std::string, ZoneUse> zones;
  for (size_t i = 0; i < events.size(); ++i) {
    absl::StatusOr<PreparedEvent> p = Prepare(events[i], i);
    if (!p.ok()) return p.status();
    // Keyed and written by canonical name: a link such as Asia/Calcutta
    // (stored before links were normalized) exports as Asia/Kolkata.
    const std::string field = absl::StrCat(p->field, ".time_zone");
    absl::StatusOr<absl::TimeZone> zone =
        ValidateTimeZone(field, events[i].time_zone);
    if (!zone.ok()) return zone.status();
    p->tzid = zone->name();
    auto [it, inserted] = zones.try_emplace(p->tzid);
    ZoneUse& use = it->second;
    if (inserted) {
      use.field = field;
      use.zone = *zone;
    }
    use.earliest = std::min(use.earliest, p->start);
    if (!p->exception_dates.empty()) {
      use.earliest = std::min(use.earliest, p->exception_dates.front());
    }
    if (!p->extra_dates.empty()) {
      use.earliest = std::min(use.earliest, p->extra_dates.front());
    }
    prepared.push_back(*std::move(p));
  }

  absl::MutexLock lock(&LibicalMutex());
  icalerror_clear_errno();
  ComponentPtr calendar(icalcomponent_new_vcalendar());
  icalcomponent_add_property(calendar.get(), icalproperty_new_prodid(kProdId));
  icalcomponent_add_property(calendar.get(), icalproperty_new_version("2.0"));
  icalcomponent_add_property(calendar.get(),
                             icalproperty_new_calscale("GREGORIAN"));
  icalcomponent_add_property(calendar.get(),
                             icalproperty_new_method(ICAL_METHOD_PUBLISH));

  for (auto& [name, use] : zones) {
    icaltimezone* zone = icaltimezone_get_builtin_timezone(name.c_str());
    icalerror_clear_errno();
    if (zone == nullptr)
      return InvalidField(use.field, absl::StrCat("time zone \"", name,
                                                  "\" is unknown to libical"));
    if (zone == icaltimezone_get_utc_timezone()) {
      use.utc = true;
      continue;
    }
    // A year early: near New Year local times and UTC fall in different
    // years, and the margin costs at most a block or two.
    const int64_t first_year =
        absl::ToCivilYear(use.earliest, absl::UTCTimeZone()).year() - 1;
    ComponentPtr vtimezone = BuildVtimezone(zone, name, use.zone, first_year);
    icalerror_clear_errno();
    if (vtimezone == nullptr)
      return InvalidField(use.field, absl::StrCat("time zone \"", name,
                                                  "\" is unknown to libical"));
    icalcomponent_add_component(calendar.get(), vtimezone.release());
  }

  for (const PreparedEvent& p : prepared) {
    ComponentPtr vevent = BuildVevent(p, p.tzid, zones.at(p.tzid), created);
    icalcomponent_add_component(calendar.get(), vevent.release());
  }

  BufferPtr text(icalcomponent_as_ical_string_r(calendar.get()));
  icalerror_clear_errno();
  if (text == nullptr) return absl::InternalError("libical produced no text");
  return std::string(text.get());
}

}  // namespace townhall::scheduling
