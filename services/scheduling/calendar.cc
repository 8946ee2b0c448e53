#include "services/scheduling/calendar.h"

#include <libical/ical.h>

#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
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
#include "services/common/proto_time.h"
#include "services/common/status.h"
#include "services/common/validation.h"
#include "services/scheduling/libical_support.h"
#include "services/scheduling/recurrence.h"
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

// A time as it is written: a local wall-clock value with TZID, or UTC.
struct Written {
  absl::CivilSecond local;
  // The instant a reader gets back; written as such when `utc` is set or
  // the zone is UTC.
  absl::Time instant;
  bool utc = false;

  bool operator<(const Written& other) const {
    return std::tie(utc, local, instant) <
           std::tie(other.utc, other.local, other.instant);
  }
  bool operator==(const Written& other) const {
    return utc == other.utc && local == other.local && instant == other.instant;
  }
};

// `t` in `zone`: its local value when that names `t` alone, UTC when the
// local time is repeated (RFC 5545 would read it as its first instance,
// and clients differ; UTC is read the same by all).
Written At(absl::Time t, const absl::TimeZone& zone) {
  const absl::CivilSecond local = absl::ToCivilSecond(t, zone);
  const bool unique = zone.At(local).kind == absl::TimeZone::TimeInfo::UNIQUE;
  return {.local = local, .instant = t, .utc = !unique};
}

// Whether readers agree on the instant of local time `local`: not in a DST
// gap (RFC 5545 reads 02:30 with the offset from before the gap, libical
// with the one after) nor repeated (RFC 5545 reads the first instance,
// libical the second).
bool Unique(const absl::CivilSecond& local, const absl::TimeZone& zone) {
  return zone.At(local).kind == absl::TimeZone::TimeInfo::UNIQUE;
}

// An RRULE instance, named by the value the rule generates.
Written Instance(const RecurrenceInstance& instance) {
  return {.local = instance.local, .instant = instance.start};
}

// An event, checked and with its times normalized.
struct PreparedEvent {
  const CalendarEvent* event;
  std::string field;  // "events[3]"
  std::string tzid;   // Canonical IANA name of event->time_zone.
  absl::TimeZone zone;
  icalproperty_status status;
  absl::Time start;
  absl::Time end;
  std::vector<absl::Time> exception_dates;
  std::vector<absl::Time> extra_dates;
  // Set by Resolve: the values written.
  Written dtstart;
  Written dtend;
  std::vector<Written> exdates;
  std::vector<Written> rdates;
  std::optional<Written> recurrence_id;
  // A master whose DTSTART is a repeated local time: DURATION instead of
  // DTEND, which readers would measure from different instants.
  bool write_duration = false;
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

absl::StatusOr<PreparedEvent> PrepareEvent(const CalendarEvent& event,
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
  if (event.recurrence_id.has_value()) {
    if (!IsFinite(*event.recurrence_id)) {
      return InvalidField(absl::StrCat(p.field, ".recurrence_id"),
                          "must be a finite time");
    }
    if (!event.rrule.empty() || !p.exception_dates.empty() ||
        !p.extra_dates.empty()) {
      return InvalidField(
          absl::StrCat(p.field, ".recurrence_id"),
          "is for an occurrence: rrule, exception_dates and extra_dates must "
          "be empty");
    }
  }
  return p;
}

// The series master's instances by live start (two local values may share
// one: a time in a DST gap and the time after it).
using InstancesByStart = std::multimap<absl::Time, RecurrenceInstance>;

absl::StatusOr<InstancesByStart> InstancesOf(const PreparedEvent& master) {
  absl::StatusOr<std::vector<RecurrenceInstance>> instances =
      ExpandRecurrenceInstances({.rrule = master.event->rrule,
                                 .first_start = master.start,
                                 .time_zone = master.tzid,
                                 .exception_dates = master.exception_dates});
  if (!instances.ok()) return instances.status();
  InstancesByStart by_start;
  for (const RecurrenceInstance& instance : *instances) {
    by_start.emplace(instance.start, instance);
  }
  return by_start;
}

// Sets the written values of a single event or an override: its own times,
// unambiguous.
void ResolveSingle(PreparedEvent& p) {
  p.dtstart = At(p.start, p.zone);
  p.dtend = At(p.end, p.zone);
  for (absl::Time t : p.exception_dates) p.exdates.push_back(At(t, p.zone));
  for (absl::Time t : p.extra_dates) p.rdates.push_back(At(t, p.zone));
}

// Sets the written values of a series master. `overridden`: the original
// starts of its occurrences exported as overrides. Adds to `generated` the
// live instances whose local value readers map to different instants (in
// a DST gap or a repeated hour): each becomes an override with the
// master's details and an unambiguous DTSTART, whose RECURRENCE-ID every
// reader maps like the instance itself.
absl::Status ResolveMaster(PreparedEvent& p,
                           const std::vector<absl::Time>& overridden,
                           const InstancesByStart& instances,
                           std::deque<CalendarEvent>& generated) {
  // DTSTART stays local: the RRULE repeats its wall-clock value.
  const absl::CivilSecond local_start = absl::ToCivilSecond(p.start, p.zone);
  p.dtstart = {.local = local_start, .instant = p.start};
  p.dtend = At(p.end, p.zone);
  p.write_duration = !Unique(local_start, p.zone);

  auto is_overridden = [&overridden](absl::Time t) {
    return std::find(overridden.begin(), overridden.end(), t) !=
           overridden.end();
  };
  for (absl::Time t : p.exception_dates) {
    if (is_overridden(t)) {
      return InvalidField(
          absl::StrCat(p.field, ".exception_dates"),
          absl::StrCat("exclude ", FormatInstant(t),
                       ", which an override (recurrence_id) replaces"));
    }
    auto [first, last] = instances.equal_range(t);
    if (first == last) {
      p.exdates.push_back(At(t, p.zone));  // Not an instance: by instant.
    }
    for (auto it = first; it != last; ++it) {
      p.exdates.push_back(Instance(it->second));
    }
  }
  for (auto it = instances.begin(); it != instances.end();) {
    auto next = instances.upper_bound(it->first);
    // Local values that a DST gap folds onto the start of another instance
    // are one occurrence live: exclude the duplicates.
    for (auto dup = std::next(it); dup != next; ++dup) {
      p.exdates.push_back(Instance(dup->second));
    }
    const RecurrenceInstance& instance = it->second;
    if (!Unique(instance.local, p.zone) &&
        !std::binary_search(p.exception_dates.begin(), p.exception_dates.end(),
                            instance.start) &&
        !is_overridden(instance.start)) {
      CalendarEvent& own = generated.emplace_back(*p.event);
      own.rrule.clear();
      own.exception_dates.clear();
      own.extra_dates.clear();
      own.start = instance.start;
      own.recurrence_id = instance.start;
    }
    it = next;
  }
  for (absl::Time t : p.extra_dates) p.rdates.push_back(At(t, p.zone));
  std::sort(p.exdates.begin(), p.exdates.end());
  p.exdates.erase(std::unique(p.exdates.begin(), p.exdates.end()),
                  p.exdates.end());
  return absl::OkStatus();
}

// Sets the written values of every event: masters' EXDATEs and overrides'
// RECURRENCE-IDs name the instances their RRULE generates.
absl::Status Resolve(std::vector<PreparedEvent>& prepared,
                     std::deque<CalendarEvent>& generated) {
  // Masters by UID, and the original starts each one's overrides replace.
  std::map<std::string, size_t> masters;
  for (size_t i = 0; i < prepared.size(); ++i) {
    if (!prepared[i].event->rrule.empty()) {
      masters.emplace(prepared[i].event->uid, i);
    }
  }
  std::map<size_t, std::vector<absl::Time>> overridden;
  for (PreparedEvent& p : prepared) {
    if (!p.event->recurrence_id.has_value()) continue;
    auto master = masters.find(p.event->uid);
    if (master == masters.end()) {
      return InvalidField(absl::StrCat(p.field, ".uid"),
                          "names no series (an event with an rrule) among "
                          "the events, but recurrence_id is set");
    }
    overridden[master->second].push_back(
        FloorToSecond(*p.event->recurrence_id));
  }
  std::map<size_t, InstancesByStart> instances;
  std::vector<PreparedEvent> added;
  for (size_t i = 0; i < prepared.size(); ++i) {
    PreparedEvent& master = prepared[i];
    if (master.event->rrule.empty()) continue;
    absl::StatusOr<InstancesByStart> expanded = InstancesOf(master);
    if (!expanded.ok()) return expanded.status();
    // Overrides belong to the first master of their UID.
    const std::vector<absl::Time> none;
    const std::vector<absl::Time>& replaced =
        masters.at(master.event->uid) == i ? overridden[i] : none;
    const size_t first_generated = generated.size();
    TH_RETURN_IF_ERROR(ResolveMaster(master, replaced, *expanded, generated));
    instances[i] = *std::move(expanded);
    for (size_t g = first_generated; g < generated.size(); ++g) {
      absl::StatusOr<PreparedEvent> own = PrepareEvent(generated[g], i);
      if (!own.ok()) return own.status();
      own->tzid = master.tzid;
      own->zone = master.zone;
      added.push_back(*std::move(own));
    }
  }
  for (PreparedEvent& p : added) prepared.push_back(std::move(p));
  for (PreparedEvent& p : prepared) {
    if (!p.event->rrule.empty()) continue;
    ResolveSingle(p);
    if (!p.event->recurrence_id.has_value()) continue;
    const size_t master = masters.at(p.event->uid);
    const absl::Time original = FloorToSecond(*p.event->recurrence_id);
    // The first of the local values sharing the start (the others are
    // excluded as duplicates).
    auto it = instances[master].lower_bound(original);
    if (it == instances[master].end() || it->first != original) {
      return InvalidField(
          absl::StrCat(p.field, ".recurrence_id"),
          absl::StrCat(FormatInstant(original),
                       " is not an occurrence of series ", p.event->uid));
    }
    p.recurrence_id = Instance(it->second);
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// VEVENT. Requires LibicalMutex().

class EventWriter {
 public:
  EventWriter(const std::string& tzid, const ZoneUse& zone)
      : tzid_(tzid), zone_(zone) {}

  // DTSTART and friends: local time with TZID, or UTC for the UTC zone and
  // for times written in UTC.
  icalproperty* WithZone(icalproperty* prop, const Written& t) const {
    if (!zone_.utc && !t.utc) {
      icalproperty_add_parameter(prop, icalparameter_new_tzid(tzid_.c_str()));
    }
    return prop;
  }

  icaltimetype Time(const Written& t) const {
    if (zone_.utc || t.utc) return UtcTime(t.instant);
    return FloatingTime(t.local);
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

ComponentPtr BuildVevent(const PreparedEvent& p, const EventWriter& w,
                         const EventWriter& master, absl::Time created) {
  const CalendarEvent& e = *p.event;
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
  if (p.recurrence_id.has_value()) {
    // In the master's zone, as its RRULE generates the instance.
    icalcomponent_add_property(
        c, master.WithZone(
               icalproperty_new_recurrenceid(master.Time(*p.recurrence_id)),
               *p.recurrence_id));
  }
  icalcomponent_add_property(
      c, w.WithZone(icalproperty_new_dtstart(w.Time(p.dtstart)), p.dtstart));
  // DTEND rather than DURATION: better supported by Outlook. The end is
  // written in local time (unless repeated), so an event spanning a DST
  // change still lasts `duration`.
  if (p.write_duration) {
    icalcomponent_add_property(
        c, icalproperty_new_duration(icaldurationtype_from_int(
               static_cast<int>(absl::ToInt64Seconds(p.end - p.start)))));
  } else {
    icalcomponent_add_property(
        c, w.WithZone(icalproperty_new_dtend(w.Time(p.dtend)), p.dtend));
  }
  icalcomponent_add_property(c, icalproperty_new_status(p.status));
  if (!e.rrule.empty()) {
    icalcomponent_add_property(c, w.Rule(e.rrule));
  }
  for (const Written& t : p.exdates) {
    icalcomponent_add_property(
        c, w.WithZone(icalproperty_new_exdate(w.Time(t)), t));
  }
  for (const Written& t : p.rdates) {
    icaldatetimeperiodtype rdate;
    rdate.time = w.Time(t);
    rdate.period = icalperiodtype_null_period();
    icalcomponent_add_property(c, w.WithZone(icalproperty_new_rdate(rdate), t));
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
    absl::StatusOr<PreparedEvent> p = PrepareEvent(events[i], i);
    if (!p.ok()) return p.status();
    // Keyed and written by canonical name: a link such as Asia/Calcutta
    // (stored before links were normalized) exports as Asia/Kolkata.
    const std::string field = absl::StrCat(p->field, ".time_zone");
    absl::StatusOr<absl::TimeZone> zone =
        ValidateTimeZone(field, events[i].time_zone);
    if (!zone.ok()) return zone.status();
    p->tzid = zone->name();
    p->zone = *zone;
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
  // Overrides Resolve adds for instances in DST gaps and repeated hours.
  std::deque<CalendarEvent> generated;
  TH_RETURN_IF_ERROR(Resolve(prepared, generated));

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

  std::map<std::string, const PreparedEvent*> masters;
  for (const PreparedEvent& p : prepared) {
    if (!p.event->rrule.empty()) masters.emplace(p.event->uid, &p);
  }
  for (const PreparedEvent& p : prepared) {
    const EventWriter w(p.tzid, zones.at(p.tzid));
    const PreparedEvent& m =
        p.recurrence_id.has_value() ? *masters.at(p.event->uid) : p;
    const EventWriter master(m.tzid, zones.at(m.tzid));
    ComponentPtr vevent = BuildVevent(p, w, master, created);
    icalcomponent_add_component(calendar.get(), vevent.release());
  }

  BufferPtr text(icalcomponent_as_ical_string_r(calendar.get()));
  icalerror_clear_errno();
  if (text == nullptr) return absl::InternalError("libical produced no text");
  return std::string(text.get());
}

}  // namespace townhall::scheduling
