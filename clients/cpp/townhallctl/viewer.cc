#include "clients/cpp/townhallctl/viewer.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <filesystem>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace townhall::ctl {
namespace {

// "Europe/Berlin" from ":Europe/Berlin" or ".../zoneinfo/Europe/Berlin".
std::string ZoneName(absl::string_view text) {
  absl::ConsumePrefix(&text, ":");
  if (size_t at = text.rfind("zoneinfo/"); at != absl::string_view::npos) {
    text.remove_prefix(at + 9);
  }
  return std::string(text);
}

std::optional<ViewerZone> Load(const std::string& name) {
  ViewerZone out;
  if (name.empty() || !absl::LoadTimeZone(name, &out.zone)) {
    return std::nullopt;
  }
  const bool utc = name == "UTC" || name == "Etc/UTC" || name == "UCT" ||
                   name == "Etc/UCT" || name == "Universal" ||
                   name == "Etc/Universal" || name == "Zulu" ||
                   name == "Etc/Zulu" || name == "GMT" || name == "Etc/GMT";
  out.name = utc ? "UTC" : name;
  return out;
}

}  // namespace

absl::StatusOr<ViewerZone> ResolveViewerZone(
    const std::string* flag, const char* tz_env,
    const std::string& localtime_link) {
  if (flag != nullptr) {
    if (std::optional<ViewerZone> zone = Load(ZoneName(*flag))) return *zone;
    return absl::InvalidArgumentError(
        absl::StrCat("--time_zone: \"", *flag,
                     "\" is not an IANA time zone (e.g. Asia/Tashkent, UTC)"));
  }
  if (tz_env != nullptr) {
    if (std::optional<ViewerZone> zone = Load(ZoneName(tz_env))) return *zone;
  }
  if (std::optional<ViewerZone> zone = Load(ZoneName(localtime_link))) {
    return *zone;
  }
  return *Load("UTC");
}

std::string LocalTimeLink() {
  std::error_code error;
  std::filesystem::path target =
      std::filesystem::read_symlink("/etc/localtime", error);
  return error ? "" : target.string();
}

int TerminalWidth(const char* columns_env, int fd) {
  int columns = 0;
  if (columns_env != nullptr && absl::SimpleAtoi(columns_env, &columns) &&
      columns > 0) {
    return columns;
  }
  winsize size{};
  if (isatty(fd) && ioctl(fd, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) {
    return size.ws_col;
  }
  return 0;
}

}  // namespace townhall::ctl
