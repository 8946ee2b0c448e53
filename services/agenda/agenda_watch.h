// WatchAgenda: FeedWatch (services/common/server/feed_watch.h) over a
// session's agenda feed. The snapshot is the agenda with the active item's
// speakers' queue and the server time; members (not the session's runners)
// see only their own topic proposals, as in ListTopicProposals. The
// snapshot runs read_agenda.lua ('agenda': the state and the feed version
// in one atomic step), then read_queue.lua for the active item.
#pragma once

#include "services/common/server/feed_watch.h"
#include "townhall/v1/agenda.pb.h"

namespace townhall::agenda {

using AgendaWatch = FeedWatch<v1::WatchAgendaRequest, v1::WatchAgendaResponse>;

FeedWatchSpec<v1::WatchAgendaRequest, v1::WatchAgendaResponse>
AgendaWatchSpec();

}  // namespace townhall::agenda
