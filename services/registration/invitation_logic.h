// InvitationLogic: an organization's invitation to a session, with the
// quota of delegate seats its members may take. Same conventions as
// RegistrationLogic (registration_logic.h).
#pragma once

#include "absl/status/status.h"
#include "services/common/auth/principal.h"
#include "services/common/redis/redis_connection.h"
#include "townhall/v1/registration.pb.h"
#include "townhall/v1/scheduling.pb.h"

namespace townhall::registration {

class InvitationLogic {
 public:
  using Redis = RedisConnection;

  // Runs invite_organization.lua.
  absl::Status InviteOrganization(
      const Principal& caller, Redis& redis, const v1::Session& session,
      const v1::InviteOrganizationRequest& request,
      v1::InviteOrganizationResponse* response) const;
};

}  // namespace townhall::registration
