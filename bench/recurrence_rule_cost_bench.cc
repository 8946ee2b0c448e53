// CPU cost of one CreateSeries-style expansion (ValidateRrule, then
// ExpandRecurrence) for rules chosen to be expensive: rules that never
// match, sparse rules, rules whose first match is far off (issue 14 item 8;
// docs/benchmarks.md, "Cost of one expansion"). Prints a Markdown table: the
// outcome and the largest thread CPU time over --repeat runs.
//
//   build/bench/recurrence-rule-cost-bench --repeat=5
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "services/scheduling/recurrence.h"

ABSL_FLAG(int, repeat, 5, "runs per rule; the largest CPU time is reported");
ABSL_FLAG(std::string, rrule, "",
          "measure this rule (first start --first_year-01-03 10:00 UTC) "
          "instead of the built-in table");
ABSL_FLAG(int, first_year, 2000, "with --rrule: the year of the first start");

namespace townhall::scheduling {
namespace {

struct Case {
  const char* rrule;
  int year, month, day;  // The first start, at 10:00 UTC.
};

const Case kCases[] = {
    // Never match (refused).
    {"FREQ=MONTHLY;BYDAY=1MO;BYMONTHDAY=8", 2000, 1, 3},
    {"FREQ=MONTHLY;BYDAY=1MO;BYMONTHDAY=8;COUNT=5", 2027, 3, 15},
    {"FREQ=MONTHLY;BYDAY=1MO;BYMONTHDAY=8;BYMONTH=2", 2000, 1, 3},
    {"FREQ=MONTHLY;BYDAY=1MO,1TU;BYSETPOS=2;BYMONTHDAY=1", 2000, 1, 3},
    {"FREQ=MONTHLY;BYMONTHDAY=31;BYMONTH=4,6", 2000, 1, 3},
    {"FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", 2000, 1, 3},
    {"FREQ=YEARLY;BYDAY=1MO;BYMONTHDAY=8;BYMONTH=1,2,3,4,5,6,7,8,9,10,11,12",
     2000, 1, 3},
    {"FREQ=YEARLY;BYWEEKNO=53;BYMONTH=1;BYDAY=TH", 2000, 1, 3},
    {"FREQ=YEARLY;BYWEEKNO=1;BYSETPOS=2", 2000, 1, 3},
    {"FREQ=YEARLY;BYYEARDAY=1;BYDAY=MO;BYSETPOS=2", 2000, 1, 3},
    {"FREQ=YEARLY;BYYEARDAY=366;BYMONTH=1", 2000, 1, 3},
    {"FREQ=WEEKLY;BYMONTH=2;BYDAY=MO;BYSETPOS=2;COUNT=5", 2000, 1, 3},
    // Sparse or far-off, but legal.
    {"FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO;COUNT=5", 2000, 1, 3},
    {"FREQ=MONTHLY;INTERVAL=7;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO;COUNT=3", 2000,
     1, 3},
    {"FREQ=MONTHLY;INTERVAL=11;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO", 2190, 1, 3},
    {"FREQ=YEARLY;INTERVAL=100;BYMONTH=2;BYMONTHDAY=29;COUNT=2", 2001, 1, 3},
    {"FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO;COUNT=200", 2000, 1, 3},
    {"FREQ=YEARLY;BYWEEKNO=53;BYDAY=TH;COUNT=20", 2000, 1, 3},
    {"FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO;COUNT=200", 2027, 3, 15},
    {"FREQ=WEEKLY;BYMONTH=2;BYDAY=MO;COUNT=200", 2000, 1, 3},
    {"FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;COUNT=200", 2000, 1, 3},
};

double ThreadCpuMs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int Run() {
  const int repeat = std::max(1, absl::GetFlag(FLAGS_repeat));
  std::printf("| rule | first start (UTC) | outcome | max CPU ms |\n");
  std::printf("|---|---|---|---|\n");
  std::vector<Case> cases(std::begin(kCases), std::end(kCases));
  const std::string rrule = absl::GetFlag(FLAGS_rrule);
  if (!rrule.empty()) {
    cases = {{rrule.c_str(), absl::GetFlag(FLAGS_first_year), 1, 3}};
  }
  for (const Case& c : cases) {
    const absl::CivilSecond first(c.year, c.month, c.day, 10, 0, 0);
    const RecurrenceSpec spec{
        .rrule = c.rrule,
        .first_start = absl::FromCivil(first, absl::UTCTimeZone()),
        .time_zone = "UTC"};
    double worst = 0;
    std::string outcome;
    for (int i = 0; i < repeat; ++i) {
      const double started = ThreadCpuMs();
      absl::Status status = ValidateRrule(spec.rrule);
      size_t count = 0;
      if (status.ok()) {
        absl::StatusOr<std::vector<absl::Time>> starts = ExpandRecurrence(spec);
        status = starts.status();
        if (starts.ok()) count = starts->size();
      }
      worst = std::max(worst, ThreadCpuMs() - started);
      outcome = status.ok() ? std::to_string(count) + " starts"
                            : absl::StatusCodeToString(status.code());
    }
    std::printf("| `%s` | %s | %s | %.1f |\n", c.rrule,
                absl::FormatCivilTime(first).c_str(), outcome.c_str(), worst);
  }
  return 0;
}

}  // namespace
}  // namespace townhall::scheduling

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return townhall::scheduling::Run();
}
