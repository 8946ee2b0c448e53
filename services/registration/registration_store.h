// RegistrationStore: the Redis keys and scripts of a tenant's registrations,
// invitations and attendance (lua/*.lua besides the directory's). One store
// per call: it wraps the worker's connection and the caller's tenant, and
// builds every script's KEYS here. Key schema (docs/architecture.md):
//
//   th:{t:<tenant>}:reg:<session>:<participant>  HASH  one registration
//   th:{t:<tenant>}:regs:<session>               ZSET  all, by arrival seq
//   th:{t:<tenant>}:seats:<session>, :waitlist:<session>,
//     :pending:<session>, :standby:<session>:<org>  ZSETs by seq
//   th:{t:<tenant>}:regseq:<session>             STRING arrival counter
//   th:{t:<tenant>}:invite:<session>:<org>       HASH  quota, used
//   th:{t:<tenant>}:att:<session>:<participant>  HASH  attendance
//   th:{t:<tenant>}:atts:<session>               ZSET  by first appearance
//   th:{t:<tenant>}:idem:RegistrationService/...  STRING 24 h
//   th:{t:<tenant>}:version, :events             the tenant's change feed
//
// Those keys are derived inside the scripts by appending to KEYS[1] (the
// tenant prefix; lua/registrations.lua) and never built in C++. Keys that
// C++ also builds come in KEYS[2]: a directory record (OrganizationKey,
// ParticipantKey) or the revocation stream.
//
// Every method runs one script, in one round trip, and returns its outcome
// (registration_rules.h decodes the records in it).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/common/redis/redis_connection.h"
#include "services/common/redis/script_outcome.h"

namespace townhall::registration {

// The arguments of register.lua.
struct RegisterCall {
  std::string session_id;
  std::string participant_id;
  int role = 0;
  int delegation = 0;
  // A self-registration (an API key's): PENDING until approved.
  bool self = false;
  // 0: unlimited.
  int32_t capacity = 0;
  absl::Time now;
  // "" for none.
  std::string idempotency_key;
  // "" or the FAILED_PRECONDITION message to answer after the idempotency
  // lookup (a retry still gets its first answer).
  std::string refusal;
};

class RegistrationStore {
 public:
  RegistrationStore(RedisConnection& redis, absl::string_view tenant_id);

  // invite_organization.lua.
  absl::StatusOr<ScriptOutcome> InviteOrganization(
      absl::string_view session_id, absl::string_view organization_id,
      int32_t seat_quota);
  // register.lua; reads the participant's directory record itself.
  absl::StatusOr<ScriptOutcome> Register(const RegisterCall& call);
  // approve_registration.lua.
  absl::StatusOr<ScriptOutcome> Approve(absl::string_view session_id,
                                        absl::string_view participant_id,
                                        int32_t capacity, absl::Time now);
  // cancel_registration.lua; revokes the registration's join tokens.
  absl::StatusOr<ScriptOutcome> Cancel(absl::string_view session_id,
                                       absl::string_view participant_id,
                                       absl::string_view reason,
                                       int32_t capacity, absl::Time now);
  // set_role.lua; revokes the join tokens of the old role.
  absl::StatusOr<ScriptOutcome> SetRole(absl::string_view session_id,
                                        absl::string_view participant_id,
                                        int role, absl::Time now);
  // read_registrations.lua, mode "get".
  absl::StatusOr<ScriptOutcome> ReadRegistration(
      absl::string_view session_id, absl::string_view participant_id);
  // read_registrations.lua, mode "list": registrations after arrival seq
  // `after` ("" from the start) whose status is in `statuses_csv` ("" for
  // all), reading at most `scan_limit`.
  absl::StatusOr<ScriptOutcome> ListRegistrations(
      absl::string_view session_id, absl::string_view after, int page_size,
      absl::string_view statuses_csv, int scan_limit);
  // record_attendance.lua.
  absl::StatusOr<ScriptOutcome> RecordAttendance(
      absl::string_view session_id, absl::string_view participant_id,
      int action, absl::Time now, absl::string_view idempotency_key,
      absl::string_view refusal);
  // attendance_report.lua.
  absl::StatusOr<ScriptOutcome> AttendanceReport(absl::string_view session_id);
  // series_attendance.lua.
  absl::StatusOr<ScriptOutcome> SeriesAttendance(
      const std::vector<std::string>& session_ids);

 private:
  RedisConnection& redis_;
  std::string tenant_id_;
  std::string prefix_;
};

}  // namespace townhall::registration
