// The agenda's pure rules, shared by its logic files (items_logic.cc,
// proposals_logic.cc, outcomes_logic.cc) and its store: input limits, when
// an agenda may still change, what a new item holds, and the fields
// computed when an item is read (overrun). No I/O; unit-tested in
// agenda_rules_test.cc.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "services/common/validation.h"
#include "townhall/v1/agenda.pb.h"
#include "townhall/v1/scheduling.pb.h"

namespace townhall::agenda {

inline constexpr TextLimits kTitle{.min_chars = 1, .max_chars = 300};
inline constexpr TextLimits kDescription{
    .min_chars = 0, .max_chars = 5000, .multiline = true};
inline constexpr absl::Duration kMaxPlannedDuration = absl::Hours(24);

// FAILED_PRECONDITION once the session has ENDED or is CANCELLED: its
// agenda is then a record, whose items and proposals no longer change
// (outcomes and action items may still be written up after the end).
absl::Status RequireAgendaOpen(const v1::Session& session);

// Checks the editable fields of an item: title, description, planned
// duration (positive, at most 24 h) and presenter ids.
absl::Status ValidateItem(const v1::AgendaItem& item);

// Returns a new PENDING TOPIC item of `session` with a fresh id and only
// the client's editable fields of `from`.
v1::AgendaItem NewItem(const v1::Session& session, const v1::AgendaItem& from);

// INVALID_ARGUMENT for a negative requested position.
absl::Status ValidatePosition(bool has_position, int32_t position);

// The scripts' position argument: the position, or -1 for "at the end".
std::string PositionArg(bool has_position, int32_t position);

// Sets how far `item` ran (or runs, until `now`) past its planned duration:
// zero when on time, unset when it has no plan or never started.
void SetOverrun(absl::Time now, v1::AgendaItem* item);

// Parses stored proto3 JSON (INTERNAL when it does not parse).
absl::Status FromStoredJson(absl::string_view json,
                            google::protobuf::Message* message);

// Parses a stored item and sets its overrun as of `now`.
absl::Status DecodeItem(absl::string_view json, absl::Time now,
                        v1::AgendaItem* item);

}  // namespace townhall::agenda
