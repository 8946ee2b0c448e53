#include "clients/cpp/townhallctl/output.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "clients/cpp/console/console_text.h"
#include "clients/cpp/townhallctl/request_fields.h"
#include "google/protobuf/util/json_util.h"
#include "services/common/proto_json.h"

namespace townhall::ctl {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// A shortened column keeps at least this many terminal columns (or its
// header's), so that a narrow terminal still shows a word or two.
constexpr int kMinShrunkWidth = 10;
constexpr int kGap = 2;

// ---- tables ---------------------------------------------------------------

std::vector<const Message*> Rows(const Message& message,
                                 const FieldDescriptor& list) {
  const Reflection& r = *message.GetReflection();
  std::vector<const Message*> rows;
  for (int i = 0; i < r.FieldSize(message, &list); ++i) {
    rows.push_back(&r.GetRepeatedMessage(message, &list, i));
  }
  return rows;
}

bool IsWide(const OutputOptions& options) {
  return options.format == OutputFormat::kWide;
}

// Lines up `cells` (the header first). When the table is wider than
// `width`, the widest columns that may shrink lose columns first, down to
// kMinShrunkWidth; the others (ids, times, errors) keep theirs, so a table
// may stay wider than the terminal rather than lose an id.
std::string Layout(const std::vector<std::vector<std::string>>& cells,
                   const std::vector<bool>& shrinks, int width) {
  const size_t n = shrinks.size();
  std::vector<int> widths(n, 0);
  std::vector<int> floors(n, 0);
  for (const auto& line : cells) {
    for (size_t c = 0; c < n; ++c) {
      widths[c] = std::max(widths[c], console::DisplayWidth(line[c]));
    }
  }
  for (size_t c = 0; c < n; ++c) {
    floors[c] =
        shrinks[c]
            ? std::min(widths[c], std::max(kMinShrunkWidth,
                                           console::DisplayWidth(cells[0][c])))
            : widths[c];
  }
  int total = 0;
  for (int w : widths) total += w;
  total += kGap * static_cast<int>(n > 0 ? n - 1 : 0);
  while (width > 0 && total > width) {
    size_t widest = n;
    for (size_t c = 0; c < n; ++c) {
      if (widths[c] > floors[c] &&
          (widest == n || widths[c] > widths[widest])) {
        widest = c;
      }
    }
    if (widest == n) break;
    --widths[widest];
    --total;
  }
  std::string out;
  for (const auto& line : cells) {
    std::string text;
    for (size_t c = 0; c < n; ++c) {
      const std::u32string cell = console::FitColumns(line[c], widths[c]);
      text += console::ToUtf8(cell);
      if (c + 1 < n) {
        text +=
            std::string(widths[c] - console::DisplayWidth(cell) + kGap, ' ');
      }
    }
    // An empty last cell leaves spaces that say nothing.
    text.erase(text.find_last_not_of(' ') + 1);
    absl::StrAppend(&out, text, "\n");
  }
  return out;
}

void AppendLines(const Message& message, const std::string& prefix,
                 std::string* out) {
  std::vector<const FieldDescriptor*> fields;
  message.GetReflection()->ListFields(message, &fields);
  for (const FieldDescriptor* field : fields) {
    const std::string name = prefix + field->name();
    if (IsCell(*field)) {
      if (IsUnset(message, *field)) continue;
      std::string text = FieldText(message, *field);
      if (text.find('\n') != std::string::npos) {
        absl::StrAppend(out, name, ":\n", text,
                        text.back() == '\n' ? "" : "\n");
      } else {
        absl::StrAppend(out, name, ": ", text, "\n");
      }
    } else if (field->is_map()) {
      const int n = message.GetReflection()->FieldSize(message, field);
      for (int i = 0; i < n; ++i) {
        const Message& entry =
            message.GetReflection()->GetRepeatedMessage(message, field, i);
        const Descriptor& type = *entry.GetDescriptor();
        absl::StrAppend(out, name, ".", FieldText(entry, *type.field(0)), ": ",
                        FieldText(entry, *type.field(1)), "\n");
      }
    } else if (field->is_repeated()) {
      const int n = message.GetReflection()->FieldSize(message, field);
      for (int i = 0; i < n; ++i) {
        AppendLines(
            message.GetReflection()->GetRepeatedMessage(message, field, i),
            absl::StrCat(name, "[", i, "]."), out);
      }
    } else {
      AppendLines(message.GetReflection()->GetMessage(message, field),
                  name + ".", out);
    }
  }
}

absl::StatusOr<std::string> Table(const Message& message,
                                  const FieldDescriptor& list,
                                  const OutputOptions& options) {
  const std::vector<const Message*> rows = Rows(message, list);
  absl::StatusOr<std::vector<Column>> columns =
      ChooseColumns(*list.message_type(), rows, IsWide(options),
                    options.columns, options.cells);
  if (!columns.ok()) return columns.status();
  if (rows.empty()) return absl::StrCat("(no ", list.name(), ")\n");
  std::vector<std::vector<std::string>> cells(rows.size() + 1);
  std::vector<bool> shrinks;
  for (const Column& column : *columns) {
    cells[0].push_back(HeaderText(column, options.cells));
    shrinks.push_back(Shrinks(column));
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    for (const Column& column : *columns) {
      cells[i + 1].push_back(CellText(*rows[i], column, options.cells));
    }
  }
  return Layout(cells, shrinks, options.width);
}

// ---- YAML -----------------------------------------------------------------

// Plain when YAML reads it back as the same string: starts with a letter,
// no ": " or " #", no control characters, not a word YAML 1.1 reads as a
// bool or null. Anything else in double quotes (JSON escapes are YAML's).
std::string YamlString(absl::string_view text) {
  static constexpr const char* kWords[] = {"y",     "n",  "yes", "no",  "true",
                                           "false", "on", "off", "null"};
  bool plain = !text.empty() &&
               (absl::ascii_isalpha(text.front()) ||
                static_cast<unsigned char>(text.front()) >= 0x80) &&
               text.back() != ' ' && text.back() != ':' &&
               text.find(": ") == absl::string_view::npos &&
               text.find(" #") == absl::string_view::npos;
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7F) plain = false;
  }
  for (const char* word : kWords) {
    if (absl::EqualsIgnoreCase(text, word)) plain = false;
  }
  return plain ? std::string(text) : JsonQuote(text);
}

std::string YamlNumber(double value) {
  if (std::isnan(value)) return ".nan";
  if (std::isinf(value)) return value > 0 ? ".inf" : "-.inf";
  char buffer[64];
  auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, end);
}

std::string YamlScalar(const Message& message, const FieldDescriptor& field,
                       int index) {
  const Reflection& r = *message.GetReflection();
  const bool rep = index >= 0;
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING: {
      const std::string value =
          rep ? r.GetRepeatedString(message, &field, index)
              : r.GetString(message, &field);
      if (field.type() == FieldDescriptor::TYPE_BYTES) {
        return YamlString(absl::Base64Escape(value));
      }
      return YamlString(value);
    }
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return YamlNumber(rep ? r.GetRepeatedDouble(message, &field, index)
                            : r.GetDouble(message, &field));
    case FieldDescriptor::CPPTYPE_FLOAT:
      return YamlNumber(rep ? r.GetRepeatedFloat(message, &field, index)
                            : r.GetFloat(message, &field));
    case FieldDescriptor::CPPTYPE_ENUM:
      return (rep ? r.GetRepeatedEnum(message, &field, index)
                  : r.GetEnum(message, &field))
          ->name();
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return YamlString(
          MessageText(rep ? r.GetRepeatedMessage(message, &field, index)
                          : r.GetMessage(message, &field)));
    default:  // integers and bools print as JSON does, unquoted
      return ElementText(message, field, index);
  }
}

// Block YAML of the set fields of `message`, each line indented by
// `indent`.
void AppendYaml(const Message& message, int indent, std::string* out) {
  const Reflection& r = *message.GetReflection();
  const std::string pad(indent, ' ');
  std::vector<const FieldDescriptor*> fields;
  r.ListFields(message, &fields);
  auto nested = [](const FieldDescriptor& field) {
    return field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
           !IsWellKnown(*field.message_type());
  };
  // A message as a mapping under a key or a "- ": on the next lines, or {}.
  auto append_message = [&](const Message& value, int at, std::string* line) {
    std::string body;
    AppendYaml(value, at, &body);
    if (body.empty()) {
      absl::StrAppend(line, " {}\n");
    } else {
      absl::StrAppend(line, "\n", body);
    }
  };
  for (const FieldDescriptor* field : fields) {
    std::string line = absl::StrCat(pad, field->name(), ":");
    if (field->is_map()) {
      for (int i = 0; i < r.FieldSize(message, field); ++i) {
        const Message& entry = r.GetRepeatedMessage(message, field, i);
        const Descriptor& type = *entry.GetDescriptor();
        absl::StrAppend(&line, "\n", pad, "  ",
                        YamlScalar(entry, *type.field(0), -1), ":");
        if (nested(*type.field(1))) {
          std::string value;
          append_message(
              entry.GetReflection()->GetMessage(entry, type.field(1)),
              indent + 4, &value);
          line += value.substr(0, value.size() - 1);
        } else {
          absl::StrAppend(&line, " ", YamlScalar(entry, *type.field(1), -1));
        }
      }
      absl::StrAppend(&line, "\n");
    } else if (field->is_repeated()) {
      absl::StrAppend(&line, "\n");
      for (int i = 0; i < r.FieldSize(message, field); ++i) {
        if (!nested(*field)) {
          absl::StrAppend(&line, pad, "  - ", YamlScalar(message, *field, i),
                          "\n");
          continue;
        }
        std::string body;
        AppendYaml(r.GetRepeatedMessage(message, field, i), indent + 4, &body);
        if (body.empty()) {
          absl::StrAppend(&line, pad, "  - {}\n");
        } else {  // the first field on the "- " line
          absl::StrAppend(&line, pad, "  - ", body.substr(indent + 4));
        }
      }
    } else if (nested(*field)) {
      append_message(r.GetMessage(message, field), indent + 2, &line);
    } else {
      absl::StrAppend(&line, " ", YamlScalar(message, *field, -1), "\n");
    }
    out->append(line);
  }
}

}  // namespace

std::optional<OutputFormat> ParseOutputFormat(absl::string_view name) {
  if (name == "table") return OutputFormat::kTable;
  if (name == "wide") return OutputFormat::kWide;
  if (name == "json") return OutputFormat::kJson;
  if (name == "yaml") return OutputFormat::kYaml;
  return std::nullopt;
}

std::string FormatJson(const Message& message, bool pretty) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = pretty;
  options.preserve_proto_field_names = true;
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(message, &json, options)
           .ok()) {
    return message.DebugString();
  }
  if (pretty && !json.empty() && json.back() == '\n') json.pop_back();
  return json;
}

std::string FormatYaml(const Message& message) {
  std::string out;
  AppendYaml(message, 0, &out);
  return out.empty() ? "{}\n" : out;
}

const FieldDescriptor* ListField(const Descriptor& answer) {
  const FieldDescriptor* list = nullptr;
  int others = 0;
  for (int i = 0; i < answer.field_count(); ++i) {
    const FieldDescriptor* field = answer.field(i);
    if (IsCell(*field)) continue;
    if (field->is_repeated() && !field->is_map() && list == nullptr) {
      list = field;
    } else {
      ++others;
    }
  }
  return others == 0 ? list : nullptr;
}

absl::Status CheckColumns(const Descriptor& answer,
                          const std::vector<std::string>& columns) {
  if (columns.empty()) return absl::OkStatus();
  const FieldDescriptor* list = ListField(answer);
  if (list == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("--columns picks the columns of a list, and ",
                     answer.full_name(), " is none (try -o yaml)"));
  }
  return ChooseColumns(*list->message_type(), {}, false, columns, {}).status();
}

absl::StatusOr<std::string> FormatAnswer(const Message& message,
                                         const OutputOptions& options) {
  switch (options.format) {
    case OutputFormat::kJson:
      return FormatJson(message, /*pretty=*/true) + "\n";
    case OutputFormat::kYaml:
      return FormatYaml(message);
    default:
      break;
  }
  const FieldDescriptor* list = ListField(*message.GetDescriptor());
  std::string out;
  std::unique_ptr<Message> rest(message.New());
  rest->CopyFrom(message);
  if (list != nullptr) {
    absl::StatusOr<std::string> table = Table(message, *list, options);
    if (!table.ok()) return table.status();
    out = *std::move(table);
    rest->GetReflection()->ClearField(rest.get(), list);
  }
  AppendLines(*rest, "", &out);
  return out;
}

std::vector<std::string> OrganizationIdsToName(const Message& message,
                                               const OutputOptions& options) {
  const FieldDescriptor* list = ListField(*message.GetDescriptor());
  if (list == nullptr || options.format == OutputFormat::kJson ||
      options.format == OutputFormat::kYaml) {
    return {};
  }
  const std::vector<const Message*> rows = Rows(message, *list);
  absl::StatusOr<std::vector<Column>> columns =
      ChooseColumns(*list->message_type(), rows, IsWide(options),
                    options.columns, options.cells);
  if (!columns.ok()) return {};
  return OrganizationIds(*columns, rows);
}

}  // namespace townhall::ctl
