// PollLogic: a session's polls. Plain methods taking the caller, a Redis
// connection (CastBallot: the event loop), the session (looked up by the glue
// in poll_service.cc: NOT_FOUND for another tenant's, before any poll key is
// read) and the request; the access table has already let the call in. Every
// change is one Lua script (lua/, through PollStore) that also appends to the
// session's poll feed and to the session's moderation audit log.
//
// poll_logic.cc: create, lifecycle and reads; ballots_logic.cc: ballots.
// The pure rules (validation, counting, visibility) are poll_rules.h and
// instant_runoff.h.
#pragma once

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "services/common/auth/principal.h"
#include "services/common/redis/redis_connection.h"
#include "services/common/redis/redis_event_loop.h"
#include "services/common/server/rpc_runner.h"
#include "townhall/v1/polls.pb.h"
#include "townhall/v1/scheduling.pb.h"

namespace townhall::polls {

class PollLogic {
 public:
  using Redis = RedisConnection;

  // lua/create_poll.lua.
  absl::Status CreatePoll(const Principal& caller, Redis& redis,
                          const v1::Session& session,
                          const v1::CreatePollRequest& request,
                          v1::CreatePollResponse* response) const;
  // lua/read_polls.lua ('get').
  absl::Status GetPoll(const Principal& caller, Redis& redis,
                       const v1::Session& session,
                       const v1::GetPollRequest& request,
                       v1::GetPollResponse* response) const;
  // lua/read_polls.lua ('page').
  absl::Status ListPolls(const Principal& caller, Redis& redis,
                         const v1::Session& session,
                         const v1::ListPollsRequest& request,
                         v1::ListPollsResponse* response) const;
  // lua/transition_poll.lua ('open', 'close', 'publish').
  absl::Status OpenPoll(const Principal& caller, Redis& redis,
                        const v1::Session& session,
                        const v1::OpenPollRequest& request,
                        v1::OpenPollResponse* response) const;
  absl::Status ClosePoll(const Principal& caller, Redis& redis,
                         const v1::Session& session,
                         const v1::ClosePollRequest& request,
                         v1::ClosePollResponse* response) const;
  // With `record_outcome`, also AgendaService's RecordOutcome for a
  // motion (idempotent per caller and poll; a retry of a publish that
  // succeeded records what is missing).
  absl::Status PublishPoll(const Principal& caller, Redis& redis,
                           const v1::Session& session,
                           const v1::PublishPollRequest& request,
                           v1::PublishPollResponse* response) const;
  // lua/read_polls.lua ('get'): a CLOSED or PUBLISHED poll as JSON or CSV
  // (poll_export.h).
  absl::Status ExportPollResults(const Principal& caller, Redis& redis,
                                 const v1::Session& session,
                                 const v1::ExportPollResultsRequest& request,
                                 v1::ExportPollResultsResponse* response) const;

  // ---- ballots_logic.cc ----
  // lua/cast_ballot.lua: the ballot, the tally, the rate limit and the
  // feed entry in one step. The hot path of polls: on the event loop, the
  // ballots of a session that wait together go as one script run
  // (RedisEventLoop::EvalBatched), as votes do.
  void CastBallot(const Principal& caller, RedisEventLoop& loop,
                  absl::Time deadline, const v1::Session& session,
                  const v1::CastBallotRequest& request,
                  v1::CastBallotResponse* response,
                  RpcRunner::Finisher finish) const;
};

}  // namespace townhall::polls
