// The change feed: a per-scope version counter plus a Redis stream of the
// changes, written by the same Lua script as the change itself (see
// services/common/lua/prelude.lua, th_feed_append). Scopes are a session
// (`th:{s:<id>}`) for live services and a tenant (`th:{t:<id>}`) for
// scheduling. Because the write and the feed entry are one atomic step, a
// reader can never miss a change or see changes out of order, whichever
// replica made them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/common/redis/redis_connection.h"

namespace townhall {

// One entry of a feed stream.
struct Change {
  int64_t version = 0;
  std::string kind;       // e.g. "session.state"
  std::string entity_id;  // e.g. a session id
  std::string data;       // kind-specific payload
};

// Key names of one feed scope, e.g. FeedKeys::ForScope("th:{t:mfa}").
struct FeedKeys {
  std::string version;  // STRING (integer): the newest version
  std::string events;   // STREAM: entries with id "<version>-0"

  static FeedKeys ForScope(const std::string& scope_prefix);
};

// Reads the current version (0 for a feed that never changed).
absl::StatusOr<int64_t> ReadFeedVersion(RedisConnection& redis,
                                        const FeedKeys& keys);

// Reads up to `limit` changes newer than `after_version`, oldest first.
// Returns OUT_OF_RANGE if changes after `after_version` were already trimmed,
// or if `after_version` is newer than the feed (the feed lost data): either
// way the reader must take a fresh snapshot.
absl::StatusOr<std::vector<Change>> ReadChangesSince(RedisConnection& redis,
                                                     const FeedKeys& keys,
                                                     int64_t after_version,
                                                     int limit);

// Parses one stream entry, [id, [field, value, ...]], of XREAD or XRANGE.
absl::StatusOr<Change> ParseFeedEntry(const RedisReply& entry);

}  // namespace townhall
