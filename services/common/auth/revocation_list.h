// RevocationList: join tokens and API keys that stopped being valid before
// they expire, known to every server without a Redis lookup per call.
//
// Writers (registration and tenant scripts) append to their tenant's
// revocation stream `th:{t:<tenant>}:revocations` (in the tenant's Redis
// Cluster slot, passed in KEYS) in the same script that makes the change:
//   k = "reg:<tenant>:<session>:<participant>", g = <generation>
//       join tokens of that registration with gen < g are revoked;
//   k = "key:<tenant>:<api key id>"
//       that API key is revoked.
// Before such a script runs, its caller lists the tenant in the index
// (ListRevocationStream: the stream `th:{revocations}:index`, one entry per
// tenant), so a revocation is never in a stream the watchers do not know.
// Every server runs one RevocationWatcher: it reads the index and every
// listed tenant's stream at start and then follows them all with one
// XREAD BLOCK, so a revocation reaches every server within one round trip
// (a tenant's first one within two). If the watcher has not heard from
// Redis for `max_staleness`, join tokens and API keys are refused
// (UNAVAILABLE) rather than trusted: that bounds how long a revoked token
// can work.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "services/common/auth/principal.h"
#include "services/common/redis/redis_connection.h"

namespace townhall {

// The index of tenants that have a revocation stream: a SET (who is
// listed) and a STREAM (in the order they were listed; watchers follow it).
// Both in one slot, outside every tenant's.
inline constexpr absl::string_view kRevocationTenantsKey =
    "th:{revocations}:tenants";
inline constexpr absl::string_view kRevocationIndexKey =
    "th:{revocations}:index";
// Entries older than this are trimmed: no token lives longer.
inline constexpr absl::Duration kMaxRevocableLifetime = absl::Hours(24 * 366);

// "th:{t:<tenant>}:revocations": the tenant's revocation stream, passed in
// KEYS to every script that revokes.
std::string RevocationStreamKey(absl::string_view tenant_id);
// Lists the tenant's revocation stream in the index (list_revocation_stream
// script; idempotent). Call it before, never after, a script that may
// revoke: a watcher that reads the index after the revocation was written
// then knows the tenant's stream.
absl::Status ListRevocationStream(RedisConnection& redis,
                                  absl::string_view tenant_id);

std::string RegistrationRevocationKey(absl::string_view tenant_id,
                                      absl::string_view session_id,
                                      absl::string_view participant_id);
std::string ApiKeyRevocationKey(absl::string_view tenant_id,
                                absl::string_view api_key_id);
// The XADD MINID that trims entries older than kMaxRevocableLifetime
// (scripts call th_revoke with it).
std::string RevocationStreamMinId(absl::Time now);

class RevocationList {
 public:
  explicit RevocationList(absl::Duration max_staleness = absl::Seconds(10))
      : max_staleness_(max_staleness) {}

  // OK for organizer and operator credentials; for join tokens and API
  // keys UNAUTHENTICATED when revoked, UNAVAILABLE when the list is stale.
  absl::Status Check(const Principal& caller, absl::Time now) const;

  // Records one stream entry (generation 0 for API keys).
  void Apply(absl::string_view key, int64_t generation);
  // The list is current as of `time`.
  void MarkSynced(absl::Time time);
  // How long before `now` the list was last confirmed current (infinite
  // before the first read).
  absl::Duration Staleness(absl::Time now) const;
  // Waits until the list has been read once; false on timeout.
  bool WaitForSync(absl::Duration timeout) const;

 private:
  const absl::Duration max_staleness_;
  mutable absl::Mutex mu_;
  // key -> lowest valid generation.
  absl::flat_hash_map<std::string, int64_t> revoked_ ABSL_GUARDED_BY(mu_);
  absl::Time synced_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

// Follows the index and every listed tenant's stream into a RevocationList
// on its own thread and Redis connection.
class RevocationWatcher {
 public:
  RevocationWatcher(RedisOptions redis, RevocationList* list);
  ~RevocationWatcher();  // stops the thread

 private:
  void Run();
  // Reads the entries after the last ones seen of the index and of every
  // known tenant's stream (blocking up to `block`; ReadStreams in the .cc,
  // the one place that reads). Sets `*caught_up` when nothing may be left
  // behind (no full batch, no newly listed tenant); false on error.
  bool ReadOnce(RedisConnection& redis, absl::Duration block, bool* caught_up);

  RedisOptions redis_;
  // Stream key -> id of the last entry read ("0": none yet). The index and
  // the stream of every tenant listed in it. Only the watcher's thread.
  absl::flat_hash_map<std::string, std::string> last_ids_;
  RevocationList* list_;
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace townhall
