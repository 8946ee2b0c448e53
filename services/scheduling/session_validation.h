// Validation of client-supplied sessions, series and venues. Every error is
// INVALID_ARGUMENT and starts with the field path ("session.title: ...").
// Server-owned fields (id, tenant, state, etag, ...) are never taken from
// the client: Sanitize* clears them before validation.
#pragma once

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "townhall/v1/scheduling.pb.h"

namespace townhall::scheduling {

inline constexpr absl::Duration kMaxSessionDuration = absl::Hours(24 * 7);

// Clears output-only fields of a client-supplied session.
void SanitizeSession(townhall::v1::Session* session);

// Validates a session; `prefix` is its field path ("session",
// "series.template"). Defaults the format to ONLINE when unset and replaces
// a time zone link by its canonical name (Asia/Calcutta -> Asia/Kolkata).
absl::Status ValidateSession(absl::string_view prefix,
                             townhall::v1::Session* session);

// Validates a venue (after clearing its output-only fields).
absl::Status ValidateVenue(townhall::v1::Venue* venue);

}  // namespace townhall::scheduling
