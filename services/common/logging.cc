#include "services/common/logging.h"

#include <unistd.h>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace townhall {

void AppendJsonString(absl::string_view value, std::string* out) {
  out->push_back('"');
  for (unsigned char c : value) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (c < 0x20) {
          absl::StrAppendFormat(out, "\\u%04x", c);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

void Log(absl::string_view level, absl::string_view message,
         std::initializer_list<LogField> fields) {
  std::string line = "{\"ts\":";
  AppendJsonString(absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(),
                                    absl::UTCTimeZone()),
                   &line);
  line.append(",\"level\":");
  AppendJsonString(level, &line);
  line.append(",\"msg\":");
  AppendJsonString(message, &line);
  for (const auto& [key, value] : fields) {
    line.push_back(',');
    AppendJsonString(key, &line);
    line.push_back(':');
    AppendJsonString(value, &line);
  }
  line.append("}\n");
  // One write per line: atomic for pipes up to PIPE_BUF, and good enough for
  // files; no mutex on the hot path.
  ssize_t ignored = write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

}  // namespace townhall
