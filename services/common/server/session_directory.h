// SessionDirectory: what other services (registration, agenda) need to know
// about sessions, asked of their owner, SchedulingService, over gRPC (an
// in-process channel when both are hosted by one townhalld). No service
// reads scheduling's keys.
//
// Sessions come from the process's SessionCache when it has them fresh
// (session_cache.h): on the hot paths, no call at all.
//
// Calls carry a short-lived organizer token for the caller's tenant, minted
// here with the server's signing key (subject "service:<name>"), so a join
// token or API key without the read_schedule scope can still register.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/auth/authenticator.h"
#include "services/common/server/service_module.h"
#include "services/common/server/session_cache.h"
#include "townhall/v1/scheduling.grpc.pb.h"

namespace townhall {

class SessionDirectory {
 public:
  // `service` names the caller in its tokens ("registration").
  SessionDirectory(const ServiceEnv& env, std::string service);

  // Both lookups are asynchronous (the gRPC callback API): `done` runs
  // once, on a gRPC thread, and never blocks a Redis worker meanwhile.

  // The session (NOT_FOUND when it is not in `tenant_id`); from the cache
  // when it is there (then `done` runs before GetSession returns).
  void GetSession(
      absl::string_view tenant_id, absl::string_view session_id,
      absl::Time deadline,
      absl::AnyInvocable<void(absl::StatusOr<v1::Session>) &&> done) const;
  // Every occurrence of a series in start order, cancelled ones included
  // (at most 500: longer series are refused with FAILED_PRECONDITION).
  void ListOccurrences(
      absl::string_view tenant_id, absl::string_view series_id,
      absl::Time deadline,
      absl::AnyInvocable<void(absl::StatusOr<std::vector<v1::Session>>) &&>
          done) const;

 private:
  // A cached service token for the tenant.
  absl::StatusOr<std::string> TokenFor(absl::string_view tenant_id) const;
  v1::SchedulingService::Stub* Stub() const;

  PeerChannels* peers_;
  // Null when the cache is off (--session_cache_size=0).
  std::shared_ptr<SessionCache> cache_;
  const Authenticator* auth_;
  const std::string subject_;
  struct CachedToken {
    std::string token;
    absl::Time refresh_after;
  };
  mutable absl::Mutex mu_;
  mutable absl::flat_hash_map<std::string, CachedToken> tokens_
      ABSL_GUARDED_BY(mu_);
  mutable std::unique_ptr<v1::SchedulingService::Stub> stub_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace townhall
