// Shared by the libical-based modules (rrule.cc, recurrence.cc, calendar.cc,
// vtimezone.cc).
//
// LibicalMutex: serializes this project's calls into libical's time zone
// machinery.
//
// libical keeps process-wide state: the builtin time zone table (loaded
// lazily; its VTIMEZONE components are shared by every caller), the TZID
// prefix and zone directory settings. libical 3.0 guards only parts of it
// with locks of its own, so every libical call that touches zones or
// components (calendar.cc, vtimezone.cc and their tests) runs under this one
// mutex. Keep the critical sections short: no I/O besides libical's own lazy
// reading of /usr/share/zoneinfo.
//
// Recurrence rules are parsed and expanded WITHOUT this mutex (rrule.cc,
// recurrence.cc): with floating (zone-less) times, icalrecurrencetype_*
// and icalrecur_iterator_* use only per-thread state (icalerrno and the
// icalmemory ring buffers are pthread-specific in libical 3.0), the
// iterator's own memory and its own ICU calendar. So a long expansion by one
// organizer never delays another caller's calendar export.
//
// Usage:
//   absl::MutexLock lock(&internal::LibicalMutex());
//   icalerror_clear_errno();
//   ...
#pragma once

#include <libical/ical.h>

#include <cstdlib>
#include <memory>

#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace townhall::scheduling::internal {

inline absl::Mutex& LibicalMutex() {
  // Never destroyed: libical may still be used by threads during exit.
  static absl::Mutex* const mutex = new absl::Mutex;
  return *mutex;
}

struct IteratorDeleter {
  void operator()(icalrecur_iterator* it) const { icalrecur_iterator_free(it); }
};
using IteratorPtr = std::unique_ptr<icalrecur_iterator, IteratorDeleter>;

// A parsed RRULE that owns what libical allocated for it: the RSCALE value,
// which icalrecurrencetype_from_string() mallocs and libical 3.0 never frees
// (icalvalue_set_recur() and the iterator take copies or borrow it).
class ParsedRrule {
 public:
  // Parses `text`; check icalerrno afterwards.
  explicit ParsedRrule(const char* text)
      : value_(icalrecurrencetype_from_string(text)) {}
  ParsedRrule(ParsedRrule&& other) noexcept : value_(other.value_) {
    other.value_.rscale = nullptr;
  }
  ParsedRrule(const ParsedRrule&) = delete;
  ParsedRrule& operator=(const ParsedRrule&) = delete;
  ParsedRrule& operator=(ParsedRrule&&) = delete;
  ~ParsedRrule() { std::free(value_.rscale); }

  // Valid while this object lives: a copy of it borrows the RSCALE string.
  const icalrecurrencetype& value() const { return value_; }

 private:
  icalrecurrencetype value_;
};

struct ComponentDeleter {
  void operator()(icalcomponent* c) const { icalcomponent_free(c); }
};
using ComponentPtr = std::unique_ptr<icalcomponent, ComponentDeleter>;

// Text libical allocated for the caller (the *_r functions).
struct BufferDeleter {
  void operator()(char* p) const { icalmemory_free_buffer(p); }
};
using BufferPtr = std::unique_ptr<char, BufferDeleter>;

// iCalendar has second resolution; flooring every input the same way lets
// exceptions match expanded starts exactly.
inline absl::Time FloorToSecond(absl::Time t) {
  return absl::FromUnixSeconds(absl::ToUnixSeconds(t));
}

// A time without zone: libical then works in plain wall-clock time.
inline icaltimetype FloatingTime(const absl::CivilSecond& local) {
  icaltimetype t = icaltime_null_time();
  t.year = static_cast<int>(local.year());
  t.month = local.month();
  t.day = local.day();
  t.hour = local.hour();
  t.minute = local.minute();
  t.second = local.second();
  return t;
}

// `t` as a UTC time ("...Z").
inline icaltimetype UtcTime(absl::Time t) {
  icaltimetype out = FloatingTime(absl::ToCivilSecond(t, absl::UTCTimeZone()));
  out.zone = icaltimezone_get_utc_timezone();
  return out;
}

inline absl::CivilSecond ToCivil(const icaltimetype& t) {
  return absl::CivilSecond(t.year, t.month, t.day, t.hour, t.minute, t.second);
}

}  // namespace townhall::scheduling::internal
