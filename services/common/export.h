// Exports of records for organizers: the caps every export shares and its
// two forms, JSON (proto field names, indented) and CSV (every record
// through CsvRecord, so every cell is defused; csv.h).
//
//   TH_RETURN_IF_ERROR(CheckExportRows("organizations", rows_read));
//   return SetExport(csv ? CsvExport(header, rows) : JsonExport(list),
//                    response);
#pragma once

#include <google/protobuf/message.h>

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace townhall {

// At most this many records in one export. Exports read page by page and
// stop with RESOURCE_EXHAUSTED once they have read more.
inline constexpr size_t kMaxExportRows = 50000;
// At most this many bytes of content: under the 4 MiB that gRPC clients
// accept by default, with room for the rest of the answer.
inline constexpr size_t kMaxExportBytes = 4000000;

// RESOURCE_EXHAUSTED when `rows` records of `what` ("organizations") are
// more than `max_rows`.
absl::Status CheckExportRows(absl::string_view what, size_t rows,
                             size_t max_rows = kMaxExportRows);

struct ExportDocument {
  // "application/json" or "text/csv".
  std::string content_type;
  std::string content;
};

// `message` as indented JSON with proto field names, map entries in key
// order (the same data, the same file); RESOURCE_EXHAUSTED
// when it takes more than `max_bytes`.
absl::StatusOr<ExportDocument> JsonExport(
    const google::protobuf::Message& message,
    size_t max_bytes = kMaxExportBytes);

// The header, then every row, as CSV records (CsvRecord);
// RESOURCE_EXHAUSTED when they take more than `max_bytes`.
absl::StatusOr<ExportDocument> CsvExport(
    const std::vector<std::string>& header,
    const std::vector<std::vector<std::string>>& rows,
    size_t max_bytes = kMaxExportBytes);

// Fills an Export*Response (content_type, content) with `document`, or
// returns its error.
template <typename Response>
absl::Status SetExport(absl::StatusOr<ExportDocument> document,
                       Response* response) {
  if (!document.ok()) return document.status();
  response->set_content_type(std::move(document->content_type));
  response->set_content(std::move(document->content));
  return absl::OkStatus();
}

}  // namespace townhall
