// SpeakersLogic: the speakers' queue of an agenda item: raise and lower a
// hand, call the next (or a chosen) speaker by the fairness options, finish
// a turn. Same conventions as AgendaLogic.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/common/auth/principal.h"
#include "services/common/redis/redis_connection.h"
#include "townhall/v1/agenda.pb.h"
#include "townhall/v1/scheduling.pb.h"

namespace townhall::agenda {

class SpeakersLogic {
 public:
  using Redis = RedisConnection;

  absl::Status RaiseHand(const Principal& caller, Redis& redis,
                         const v1::Session& session,
                         const v1::RaiseHandRequest& request,
                         v1::RaiseHandResponse* response) const;
  absl::Status LowerHand(const Principal& caller, Redis& redis,
                         const v1::Session& session,
                         const v1::LowerHandRequest& request,
                         v1::LowerHandResponse* response) const;
  absl::Status CallNextSpeaker(const Principal& caller, Redis& redis,
                               const v1::Session& session,
                               const v1::CallNextSpeakerRequest& request,
                               v1::CallNextSpeakerResponse* response) const;
  absl::Status FinishSpeaker(const Principal& caller, Redis& redis,
                             const v1::Session& session,
                             const v1::FinishSpeakerRequest& request,
                             v1::FinishSpeakerResponse* response) const;
  absl::Status GetSpeakersQueue(const Principal& caller, Redis& redis,
                                const v1::Session& session,
                                const v1::GetSpeakersQueueRequest& request,
                                v1::GetSpeakersQueueResponse* response) const;
  absl::Status SetSpeakersQueueOptions(
      const Principal& caller, Redis& redis, const v1::Session& session,
      const v1::SetSpeakersQueueOptionsRequest& request,
      v1::SetSpeakersQueueOptionsResponse* response) const;
};

// One item's queue as the API shows it (NOT_FOUND when the item does not
// exist); for GetSpeakersQueue and the watch's snapshot.
absl::StatusOr<v1::SpeakersQueue> ReadSpeakersQueue(
    RedisConnection& redis, absl::string_view tenant_id,
    absl::string_view session_id, absl::string_view agenda_item_id);

}  // namespace townhall::agenda
