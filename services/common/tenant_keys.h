// Every key of a tenant starts with its prefix, whose hash tag keeps the
// tenant's keys in one Redis Cluster slot (so one Lua script may touch
// them all). The key schema is in docs/architecture.md.
#pragma once

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace townhall {

// Returns "th:{t:<tenant>}:".
inline std::string TenantPrefix(absl::string_view tenant_id) {
  return absl::StrCat("th:{t:", tenant_id, "}:");
}

// Returns "th:{s:<tenant>:<session>}": the scope of a session's live data
// (question queue, polls, the moderation audit log), one Redis Cluster
// slot per session so that busy sessions spread over the cluster.
inline std::string SessionSlotScope(absl::string_view tenant_id,
                                    absl::string_view session_id) {
  return absl::StrCat("th:{s:", tenant_id, ":", session_id, "}");
}

}  // namespace townhall
