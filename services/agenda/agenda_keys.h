// The agenda's Redis keys and change-feed conventions, shared by the logic
// (writers) and the watch (reader).
//
// All keys of a session's agenda live under the tenant's prefix,
// "th:{t:<tenant>}:", so that one script can touch a session's agenda and
// the tenant-wide action items (shared by a series' occurrences) at once:
//   <P>agenda:<session>:...     the session's items, queue, proposals, ...
//   <P>action:<id>              an action item
//   <P>s:<session>:version      the session's change feed (FeedKeys)
//   <P>s:<session>:events
// Entities are stored as proto3 JSON (google::protobuf::util::
// MessageToJsonString / JsonStringToMessage), which Lua scripts edit with
// cjson. Every feed entry's `data` is the JSON of a townhall.v1.AgendaChange
// without version and kind (e.g. {"item": {...}} or {"order": [...]}), so a
// watcher decodes every kind the same way; `kind` is the AgendaChange kind.
#pragma once

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "services/common/change_feed.h"
#include "services/common/tenant_keys.h"

namespace townhall::agenda {

// The change feed of one session's agenda.
inline FeedKeys AgendaFeedKeys(absl::string_view tenant_id,
                               absl::string_view session_id) {
  return FeedKeys::ForScope(
      absl::StrCat(TenantPrefix(tenant_id), "s:", session_id));
}

}  // namespace townhall::agenda
