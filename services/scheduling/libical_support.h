// Shared by the libical-based modules (recurrence.cc, calendar.cc).
//
// LibicalMutex: serializes this project's calls into libical.
//
// libical keeps process-wide state: the builtin time zone table (loaded
// lazily; its VTIMEZONE components are shared by every caller), the TZID
// prefix and zone directory settings, and per-call scratch buffers. libical
// 3.0 guards only parts of it with locks of its own, so every libical call
// in townhall (recurrence.cc, calendar.cc and their tests) runs under this
// one mutex. Keep the critical sections short: no I/O besides libical's own
// lazy reading of /usr/share/zoneinfo.
//
// Usage:
//   absl::MutexLock lock(&internal::LibicalMutex());
//   icalerror_clear_errno();
//   ...
#pragma once

#include <libical/ical.h>

#include <memory>

#include "absl/synchronization/mutex.h"
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

// iCalendar has second resolution; flooring every input the same way lets
// exceptions match expanded starts exactly.
inline absl::Time FloorToSecond(absl::Time t) {
  return absl::FromUnixSeconds(absl::ToUnixSeconds(t));
}

}  // namespace townhall::scheduling::internal
