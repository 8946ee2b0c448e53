// Test support for the scheduling unit tests: times in named zones, status
// expectations and a short form of ExpandRecurrence.
//
//   const absl::Time first = Local("Europe/Berlin", 2027, 3, 15, 10);
//   ExpectInvalid(Expand("FREQ=SOMETIMES", first).status(), "series.rrule: ");
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "services/scheduling/recurrence.h"

namespace townhall::scheduling::testing {

inline absl::TimeZone Zone(const std::string& name) {
  absl::TimeZone zone;
  EXPECT_TRUE(absl::LoadTimeZone(name, &zone)) << name;
  return zone;
}

// A wall-clock time in the IANA zone `zone`.
inline absl::Time Local(const std::string& zone, int y, int mo, int d, int h,
                        int mi = 0) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, 0), Zone(zone));
}

inline absl::Time Utc(int y, int mo, int d, int h = 0, int mi = 0, int s = 0) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s),
                         absl::UTCTimeZone());
}

// `times` as wall-clock text in `zone`.
inline std::vector<std::string> Format(const std::vector<absl::Time>& times,
                                       const std::string& zone,
                                       const char* format = "%Y-%m-%d %H:%M") {
  std::vector<std::string> out;
  for (absl::Time t : times) {
    out.push_back(absl::FormatTime(format, t, Zone(zone)));
  }
  return out;
}

inline std::vector<std::string> FormatUtc(
    const std::vector<absl::Time>& times) {
  return Format(times, "UTC", "%Y-%m-%d %H:%MZ");
}

// ExpandRecurrence without exception or extra dates.
inline absl::StatusOr<std::vector<absl::Time>> Expand(
    const std::string& rrule, absl::Time first_start,
    const std::string& zone = "Europe/Berlin") {
  return ExpandRecurrence(
      {.rrule = rrule, .first_start = first_start, .time_zone = zone});
}

// INVALID_ARGUMENT with a message that starts with `prefix`.
inline void ExpectInvalid(const absl::Status& status,
                          const std::string& prefix) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(std::string(status.message()), ::testing::StartsWith(prefix))
      << status;
}

}  // namespace townhall::scheduling::testing
