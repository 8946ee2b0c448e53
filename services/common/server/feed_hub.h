// FeedHub: the one reader of a FeedWatch's session feeds in this process,
// and Outbox: what one watcher has waiting. Internal to FeedWatch
// (feed_watch.h); a header of its own so that tests can drive both without
// a gRPC stream.
//
// The hub follows every subscribed feed with one multi-key XREAD BLOCK on
// its own connection and thread, decodes each entry once, merges runs of
// coalescable entries (FeedCodec::merge) and hands the result, wrapped once
// in the service's Response, to every subscriber of the feed.
#pragma once

#include <google/protobuf/message.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/change_feed.h"
#include "services/common/metrics/metrics.h"
#include "services/common/redis/redis_connection.h"
#include "services/common/server/feed_watch.h"

namespace townhall::feed_watch_internal {

// One change (or merged run of changes) ready to be written: the entry and
// its messages already wrapped, shared by every watcher.
struct Delivery {
  FeedEntry entry;
  // The oldest version the entry covers (entry.version for a single
  // change); a watcher that sent less than first_version - 1 has a gap.
  int64_t first_version = 0;
  SharedMessage full_response;
  // Null when entry.restricted is.
  SharedMessage restricted_response;
  // entry.owned wrapped; full_response when entry.owned is null.
  SharedMessage owned_response;
};
using SharedDelivery = std::shared_ptr<const Delivery>;

// Wraps `entry`'s messages; `first_version` as in Delivery.
SharedDelivery MakeDelivery(FeedEntry entry, int64_t first_version,
                            const WrapFn& wrap);

// FeedCodec::refresh of `entry` (a change of the feed `events_key`) when it
// asks for it, then MakeDelivery. A failed refresh is logged and the entry
// goes as decoded. For the hub and for a resuming stream.
SharedDelivery RefreshAndMakeDelivery(const FeedCodec& codec,
                                      const WrapFn& wrap,
                                      RedisConnection& redis,
                                      absl::string_view events_key,
                                      FeedEntry entry, int64_t first_version);

// A merged run of coalescable entries and the oldest version it covers.
struct CoalescedRun {
  FeedEntry entry;
  int64_t first_version = 0;
};

// Adds `entry` to `runs` if it is coalescable: merged into the run of its
// scope (the newest run only, unless the codec's merge_across_scopes), or
// as a new run, after moving the runs it may not pass to `out`
// (EndCoalescedRuns).
enum class Coalesced { kNo, kStarted, kMerged };
Coalesced AddToCoalescedRuns(const FeedCodec& codec, FeedEntry& entry,
                             std::vector<CoalescedRun>& runs,
                             std::vector<CoalescedRun>& out);

// Moves `runs` to `out` newest last (versions keep increasing); the first
// covers from the oldest version of them all, each next one from after the
// one before, so a watcher that gets them all sees no gap.
void EndCoalescedRuns(std::vector<CoalescedRun>& runs,
                      std::vector<CoalescedRun>& out);

// A reader of the hub's deliveries.
class FeedSubscriber {
 public:
  virtual ~FeedSubscriber() = default;
  // From the hub's thread: the next deliveries of the feed, in version
  // order.
  virtual void OnDeliveries(const std::vector<SharedDelivery>& deliveries) = 0;
};

class FeedHub {
 public:
  struct Options {
    // Names the hub in logs ("agenda").
    std::string name;
    // FeedWatchOptions::coalesce_window.
    absl::Duration coalesce_window = absl::ZeroDuration();
    // FeedWatchOptions::coalesced_writes_per_second (0: no budget).
    int coalesced_writes_per_second = 0;
    // Metrics: merged changes, lag (all null when off).
    LiveInstruments live;
  };

  // Starts the hub's thread; it connects on the first subscription.
  FeedHub(RedisOptions redis, FeedCodec codec, WrapFn wrap, Options options);
  // Stops (see Stop).
  ~FeedHub();

  // Delivers the changes of `keys.events` after `from_version` (or after
  // what the hub has already read, if it follows the stream already) to
  // `subscriber`, from the hub's thread, in order.
  void Subscribe(const FeedKeys& keys, int64_t from_version,
                 std::shared_ptr<FeedSubscriber> subscriber);
  void Unsubscribe(const std::string& events_key, FeedSubscriber* subscriber);

  // Stops the thread (within one XREAD block); idempotent.
  void Stop();

 private:
  using Run = CoalescedRun;

  struct Stream {
    // The feed's version key (FeedKeys::version): its head, for the lag.
    std::string version_key;
    // Newest version read (delivered or held).
    int64_t position = 0;
    absl::flat_hash_set<std::shared_ptr<FeedSubscriber>> subscribers;
    // Runs of coalescable entries not delivered yet, each merged (one per
    // scope when FeedCodec::merge_across_scopes, else one).
    std::vector<Run> held;
    // When the hub last delivered a coalescable entry of this stream: the
    // held run goes out at this + coalesce_window.
    absl::Time last_coalesced = absl::InfinitePast();
  };
  // What one Deliver or Flush hands out, outside the lock.
  struct Batch {
    std::vector<SharedDelivery> deliveries;
    std::vector<std::shared_ptr<FeedSubscriber>> subscribers;
  };

  void Loop();
  // Takes the entries of one XREAD reply of `key`.
  void Deliver(RedisConnection& redis, const std::string& key,
               const RedisReply& entries);
  // Delivers held runs whose window passed; returns when the next one is
  // due (InfiniteFuture when none is held).
  absl::Time FlushDue(RedisConnection& redis, absl::Time now);
  // FeedCodec::refresh for an entry of feed `key` that asks for it, then
  // MakeDelivery.
  SharedDelivery Prepare(RedisConnection& redis, absl::string_view key,
                         FeedEntry entry, int64_t first_version);
  void Send(const std::vector<Batch>& batches);
  // Metrics: how many versions the hub is behind its feeds' heads.
  void CheckLag(RedisConnection& redis);
  // Metrics, at scrape time: how long since the hub last had read all that
  // was committed (0 while it follows no feed).
  double LagSeconds();
  // How long a run of coalescable changes is held: the configured window,
  // stretched so that the hub's subscribers together get at most
  // coalesced_writes_per_second merged messages.
  absl::Duration CoalesceWindowLocked() const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const RedisOptions redis_options_;
  const FeedCodec codec_;
  const WrapFn wrap_;
  const Options options_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Stream> streams_ ABSL_GUARDED_BY(mu_);
  // Subscribers over every stream.
  size_t subscriber_count_ ABSL_GUARDED_BY(mu_) = 0;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  // The last moment the hub had read every change committed before it
  // (an XREAD that returned less than its COUNT of every stream).
  absl::Time caught_up_ ABSL_GUARDED_BY(mu_) = absl::Now();
  int lag_metric_ = 0;
  std::thread thread_;
};

// The messages one watcher has waiting, filtered by its view, in version
// order, with the version of the newest change it has covered (sent or
// skipped). Not thread-safe: the watcher's lock guards it.
class Outbox {
 public:
  // What Offer did with a change.
  enum class Offered {
    kQueued,   // waiting to be written
    kMerged,   // merged into the newest waiting (a coalescable change)
    kSkipped,  // covered already, or not this view's to see
    kResync,   // a gap or a full backlog: the watcher must start over
  };

  // `codec` and `wrap` must outlive the Outbox.
  Outbox(WatchView view, const FeedCodec* codec, const WrapFn* wrap,
         size_t max_backlog);

  // Drops everything waiting and starts at `version` with `first` (a
  // snapshot; null for none).
  void Restart(int64_t version, SharedMessage first);
  Offered Offer(const SharedDelivery& delivery);
  // The next message to write, removed from the box; null when none.
  SharedMessage Pop();
  void Clear();

  int64_t version() const { return version_; }
  size_t size() const { return waiting_.size(); }

 private:
  struct Waiting {
    SharedMessage message;
    // Null for a snapshot; set for a coalescable change (may be merged).
    SharedDelivery coalescable;
  };

  // The message of `delivery` this view gets; null when none.
  SharedMessage Pick(const Delivery& delivery) const;

  const WatchView view_;
  const FeedCodec* codec_;
  const WrapFn* wrap_;
  const size_t max_backlog_;
  int64_t version_ = 0;
  std::deque<Waiting> waiting_;
};

}  // namespace townhall::feed_watch_internal
