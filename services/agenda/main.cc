// townhall-agenda: AgendaService alone; it reaches SchedulingService at
// --peer_address.
#include "services/agenda/agenda_service.h"
#include "services/common/server/server.h"

int main(int argc, char** argv) {
  return townhall::RunServerMain(argc, argv, {townhall::agenda::AgendaModule()},
                                 "agenda");
}
