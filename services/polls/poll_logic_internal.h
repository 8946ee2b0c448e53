// What the polls logic files (poll_logic.cc, ballots_logic.cc) share; not
// for use outside services/polls/.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/common/auth/principal.h"
#include "services/common/redis/script_outcome.h"
#include "services/polls/poll_rules.h"
#include "townhall/v1/polls.pb.h"
#include "townhall/v1/scheduling.pb.h"

namespace townhall::polls::internal {

// "NAMED", "ANONYMOUS", "SECRET": as the scripts store it.
std::string SecrecyName(v1::BallotSecrecy secrecy);

// The participant whose `voted` a read reports: a join token's own ("" for
// everyone else).
std::string ParticipantOf(const Principal& caller);

// FAILED_PRECONDITION when `session` is ENDED or CANCELLED: polls can no
// longer be `what` ("created", "opened", "voted in").
absl::Status RefuseOverSession(const v1::Session& session,
                               absl::string_view what);

// The one poll view of an OK, EXISTING or UNCHANGED script outcome.
absl::StatusOr<PollRecord> DecodeOne(const ScriptOutcome& outcome,
                                     absl::Time now);

}  // namespace townhall::polls::internal
