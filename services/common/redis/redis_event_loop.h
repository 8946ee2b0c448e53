// RedisEventLoop: hiredis' async API on one event-loop thread (libevent),
// for hot read paths.
//
// Many commands are in flight on one connection at once and Redis answers
// them in order, so a busy server pays one wake-up per batch instead of a
// worker hand-off and a blocking round trip per call (see
// docs/benchmarks.md). Callers on any thread submit a command with a
// deadline; the callback runs exactly once, on the loop thread, and must be
// quick (finish a gRPC call, not more Redis work).
//
//   loop.Command({"HMGET", key, "data"}, deadline,
//                [](absl::StatusOr<RedisReply> reply) { ... });
//
// Failures: no connection or a dropped one is UNAVAILABLE; a command not
// answered by its deadline (the smaller of the caller's and
// RedisOptions::command_timeout) fails with DEADLINE_EXCEEDED or
// UNAVAILABLE, and its late reply is ignored (replies stay matched to their
// commands, so nothing shifts). A connection whose replies stop coming is
// dropped and made again.
#pragma once

#include <list>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/redis/lua_script.h"
#include "services/common/redis/redis_connection.h"
#include "services/common/redis/redis_reply.h"

struct event_base;
struct event;
struct redisAsyncContext;

namespace townhall {

class RedisEventLoop {
 public:
  using Callback = absl::AnyInvocable<void(absl::StatusOr<RedisReply>) &&>;

  explicit RedisEventLoop(RedisOptions options);
  // Fails what is still pending with UNAVAILABLE, then stops the thread.
  ~RedisEventLoop();
  RedisEventLoop(const RedisEventLoop&) = delete;
  RedisEventLoop& operator=(const RedisEventLoop&) = delete;

  // Thread-safe. Sends `argv` and calls `done` with the reply.
  void Command(std::vector<std::string> argv, absl::Time deadline,
               Callback done);

  // Thread-safe. Runs `script` with EVALSHA (EVAL on NOSCRIPT) and calls
  // `done` with its reply; a script error becomes a status as in
  // RedisConnection::Eval. For hot mutations that are one script.
  // `script` must outlive the call (embedded scripts live forever).
  void Eval(const LuaScript& script, const std::vector<std::string>& keys,
            const std::vector<std::string>& args, absl::Time deadline,
            Callback done);

 private:
  struct Pending;
  struct Submitted {
    std::vector<std::string> argv;
    absl::Time deadline;
    Callback done;
  };

  static void OnWake(int fd, short what, void* self);
  static void OnTick(int fd, short what, void* self);
  static void OnReply(redisAsyncContext* context, void* reply, void* privdata);
  static void OnConnect(const redisAsyncContext* context, int status);
  static void OnDisconnect(const redisAsyncContext* context, int status);

  // Loop thread only, from here on.
  void SendQueued();
  void Send(Submitted item);
  bool EnsureConnected();
  void ExpireOverdue();

  const RedisOptions options_;
  event_base* base_ = nullptr;
  event* wake_ = nullptr;
  event* tick_ = nullptr;
  redisAsyncContext* context_ = nullptr;
  absl::Time next_connect_ = absl::InfinitePast();
  // Commands sent and not yet answered, oldest first.
  std::list<Pending*> in_flight_;

  absl::Mutex mu_;
  std::vector<Submitted> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  std::thread thread_;
};

}  // namespace townhall
