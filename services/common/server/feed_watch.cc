#include "services/common/server/feed_watch.h"

#include <algorithm>
#include <deque>
#include <optional>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/types/span.h"
#include "services/common/logging.h"
#include "services/common/proto_json.h"
#include "services/common/server/feed_hub.h"
#include "services/common/server/session_directory.h"
#include "services/common/server/stream_registry.h"
#include "services/common/status.h"
#include "services/common/validation.h"

namespace townhall::feed_watch_internal {
namespace {

// How long a watch may take to look up its session and read its start.
constexpr absl::Duration kStartTimeout = absl::Seconds(10);
// Watch starts (snapshot or resume reads) of one FeedWatch take at most
// this share of the Redis pool's queue (RedisOptions::max_queue: 1,000 of
// 10,000); the others wait their turn in the Core. A town hall's audience
// joins within seconds: 20,000 snapshot reads queued at once would overflow
// the queue, and they and the unary calls behind them would be refused.
constexpr int kStartsShareOfPoolQueue = 10;  // one tenth

absl::Status ShuttingDown() {
  return absl::UnavailableError("the server is shutting down");
}

// The label a caller's streams are counted under.
CredentialKind KindOf(const Principal& caller) {
  if (caller.is_session_scoped()) return CredentialKind::kParticipant;
  switch (caller.role) {
    case Role::kApiClient:
      return CredentialKind::kApiKey;
    case Role::kOperator:
      return CredentialKind::kOperator;
    default:
      return CredentialKind::kOrganizer;
  }
}

// A start step (the session lookup, the start read) that failed because
// Redis did not answer within the command timeout or its connection dropped
// (a failover, a stall): worth one more try while the start's time lasts.
// Ending the stream instead would have its client, and after a stall a
// whole audience, reconnect at once.
bool RetryableStartFailure(const absl::Status& status, absl::Time deadline) {
  return (status.code() == absl::StatusCode::kUnavailable ||
          status.code() == absl::StatusCode::kDeadlineExceeded) &&
         absl::Now() < deadline;
}

}  // namespace

class Stream;

// What streams share with the FeedWatch that made them; kept alive by
// them, so a late callback never touches freed state.
struct Core {
  Core(const ServiceEnv& env, StreamSpec stream_spec,
       FeedWatchOptions watch_options)
      : env(env),
        spec(std::move(stream_spec)),
        options(watch_options),
        live(env.metrics != nullptr ? env.metrics->Live(spec.service)
                                    : LiveInstruments()),
        directory(env, spec.service),
        hub(env.redis->options(), spec.codec, spec.wrap,
            {.name = spec.service,
             .coalesce_window = options.coalesce_window,
             .coalesced_writes_per_second = options.coalesced_writes_per_second,
             .live = live}),
        max_starts_in_pool(std::max(
            1, env.redis->options().max_queue / kStartsShareOfPoolQueue)) {}

  const ServiceEnv env;
  const StreamSpec spec;
  const FeedWatchOptions options;
  // Metrics of this service's streams; all null when off.
  const LiveInstruments live;
  SessionDirectory directory;
  FeedHub hub;
  mutable absl::Mutex mu;
  bool stopping ABSL_GUARDED_BY(mu) = false;
  absl::flat_hash_set<std::shared_ptr<Stream>> streams ABSL_GUARDED_BY(mu);

  // A stream's start read, waiting for a place in the pool's queue.
  struct Start {
    std::shared_ptr<Stream> stream;
    int64_t after = 0;
    absl::Time deadline;
  };
  // Queues `start` on the Redis pool now if its share of the pool's queue
  // (kStartsShareOfPoolQueue) has room, else keeps it for later (OkStatus). An
  // error: the pool refused it (queue full, shutting down); the caller fails
  // the stream.
  absl::Status QueueStart(Start start);
  // A start read finished: the next waiting one takes its place.
  void StartDone();
  // Hands `start` to the pool; the task calls StartDone after the read.
  absl::Status SubmitStart(Start start);
  // On a pool worker: the start read, tried twice on a storage failure
  // (RetryableStartFailure); a failure ends the stream.
  void RunStart(RedisConnection& redis, const Start& start);
  // This FeedWatch's share of the pool's queue (kStartsShareOfPoolQueue).
  const int max_starts_in_pool;
  absl::Mutex starts_mu;
  int starts_in_pool ABSL_GUARDED_BY(starts_mu) = 0;
  std::deque<Start> waiting_starts ABSL_GUARDED_BY(starts_mu);
};

// One watch stream: the snapshot or resume read, then the hub's changes
// through the watcher's Outbox, one write at a time.
class Stream final : public FeedSubscriber,
                     public StreamRegistry::Stream,
                     public std::enable_shared_from_this<Stream> {
 public:
  Stream(std::shared_ptr<Core> core, StreamSink* sink,
         const StreamRequest& request)
      : core_(std::move(core)),
        session_id_(request.session_id),
        after_version_(request.after_version),
        sink_(sink) {}

  // Authorizes, then looks the session up and starts the first read.
  void Start(grpc::CallbackServerContext* ctx, const StreamRequest& request) {
    {
      // Registered first, so that StopCore finds it.
      absl::MutexLock lock(&core_->mu);
      core_->streams.insert(shared_from_this());
      if (core_->stopping) {
        absl::MutexLock self(&mu_);
        FinishLocked(ShuttingDown());
        return;
      }
    }
    absl::StatusOr<Principal> caller = core_->env.rpc->Authorize(
        ctx, core_->spec.method, *request.request, &log_);
    absl::Status valid = caller.status();
    if (valid.ok()) valid = ValidateId("session_id", session_id_);
    if (valid.ok() && after_version_ < 0) {
      valid = InvalidField("after_version", "must not be negative");
    }
    absl::StatusOr<WatchView> view;
    if (valid.ok()) {
      view = request.view(*caller);
      valid = view.status();
    }
    absl::StatusOr<std::unique_ptr<StreamRegistry::Admission>> admitted;
    if (valid.ok()) {
      // From here on the registry may end the stream (expiry, revocation,
      // lifetime) from its own thread.
      admitted = core_->env.streams->Admit(*caller, weak_from_this());
      valid = admitted.status();
    }
    if (!valid.ok()) {
      absl::MutexLock lock(&mu_);
      FinishLocked(valid);
      return;
    }
    caller_ = *std::move(caller);
    view_ = *std::move(view);
    keys_ = core_->spec.feed_keys(caller_.tenant_id, session_id_);
    open_gauge_ = core_->live.open_streams[static_cast<int>(KindOf(caller_))];
    if (open_gauge_ != nullptr) open_gauge_->Increment();
    {
      absl::MutexLock lock(&mu_);
      admission_ = *std::move(admitted);
      outbox_.emplace(view_, &core_->spec.codec, &core_->spec.wrap,
                      core_->options.max_backlog);
    }
    LookUpSession(absl::Now() + kStartTimeout, /*tries_left=*/1);
  }

  // From the hub's thread.
  void OnDeliveries(const std::vector<SharedDelivery>& deliveries) override {
    absl::MutexLock lock(&mu_);
    if (finished_) return;
    if (loading_) {
      pending_.insert(pending_.end(), deliveries.begin(), deliveries.end());
      if (pending_.size() > core_->options.max_backlog) {
        // The read in progress is already stale: read again after it.
        pending_.clear();
        overflowed_ = true;
      }
      return;
    }
    AcceptLocked(deliveries);
  }

  void Shutdown() { Fail(ShuttingDown()); }

  // StreamRegistry::Stream: the caller's credential or the stream's
  // lifetime is over.
  void End(const absl::Status& status) override { Fail(status); }

  void WriteDone(bool ok) {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    current_.reset();
    if (!ok) {
      FinishLocked(absl::CancelledError("the stream was closed"));
      return;
    }
    PumpLocked();
  }

  void Cancelled() { Fail(absl::CancelledError("cancelled by the client")); }

  // Core runs the start reads (Load) in turn, and ends a stream (Fail)
  // whose read the pool refused.
  friend struct Core;

  void Done() {
    std::unique_ptr<StreamRegistry::Admission> admission;
    {
      absl::MutexLock lock(&mu_);
      sink_ = nullptr;
      current_.reset();
      admission = std::move(admission_);
    }
    core_->hub.Unsubscribe(keys_.events, this);
    if (admission != nullptr && open_gauge_ != nullptr) {
      open_gauge_->Decrement();
    }
    admission.reset();  // frees the stream's place
    std::shared_ptr<Stream> self = shared_from_this();
    absl::MutexLock lock(&core_->mu);
    core_->streams.erase(self);
  }

 private:
  // Offers live changes in order; false when it started a resync.
  bool AcceptLocked(absl::Span<const SharedDelivery> deliveries)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (const SharedDelivery& delivery : deliveries) {
      switch (outbox_->Offer(delivery)) {
        case Outbox::Offered::kResync:
          if (core_->live.resyncs != nullptr) core_->live.resyncs->Increment();
          ResyncLocked();
          return false;
        case Outbox::Offered::kMerged:
          if (core_->live.coalesced != nullptr) {
            core_->live.coalesced->Increment();
          }
          break;
        default:
          break;
      }
    }
    PumpLocked();
    return true;
  }

  void ResyncLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    outbox_->Clear();
    pending_.clear();
    loading_ = true;
    LoadLocked(0);
  }

  // The session, then the start read. A storage failure is tried again
  // (RetryableStartFailure) while `deadline` lasts.
  void LookUpSession(absl::Time deadline, int tries_left) {
    core_->directory.GetSession(
        caller_.tenant_id, session_id_, deadline,
        [self = shared_from_this(), deadline,
         tries_left](absl::StatusOr<v1::Session> session) {
          if (!session.ok()) {
            if (tries_left > 0 &&
                RetryableStartFailure(session.status(), deadline)) {
              return self->LookUpSession(deadline, tries_left - 1);
            }
            return self->Fail(session.status());
          }
          self->session_ = *std::move(session);
          absl::MutexLock lock(&self->mu_);
          if (self->finished_) return;  // cancelled or shut down meanwhile
          self->loading_ = true;
          self->LoadLocked(self->after_version_);
        });
  }

  // Reads the start (snapshot, or the changes after `after`) on a Redis
  // worker, in turn with the other streams' starts (Core::QueueStart);
  // live changes meanwhile wait in pending_.
  void LoadLocked(int64_t after) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    absl::Status queued =
        core_->QueueStart({.stream = shared_from_this(),
                           .after = after,
                           .deadline = absl::Now() + kStartTimeout});
    if (!queued.ok()) FinishLocked(queued);
  }

  // The start read; a failure is returned, not applied (Core::RunStart
  // tries a transient one again).
  absl::Status Load(RedisConnection& redis, int64_t after) {
    {
      absl::MutexLock lock(&mu_);
      if (finished_) return absl::OkStatus();
    }
    if (!subscribed_) {
      // Subscribe before reading: whatever the read misses, the hub has.
      absl::StatusOr<int64_t> version = ReadFeedVersion(redis, keys_);
      if (!version.ok()) return version.status();
      absl::MutexLock lock(&mu_);
      // Checked with the subscription under one lock: a stream that ended
      // meanwhile has unsubscribed already, or will after this.
      if (finished_) return absl::OkStatus();
      core_->hub.Subscribe(keys_, *version, shared_from_this());
      subscribed_ = true;
    }
    std::vector<SharedDelivery> resumed;
    bool resuming = false;
    if (after > 0) {
      const size_t limit = core_->options.max_backlog;
      absl::StatusOr<std::vector<Change>> changes =
          ReadChangesSince(redis, keys_, after, static_cast<int>(limit));
      if (changes.ok() && changes->size() < limit) {
        resumed = ResumedDeliveries(redis, *changes);
        resuming = true;
      } else if (!changes.ok() &&
                 changes.status().code() != absl::StatusCode::kOutOfRange) {
        return changes.status();
      }
      // OUT_OF_RANGE or too far behind: a fresh snapshot.
    }
    std::optional<StreamSpec::Snapshot> snapshot;
    if (!resuming) {
      absl::StatusOr<StreamSpec::Snapshot> read =
          core_->spec.snapshot(redis, caller_, session_, view_);
      if (!read.ok()) return read.status();
      snapshot = *std::move(read);
    }
    absl::MutexLock lock(&mu_);
    if (finished_) return absl::OkStatus();
    loading_ = false;
    if (overflowed_) {
      overflowed_ = false;
      if (core_->live.resyncs != nullptr) core_->live.resyncs->Increment();
      ResyncLocked();
      return absl::OkStatus();
    }
    if (snapshot.has_value()) {
      outbox_->Restart(snapshot->version, std::move(snapshot->response));
    } else {
      outbox_->Restart(after, nullptr);
    }
    std::vector<SharedDelivery> pending;
    pending.swap(pending_);
    if (AcceptLocked(resumed)) AcceptLocked(pending);
    return absl::OkStatus();
  }

  // The changes after a resume point as deliveries. For a codec that
  // refreshes (FeedCodec::refresh), as the hub delivers them: runs of
  // coalescable changes merged (AddToCoalescedRuns), then each refresh
  // entry read once (a resume after a thousand ballots is a read per poll,
  // not a thousand).
  std::vector<SharedDelivery> ResumedDeliveries(
      RedisConnection& redis, const std::vector<Change>& changes) {
    const FeedCodec& codec = core_->spec.codec;
    std::vector<SharedDelivery> out;
    if (codec.refresh == nullptr) {
      for (const Change& change : changes) {
        out.push_back(MakeDelivery(codec.decode(change), change.version,
                                   core_->spec.wrap));
      }
      return out;
    }
    std::vector<CoalescedRun> runs;
    std::vector<CoalescedRun> ready;
    for (const Change& change : changes) {
      FeedEntry entry = codec.decode(change);
      if (AddToCoalescedRuns(codec, entry, runs, ready) != Coalesced::kNo) {
        continue;
      }
      EndCoalescedRuns(runs, ready);
      ready.push_back({std::move(entry), change.version});
    }
    EndCoalescedRuns(runs, ready);
    for (auto& [entry, first_version] : ready) {
      out.push_back(RefreshAndMakeDelivery(codec, core_->spec.wrap, redis,
                                           keys_.events, std::move(entry),
                                           first_version));
    }
    return out;
  }

  void Fail(const absl::Status& status) {
    absl::MutexLock lock(&mu_);
    FinishLocked(status);
  }

  // One write in flight; gRPC runs OnWriteDone on another thread, so
  // writing under mu_ cannot deadlock.
  void PumpLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_ || writing_ || sink_ == nullptr) return;
    current_ = outbox_->Pop();
    if (current_ == nullptr) return;
    writing_ = true;
    if (core_->live.messages_sent != nullptr) {
      core_->live.messages_sent->Increment();
    }
    sink_->WriteMessage(*current_);
  }

  void FinishLocked(const absl::Status& status)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return;
    finished_ = true;
    if (outbox_.has_value()) outbox_->Clear();
    pending_.clear();
    core_->env.rpc->LogCall(log_, status);
    if (sink_ != nullptr) sink_->FinishStream(ToGrpcStatus(status));
  }

  const std::shared_ptr<Core> core_;
  const std::string session_id_;
  const int64_t after_version_;
  // Set by Start before any other thread sees them.
  RpcRunner::CallLog log_;
  // townhall_streams_open of the caller's kind while admitted; null: off.
  prometheus::Gauge* open_gauge_ = nullptr;
  Principal caller_;
  WatchView view_;
  FeedKeys keys_;
  // Set before the first load.
  v1::Session session_;
  // Only Load touches it, and loads never overlap.
  bool subscribed_ = false;

  absl::Mutex mu_;
  // Null once the reactor is done.
  StreamSink* sink_ ABSL_GUARDED_BY(mu_);
  // The stream's place in the registry's counts.
  std::unique_ptr<StreamRegistry::Admission> admission_ ABSL_GUARDED_BY(mu_);
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool loading_ ABSL_GUARDED_BY(mu_) = false;
  bool overflowed_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<Outbox> outbox_ ABSL_GUARDED_BY(mu_);
  std::vector<SharedDelivery> pending_ ABSL_GUARDED_BY(mu_);
  SharedMessage current_ ABSL_GUARDED_BY(mu_);
};

absl::Status Core::QueueStart(Start start) {
  {
    absl::MutexLock lock(&starts_mu);
    if (starts_in_pool >= max_starts_in_pool) {
      waiting_starts.push_back(std::move(start));
      return absl::OkStatus();
    }
    ++starts_in_pool;
  }
  absl::Status submitted = SubmitStart(std::move(start));
  if (!submitted.ok()) {
    absl::MutexLock lock(&starts_mu);
    --starts_in_pool;
  }
  return submitted;
}

absl::Status Core::SubmitStart(Start start) {
  // The task holds the stream, which holds this Core.
  return env.redis->Submit(start.deadline,
                           [this, start](RedisConnection& redis) mutable {
                             RunStart(redis, start);
                             start.stream.reset();
                             StartDone();
                           });
}

void Core::RunStart(RedisConnection& redis, const Start& start) {
  absl::Status loaded = start.stream->Load(redis, start.after);
  if (RetryableStartFailure(loaded, start.deadline)) {
    loaded = start.stream->Load(redis, start.after);  // on a new connection
  }
  if (!loaded.ok()) start.stream->Fail(loaded);
}

void Core::StartDone() {
  while (true) {
    Start next;
    {
      absl::MutexLock lock(&starts_mu);
      if (waiting_starts.empty()) {
        --starts_in_pool;
        return;
      }
      next = std::move(waiting_starts.front());
      waiting_starts.pop_front();
    }
    std::shared_ptr<Stream> stream = next.stream;
    absl::Status submitted = SubmitStart(std::move(next));
    if (submitted.ok()) return;
    // Refused by the pool: that stream ends, and its place goes on.
    stream->Fail(submitted);
  }
}

std::shared_ptr<Core> NewCore(const ServiceEnv& env, StreamSpec spec,
                              FeedWatchOptions options) {
  return std::make_shared<Core>(env, std::move(spec), options);
}

void StopCore(Core& core) {
  std::vector<std::shared_ptr<Stream>> open;
  {
    absl::MutexLock lock(&core.mu);
    core.stopping = true;
    open.assign(core.streams.begin(), core.streams.end());
  }
  for (const auto& stream : open) stream->Shutdown();
  core.hub.Stop();
}

size_t OpenStreams(const Core& core) {
  absl::MutexLock lock(&core.mu);
  return core.streams.size();
}

std::shared_ptr<Stream> StartStream(const std::shared_ptr<Core>& core,
                                    StreamSink* sink,
                                    grpc::CallbackServerContext* ctx,
                                    StreamRequest request) {
  auto stream = std::make_shared<Stream>(core, sink, request);
  stream->Start(ctx, request);
  return stream;
}

void StreamWriteDone(Stream& stream, bool ok) { stream.WriteDone(ok); }
void StreamCancelled(Stream& stream) { stream.Cancelled(); }
void StreamDone(Stream& stream) { stream.Done(); }

}  // namespace townhall::feed_watch_internal

namespace townhall {

void ParseFeedData(const Change& change, absl::string_view what,
                   google::protobuf::Message* out) {
  if (change.data.empty()) return;
  absl::Status parsed = ProtoFromJson(change.data, out, what);
  if (parsed.ok()) return;
  LogError(absl::StrCat("undecodable ", what),
           {{"version", absl::StrCat(change.version)},
            {"kind", change.kind},
            {"error", std::string(parsed.message())}});
  out->Clear();
}

}  // namespace townhall
