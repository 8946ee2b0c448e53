// Who is calling: the verified identity behind a request.
//
// Four kinds of credential produce a Principal:
//   - the operator's bootstrap credential (Role::kOperator: tenants only);
//   - an organizer token (Role::kOrganizer: all of one tenant);
//   - a join token (a session role: one session, one participant), issued
//     by RegistrationService.IssueJoinToken for a confirmed registration;
//   - an API key (Role::kApiClient: one tenant, limited by scopes), created
//     by TenantService.CreateApiKey for portals and bots.
// What each may call is decided by one table (authorization.h).
#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace townhall {

enum class Role {
  // The operator holding the bootstrap credential: manages tenants only.
  kOperator,
  // A tenant's organizer: full control of the tenant's objects.
  kOrganizer,
  // Session roles, carried by join tokens; scoped to one session.
  kSessionOrganizer,
  kModerator,
  kSpeaker,
  kParticipant,
  kObserver,
  // A third-party client (portal, bot) holding an API key.
  kApiClient,
};

// What an API key may do; the numbers match townhall.v1.ApiScope.
enum class ApiScope : uint32_t {
  kReadSchedule = 1,
  kManageRegistrations = 2,
  kSubmitQuestions = 3,
};

// Returns "operator", "organizer", "session-organizer", "moderator", ...
absl::string_view RoleName(Role role);
// Parses a role claim; false if unknown. "operator" is never a claim.
bool ParseRole(absl::string_view name, Role* role);
// True for the roles of join tokens.
bool IsSessionRole(Role role);

// The bit of `scope` in Principal::scopes.
constexpr uint32_t ScopeBit(ApiScope scope) {
  return uint32_t{1} << static_cast<uint32_t>(scope);
}

struct Principal {
  Role role = Role::kOrganizer;
  // Empty for the operator.
  std::string tenant_id;
  // The token's `sub` claim (an email, account id or participant id).
  std::string subject;
  // The token's `jti`; an API key's id.
  std::string token_id;
  absl::Time issue_time = absl::InfinitePast();
  absl::Time expire_time = absl::InfiniteFuture();

  // Join tokens: the one session, the participant, and the registration's
  // generation when the token was issued (revocation compares it).
  std::string session_id;
  std::string participant_id;
  int64_t generation = 0;
  // The participant's organization, when the registration has one.
  std::string organization_id;

  // API keys: ScopeBit()s.
  uint32_t scopes = 0;

  bool is_operator() const { return role == Role::kOperator; }
  bool is_session_scoped() const { return IsSessionRole(role); }
  bool has_scope(ApiScope scope) const { return scopes & ScopeBit(scope); }
};

// True for tenant organizers, session organizers and moderators: the
// callers who run a session (moderate its questions, run its polls).
bool IsPrivileged(const Principal& caller);

// Who acts, as the moderation audit log records it: the token's subject
// (or participant) and role.
struct Actor {
  std::string id;
  std::string role;
};
Actor ActorOf(const Principal& caller);

}  // namespace townhall
