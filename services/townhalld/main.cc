// townhalld: hosts any set of townhall services in one process.
//   townhalld --services=all                 (local use, small deployments)
//   townhalld --services=scheduling          (one Deployment per service)
#include "services/common/server/server.h"
#include "services/townhalld/modules.h"

int main(int argc, char** argv) {
  return townhall::RunServerMain(argc, argv, townhall::AllModules(), "all");
}
