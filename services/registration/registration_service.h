// RegistrationService as a townhalld module.
#pragma once

#include "services/common/server/service_module.h"

namespace townhall::registration {

ModuleSpec RegistrationModule();

}  // namespace townhall::registration
