// Where the person running townhallctl is: their time zone (tables show
// times there and in UTC) and their terminal's width (tables fit it).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace townhall::ctl {

struct ViewerZone {
  absl::TimeZone zone;
  // An IANA name for headers; "UTC" for any name of UTC.
  std::string name;
};

// --time_zone when given (INVALID_ARGUMENT for an unknown zone), else $TZ
// (`tz_env`, nullptr when unset; ":Europe/Berlin" and zoneinfo paths too),
// else the zone /etc/localtime links to (`localtime_link`), else UTC. A TZ
// or link that names no known zone is passed over.
absl::StatusOr<ViewerZone> ResolveViewerZone(const std::string* flag,
                                             const char* tz_env,
                                             const std::string& localtime_link);

// The target of /etc/localtime ("/usr/share/zoneinfo/Europe/Berlin"), or "".
std::string LocalTimeLink();

// Columns a table may take: $COLUMNS (`columns_env`) when it is a number,
// else the width of the terminal on `fd` when it is one, else 0: a pipe or
// a file gets whole rows.
int TerminalWidth(const char* columns_env, int fd);

}  // namespace townhall::ctl
