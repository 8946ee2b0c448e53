// StreamRegistry: every open server stream of a process (WatchQueue,
// WatchAgenda, any FeedWatch), with the caps on how many may be open and
// the checks that end a stream whose caller is no longer allowed.
//
//   absl::StatusOr<std::unique_ptr<StreamRegistry::Admission>> admitted =
//       env.streams->Admit(caller, weak_self);  // RESOURCE_EXHAUSTED: full
//   ...                                         // the stream runs
//   admitted->reset();                          // closed: frees its place
//
// A unary call is authenticated once and is over within its deadline; a
// stream may stay open for hours. So every `kStreamCheckInterval` the
// registry checks each open stream's credential again
// (Authenticator::Revalidate) and ends the stream
//   - UNAUTHENTICATED when the token expired or was revoked (a join
//     token's registration cancelled or its role changed, an API key
//     revoked), within the revocation bound plus kStreamCheckInterval;
//   - UNAVAILABLE when the revocation list is stale (as unary calls are
//     refused), or when the stream reaches StreamLimits::max_lifetime: the
//     client reconnects with `after_version` and misses nothing.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/auth/authenticator.h"
#include "services/common/auth/principal.h"

namespace townhall {

// ServerOptions::streams (flags --max_stream_lifetime, --max_streams,
// --max_streams_per_*). 0 (or zero duration) means no limit.
struct StreamLimits {
  // A stream ends with UNAVAILABLE after between 0.9 and 1 times this
  // (spread, so that streams opened together do not all reconnect
  // together).
  absl::Duration max_lifetime = absl::Hours(1);
  // Open streams in this process, of every caller.
  int max_streams = 20000;
  // Open streams per participant (all its join tokens), per API key and
  // per organizer (tenant and subject, whatever token it holds), in this
  // process.
  int max_per_participant = 5;
  int max_per_api_key = 100;
  int max_per_organizer = 100;
};

// INVALID_ARGUMENT naming the flag when a limit is negative.
absl::Status ValidateStreamLimits(const StreamLimits& limits);

// How often the registry checks open streams' credentials and lifetimes.
inline constexpr absl::Duration kStreamCheckInterval = absl::Milliseconds(500);

class StreamRegistry {
 public:
  // What the registry needs of a stream.
  class Stream {
   public:
    // Ends the stream with `status`; from the registry's thread. Must be
    // harmless on a stream that has ended already.
    virtual void End(const absl::Status& status) = 0;

   protected:
    ~Stream() = default;
  };

  // A stream's place, counted until this is destroyed.
  class Admission {
   public:
    ~Admission();
    Admission(const Admission&) = delete;
    Admission& operator=(const Admission&) = delete;

   private:
    friend class StreamRegistry;
    Admission(StreamRegistry* registry, uint64_t id)
        : registry_(registry), id_(id) {}
    StreamRegistry* const registry_;
    const uint64_t id_;
  };

  // Starts the checking thread. `auth` must outlive this.
  StreamRegistry(StreamLimits limits, const Authenticator* auth);
  // Stops (see Stop). Every Admission must be gone by then.
  ~StreamRegistry();

  StreamRegistry(const StreamRegistry&) = delete;
  StreamRegistry& operator=(const StreamRegistry&) = delete;

  // Counts a new stream of `caller`, or RESOURCE_EXHAUSTED naming the cap
  // it would exceed. The registry ends `stream` when its caller's
  // credential stops being valid or its lifetime is over.
  absl::StatusOr<std::unique_ptr<Admission>> Admit(
      const Principal& caller, std::weak_ptr<Stream> stream);

  // Stops the checking thread; idempotent.
  void Stop();

  size_t open_streams() const;

 private:
  struct Entry {
    Principal caller;
    // Per-credential counter ("" for callers without one).
    std::string credential;
    absl::Time end_of_life;
    std::weak_ptr<Stream> stream;
    // End() was called: not again.
    bool ending = false;
  };

  void Release(uint64_t id);
  void Loop();
  // Ends the streams that must end at `now`.
  void Check(absl::Time now);

  const StreamLimits limits_;
  const Authenticator* const auth_;
  mutable absl::Mutex mu_;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  absl::flat_hash_map<uint64_t, Entry> open_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, int> per_credential_ ABSL_GUARDED_BY(mu_);
  std::minstd_rand random_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace townhall
