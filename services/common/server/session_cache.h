// SessionCache: sessions as SchedulingService last returned them, kept
// current from the tenants' scheduling change feeds, so that the hot paths
// of other services (RaiseHand, SubmitQuestion, Register) check a session's
// state and capacity without a call to SchedulingService
// (docs/architecture.md, "The session cache").
//
// - Current: one thread follows the change feed (th:{t:<tenant>}:events) of
//   every tenant with cached sessions, with XREAD BLOCK from the feed
//   version it read before any fetch it caches; a session.* entry drops
//   that session, a series.* entry, a gap or a lost connection the tenant's
//   (or every) session.
// - Bounded staleness: a session is served only while its tenant's feed
//   was read up to a moment less than `max_staleness` ago; else it is
//   re-read from SchedulingService.
// - Read your own writes: the scheduling store drops a tenant's sessions
//   in every cache of the process right after its writes
//   (InvalidateTenantInProcess).
// - Bounded size: at most `max_entries` sessions, the oldest go first.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/redis/redis_connection.h"
#include "townhall/v1/scheduling.pb.h"

namespace townhall {

class SessionCache {
 public:
  struct Options {
    size_t max_entries = 10000;
    absl::Duration max_staleness = absl::Milliseconds(500);
    // How long one XREAD blocks; well below max_staleness.
    absl::Duration block = absl::Milliseconds(100);
    // Registers for InvalidateTenantInProcess (tests of the feed path turn
    // it off).
    bool invalidate_in_process = true;
  };

  // Starts the feed thread; it connects when a tenant is first wanted.
  SessionCache(RedisOptions redis, Options options);
  ~SessionCache();
  SessionCache(const SessionCache&) = delete;
  SessionCache& operator=(const SessionCache&) = delete;

  // The process's cache for `redis`, made from --session_cache_size and
  // --session_cache_max_staleness and shared by every user; null when the
  // size is 0 (cache off).
  static std::shared_ptr<SessionCache> Shared(const RedisOptions& redis);

  // Drops the tenant's sessions in every cache of this process (the
  // scheduling store calls it after each write).
  static void InvalidateTenantInProcess(absl::string_view tenant_id);

  // A copy of the session if it is cached and its tenant's feed was
  // confirmed within max_staleness.
  std::optional<v1::Session> Get(absl::string_view tenant_id,
                                 absl::string_view session_id);

  // Called before fetching a session from SchedulingService: asks the
  // feed thread to follow the tenant and returns the ticket that Insert
  // wants (none while the tenant is not followed yet: do not insert).
  std::optional<uint64_t> BeginFetch(absl::string_view tenant_id);
  // Caches what a fetch begun with `ticket` returned, unless the tenant
  // changed (or was reset) since.
  void Insert(absl::string_view tenant_id, const v1::Session& session,
              uint64_t ticket);

  void InvalidateTenant(absl::string_view tenant_id);

  struct Stats {
    int64_t hits = 0;
    int64_t misses = 0;
    int64_t entries = 0;
  };
  Stats stats() const;

 private:
  struct Entry {
    v1::Session session;
    uint64_t order = 0;  // insertion order, for eviction
  };
  struct Tenant {
    std::string events_key;
    // Newest feed version read; -1 until the thread has read where the
    // feed stands.
    int64_t position = -1;
    // Every change committed before this moment has been applied.
    absl::Time confirmed = absl::InfinitePast();
    // Bumped by every change and reset: a fetch begun before it is not
    // cached.
    uint64_t generation = 0;
    absl::Time last_wanted = absl::InfinitePast();
    absl::flat_hash_map<std::string, Entry> sessions;
  };

  void Run();
  // One round of the feed thread: start following new tenants, then one
  // XREAD; false on a Redis failure.
  bool FollowOnce(RedisConnection& redis);
  void ResetAllLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ClearTenantLocked(Tenant& tenant) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EvictLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const RedisOptions redis_;
  const Options options_;
  mutable absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_map<std::string, Tenant> tenants_ ABSL_GUARDED_BY(mu_);
  // (tenant, session, order) in insertion order; stale rows are skipped.
  struct Inserted {
    std::string tenant_id;
    std::string session_id;
    uint64_t order;
  };
  std::deque<Inserted> insertions_ ABSL_GUARDED_BY(mu_);
  uint64_t next_order_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t entries_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t hits_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t misses_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

}  // namespace townhall
