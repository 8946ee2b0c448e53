#include "services/common/server/diagnostics_service.h"

#include "townhall/v1/diagnostics.grpc.pb.h"

namespace townhall {
namespace {

class DiagnosticsServiceImpl final
    : public townhall::v1::DiagnosticsService::CallbackService,
      public ServiceModule {
 public:
  explicit DiagnosticsServiceImpl(RpcRunner* rpc) : rpc_(rpc) {}

  std::string grpc_name() const override {
    return townhall::v1::DiagnosticsService::service_full_name();
  }
  grpc::Service* service() override { return this; }

  grpc::ServerUnaryReactor* Ping(
      grpc::CallbackServerContext* ctx,
      const townhall::v1::PingRequest* request,
      townhall::v1::PingResponse* response) override {
    return rpc_->RunInline(ctx, TH_METHOD(DiagnosticsService, Ping), *request,
                           [&](const Principal&) {
                             response->set_payload(request->payload());
                             return absl::OkStatus();
                           });
  }

 private:
  RpcRunner* rpc_;
};

}  // namespace

ModuleSpec DiagnosticsModule() {
  return {"diagnostics", [](const ServiceEnv& env) {
            return std::make_unique<DiagnosticsServiceImpl>(env.rpc);
          }};
}

}  // namespace townhall
