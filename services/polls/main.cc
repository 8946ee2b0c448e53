// townhall-polls: PollService alone; it reaches SchedulingService at
// --peer_address.
#include "services/common/server/server.h"
#include "services/polls/poll_service.h"

int main(int argc, char** argv) {
  return townhall::RunServerMain(argc, argv, {townhall::polls::PollModule()},
                                 "polls");
}
