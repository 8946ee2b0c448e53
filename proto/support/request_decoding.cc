#include "proto/support/request_decoding.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/unknown_field_set.h"
#include "google/protobuf/wire_format_lite.h"

namespace townhall {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::internal::WireFormatLite;
using google::protobuf::io::CodedInputStream;

// An unused field number (the largest allowed) carries the marker.
constexpr int kDecodingErrorMarkerField = 536870911;
// Protobuf's own limit (io::CodedInputStream::default_recursion_limit).
constexpr int kMaxDepth = 100;

// Walks wire bytes as protobuf's parser does and says what it refuses.
// `descriptor` is null inside unknown groups.
class WireChecker {
 public:
  explicit WireChecker(CodedInputStream* in) : in_(in) {}

  // Checks fields up to the current limit, or up to the END_GROUP tag of
  // `group` (a field number; 0 outside groups). Returns the error message,
  // or nullopt when the bytes are fine.
  std::optional<std::string> Fields(const Descriptor* descriptor,
                                    const std::string& prefix, int depth,
                                    int group) {
    if (depth > kMaxDepth) {
      return Error(prefix,
                   absl::StrCat("nested deeper than ", kMaxDepth, " levels"));
    }
    std::map<int, int> repeated_index;
    while (in_->BytesUntilLimit() != 0) {
      const int at = in_->CurrentPosition();
      uint32_t tag = 0;
      if (!in_->ReadVarint32(&tag)) return Error(prefix, "truncated tag", at);
      const int number = WireFormatLite::GetTagFieldNumber(tag);
      const auto wire_type = WireFormatLite::GetTagWireType(tag);
      if (number == 0) return Error(prefix, "field number 0", at);
      const FieldDescriptor* field = descriptor != nullptr
                                         ? descriptor->FindFieldByNumber(number)
                                         : nullptr;
      std::string path = prefix;
      if (field != nullptr) {
        path = prefix.empty() ? field->name()
                              : absl::StrCat(prefix, ".", field->name());
        if (field->is_repeated()) {
          absl::StrAppend(&path, "[", repeated_index[number]++, "]");
        }
      }
      switch (wire_type) {
        case WireFormatLite::WIRETYPE_VARINT: {
          uint64_t value;
          if (!in_->ReadVarint64(&value)) {
            return Error(path, "truncated varint", at);
          }
          break;
        }
        case WireFormatLite::WIRETYPE_FIXED64: {
          uint64_t value;
          if (!in_->ReadLittleEndian64(&value)) {
            return Error(path, "truncated 64-bit value", at);
          }
          break;
        }
        case WireFormatLite::WIRETYPE_FIXED32: {
          uint32_t value;
          if (!in_->ReadLittleEndian32(&value)) {
            return Error(path, "truncated 32-bit value", at);
          }
          break;
        }
        case WireFormatLite::WIRETYPE_LENGTH_DELIMITED: {
          std::optional<std::string> error =
              LengthDelimited(field, path, depth, at);
          if (error.has_value()) return error;
          break;
        }
        case WireFormatLite::WIRETYPE_START_GROUP: {
          // Protobuf parses a group (known or not) field by field.
          const Descriptor* type =
              field != nullptr && field->type() == FieldDescriptor::TYPE_GROUP
                  ? field->message_type()
                  : nullptr;
          std::optional<std::string> error =
              Fields(type, path, depth + 1, number);
          if (error.has_value()) return error;
          break;
        }
        case WireFormatLite::WIRETYPE_END_GROUP:
          if (number != group) {
            return Error(path, absl::StrCat("unexpected end of group ", number),
                         at);
          }
          return std::nullopt;
        default:
          return Error(path, absl::StrCat("invalid wire type ", wire_type), at);
      }
    }
    if (group != 0) {
      return Error(prefix, absl::StrCat("group ", group, " is not closed"));
    }
    return std::nullopt;
  }

 private:
  std::optional<std::string> LengthDelimited(const FieldDescriptor* field,
                                             const std::string& path, int depth,
                                             int at) {
    uint32_t length = 0;
    if (!in_->ReadVarint32(&length)) return Error(path, "truncated length", at);
    const int left = in_->BytesUntilLimit();
    if (length > static_cast<uint32_t>(left)) {
      return Error(
          path,
          absl::StrCat("length ", length, " but only ", left, " bytes left"),
          at);
    }
    const int size = static_cast<int>(length);
    if (field == nullptr) {
      in_->Skip(size);
      return std::nullopt;
    }
    if (field->type() == FieldDescriptor::TYPE_STRING &&
        field->file()->syntax() ==
            google::protobuf::FileDescriptor::SYNTAX_PROTO3) {
      // proto3 strings must be UTF-8 (proto2 ones are not checked).
      std::string value;
      in_->ReadString(&value, size);
      if (!WireFormatLite::VerifyUtf8String(value.data(), size,
                                            WireFormatLite::PARSE, "")) {
        return absl::StrCat(path, ": is not valid UTF-8");
      }
      return std::nullopt;
    }
    auto limit = in_->PushLimit(size);
    std::optional<std::string> error;
    if (field->type() == FieldDescriptor::TYPE_MESSAGE) {
      // A nested message or a map entry.
      error = Fields(field->message_type(), path, depth + 1, 0);
    } else if (field->is_packable()) {
      error = Packed(*field, path);
    }
    in_->Skip(in_->BytesUntilLimit());
    in_->PopLimit(limit);
    return error;
  }

  // The elements of a packed repeated scalar field.
  std::optional<std::string> Packed(const FieldDescriptor& field,
                                    const std::string& path) {
    const int size = in_->BytesUntilLimit();
    switch (WireFormatLite::WireTypeForFieldType(
        static_cast<WireFormatLite::FieldType>(field.type()))) {
      case WireFormatLite::WIRETYPE_FIXED32:
        if (size % 4 != 0) return Error(path, "packed 32-bit values cut off");
        return std::nullopt;
      case WireFormatLite::WIRETYPE_FIXED64:
        if (size % 8 != 0) return Error(path, "packed 64-bit values cut off");
        return std::nullopt;
      default:
        while (in_->BytesUntilLimit() > 0) {
          const int at = in_->CurrentPosition();
          uint64_t value;
          if (!in_->ReadVarint64(&value)) {
            return Error(path, "truncated varint", at);
          }
        }
        return std::nullopt;
    }
  }

  std::string Error(const std::string& path, absl::string_view what,
                    int at = -1) const {
    if (at < 0) at = in_->CurrentPosition();
    return absl::StrCat(path.empty() ? "request" : path,
                        ": malformed protobuf at byte ", at, ": ", what);
  }

  CodedInputStream* in_;
};

}  // namespace

std::string DescribeDecodingError(const std::string& wire,
                                  const Descriptor& descriptor) {
  CodedInputStream in(reinterpret_cast<const uint8_t*>(wire.data()),
                      static_cast<int>(wire.size()));
  in.PushLimit(static_cast<int>(wire.size()));
  std::optional<std::string> error =
      WireChecker(&in).Fields(&descriptor, "", 0, 0);
  // Protobuf refused what the checker accepts: say so without detail.
  return error.value_or(absl::StrCat(
      "request: malformed protobuf: not a valid ", descriptor.full_name()));
}

void MarkUndecodable(google::protobuf::Message* message,
                     const std::string& error) {
  message->GetReflection()->MutableUnknownFields(message)->AddLengthDelimited(
      kDecodingErrorMarkerField, error);
}

std::optional<std::string> DecodingError(
    const google::protobuf::Message& message) {
  const auto& unknown = message.GetReflection()->GetUnknownFields(message);
  if (unknown.empty()) return std::nullopt;
  for (int i = 0; i < unknown.field_count(); ++i) {
    const auto& field = unknown.field(i);
    if (field.number() == kDecodingErrorMarkerField &&
        field.type() == google::protobuf::UnknownField::TYPE_LENGTH_DELIMITED) {
      return field.length_delimited();
    }
  }
  return std::nullopt;
}

}  // namespace townhall
