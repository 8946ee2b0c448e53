#include "services/common/proto_json.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/type_resolver.h>
#include <google/protobuf/util/type_resolver_util.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace townhall {

absl::Status ProtoFromJson(absl::string_view json,
                           google::protobuf::Message* message,
                           absl::string_view what) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), message,
      options);
  if (!status.ok()) {
    return absl::InternalError(absl::StrCat(
        what, ": ", status.message().as_string(), ": ", json));
  }
  return absl::OkStatus();
}

std::string JsonQuote(absl::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20) {
          out += absl::StrFormat("\\u%04x", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

namespace {

// What MessageToJsonString does (binary, then JSON by the type's
// descriptor), with a deterministic serialization: map entries sorted by
// key.
google::protobuf::util::Status SortedMapsToJson(
    const google::protobuf::Message& message,
    const google::protobuf::util::JsonPrintOptions& options,
    std::string* json) {
  std::string binary;
  {
    google::protobuf::io::StringOutputStream out(&binary);
    google::protobuf::io::CodedOutputStream coded(&out);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  constexpr char kUrlPrefix[] = "type.googleapis.com";
  std::unique_ptr<google::protobuf::util::TypeResolver> resolver(
      google::protobuf::util::NewTypeResolverForDescriptorPool(
          kUrlPrefix, message.GetDescriptor()->file()->pool()));
  return google::protobuf::util::BinaryToJsonString(
      resolver.get(),
      absl::StrCat(kUrlPrefix, "/", message.GetDescriptor()->full_name()),
      binary, json, options);
}

}  // namespace

absl::StatusOr<std::string> ProtoToJson(
    const google::protobuf::Message& message, ProtoJsonStyle style) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = style.indent;
  options.preserve_proto_field_names = style.proto_names;
  std::string json;
  auto status = style.sorted_maps ? SortedMapsToJson(message, options, &json)
                                  : google::protobuf::util::MessageToJsonString(
                                        message, &json, options);
  if (!status.ok()) {
    return absl::InternalError(
        absl::StrCat("to JSON: ", status.message().as_string()));
  }
  return json;
}

}  // namespace townhall
