// townhall-registration: RegistrationService alone (production runs one
// Deployment per service); it reaches SchedulingService at --peer_address.
#include "services/common/server/server.h"
#include "services/registration/registration_service.h"

int main(int argc, char** argv) {
  return townhall::RunServerMain(argc, argv,
                                 {townhall::registration::RegistrationModule()},
                                 "registration");
}
