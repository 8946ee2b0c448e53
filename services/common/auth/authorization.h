// Authorization: the one table of who may call which RPC, and the check
// every call passes before any work (RpcRunner).
//
// Three levels (OWASP API Top 10):
//   - function: the caller's role (or API key scope) must be in the RPC's
//     row of the table;
//   - object: keys are tenant-prefixed, so another tenant's objects are
//     NOT_FOUND by construction; a join token names one session, and a
//     request type with a `session_id` must name that session (one without,
//     such as Ping, names no object); for members (moderator,
//     speaker, participant, observer) rows marked `own_registration_only`
//     also require the request's `participant_id` to be their own (the
//     session organizer, and on some rows the moderator, may name anyone);
//   - property: server-owned fields are never read from requests, and
//     contact details are cleared for non-organizers (registration logic).
//
// docs/registration.md shows the table (`townhall-access-table --markdown`
// prints it; a test keeps the doc in step).
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "services/common/auth/principal.h"

namespace google::protobuf {
class Message;
}

namespace townhall {

// "/townhall.v1.SchedulingService/GetSession": the gRPC path of a method.
#define TH_METHOD(Service, Method) "/townhall.v1." #Service "/" #Method

// The bit of `role` in AccessRule::roles.
constexpr uint32_t RoleBit(Role role) {
  return uint32_t{1} << static_cast<uint32_t>(role);
}

// API keys accepted whatever their scopes.
inline constexpr uint32_t kAnyApiKey = ~uint32_t{0};

struct AccessRule {
  // gRPC path, "/townhall.v1.SchedulingService/GetSession".
  absl::string_view method;
  // RoleBit()s of the roles that may call it (kApiClient is decided by
  // api_scopes instead).
  uint32_t roles = 0;
  // ScopeBit()s of which an API key needs one; 0 refuses API keys,
  // kAnyApiKey accepts any.
  uint32_t api_scopes = 0;
  // Members of a session may only name themselves in the request's
  // `participant_id`, except the roles in `acts_for_others`.
  bool own_registration_only = false;
  uint32_t acts_for_others = RoleBit(Role::kSessionOrganizer);
};

// Every rule, in service then method order.
absl::Span<const AccessRule> AccessRules();
// The rule for a gRPC path, or nullptr.
const AccessRule* FindAccessRule(absl::string_view method);

// True when the rule lets `caller` call the method (function level only).
bool RuleAllows(const AccessRule& rule, const Principal& caller);

// The function- and object-level check of one call: PERMISSION_DENIED with
// a reason, or OK. A method without a rule is refused.
absl::Status Authorize(const Principal& caller, absl::string_view method,
                       const google::protobuf::Message& request);

// The table as a Markdown table (docs/registration.md).
std::string AccessTableMarkdown();

}  // namespace townhall
