// WatchAgenda: FeedWatch (services/common/server/feed_watch.h) over a
// session's agenda feed. The snapshot is the agenda with the active item's
// speakers' queue and the server time; members (not the session's runners)
// see only their own topic proposals, as in ListTopicProposals.
#pragma once

#include <functional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/common/redis/redis_connection.h"
#include "services/common/server/feed_watch.h"
#include "townhall/v1/agenda.pb.h"
#include "townhall/v1/scheduling.pb.h"

namespace townhall::agenda {

// Reads items, the active item, outcomes, action items and the feed
// version in one atomic step (AgendaLogic's ReadAgendaSnapshot). The watch
// fills in the active item's speakers' queue and the server time.
using SnapshotReader = std::function<absl::StatusOr<v1::AgendaSnapshot>(
    RedisConnection& redis, absl::string_view tenant_id,
    const v1::Session& session)>;

using AgendaWatch = FeedWatch<v1::WatchAgendaRequest, v1::WatchAgendaResponse>;

FeedWatchSpec<v1::WatchAgendaRequest, v1::WatchAgendaResponse> AgendaWatchSpec(
    SnapshotReader snapshot_reader);

}  // namespace townhall::agenda
