#include "services/agenda/agenda_watch.h"

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/agenda/agenda_keys.h"
#include "services/agenda/agenda_store.h"
#include "services/common/auth/authorization.h"
#include "services/common/logging.h"
#include "services/common/proto_json.h"
#include "services/common/proto_time.h"

namespace townhall::agenda {
namespace {

using Response = v1::WatchAgendaResponse;

// The feed entry's data is an AgendaChange without version and kind. A
// topic proposal is for the runners and its proposer only.
FeedEntry DecodeChange(const Change& change) {
  std::shared_ptr<v1::AgendaChange> decoded =
      DecodeFeedChange<v1::AgendaChange>(change, "agenda change");
  FeedEntry entry;
  entry.version = change.version;
  if (decoded->has_proposal()) {
    entry.owner = decoded->proposal().participant_id();
  } else {
    entry.restricted = decoded;
  }
  entry.full = std::move(decoded);
  return entry;
}

absl::StatusOr<WatchView> ViewOf(const Principal& caller,
                                 const v1::WatchAgendaRequest&) {
  WatchView view;
  view.privileged = !caller.is_session_scoped() ||
                    caller.role == Role::kSessionOrganizer ||
                    caller.role == Role::kModerator;
  view.participant_id = caller.participant_id;
  return view;
}

}  // namespace

FeedWatchSpec<v1::WatchAgendaRequest, v1::WatchAgendaResponse>
AgendaWatchSpec() {
  return {
      .method = TH_METHOD(AgendaService, WatchAgenda),
      .service = "agenda",
      .feed_keys = AgendaFeedKeys,
      .codec = {.decode = DecodeChange},
      .view = ViewOf,
      .snapshot = [](RedisConnection& redis, const Principal& caller,
                     const v1::Session& session,
                     const WatchView&) -> absl::StatusOr<Response> {
        AgendaStore store(redis, caller.tenant_id, session.id());
        absl::StatusOr<v1::AgendaSnapshot> snapshot =
            store.ReadAgenda(absl::Now());
        if (!snapshot.ok()) return snapshot.status();
        if (!snapshot->active_item_id().empty()) {
          absl::StatusOr<v1::SpeakersQueue> queue =
              store.ReadSpeakersQueue(snapshot->active_item_id());
          if (queue.ok()) {
            *snapshot->mutable_speakers_queue() = *std::move(queue);
          } else if (queue.status().code() != absl::StatusCode::kNotFound) {
            return queue.status();
          }
        }
        SetTime(absl::Now(), snapshot->mutable_server_time());
        Response response;
        *response.mutable_snapshot() = *std::move(snapshot);
        return response;
      },
  };
}

}  // namespace townhall::agenda
