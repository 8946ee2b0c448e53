// DiagnosticsService.Ping: the no-op baseline for benchmarks. It takes the
// same path as every RPC (request id, authentication, access log) but does
// no storage work, so the bench can report other RPCs as a ratio of it.
#pragma once

#include "services/common/server/service_module.h"

namespace townhall {

ModuleSpec DiagnosticsModule();

}  // namespace townhall
