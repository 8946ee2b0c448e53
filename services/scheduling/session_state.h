// The session life cycle, in one place:
//
//   DRAFT --Publish--> SCHEDULED --Start--> LIVE --End--> ENDED
//     |                    |
//     +------Cancel--------+--> CANCELLED
//
// Scripts enforce it atomically, but the table lives here: the C++ side
// passes the allowed source states to transition_session.lua.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "townhall/v1/scheduling.pb.h"

namespace townhall::scheduling {

using townhall::v1::SessionState;

enum class Transition { kPublish, kStart, kEnd, kCancel };

struct TransitionRule {
  absl::string_view verb;  // "publish", for messages
  std::vector<SessionState> from;
  SessionState to;
};

// Returns the rule of `transition`.
const TransitionRule& RuleFor(Transition transition);

// Returns "DRAFT", "LIVE", ... (without the SESSION_STATE_ prefix).
std::string StateName(SessionState state);

// FAILED_PRECONDITION naming the current state and the states that would
// allow the transition.
absl::Status IllegalTransition(absl::string_view session_id,
                               SessionState current, Transition transition);

}  // namespace townhall::scheduling
