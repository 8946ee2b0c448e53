// How townhallctl prints an answer: a table for people (chosen columns,
// fitted to the terminal), a wide table, JSON (proto field names, the form
// --data takes) or YAML.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "clients/cpp/townhallctl/table_views.h"
#include "google/protobuf/message.h"

namespace townhall::ctl {

enum class OutputFormat { kTable, kWide, kJson, kYaml };

// "table", "wide", "json" or "yaml"; nullopt for anything else.
std::optional<OutputFormat> ParseOutputFormat(absl::string_view name);

struct OutputOptions {
  OutputFormat format = OutputFormat::kTable;
  // --columns: the fields of a row to show, dotted for nested ones.
  std::vector<std::string> columns;
  // Terminal columns a table line may take; 0 for no limit (a pipe gets
  // whole rows).
  int width = 0;
  CellContext cells;
};

// Proto3 JSON with the .proto field names; one line unless `pretty`.
std::string FormatJson(const google::protobuf::Message& message, bool pretty);

// The same fields and values as FormatJson(pretty) in block YAML, strings
// quoted where YAML would read them as something else.
std::string FormatYaml(const google::protobuf::Message& message);

// The list an answer is shown as a table of (ListSessions' sessions), or
// nullptr: a list beside an object (SubmitQuestion's question and similar
// questions) is no table.
const google::protobuf::FieldDescriptor* ListField(
    const google::protobuf::Descriptor& answer);

// Checks --columns against the rows of `answer` before any call is made.
// INVALID_ARGUMENT for an answer without a table or an unknown name.
absl::Status CheckColumns(const google::protobuf::Descriptor& answer,
                          const std::vector<std::string>& columns);

// The answer in options.format. A table answer: the table, then the
// answer's other fields (next_page_token, counts) as "field: value" lines.
// Any other answer: "field: value" lines, nested fields dotted; text with
// line breaks (an iCalendar, minutes) printed as it is.
absl::StatusOr<std::string> FormatAnswer(
    const google::protobuf::Message& message, const OutputOptions& options);

// The organization ids that FormatAnswer would show by name: look them up
// and put their names into options.cells.organization_names.
std::vector<std::string> OrganizationIdsToName(
    const google::protobuf::Message& message, const OutputOptions& options);

}  // namespace townhall::ctl
