// townhall-scheduling: a server hosting only the SchedulingService (the same
// as `townhalld --services=scheduling`).
#include "services/common/server/server.h"
#include "services/scheduling/scheduling_service.h"

int main(int argc, char** argv) {
  return townhall::RunServerMain(
      argc, argv, {townhall::scheduling::SchedulingModule()}, "scheduling");
}
