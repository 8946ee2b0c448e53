#include "services/common/server/feed_hub.h"

#include <algorithm>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/logging.h"

namespace townhall::feed_watch_internal {
namespace {

// How long the hub's XREAD blocks: also how soon it notices a new feed or
// Stop().
constexpr absl::Duration kBlock = absl::Milliseconds(100);
// While a coalesced run is held, the hub polls (XREAD without BLOCK) this
// often instead: Redis times a BLOCK out only every 1000/hz ms (100 ms at
// the default hz 10), far too coarse to send the run on time.
constexpr absl::Duration kHeldPoll = absl::Milliseconds(5);
// How long the hub waits after a failed XREAD.
constexpr absl::Duration kHubRetryDelay = absl::Milliseconds(200);
// Entries the hub takes per XREAD.
constexpr int kHubReadCount = 1000;
// How often the hub reads its feeds' heads for the lag metric.
constexpr absl::Duration kLagCheckInterval = absl::Seconds(1);

}  // namespace

SharedDelivery MakeDelivery(FeedEntry entry, int64_t first_version,
                            const WrapFn& wrap) {
  auto delivery = std::make_shared<Delivery>();
  delivery->first_version = first_version;
  if (entry.full != nullptr) delivery->full_response = wrap(*entry.full);
  if (entry.restricted == entry.full) {
    delivery->restricted_response = delivery->full_response;
  } else if (entry.restricted != nullptr) {
    delivery->restricted_response = wrap(*entry.restricted);
  }
  delivery->owned_response =
      entry.owned == nullptr ? delivery->full_response : wrap(*entry.owned);
  delivery->entry = std::move(entry);
  return delivery;
}

FeedHub::FeedHub(RedisOptions redis, FeedCodec codec, WrapFn wrap,
                 Options options)
    : redis_options_(std::move(redis)),
      codec_(std::move(codec)),
      wrap_(std::move(wrap)),
      options_(std::move(options)) {
  if (ScrapeTimeMetrics* metrics = options_.live.scrape_time) {
    lag_metric_ = metrics->Add(
        {.name = "townhall_feed_hub_lag_seconds",
         .help = "How long ago the feed hub had last read every change "
                 "committed to the feeds it follows, by service",
         .labels = {{"service", options_.live.service}},
         .value = [this] { return LagSeconds(); }});
  }
  thread_ = std::thread([this] { Loop(); });
}

FeedHub::~FeedHub() {
  if (options_.live.scrape_time != nullptr) {
    options_.live.scrape_time->Remove(lag_metric_);
  }
  Stop();
}

void FeedHub::Subscribe(const FeedKeys& keys, int64_t from_version,
                        std::shared_ptr<FeedSubscriber> subscriber) {
  absl::MutexLock lock(&mu_);
  // An idle hub has nothing to catch up with: its lag starts now.
  if (streams_.empty()) caught_up_ = absl::Now();
  auto [it, inserted] = streams_.try_emplace(keys.events);
  if (inserted) {
    it->second.position = from_version;
    it->second.version_key = keys.version;
  }
  if (it->second.subscribers.insert(std::move(subscriber)).second) {
    ++subscriber_count_;
  }
}

absl::Duration FeedHub::CoalesceWindowLocked() const {
  if (options_.coalesced_writes_per_second <= 0) {
    return options_.coalesce_window;
  }
  // A merged run costs one write per subscriber, on the same cores that
  // answer the calls making the changes: at 5,000 watchers and a quarter
  // second, votes fell to a twentieth of their rate. Spacing the runs keeps
  // that work bounded however many watch.
  return std::max(options_.coalesce_window,
                  absl::Seconds(static_cast<double>(subscriber_count_) /
                                options_.coalesced_writes_per_second));
}

double FeedHub::LagSeconds() {
  absl::MutexLock lock(&mu_);
  if (streams_.empty()) return 0;
  return absl::ToDoubleSeconds(absl::Now() - caught_up_);
}

void FeedHub::CheckLag(RedisConnection& redis) {
  std::vector<std::string> events;
  std::vector<std::vector<std::string>> gets;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [key, stream] : streams_) {
      events.push_back(key);
      gets.push_back({"GET", stream.version_key});
    }
  }
  if (gets.empty()) {
    options_.live.hub_lag_versions->Set(0);
    return;
  }
  absl::StatusOr<std::vector<RedisReply>> heads = redis.Pipeline(gets);
  if (!heads.ok()) return;  // the gauge keeps its last value
  int64_t behind = 0;
  absl::MutexLock lock(&mu_);
  for (size_t i = 0; i < events.size(); ++i) {
    auto it = streams_.find(events[i]);
    int64_t head = 0;
    if (it == streams_.end() || (*heads)[i].type != RedisReply::Type::kString ||
        !absl::SimpleAtoi((*heads)[i].str, &head)) {
      continue;
    }
    behind = std::max(behind, head - it->second.position);
  }
  options_.live.hub_lag_versions->Set(static_cast<double>(behind));
}

void FeedHub::Unsubscribe(const std::string& events_key,
                          FeedSubscriber* subscriber) {
  absl::MutexLock lock(&mu_);
  auto it = streams_.find(events_key);
  if (it == streams_.end()) return;
  auto& subscribers = it->second.subscribers;
  // Abseil's pointer hashing finds a shared_ptr by its raw pointer: a hash
  // lookup, not a scan (a scan made closing 20,000 streams quadratic, under
  // the lock the hub delivers with).
  auto found = subscribers.find(subscriber);
  if (found != subscribers.end()) {
    subscribers.erase(found);
    --subscriber_count_;
  }
  if (subscribers.empty()) streams_.erase(it);
}

void FeedHub::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void FeedHub::Loop() {
  RedisConnection redis(redis_options_);
  absl::Time next_lag_check = absl::Now();
  auto stopped = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_; };
  while (true) {
    const absl::Time next_flush = FlushDue(redis, absl::Now());
    const bool holding = next_flush != absl::InfiniteFuture();
    std::vector<std::string> argv = {"XREAD", "COUNT",
                                     absl::StrCat(kHubReadCount)};
    if (!holding) {
      argv.insert(argv.end(),
                  {"BLOCK", absl::StrCat(absl::ToInt64Milliseconds(kBlock))});
    }
    argv.push_back("STREAMS");
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stop_ || !streams_.empty();
      };
      mu_.Await(absl::Condition(&ready));
      if (stop_) return;
      std::vector<std::string> ids;
      for (const auto& [key, stream] : streams_) {
        argv.push_back(key);
        ids.push_back(absl::StrCat(stream.position, "-0"));
      }
      argv.insert(argv.end(), ids.begin(), ids.end());
    }
    redis.set_deadline(absl::Now() + (holding ? absl::ZeroDuration() : kBlock) +
                       redis_options_.command_timeout);
    absl::StatusOr<RedisReply> reply = redis.Command(argv);
    if (!reply.ok() || reply->type == RedisReply::Type::kError) {
      LogWarning(
          absl::StrCat(options_.name, " feed hub: XREAD failed"),
          {{"error", reply.ok() ? reply->str : reply.status().ToString()}});
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stopped),
                           std::clamp(next_flush - absl::Now(),
                                      absl::ZeroDuration(), kHubRetryDelay));
      continue;
    }
    const absl::Time read_at = absl::Now();
    bool complete = true;  // every stream read to its end
    if (reply->is_array()) {
      for (const RedisReply& stream : reply->elements) {
        if (stream.is_array() && stream.elements.size() == 2 &&
            stream.elements[1].elements.size() >=
                static_cast<size_t>(kHubReadCount)) {
          complete = false;
        }
      }
    }
    if (options_.live.hub_lag_versions != nullptr) {
      if (complete) {
        // The read took every change up to when Redis answered it (a
        // round trip before read_at).
        absl::MutexLock lock(&mu_);
        caught_up_ = read_at;
      }
      if (read_at >= next_lag_check) {
        CheckLag(redis);
        next_lag_check = read_at + kLagCheckInterval;
      }
    }
    if (!reply->is_array()) {
      // Nothing new. While a run is held, wait for the next poll (or the
      // run's time) here, where Stop() can end the wait.
      if (holding) {
        absl::MutexLock lock(&mu_);
        mu_.AwaitWithTimeout(absl::Condition(&stopped),
                             std::clamp(next_flush - absl::Now(),
                                        absl::ZeroDuration(), kHeldPoll));
      }
      continue;
    }
    for (const RedisReply& stream : reply->elements) {
      if (!stream.is_array() || stream.elements.size() != 2) continue;
      Deliver(redis, stream.elements[0].str, stream.elements[1]);
    }
  }
}

SharedDelivery RefreshAndMakeDelivery(const FeedCodec& codec,
                                      const WrapFn& wrap,
                                      RedisConnection& redis,
                                      absl::string_view events_key,
                                      FeedEntry entry, int64_t first_version) {
  if (entry.refresh && codec.refresh != nullptr) {
    absl::Status refreshed = codec.refresh(redis, events_key, entry);
    if (!refreshed.ok()) {
      LogWarning("feed: refresh of a change failed",
                 {{"feed", std::string(events_key)},
                  {"version", absl::StrCat(entry.version)},
                  {"error", refreshed.ToString()}});
    }
  }
  return MakeDelivery(std::move(entry), first_version, wrap);
}

Coalesced AddToCoalescedRuns(const FeedCodec& codec, FeedEntry& entry,
                             std::vector<CoalescedRun>& runs,
                             std::vector<CoalescedRun>& out) {
  if (!entry.coalescable || codec.merge == nullptr) return Coalesced::kNo;
  // Only runs of one scope merge: a watcher of another scope must be able
  // to skip the whole merged entry. Unless the codec lets scopes pass each
  // other, another scope's entry ends the run.
  CoalescedRun* same = nullptr;
  if (codec.merge_across_scopes) {
    for (CoalescedRun& run : runs) {
      if (run.entry.scope == entry.scope) same = &run;
    }
  } else if (!runs.empty()) {
    if (runs.back().entry.scope == entry.scope) {
      same = &runs.back();
    } else {
      EndCoalescedRuns(runs, out);
    }
  }
  if (same != nullptr) {
    same->entry = codec.merge(same->entry, entry);
    return Coalesced::kMerged;
  }
  const int64_t version = entry.version;
  runs.push_back({std::move(entry), version});
  return Coalesced::kStarted;
}

void EndCoalescedRuns(std::vector<CoalescedRun>& runs,
                      std::vector<CoalescedRun>& out) {
  if (runs.empty()) return;
  int64_t first = runs.front().first_version;
  for (const CoalescedRun& run : runs) {
    first = std::min(first, run.first_version);
  }
  std::sort(runs.begin(), runs.end(),
            [](const CoalescedRun& a, const CoalescedRun& b) {
              return a.entry.version < b.entry.version;
            });
  for (CoalescedRun& run : runs) {
    run.first_version = first;
    first = run.entry.version + 1;
    out.push_back(std::move(run));
  }
  runs.clear();
}

void FeedHub::Deliver(RedisConnection& redis, const std::string& key,
                      const RedisReply& entries) {
  // Decoded outside the lock: Subscribe and Unsubscribe need not wait.
  std::vector<FeedEntry> decoded;
  for (const RedisReply& raw : entries.elements) {
    absl::StatusOr<Change> change = ParseFeedEntry(raw);
    if (change.ok()) decoded.push_back(codec_.decode(*change));
  }
  const absl::Time now = absl::Now();
  std::vector<Run> out;
  Batch batch;
  {
    absl::MutexLock lock(&mu_);
    auto it = streams_.find(key);
    if (it == streams_.end()) return;
    Stream& stream = it->second;
    // The runs being merged: start with the held ones, so that they stay
    // before the changes after them.
    std::vector<Run> runs = std::move(stream.held);
    stream.held.clear();
    auto end_runs = [&] {
      if (runs.empty()) return;
      EndCoalescedRuns(runs, out);
      stream.last_coalesced = now;
    };
    for (FeedEntry& entry : decoded) {
      if (entry.version <= stream.position) continue;  // read already
      stream.position = entry.version;
      const size_t ended = out.size();
      const Coalesced added = AddToCoalescedRuns(codec_, entry, runs, out);
      if (added != Coalesced::kNo) {
        if (out.size() > ended) stream.last_coalesced = now;
        if (added == Coalesced::kMerged && options_.live.coalesced != nullptr) {
          options_.live.coalesced->Increment();
        }
        continue;
      }
      end_runs();
      const int64_t version = entry.version;
      out.push_back({std::move(entry), version});
    }
    if (!runs.empty()) {
      if (now - stream.last_coalesced >= CoalesceWindowLocked()) {
        end_runs();
      } else {
        stream.held = std::move(runs);
      }
    }
    if (out.empty()) return;
    batch.subscribers.assign(stream.subscribers.begin(),
                             stream.subscribers.end());
  }
  for (Run& run : out) {
    batch.deliveries.push_back(
        Prepare(redis, key, std::move(run.entry), run.first_version));
  }
  Send({std::move(batch)});
}

SharedDelivery FeedHub::Prepare(RedisConnection& redis, absl::string_view key,
                                FeedEntry entry, int64_t first_version) {
  if (entry.refresh) {
    redis.set_deadline(absl::Now() + redis_options_.command_timeout);
  }
  return RefreshAndMakeDelivery(codec_, wrap_, redis, key, std::move(entry),
                                first_version);
}

absl::Time FeedHub::FlushDue(RedisConnection& redis, absl::Time now) {
  absl::Time next = absl::InfiniteFuture();
  std::vector<std::string> keys;
  std::vector<std::vector<Run>> due;
  std::vector<Batch> batches;
  {
    absl::MutexLock lock(&mu_);
    const absl::Duration window = CoalesceWindowLocked();
    for (auto& [key, stream] : streams_) {
      if (stream.held.empty()) continue;
      const absl::Time at = stream.last_coalesced + window;
      if (at > now) {
        next = std::min(next, at);
        continue;
      }
      keys.push_back(key);
      EndCoalescedRuns(stream.held, due.emplace_back());
      stream.last_coalesced = now;
      batches.emplace_back().subscribers.assign(stream.subscribers.begin(),
                                                stream.subscribers.end());
    }
  }
  for (size_t i = 0; i < due.size(); ++i) {
    for (Run& run : due[i]) {
      batches[i].deliveries.push_back(
          Prepare(redis, keys[i], std::move(run.entry), run.first_version));
    }
  }
  Send(batches);
  return next;
}

void FeedHub::Send(const std::vector<Batch>& batches) {
  for (const Batch& batch : batches) {
    for (const auto& subscriber : batch.subscribers) {
      subscriber->OnDeliveries(batch.deliveries);
    }
  }
}

Outbox::Outbox(WatchView view, const FeedCodec* codec, const WrapFn* wrap,
               size_t max_backlog)
    : view_(std::move(view)),
      codec_(codec),
      wrap_(wrap),
      max_backlog_(max_backlog) {}

void Outbox::Restart(int64_t version, SharedMessage first) {
  waiting_.clear();
  version_ = version;
  if (first != nullptr) waiting_.push_back({std::move(first), nullptr});
}

Outbox::Offered Outbox::Offer(const SharedDelivery& delivery) {
  if (delivery->entry.version <= version_) return Offered::kSkipped;
  if (delivery->first_version > version_ + 1 ||
      waiting_.size() >= max_backlog_) {
    // A gap (the hub lost entries) or a slow client.
    return Offered::kResync;
  }
  // Counted as sent even when not this view's to see: versions may jump.
  version_ = delivery->entry.version;
  SharedMessage message = Pick(*delivery);
  if (message == nullptr) return Offered::kSkipped;
  if (delivery->entry.coalescable && codec_->merge != nullptr &&
      !waiting_.empty() && waiting_.back().coalescable != nullptr &&
      waiting_.back().coalescable->entry.scope == delivery->entry.scope) {
    const Delivery& older = *waiting_.back().coalescable;
    SharedDelivery merged =
        MakeDelivery(codec_->merge(older.entry, delivery->entry),
                     older.first_version, *wrap_);
    SharedMessage merged_message = Pick(*merged);
    // A merge this view may not see is not sent: both go as they are.
    if (merged_message != nullptr) {
      waiting_.back() = {std::move(merged_message), std::move(merged)};
      return Offered::kMerged;
    }
  }
  waiting_.push_back(
      {std::move(message), delivery->entry.coalescable ? delivery : nullptr});
  return Offered::kQueued;
}

SharedMessage Outbox::Pop() {
  if (waiting_.empty()) return nullptr;
  SharedMessage next = std::move(waiting_.front().message);
  waiting_.pop_front();
  return next;
}

void Outbox::Clear() { waiting_.clear(); }

SharedMessage Outbox::Pick(const Delivery& delivery) const {
  const FeedEntry& entry = delivery.entry;
  if (!view_.scope.empty() && !entry.scope.empty() &&
      entry.scope != view_.scope) {
    return nullptr;
  }
  if (view_.privileged) return delivery.full_response;
  if (!view_.participant_id.empty() && entry.owner == view_.participant_id) {
    return delivery.owned_response;
  }
  return delivery.restricted_response;
}

}  // namespace townhall::feed_watch_internal
