// Every service module townhalld can host, in one list (main and tests).
#pragma once

#include <vector>

#include "services/common/server/service_module.h"

namespace townhall {

std::vector<ModuleSpec> AllModules();

}  // namespace townhall
