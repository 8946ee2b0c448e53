// Who is calling: the verified identity behind a request.
#pragma once

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace townhall {

enum class Role {
  // The operator holding the bootstrap credential: manages tenants only.
  kOperator,
  // A tenant's organizer: full control of the tenant's objects.
  kOrganizer,
};

// Returns "operator", "organizer", ...
absl::string_view RoleName(Role role);
// Parses a role claim; false if unknown.
bool ParseRole(absl::string_view name, Role* role);

struct Principal {
  Role role = Role::kOrganizer;
  // Empty for the operator.
  std::string tenant_id;
  // The token's `sub` claim (an email or account id).
  std::string subject;
  absl::Time expire_time = absl::InfiniteFuture();

  bool is_operator() const { return role == Role::kOperator; }
};

}  // namespace townhall
