// The question queue's key prefixes (the schema is in question_store.h
// and lua/queue_core.lua). Header only: the agenda's follow-up link
// (services/agenda/follow_up_link.h) reads a queue without linking the
// question service.
#pragma once

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "services/common/change_feed.h"
#include "services/common/tenant_keys.h"

namespace townhall::questions {

// "th:{s:<tenant>:<session>}" without the trailing colon.
inline std::string QueueScope(absl::string_view tenant_id,
                              absl::string_view session_id) {
  return SessionSlotScope(tenant_id, session_id);
}

// "th:{s:<tenant>:<session>}:": KEYS[1] of every questions script.
inline std::string QueuePrefix(absl::string_view tenant_id,
                               absl::string_view session_id) {
  return absl::StrCat(QueueScope(tenant_id, session_id), ":");
}

// The session's question feed: <prefix>version, <prefix>events.
inline FeedKeys QueueFeedKeys(absl::string_view tenant_id,
                              absl::string_view session_id) {
  return FeedKeys::ForScope(QueueScope(tenant_id, session_id));
}

// STRING: the tenant's QuestionPolicy (binary proto).
inline std::string QuestionPolicyKey(absl::string_view tenant_id) {
  return absl::StrCat(TenantPrefix(tenant_id), "questions:policy");
}

}  // namespace townhall::questions
