#include "clients/cpp/townhallctl/output.h"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "clients/cpp/townhallctl/request_fields.h"
#include "google/protobuf/util/json_util.h"

namespace townhall::ctl {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// Longer cells are cut: a table is for scanning; --output json has it all.
constexpr size_t kMaxCellWidth = 60;

// Columns line up by code points (Uzbek, Russian: one column each).
size_t Width(const std::string& text) {
  return std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  });
}

std::string Cell(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\t') c = ' ';
  }
  if (Width(text) <= kMaxCellWidth) return text;
  size_t kept = 0;
  size_t i = 0;
  for (; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80 &&
        ++kept == kMaxCellWidth) {
      break;
    }
  }
  return text.substr(0, i) + "…";
}

// One element (index >= 0) or the singular value of a non-message field,
// or a well-known type.
std::string ValueText(const Message& message, const FieldDescriptor& field,
                      int index) {
  const Reflection& r = *message.GetReflection();
  const bool rep = index >= 0;
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      return rep ? r.GetRepeatedString(message, &field, index)
                 : r.GetString(message, &field);
    case FieldDescriptor::CPPTYPE_INT32:
      return absl::StrCat(rep ? r.GetRepeatedInt32(message, &field, index)
                              : r.GetInt32(message, &field));
    case FieldDescriptor::CPPTYPE_INT64:
      return absl::StrCat(rep ? r.GetRepeatedInt64(message, &field, index)
                              : r.GetInt64(message, &field));
    case FieldDescriptor::CPPTYPE_UINT32:
      return absl::StrCat(rep ? r.GetRepeatedUInt32(message, &field, index)
                              : r.GetUInt32(message, &field));
    case FieldDescriptor::CPPTYPE_UINT64:
      return absl::StrCat(rep ? r.GetRepeatedUInt64(message, &field, index)
                              : r.GetUInt64(message, &field));
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return absl::StrCat(rep ? r.GetRepeatedDouble(message, &field, index)
                              : r.GetDouble(message, &field));
    case FieldDescriptor::CPPTYPE_FLOAT:
      return absl::StrCat(rep ? r.GetRepeatedFloat(message, &field, index)
                              : r.GetFloat(message, &field));
    case FieldDescriptor::CPPTYPE_BOOL:
      return (rep ? r.GetRepeatedBool(message, &field, index)
                  : r.GetBool(message, &field))
                 ? "true"
                 : "false";
    case FieldDescriptor::CPPTYPE_ENUM:
      return ShortEnumName(rep ? *r.GetRepeatedEnum(message, &field, index)
                               : *r.GetEnum(message, &field));
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return MessageText(rep ? r.GetRepeatedMessage(message, &field, index)
                             : r.GetMessage(message, &field));
  }
  return "";
}

// Whether `field` prints as one cell: scalars, enums, well-known types, and
// lists of those (joined).
bool IsCell(const FieldDescriptor& field) {
  return field.cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE ||
         (!field.is_map() && IsWellKnown(*field.message_type()));
}

std::string CellText(const Message& message, const FieldDescriptor& field) {
  if (!field.is_repeated()) return ValueText(message, field, -1);
  std::vector<std::string> values;
  const int n = message.GetReflection()->FieldSize(message, &field);
  for (int i = 0; i < n; ++i) values.push_back(ValueText(message, field, i));
  return absl::StrJoin(values, ",");
}

void AppendLines(const Message& message, const std::string& prefix,
                 std::string* out) {
  std::vector<const FieldDescriptor*> fields;
  message.GetReflection()->ListFields(message, &fields);
  for (const FieldDescriptor* field : fields) {
    const std::string name = prefix + field->name();
    if (IsCell(*field)) {
      std::string text = CellText(message, *field);
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
        const google::protobuf::Descriptor& type = *entry.GetDescriptor();
        absl::StrAppend(out, name, ".", ValueText(entry, *type.field(0), -1),
                        ": ", ValueText(entry, *type.field(1), -1), "\n");
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

std::string Table(const Message& message, const FieldDescriptor& list) {
  const Reflection& r = *message.GetReflection();
  const int rows = r.FieldSize(message, &list);
  if (rows == 0) return absl::StrCat("(no ", list.name(), ")\n");
  const google::protobuf::Descriptor& type = *list.message_type();
  std::vector<const FieldDescriptor*> columns;
  for (int c = 0; c < type.field_count(); ++c) {
    const FieldDescriptor* field = type.field(c);
    if (!IsCell(*field)) continue;
    for (int i = 0; i < rows; ++i) {
      const Message& row = r.GetRepeatedMessage(message, &list, i);
      const Reflection& rr = *row.GetReflection();
      if (field->is_repeated() ? rr.FieldSize(row, field) > 0
                               : rr.HasField(row, field)) {
        columns.push_back(field);
        break;
      }
    }
  }
  std::vector<std::vector<std::string>> cells(rows + 1);
  for (const FieldDescriptor* column : columns) {
    cells[0].push_back(column->name());
  }
  for (int i = 0; i < rows; ++i) {
    const Message& row = r.GetRepeatedMessage(message, &list, i);
    for (const FieldDescriptor* column : columns) {
      cells[i + 1].push_back(Cell(CellText(row, *column)));
    }
  }
  std::vector<size_t> widths(columns.size(), 0);
  for (const auto& line : cells) {
    for (size_t c = 0; c < line.size(); ++c) {
      widths[c] = std::max(widths[c], Width(line[c]));
    }
  }
  std::string out;
  for (const auto& line : cells) {
    std::string text;
    for (size_t c = 0; c < line.size(); ++c) {
      text += line[c];
      if (c + 1 < line.size()) {
        text += std::string(widths[c] - Width(line[c]) + 2, ' ');
      }
    }
    absl::StrAppend(&out, text, "\n");
  }
  return out;
}

}  // namespace

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

std::string FormatTable(const Message& message) {
  const google::protobuf::Descriptor& type = *message.GetDescriptor();
  const FieldDescriptor* list = nullptr;
  // A table only when the list is the answer: not beside a second list or
  // an object (SubmitQuestion's question and its similar questions).
  bool other_message = false;
  int lists = 0;
  for (int i = 0; i < type.field_count(); ++i) {
    const FieldDescriptor* field = type.field(i);
    if (IsCell(*field)) continue;
    if (field->is_repeated() && !field->is_map()) {
      list = field;
      ++lists;
    } else {
      other_message = true;
    }
  }
  if (lists != 1 || other_message) list = nullptr;
  if (list == nullptr) {
    std::string out;
    AppendLines(message, "", &out);
    return out;
  }
  std::string out = Table(message, *list);
  std::unique_ptr<Message> rest(message.New());
  rest->CopyFrom(message);
  rest->GetReflection()->ClearField(rest.get(), list);
  AppendLines(*rest, "", &out);
  return out;
}

}  // namespace townhall::ctl
