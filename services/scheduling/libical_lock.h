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

#include "absl/synchronization/mutex.h"

namespace townhall::scheduling::internal {

inline absl::Mutex& LibicalMutex() {
  // Never destroyed: libical may still be used by threads during exit.
  static absl::Mutex* const mutex = new absl::Mutex;
  return *mutex;
}

}  // namespace townhall::scheduling::internal
