#include "clients/cpp/townhallctl/request_fields.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/json_util.h"
#include "services/common/proto_json.h"

namespace townhall::ctl {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::EnumValueDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// Nested messages deeper than this are set with --data: the help stays
// readable and recursive types end.
constexpr int kMaxHelpDepth = 3;

std::string PathName(const FieldPath& path) {
  return absl::StrJoin(path, ".",
                       [](std::string* out, const FieldDescriptor* field) {
                         out->append(field->name());
                       });
}

// SESSION_STATE_ for SessionState: protobuf style prefixes every value with
// the enum's name in UPPER_SNAKE_CASE.
std::string EnumPrefix(const EnumDescriptor& descriptor) {
  std::string prefix;
  for (char c : descriptor.name()) {
    if (absl::ascii_isupper(c) && !prefix.empty()) prefix.push_back('_');
    prefix.push_back(absl::ascii_toupper(c));
  }
  prefix.push_back('_');
  return prefix;
}

const EnumValueDescriptor* FindEnumValue(const EnumDescriptor& descriptor,
                                         absl::string_view text) {
  std::string upper = absl::AsciiStrToUpper(text);
  absl::StrReplaceAll({{"-", "_"}}, &upper);
  if (const EnumValueDescriptor* value = descriptor.FindValueByName(upper)) {
    return value;
  }
  if (const EnumValueDescriptor* value =
          descriptor.FindValueByName(EnumPrefix(descriptor) + upper)) {
    return value;
  }
  int number;
  if (absl::SimpleAtoi(text, &number)) {
    return descriptor.FindValueByNumber(number);
  }
  return nullptr;
}

std::string EnumChoices(const EnumDescriptor& descriptor) {
  std::vector<std::string> names;
  for (int i = 0; i < descriptor.value_count(); ++i) {
    if (descriptor.value(i)->number() == 0) continue;  // *_UNSPECIFIED
    names.push_back(ShortEnumName(*descriptor.value(i)));
  }
  return absl::StrJoin(names, "|");
}

// What a well-known type's value looks like on the command line.
std::string WellKnownHint(const Descriptor& descriptor) {
  const std::string& name = descriptor.full_name();
  if (name == "google.protobuf.Timestamp") {
    return "timestamp (RFC 3339, e.g. 2027-03-20T09:00:00Z)";
  }
  if (name == "google.protobuf.Duration") return "duration (e.g. 3600s)";
  if (name == "google.protobuf.FieldMask") {
    return "field mask (comma-separated paths, e.g. title,capacity)";
  }
  return absl::StrCat(descriptor.name(), " (JSON)");
}

std::string TypeText(const FieldDescriptor& field) {
  std::string type;
  if (field.is_map()) {
    return "map (set with --data)";
  }
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_ENUM:
      type = absl::StrCat("enum: ", EnumChoices(*field.enum_type()));
      break;
    case FieldDescriptor::CPPTYPE_MESSAGE:
      type = IsWellKnown(*field.message_type())
                 ? WellKnownHint(*field.message_type())
                 : absl::StrCat(field.message_type()->name(), " (JSON object)");
      break;
    default:
      type = field.type_name();
  }
  if (field.is_repeated()) type = absl::StrCat(type, ", repeatable");
  if (const auto* oneof = field.real_containing_oneof()) {
    absl::StrAppend(&type, " (one of ", oneof->name(), ")");
  }
  return type;
}

void CollectFields(const Descriptor& descriptor, const std::string& prefix,
                   int depth, std::vector<FlagField>* fields) {
  for (int i = 0; i < descriptor.field_count(); ++i) {
    const FieldDescriptor* field = descriptor.field(i);
    std::string name = absl::StrCat(prefix, field->name());
    const bool nested = field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
                        !field->is_repeated() &&
                        !IsWellKnown(*field->message_type());
    if (nested && depth < kMaxHelpDepth) {
      CollectFields(*field->message_type(), name + ".", depth + 1, fields);
    } else {
      fields->emplace_back(std::move(name), field);
    }
  }
}

absl::Status SetScalar(Message& message, const FieldDescriptor& field,
                       absl::string_view value) {
  const Reflection& reflection = *message.GetReflection();
  const bool repeated = field.is_repeated();
  auto bad = [&](absl::string_view what) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", value, "\" is not ", what));
  };
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string text(value);
      repeated ? reflection.AddString(&message, &field, std::move(text))
               : reflection.SetString(&message, &field, std::move(text));
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_INT32: {
      int32_t n;
      if (!absl::SimpleAtoi(value, &n)) return bad("an int32");
      repeated ? reflection.AddInt32(&message, &field, n)
               : reflection.SetInt32(&message, &field, n);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_INT64: {
      int64_t n;
      if (!absl::SimpleAtoi(value, &n)) return bad("an int64");
      repeated ? reflection.AddInt64(&message, &field, n)
               : reflection.SetInt64(&message, &field, n);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_UINT32: {
      uint32_t n;
      if (!absl::SimpleAtoi(value, &n)) return bad("a uint32");
      repeated ? reflection.AddUInt32(&message, &field, n)
               : reflection.SetUInt32(&message, &field, n);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_UINT64: {
      uint64_t n;
      if (!absl::SimpleAtoi(value, &n)) return bad("a uint64");
      repeated ? reflection.AddUInt64(&message, &field, n)
               : reflection.SetUInt64(&message, &field, n);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_DOUBLE: {
      double n;
      if (!absl::SimpleAtod(value, &n)) return bad("a number");
      repeated ? reflection.AddDouble(&message, &field, n)
               : reflection.SetDouble(&message, &field, n);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_FLOAT: {
      float n;
      if (!absl::SimpleAtof(value, &n)) return bad("a number");
      repeated ? reflection.AddFloat(&message, &field, n)
               : reflection.SetFloat(&message, &field, n);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_BOOL: {
      bool b;
      if (!absl::SimpleAtob(value, &b)) return bad("true or false");
      repeated ? reflection.AddBool(&message, &field, b)
               : reflection.SetBool(&message, &field, b);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      const EnumValueDescriptor* e = FindEnumValue(*field.enum_type(), value);
      if (e == nullptr) {
        return bad(absl::StrCat("one of ", EnumChoices(*field.enum_type())));
      }
      repeated ? reflection.AddEnum(&message, &field, e)
               : reflection.SetEnum(&message, &field, e);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      break;
  }
  // A message: a JSON object, or a well-known type's JSON string form.
  const Descriptor& type = *field.message_type();
  std::unique_ptr<Message> parsed(
      reflection.GetMessageFactory()->GetPrototype(&type)->New());
  absl::string_view trimmed = absl::StripAsciiWhitespace(value);
  std::string json =
      absl::StartsWith(trimmed, "{") ? std::string(trimmed) : JsonQuote(value);
  if (!google::protobuf::util::JsonStringToMessage(json, parsed.get()).ok()) {
    return bad(IsWellKnown(type) ? WellKnownHint(type)
                                 : absl::StrCat("a JSON ", type.name()));
  }
  if (repeated) {
    reflection.AddMessage(&message, &field)->CopyFrom(*parsed);
  } else if (IsWellKnown(type)) {
    reflection.MutableMessage(&message, &field)->CopyFrom(*parsed);
  } else {
    reflection.MutableMessage(&message, &field)->MergeFrom(*parsed);
  }
  return absl::OkStatus();
}

}  // namespace

bool IsWellKnown(const Descriptor& descriptor) {
  return descriptor.file()->package() == "google.protobuf";
}

std::string KebabCase(absl::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == '_') {
      out.push_back('-');
    } else if (absl::ascii_isupper(c)) {
      if (!out.empty()) out.push_back('-');
      out.push_back(absl::ascii_tolower(c));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string ShortEnumName(const EnumValueDescriptor& value) {
  std::string prefix = EnumPrefix(*value.type());
  absl::string_view name = value.name();
  if (absl::StartsWith(name, prefix) && name.size() > prefix.size()) {
    name.remove_prefix(prefix.size());
  }
  return std::string(name);
}

std::string MessageText(const Message& message) {
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(message, &json).ok()) {
    return message.ShortDebugString();
  }
  // Well-known types print as one JSON string without escapes.
  if (json.size() >= 2 && json.front() == '"' && json.back() == '"') {
    return json.substr(1, json.size() - 2);
  }
  return json;
}

absl::StatusOr<FieldPath> ResolveFieldPath(const Descriptor& descriptor,
                                           absl::string_view name) {
  FieldPath path;
  const Descriptor* current = &descriptor;
  for (absl::string_view segment : absl::StrSplit(name, '.')) {
    if (current == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown flag --", name, ": ", PathName(path), " has no fields"));
    }
    if (!path.empty() && (path.back()->is_repeated())) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", name, ": ", PathName(path),
                       " is repeated: give whole elements as JSON objects (--",
                       PathName(path), "='{...}') or use --data"));
    }
    std::string snake = absl::StrReplaceAll(segment, {{"-", "_"}});
    const FieldDescriptor* field = current->FindFieldByName(snake);
    if (field == nullptr) field = current->FindFieldByCamelcaseName(snake);
    if (field == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag --", name, ": ", current->full_name(),
                       " has no field \"", segment, "\""));
    }
    path.push_back(field);
    current = field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
                      !field->is_map() && !IsWellKnown(*field->message_type())
                  ? field->message_type()
                  : nullptr;
  }
  if (path.back()->is_map()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, " is a map: set it with --data '{\"",
                     path.back()->name(), "\": {\"key\": \"value\"}}'"));
  }
  return path;
}

bool IsBool(const FieldDescriptor& field) {
  return field.cpp_type() == FieldDescriptor::CPPTYPE_BOOL;
}

absl::Status SetField(Message& message, const FieldPath& path,
                      absl::string_view value) {
  Message* parent = &message;
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    parent = parent->GetReflection()->MutableMessage(parent, path[i]);
  }
  absl::Status status = SetScalar(*parent, *path.back(), value);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", PathName(path), ": ", status.message()));
  }
  return status;
}

std::vector<FlagField> FlagFields(const Descriptor& descriptor) {
  std::vector<FlagField> fields;
  CollectFields(descriptor, "", 0, &fields);
  return fields;
}

std::string DescribeFields(const Descriptor& descriptor) {
  const std::vector<FlagField> fields = FlagFields(descriptor);
  if (fields.empty()) return "  (no fields)\n";
  size_t width = 0;
  for (const auto& [name, field] : fields) width = std::max(width, name.size());
  std::string out;
  for (const auto& [name, field] : fields) {
    absl::StrAppend(&out, "  --", name,
                    std::string(width - name.size() + 2, ' '), TypeText(*field),
                    "\n");
  }
  return out;
}

}  // namespace townhall::ctl
