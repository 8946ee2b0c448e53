#include "services/scheduling/scheduling_service.h"

#include "services/scheduling/scheduling_logic.h"
#include "townhall/v1/scheduling.grpc.pb.h"

namespace townhall::scheduling {
namespace {

// Each RPC: authenticate on the callback thread, run the logic on a Redis
// worker (RpcRunner::Run), finish from there.
#define TH_REDIS_RPC(Method)                                                  \
  grpc::ServerUnaryReactor* Method(grpc::CallbackServerContext* ctx,          \
                                   const v1::Method##Request* request,        \
                                   v1::Method##Response* response) override { \
    return rpc_->Run(ctx, TH_METHOD(SchedulingService, Method), *request,     \
                     [this, request, response](const Principal& caller,       \
                                               RedisConnection& redis) {      \
                       return logic_.Method(caller, redis, *request,          \
                                            response);                        \
                     });                                                      \
  }

class SchedulingServiceImpl final
    : public v1::SchedulingService::CallbackService,
      public ServiceModule {
 public:
  explicit SchedulingServiceImpl(RpcRunner* rpc) : rpc_(rpc) {}

  std::string grpc_name() const override {
    return v1::SchedulingService::service_full_name();
  }
  grpc::Service* service() override { return this; }

  TH_REDIS_RPC(CreateVenue)
  TH_REDIS_RPC(GetVenue)
  TH_REDIS_RPC(ListVenues)
  TH_REDIS_RPC(CreateSession)
  TH_REDIS_RPC(ListSessions)
  TH_REDIS_RPC(UpdateSession)
  TH_REDIS_RPC(PublishSession)
  TH_REDIS_RPC(StartSession)
  TH_REDIS_RPC(EndSession)
  TH_REDIS_RPC(CancelSession)
  TH_REDIS_RPC(CreateSeries)
  TH_REDIS_RPC(GetSeries)
  TH_REDIS_RPC(ListSeriesOccurrences)
  TH_REDIS_RPC(CancelOccurrence)
  TH_REDIS_RPC(MoveOccurrence)
  TH_REDIS_RPC(ExportCalendar)

  // The hot read: one command on the event loop (RpcRunner::RunAsync).
  grpc::ServerUnaryReactor* GetSession(
      grpc::CallbackServerContext* ctx, const v1::GetSessionRequest* request,
      v1::GetSessionResponse* response) override {
    return rpc_->RunAsync(
        ctx, TH_METHOD(SchedulingService, GetSession), *request,
        [this, request, response](const Principal& caller, RedisEventLoop& loop,
                                  absl::Time deadline,
                                  RpcRunner::Finisher finish) {
          logic_.GetSession(caller, loop, deadline, *request, response,
                            std::move(finish));
        });
  }

  // CPU only, but bounded work of up to tens of milliseconds: it runs on a
  // worker too, keeping callback threads free.
  grpc::ServerUnaryReactor* ProposeFairSlots(
      grpc::CallbackServerContext* ctx,
      const v1::ProposeFairSlotsRequest* request,
      v1::ProposeFairSlotsResponse* response) override {
    return rpc_->Run(
        ctx, TH_METHOD(SchedulingService, ProposeFairSlots), *request,
        [this, request, response](const Principal& caller, RedisConnection&) {
          return logic_.ProposeFairSlots(caller, *request, response);
        });
  }

 private:
  RpcRunner* rpc_;
  SchedulingLogic logic_;
};

#undef TH_REDIS_RPC

}  // namespace

ModuleSpec SchedulingModule() {
  return {"scheduling", [](const ServiceEnv& env) {
            return std::make_unique<SchedulingServiceImpl>(env.rpc);
          }};
}

}  // namespace townhall::scheduling
