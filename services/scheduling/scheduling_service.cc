#include "services/scheduling/scheduling_service.h"

#include "services/common/server/unary_handler.h"
#include "services/scheduling/scheduling_logic.h"
#include "townhall/v1/scheduling.grpc.pb.h"

namespace townhall::scheduling {
namespace {

// Each RPC runs its SchedulingLogic method on the path the method's
// signature picks (unary_handler.h): on a Redis worker, except GetSession,
// the hot read, which is one command on the event loop, and
// ProposeFairSlots, CPU only (bounded work of up to tens of milliseconds,
// on a worker too, keeping callback threads free).
class SchedulingServiceImpl final
    : public v1::SchedulingService::CallbackService,
      public ServiceModule {
 public:
  explicit SchedulingServiceImpl(RpcRunner* rpc) : rpc_(rpc) {}

  std::string grpc_name() const override {
    return v1::SchedulingService::service_full_name();
  }
  grpc::Service* service() override { return this; }

  TH_UNARY_RPC(SchedulingService, CreateVenue, rpc_, logic_)
  TH_UNARY_RPC(SchedulingService, GetVenue, rpc_, logic_)
  TH_UNARY_RPC(SchedulingService, ListVenues, rpc_, logic_)
  TH_UNARY_RPC(SchedulingService, CreateSession, rpc_, logic_)
  TH_UNARY_RPC(SchedulingService, GetSession, rpc_, logic_)
  TH_UNARY_RPC(SchedulingService, ListSessions, rpc_, logic_)
  TH_UNARY_RPC(SchedulingService, UpdateSession, rpc_, logic_)
  TH_UNARY_RPC(SchedulingService, PublishSession, rpc_, logic_)
  TH_UNARY_RPC(SchedulingService, StartSession, rpc_, logic_)
  TH_UNARY_RPC(SchedulingService, EndSession, rpc_, logic_)
  TH_UNARY_RPC(SchedulingService, CancelSession, rpc_, logic_)
  TH_UNARY_RPC(SchedulingService, CreateSeries, rpc_, logic_)
  TH_UNARY_RPC(SchedulingService, GetSeries, rpc_, logic_)
  TH_UNARY_RPC(SchedulingService, ListSeriesOccurrences, rpc_, logic_)
  TH_UNARY_RPC(SchedulingService, CancelOccurrence, rpc_, logic_)
  TH_UNARY_RPC(SchedulingService, MoveOccurrence, rpc_, logic_)
  TH_UNARY_RPC(SchedulingService, ProposeFairSlots, rpc_, logic_)
  TH_UNARY_RPC(SchedulingService, ExportCalendar, rpc_, logic_)

 private:
  RpcRunner* rpc_;
  SchedulingLogic logic_;
};

}  // namespace

ModuleSpec SchedulingModule() {
  return {"scheduling", [](const ServiceEnv& env) {
            return std::make_unique<SchedulingServiceImpl>(env.rpc);
          }};
}

}  // namespace townhall::scheduling
