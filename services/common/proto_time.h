// Conversions between google.protobuf.Timestamp/Duration and absl time.
#pragma once

#include <google/protobuf/duration.pb.h>
#include <google/protobuf/timestamp.pb.h>

#include <cstdint>
#include <optional>
#include <string>

#include "absl/time/time.h"

namespace townhall {

inline absl::Time ToTime(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

// Whole seconds: stored and exported times have no fractions.
inline void SetTime(absl::Time t, google::protobuf::Timestamp* ts) {
  ts->set_seconds(absl::ToUnixSeconds(t));
  ts->set_nanos(0);
}

// Microsecond precision (Redis stores microseconds since the epoch).
inline void SetTimestamp(int64_t unix_micros, google::protobuf::Timestamp* ts) {
  ts->set_seconds(unix_micros / 1000000);
  ts->set_nanos(static_cast<int32_t>(unix_micros % 1000000) * 1000);
}

inline absl::Duration ToDuration(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

// An optional Duration field (`present` is its has_ method), or nullopt.
inline std::optional<absl::Duration> ToOptionalDuration(
    bool present, const google::protobuf::Duration& d) {
  if (!present) return std::nullopt;
  return ToDuration(d);
}

inline void SetDuration(absl::Duration d, google::protobuf::Duration* out) {
  int64_t seconds = absl::IDivDuration(d, absl::Seconds(1), &d);
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(absl::ToInt64Nanoseconds(d)));
}

// RFC 3339 in UTC with microseconds ("2026-12-02T05:40:33.123456Z"): how
// Lua scripts store times in proto3 JSON.
inline std::string FormatRfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d%ET%H:%M:%E6SZ", t, absl::UTCTimeZone());
}

// FormatRfc3339, or "" for an unset Timestamp: how exports write times.
inline std::string FormatTimeOrEmpty(const google::protobuf::Timestamp& ts) {
  if (ts.seconds() == 0 && ts.nanos() == 0) return "";
  return FormatRfc3339(ToTime(ts));
}

// RFC 3339 in UTC, whole seconds ("2026-12-02T05:40:33Z"): how error
// messages and logs name an instant. The one format for that.
inline std::string FormatInstant(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

}  // namespace townhall
