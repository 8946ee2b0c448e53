// Input validation shared by every service. Each check returns
// INVALID_ARGUMENT with a message that starts with the field path, so a
// client can tell the user exactly what to fix:
//   "session.title: must not be empty"
//   "session.time_zone: unknown time zone \"Mars/Olympus\""
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace townhall {

struct TextLimits {
  size_t min_chars = 0;
  // Counted in Unicode code points.
  size_t max_chars = 200;
  // Whether \n and \t are allowed (descriptions), or not (titles).
  bool multiline = false;
  // Refuse invisible format characters too: bidirectional controls
  // (U+202A..U+202E, U+2066..U+2069, U+200E, U+200F, U+061C), zero-width
  // and other Unicode format (Cf) characters such as U+200B, U+2060, U+FEFF
  // and U+00AD. The zero-width (non-)joiner U+200C/U+200D stays allowed:
  // Persian, Indic scripts and emoji need them. For text shown to many
  // people (questions), where such characters only spoof or hide.
  bool visible_only = false;
};

// Checks that `value` is valid UTF-8 without control characters (other than
// newlines and tabs when multiline; nor format characters when
// visible_only), and that its length in code points is within limits.
// Whitespace-only text counts as empty.
absl::Status ValidateText(absl::string_view field, absl::string_view value,
                          const TextLimits& limits);

// Returns the number of code points in valid UTF-8 `value`, or an error
// naming `field` if it is not valid UTF-8.
absl::StatusOr<size_t> CountCodePoints(absl::string_view field,
                                       absl::string_view value);

// Checks an IANA time zone name and returns the zone, loaded under its
// canonical name (zone.name()). Accepted: the zones of the tz database's
// zone.tab ("Asia/Tashkent") and "UTC", and links to them, which are
// normalized ("Asia/Calcutta" -> "Asia/Kolkata", "Etc/UTC" -> "UTC").
// Refused: everything else absl could load, such as "posixrules",
// "localtime", "Factory", "posix/...", "right/..." and "Etc/GMT+5".
absl::StatusOr<absl::TimeZone> ValidateTimeZone(absl::string_view field,
                                                absl::string_view name);

// Validates `*name` like ValidateTimeZone and replaces it by its canonical
// name: call it on every time zone that is stored.
absl::Status NormalizeTimeZone(absl::string_view field, std::string* name);

// The range of instants a client may schedule, in Unix seconds:
// [2000-01-01T00:00:00Z, 2200-01-01T00:00:00Z).
inline constexpr int64_t kTimestampBeginSeconds = 946684800;
inline constexpr int64_t kTimestampEndSeconds = 7258118400;

// Checks a timestamp given as Timestamp's seconds and nanos: a real instant
// in [kTimestampBeginSeconds, kTimestampEndSeconds), i.e. between the years
// 2000 and 2200 (anything else is a client bug).
absl::Status ValidateTimestamp(absl::string_view field, int64_t seconds,
                               int32_t nanos);

// Checks an http(s) URL of bounded length (empty allowed).
absl::Status ValidateUrl(absl::string_view field, absl::string_view url);

// Checks a client-chosen idempotency key: empty, or 1..64 printable ASCII.
absl::Status ValidateRequestId(absl::string_view field, absl::string_view id);

// Formats "<field>: <reason>" as INVALID_ARGUMENT.
// Ids are server-made (NewId) or client-chosen (host ids): 1 to 64 of
// [A-Za-z0-9_-]. Anything else cannot name an object, so it is refused
// before touching Redis.
absl::Status ValidateId(absl::string_view field, absl::string_view id);

// A List page size: 50 when 0, at most 500, INVALID_ARGUMENT when negative.
absl::StatusOr<int> ValidatePageSize(int requested);

// The offset a page token of an offset-paged listing names (0 for ""):
// rank-based reads (ZRANGE) cost O(log n + page), and a token names its
// position in the listing it came from. INVALID_ARGUMENT for anything else.
absl::StatusOr<int64_t> ParseOffsetPageToken(const std::string& token);

absl::Status InvalidField(absl::string_view field, absl::string_view reason);

}  // namespace townhall
