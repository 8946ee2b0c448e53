// The standard process metrics of the Prometheus client libraries
// (prometheus-cpp 1.0 has no process collector), read from /proc at scrape
// time, and townhall_build_info.
#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "services/common/metrics/metrics.h"

#ifndef TOWNHALL_BUILD_VERSION
#define TOWNHALL_BUILD_VERSION "unknown"
#endif

namespace townhall {
namespace {

std::string ReadFile(const char* path) {
  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

// The fields of /proc/self/stat after the command name (which may hold
// spaces and parentheses), so that field N of proc(5) is at N - 3.
std::vector<std::string> StatFields() {
  const std::string stat = ReadFile("/proc/self/stat");
  const size_t end_of_name = stat.rfind(')');
  if (end_of_name == std::string::npos) return {};
  return absl::StrSplit(stat.substr(end_of_name + 2), ' ');
}

double StatField(int field) {
  std::vector<std::string> fields = StatFields();
  double value = 0;
  const size_t index = field - 3;
  if (index < fields.size()) (void)absl::SimpleAtod(fields[index], &value);
  return value;
}

double ClockTicks() { return static_cast<double>(sysconf(_SC_CLK_TCK)); }

double BootTimeSeconds() {
  for (absl::string_view line : absl::StrSplit(ReadFile("/proc/stat"), '\n')) {
    double value = 0;
    if (absl::ConsumePrefix(&line, "btime ") &&
        absl::SimpleAtod(line, &value)) {
      return value;
    }
  }
  return 0;
}

double OpenFds() {
  std::error_code error;
  double count = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", error);
       !error && it != std::filesystem::directory_iterator();
       it.increment(error)) {
    ++count;
  }
  return count;
}

double MaxFds() {
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  return static_cast<double>(limit.rlim_cur);
}

}  // namespace

void AddProcessMetrics(ScrapeTimeMetrics& metrics) {
  using prometheus::MetricType;
  // proc(5): 14 utime, 15 stime, 22 starttime (ticks), 23 vsize (bytes),
  // 24 rss (pages).
  metrics.Add(
      {.name = "process_cpu_seconds_total",
       .help = "User and system CPU time spent, in seconds",
       .type = MetricType::Counter,
       .value = [] { return (StatField(14) + StatField(15)) / ClockTicks(); }});
  metrics.Add({.name = "process_resident_memory_bytes",
               .help = "Resident memory size in bytes",
               .value = [] {
                 return StatField(24) * static_cast<double>(getpagesize());
               }});
  metrics.Add({.name = "process_virtual_memory_bytes",
               .help = "Virtual memory size in bytes",
               .value = [] { return StatField(23); }});
  const double start_time = BootTimeSeconds() + StatField(22) / ClockTicks();
  metrics.Add({.name = "process_start_time_seconds",
               .help = "Start time of the process since the Unix epoch, in "
                       "seconds",
               .value = [start_time] { return start_time; }});
  metrics.Add({.name = "process_open_fds",
               .help = "Open file descriptors",
               .value = OpenFds});
  metrics.Add({.name = "process_max_fds",
               .help = "Limit of open file descriptors",
               .value = MaxFds});
  metrics.Add({.name = "townhall_build_info",
               .help = "Always 1; the build's version (git describe at "
                       "configure time) as a label",
               .labels = {{"version", TOWNHALL_BUILD_VERSION}},
               .value = [] { return 1.0; }});
}

}  // namespace townhall
