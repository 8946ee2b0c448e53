// FeedWatch: the server-streaming "snapshot, then every change" RPCs
// (WatchAgenda, WatchQueue) over a session's change feed (change_feed.h).
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
//   - one reader per process (FeedHub) follows every watched feed with one
//     multi-key XREAD BLOCK and decodes each change once (FeedCodec); the
//     decoded messages are shared by every watcher;
//   - one write in flight per watcher; a watcher more than `max_backlog`
//     messages behind starts over with a fresh snapshot instead of growing;
//   - coalescable changes (vote counts) are merged: in the hub, runs of them
//     are held for up to `coalesce_window` and sent as one message (shared
//     by all watchers), and a slow watcher merges them again in its backlog;
//   - at most `max_streams_per_participant` open streams per participant
//     (join tokens) per process: RESOURCE_EXHAUSTED beyond it;
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
  // The participant who gets `full` although not privileged (the proposer
  // of a topic, the author of a question); "" for none.
  std::string owner;
  // Non-empty: the change concerns only this sub-scope (an agenda item);
  // watchers that asked for another sub-scope skip it.
  std::string scope;
  // A vote count or the like: may be merged with a neighbouring coalescable
  // entry (FeedCodec::merge).
  bool coalescable = false;
};

// How a service turns its feed entries into messages.
struct FeedCodec {
  // Decodes one change. Must not fail: an undecodable change still gets an
  // entry (with version and kind), since a gap would be worse.
  std::function<FeedEntry(const Change& change)> decode;
  // Merges two coalescable entries, `older` before `newer`, into one with
  // newer's version. Null: nothing is coalesced.
  std::function<FeedEntry(const FeedEntry& older, const FeedEntry& newer)>
      merge;
};

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
  // The snapshot's version (inside the Response).
  std::function<int64_t(const Response& snapshot)> snapshot_version;
  // Wraps a change message (FeedEntry::full or ::restricted) in a Response.
  std::function<Response(const google::protobuf::Message& change)> wrap;
};

struct FeedWatchOptions {
  // Messages a watcher may have waiting before it starts over.
  size_t max_backlog = 1000;
  // How long the hub holds a run of coalescable changes (0: never holds;
  // runs within one read are still merged).
  absl::Duration coalesce_window = absl::ZeroDuration();
  // Open streams per participant (join tokens) per process; 0: no limit.
  int max_streams_per_participant = 0;
};

namespace feed_watch_internal {
class Core;
}  // namespace feed_watch_internal

template <typename Request, typename Response>
class FeedWatch {
 public:
  FeedWatch(const ServiceEnv& env, FeedWatchSpec<Request, Response> spec,
            FeedWatchOptions options);
  // Stops (see Stop).
  ~FeedWatch();

  grpc::ServerWriteReactor<Response>* Watch(grpc::CallbackServerContext* ctx,
                                            const Request* request);

  // Finishes every open watch with UNAVAILABLE, refuses new ones and stops
  // the hub's thread. For server shutdown; idempotent.
  void Stop();

  // Open streams in this process (tests, metrics).
  size_t open_streams() const;
};

}  // namespace townhall
