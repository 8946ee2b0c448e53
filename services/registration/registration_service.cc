#include "services/registration/registration_service.h"

#include <utility>
#include <vector>

#include "services/common/validation.h"
#include "services/registration/directory_logic.h"
#include "services/registration/registration_logic.h"
#include "services/registration/session_directory.h"
#include "townhall/v1/registration.grpc.pb.h"

namespace townhall::registration {
namespace {

// Directory RPCs: authenticate and authorize on the callback thread, run
// the logic on a Redis worker (RpcRunner::Run).
#define TH_DIRECTORY_RPC(Method)                                              \
  grpc::ServerUnaryReactor* Method(grpc::CallbackServerContext* ctx,          \
                                   const v1::Method##Request* request,        \
                                   v1::Method##Response* response) override { \
    return rpc_->Run(ctx, TH_METHOD(RegistrationService, Method), *request,   \
                     [this, request, response](const Principal& caller,       \
                                               RedisConnection& redis) {      \
                       return directory_.Method(caller, redis, *request,      \
                                                response);                    \
                     });                                                      \
  }

// Session RPCs: fetch the session from SchedulingService first (no thread
// waits for it), then run the logic on a Redis worker with it.
#define TH_SESSION_RPC(Method)                                                 \
  grpc::ServerUnaryReactor* Method(grpc::CallbackServerContext* ctx,           \
                                   const v1::Method##Request* request,         \
                                   v1::Method##Response* response) override {  \
    return WithSession(ctx, TH_METHOD(RegistrationService, Method), *request,  \
                       request->session_id(),                                  \
                       [this, request, response](const Principal& caller,      \
                                                 RedisConnection& redis,       \
                                                 const v1::Session& session) { \
                         return logic_.Method(caller, redis, session,          \
                                              *request, response);             \
                       });                                                     \
  }

// Series RPCs: the same with every occurrence of the series.
#define TH_SERIES_RPC(Method)                                                 \
  grpc::ServerUnaryReactor* Method(grpc::CallbackServerContext* ctx,          \
                                   const v1::Method##Request* request,        \
                                   v1::Method##Response* response) override { \
    return WithSeries(ctx, TH_METHOD(RegistrationService, Method), *request,  \
                      request->series_id(),                                   \
                      [this, request, response](                              \
                          const Principal& caller, RedisConnection& redis,    \
                          absl::Span<const v1::Session> occurrences) {        \
                        return logic_.Method(caller, redis, occurrences,      \
                                             *request, response);             \
                      });                                                     \
  }

class RegistrationServiceImpl final
    : public v1::RegistrationService::CallbackService,
      public ServiceModule {
 public:
  explicit RegistrationServiceImpl(const ServiceEnv& env)
      : rpc_(env.rpc),
        pool_(env.redis),
        sessions_(env.peers, env.auth),
        logic_(env.auth) {}

  std::string grpc_name() const override {
    return v1::RegistrationService::service_full_name();
  }
  grpc::Service* service() override { return this; }

  TH_DIRECTORY_RPC(CreateOrganization)
  TH_DIRECTORY_RPC(GetOrganization)
  TH_DIRECTORY_RPC(ListOrganizations)
  TH_DIRECTORY_RPC(CreateParticipant)
  TH_DIRECTORY_RPC(GetParticipant)
  TH_DIRECTORY_RPC(ListParticipants)
  TH_DIRECTORY_RPC(ImportDirectory)

  TH_SESSION_RPC(InviteOrganization)
  TH_SESSION_RPC(Register)
  TH_SERIES_RPC(RegisterForSeries)
  TH_SESSION_RPC(ApproveRegistration)
  TH_SESSION_RPC(CancelRegistration)
  TH_SESSION_RPC(SetRole)
  TH_SESSION_RPC(GetRegistration)
  TH_SESSION_RPC(ListRegistrations)
  TH_SESSION_RPC(IssueJoinToken)
  TH_SESSION_RPC(RecordAttendance)
  TH_SESSION_RPC(GetAttendanceReport)
  TH_SERIES_RPC(GetSeriesAttendance)

 private:
  // Looks up `session_id` (validated first), then runs
  // `work(caller, redis, session)` on a Redis worker.
  template <typename Work>
  grpc::ServerUnaryReactor* WithSession(
      grpc::CallbackServerContext* ctx, absl::string_view method,
      const google::protobuf::Message& request, const std::string& session_id,
      Work work) {
    return rpc_->RunAsync(
        ctx, method, request,
        [this, &session_id, work = std::move(work)](
            const Principal& caller, RedisEventLoop&, absl::Time deadline,
            RpcRunner::Finisher finish) mutable {
          if (absl::Status valid = ValidateId("session_id", session_id);
              !valid.ok()) {
            std::move(finish)(valid);
            return;
          }
          sessions_.GetSession(
              caller.tenant_id, session_id, deadline,
              [this, caller, deadline, work = std::move(work),
               finish = std::move(finish)](
                  absl::StatusOr<v1::Session> session) mutable {
                RunOnWorker(deadline, std::move(session), std::move(caller),
                            std::move(work), std::move(finish));
              });
        });
  }

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

  // Finishes with the lookup's error, or runs `work(caller, redis, *found)`
  // on a Redis worker and finishes with its status.
  template <typename Found, typename Work>
  void RunOnWorker(absl::Time deadline, absl::StatusOr<Found> found,
                   Principal caller, Work work, RpcRunner::Finisher finish) {
    if (!found.ok()) {
      std::move(finish)(found.status());
      return;
    }
    // The pool takes a copyable task; share the one-shot finisher.
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
  DirectoryLogic directory_;
  RegistrationLogic logic_;
};

#undef TH_DIRECTORY_RPC
#undef TH_SESSION_RPC
#undef TH_SERIES_RPC

}  // namespace

ModuleSpec RegistrationModule() {
  return {"registration", [](const ServiceEnv& env) {
            return std::make_unique<RegistrationServiceImpl>(env);
          }};
}

}  // namespace townhall::registration
