// Structured logging: one JSON object per line on stderr, so that log
// collectors (Loki, Cloud Logging) index the fields without parsing text.
//
// Usage:
//   LogInfo("server started", {{"port", "8443"}});
//   LogError("redis script failed", {{"request_id", id}, {"error", msg}});
#pragma once

#include <initializer_list>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"

namespace townhall {

using LogField = std::pair<absl::string_view, std::string>;

// Writes one line {"ts":..., "level":..., "msg":..., <fields>}. Thread-safe;
// each line is written with a single write(2) so lines never interleave.
void Log(absl::string_view level, absl::string_view message,
         std::initializer_list<LogField> fields = {});

inline void LogInfo(absl::string_view message,
                    std::initializer_list<LogField> fields = {}) {
  Log("info", message, fields);
}
inline void LogWarning(absl::string_view message,
                       std::initializer_list<LogField> fields = {}) {
  Log("warning", message, fields);
}
inline void LogError(absl::string_view message,
                     std::initializer_list<LogField> fields = {}) {
  Log("error", message, fields);
}

// Appends `value` to `out` as a JSON string literal (with quotes).
void AppendJsonString(absl::string_view value, std::string* out);

}  // namespace townhall
