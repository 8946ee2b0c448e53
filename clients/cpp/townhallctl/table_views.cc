#include "clients/cpp/townhallctl/table_views.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "services/common/proto_time.h"

namespace townhall::ctl {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

struct ViewColumn {
  const char* header;
  const char* path;
  CellStyle style = CellStyle::kAuto;
};

struct View {
  const char* row_type;
  std::vector<ViewColumn> columns;
};

constexpr CellStyle kLocal = CellStyle::kLocal;
constexpr CellStyle kUtc = CellStyle::kUtc;
constexpr CellStyle kOrg = CellStyle::kOrganization;

// The columns a person wants first, per resource; -o wide shows the rest.
const std::vector<View>& Views() {
  static const auto* const kViews = new std::vector<View>{
      {"townhall.v1.Session",
       {{"ID", "id"},
        {"TITLE", "title"},
        {"START", "start_time", kLocal},
        {"START", "start_time", kUtc},
        {"DURATION", "duration"},
        {"STATE", "state"},
        {"FORMAT", "format"}}},
      {"townhall.v1.Venue",
       {{"ID", "id"},
        {"NAME", "name"},
        {"ZONE", "time_zone"},
        {"CAPACITY", "capacity"},
        {"ADDRESS", "address"}}},
      {"townhall.v1.Organization",
       {{"ID", "id"},
        {"NAME", "display_name"},
        {"COUNTRY", "country_code"},
        {"CITY", "city"}}},
      {"townhall.v1.Participant",
       {{"ID", "id"},
        {"NAME", "display_name"},
        {"ORGANIZATION", "organization_id", kOrg},
        {"EMAIL", "email"},
        {"LANGUAGE", "preferred_language"},
        {"ZONE", "time_zone"}}},
      {"townhall.v1.Registration",
       {{"PARTICIPANT", "participant_id"},
        {"NAME", "participant_display_name"},
        {"ORGANIZATION", "organization_id", kOrg},
        {"ROLE", "role"},
        {"STATUS", "status"},
        {"DELEGATION", "delegation"}}},
      {"townhall.v1.Question",
       {{"ID", "id"},
        {"STATUS", "status"},
        {"VOTES", "votes"},
        {"TEXT", "text"}}},
      {"townhall.v1.Poll",
       {{"ID", "id"},
        {"QUESTION", "question"},
        {"KIND", "kind"},
        {"STATE", "state"},
        {"BALLOTS", "ballot_count"}}},
      {"townhall.v1.SimilarQuestion",
       {{"ID", "question_id"}, {"SIMILARITY", "similarity"}, {"TEXT", "text"}}},
      {"townhall.v1.ModerationAction",
       {{"SEQ", "sequence"},
        {"TIME", "time", kLocal},
        {"ACTOR", "actor"},
        {"ROLE", "actor_role"},
        {"ACTION", "action"},
        {"QUESTIONS", "question_ids"},
        {"DETAIL", "detail"}}},
      {"townhall.v1.AgendaItem",
       {{"POS", "position"},
        {"ID", "id"},
        {"TITLE", "title"},
        {"STATUS", "status"},
        {"PLANNED", "planned_duration"}}},
      {"townhall.v1.TopicProposal",
       {{"ID", "id"},
        {"TITLE", "title"},
        {"STATUS", "status"},
        {"PARTICIPANT", "participant_id"},
        {"CREATED", "create_time", kLocal}}},
      {"townhall.v1.ActionItem",
       {{"ID", "id"},
        {"TITLE", "title"},
        {"STATUS", "status"},
        {"DEADLINE", "deadline", kLocal}}},
      {"townhall.v1.ApiKey",
       {{"ID", "id"},
        {"NAME", "display_name"},
        {"SCOPES", "scopes"},
        {"EXPIRES", "expire_time", kLocal},
        {"REVOKED", "revoke_time", kLocal}}},
      {"townhall.v1.ImportError",
       {{"FILE", "file"}, {"LINE", "line"}, {"REASON", "reason"}}},
      {"townhall.v1.AttendanceRecord",
       {{"PARTICIPANT", "participant_id"},
        {"NAME", "participant_display_name"},
        {"ORGANIZATION", "organization_id", kOrg},
        {"FIRST SEEN", "first_seen_time", kLocal},
        {"ONLINE", "online_duration"},
        {"CHECK-IN", "check_in_time", kLocal}}},
      {"townhall.v1.OrganizationAttendance",
       {{"ORGANIZATION", "organization_name"},
        {"ID", "organization_id"},
        {"ATTENDED", "occurrences_attended"},
        {"OF", "occurrences_total"}}},
      {"townhall.v1.ProposedSlot",
       {{"START", "start_time", kLocal},
        {"START", "start_time", kUtc},
        {"COVERED", "covered_weight"},
        {"OF", "total_weight"},
        {"INCONVENIENCED", "inconvenienced_ids"}}},
  };
  return *kViews;
}

const View* FindView(const Descriptor& row) {
  for (const View& view : Views()) {
    if (row.full_name() == view.row_type) return &view;
  }
  return nullptr;
}

std::string PathText(const FieldPath& path) {
  return absl::StrJoin(path, ".", [](std::string* out, const auto* field) {
    out->append(field->name());
  });
}

// Nested messages deeper than this are left to -o json (and recursive
// types end).
constexpr int kMaxDepth = 3;

// Every field a column can show, dotted through nested messages.
void CollectCellPaths(const Descriptor& type, FieldPath& prefix,
                      std::vector<FieldPath>* out) {
  for (int i = 0; i < type.field_count(); ++i) {
    const FieldDescriptor* field = type.field(i);
    prefix.push_back(field);
    if (IsCell(*field)) {
      out->push_back(prefix);
    } else if (!field->is_repeated() && prefix.size() < kMaxDepth) {
      CollectCellPaths(*field->message_type(), prefix, out);
    }
    prefix.pop_back();
  }
}

// The message holding the last field of `path`, or nullptr when a message
// on the way is not set.
const Message* Parent(const Message& row, const FieldPath& path) {
  const Message* message = &row;
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    if (!message->GetReflection()->HasField(*message, path[i])) return nullptr;
    message = &message->GetReflection()->GetMessage(*message, path[i]);
  }
  return message;
}

bool IsTimestamp(const FieldDescriptor& field) {
  return field.message_type() != nullptr &&
         field.message_type()->full_name() == "google.protobuf.Timestamp";
}

absl::Time TimeOf(const Message& message, const FieldDescriptor& field) {
  google::protobuf::Timestamp timestamp;
  timestamp.CopyFrom(message.GetReflection()->GetMessage(message, &field));
  return ToTime(timestamp);
}

}  // namespace

std::string ElementText(const Message& message, const FieldDescriptor& field,
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
    case FieldDescriptor::CPPTYPE_ENUM: {
      const auto& value = rep ? *r.GetRepeatedEnum(message, &field, index)
                              : *r.GetEnum(message, &field);
      return value.number() == 0 ? "" : ShortEnumName(value);
    }
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      const Message& value = rep ? r.GetRepeatedMessage(message, &field, index)
                                 : r.GetMessage(message, &field);
      if (value.GetDescriptor()->full_name() == "google.protobuf.Duration") {
        google::protobuf::Duration duration;
        duration.CopyFrom(value);
        return absl::FormatDuration(ToDuration(duration));
      }
      return MessageText(value);
    }
  }
  return "";
}

bool IsCell(const FieldDescriptor& field) {
  return field.cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE ||
         (!field.is_map() && IsWellKnown(*field.message_type()));
}

bool IsUnset(const Message& message, const FieldDescriptor& field) {
  const Reflection& r = *message.GetReflection();
  if (field.is_repeated()) return r.FieldSize(message, &field) == 0;
  if (field.cpp_type() == FieldDescriptor::CPPTYPE_ENUM) {
    return r.GetEnumValue(message, &field) == 0;
  }
  if (!r.HasField(message, &field)) return true;
  // A session outside a series carries original_start_time at the epoch.
  return IsTimestamp(field) && TimeOf(message, field) == absl::UnixEpoch();
}

std::string FieldText(const Message& message, const FieldDescriptor& field) {
  if (IsUnset(message, field)) return "";
  if (!field.is_repeated()) return ElementText(message, field, -1);
  std::vector<std::string> values;
  const int n = message.GetReflection()->FieldSize(message, &field);
  for (int i = 0; i < n; ++i) values.push_back(ElementText(message, field, i));
  return absl::StrJoin(values, ",");
}

absl::StatusOr<std::vector<Column>> ChooseColumns(
    const Descriptor& row, const std::vector<const Message*>& rows, bool wide,
    const std::vector<std::string>& names, const CellContext& context) {
  std::vector<FieldPath> all;
  FieldPath prefix;
  CollectCellPaths(row, prefix, &all);
  std::vector<Column> columns;
  if (!names.empty()) {
    for (const std::string& name : names) {
      absl::StatusOr<FieldPath> path = ResolveFieldPath(row, name);
      if (!path.ok() || !IsCell(*path->back())) {
        std::vector<std::string> valid;
        for (const FieldPath& p : all) valid.push_back(PathText(p));
        return absl::InvalidArgumentError(
            absl::StrCat("--columns: ", row.name(), " has no column \"", name,
                         "\"; there are ", absl::StrJoin(valid, ", ")));
      }
      columns.push_back({absl::AsciiStrToUpper(PathText(*path)), *path});
    }
    return columns;
  }
  auto any_set = [&](const FieldPath& path) {
    return std::any_of(rows.begin(), rows.end(), [&](const Message* r) {
      const Message* parent = Parent(*r, path);
      return parent != nullptr && !IsUnset(*parent, *path.back());
    });
  };
  absl::flat_hash_set<std::string> shown;
  if (const View* view = FindView(row)) {
    for (const ViewColumn& c : view->columns) {
      if (c.style == CellStyle::kUtc && context.zone_name == "UTC") continue;
      absl::StatusOr<FieldPath> path = ResolveFieldPath(row, c.path);
      if (!path.ok()) continue;  // a view naming a field the API dropped
      // A column no row fills is left out, as -o wide leaves them out.
      if (!rows.empty() && !any_set(*path)) continue;
      columns.push_back({c.header, *std::move(path), c.style});
      // -o wide shows an organization's id beside its name.
      if (c.style != CellStyle::kOrganization) shown.insert(c.path);
    }
    if (!wide) return columns;
  }
  for (const FieldPath& path : all) {
    if (path.size() != 1 || shown.contains(path[0]->name())) continue;
    if (any_set(path)) {
      columns.push_back({absl::AsciiStrToUpper(path[0]->name()), path});
    }
  }
  return columns;
}

std::string HeaderText(const Column& column, const CellContext& context) {
  switch (column.style) {
    case CellStyle::kLocal:
      return absl::StrCat(column.header, " (", context.zone_name, ")");
    case CellStyle::kUtc:
      return absl::StrCat(column.header, " (UTC)");
    default:
      return column.header;
  }
}

std::string CellText(const Message& row, const Column& column,
                     const CellContext& context) {
  const Message* parent = Parent(row, column.path);
  const FieldDescriptor& field = *column.path.back();
  if (parent == nullptr || IsUnset(*parent, field)) return "";
  switch (column.style) {
    case CellStyle::kLocal:
      return absl::FormatTime("%Y-%m-%d %H:%M", TimeOf(*parent, field),
                              context.zone);
    case CellStyle::kUtc:
      return absl::FormatTime("%Y-%m-%d %H:%M", TimeOf(*parent, field),
                              absl::UTCTimeZone());
    case CellStyle::kOrganization: {
      const std::string id = FieldText(*parent, field);
      auto it = context.organization_names.find(id);
      return it == context.organization_names.end() ? id : it->second;
    }
    case CellStyle::kAuto:
      break;
  }
  return FieldText(*parent, field);
}

bool Shrinks(const Column& column) {
  // Free text: a name, a title, a description. Codes, emails, zones and
  // files are short and useless when cut; ids, URLs and reasons too.
  static constexpr const char* kText[] = {"title",
                                          "description",
                                          "name",
                                          "display_name",
                                          "participant_display_name",
                                          "organization_name",
                                          "address",
                                          "text",
                                          "question",
                                          "original_text",
                                          "detail",
                                          "note",
                                          "answer",
                                          "city",
                                          "contact_name",
                                          "hold_detail"};
  if (column.style == CellStyle::kOrganization) return true;
  const std::string& name = column.path.back()->name();
  return std::any_of(std::begin(kText), std::end(kText),
                     [&](const char* text) { return name == text; });
}

std::vector<std::string> OrganizationIds(
    const std::vector<Column>& columns,
    const std::vector<const Message*>& rows) {
  std::vector<std::string> ids;
  absl::flat_hash_set<std::string> seen;
  for (const Column& column : columns) {
    if (column.style != CellStyle::kOrganization) continue;
    for (const Message* row : rows) {
      const Message* parent = Parent(*row, column.path);
      if (parent == nullptr || IsUnset(*parent, *column.path.back())) continue;
      std::string id = FieldText(*parent, *column.path.back());
      if (seen.insert(id).second) ids.push_back(std::move(id));
    }
  }
  return ids;
}

}  // namespace townhall::ctl
