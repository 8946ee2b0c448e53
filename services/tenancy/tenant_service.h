// The TenantService module: tenants (organizer organizations) and organizer
// tokens. Keys: th:{t:<tenant>}:tenant (STRING, Tenant bytes).
#pragma once

#include "services/common/server/service_module.h"

namespace townhall::tenancy {

// "tenants" for townhalld --services.
ModuleSpec TenantModule();

}  // namespace townhall::tenancy
