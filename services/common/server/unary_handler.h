// The one way to write a unary RPC handler: the logic method's signature
// says which path the call takes.
//
//   class SchedulingServiceImpl final
//       : public v1::SchedulingService::CallbackService, ... {
//     TH_UNARY_RPC(SchedulingService, CreateVenue, rpc_, logic_)
//     ...
//    private:
//     RpcRunner* rpc_;          // or SessionRpc sessions_; pass &sessions_
//     SchedulingLogic logic_;
//   };
//
// TH_UNARY_RPC(Service, Method, paths, logic) defines the override
// `Method` that calls `logic.Method`. `paths` is an `RpcRunner*`, or a
// `SessionRpc*` for a service with methods that need a session of
// SchedulingService's making (it serves the other shapes too). The accepted
// signatures of `logic.Method` (const or not), with `P` = `const Principal&`
// and `Req`/`Resp` the method's request and response messages:
//
//   kPlain          Status(P, RedisConnection&, const Req&, Resp*)
//                   RpcRunner::Run: on a Redis worker.
//   kCpuOnly        Status(P, const Req&, Resp*)
//                   RpcRunner::Run: on a worker too (bounded CPU work keeps
//                   gRPC callback threads free), without using Redis.
//   kSession        Status(P, RedisConnection&, const v1::Session&,
//                          const Req&, Resp*)
//                   SessionRpc::WithSession(request.session_id()): NOT_FOUND
//                   for an unknown session and for another tenant's. A
//                   method that needs only that check takes the session and
//                   leaves it unused.
//   kSeries         Status(P, RedisConnection&, absl::Span<const v1::Session>,
//                          const Req&, Resp*)
//                   SessionRpc::WithSeries(request.series_id()).
//   kSessionSeries  Status(P, RedisConnection&, const v1::Session&,
//                          const std::vector<v1::Session>&, const Req&, Resp*)
//                   SessionRpc::WithSessionSeries(request.session_id()).
//   kAsync          void(P, RedisEventLoop&, absl::Time deadline, const Req&,
//                        Resp*, RpcRunner::Finisher)
//                   RpcRunner::RunAsync: on the callback thread, one command
//                   on the event loop; the method calls the finisher once.
//   kSessionAsync   void(P, RedisEventLoop&, absl::Time deadline,
//                        const v1::Session&, const Req&, Resp*,
//                        RpcRunner::Finisher)
//                   SessionRpc::WithSessionAsync(request.session_id()): the
//                   session check of kSession, then kAsync's path (a hot
//                   session-scoped mutation, such as a ballot).
//
// Authentication, the access table, deadlines and idempotency are the
// runner's (rpc_runner.h). Every path finishes through FinishStatus below,
// which adds the `retry-after-ms` trailer to a rate-limit refusal: the one
// place for whatever every unary call does last.
#pragma once

#include <grpcpp/grpcpp.h>

#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "services/common/auth/principal.h"
#include "services/common/redis/redis_connection.h"
#include "services/common/redis/redis_event_loop.h"
#include "services/common/server/rpc_runner.h"
#include "services/common/server/session_rpc.h"
#include "services/common/status.h"
#include "townhall/v1/scheduling.pb.h"

namespace townhall {

// The call shapes TH_UNARY_RPC dispatches on; kNone for a signature it does
// not accept.
enum class UnaryShape {
  kNone,
  kPlain,
  kCpuOnly,
  kSession,
  kSeries,
  kSessionSeries,
  kAsync,
  kSessionAsync,
};

namespace unary_internal {

template <typename Method>
struct MemberFunction {
  static constexpr bool kIsMember = false;
};
template <typename C, typename R, typename... Args>
struct MemberFunction<R (C::*)(Args...)> {
  static constexpr bool kIsMember = true;
  using Return = R;
  using Arguments = std::tuple<Args...>;
};
template <typename C, typename R, typename... Args>
struct MemberFunction<R (C::*)(Args...) const>
    : MemberFunction<R (C::*)(Args...)> {};

template <typename Return, typename Arguments, typename Req, typename Resp>
constexpr UnaryShape ShapeOf() {
  using P = const Principal&;
  using Redis = RedisConnection&;
  using Session = const v1::Session&;
  if constexpr (std::is_same_v<Return, void>) {
    if constexpr (std::is_same_v<
                      Arguments,
                      std::tuple<P, RedisEventLoop&, absl::Time, const Req&,
                                 Resp*, RpcRunner::Finisher>>) {
      return UnaryShape::kAsync;
    } else if constexpr (std::is_same_v<
                             Arguments,
                             std::tuple<P, RedisEventLoop&, absl::Time, Session,
                                        const Req&, Resp*,
                                        RpcRunner::Finisher>>) {
      return UnaryShape::kSessionAsync;
    }
  } else if constexpr (std::is_same_v<Return, absl::Status>) {
    if constexpr (std::is_same_v<Arguments,
                                 std::tuple<P, Redis, const Req&, Resp*>>) {
      return UnaryShape::kPlain;
    } else if constexpr (std::is_same_v<Arguments,
                                        std::tuple<P, const Req&, Resp*>>) {
      return UnaryShape::kCpuOnly;
    } else if constexpr (std::is_same_v<Arguments,
                                        std::tuple<P, Redis, Session,
                                                   const Req&, Resp*>>) {
      return UnaryShape::kSession;
    } else if constexpr (std::is_same_v<
                             Arguments,
                             std::tuple<P, Redis, absl::Span<const v1::Session>,
                                        const Req&, Resp*>>) {
      return UnaryShape::kSeries;
    } else if constexpr (std::is_same_v<
                             Arguments,
                             std::tuple<P, Redis, Session,
                                        const std::vector<v1::Session>&,
                                        const Req&, Resp*>>) {
      return UnaryShape::kSessionSeries;
    }
  }
  return UnaryShape::kNone;
}

inline RpcRunner* RunnerOf(RpcRunner* rpc) { return rpc; }
inline RpcRunner* RunnerOf(SessionRpc* sessions) { return sessions->runner(); }

}  // namespace unary_internal

// The shape of a logic method of type `Method` serving a call with `Req`
// and `Resp`.
template <typename Req, typename Resp, typename Method>
constexpr UnaryShape kUnaryShapeOf = [] {
  using Traits = unary_internal::MemberFunction<Method>;
  if constexpr (!Traits::kIsMember) {
    return UnaryShape::kNone;
  } else {
    return unary_internal::ShapeOf<typename Traits::Return,
                                   typename Traits::Arguments, Req, Resp>();
  }
}();

// The status a call finishes with: a rate-limit refusal carrying
// kRetryAfterPayload also sends its delay as the trailer of that name, for
// clients that back off without parsing messages.
absl::Status FinishStatus(grpc::CallbackServerContext* ctx,
                          absl::Status status);

// Runs `(logic.*method)(...)` for one call on the path its signature picks
// (see the table at the top). TH_UNARY_RPC is the usual way to call it.
template <typename Paths, typename Logic, typename Method, typename Req,
          typename Resp>
grpc::ServerUnaryReactor* RunUnary(Paths* paths,
                                   grpc::CallbackServerContext* ctx,
                                   absl::string_view rpc_method,
                                   const Req& request, Resp* response,
                                   Logic& logic, Method method) {
  constexpr UnaryShape kShape = kUnaryShapeOf<Req, Resp, Method>;
  static_assert(
      kShape != UnaryShape::kNone,
      "TH_UNARY_RPC: the logic method has none of the accepted signatures "
      "(P = const Principal&):\n"
      "  Status(P, RedisConnection&, const Req&, Resp*)\n"
      "  Status(P, const Req&, Resp*)\n"
      "  Status(P, RedisConnection&, const v1::Session&, const Req&, Resp*)\n"
      "  Status(P, RedisConnection&, absl::Span<const v1::Session>, "
      "const Req&, Resp*)\n"
      "  Status(P, RedisConnection&, const v1::Session&, "
      "const std::vector<v1::Session>&, const Req&, Resp*)\n"
      "  void(P, RedisEventLoop&, absl::Time, const Req&, Resp*, "
      "RpcRunner::Finisher)\n"
      "  void(P, RedisEventLoop&, absl::Time, const v1::Session&, "
      "const Req&, Resp*, RpcRunner::Finisher)");
  constexpr bool kNeedsSession = kShape == UnaryShape::kSession ||
                                 kShape == UnaryShape::kSeries ||
                                 kShape == UnaryShape::kSessionSeries ||
                                 kShape == UnaryShape::kSessionAsync;
  static_assert(!kNeedsSession || std::is_same_v<Paths, SessionRpc>,
                "TH_UNARY_RPC: a logic method that takes a session (or a "
                "series) needs a SessionRpc* as `paths`");
  Logic* target = &logic;
  const Req* req = &request;
  if constexpr (kShape == UnaryShape::kPlain) {
    return unary_internal::RunnerOf(paths)->Run(
        ctx, rpc_method, request,
        [=](const Principal& caller, RedisConnection& redis) {
          return FinishStatus(ctx,
                              (target->*method)(caller, redis, *req, response));
        });
  } else if constexpr (kShape == UnaryShape::kCpuOnly) {
    return unary_internal::RunnerOf(paths)->Run(
        ctx, rpc_method, request,
        [=](const Principal& caller, RedisConnection&) {
          return FinishStatus(ctx, (target->*method)(caller, *req, response));
        });
  } else if constexpr (kShape == UnaryShape::kAsync) {
    return unary_internal::RunnerOf(paths)->RunAsync(
        ctx, rpc_method, request,
        [=](const Principal& caller, RedisEventLoop& loop, absl::Time deadline,
            RpcRunner::Finisher finish) {
          (target->*method)(
              caller, loop, deadline, *req, response,
              RpcRunner::Finisher([ctx, finish = std::move(finish)](
                                      const absl::Status& status) mutable {
                std::move(finish)(FinishStatus(ctx, status));
              }));
        });
  } else if constexpr (kShape == UnaryShape::kSessionAsync) {
    return paths->WithSessionAsync(
        ctx, rpc_method, request, request.session_id(),
        [=](const Principal& caller, RedisEventLoop& loop, absl::Time deadline,
            const v1::Session& session, RpcRunner::Finisher finish) {
          (target->*method)(
              caller, loop, deadline, session, *req, response,
              RpcRunner::Finisher([ctx, finish = std::move(finish)](
                                      const absl::Status& status) mutable {
                std::move(finish)(FinishStatus(ctx, status));
              }));
        });
  } else if constexpr (kShape == UnaryShape::kSession) {
    return paths->WithSession(
        ctx, rpc_method, request, request.session_id(),
        [=](const Principal& caller, RedisConnection& redis,
            const v1::Session& session) {
          return FinishStatus(
              ctx, (target->*method)(caller, redis, session, *req, response));
        });
  } else if constexpr (kShape == UnaryShape::kSeries) {
    return paths->WithSeries(
        ctx, rpc_method, request, request.series_id(),
        [=](const Principal& caller, RedisConnection& redis,
            absl::Span<const v1::Session> occurrences) {
          return FinishStatus(ctx, (target->*method)(caller, redis, occurrences,
                                                     *req, response));
        });
  } else if constexpr (kShape == UnaryShape::kSessionSeries) {
    return paths->WithSessionSeries(
        ctx, rpc_method, request, request.session_id(),
        [=](const Principal& caller, RedisConnection& redis,
            const v1::Session& session,
            const std::vector<v1::Session>& occurrences) {
          return FinishStatus(
              ctx, (target->*method)(caller, redis, session, occurrences, *req,
                                     response));
        });
  } else {
    return nullptr;  // Refused by the static_assert above.
  }
}

}  // namespace townhall

// Defines the override of `Service.Method` that runs `logic.Method` on the
// path its signature picks (see the top of this file). Use inside the
// service class, in a namespace where `v1::` names townhall::v1.
#define TH_UNARY_RPC(Service, Method, paths, logic)                           \
  grpc::ServerUnaryReactor* Method(grpc::CallbackServerContext* ctx,          \
                                   const v1::Method##Request* request,        \
                                   v1::Method##Response* response) override { \
    return ::townhall::RunUnary(                                              \
        paths, ctx, TH_METHOD(Service, Method), *request, response, logic,    \
        &std::remove_cvref_t<decltype(logic)>::Method);                       \
  }
