// PollService as a townhalld module.
#pragma once

#include "services/common/server/service_module.h"

namespace townhall::polls {

ModuleSpec PollModule();

}  // namespace townhall::polls
