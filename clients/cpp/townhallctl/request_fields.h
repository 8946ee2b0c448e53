// Request fields by name, for townhallctl: every request of the API is
// built from flags through protobuf reflection, so a new RPC or field needs
// no CLI code.
//
//   --session_id=abc            a string field (also --session-id)
//   --session.title="Open Day"  a field of a nested message
//   --session.languages=uz      a repeated field: every flag adds one
//   --format=IN_PERSON          an enum, by name with or without its prefix
//   --session.start_time=2027-03-20T09:00:00Z, --session.duration=3600s
//                               well-known types in their JSON form
//   --participants='{"id":"a","time_zone":"Asia/Tashkent"}'
//                               a message (also repeated) as a JSON object
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace townhall::ctl {

using FieldPath = std::vector<const google::protobuf::FieldDescriptor*>;

// The field `name` ("session.start_time"; kebab-case and lowerCamelCase
// segments too) names in `descriptor`. INVALID_ARGUMENT for an unknown
// field, or a path that goes through a repeated field or a map (those take
// --data or a JSON object).
absl::StatusOr<FieldPath> ResolveFieldPath(
    const google::protobuf::Descriptor& descriptor, absl::string_view name);

// Sets the field at `path` of `message` from a command-line value (adds one
// element to a repeated field). INVALID_ARGUMENT names the expected form.
absl::Status SetField(google::protobuf::Message& message, const FieldPath& path,
                      absl::string_view value);

// Whether the flag for `field` may come without a value (--publish).
bool IsBool(const google::protobuf::FieldDescriptor& field);

// A field a flag can set, by its flag name ("session.start_time").
using FlagField =
    std::pair<std::string, const google::protobuf::FieldDescriptor*>;

// Every field of `descriptor` a flag can set, nested messages dotted (three
// levels deep; deeper ones take --data).
std::vector<FlagField> FlagFields(
    const google::protobuf::Descriptor& descriptor);

// The help text listing every field a flag can set, one line each, with
// its type: "  --session.start_time  timestamp (RFC 3339)".
std::string DescribeFields(const google::protobuf::Descriptor& descriptor);

// An enum value's name without the enum's prefix (SESSION_STATE_LIVE ->
// LIVE), as tables show it.
std::string ShortEnumName(const google::protobuf::EnumValueDescriptor& value);

// "session_id" -> "session-id"; "ListSessions" -> "list-sessions".
std::string KebabCase(absl::string_view name);

// The text of a value of a well-known type (Timestamp, Duration,
// FieldMask, ...) in its JSON form without quotes, or compact JSON for any
// other message.
std::string MessageText(const google::protobuf::Message& message);

// Whether `descriptor` is a google.protobuf well-known type.
bool IsWellKnown(const google::protobuf::Descriptor& descriptor);

}  // namespace townhall::ctl
