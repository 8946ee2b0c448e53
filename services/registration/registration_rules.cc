#include "services/registration/registration_rules.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "services/common/proto_time.h"
#include "services/common/validation.h"

namespace townhall::registration {
namespace {

// Joining or checking in opens this long before a scheduled start.
constexpr absl::Duration kEarlyJoin = absl::Hours(2);

}  // namespace

absl::Status UnexpectedOutcome(const ScriptOutcome& outcome) {
  return absl::InternalError(
      absl::StrCat("unexpected script outcome ", outcome.kind));
}

int64_t ToInt(absl::string_view s) {
  int64_t n = 0;
  (void)absl::SimpleAtoi(s, &n);
  return n;
}

std::string StatusName(int status) {
  absl::string_view name =
      v1::RegistrationStatus_Name(static_cast<v1::RegistrationStatus>(status));
  absl::ConsumePrefix(&name, "REGISTRATION_STATUS_");
  return std::string(name);
}

std::string StateName(v1::SessionState state) {
  absl::string_view name = v1::SessionState_Name(state);
  absl::ConsumePrefix(&name, "SESSION_STATE_");
  return std::string(name);
}

bool IsOver(const v1::Session& session) {
  return session.state() == v1::SESSION_STATE_ENDED ||
         session.state() == v1::SESSION_STATE_CANCELLED;
}

absl::Time SessionEnd(const v1::Session& session) {
  return ToTime(session.start_time()) + ToDuration(session.duration());
}

std::string ClosedRefusal(const v1::Session& session) {
  if (!IsOver(session)) return "";
  return absl::StrCat("session ", session.id(), " is ",
                      StateName(session.state()),
                      ": its registrations can no longer change");
}

std::string NotRegistered(absl::string_view session_id,
                          absl::string_view participant_id) {
  return absl::StrCat("participant ", participant_id,
                      " is not registered for session ", session_id);
}

absl::StatusOr<v1::SessionRole> CheckRegistrar(const Principal& caller,
                                               int requested_role) {
  if (!v1::SessionRole_IsValid(requested_role)) {
    return InvalidField("role", absl::StrCat("unknown role ", requested_role));
  }
  v1::SessionRole role = static_cast<v1::SessionRole>(requested_role);
  if (role == v1::SESSION_ROLE_UNSPECIFIED) role = v1::SESSION_ROLE_PARTICIPANT;
  if (caller.role == Role::kOrganizer) return role;
  if (caller.role != Role::kApiClient) {
    return absl::PermissionDeniedError("only organizers and API keys register");
  }
  if (role != v1::SESSION_ROLE_PARTICIPANT) {
    return absl::PermissionDeniedError(
        "an API key registers participants only; organizers assign other "
        "roles");
  }
  return role;
}

absl::Status ValidateDelegation(int delegation) {
  if (!v1::Delegation_IsValid(delegation)) {
    return InvalidField("delegation",
                        absl::StrCat("unknown delegation ", delegation));
  }
  return absl::OkStatus();
}

Role TokenRole(v1::SessionRole role) {
  switch (role) {
    case v1::SESSION_ROLE_ORGANIZER:
      return Role::kSessionOrganizer;
    case v1::SESSION_ROLE_MODERATOR:
      return Role::kModerator;
    case v1::SESSION_ROLE_SPEAKER:
      return Role::kSpeaker;
    case v1::SESSION_ROLE_OBSERVER:
      return Role::kObserver;
    default:
      return Role::kParticipant;
  }
}

absl::Status DelegationRefusal(const ScriptOutcome& outcome,
                               absl::string_view session_id) {
  bool refused = outcome.kind == "NOT_INVITED" ||
                 outcome.kind == "QUOTA_FULL" || outcome.kind == "STANDBY_FULL";
  if (!refused) return absl::OkStatus();
  if (outcome.values.empty()) return UnexpectedOutcome(outcome);
  absl::string_view org = outcome.values.back();
  if (outcome.kind == "NOT_INVITED") {
    if (org.empty()) {
      return absl::FailedPreconditionError(
          "the participant belongs to no organization: only members of an "
          "invited organization register as delegates or substitutes");
    }
    return absl::FailedPreconditionError(
        absl::StrCat("organization ", org, " is not invited to session ",
                     session_id, " (InviteOrganization first)"));
  }
  if (outcome.kind == "QUOTA_FULL") {
    return absl::ResourceExhaustedError(
        absl::StrCat("organization ", org, " has used all ",
                     outcome.values.front(), " delegate seats"));
  }
  return absl::ResourceExhaustedError(absl::StrCat(
      "organization ", org, " already has ", outcome.values.front(),
      " substitutes (at most one per delegate seat)"));
}

std::string AttendanceRefusal(const v1::Session& session,
                              v1::AttendanceAction action, absl::Time now) {
  v1::SessionFormat format = session.format();
  bool online = format == v1::SESSION_FORMAT_ONLINE ||
                format == v1::SESSION_FORMAT_HYBRID;
  bool in_person = format == v1::SESSION_FORMAT_IN_PERSON ||
                   format == v1::SESSION_FORMAT_HYBRID;
  if (action == v1::ATTENDANCE_ACTION_CHECK_IN ? !in_person : !online) {
    return absl::StrCat(
        "session ", session.id(), " is ",
        online ? "online only: there is no venue to check in at"
               : "in person only: there is no video conference to join or "
                 "leave");
  }
  if (action == v1::ATTENDANCE_ACTION_LEAVE) return "";
  absl::Time start = ToTime(session.start_time());
  bool open = session.state() == v1::SESSION_STATE_LIVE ||
              (session.state() == v1::SESSION_STATE_SCHEDULED &&
               now >= start - kEarlyJoin && now < SessionEnd(session));
  if (open) return "";
  return absl::StrCat(
      "session ", session.id(), " is ", StateName(session.state()), " (starts ",
      FormatInstant(start),
      "): attendance opens 2 hours before the start of a scheduled "
      "session and lasts while it is live");
}

bool OccurrenceCounts(const v1::Session& occurrence, absl::Time now) {
  return occurrence.state() == v1::SESSION_STATE_LIVE ||
         occurrence.state() == v1::SESSION_STATE_ENDED ||
         (occurrence.state() != v1::SESSION_STATE_CANCELLED &&
          ToTime(occurrence.start_time()) <= now);
}

int64_t DecodeRegistration(absl::string_view session_id,
                           const std::vector<std::string>& values,
                           size_t offset, v1::Registration* out) {
  const std::string* f = &values[offset];
  out->set_session_id(std::string(session_id));
  out->set_participant_id(f[0]);
  out->set_status(static_cast<v1::RegistrationStatus>(ToInt(f[1])));
  out->set_role(static_cast<v1::SessionRole>(ToInt(f[2])));
  out->set_delegation(static_cast<v1::Delegation>(ToInt(f[3])));
  out->set_organization_id(f[4]);
  out->set_participant_display_name(f[5]);
  out->set_self_registered(f[6] == "1");
  SetTimestamp(ToInt(f[7]), out->mutable_create_time());
  SetTimestamp(ToInt(f[8]), out->mutable_update_time());
  out->set_cancel_reason(f[9]);
  out->set_waitlist_position(static_cast<int32_t>(ToInt(f[10])));
  return ToInt(f[11]);
}

absl::Status DecodeFirstRegistration(const ScriptOutcome& outcome,
                                     absl::string_view session_id,
                                     v1::Registration* out,
                                     int64_t* generation) {
  if (outcome.values.size() < kRecordFields) return UnexpectedOutcome(outcome);
  int64_t gen = DecodeRegistration(session_id, outcome.values, 0, out);
  if (generation != nullptr) *generation = gen;
  return absl::OkStatus();
}

void DecodeAttendance(const std::vector<std::string>& values, size_t offset,
                      int64_t now_us, v1::AttendanceRecord* out) {
  const std::string* f = &values[offset];
  out->set_participant_id(f[0]);
  out->set_participant_display_name(f[1]);
  out->set_organization_id(f[2]);
  if (!f[3].empty()) SetTimestamp(ToInt(f[3]), out->mutable_first_seen_time());
  int64_t online_us = ToInt(f[4]);
  if (!f[5].empty()) {
    out->set_online_now(true);
    online_us += std::max<int64_t>(0, now_us - ToInt(f[5]));
  }
  SetDuration(absl::Microseconds(online_us), out->mutable_online_duration());
  if (!f[6].empty()) SetTimestamp(ToInt(f[6]), out->mutable_check_in_time());
}

}  // namespace townhall::registration
