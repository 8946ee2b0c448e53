// SessionStore: the scheduling service's Redis keys, and the reads and
// scripts over them. One store per call (it wraps the worker's connection
// and the caller's tenant). Key schema (docs/architecture.md):
//
//   th:{t:<tenant>}:session:<id>           HASH  data (Session bytes), state,
//                                                version, updated, start, end,
//                                                venues, hosts, series, orig
//   th:{t:<tenant>}:sessions               ZSET  session id by start
//   th:{t:<tenant>}:venue:<id>             STRING Venue bytes
//   th:{t:<tenant>}:venues                 ZSET  venue ids (score 0, by id)
//   th:{t:<tenant>}:venue:<id>:bookings    ZSET  active session ids by start
//   th:{t:<tenant>}:host:<id>:bookings     ZSET  active session ids by start
//   th:{t:<tenant>}:series:<id>            HASH  data (Series bytes), version,
//                                                updated
//   th:{t:<tenant>}:series:<id>:sessions   ZSET  session id by original start
//   th:{t:<tenant>}:series:<id>:exdates    ZSET  EXDATEs (unix seconds)
//   th:{t:<tenant>}:series:<id>:rdates     ZSET  RDATEs (unix seconds)
//   th:{t:<tenant>}:idem:...               STRING result id, 24 h TTL (the
//                                                 suffix: IdempotencyKey)
//   th:{t:<tenant>}:version, :events       the tenant's change feed
//
// Everything of a tenant's schedule shares the hash tag {t:<tenant>}, so a
// script can check conflicts across all of it atomically, also on Cluster.
// Another tenant's objects live under another prefix: a lookup by id from
// the wrong tenant finds nothing (NOT_FOUND), so existence never leaks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/common/redis/redis_connection.h"
#include "services/common/redis/script_outcome.h"
#include "services/common/tenant_keys.h"
#include "townhall/v1/scheduling.pb.h"

namespace townhall::scheduling {

// One page of session ids from the start-time index.
struct IdPage {
  std::vector<std::string> ids;
  // Cursor for the next page ("" at the end).
  std::string next_cursor;
};

class SessionStore {
 public:
  SessionStore(RedisConnection& redis, absl::string_view tenant_id);

  // KEYS[1] of every scheduling script.
  const std::string& prefix() const { return prefix_; }

  // Runs a scheduling script with `prefix()` as KEYS[1] (RunScript in
  // script_outcome.h), then drops this tenant's sessions from the process's
  // session caches so the caller reads its own write (session_cache.h).
  absl::StatusOr<ScriptOutcome> RunScript(const LuaScript& script,
                                          const std::vector<std::string>& args);

  // Reads one session (NOT_FOUND if absent in this tenant).
  absl::StatusOr<townhall::v1::Session> GetSession(absl::string_view id);
  // Reads sessions in one round trip; missing ids are skipped.
  absl::StatusOr<std::vector<townhall::v1::Session>> GetSessions(
      const std::vector<std::string>& ids);
  // Ids by start time in [from, to) after `cursor`, at most `limit`.
  absl::StatusOr<IdPage> ListSessionIds(int64_t from, int64_t to,
                                        absl::string_view cursor, int limit);
  // Ids of a series' occurrences by original start.
  absl::StatusOr<IdPage> ListSeriesSessionIds(absl::string_view series_id,
                                              absl::string_view cursor,
                                              int limit);

  absl::StatusOr<townhall::v1::Venue> GetVenue(absl::string_view id);
  absl::StatusOr<std::vector<townhall::v1::Venue>> GetVenues(
      const std::vector<std::string>& ids);
  absl::StatusOr<IdPage> ListVenueIds(absl::string_view cursor, int limit);

  absl::StatusOr<townhall::v1::Series> GetSeries(absl::string_view id);

 private:
  absl::StatusOr<IdPage> PageByScore(const std::string& key,
                                     absl::string_view cursor, int64_t from,
                                     int64_t to, int limit);

  RedisConnection& redis_;
  std::string tenant_id_;
  std::string prefix_;
};

// The one command that reads a session (HMGET of its hash); its reply
// decodes with DecodeSession. For RedisEventLoop callers.
std::vector<std::string> SessionReadCommand(absl::string_view tenant_id,
                                            absl::string_view session_id);

// Sets the fields that scripts own (state, etag and sequence from the
// version, update time) on a session record.
void SetScriptOwnedFields(townhall::v1::SessionState state, int64_t version,
                          int64_t updated_micros,
                          townhall::v1::Session* session);

// Parses a session hash (HMGET in the order used by the store); returns
// nullopt-like NOT_FOUND for a missing one.
absl::StatusOr<townhall::v1::Session> DecodeSession(const RedisReply& fields,
                                                    absl::string_view id);

}  // namespace townhall::scheduling
