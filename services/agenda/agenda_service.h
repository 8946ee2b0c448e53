// AgendaService as a townhalld module.
#pragma once

#include "services/common/server/service_module.h"

namespace townhall::agenda {

ModuleSpec AgendaModule();

}  // namespace townhall::agenda
