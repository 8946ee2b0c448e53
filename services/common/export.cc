#include "services/common/export.h"

#include "absl/strings/str_cat.h"
#include "services/common/csv.h"
#include "services/common/proto_json.h"

namespace townhall {
namespace {

absl::Status TooLarge(size_t max_bytes) {
  return absl::ResourceExhaustedError(absl::StrCat(
      "the export takes more than ", max_bytes,
      " bytes, the most one answer may carry; read the records in pages with "
      "the List RPCs instead"));
}

}  // namespace

absl::Status CheckExportRows(absl::string_view what, size_t rows,
                             size_t max_rows) {
  if (rows <= max_rows) return absl::OkStatus();
  return absl::ResourceExhaustedError(
      absl::StrCat("more than ", max_rows, " ", what,
                   " to export (the most one export holds); read them in "
                   "pages with the List RPCs instead"));
}

absl::StatusOr<ExportDocument> JsonExport(
    const google::protobuf::Message& message, size_t max_bytes) {
  absl::StatusOr<std::string> json = ProtoToJson(
      message, {.indent = true, .proto_names = true, .sorted_maps = true});
  if (!json.ok()) return json.status();
  if (json->size() > max_bytes) return TooLarge(max_bytes);
  return ExportDocument{"application/json", *std::move(json)};
}

absl::StatusOr<ExportDocument> CsvExport(
    const std::vector<std::string>& header,
    const std::vector<std::vector<std::string>>& rows, size_t max_bytes) {
  std::string csv = CsvRecord(header);
  for (const std::vector<std::string>& row : rows) {
    csv += CsvRecord(row);
    // Stop early: the rest would only be thrown away.
    if (csv.size() > max_bytes) return TooLarge(max_bytes);
  }
  if (csv.size() > max_bytes) return TooLarge(max_bytes);
  return ExportDocument{"text/csv", std::move(csv)};
}

}  // namespace townhall
