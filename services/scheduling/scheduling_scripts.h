// Helpers shared by the scheduling logic files (venues_logic.cc,
// sessions_logic.cc, series_logic.cc, calendar_logic.cc): the argument
// layout of the scheduling scripts and the outcomes they share. Every
// scheduling script gets the tenant prefix as KEYS[1] (SessionStore::prefix)
// and runs through the one RunScript (services/common/redis/script_outcome.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "google/protobuf/timestamp.pb.h"
#include "services/common/auth/principal.h"
#include "services/common/redis/redis_connection.h"
#include "services/common/redis/script_outcome.h"
#include "services/scheduling/session_store.h"
#include "townhall/v1/scheduling.pb.h"

namespace townhall::scheduling {

// Now, in the microseconds scripts store.
int64_t NowMicros();

// Maps the outcomes all scheduling scripts share: OK and EXISTING pass,
// CONFLICTS becomes FAILED_PRECONDITION listing each conflict (read from
// `store`), anything else INTERNAL.
absl::Status CheckOutcome(SessionStore& store, const ScriptOutcome& outcome);

// The state in a script's {'BAD_STATE', state, ...} outcome.
townhall::v1::SessionState StateOf(const ScriptOutcome& outcome);

// Ids as the scripts take them: comma-separated.
std::string Csv(const google::protobuf::RepeatedPtrField<std::string>& items);

// The stored record of a session: script-owned fields live beside it in the
// hash (see DecodeSession), so they are left out.
std::string SerializeRecord(const townhall::v1::Session& session);

// Appends the 8 create_sessions.lua arguments of one session.
void AppendSessionArgs(const townhall::v1::Session& session,
                       std::vector<std::string>* args);

// Cancels (`new_start` null, keeping `cancel_reason` on the session) or
// moves one occurrence of a series (change_occurrence.lua), and reads the
// changed session into `out`.
absl::Status ChangeOccurrence(const Principal& caller, RedisConnection& redis,
                              absl::string_view series_id,
                              const google::protobuf::Timestamp& original_start,
                              const google::protobuf::Timestamp* new_start,
                              bool allow_conflicts,
                              absl::string_view cancel_reason,
                              townhall::v1::Session* out);

}  // namespace townhall::scheduling
