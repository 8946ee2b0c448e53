#include "services/agenda/agenda_rules.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "services/common/ids.h"
#include "services/common/proto_json.h"
#include "services/common/proto_time.h"
#include "services/common/status.h"

namespace townhall::agenda {

absl::Status RequireAgendaOpen(const v1::Session& session) {
  if (session.state() == v1::SESSION_STATE_ENDED ||
      session.state() == v1::SESSION_STATE_CANCELLED) {
    return absl::FailedPreconditionError(
        absl::StrCat("session ", session.id(), " is ",
                     v1::SessionState_Name(session.state()),
                     ": its agenda can no longer change"));
  }
  return absl::OkStatus();
}

absl::Status ValidateItem(const v1::AgendaItem& item) {
  TH_RETURN_IF_ERROR(ValidateText("item.title", item.title(), kTitle));
  TH_RETURN_IF_ERROR(
      ValidateText("item.description", item.description(), kDescription));
  if (item.has_planned_duration()) {
    absl::Duration d = ToDuration(item.planned_duration());
    if (d <= absl::ZeroDuration() || d > kMaxPlannedDuration) {
      return InvalidField("item.planned_duration",
                          "must be positive and at most 24h");
    }
  }
  for (const std::string& id : item.presenter_participant_ids()) {
    TH_RETURN_IF_ERROR(ValidateId("item.presenter_participant_ids", id));
  }
  for (const std::string& id : item.presenter_organization_ids()) {
    TH_RETURN_IF_ERROR(ValidateId("item.presenter_organization_ids", id));
  }
  return absl::OkStatus();
}

v1::AgendaItem NewItem(const v1::Session& session, const v1::AgendaItem& from) {
  v1::AgendaItem item;
  item.set_id(NewId());
  item.set_session_id(session.id());
  item.set_title(from.title());
  item.set_description(from.description());
  *item.mutable_presenter_participant_ids() = from.presenter_participant_ids();
  *item.mutable_presenter_organization_ids() =
      from.presenter_organization_ids();
  if (from.has_planned_duration()) {
    *item.mutable_planned_duration() = from.planned_duration();
  }
  item.set_status(v1::AGENDA_ITEM_STATUS_PENDING);
  item.set_kind(v1::AGENDA_ITEM_KIND_TOPIC);
  return item;
}

absl::Status ValidatePosition(bool has_position, int32_t position) {
  if (has_position && position < 0) {
    return InvalidField("position", "must not be negative");
  }
  return absl::OkStatus();
}

std::string PositionArg(bool has_position, int32_t position) {
  return absl::StrCat(has_position ? position : -1);
}

void SetOverrun(absl::Time now, v1::AgendaItem* item) {
  item->clear_overrun();
  if (!item->has_planned_duration() || !item->has_actual_start_time()) return;
  absl::Time end =
      item->has_actual_end_time() ? ToTime(item->actual_end_time()) : now;
  absl::Duration over = end - ToTime(item->actual_start_time()) -
                        ToDuration(item->planned_duration());
  SetDuration(std::max(over, absl::ZeroDuration()), item->mutable_overrun());
}

absl::Status FromStoredJson(absl::string_view json,
                            google::protobuf::Message* message) {
  return ProtoFromJson(json, message, "stored agenda JSON");
}

absl::Status DecodeItem(absl::string_view json, absl::Time now,
                        v1::AgendaItem* item) {
  TH_RETURN_IF_ERROR(FromStoredJson(json, item));
  SetOverrun(now, item);
  return absl::OkStatus();
}

}  // namespace townhall::agenda
