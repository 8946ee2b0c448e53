// Which columns a table of rows shows, and the text of a cell. Rows of the
// API's resources (sessions, venues, organizations, participants,
// registrations, questions, polls, agenda items, api keys, import errors,
// ...) have a few columns chosen for a person: ids, names, times in the
// viewer's zone and in UTC, states without their enum prefix. `-o wide`
// adds every other field a row sets; `--columns` names the fields; rows of
// any other message get a column for each field some row sets.
#pragma once

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "clients/cpp/townhallctl/request_fields.h"
#include "google/protobuf/message.h"

namespace townhall::ctl {

enum class CellStyle {
  // By the field's type: text, enum names without their prefix, durations
  // as "1h30m", timestamps in RFC 3339 UTC, lists joined with commas.
  kAuto,
  // A timestamp as "2027-01-09 10:00" in the viewer's zone.
  kLocal,
  // A timestamp as "2027-01-09 05:00" in UTC.
  kUtc,
  // An organization id shown by the organization's name.
  kOrganization,
};

struct Column {
  std::string header;
  FieldPath path;
  CellStyle style = CellStyle::kAuto;
};

// Where the viewer is and what names the answer's ids have.
struct CellContext {
  absl::TimeZone zone = absl::UTCTimeZone();
  // The zone's name for headers ("Asia/Tashkent"); "UTC" drops the UTC
  // columns, which would repeat the local ones.
  std::string zone_name = "UTC";
  // Organization id -> name; an id without a name is shown as it is.
  absl::flat_hash_map<std::string, std::string> organization_names;
};

// The columns for `rows` (messages of type `row`): the chosen ones, with
// `wide` also every other field some row sets, or the fields `names`
// (--columns: field names, dotted for nested fields) when it is not empty.
// INVALID_ARGUMENT for an unknown name, listing the names there are.
absl::StatusOr<std::vector<Column>> ChooseColumns(
    const google::protobuf::Descriptor& row,
    const std::vector<const google::protobuf::Message*>& rows, bool wide,
    const std::vector<std::string>& names, const CellContext& context);

// The header as printed: a local time names the zone ("START (Asia/Tashkent)").
std::string HeaderText(const Column& column, const CellContext& context);

// The text of one cell; empty for an unset field (never 1970-01-01).
std::string CellText(const google::protobuf::Message& row, const Column& column,
                     const CellContext& context);

// Whether a too wide table may shorten this column's cells: free text yes;
// ids, times, numbers, URLs, tokens and reasons (errors) never.
bool Shrinks(const Column& column);

// Whether `field` of `message` holds nothing to show: not set, an empty
// list, an UNSPECIFIED enum, a Timestamp at the epoch (the proto default).
bool IsUnset(const google::protobuf::Message& message,
             const google::protobuf::FieldDescriptor& field);

// Whether `field` prints as one cell: scalars, enums, well-known types, and
// lists of those (joined).
bool IsCell(const google::protobuf::FieldDescriptor& field);

// One element (index >= 0) or the singular value (-1) of a cell field in
// kAuto style.
std::string ElementText(const google::protobuf::Message& message,
                        const google::protobuf::FieldDescriptor& field,
                        int index);

// The text of a cell field (a list joined with commas) in kAuto style.
std::string FieldText(const google::protobuf::Message& message,
                      const google::protobuf::FieldDescriptor& field);

// The distinct organization ids the kOrganization columns of `rows` show.
std::vector<std::string> OrganizationIds(
    const std::vector<Column>& columns,
    const std::vector<const google::protobuf::Message*>& rows);

}  // namespace townhall::ctl
