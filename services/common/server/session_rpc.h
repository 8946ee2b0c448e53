// SessionRpc: the call path of RPCs that act on one session (or series) of
// another service's making: authenticate and authorize on the callback
// thread (RpcRunner), fetch the session (or the series' occurrences) from
// SchedulingService without blocking any thread (SessionDirectory), then run
// the work on a Redis worker with the session at hand.
//
//   grpc::ServerUnaryReactor* Register(...) override {
//     return sessions_.WithSession(ctx, TH_METHOD(RegistrationService,
//         Register), *request, request->session_id(),
//         [=](const Principal& caller, RedisConnection& redis,
//             const v1::Session& session) { return ...; });
//   }
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "services/common/server/rpc_runner.h"
#include "services/common/server/service_module.h"
#include "services/common/server/session_directory.h"
#include "services/common/validation.h"

namespace townhall {

class SessionRpc {
 public:
  // `service` names the caller in its tokens to SchedulingService.
  SessionRpc(const ServiceEnv& env, std::string service)
      : rpc_(env.rpc),
        pool_(env.redis),
        sessions_(env, std::move(service)) {}

  // Validates and looks up `session_id`, then runs
  // `work(caller, redis, session)` -> absl::Status on a Redis worker.
  template <typename Work>
  grpc::ServerUnaryReactor* WithSession(
      grpc::CallbackServerContext* ctx, absl::string_view method,
      const google::protobuf::Message& request, const std::string& session_id,
      Work work) {
    return LookUpSession(
        ctx, method, request, session_id,
        [this, work = std::move(work)](Principal caller, RedisEventLoop&,
                                       absl::Time deadline,
                                       absl::StatusOr<v1::Session> session,
                                       RpcRunner::Finisher finish) mutable {
          RunOnWorker(deadline, std::move(session), std::move(caller),
                      std::move(work), std::move(finish));
        });
  }

  // Validates and looks up `session_id`, then runs
  // `work(caller, loop, deadline, session, finish)` where the lookup
  // finished (a gRPC callback thread or the event loop's): for work that is
  // one command on the event loop and calls `finish` once.
  template <typename Work>
  grpc::ServerUnaryReactor* WithSessionAsync(
      grpc::CallbackServerContext* ctx, absl::string_view method,
      const google::protobuf::Message& request, const std::string& session_id,
      Work work) {
    return LookUpSession(
        ctx, method, request, session_id,
        [work = std::move(work)](Principal caller, RedisEventLoop& loop,
                                 absl::Time deadline,
                                 absl::StatusOr<v1::Session> session,
                                 RpcRunner::Finisher finish) mutable {
          if (!session.ok()) {
            std::move(finish)(session.status());
            return;
          }
          work(caller, loop, deadline, *session, std::move(finish));
        });
  }

  // The same with every occurrence of a series, in start order:
  // `work(caller, redis, absl::Span<const v1::Session>)`.
  template <typename Work>
  grpc::ServerUnaryReactor* WithSeries(grpc::CallbackServerContext* ctx,
                                       absl::string_view method,
                                       const google::protobuf::Message& request,
                                       const std::string& series_id,
                                       Work work) {
    return rpc_->RunAsync(
        ctx, method, request,
        [this, &series_id, work = std::move(work)](
            const Principal& caller, RedisEventLoop&, absl::Time deadline,
            RpcRunner::Finisher finish) mutable {
          if (absl::Status valid = ValidateId("series_id", series_id);
              !valid.ok()) {
            std::move(finish)(valid);
            return;
          }
          sessions_.ListOccurrences(
              caller.tenant_id, series_id, deadline,
              [this, caller, deadline, work = std::move(work),
               finish = std::move(finish)](
                  absl::StatusOr<std::vector<v1::Session>> sessions) mutable {
                RunOnWorker(deadline, std::move(sessions), std::move(caller),
                            std::move(work), std::move(finish));
              });
        });
  }

  // The session and every occurrence of its series (FAILED_PRECONDITION
  // when it is not an occurrence): `work(caller, redis, session,
  // const std::vector<v1::Session>& occurrences)`.
  template <typename Work>
  grpc::ServerUnaryReactor* WithSessionSeries(
      grpc::CallbackServerContext* ctx, absl::string_view method,
      const google::protobuf::Message& request, const std::string& session_id,
      Work work) {
    return LookUpSession(
        ctx, method, request, session_id,
        [this, work = std::move(work)](Principal caller, RedisEventLoop&,
                                       absl::Time deadline,
                                       absl::StatusOr<v1::Session> session,
                                       RpcRunner::Finisher finish) mutable {
          if (session.ok() && session->series_id().empty()) {
            session = absl::FailedPreconditionError(absl::StrCat(
                "session ", session->id(), " is not an occurrence of a series"));
          }
          if (!session.ok()) {
            std::move(finish)(session.status());
            return;
          }
          std::string series_id = session->series_id();
          sessions_.ListOccurrences(
              caller.tenant_id, series_id, deadline,
              [this, caller, deadline, session = *std::move(session),
               work = std::move(work), finish = std::move(finish)](
                  absl::StatusOr<std::vector<v1::Session>>
                      occurrences) mutable {
                RunOnWorker(
                    deadline, std::move(occurrences), std::move(caller),
                    [session = std::move(session), work = std::move(work)](
                        const Principal& caller, RedisConnection& redis,
                        const std::vector<v1::Session>& found) mutable {
                      return work(caller, redis, session, found);
                    },
                    std::move(finish));
              });
        });
  }

  SessionDirectory& directory() { return sessions_; }
  // For calls that need no session (unary_handler.h).
  RpcRunner* runner() const { return rpc_; }

 private:
  // Authorizes, validates `session_id` and fetches the session, then calls
  // `then(caller, loop, deadline, StatusOr<Session>, finish)` on a gRPC
  // thread or the event loop's.
  template <typename Then>
  grpc::ServerUnaryReactor* LookUpSession(
      grpc::CallbackServerContext* ctx, absl::string_view method,
      const google::protobuf::Message& request, const std::string& session_id,
      Then then) {
    return rpc_->RunAsync(
        ctx, method, request,
        [this, &session_id, then = std::move(then)](
            const Principal& caller, RedisEventLoop& loop, absl::Time deadline,
            RpcRunner::Finisher finish) mutable {
          if (absl::Status valid = ValidateId("session_id", session_id);
              !valid.ok()) {
            std::move(finish)(valid);
            return;
          }
          sessions_.GetSession(
              caller.tenant_id, session_id, deadline,
              [caller, &loop, deadline, then = std::move(then),
               finish = std::move(finish)](
                  absl::StatusOr<v1::Session> session) mutable {
                then(std::move(caller), loop, deadline, std::move(session),
                     std::move(finish));
              });
        });
  }

  // Finishes with the lookup's error, or runs `work(caller, redis, *found)`
  // on a Redis worker and finishes with its status.
  template <typename Found, typename Work>
  void RunOnWorker(absl::Time deadline, absl::StatusOr<Found> found,
                   Principal caller, Work work, RpcRunner::Finisher finish) {
    if (!found.ok()) {
      std::move(finish)(found.status());
      return;
    }
    // Submit drops a refused task: keep the one-shot finisher reachable.
    auto shared_finish =
        std::make_shared<RpcRunner::Finisher>(std::move(finish));
    absl::Status submitted = pool_->Submit(
        deadline, [caller = std::move(caller), found = *std::move(found),
                   work = std::move(work),
                   shared_finish](RedisConnection& redis) mutable {
          std::move (*shared_finish)(work(caller, redis, found));
        });
    if (!submitted.ok()) std::move (*shared_finish)(submitted);
  }

  RpcRunner* rpc_;
  RedisPool* pool_;
  SessionDirectory sessions_;
};

}  // namespace townhall
