#include "services/agenda/speakers_logic.h"

namespace townhall::agenda {

absl::Status SpeakersLogic::RaiseHand(const Principal& caller, Redis& redis,
                                      const v1::Session& session,
                                      const v1::RaiseHandRequest& request,
                                      v1::RaiseHandResponse* response) const {
  return absl::UnimplementedError("RaiseHand");
}

absl::Status SpeakersLogic::LowerHand(const Principal& caller, Redis& redis,
                                      const v1::Session& session,
                                      const v1::LowerHandRequest& request,
                                      v1::LowerHandResponse* response) const {
  return absl::UnimplementedError("LowerHand");
}

absl::Status SpeakersLogic::CallNextSpeaker(
    const Principal& caller, Redis& redis, const v1::Session& session,
    const v1::CallNextSpeakerRequest& request,
    v1::CallNextSpeakerResponse* response) const {
  return absl::UnimplementedError("CallNextSpeaker");
}

absl::Status SpeakersLogic::FinishSpeaker(
    const Principal& caller, Redis& redis, const v1::Session& session,
    const v1::FinishSpeakerRequest& request,
    v1::FinishSpeakerResponse* response) const {
  return absl::UnimplementedError("FinishSpeaker");
}

absl::Status SpeakersLogic::GetSpeakersQueue(
    const Principal& caller, Redis& redis, const v1::Session& session,
    const v1::GetSpeakersQueueRequest& request,
    v1::GetSpeakersQueueResponse* response) const {
  return absl::UnimplementedError("GetSpeakersQueue");
}

absl::Status SpeakersLogic::SetSpeakersQueueOptions(
    const Principal& caller, Redis& redis, const v1::Session& session,
    const v1::SetSpeakersQueueOptionsRequest& request,
    v1::SetSpeakersQueueOptionsResponse* response) const {
  return absl::UnimplementedError("SetSpeakersQueueOptions");
}

}  // namespace townhall::agenda
