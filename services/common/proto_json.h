// Proto3 JSON, the form in which Lua scripts store and edit entities
// (cjson) and exports are written.
#pragma once

#include <google/protobuf/message.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace townhall {

// Parses JSON written by our scripts (unknown fields ignored, so a newer
// writer does not break an older reader). INTERNAL naming `what` and the
// JSON when it does not parse: stored data is ours, so that is a bug.
absl::Status ProtoFromJson(absl::string_view json,
                           google::protobuf::Message* message,
                           absl::string_view what);

struct ProtoJsonStyle {
  // Pretty-printed, for exports read by people.
  bool indent = false;
  // snake_case field names (exports) instead of lowerCamelCase (scripts).
  bool proto_names = false;
  // Map entries in key order, so that the same data gives the same text
  // (exports); otherwise in the map's own order, which varies.
  bool sorted_maps = false;
};

// `text` as a JSON string literal, quotes included (for JSON put together
// by hand around proto JSON).
std::string JsonQuote(absl::string_view text);

absl::StatusOr<std::string> ProtoToJson(
    const google::protobuf::Message& message, ProtoJsonStyle style = {});

}  // namespace townhall
