// SpeakersLogic: the speakers' queue of an agenda item: raise and lower a
// hand, call the next (or a chosen) speaker by the fairness options, finish
// a turn. Same conventions as ItemsLogic (items_logic.h). RaiseHand is a
// hot path: one script, one Redis round trip.
#pragma once

#include "absl/status/status.h"
#include "services/common/auth/principal.h"
#include "services/common/redis/redis_connection.h"
#include "townhall/v1/agenda.pb.h"
#include "townhall/v1/scheduling.pb.h"

namespace townhall::agenda {

class SpeakersLogic {
 public:
  using Redis = RedisConnection;

  // Runs raise_hand.lua; a raise while waiting or speaking changes nothing.
  absl::Status RaiseHand(const Principal& caller, Redis& redis,
                         const v1::Session& session,
                         const v1::RaiseHandRequest& request,
                         v1::RaiseHandResponse* response) const;
  // Runs lower_hand.lua.
  absl::Status LowerHand(const Principal& caller, Redis& redis,
                         const v1::Session& session,
                         const v1::LowerHandRequest& request,
                         v1::LowerHandResponse* response) const;
  // Runs call_next_speaker.lua.
  absl::Status CallNextSpeaker(const Principal& caller, Redis& redis,
                               const v1::Session& session,
                               const v1::CallNextSpeakerRequest& request,
                               v1::CallNextSpeakerResponse* response) const;
  // Runs finish_speaker.lua.
  absl::Status FinishSpeaker(const Principal& caller, Redis& redis,
                             const v1::Session& session,
                             const v1::FinishSpeakerRequest& request,
                             v1::FinishSpeakerResponse* response) const;
  // Runs read_queue.lua.
  absl::Status GetSpeakersQueue(const Principal& caller, Redis& redis,
                                const v1::Session& session,
                                const v1::GetSpeakersQueueRequest& request,
                                v1::GetSpeakersQueueResponse* response) const;
  // Runs set_queue_options.lua.
  absl::Status SetSpeakersQueueOptions(
      const Principal& caller, Redis& redis, const v1::Session& session,
      const v1::SetSpeakersQueueOptionsRequest& request,
      v1::SetSpeakersQueueOptionsResponse* response) const;
};

}  // namespace townhall::agenda
