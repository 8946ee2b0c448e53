// ics_instants: the libical side of the time zone property test
// (test_calendar_zones_e2e.py). For each .ics file named on the command
// line, prints one line: the file name, then the start instants (unix
// seconds, sorted) of every occurrence libical reads from it
// (LibicalStarts: RRULE, RDATE, EXDATE and RECURRENCE-ID overrides, with the
// embedded VTIMEZONEs). Exit status 1 if a file cannot be read or parsed.
//
//   ics_instants a.ics b.ics
//   a.ics 1804491000 1805095800
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/scheduling/libical_reader_test_support.h"

int main(int argc, char** argv) {
  int status = 0;
  for (int i = 1; i < argc; ++i) {
    std::ifstream in(argv[i], std::ios::binary);
    if (!in) {
      std::cerr << argv[i] << ": cannot open\n";
      status = 1;
      continue;
    }
    std::stringstream text;
    text << in.rdbuf();
    absl::StatusOr<std::vector<absl::Time>> starts =
        townhall::scheduling::testing::LibicalStarts(text.str());
    if (!starts.ok()) {
      std::cerr << argv[i] << ": " << starts.status() << "\n";
      status = 1;
      continue;
    }
    std::cout << argv[i];
    for (absl::Time t : *starts) std::cout << ' ' << absl::ToUnixSeconds(t);
    std::cout << '\n';
  }
  return status;
}
