// RevocationList: join tokens and API keys that stopped being valid before
// they expire, known to every server without a Redis lookup per call.
//
// Writers (registration and tenant scripts) append to the Redis stream
// `th:revocations` in the same script that makes the change:
//   k = "reg:<tenant>:<session>:<participant>", g = <generation>
//       join tokens of that registration with gen < g are revoked;
//   k = "key:<tenant>:<api key id>"
//       that API key is revoked.
// Every server runs one RevocationWatcher: it reads the whole stream at
// start and then follows it with XREAD BLOCK, so a revocation reaches every
// server within one round trip. If the watcher has not heard from Redis
// for `max_staleness`, join tokens and API keys are refused (UNAVAILABLE)
// rather than trusted: that bounds how long a revoked token can work.
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

// The stream's key (outside any tenant: every server reads all of it).
inline constexpr absl::string_view kRevocationStreamKey = "th:revocations";
// Entries older than this are trimmed: no token lives longer.
inline constexpr absl::Duration kMaxRevocableLifetime = absl::Hours(24 * 366);

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
  // Waits until the list has been read once; false on timeout.
  bool WaitForSync(absl::Duration timeout) const;

 private:
  const absl::Duration max_staleness_;
  mutable absl::Mutex mu_;
  // key -> lowest valid generation.
  absl::flat_hash_map<std::string, int64_t> revoked_ ABSL_GUARDED_BY(mu_);
  absl::Time synced_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

// Follows the stream into a RevocationList on its own thread and Redis
// connection.
class RevocationWatcher {
 public:
  RevocationWatcher(RedisOptions redis, RevocationList* list);
  ~RevocationWatcher();  // stops the thread

 private:
  void Run();
  // Reads entries after `*last_id` (blocking up to `block`), counting them
  // in `*entries`; false on error.
  bool ReadOnce(RedisConnection& redis, std::string* last_id,
                absl::Duration block, int* entries);

  RedisOptions redis_;
  RevocationList* list_;
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace townhall
