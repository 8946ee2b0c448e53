#include "services/common/redis/idempotency_key.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"

namespace townhall {
namespace {

// Appends ":" and `part` percent-encoded: the separator and the hash tag
// braces never appear inside a part, so the parts split back unambiguously.
void AppendPart(absl::string_view part, std::string* out) {
  out->push_back(':');
  for (char c : part) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x21 || byte > 0x7e || c == '%' || c == ':' || c == '{' ||
        c == '}') {
      absl::StrAppendFormat(out, "%%%02X", byte);
    } else {
      out->push_back(c);
    }
  }
}

// The kind of credential and who holds it. Every role of one participant's
// join tokens is the same caller: the participant.
std::pair<absl::string_view, absl::string_view> CallerIdentity(
    const Principal& caller) {
  if (caller.is_session_scoped()) return {"participant", caller.participant_id};
  switch (caller.role) {
    case Role::kApiClient:
      return {"api-key", caller.token_id};
    case Role::kOperator:
      return {"operator", ""};
    default:
      return {"organizer", caller.subject};
  }
}

}  // namespace

std::string IdempotencyKey(absl::string_view method, const Principal& caller,
                           absl::string_view request_id,
                           const IdempotencyScope& scope) {
  if (request_id.empty()) return "";
  auto [kind, who] = CallerIdentity(caller);
  std::string key = "idem";
  AppendPart(absl::StripPrefix(method, "/townhall.v1."), &key);
  AppendPart(caller.tenant_id, &key);
  AppendPart(kind, &key);
  AppendPart(who, &key);
  AppendPart(scope.session_id, &key);
  AppendPart(scope.participant_id, &key);
  AppendPart(request_id, &key);
  return key;
}

}  // namespace townhall
