#include "services/common/validation.h"

#include <utf8proc.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "services/common/logging.h"
#include "services/common/utf8.h"

namespace townhall {
namespace {

constexpr size_t kMaxUrlBytes = 2048;
constexpr size_t kMaxRequestIdBytes = 64;

bool IsForbiddenControl(utf8proc_int32_t cp, const TextLimits& limits) {
  if (limits.multiline && (cp == '\n' || cp == '\t' || cp == '\r')) {
    return false;
  }
  utf8proc_category_t category = utf8proc_category(cp);
  // Cc: C0/C1 controls. Cf (bidi controls, zero-width characters) only on
  // request: ZWNJ/ZWJ are legitimate in some scripts.
  if (category == UTF8PROC_CATEGORY_CC) return true;
  return limits.visible_only && category == UTF8PROC_CATEGORY_CF &&
         cp != 0x200C && cp != 0x200D;
}

// ASCII whitespace and the Unicode space separators (NO-BREAK SPACE,
// IDEOGRAPHIC SPACE, ...): text made only of these is blank on screen.
bool IsWhitespace(utf8proc_int32_t cp) {
  if (cp == ' ' || (cp >= '\t' && cp <= '\r')) return true;
  utf8proc_category_t category = utf8proc_category(cp);
  return category == UTF8PROC_CATEGORY_ZS || category == UTF8PROC_CATEGORY_ZL ||
         category == UTF8PROC_CATEGORY_ZP;
}

}  // namespace

absl::Status InvalidField(absl::string_view field, absl::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", reason));
}

absl::StatusOr<size_t> CountCodePoints(absl::string_view field,
                                       absl::string_view value) {
  size_t count = 0;
  if (!ForEachCodePoint(value, [&](utf8proc_int32_t) { return ++count > 0; })) {
    return InvalidField(field, "is not valid UTF-8");
  }
  return count;
}

absl::Status ValidateText(absl::string_view field, absl::string_view value,
                          const TextLimits& limits) {
  // Cheap bound first: a code point takes at most 4 bytes.
  if (value.size() > limits.max_chars * 4) {
    return InvalidField(field, absl::StrCat("must be at most ",
                                            limits.max_chars, " characters"));
  }
  size_t count = 0;
  bool blank = true;
  utf8proc_int32_t forbidden = -1;
  bool valid = ForEachCodePoint(value, [&](utf8proc_int32_t cp) {
    if (IsForbiddenControl(cp, limits)) {
      forbidden = cp;
      return false;
    }
    if (blank && !IsWhitespace(cp)) blank = false;
    ++count;
    return true;
  });
  if (!valid) return InvalidField(field, "is not valid UTF-8");
  if (forbidden >= 0) {
    return InvalidField(
        field,
        absl::StrFormat("must not contain %s character U+%04X",
                        utf8proc_category(forbidden) == UTF8PROC_CATEGORY_CF
                            ? "invisible"
                            : "control",
                        forbidden));
  }
  if (count > limits.max_chars) {
    return InvalidField(field, absl::StrCat("must be at most ",
                                            limits.max_chars, " characters"));
  }
  if (limits.min_chars > 0 && blank) {
    return InvalidField(field, "must not be empty");
  }
  if (count < limits.min_chars) {
    return InvalidField(field, absl::StrCat("must be at least ",
                                            limits.min_chars, " characters"));
  }
  return absl::OkStatus();
}

namespace {

// Only plain IANA names: no absolute paths or ".." (the loader opens files
// by name), no absl "Fixed/UTC+hh:mm" (townhall wants real zones, so that
// daylight saving time is handled) and no host-dependent "localtime".
bool LooksLikeIanaName(absl::string_view name) {
  if (name.empty() || name.size() > 64 || !absl::ascii_isalpha(name.front()) ||
      name.back() == '/' || absl::StrContains(name, "..") ||
      absl::StrContains(name, "//") || absl::StartsWith(name, "Fixed/") ||
      name == "localtime") {
    return false;
  }
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && c != '/' && c != '_' && c != '-' &&
        c != '+') {
      return false;
    }
  }
  return true;
}

// The zone names townhall accepts, read once from the tz database that absl
// loads zones from. The zoneinfo directory also holds files that are not
// zones (posixrules, localtime, Factory, the posix/ and right/ copies), so a
// loadable file is not enough.
struct ZoneNames {
  // Canonical names: the zones of zone.tab (what calendar clients and
  // libical list) plus "UTC".
  absl::flat_hash_set<std::string> canonical;
  // Backward-compatible links (tzdata.zi "L" lines) to a canonical name,
  // e.g. Asia/Calcutta -> Asia/Kolkata, Etc/UTC -> UTC.
  absl::flat_hash_map<std::string, std::string> links;
};

std::string ZoneinfoDir() {
  // absl honours TZDIR too.
  const char* dir = std::getenv("TZDIR");
  return dir != nullptr && *dir != '\0' ? dir : "/usr/share/zoneinfo";
}

ZoneNames ReadZoneNames() {
  ZoneNames names;
  names.canonical.insert("UTC");
  // Zones rather than links in the tz database, but "UTC" is the name
  // everybody uses for both.
  names.links = {{"Etc/UTC", "UTC"}, {"Etc/GMT", "UTC"}};
  const std::string dir = ZoneinfoDir();
  std::ifstream zone_tab(dir + "/zone.tab");
  // Lines: country code, coordinates, zone name[, comment], tab-separated.
  for (std::string line; std::getline(zone_tab, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> fields = absl::StrSplit(line, '\t');
    if (fields.size() >= 3) names.canonical.insert(fields[2]);
  }
  if (names.canonical.size() == 1) {
    LogError("cannot read the time zone list; only UTC is accepted",
             {{"path", dir + "/zone.tab"}});
    return names;
  }
  // Lines "L <target> <link>". A target may itself be a link (or Etc/UTC):
  // links are resolved after all are read.
  absl::flat_hash_map<std::string, std::string> targets;
  std::ifstream tzdata(dir + "/tzdata.zi");
  for (std::string line; std::getline(tzdata, line);) {
    std::vector<std::string> fields =
        absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (fields.size() == 3 && fields[0] == "L") targets[fields[2]] = fields[1];
  }
  for (const auto& [link, first_target] : targets) {
    std::string target = first_target;
    for (int hop = 0; hop < 4 && !names.canonical.contains(target); ++hop) {
      if (auto it = names.links.find(target); it != names.links.end()) {
        target = it->second;
      } else if (auto next = targets.find(target); next != targets.end()) {
        target = next->second;
      }
    }
    // zone.tab wins: Europe/Bratislava stays itself, though tzdata.zi links
    // it to Europe/Prague.
    if (names.canonical.contains(target) && !names.canonical.contains(link)) {
      names.links[link] = target;
    }
  }
  return names;
}

const ZoneNames& KnownZoneNames() {
  static const ZoneNames* const names = new ZoneNames(ReadZoneNames());
  return *names;
}

// The canonical name for `name`, or nullopt if it names no zone.
std::optional<std::string> CanonicalZoneName(absl::string_view name) {
  if (!LooksLikeIanaName(name)) return std::nullopt;
  const ZoneNames& names = KnownZoneNames();
  if (names.canonical.contains(name)) return std::string(name);
  if (auto it = names.links.find(name); it != names.links.end()) {
    return it->second;
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<absl::TimeZone> ValidateTimeZone(absl::string_view field,
                                                absl::string_view name) {
  std::optional<std::string> canonical = CanonicalZoneName(name);
  absl::TimeZone zone;
  if (!canonical.has_value() || !absl::LoadTimeZone(*canonical, &zone)) {
    return InvalidField(
        field, absl::StrCat("unknown time zone \"",
                            absl::CHexEscape(name.substr(0, 64)), "\""));
  }
  return zone;
}

absl::Status NormalizeTimeZone(absl::string_view field, std::string* name) {
  absl::StatusOr<absl::TimeZone> zone = ValidateTimeZone(field, *name);
  if (!zone.ok()) return zone.status();
  *name = zone->name();
  return absl::OkStatus();
}

absl::Status ValidateTimestamp(absl::string_view field, int64_t seconds,
                               int32_t nanos) {
  if (nanos < 0 || nanos > 999999999 || seconds < kTimestampBeginSeconds ||
      seconds >= kTimestampEndSeconds) {
    return InvalidField(field,
                        "must be a time between the years 2000 and 2200");
  }
  return absl::OkStatus();
}

absl::Status ValidateUrl(absl::string_view field, absl::string_view url) {
  if (url.empty()) return absl::OkStatus();
  if (url.size() > kMaxUrlBytes) {
    return InvalidField(
        field, absl::StrCat("must be at most ", kMaxUrlBytes, " bytes"));
  }
  absl::string_view rest = url;
  if (!absl::ConsumePrefix(&rest, "https://") &&
      !absl::ConsumePrefix(&rest, "http://")) {
    return InvalidField(field, "must be an http(s) URL");
  }
  if (rest.empty() || rest[0] == '/' || rest[0] == '?' || rest[0] == '#') {
    return InvalidField(field, "must name a host");
  }
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 ||
        static_cast<unsigned char>(c) >= 0x7f) {
      return InvalidField(field,
                          "must not contain spaces or non-ASCII characters");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateRequestId(absl::string_view field, absl::string_view id) {
  if (id.size() > kMaxRequestIdBytes) {
    return InvalidField(
        field, absl::StrCat("must be at most ", kMaxRequestIdBytes, " bytes"));
  }
  for (char c : id) {
    if (c < 0x21 || c > 0x7e) {
      return InvalidField(field, "must be printable ASCII without spaces");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateId(absl::string_view field, absl::string_view id) {
  if (id.empty()) return InvalidField(field, "is required");
  if (id.size() > 64) return InvalidField(field, "is not a valid id");
  for (char c : id) {
    if (!absl::ascii_isalnum(c) && c != '-' && c != '_') {
      return InvalidField(field, "is not a valid id");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<int> ValidatePageSize(int requested) {
  constexpr int kDefaultPageSize = 50;
  constexpr int kMaxPageSize = 500;
  if (requested < 0) return InvalidField("page_size", "must not be negative");
  if (requested == 0) return kDefaultPageSize;
  return std::min(requested, kMaxPageSize);
}

absl::StatusOr<int64_t> ParseOffsetPageToken(const std::string& token) {
  if (token.empty()) return 0;
  int64_t offset = 0;
  if (!absl::SimpleAtoi(token, &offset) || offset < 0) {
    return InvalidField("page_token", "is not a token of this listing");
  }
  return offset;
}

}  // namespace townhall
