#include "services/common/auth/principal.h"

#include <array>
#include <utility>

namespace townhall {
namespace {

constexpr std::array<std::pair<Role, absl::string_view>, 8> kRoleNames = {{
    {Role::kOperator, "operator"},
    {Role::kOrganizer, "organizer"},
    {Role::kSessionOrganizer, "session-organizer"},
    {Role::kModerator, "moderator"},
    {Role::kSpeaker, "speaker"},
    {Role::kParticipant, "participant"},
    {Role::kObserver, "observer"},
    {Role::kApiClient, "api-client"},
}};

}  // namespace

bool IsPrivileged(const Principal& caller) {
  return caller.role == Role::kOrganizer ||
         caller.role == Role::kSessionOrganizer ||
         caller.role == Role::kModerator;
}

Actor ActorOf(const Principal& caller) {
  return {caller.subject.empty() ? caller.participant_id : caller.subject,
          std::string(RoleName(caller.role))};
}

absl::string_view RoleName(Role role) {
  for (const auto& [value, name] : kRoleNames) {
    if (value == role) return name;
  }
  return "unknown";
}

bool ParseRole(absl::string_view name, Role* role) {
  for (const auto& [value, known] : kRoleNames) {
    if (known == name && value != Role::kOperator) {
      *role = value;
      return true;
    }
  }
  return false;
}

bool IsSessionRole(Role role) {
  switch (role) {
    case Role::kSessionOrganizer:
    case Role::kModerator:
    case Role::kSpeaker:
    case Role::kParticipant:
    case Role::kObserver:
      return true;
    default:
      return false;
  }
}

}  // namespace townhall
