// The pure rules of registrations and attendance, without Redis: who may
// register whom with which role, when a session's registrations or its
// attendance are open, the refusals the scripts answer, and the decoding
// of the scripts' flat records (lua/registrations.lua). Unit-tested in
// registration_rules_test.cc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/common/auth/principal.h"
#include "services/common/redis/script_outcome.h"
#include "townhall/v1/registration.pb.h"
#include "townhall/v1/scheduling.pb.h"

namespace townhall::registration {

// Field counts of the scripts' flat records (reg_record and att_record in
// lua/registrations.lua).
inline constexpr size_t kRecordFields = 12;
inline constexpr size_t kAttendanceFields = 7;

// INTERNAL: a script answered something its caller does not expect.
absl::Status UnexpectedOutcome(const ScriptOutcome& outcome);

// A script's decimal integer; 0 when it is not one.
int64_t ToInt(absl::string_view s);

// "CONFIRMED" for REGISTRATION_STATUS_CONFIRMED, as messages name it.
std::string StatusName(int status);
// "LIVE" for SESSION_STATE_LIVE.
std::string StateName(v1::SessionState state);

// Ended or cancelled.
bool IsOver(const v1::Session& session);
// The scheduled end: start plus duration.
absl::Time SessionEnd(const v1::Session& session);
// "" while registrations may change, else why not.
std::string ClosedRefusal(const v1::Session& session);
// "participant <p> is not registered for session <s>".
std::string NotRegistered(absl::string_view session_id,
                          absl::string_view participant_id);

// Who may register whom, and with which role: organizers with any role;
// API clients (portals) self-register participants only, pending approval.
// Returns the role to register with (PARTICIPANT when unspecified).
absl::StatusOr<v1::SessionRole> CheckRegistrar(const Principal& caller,
                                               int requested_role);
// INVALID_ARGUMENT for a delegation the API does not know.
absl::Status ValidateDelegation(int delegation);
// The role a join token carries for a session role.
Role TokenRole(v1::SessionRole role);

// Maps the delegation refusals that register.lua and approve_registration.lua
// share ({'NOT_INVITED', org}, {'QUOTA_FULL', quota, org},
// {'STANDBY_FULL', quota, org}); OK for any other outcome.
absl::Status DelegationRefusal(const ScriptOutcome& outcome,
                               absl::string_view session_id);

// "" when `action` may be recorded for `session` at `now`, else why not:
// JOIN and LEAVE need an online session, CHECK_IN one in person; JOIN and
// CHECK_IN open 2 hours before a scheduled start and last while it is live.
std::string AttendanceRefusal(const v1::Session& session,
                              v1::AttendanceAction action, absl::Time now);
// Whether an occurrence counts in series attendance at `now`: it took
// place or is under way (cancelled and future ones do not).
bool OccurrenceCounts(const v1::Session& occurrence, absl::Time now);

// Decodes the kRecordFields values at `values[offset]` (the caller checked
// there are that many); returns the registration's generation.
int64_t DecodeRegistration(absl::string_view session_id,
                           const std::vector<std::string>& values,
                           size_t offset, v1::Registration* out);
// Decodes the record an outcome starts with (INTERNAL when it has none).
absl::Status DecodeFirstRegistration(const ScriptOutcome& outcome,
                                     absl::string_view session_id,
                                     v1::Registration* out,
                                     int64_t* generation = nullptr);
// Decodes kAttendanceFields values; online time counts up to `now_us`
// while joined.
void DecodeAttendance(const std::vector<std::string>& values, size_t offset,
                      int64_t now_us, v1::AttendanceRecord* out);

}  // namespace townhall::registration
