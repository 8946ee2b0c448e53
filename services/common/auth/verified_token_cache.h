// VerifiedTokenCache: tokens whose signature and claims were verified once,
// so that a client's next calls with the same token skip the HMAC and the
// JSON parsing (most of an authenticated no-op's CPU before it existed:
// docs/benchmarks.md, "Performance (issue 19)").
//
// What it keeps is what VerifyToken proved about the exact bytes of a token
// (signature, algorithm, issuer, audience, claims present, lifetime, iat not
// in the future): none of it changes with time, because the key set is
// fixed for the life of the process. What does change — expiry and
// revocation — the caller checks on every call, hit or miss
// (Authenticator::Revalidate). A token is looked up by its full bytes, so a
// token altered in any byte is a miss and is verified in full; failed
// verifications are never cached.
//
// Bounded: at most `capacity` tokens of at most kMaxCachedTokenBytes each;
// when a shard is full an insert first drops the shard's expired tokens,
// then an arbitrary one. Sharded so that gRPC's threads rarely share a lock.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/auth/principal.h"

namespace townhall {

class VerifiedTokenCache {
 public:
  // Longer tokens are verified on every call (ours are ~300-500 bytes).
  static constexpr size_t kMaxCachedTokenBytes = 2048;

  // `capacity` 0 disables the cache.
  explicit VerifiedTokenCache(size_t capacity);

  VerifiedTokenCache(const VerifiedTokenCache&) = delete;
  VerifiedTokenCache& operator=(const VerifiedTokenCache&) = delete;

  // The principal verified for exactly `token`, if cached and not expired
  // at `now`.
  std::optional<Principal> Find(absl::string_view token, absl::Time now);
  // Remembers that `token` verified as `principal`.
  void Insert(absl::string_view token, const Principal& principal,
              absl::Time now);

  // Tokens held now (for tests and metrics).
  size_t size() const;
  size_t capacity() const { return capacity_; }

 private:
  static constexpr size_t kShards = 16;
  struct Shard {
    mutable absl::Mutex mu;
    absl::flat_hash_map<std::string, Principal> tokens ABSL_GUARDED_BY(mu);
  };
  Shard& ShardFor(absl::string_view token);

  const size_t capacity_;
  const size_t shard_capacity_;
  std::array<Shard, kShards> shards_;
};

}  // namespace townhall
