// AgendaService as a townhalld module.
#pragma once

#include "services/agenda/agenda_watch.h"
#include "services/common/server/service_module.h"

namespace townhall::agenda {

ModuleSpec AgendaModule();
// With other limits for WatchAgenda (tests).
ModuleSpec AgendaModule(AgendaWatch::Options watch_options);

}  // namespace townhall::agenda
