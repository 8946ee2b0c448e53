// The minutes of a session: its agenda, the outcomes of each item, the
// results of its closed polls (under their item, or on their own) and the
// action items, rendered as Markdown (for people) or JSON (for programs).
// Pure: built from the session, an agenda snapshot and the session's polls
// (as the reader may see them), no I/O; tested in minutes_test.cc.
//
//   TH_ASSIGN_OR_RETURN(*response,
//                       RenderMinutes(session, agenda, polls, format));
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "townhall/v1/agenda.pb.h"
#include "townhall/v1/polls.pb.h"
#include "townhall/v1/scheduling.pb.h"

namespace townhall::agenda {

// Renders the minutes in `format` (Markdown unless JSON) with a content
// type and a file name "minutes-<local date>-<session>.<md|json>". Times
// are shown in the session's time zone (UTC when it has none or an unknown
// one).
// Only CLOSED and PUBLISHED polls of `polls` are shown.
absl::StatusOr<v1::ExportMinutesResponse> RenderMinutes(
    const v1::Session& session, const v1::AgendaSnapshot& agenda,
    const std::vector<v1::Poll>& polls, v1::MinutesFormat format);

// The Markdown minutes, times in `zone`.
std::string MinutesMarkdown(const v1::Session& session,
                            const v1::AgendaSnapshot& agenda,
                            const std::vector<v1::Poll>& polls,
                            absl::TimeZone zone);

// The JSON minutes: a stable document (fixed key order; entities as proto3
// JSON), one line.
absl::StatusOr<std::string> MinutesJson(const v1::Session& session,
                                        const v1::AgendaSnapshot& agenda,
                                        const std::vector<v1::Poll>& polls);

}  // namespace townhall::agenda
