#include "services/scheduling/vtimezone.h"

#include <libical/ical.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "services/scheduling/libical_support.h"

// Everything here requires LibicalMutex().
namespace townhall::scheduling::internal {
namespace {

// Bounds the walk along a VTIMEZONE rule when merging observances.
constexpr int kMaxRuleSteps = 1000;
// VTIMEZONEs are checked against zoneinfo (and, where libical gets them
// wrong, spelled out) for this many years from the year before the first
// event.
constexpr int kVtimezoneYears = 30;
// Zones x first years; far more than a deployment uses.
constexpr size_t kVtimezoneCacheSize = 1024;

// A zone made by icaltimezone_new(), freed with its component.
struct ZoneDeleter {
  void operator()(icaltimezone* zone) const { icaltimezone_free(zone, 1); }
};
using ZonePtr = std::unique_ptr<icaltimezone, ZoneDeleter>;

// A STANDARD or DAYLIGHT block of a VTIMEZONE.
struct Observance {
  icalcomponent* component;
  icalcomponent_kind kind;
  std::string name;
  int offset_from = 0;
  int offset_to = 0;
  icaltimetype dtstart;
  icalproperty* rrule = nullptr;
  bool has_rdate = false;
};

std::vector<Observance> ReadObservances(icalcomponent* vtimezone) {
  std::vector<Observance> out;
  for (icalcomponent* c =
           icalcomponent_get_first_component(vtimezone, ICAL_ANY_COMPONENT);
       c != nullptr;
       c = icalcomponent_get_next_component(vtimezone, ICAL_ANY_COMPONENT)) {
    Observance o;
    o.component = c;
    o.kind = icalcomponent_isa(c);
    if (icalproperty* p =
            icalcomponent_get_first_property(c, ICAL_TZNAME_PROPERTY)) {
      o.name = icalproperty_get_tzname(p);
    }
    if (icalproperty* p =
            icalcomponent_get_first_property(c, ICAL_TZOFFSETFROM_PROPERTY)) {
      o.offset_from = icalproperty_get_tzoffsetfrom(p);
    }
    if (icalproperty* p =
            icalcomponent_get_first_property(c, ICAL_TZOFFSETTO_PROPERTY)) {
      o.offset_to = icalproperty_get_tzoffsetto(p);
    }
    icalproperty* dtstart =
        icalcomponent_get_first_property(c, ICAL_DTSTART_PROPERTY);
    o.dtstart = dtstart != nullptr ? icalproperty_get_dtstart(dtstart)
                                   : icaltime_null_time();
    o.rrule = icalcomponent_get_first_property(c, ICAL_RRULE_PROPERTY);
    o.has_rdate =
        icalcomponent_get_first_property(c, ICAL_RDATE_PROPERTY) != nullptr;
    out.push_back(std::move(o));
  }
  return out;
}

std::string RuleText(icalrecurrencetype rule) {
  BufferPtr text(icalrecurrencetype_as_string_r(&rule));
  return text != nullptr ? std::string(text.get()) : std::string();
}

// True if `next` begins exactly where `prev`'s RRULE (bounded by UNTIL)
// ends, with the same rule: then the two blocks are one open-ended block.
bool Continues(const Observance& prev, const Observance& next) {
  if (prev.kind != next.kind || prev.name != next.name ||
      prev.offset_from != next.offset_from ||
      prev.offset_to != next.offset_to || prev.rrule == nullptr ||
      next.rrule == nullptr || prev.has_rdate || next.has_rdate) {
    return false;
  }
  icalrecurrencetype bounded = icalproperty_get_rrule(prev.rrule);
  const icalrecurrencetype open = icalproperty_get_rrule(next.rrule);
  if (icaltime_is_null_time(bounded.until) || bounded.count != 0 ||
      !icaltime_is_null_time(open.until) || open.count != 0) {
    return false;
  }
  // UNTIL is the UTC instant of the last onset; onsets are local times in
  // the offset before the change.
  const absl::CivilSecond last_onset =
      ToCivil(bounded.until) + prev.offset_from;
  bounded.until = icaltime_null_time();
  if (RuleText(bounded) != RuleText(open)) return false;
  IteratorPtr it(icalrecur_iterator_new(bounded, prev.dtstart));
  if (it == nullptr) return false;
  for (int i = 0; i < kMaxRuleSteps; ++i) {
    const icaltimetype onset = icalrecur_iterator_next(it.get());
    if (icaltime_is_null_time(onset)) return false;
    if (ToCivil(onset) > last_onset) {
      return ToCivil(onset) == ToCivil(next.dtstart);
    }
  }
  return false;
}

void RemoveObservance(icalcomponent* vtimezone, icalcomponent* observance) {
  icalcomponent_remove_component(vtimezone, observance);
  icalcomponent_free(observance);
}

// libical builds VTIMEZONEs from the zoneinfo file, which lists explicit
// transitions up to 2037 and then a rule: even after truncation a zone with
// DST has each rule twice (until 2037, then from 2037 on). Merges such pairs.
void MergeContinuations(icalcomponent* vtimezone) {
  std::vector<Observance> observances = ReadObservances(vtimezone);
  std::vector<bool> removed(observances.size(), false);
  for (size_t a = 0; a < observances.size(); ++a) {
    if (removed[a]) continue;
    for (size_t b = 0; b < observances.size(); ++b) {
      if (a == b || removed[b]) continue;
      if (!Continues(observances[a], observances[b])) continue;
      icalrecurrencetype open = icalproperty_get_rrule(observances[a].rrule);
      open.until = icaltime_null_time();
      icalproperty_set_rrule(observances[a].rrule, open);
      RemoveObservance(vtimezone, observances[b].component);
      removed[b] = true;
      break;
    }
  }
}

// A zone without DST ends up as the block in force at the window start plus
// no-op blocks (same offset and name, e.g. at the 2038 end of 32-bit zoneinfo
// data): keeps only the first.
void CollapseConstantZone(icalcomponent* vtimezone) {
  std::vector<Observance> observances = ReadObservances(vtimezone);
  if (observances.size() < 2) return;
  const Observance& first = observances.front();
  for (const Observance& o : observances) {
    if (o.rrule != nullptr || o.has_rdate || o.offset_from != o.offset_to ||
        o.offset_to != first.offset_to || o.name != first.name) {
      return;
    }
  }
  size_t earliest = 0;
  for (size_t i = 1; i < observances.size(); ++i) {
    if (icaltime_compare(observances[i].dtstart,
                         observances[earliest].dtstart) < 0) {
      earliest = i;
    }
  }
  for (size_t i = 0; i < observances.size(); ++i) {
    if (i != earliest) RemoveObservance(vtimezone, observances[i].component);
  }
}

ComponentPtr NewVtimezone(const std::string& name) {
  ComponentPtr vtimezone(icalcomponent_new_vtimezone());
  icalcomponent_add_property(vtimezone.get(),
                             icalproperty_new_tzid(name.c_str()));
  return vtimezone;
}

// libical's VTIMEZONE for `zone`, renamed to `name` and cut to the window
// starting at `window_start`; nullptr if libical has no component.
ComponentPtr VtimezoneFromLibical(icaltimezone* zone, const std::string& name,
                                  absl::Time window_start) {
  icalcomponent* shared = icaltimezone_get_component(zone);
  if (shared == nullptr) return nullptr;
  // The builtin component is shared by all users of the zone: edit a copy.
  ComponentPtr vtimezone(icalcomponent_new_clone(shared));
  // libical 3.0 names system zones "/freeassociation.sourceforge.net/<name>"
  // and treats an empty prefix (icaltimezone_set_tzid_prefix("")) as "use
  // the default", so the TZID is rewritten on the copy instead.
  if (icalproperty* tzid = icalcomponent_get_first_property(
          vtimezone.get(), ICAL_TZID_PROPERTY)) {
    icalproperty_set_tzid(tzid, name.c_str());
  } else {
    icalcomponent_add_property(vtimezone.get(),
                               icalproperty_new_tzid(name.c_str()));
  }
  // Drops the history before the window (libical adds a block for the
  // offset in force at its start). The end stays open: RRULE series may run
  // forever.
  icaltimezone_truncate_vtimezone(vtimezone.get(), UtcTime(window_start),
                                  icaltime_null_time(), /*ms_compatible=*/0);
  MergeContinuations(vtimezone.get());
  CollapseConstantZone(vtimezone.get());
  return vtimezone;
}

// A VTIMEZONE spelled out from the zoneinfo transitions in [window_start,
// window_end): a block for the offset in force at the start, then one block
// per kind of change, with an RDATE for each repetition. Longer than
// libical's RRULE form, and the last offset simply continues after
// window_end, but exact within the window.
ComponentPtr VtimezoneFromTransitions(const std::string& name,
                                      const absl::TimeZone& zone,
                                      absl::Time window_start,
                                      absl::Time window_end) {
  ComponentPtr vtimezone = NewVtimezone(name);
  auto add_block = [&](const absl::TimeZone::CivilInfo& info, int offset_from,
                       const absl::CivilSecond& onset) {
    icalcomponent* block = info.is_dst ? icalcomponent_new_xdaylight()
                                       : icalcomponent_new_xstandard();
    icalcomponent_add_property(block, icalproperty_new_tzname(info.zone_abbr));
    icalcomponent_add_property(block,
                               icalproperty_new_tzoffsetfrom(offset_from));
    icalcomponent_add_property(block, icalproperty_new_tzoffsetto(info.offset));
    icalcomponent_add_property(block,
                               icalproperty_new_dtstart(FloatingTime(onset)));
    icalcomponent_add_component(vtimezone.get(), block);
    return block;
  };
  const absl::TimeZone::CivilInfo first = zone.At(window_start);
  add_block(first, first.offset, first.cs);

  struct Change {
    bool is_dst;
    std::string abbr;
    int offset_from;
    int offset_to;
    bool operator<(const Change& o) const {
      return std::tie(is_dst, abbr, offset_from, offset_to) <
             std::tie(o.is_dst, o.abbr, o.offset_from, o.offset_to);
    }
  };
  std::map<Change, icalcomponent*> blocks;
  int offset = first.offset;
  absl::Time t = window_start;
  absl::TimeZone::CivilTransition transition;
  while (zone.NextTransition(t, &transition)) {
    const absl::Time at = zone.At(transition.to).trans;
    if (at >= window_end || at <= t) break;
    t = at;
    const absl::TimeZone::CivilInfo after = zone.At(at);
    const Change change{after.is_dst, after.zone_abbr, offset, after.offset};
    offset = after.offset;
    // Onsets are written in the local time before the change.
    auto [it, inserted] = blocks.try_emplace(change, nullptr);
    if (inserted) {
      it->second = add_block(after, change.offset_from, transition.from);
    } else {
      icaldatetimeperiodtype rdate;
      rdate.time = FloatingTime(transition.from);
      rdate.period = icalperiodtype_null_period();
      icalcomponent_add_property(it->second, icalproperty_new_rdate(rdate));
    }
  }
  return vtimezone;
}

// Whether `vtimezone` gives the zoneinfo offsets (as absl reads them) in
// [window_start, window_end): every day at noon UTC and an hour before and
// after every transition.
bool MatchesZoneinfo(icalcomponent* vtimezone, const absl::TimeZone& zone,
                     absl::Time window_start, absl::Time window_end) {
  ZonePtr parsed(icaltimezone_new());
  ComponentPtr clone(icalcomponent_new_clone(vtimezone));
  if (parsed == nullptr || clone == nullptr) return false;
  // On success `parsed` owns the clone and frees it with itself.
  if (!icaltimezone_set_component(parsed.get(), clone.get())) return false;
  clone.release();
  auto matches = [&](absl::Time t) {
    icaltimetype utc = UtcTime(t);
    int is_daylight = 0;
    return icaltimezone_get_utc_offset_of_utc_time(
               parsed.get(), &utc, &is_daylight) == zone.At(t).offset;
  };
  bool ok = true;
  for (absl::Time t = window_start + absl::Hours(12); ok && t < window_end;
       t += absl::Hours(24)) {
    ok = matches(t);
  }
  absl::Time t = window_start;
  absl::TimeZone::CivilTransition transition;
  while (ok && zone.NextTransition(t, &transition)) {
    const absl::Time at = zone.At(transition.to).trans;
    if (at >= window_end || at <= t) break;
    ok = matches(at - absl::Hours(1)) && matches(at + absl::Hours(1));
    t = at;
  }
  return ok;
}

}  // namespace

ComponentPtr BuildVtimezone(icaltimezone* libical_zone, const std::string& name,
                            const absl::TimeZone& zone, int64_t first_year) {
  // Building and checking costs a few milliseconds; the result only depends
  // on the arguments (zoneinfo is read once per process by both libraries).
  // Guarded by LibicalMutex().
  static auto* const cache =
      new std::map<std::pair<std::string, int64_t>, ComponentPtr>();
  const std::pair<std::string, int64_t> key(name, first_year);
  if (auto it = cache->find(key); it != cache->end()) {
    return ComponentPtr(icalcomponent_new_clone(it->second.get()));
  }
  const absl::Time window_start =
      absl::FromCivil(absl::CivilYear(first_year), absl::UTCTimeZone());
  const absl::Time window_end = absl::FromCivil(
      absl::CivilYear(first_year + kVtimezoneYears), absl::UTCTimeZone());
  ComponentPtr vtimezone =
      VtimezoneFromLibical(libical_zone, name, window_start);
  if (vtimezone == nullptr) return nullptr;
  // libical 3.0 derives its RRULEs from the zoneinfo file and gets a few
  // zones wrong (e.g. America/St_Johns after 2037, Africa/Cairo in 2041,
  // America/Sao_Paulo 2014-2019): never export those.
  if (!MatchesZoneinfo(vtimezone.get(), zone, window_start, window_end)) {
    vtimezone = VtimezoneFromTransitions(name, zone, window_start, window_end);
  }
  if (cache->size() >= kVtimezoneCacheSize) cache->clear();
  cache->emplace(key, ComponentPtr(icalcomponent_new_clone(vtimezone.get())));
  return vtimezone;
}

}  // namespace townhall::scheduling::internal
