#include "services/agenda/agenda_watch.h"

#include <google/protobuf/util/json_util.h>

#include <deque>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "services/agenda/agenda_keys.h"
#include "services/agenda/speakers_logic.h"
#include "services/common/change_feed.h"
#include "services/common/logging.h"
#include "services/common/proto_time.h"
#include "services/common/server/session_directory.h"
#include "services/common/status.h"
#include "services/common/validation.h"

namespace townhall::agenda {
namespace {

using Response = v1::WatchAgendaResponse;
using SharedResponse = std::shared_ptr<const Response>;

// How long the hub's XREAD blocks: also how soon it notices a new session
// or Stop().
constexpr int kBlockMillis = 100;
// Entries the hub takes per XREAD.
constexpr int kReadCount = 1000;
// How long a watch may take to look up its session and read its start.
constexpr absl::Duration kStartTimeout = absl::Seconds(10);

// One change, decoded once and shared by every watcher of its session.
struct Entry {
  int64_t version = 0;
  SharedResponse response;
};

// The feed entry's data is an AgendaChange without version and kind.
Entry DecodeChange(const Change& change) {
  auto response = std::make_shared<Response>();
  v1::AgendaChange* out = response->mutable_change();
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  if (!change.data.empty()) {
    auto parsed =
        google::protobuf::util::JsonStringToMessage(change.data, out, options);
    if (!parsed.ok()) {
      // Still sent (version and kind): a gap would be worse.
      LogError("undecodable agenda change",
               {{"version", absl::StrCat(change.version)},
                {"kind", change.kind},
                {"error", parsed.message().as_string()}});
      out->Clear();
    }
  }
  out->set_version(change.version);
  out->set_kind(change.kind);
  return {change.version, std::move(response)};
}

// [id, [field, value, ...]] of XREAD / XRANGE.
bool ParseStreamEntry(const RedisReply& entry, Change* change) {
  if (!entry.is_array() || entry.elements.size() != 2) return false;
  const std::string& id = entry.elements[0].str;
  if (!absl::SimpleAtoi(id.substr(0, id.find('-')), &change->version)) {
    return false;
  }
  const auto& fields = entry.elements[1].elements;
  for (size_t i = 0; i + 1 < fields.size(); i += 2) {
    if (fields[i].str == "kind") change->kind = fields[i + 1].str;
    if (fields[i].str == "id") change->entity_id = fields[i + 1].str;
    if (fields[i].str == "data") change->data = fields[i + 1].str;
  }
  return true;
}

class Watcher;

// The one reader of the watched feeds of this process.
class FeedHub {
 public:
  explicit FeedHub(RedisOptions options) : options_(std::move(options)) {
    thread_ = std::thread([this] { Loop(); });
  }
  ~FeedHub() { Stop(); }

  // Delivers the changes of `events_key` after `from_version` (or after
  // what the hub has already read, if it follows the stream already) to
  // `watcher`, from the hub's thread, in order.
  void Subscribe(const std::string& events_key, int64_t from_version,
                 std::shared_ptr<Watcher> watcher) {
    absl::MutexLock lock(&mu_);
    auto [it, inserted] = streams_.try_emplace(events_key);
    if (inserted) it->second.position = from_version;
    it->second.watchers.insert(std::move(watcher));
  }

  void Unsubscribe(const std::string& events_key, Watcher* watcher) {
    absl::MutexLock lock(&mu_);
    auto it = streams_.find(events_key);
    if (it == streams_.end()) return;
    for (auto w = it->second.watchers.begin(); w != it->second.watchers.end();
         ++w) {
      if (w->get() == watcher) {
        it->second.watchers.erase(w);
        break;
      }
    }
    if (it->second.watchers.empty()) streams_.erase(it);
  }

  void Stop() {
    {
      absl::MutexLock lock(&mu_);
      stop_ = true;
    }
    if (thread_.joinable()) thread_.join();
  }

 private:
  struct Stream {
    int64_t position = 0;  // newest version delivered
    absl::flat_hash_set<std::shared_ptr<Watcher>> watchers;
  };

  void Loop();
  void Deliver(const std::string& key, const RedisReply& entries);

  const RedisOptions options_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Stream> streams_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace

// What watchers share with the AgendaWatch that made them; kept alive by
// them, so a late callback never touches freed state.
struct AgendaWatch::Core {
  Core(const ServiceEnv& env, SnapshotReader reader, Options options)
      : env(env),
        options(options),
        reader(std::move(reader)),
        directory(env.peers, env.auth, "agenda"),
        hub(env.redis->options()) {}

  const ServiceEnv env;
  const Options options;
  const SnapshotReader reader;
  SessionDirectory directory;
  FeedHub hub;
  absl::Mutex mu;
  bool stopping ABSL_GUARDED_BY(mu) = false;
  absl::flat_hash_set<std::shared_ptr<Watcher>> watchers ABSL_GUARDED_BY(mu);
};

namespace {

class Watcher final : public grpc::ServerWriteReactor<Response>,
                      public std::enable_shared_from_this<Watcher> {
 public:
  Watcher(std::shared_ptr<AgendaWatch::Core> core,
          const v1::WatchAgendaRequest& request)
      : core_(std::move(core)),
        session_id_(request.session_id()),
        after_version_(request.after_version()) {}

  // Authorizes, then looks the session up and starts the first read.
  void Start(grpc::CallbackServerContext* ctx,
             const v1::WatchAgendaRequest& request) {
    {
      // Registered first: the registry keeps it alive until OnDone.
      absl::MutexLock lock(&core_->mu);
      core_->watchers.insert(shared_from_this());
      if (core_->stopping) {
        absl::MutexLock self(&mu_);
        FinishLocked(absl::UnavailableError("the server is shutting down"));
        return;
      }
    }
    absl::StatusOr<Principal> caller = core_->env.rpc->Authorize(
        ctx, TH_METHOD(AgendaService, WatchAgenda), request, &log_);
    absl::Status valid = caller.status();
    if (valid.ok()) valid = ValidateId("session_id", session_id_);
    if (valid.ok() && after_version_ < 0) {
      valid = InvalidField("after_version", "must not be negative");
    }
    if (!valid.ok()) {
      absl::MutexLock lock(&mu_);
      FinishLocked(valid);
      return;
    }
    tenant_id_ = caller->tenant_id;
    // Members (not the session's runners) see only their own topic
    // proposals, as in ListTopicProposals.
    if (caller->is_session_scoped() &&
        caller->role != Role::kSessionOrganizer &&
        caller->role != Role::kModerator) {
      own_proposals_of_ = caller->participant_id;
    }
    keys_ = AgendaFeedKeys(tenant_id_, session_id_);
    core_->directory.GetSession(
        tenant_id_, session_id_, absl::Now() + kStartTimeout,
        [self = shared_from_this()](absl::StatusOr<v1::Session> session) {
          if (!session.ok()) {
            absl::MutexLock lock(&self->mu_);
            self->FinishLocked(session.status());
            return;
          }
          self->session_ = *std::move(session);
          absl::MutexLock lock(&self->mu_);
          if (self->finished_) return;  // cancelled or shut down meanwhile
          self->loading_ = true;
          self->LoadLocked(self->after_version_);
        });
  }

  // From the hub's thread: changes of the session, in order.
  void OnChanges(const std::vector<Entry>& entries) {
    absl::MutexLock lock(&mu_);
    if (finished_) return;
    if (loading_) {
      pending_.insert(pending_.end(), entries.begin(), entries.end());
      if (pending_.size() > core_->options.max_backlog) {
        // The read in progress is already stale: read again after it.
        pending_.clear();
        overflowed_ = true;
      }
      return;
    }
    for (const Entry& entry : entries) {
      if (!AcceptLocked(entry)) break;
    }
  }

  void Shutdown() {
    absl::MutexLock lock(&mu_);
    FinishLocked(absl::UnavailableError("the server is shutting down"));
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    current_.reset();
    if (!ok) {
      FinishLocked(absl::CancelledError("the stream was closed"));
      return;
    }
    PumpLocked();
  }

  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    FinishLocked(absl::CancelledError("cancelled by the client"));
  }

  void OnDone() override {
    std::shared_ptr<Watcher> self = shared_from_this();
    core_->hub.Unsubscribe(keys_.events, this);
    absl::MutexLock lock(&core_->mu);
    core_->watchers.erase(self);
    // `self` may be the last reference: nothing follows.
  }

 private:
  // Takes one live change; false when it started a resync.
  bool AcceptLocked(const Entry& entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (entry.version <= sent_version_) return true;  // already covered
    if (entry.version != sent_version_ + 1 ||
        out_.size() >= core_->options.max_backlog) {
      // A gap (the hub lost entries) or a slow client: start over.
      ResyncLocked();
      return false;
    }
    if (VisibleLocked(*entry.response)) out_.push_back(entry.response);
    sent_version_ = entry.version;
    PumpLocked();
    return true;
  }

  // Another member's topic proposal is not this watcher's business: its
  // version is skipped (versions may jump for members).
  bool VisibleLocked(const Response& response) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return own_proposals_of_.empty() || !response.has_change() ||
           !response.change().has_proposal() ||
           response.change().proposal().participant_id() == own_proposals_of_;
  }

  void ResyncLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    out_.clear();
    pending_.clear();
    loading_ = true;
    LoadLocked(0);
  }

  // Reads the start (snapshot, or the changes after `after`) on a Redis
  // worker; live changes meanwhile wait in pending_.
  void LoadLocked(int64_t after) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    absl::Status submitted = core_->env.redis->Submit(
        absl::Now() + kStartTimeout,
        [self = shared_from_this(), after](RedisConnection& redis) {
          self->Load(redis, after);
        });
    if (!submitted.ok()) FinishLocked(submitted);
  }

  void Load(RedisConnection& redis, int64_t after) {
    {
      absl::MutexLock lock(&mu_);
      if (finished_) return;
    }
    if (!subscribed_) {
      // Subscribe before reading: whatever the read misses, the hub has.
      absl::StatusOr<int64_t> version = ReadFeedVersion(redis, keys_);
      if (!version.ok()) return Fail(version.status());
      core_->hub.Subscribe(keys_.events, *version, shared_from_this());
      subscribed_ = true;
    }
    std::vector<SharedResponse> start;
    int64_t version = 0;
    bool resumed = false;
    if (after > 0) {
      absl::StatusOr<std::vector<Change>> changes = ReadChangesSince(
          redis, keys_, after, static_cast<int>(core_->options.max_backlog));
      if (changes.ok() && changes->size() < core_->options.max_backlog) {
        version = after;
        for (const Change& change : *changes) {
          Entry entry = DecodeChange(change);
          version = entry.version;
          start.push_back(std::move(entry.response));
        }
        resumed = true;
      } else if (!changes.ok() &&
                 changes.status().code() != absl::StatusCode::kOutOfRange) {
        return Fail(changes.status());
      }
      // OUT_OF_RANGE or too far behind: a fresh snapshot.
    }
    if (!resumed) {
      absl::StatusOr<v1::AgendaSnapshot> snapshot =
          core_->reader(redis, tenant_id_, session_);
      if (!snapshot.ok()) return Fail(snapshot.status());
      snapshot->set_session_id(session_id_);
      if (!snapshot->active_item_id().empty()) {
        absl::StatusOr<v1::SpeakersQueue> queue = ReadSpeakersQueue(
            redis, tenant_id_, session_id_, snapshot->active_item_id());
        if (queue.ok()) {
          *snapshot->mutable_speakers_queue() = *std::move(queue);
        } else if (queue.status().code() != absl::StatusCode::kNotFound) {
          return Fail(queue.status());
        }
      }
      SetTime(absl::Now(), snapshot->mutable_server_time());
      version = snapshot->version();
      auto response = std::make_shared<Response>();
      *response->mutable_snapshot() = *std::move(snapshot);
      start.push_back(std::move(response));
    }
    absl::MutexLock lock(&mu_);
    if (finished_) return;
    for (SharedResponse& message : start) {
      if (VisibleLocked(*message)) out_.push_back(std::move(message));
    }
    sent_version_ = version;
    loading_ = false;
    std::deque<Entry> pending;
    pending.swap(pending_);
    if (overflowed_) {
      overflowed_ = false;
      ResyncLocked();
      PumpLocked();
      return;
    }
    PumpLocked();
    for (const Entry& entry : pending) {
      if (!AcceptLocked(entry)) break;
    }
  }

  void Fail(const absl::Status& status) {
    absl::MutexLock lock(&mu_);
    FinishLocked(status);
  }

  // One write in flight; gRPC runs OnWriteDone on another thread, so
  // writing under mu_ cannot deadlock.
  void PumpLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_ || writing_ || out_.empty()) return;
    current_ = std::move(out_.front());
    out_.pop_front();
    writing_ = true;
    StartWrite(current_.get());
  }

  void FinishLocked(const absl::Status& status)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return;
    finished_ = true;
    out_.clear();
    pending_.clear();
    core_->env.rpc->LogCall(log_, status);
    Finish(ToGrpcStatus(status));
  }

  const std::shared_ptr<AgendaWatch::Core> core_;
  const std::string session_id_;
  const int64_t after_version_;
  // Set by Start before any other thread sees them.
  RpcRunner::CallLog log_;
  std::string tenant_id_;
  // Set for members: the participant whose proposals they may see.
  std::string own_proposals_of_;
  FeedKeys keys_;
  v1::Session session_;
  // Only Load touches it, and loads never overlap.
  bool subscribed_ = false;

  absl::Mutex mu_;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool loading_ ABSL_GUARDED_BY(mu_) = false;
  bool overflowed_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  int64_t sent_version_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<Entry> pending_ ABSL_GUARDED_BY(mu_);
  std::deque<SharedResponse> out_ ABSL_GUARDED_BY(mu_);
  SharedResponse current_ ABSL_GUARDED_BY(mu_);
};

void FeedHub::Loop() {
  RedisConnection redis(options_);
  while (true) {
    std::vector<std::string> argv = {"XREAD",
                                     "COUNT",
                                     absl::StrCat(kReadCount),
                                     "BLOCK",
                                     absl::StrCat(kBlockMillis),
                                     "STREAMS"};
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
    redis.set_deadline(absl::Now() + absl::Milliseconds(kBlockMillis) +
                       options_.command_timeout);
    absl::StatusOr<RedisReply> reply = redis.Command(argv);
    if (!reply.ok() || reply->type == RedisReply::Type::kError) {
      LogWarning(
          "agenda feed hub: XREAD failed",
          {{"error", reply.ok() ? reply->str : reply.status().ToString()}});
      absl::MutexLock lock(&mu_);
      auto stopped = [this]()
                         ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_; };
      mu_.AwaitWithTimeout(absl::Condition(&stopped), absl::Milliseconds(200));
      continue;
    }
    if (!reply->is_array()) continue;  // nil: nothing new
    for (const RedisReply& stream : reply->elements) {
      if (!stream.is_array() || stream.elements.size() != 2) continue;
      Deliver(stream.elements[0].str, stream.elements[1]);
    }
  }
}

void FeedHub::Deliver(const std::string& key, const RedisReply& entries) {
  std::vector<Entry> decoded;
  for (const RedisReply& raw : entries.elements) {
    Change change;
    if (ParseStreamEntry(raw, &change)) decoded.push_back(DecodeChange(change));
  }
  std::vector<std::shared_ptr<Watcher>> watchers;
  {
    absl::MutexLock lock(&mu_);
    auto it = streams_.find(key);
    if (it == streams_.end()) return;
    std::vector<Entry> fresh;
    for (Entry& entry : decoded) {
      if (entry.version > it->second.position) fresh.push_back(entry);
    }
    if (fresh.empty()) return;
    decoded.swap(fresh);
    it->second.position = decoded.back().version;
    watchers.assign(it->second.watchers.begin(), it->second.watchers.end());
  }
  for (const auto& watcher : watchers) watcher->OnChanges(decoded);
}

}  // namespace

AgendaWatch::AgendaWatch(const ServiceEnv& env, SnapshotReader snapshot_reader,
                         Options options)
    : core_(std::make_shared<Core>(env, std::move(snapshot_reader), options)) {}

AgendaWatch::~AgendaWatch() { Stop(); }

grpc::ServerWriteReactor<v1::WatchAgendaResponse>* AgendaWatch::Watch(
    grpc::CallbackServerContext* ctx, const v1::WatchAgendaRequest* request) {
  auto watcher = std::make_shared<Watcher>(core_, *request);
  watcher->Start(ctx, *request);
  // Core keeps it alive until OnDone.
  return watcher.get();
}

void AgendaWatch::Stop() {
  std::vector<std::shared_ptr<Watcher>> open;
  {
    absl::MutexLock lock(&core_->mu);
    core_->stopping = true;
    open.assign(core_->watchers.begin(), core_->watchers.end());
  }
  for (const auto& watcher : open) watcher->Shutdown();
  core_->hub.Stop();
}

}  // namespace townhall::agenda
