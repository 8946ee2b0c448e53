#include "services/registration/registration_service.h"

#include <utility>
#include <vector>

#include "services/common/server/session_rpc.h"
#include "services/registration/attendance_logic.h"
#include "services/registration/directory_import_logic.h"
#include "services/registration/directory_logic.h"
#include "services/registration/invitation_logic.h"
#include "services/registration/registration_logic.h"
#include "townhall/v1/registration.grpc.pb.h"

namespace townhall::registration {
namespace {

// Directory RPCs: authenticate and authorize on the callback thread, run
// the logic on a Redis worker (RpcRunner::Run).
#define TH_DIRECTORY_RPC(logic, Method)                                        \
  grpc::ServerUnaryReactor* Method(grpc::CallbackServerContext* ctx,           \
                                   const v1::Method##Request* request,         \
                                   v1::Method##Response* response) override {  \
    return rpc_->Run(ctx, TH_METHOD(RegistrationService, Method), *request,    \
                     [this, request, response](const Principal& caller,        \
                                               RedisConnection& redis) {       \
                       return logic.Method(caller, redis, *request, response); \
                     });                                                       \
  }

// Session RPCs: fetch the session from SchedulingService first (no thread
// waits for it), then run the logic on a Redis worker with it.
#define TH_SESSION_RPC(logic, Method)                                         \
  grpc::ServerUnaryReactor* Method(grpc::CallbackServerContext* ctx,          \
                                   const v1::Method##Request* request,        \
                                   v1::Method##Response* response) override { \
    return sessions_.WithSession(                                             \
        ctx, TH_METHOD(RegistrationService, Method), *request,                \
        request->session_id(),                                                \
        [this, request, response](const Principal& caller,                    \
                                  RedisConnection& redis,                     \
                                  const v1::Session& session) {               \
          return logic.Method(caller, redis, session, *request, response);    \
        });                                                                   \
  }

// Series RPCs: the same with every occurrence of the series.
#define TH_SERIES_RPC(logic, Method)                                           \
  grpc::ServerUnaryReactor* Method(grpc::CallbackServerContext* ctx,           \
                                   const v1::Method##Request* request,         \
                                   v1::Method##Response* response) override {  \
    return sessions_.WithSeries(                                               \
        ctx, TH_METHOD(RegistrationService, Method), *request,                 \
        request->series_id(),                                                  \
        [this, request, response](const Principal& caller,                     \
                                  RedisConnection& redis,                      \
                                  absl::Span<const v1::Session> occurrences) { \
          return logic.Method(caller, redis, occurrences, *request, response); \
        });                                                                    \
  }

class RegistrationServiceImpl final
    : public v1::RegistrationService::CallbackService,
      public ServiceModule {
 public:
  explicit RegistrationServiceImpl(const ServiceEnv& env)
      : rpc_(env.rpc),
        sessions_(env, "registration"),
        registrations_(env.auth) {}

  std::string grpc_name() const override {
    return v1::RegistrationService::service_full_name();
  }
  grpc::Service* service() override { return this; }

  TH_DIRECTORY_RPC(directory_, CreateOrganization)
  TH_DIRECTORY_RPC(directory_, GetOrganization)
  TH_DIRECTORY_RPC(directory_, ListOrganizations)
  TH_DIRECTORY_RPC(directory_, CreateParticipant)
  TH_DIRECTORY_RPC(directory_, GetParticipant)
  TH_DIRECTORY_RPC(directory_, ListParticipants)
  TH_DIRECTORY_RPC(import_, ImportDirectory)

  TH_SESSION_RPC(invitations_, InviteOrganization)
  TH_SESSION_RPC(registrations_, Register)
  TH_SERIES_RPC(registrations_, RegisterForSeries)
  TH_SESSION_RPC(registrations_, ApproveRegistration)
  TH_SESSION_RPC(registrations_, CancelRegistration)
  TH_SESSION_RPC(registrations_, SetRole)
  TH_SESSION_RPC(registrations_, GetRegistration)
  TH_SESSION_RPC(registrations_, ListRegistrations)
  TH_SESSION_RPC(registrations_, IssueJoinToken)
  TH_SESSION_RPC(attendance_, RecordAttendance)
  TH_SESSION_RPC(attendance_, GetAttendanceReport)
  TH_SERIES_RPC(attendance_, GetSeriesAttendance)

 private:
  RpcRunner* rpc_;
  SessionRpc sessions_;
  DirectoryLogic directory_;
  DirectoryImportLogic import_;
  InvitationLogic invitations_;
  RegistrationLogic registrations_;
  AttendanceLogic attendance_;
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
