// AgendaService as a townhalld module.
#pragma once

#include "services/common/server/feed_watch.h"
#include "services/common/server/service_module.h"

namespace townhall::agenda {

ModuleSpec AgendaModule();
// With other limits for WatchAgenda (tests).
ModuleSpec AgendaModule(FeedWatchOptions watch_options);

}  // namespace townhall::agenda
