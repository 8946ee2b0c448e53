#include "services/tenancy/tenant_service.h"

#include "services/common/server/unary_handler.h"
#include "services/tenancy/tenant_logic.h"
#include "townhall/v1/tenant.grpc.pb.h"

namespace townhall::tenancy {
namespace {

// Each RPC runs its TenantLogic method on a Redis worker (unary_handler.h).
class TenantServiceImpl final : public v1::TenantService::CallbackService,
                                public ServiceModule {
 public:
  TenantServiceImpl(RpcRunner* rpc, const Authenticator* auth)
      : rpc_(rpc), logic_(auth) {}

  std::string grpc_name() const override {
    return v1::TenantService::service_full_name();
  }
  grpc::Service* service() override { return this; }

  TH_UNARY_RPC(TenantService, CreateTenant, rpc_, logic_)
  TH_UNARY_RPC(TenantService, GetTenant, rpc_, logic_)
  TH_UNARY_RPC(TenantService, IssueToken, rpc_, logic_)
  TH_UNARY_RPC(TenantService, CreateApiKey, rpc_, logic_)
  TH_UNARY_RPC(TenantService, ListApiKeys, rpc_, logic_)
  TH_UNARY_RPC(TenantService, RevokeApiKey, rpc_, logic_)

 private:
  RpcRunner* rpc_;
  TenantLogic logic_;
};

}  // namespace

ModuleSpec TenantModule() {
  return {"tenants", [](const ServiceEnv& env) {
            return std::make_unique<TenantServiceImpl>(env.rpc, env.auth);
          }};
}

}  // namespace townhall::tenancy
