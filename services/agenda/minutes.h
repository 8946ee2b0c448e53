// The minutes of a session: its agenda, the outcomes of each item and the
// action items, rendered as Markdown (for people) or JSON (for programs).
// Pure: built from the session and an agenda snapshot, no I/O; tested in
// minutes_test.cc.
//
//   TH_ASSIGN_OR_RETURN(*response, RenderMinutes(session, agenda, format));
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "townhall/v1/agenda.pb.h"
#include "townhall/v1/scheduling.pb.h"

namespace townhall::agenda {

// Renders the minutes in `format` (Markdown unless JSON) with a content
// type and a file name "minutes-<local date>-<session>.<md|json>". Times
// are shown in the session's time zone (UTC when it has none or an unknown
// one).
absl::StatusOr<v1::ExportMinutesResponse> RenderMinutes(
    const v1::Session& session, const v1::AgendaSnapshot& agenda,
    v1::MinutesFormat format);

// The Markdown minutes, times in `zone`.
std::string MinutesMarkdown(const v1::Session& session,
                            const v1::AgendaSnapshot& agenda,
                            absl::TimeZone zone);

// The JSON minutes: a stable document (fixed key order; entities as proto3
// JSON), one line.
absl::StatusOr<std::string> MinutesJson(const v1::Session& session,
                                        const v1::AgendaSnapshot& agenda);

}  // namespace townhall::agenda
