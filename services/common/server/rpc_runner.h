// RpcRunner: the one path every unary RPC takes through a townhall server.
//
//   grpc::ServerUnaryReactor* GetSession(grpc::CallbackServerContext* ctx,
//                                        const GetSessionRequest* request,
//                                        GetSessionResponse* response) {
//     return rpc_->Run(ctx, TH_METHOD(SchedulingService, GetSession), *request,
//         [=](const Principal& caller, RedisConnection& redis) {
//           return logic_.GetSession(caller, redis, *request, response);
//         });
//   }
//
// On the gRPC callback thread it assigns a request id, authenticates the
// caller and checks the access table (auth/authorization.h; CPU only, no
// I/O), refuses a request protobuf could not parse (invalid UTF-8, malformed
// wire format: proto/support/request_decoding.h), then hands the work to a
// RedisPool worker, which runs it with a connection carrying the call's
// deadline and finishes the call. Every call ends with one JSON access-log
// line.
#pragma once

#include <google/protobuf/message.h>
#include <grpcpp/grpcpp.h>

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/common/auth/authenticator.h"
#include "services/common/auth/authorization.h"
#include "services/common/metrics/metrics.h"
#include "services/common/redis/redis_event_loop.h"
#include "services/common/redis/redis_pool.h"

namespace townhall {

class RpcRunner {
 public:
  struct Options {
    // Upper bound for calls without a deadline (or with a longer one).
    absl::Duration max_call_time = absl::Seconds(30);
    bool access_log = true;
    // Counts and times every call (--metrics_listen); null: off.
    const Metrics* metrics = nullptr;
  };

  RpcRunner(RedisPool* redis, RedisEventLoop* loop, const Authenticator* auth,
            Options options);

  // Finishes a call started by RunAsync; callable from any thread, once.
  using Finisher = absl::AnyInvocable<void(const absl::Status&) &&>;

  // Authenticates, then runs `work(caller, redis)` -> absl::Status on a
  // Redis worker thread, and finishes the call with its status.
  template <typename Work>
  grpc::ServerUnaryReactor* Run(grpc::CallbackServerContext* ctx,
                                absl::string_view method,
                                const google::protobuf::Message& request,
                                Work work);

  // For hot reads that need one Redis command: authenticates, then runs
  // `work(caller, loop, deadline, finish)` on the callback thread; `work`
  // issues its command on the RedisEventLoop (no blocking) and calls `finish`
  // from the reply callback (or at once on a validation error).
  template <typename Work>
  grpc::ServerUnaryReactor* RunAsync(grpc::CallbackServerContext* ctx,
                                     absl::string_view method,
                                     const google::protobuf::Message& request,
                                     Work work);

  // Authenticates, then runs `work(caller)` -> absl::Status right here on
  // the callback thread. Only for work that does no I/O.
  template <typename Work>
  grpc::ServerUnaryReactor* RunInline(grpc::CallbackServerContext* ctx,
                                      absl::string_view method,
                                      const google::protobuf::Message& request,
                                      Work work);

  // What the access log needs to know about one call.
  struct CallLog {
    std::string method;
    std::string request_id;
    std::string tenant_id;
    absl::Time start;
    // The call's deadline, capped by Options::max_call_time (unary calls).
    absl::Time deadline;
    // The method's instruments; null when metrics are off.
    const RpcMethodMetrics* metrics = nullptr;
  };

  // For streaming handlers, which own their reactor: the same start as a
  // unary call (request id, authentication, the decoding check, the access
  // table) on the callback thread. Fills `call` for LogCall; the caller
  // finishes the stream with the error when refused.
  absl::StatusOr<Principal> Authorize(grpc::CallbackServerContext* ctx,
                                      absl::string_view method,
                                      const google::protobuf::Message& request,
                                      CallLog* call) const;
  // The end of a stream that ended with `status`: its access-log line (and
  // error log) and its count in the metrics.
  void LogCall(const CallLog& call, const absl::Status& status) const;

 private:
  struct Call : CallLog {
    grpc::ServerUnaryReactor* reactor;
  };

  // Starts a call: request id, deadline, authentication, decoding check.
  Call Begin(grpc::CallbackServerContext* ctx, absl::string_view method,
             const google::protobuf::Message& request,
             absl::StatusOr<Principal>* caller) const;
  void Finish(const Call& call, const absl::Status& status) const;
  // The access-log line (and error log) of a call that ended with `status`.
  void LogAccess(const CallLog& call, const absl::Status& status) const;
  // Begins a call; finishes it at once if the caller is refused, else runs
  // `next(call, caller)`.
  template <typename Next>
  grpc::ServerUnaryReactor* Start(grpc::CallbackServerContext* ctx,
                                  absl::string_view method,
                                  const google::protobuf::Message& request,
                                  Next next);

  RedisPool* redis_;
  RedisEventLoop* loop_;
  const Authenticator* auth_;
  Options options_;
};

template <typename Next>
grpc::ServerUnaryReactor* RpcRunner::Start(
    grpc::CallbackServerContext* ctx, absl::string_view method,
    const google::protobuf::Message& request, Next next) {
  absl::StatusOr<Principal> caller;
  Call call = Begin(ctx, method, request, &caller);
  if (!caller.ok()) {
    Finish(call, caller.status());
  } else {
    next(call, *std::move(caller));
  }
  return call.reactor;
}

template <typename Work>
grpc::ServerUnaryReactor* RpcRunner::Run(
    grpc::CallbackServerContext* ctx, absl::string_view method,
    const google::protobuf::Message& request, Work work) {
  return Start(ctx, method, request, [&](const Call& call, Principal caller) {
    absl::Status submitted = redis_->Submit(
        call.deadline,
        [this, call, caller = std::move(caller),
         work = std::move(work)](RedisConnection& redis) mutable {
          Finish(call, work(caller, redis));
        });
    if (!submitted.ok()) Finish(call, submitted);
  });
}

template <typename Work>
grpc::ServerUnaryReactor* RpcRunner::RunAsync(
    grpc::CallbackServerContext* ctx, absl::string_view method,
    const google::protobuf::Message& request, Work work) {
  return Start(ctx, method, request, [&](const Call& call, Principal caller) {
    work(caller, *loop_, call.deadline,
         Finisher([this, call](const absl::Status& status) {
           Finish(call, status);
         }));
  });
}

template <typename Work>
grpc::ServerUnaryReactor* RpcRunner::RunInline(
    grpc::CallbackServerContext* ctx, absl::string_view method,
    const google::protobuf::Message& request, Work work) {
  return Start(ctx, method, request, [&](const Call& call, Principal caller) {
    Finish(call, work(caller));
  });
}

}  // namespace townhall
