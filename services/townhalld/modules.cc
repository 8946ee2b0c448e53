#include "services/townhalld/modules.h"

#include "services/agenda/agenda_service.h"
#include "services/polls/poll_service.h"
#include "services/questions/question_service.h"
#include "services/registration/registration_service.h"
#include "services/scheduling/scheduling_service.h"
#include "services/tenancy/tenant_service.h"

namespace townhall {

std::vector<ModuleSpec> AllModules() {
  return {tenancy::TenantModule(),
          scheduling::SchedulingModule(),
          registration::RegistrationModule(),
          agenda::AgendaModule(),
          questions::QuestionModule(),
          polls::PollModule()};
}

}  // namespace townhall
