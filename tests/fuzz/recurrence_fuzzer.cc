// Fuzzes RRULE validation and expansion (services/scheduling/rrule.h,
// recurrence.h).
// An input is text, one item per line, so seeds read like a series:
//   FREQ=MONTHLY;BYDAY=2SA;COUNT=6   the RRULE (required)
//   Europe/Berlin                    time zone (default Europe/Berlin)
//   2026-01-10T10:00:00              first start, UTC (default below)
//   -2026-03-14T10:00:00             an EXDATE (any number of these)
//   +2026-03-15T10:00:00             an RDATE (any number of these)
// Checks what recurrence.h promises of a successful expansion: strictly
// increasing starts, at most kMaxOccurrences of them, every RDATE in.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/scheduling/recurrence.h"
#include "services/scheduling/rrule.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using townhall::scheduling::RecurrenceSpec;

constexpr char kTimeFormat[] = "%Y-%m-%dT%H:%M:%S";

bool ParseUtc(absl::string_view text, absl::Time* out) {
  std::string error;
  return absl::ParseTime(kTimeFormat, text, absl::UTCTimeZone(), out, &error);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<std::string> lines = absl::StrSplit(
      absl::string_view(reinterpret_cast<const char*>(data), size), '\n');
  RecurrenceSpec spec;
  spec.rrule = lines[0];
  spec.time_zone = lines.size() > 1 ? lines[1] : "Europe/Berlin";
  spec.first_start = absl::FromUnixSeconds(1767607200);  // 2026-01-05 10:00
  if (lines.size() > 2) ParseUtc(lines[2], &spec.first_start);
  for (size_t i = 3; i < lines.size(); ++i) {
    absl::Time t;
    if (lines[i].empty() || !ParseUtc(lines[i].substr(1), &t)) continue;
    if (lines[i][0] == '-') spec.exception_dates.push_back(t);
    if (lines[i][0] == '+') spec.extra_dates.push_back(t);
  }

  const bool valid = townhall::scheduling::ValidateRrule(spec.rrule).ok();
  absl::StatusOr<std::vector<absl::Time>> starts =
      townhall::scheduling::ExpandRecurrence(spec);
  if (!starts.ok()) return 0;
  FUZZ_CHECK(valid);  // an expandable rule passes validation
  FUZZ_CHECK(starts->size() <=
             static_cast<size_t>(townhall::scheduling::kMaxOccurrences));
  FUZZ_CHECK(std::adjacent_find(starts->begin(), starts->end(),
                                [](absl::Time a, absl::Time b) {
                                  return a >= b;
                                }) == starts->end());
  for (absl::Time extra : spec.extra_dates) {
    FUZZ_CHECK(
        std::binary_search(starts->begin(), starts->end(),
                           absl::FromUnixSeconds(absl::ToUnixSeconds(extra))));
  }
  return 0;
}
