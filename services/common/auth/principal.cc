#include "services/common/auth/principal.h"

namespace townhall {

absl::string_view RoleName(Role role) {
  switch (role) {
    case Role::kOperator:
      return "operator";
    case Role::kOrganizer:
      return "organizer";
  }
  return "unknown";
}

bool ParseRole(absl::string_view name, Role* role) {
  if (name == "organizer") {
    *role = Role::kOrganizer;
    return true;
  }
  return false;  // "operator" is never a token claim.
}

}  // namespace townhall
