// Votes: the pure parts of UpvoteQuestion and WithdrawVote. A vote is one
// run of lua/vote.lua on the event loop (QuestionLogic::UpvoteQuestion in
// votes_logic.cc batches the votes of a session with
// RedisEventLoop::EvalBatched), so that the hot path takes no worker
// hand-off and one round trip; what that run needs and what its reply
// means is decided here:
//
//   VoteTarget target = VoteTargetOf(request);
//   TH_RETURN_IF_ERROR(ValidateVote(target));
//   VoteScriptCall call = MakeVoteScriptCall(caller, target, up, absl::Now());
//   loop.EvalBatched(vote_lua::kVoteScript, call.key_prefix, call.args, ...);
//   ... DecodeVoteReply(reply, target.question_id)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/common/auth/principal.h"
#include "services/common/redis/redis_reply.h"

namespace townhall::questions {

// The fields UpvoteQuestionRequest and WithdrawVoteRequest share; views
// into the request.
struct VoteTarget {
  absl::string_view session_id;
  absl::string_view question_id;
  absl::string_view participant_id;
};

template <typename Request>
VoteTarget VoteTargetOf(const Request& request) {
  return {request.session_id(), request.question_id(),
          request.participant_id()};
}

// INVALID_ARGUMENT naming the first malformed id.
absl::Status ValidateVote(const VoteTarget& target);

// One run of lua/vote.lua: KEYS[1] (the queue's prefix) and ARGV.
struct VoteScriptCall {
  std::string key_prefix;
  // question id, participant id, now (unix ms), up (1) or withdraw (0),
  // rate-limited (0 for tenant organizers, else 1), now (RFC 3339).
  std::vector<std::string> args;
};

VoteScriptCall MakeVoteScriptCall(const Principal& caller,
                                  const VoteTarget& target, bool up,
                                  absl::Time now);

// What a vote did: the question's count after it, and whether it changed
// (false for a repeated vote or a withdrawal of no vote).
struct VoteResult {
  int64_t votes = 0;
  bool changed = false;
};

// Decodes lua/vote.lua's reply: RESOURCE_EXHAUSTED with the retry delay
// (RateLimited), NOT_FOUND, FAILED_PRECONDITION naming the status, or the
// result; a failed round trip passes through.
absl::StatusOr<VoteResult> DecodeVoteReply(
    const absl::StatusOr<RedisReply>& reply, absl::string_view question_id);

}  // namespace townhall::questions
