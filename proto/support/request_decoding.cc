#include "proto/support/request_decoding.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/unknown_field_set.h"
#include "google/protobuf/wire_format_lite.h"

namespace townhall {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::internal::WireFormatLite;

// An unused field number (the largest allowed) carries the marker.
constexpr int kInvalidUtf8MarkerField = 536870911;
constexpr int kMaxDepth = 32;

std::optional<std::string> Walk(google::protobuf::io::CodedInputStream* in,
                                const Descriptor& descriptor,
                                const std::string& prefix, int depth) {
  if (depth > kMaxDepth) return std::nullopt;
  std::map<int, int> repeated_index;
  while (true) {
    uint32_t tag = in->ReadTag();
    if (tag == 0) return std::nullopt;
    int number = WireFormatLite::GetTagFieldNumber(tag);
    const FieldDescriptor* field = descriptor.FindFieldByNumber(number);
    bool length_delimited = WireFormatLite::GetTagWireType(tag) ==
                            WireFormatLite::WIRETYPE_LENGTH_DELIMITED;
    if (field == nullptr || !length_delimited ||
        (field->type() != FieldDescriptor::TYPE_STRING &&
         field->type() != FieldDescriptor::TYPE_MESSAGE)) {
      if (!WireFormatLite::SkipField(in, tag)) return std::nullopt;
      continue;
    }
    std::string path = prefix.empty()
                           ? field->name()
                           : absl::StrCat(prefix, ".", field->name());
    if (field->is_repeated()) {
      absl::StrAppend(&path, "[", repeated_index[number]++, "]");
    }
    uint32_t length = 0;
    if (!in->ReadVarint32(&length)) return std::nullopt;
    if (field->type() == FieldDescriptor::TYPE_STRING) {
      std::string value;
      if (!in->ReadString(&value, static_cast<int>(length)))
        return std::nullopt;
      if (!WireFormatLite::VerifyUtf8String(value.data(),
                                            static_cast<int>(value.size()),
                                            WireFormatLite::PARSE, "")) {
        return path;
      }
      continue;
    }
    // A map entry's key/value or a nested message: recurse into it.
    auto limit = in->PushLimit(static_cast<int>(length));
    std::optional<std::string> found =
        Walk(in, *field->message_type(), path, depth + 1);
    if (found.has_value()) return found;
    if (!in->Skip(in->BytesUntilLimit())) return std::nullopt;
    in->PopLimit(limit);
  }
}

}  // namespace

std::optional<std::string> FindInvalidUtf8Field(const std::string& wire,
                                                const Descriptor& descriptor) {
  google::protobuf::io::CodedInputStream in(
      reinterpret_cast<const uint8_t*>(wire.data()),
      static_cast<int>(wire.size()));
  return Walk(&in, descriptor, "", 0);
}

void MarkInvalidUtf8(google::protobuf::Message* message,
                     const std::string& path) {
  message->GetReflection()->MutableUnknownFields(message)->AddLengthDelimited(
      kInvalidUtf8MarkerField, path);
}

std::optional<std::string> InvalidUtf8Field(
    const google::protobuf::Message& message) {
  const auto& unknown = message.GetReflection()->GetUnknownFields(message);
  if (unknown.empty()) return std::nullopt;
  for (int i = 0; i < unknown.field_count(); ++i) {
    const auto& field = unknown.field(i);
    if (field.number() == kInvalidUtf8MarkerField &&
        field.type() == google::protobuf::UnknownField::TYPE_LENGTH_DELIMITED) {
      return field.length_delimited();
    }
  }
  return std::nullopt;
}

}  // namespace townhall
