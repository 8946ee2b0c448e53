// ProposalsLogic: topic proposals. Members propose topics for themselves;
// the session's runners accept one into the agenda (a new item) or decline
// it with a reason. Members see only their own proposals. Same conventions
// as ItemsLogic.
#pragma once

#include "absl/status/status.h"
#include "services/common/auth/principal.h"
#include "services/common/redis/redis_connection.h"
#include "townhall/v1/agenda.pb.h"
#include "townhall/v1/scheduling.pb.h"

namespace townhall::agenda {

class ProposalsLogic {
 public:
  using Redis = RedisConnection;

  // Runs propose_topic.lua.
  absl::Status ProposeTopic(const Principal& caller, Redis& redis,
                            const v1::Session& session,
                            const v1::ProposeTopicRequest& request,
                            v1::ProposeTopicResponse* response) const;

  // Runs read_agenda.lua ('proposals').
  absl::Status ListTopicProposals(
      const Principal& caller, Redis& redis, const v1::Session& session,
      const v1::ListTopicProposalsRequest& request,
      v1::ListTopicProposalsResponse* response) const;

  // Runs read_agenda.lua ('proposals'), then decide_proposal.lua ('accept').
  absl::Status AcceptTopicProposal(
      const Principal& caller, Redis& redis, const v1::Session& session,
      const v1::AcceptTopicProposalRequest& request,
      v1::AcceptTopicProposalResponse* response) const;

  // Runs decide_proposal.lua ('decline').
  absl::Status DeclineTopicProposal(
      const Principal& caller, Redis& redis, const v1::Session& session,
      const v1::DeclineTopicProposalRequest& request,
      v1::DeclineTopicProposalResponse* response) const;
};

}  // namespace townhall::agenda
