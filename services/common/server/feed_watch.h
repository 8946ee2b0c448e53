// FeedWatch: the server-streaming "snapshot, then every change" RPCs
// (WatchAgenda, WatchQueue, WatchPolls) over a session's change feed
// (change_feed.h).
//
//   FeedWatch<v1::WatchQueueRequest, v1::WatchQueueResponse> watch(env, spec);
//   grpc::ServerWriteReactor<v1::WatchQueueResponse>* WatchQueue(
//       grpc::CallbackServerContext* ctx,
//       const v1::WatchQueueRequest* request) override {
//     return watch.Watch(ctx, request);
//   }
//
// What it guarantees, for every service that uses it:
//   - the first message is a snapshot carrying its feed version; then every
//     change after it, in version order, with no gap and no duplicate, also
//     across processes (the feed is written by the same script as the
//     change);
//   - a resume with `after_version` sends exactly the changes after it, or a
//     fresh snapshot when the feed no longer holds them;
//   - one reader per FeedWatch (per service and process; FeedHub in
//     feed_hub.h) follows every watched feed with one multi-key XREAD BLOCK
//     and decodes each change once (FeedCodec), or, for a feed that holds
//     only what changed, reads it once when delivering it
//     (FeedCodec::refresh: WatchPolls); the messages are shared by every
//     watcher;
//   - one write in flight per watcher; a watcher more than `max_backlog`
//     messages behind starts over with a fresh snapshot instead of growing;
//   - coalescable changes (vote counts) are merged: in the hub, runs of them
//     are held for up to `coalesce_window` and sent as one message (shared
//     by all watchers), and a slow watcher merges them again in its backlog;
//   - every stream is counted by the process's StreamRegistry
//     (stream_registry.h): RESOURCE_EXHAUSTED beyond its caps (per process,
//     per participant, API key or organizer), and ended when its caller's
//     token expires or is revoked (UNAUTHENTICATED) or its lifetime is
//     over (UNAVAILABLE; clients resume with `after_version`);
//   - Stop() finishes every open stream with UNAVAILABLE (server shutdown).
// Snapshot and resume reads run on RedisPool workers, never on gRPC
// callback threads.
#pragma once

#include <google/protobuf/message.h>
#include <grpcpp/grpcpp.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/common/auth/principal.h"
#include "services/common/change_feed.h"
#include "services/common/redis/redis_connection.h"
#include "services/common/server/service_module.h"
#include "townhall/v1/scheduling.pb.h"

namespace townhall {

// One feed change as watchers receive it: decoded once, shared.
struct FeedEntry {
  int64_t version = 0;
  // The change as privileged watchers (organizers, moderators) see it: the
  // service's `change` message (e.g. v1::AgendaChange).
  std::shared_ptr<const google::protobuf::Message> full;
  // The change as everyone else sees it (redacted); null when it is not
  // theirs to see (then only `owner` and privileged watchers get it).
  std::shared_ptr<const google::protobuf::Message> restricted;
  // The participant who gets `owned` although not privileged (the proposer
  // of a topic, the author of a question); "" for none.
  std::string owner;
  // The change as `owner` sees it; null: `full`.
  std::shared_ptr<const google::protobuf::Message> owned;
  // Non-empty: the change concerns only this sub-scope (an agenda item);
  // watchers that asked for another sub-scope skip it.
  std::string scope;
  // A vote count or the like: may be merged with a neighbouring coalescable
  // entry (FeedCodec::merge).
  bool coalescable = false;
  // The messages are read from Redis when the entry is delivered
  // (FeedCodec::refresh), not decoded from the feed.
  bool refresh = false;
};

// How a service turns its feed entries into messages.
struct FeedCodec {
  // Decodes one change. Must not fail: an undecodable change still gets an
  // entry (with version and kind), since a gap would be worse.
  std::function<FeedEntry(const Change& change)> decode;
  // Merges two coalescable entries, `older` before `newer`, into one with
  // newer's version. Null: nothing is coalesced. The result must say the
  // state after `newer` (counts, not increments): a watcher whose snapshot
  // is newer than `older` may still get the merged entry. Only entries of
  // one scope are merged (so a watcher of another scope skips them whole);
  // the result's owner and restricted decide who sees it.
  std::function<FeedEntry(const FeedEntry& older, const FeedEntry& newer)>
      merge;
  // Coalescable entries of different scopes may pass each other: runs of
  // one scope merge although other scopes' entries come between (ballots
  // in several polls at once), and the merged runs go out newest last.
  // Only for entries that each say the whole state of their scope.
  bool merge_across_scopes = false;
  // Null, or fills in an entry marked `refresh` from Redis: for feeds that
  // must not hold what they announce (a poll's tally: poll_watch.h). Runs
  // on the hub's thread and connection once per delivered (merged) entry,
  // so it says the state when delivered, at or after the entry's version.
  // `events_key` is the feed's. On failure the entry goes as decoded.
  std::function<absl::Status(RedisConnection& redis,
                             absl::string_view events_key, FeedEntry& entry)>
      refresh;
};

// Parses a feed entry's data (the service's change message as JSON, without
// version and kind) into `out`. Never fails: undecodable data is logged and
// leaves `out` empty, since a change sent with only its version and kind is
// better than a gap. `what` names the message in the log.
void ParseFeedData(const Change& change, absl::string_view what,
                   google::protobuf::Message* out);

// Decodes one feed change into the service's change message (e.g.
// DecodeFeedChange<v1::AgendaChange>(change, "agenda change")), with the
// feed's version and kind set; a FeedCodec::decode starts here.
template <typename ChangeMessage>
std::shared_ptr<ChangeMessage> DecodeFeedChange(const Change& change,
                                                absl::string_view what) {
  auto decoded = std::make_shared<ChangeMessage>();
  ParseFeedData(change, what, decoded.get());
  decoded->set_version(change.version);
  decoded->set_kind(change.kind);
  return decoded;
}

// What one watcher may see; decided once, when the stream starts.
struct WatchView {
  // Sees FeedEntry::full of every change.
  bool privileged = false;
  // Gets `full` of entries it owns (a join token's participant).
  std::string participant_id;
  // Non-empty: only entries of this scope (and unscoped ones).
  std::string scope;
};

// What a service supplies. `Request` has `session_id` and `after_version`;
// `Response` has `oneof event { Snapshot snapshot = 1; Change change = 2; }`.
template <typename Request, typename Response>
struct FeedWatchSpec {
  // gRPC path for the access table and the log (TH_METHOD(...)).
  std::string method;
  // "agenda": names the service in its SessionDirectory tokens.
  std::string service;
  // The feed of one session.
  std::function<FeedKeys(absl::string_view tenant_id,
                         absl::string_view session_id)>
      feed_keys;
  FeedCodec codec;
  // The view of an authorized caller; an error refuses the stream (e.g.
  // INVALID_ARGUMENT for a bad request field).
  std::function<absl::StatusOr<WatchView>(const Principal& caller,
                                          const Request& request)>
      view;
  // Reads the snapshot for `view` (a Response with `snapshot` set, whose
  // version is read atomically with the state) on a Redis worker.
  std::function<absl::StatusOr<Response>(
      RedisConnection& redis, const Principal& caller,
      const v1::Session& session, const WatchView& view)>
      snapshot;
  // The snapshot's version is its `snapshot.version`, and a change message
  // (FeedEntry::full or ::restricted) is sent as the Response's `change`.
};

struct FeedWatchOptions {
  // Messages a watcher may have waiting before it starts over.
  size_t max_backlog = 1000;
  // How long the hub holds a run of coalescable changes (0: never holds;
  // runs within one read are still merged).
  absl::Duration coalesce_window = absl::ZeroDuration();
  // At most this many merged (coalescable) messages a second to all of the
  // hub's watchers together: with more watchers than this times
  // `coalesce_window`, runs are held longer (20,000 watchers: 4 s). 0: no
  // budget. Changes that do not coalesce are never held. Per service and
  // process; docs/operations.md, "Question queues".
  int coalesced_writes_per_second = 5000;
};

namespace feed_watch_internal {

using SharedMessage = std::shared_ptr<const google::protobuf::Message>;
// Wraps a change message (FeedEntry::full or ::restricted) in a Response.
using WrapFn = std::function<SharedMessage(const google::protobuf::Message&)>;

// FeedWatchSpec without its Request and Response types (feed_watch.cc is
// not a template).
struct StreamSpec {
  std::string method;
  std::string service;
  std::function<FeedKeys(absl::string_view tenant_id,
                         absl::string_view session_id)>
      feed_keys;
  FeedCodec codec;
  struct Snapshot {
    SharedMessage response;
    int64_t version = 0;
  };
  std::function<absl::StatusOr<Snapshot>(
      RedisConnection& redis, const Principal& caller,
      const v1::Session& session, const WatchView& view)>
      snapshot;
  WrapFn wrap;
};

// What a Stream needs of its gRPC reactor. Called only under the stream's
// lock, never after the reactor's OnDone.
class StreamSink {
 public:
  virtual void WriteMessage(const google::protobuf::Message& message) = 0;
  virtual void FinishStream(const grpc::Status& status) = 0;

 protected:
  ~StreamSink() = default;
};

// One request, as Stream needs it.
struct StreamRequest {
  const google::protobuf::Message* request;
  std::string session_id;
  int64_t after_version = 0;
  // FeedWatchSpec::view, bound to the request.
  std::function<absl::StatusOr<WatchView>(const Principal& caller)> view;
};

struct Core;
class Stream;

std::shared_ptr<Core> NewCore(const ServiceEnv& env, StreamSpec spec,
                              FeedWatchOptions options);
void StopCore(Core& core);
size_t OpenStreams(const Core& core);

// Authorizes and starts one stream writing to `sink` (which may be
// finished at once).
std::shared_ptr<Stream> StartStream(const std::shared_ptr<Core>& core,
                                    StreamSink* sink,
                                    grpc::CallbackServerContext* ctx,
                                    StreamRequest request);
// The reactor's callbacks, passed on.
void StreamWriteDone(Stream& stream, bool ok);
void StreamCancelled(Stream& stream);
// After it the stream never touches its sink.
void StreamDone(Stream& stream);

// The gRPC side of one stream; the logic is Stream's.
template <typename Response>
class Reactor final : public grpc::ServerWriteReactor<Response>,
                      public StreamSink {
 public:
  void Start(const std::shared_ptr<Core>& core,
             grpc::CallbackServerContext* ctx, StreamRequest request) {
    stream_ = StartStream(core, this, ctx, std::move(request));
  }

  void WriteMessage(const google::protobuf::Message& message) override {
    // Every message of a Stream was made by the spec as a Response.
    this->StartWrite(static_cast<const Response*>(&message));
  }
  void FinishStream(const grpc::Status& status) override {
    this->Finish(status);
  }

  void OnWriteDone(bool ok) override { StreamWriteDone(*stream_, ok); }
  void OnCancel() override { StreamCancelled(*stream_); }
  void OnDone() override {
    StreamDone(*stream_);
    delete this;
  }

 private:
  std::shared_ptr<Stream> stream_;
};

}  // namespace feed_watch_internal

template <typename Request, typename Response>
class FeedWatch {
 public:
  FeedWatch(const ServiceEnv& env, FeedWatchSpec<Request, Response> spec,
            FeedWatchOptions options = FeedWatchOptions());
  // Stops (see Stop).
  ~FeedWatch() { Stop(); }

  FeedWatch(const FeedWatch&) = delete;
  FeedWatch& operator=(const FeedWatch&) = delete;

  grpc::ServerWriteReactor<Response>* Watch(grpc::CallbackServerContext* ctx,
                                            const Request* request);

  // Finishes every open watch with UNAVAILABLE, refuses new ones and stops
  // the hub's thread. For server shutdown; idempotent.
  void Stop() { feed_watch_internal::StopCore(*core_); }

  // Open streams in this process (tests, metrics).
  size_t open_streams() const {
    return feed_watch_internal::OpenStreams(*core_);
  }

 private:
  using View = std::function<absl::StatusOr<WatchView>(const Principal& caller,
                                                       const Request& request)>;

  const View view_;
  // Shared with the streams, which may outlive this object.
  const std::shared_ptr<feed_watch_internal::Core> core_;
};

template <typename Request, typename Response>
FeedWatch<Request, Response>::FeedWatch(const ServiceEnv& env,
                                        FeedWatchSpec<Request, Response> spec,
                                        FeedWatchOptions options)
    : view_(std::move(spec.view)),
      core_(feed_watch_internal::NewCore(
          env,
          {.method = std::move(spec.method),
           .service = std::move(spec.service),
           .feed_keys = std::move(spec.feed_keys),
           .codec = std::move(spec.codec),
           .snapshot = [snapshot = std::move(spec.snapshot)](
                           RedisConnection& redis, const Principal& caller,
                           const v1::Session& session, const WatchView& view)
               -> absl::StatusOr<feed_watch_internal::StreamSpec::Snapshot> {
             absl::StatusOr<Response> read =
                 snapshot(redis, caller, session, view);
             if (!read.ok()) return read.status();
             const int64_t read_version = read->snapshot().version();
             return feed_watch_internal::StreamSpec::Snapshot{
                 std::make_shared<const Response>(*std::move(read)),
                 read_version};
           },
           .wrap = [](const google::protobuf::Message& change)
               -> feed_watch_internal::SharedMessage {
             auto response = std::make_shared<Response>();
             response->mutable_change()->CopyFrom(change);
             return response;
           }},
          options)) {}

template <typename Request, typename Response>
grpc::ServerWriteReactor<Response>* FeedWatch<Request, Response>::Watch(
    grpc::CallbackServerContext* ctx, const Request* request) {
  // Deletes itself in OnDone.
  auto* reactor = new feed_watch_internal::Reactor<Response>();
  reactor->Start(core_, ctx,
                 {.request = request,
                  .session_id = request->session_id(),
                  .after_version = request->after_version(),
                  .view = [this, request](const Principal& caller) {
                    return view_(caller, *request);
                  }});
  return reactor;
}

}  // namespace townhall
