// PollService as a townhalld module.
#pragma once

#include "services/common/server/feed_watch.h"
#include "services/common/server/service_module.h"

namespace townhall::polls {

ModuleSpec PollModule();
// With other limits for WatchPolls (tests).
ModuleSpec PollModule(FeedWatchOptions watch_options);

}  // namespace townhall::polls
