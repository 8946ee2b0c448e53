// AgendaWatch: the server-streaming WatchAgenda. A snapshot with its feed
// version first, then every change of the session's agenda feed in order;
// a resume after a version sends exactly the changes after it (or a fresh
// snapshot when the feed no longer has them).
//
// One reader thread per process (a hub) follows the feeds of every watched
// session with XREAD BLOCK on its own Redis connection, decodes each change
// once and hands it to the session's watchers. A watcher writes one message
// at a time; one that falls more than `max_backlog` messages behind gets a
// fresh snapshot instead of an unbounded queue. Snapshot and resume reads
// run on RedisPool workers, never on gRPC callback threads.
#pragma once

#include <grpcpp/grpcpp.h>

#include <cstddef>
#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/common/redis/redis_connection.h"
#include "services/common/server/service_module.h"
#include "townhall/v1/agenda.pb.h"
#include "townhall/v1/scheduling.pb.h"

namespace townhall::agenda {

// Reads items, the active item, outcomes, action items and the feed
// version in one atomic step (AgendaLogic's ReadAgendaSnapshot). The watch
// fills in the active item's speakers' queue and the server time.
using SnapshotReader = std::function<absl::StatusOr<v1::AgendaSnapshot>(
    RedisConnection& redis, absl::string_view tenant_id,
    const v1::Session& session)>;

class AgendaWatch {
 public:
  struct Options {
    // Messages a watcher may have waiting before it starts over.
    size_t max_backlog = 1000;
  };

  AgendaWatch(const ServiceEnv& env, SnapshotReader snapshot_reader,
              Options options);
  AgendaWatch(const ServiceEnv& env, SnapshotReader snapshot_reader)
      : AgendaWatch(env, std::move(snapshot_reader), Options()) {}
  // Stops (see Stop).
  ~AgendaWatch();

  grpc::ServerWriteReactor<v1::WatchAgendaResponse>* Watch(
      grpc::CallbackServerContext* ctx, const v1::WatchAgendaRequest* request);

  // Finishes every open watch with UNAVAILABLE, refuses new ones and stops
  // the hub's thread. For server shutdown; idempotent.
  void Stop();

  struct Core;

 private:
  std::shared_ptr<Core> core_;
};

}  // namespace townhall::agenda
