// Calendar exports while expensive recurrence rules are being submitted
// (issue 14 item 8). EXPANDERS threads do what CreateSeries does with
// FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO;COUNT=200 (ValidateRrule, then
// ExpandRecurrence), back to back; one thread renders a calendar the way
// ExportCalendar does (RenderCalendar of a session and of a series), every
// 5 ms, and reports its latency. No Redis and no gRPC: this measures what
// the two share, libical and the process-wide LibicalMutex.
//
//   build/bench/recurrence-export-bench --expanders=8 --seconds=10
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/scheduling/calendar.h"
#include "services/scheduling/recurrence.h"

ABSL_FLAG(int, expanders, 8, "threads submitting the expensive rule");
ABSL_FLAG(int, seconds, 10, "how long to measure");
ABSL_FLAG(std::string, rrule,
          "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO;COUNT=200",
          "the rule the expanders submit");

namespace townhall::scheduling {
namespace {

absl::Time Berlin(int y, int mo, int d, int h) {
  absl::TimeZone zone;
  absl::LoadTimeZone("Europe/Berlin", &zone);
  return absl::FromCivil(absl::CivilHour(y, mo, d, h), zone);
}

std::vector<CalendarEvent> Events() {
  CalendarEvent session;
  session.uid = "session@townhall";
  session.last_modified = Berlin(2027, 3, 1, 12);
  session.summary = "Consular hour";
  session.start = Berlin(2027, 4, 20, 18);
  session.duration = absl::Hours(1);
  session.time_zone = "Europe/Berlin";
  CalendarEvent series = session;
  series.uid = "series@townhall";
  series.rrule = "FREQ=WEEKLY;COUNT=10";
  return {session, series};
}

int Run() {
  const int expanders = absl::GetFlag(FLAGS_expanders);
  const absl::Duration duration = absl::Seconds(absl::GetFlag(FLAGS_seconds));
  const std::string rrule = absl::GetFlag(FLAGS_rrule);
  const std::vector<CalendarEvent> events = Events();
  // Warm up zones and caches outside the measurement.
  if (!RenderCalendar(events, absl::Now()).ok()) return 1;

  std::atomic<bool> stop{false};
  std::atomic<int64_t> expansions{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < expanders; ++i) {
    threads.emplace_back([&] {
      const RecurrenceSpec spec{.rrule = rrule,
                                .first_start = Berlin(2027, 3, 15, 10),
                                .time_zone = "Europe/Berlin"};
      while (!stop.load()) {
        if (ValidateRrule(rrule).ok()) (void)ExpandRecurrence(spec);
        expansions.fetch_add(1);
      }
    });
  }
  std::vector<double> latencies_ms;
  const absl::Time end = absl::Now() + duration;
  while (absl::Now() < end) {
    const absl::Time started = absl::Now();
    if (!RenderCalendar(events, started).ok()) return 1;
    latencies_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - started));
    absl::SleepFor(absl::Milliseconds(5));
  }
  stop.store(true);
  for (std::thread& t : threads) t.join();

  std::sort(latencies_ms.begin(), latencies_ms.end());
  auto at = [&](double q) {
    return latencies_ms[static_cast<size_t>(q * (latencies_ms.size() - 1))];
  };
  std::printf(
      "| %d | %zu | %.2f | %.2f | %.2f | %.1f |\n", expanders,
      latencies_ms.size(), at(0.5), at(0.99), latencies_ms.back(),
      static_cast<double>(expansions.load()) / absl::ToDoubleSeconds(duration));
  return 0;
}

}  // namespace
}  // namespace townhall::scheduling

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return townhall::scheduling::Run();
}
