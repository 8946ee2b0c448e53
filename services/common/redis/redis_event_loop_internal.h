// Internals of RedisEventLoop shared by its source files
// (redis_event_loop.cc: sending, routing, replies; redis_event_loop_wait.cc:
// WAIT for replicas). Not for other users.
#pragma once

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <list>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/common/redis/redis_event_loop.h"

namespace townhall {

struct RedisEventLoop::Node {
  RedisEventLoop* loop;
  std::string address;
  redisAsyncContext* context = nullptr;
  absl::Time next_connect = absl::InfinitePast();
  // Commands sent and not yet answered, oldest first.
  std::list<Pending*> in_flight;
  // Writes sent that await a WAIT (SendWaits).
  std::vector<Pending*> unconfirmed;
  // A WAIT sent and not answered. Redis holds the connection's later
  // commands until it returns, so the next WAIT waits for it and then
  // confirms every write sent meanwhile: group commit, one replica round
  // trip per group instead of per write.
  bool wait_in_flight = false;
  // Latency histograms of this node's commands (null metrics: off).
  RedisInstruments instruments;
  // A context was made before: the next one is a reconnect.
  bool ever_connected = false;
};

struct RedisEventLoop::Pending {
  Call call;
  absl::Time deadline;  // of this send
  absl::Time sent;      // metrics only
  // `call.done` has run (on a timeout): a late reply is dropped.
  bool answered = false;
  // A write to confirm (call.confirm with wait_replicas): kAwaiting until
  // the reply of the WAIT after it (`group`, null until SendWaits appends
  // it), with the command's own reply kept in `reply` meanwhile; kUnsent
  // when the WAIT could not be written.
  enum class Confirm { kNone, kAwaiting, kUnsent } confirm = Confirm::kNone;
  WaitGroup* group = nullptr;
  std::optional<absl::StatusOr<RedisReply>> reply;
  std::list<Pending*>::iterator position;
};

// The writes one WAIT confirms: those sent to one node since its last WAIT.
struct RedisEventLoop::WaitGroup {
  std::vector<Pending*> pendings;
};

namespace redis_event_loop_internal {

inline absl::Status Unavailable(absl::string_view why) {
  return absl::UnavailableError(
      absl::StrCat("storage unavailable (redis ", why, ")"));
}

inline absl::StatusOr<RedisReply> ReplyOf(void* reply) {
  if (reply == nullptr) return Unavailable("connection lost");
  return RedisReply::FromHiredis(*static_cast<redisReply*>(reply));
}

// A reply that may have written (an error reply wrote nothing to confirm).
inline bool MayHaveWritten(const absl::StatusOr<RedisReply>& result) {
  return result.ok() && result->type != RedisReply::Type::kError;
}

}  // namespace redis_event_loop_internal
}  // namespace townhall
