// The SchedulingService module: wires SchedulingLogic into a townhall server.
#pragma once

#include "services/common/server/service_module.h"

namespace townhall::scheduling {

// "scheduling" for townhalld --services.
ModuleSpec SchedulingModule();

}  // namespace townhall::scheduling
