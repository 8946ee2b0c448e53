// DirectoryImportLogic: the bulk import of a tenant's organizations and
// participants from CSV (ImportDirectory). Organizations first, so that
// participants can name them; each row goes through the same script as
// CreateOrganization / CreateParticipant (lua/create_*.lua, pipelined by
// DirectoryStore), validated by the same rules (directory_validation.h).
// Same conventions as DirectoryLogic (directory_logic.h).
#pragma once

#include "absl/status/status.h"
#include "services/common/auth/principal.h"
#include "services/common/redis/redis_connection.h"
#include "townhall/v1/registration.pb.h"

namespace townhall::registration {

class DirectoryImportLogic {
 public:
  using Redis = RedisConnection;

  // Runs create_organization.lua and create_participant.lua per new row,
  // after one lookup of duplicates per file.
  absl::Status ImportDirectory(const Principal& caller, Redis& redis,
                               const v1::ImportDirectoryRequest& request,
                               v1::ImportDirectoryResponse* response) const;
};

}  // namespace townhall::registration
