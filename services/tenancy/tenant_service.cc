#include "services/tenancy/tenant_service.h"

#include <google/protobuf/util/time_util.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/status.h"
#include "services/common/tenant_keys.h"
#include "services/common/validation.h"
#include "townhall/v1/tenant.grpc.pb.h"

namespace townhall::tenancy {
namespace {

constexpr absl::Duration kDefaultTokenTtl = absl::Hours(12);
constexpr absl::Duration kMaxTokenTtl = absl::Hours(24 * 30);

std::string TenantKey(absl::string_view tenant_id) {
  return absl::StrCat(TenantPrefix(tenant_id), "tenant");
}

absl::Status ValidateTenantId(absl::string_view field, absl::string_view id) {
  if (id.size() < 3 || id.size() > 63) {
    return InvalidField(field, "must be 3 to 63 characters");
  }
  for (char c : id) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '-') {
      return InvalidField(field, "may contain only a-z, 0-9 and '-'");
    }
  }
  return absl::OkStatus();
}

// The operator may act on any tenant; an organizer only on their own, and
// another tenant looks as if it did not exist.
absl::Status RequireTenantAccess(const Principal& caller,
                                 absl::string_view tenant_id) {
  if (caller.is_operator() || caller.tenant_id == tenant_id)
    return absl::OkStatus();
  return absl::NotFoundError(absl::StrCat("tenant ", tenant_id, " not found"));
}

absl::StatusOr<v1::Tenant> LoadTenant(RedisConnection& redis,
                                      absl::string_view id) {
  TH_ASSIGN_OR_RETURN(RedisReply reply, redis.Command({"GET", TenantKey(id)}));
  if (reply.is_nil())
    return absl::NotFoundError(absl::StrCat("tenant ", id, " not found"));
  v1::Tenant tenant;
  if (!tenant.ParseFromString(reply.str))
    return absl::InternalError("corrupt tenant");
  return tenant;
}

class TenantServiceImpl final : public v1::TenantService::CallbackService,
                                public ServiceModule {
 public:
  TenantServiceImpl(RpcRunner* rpc, const Authenticator* auth)
      : rpc_(rpc), auth_(auth) {}

  std::string grpc_name() const override {
    return v1::TenantService::service_full_name();
  }
  grpc::Service* service() override { return this; }

  grpc::ServerUnaryReactor* CreateTenant(
      grpc::CallbackServerContext* ctx, const v1::CreateTenantRequest* request,
      v1::CreateTenantResponse* response) override {
    return rpc_->Run(
        ctx, TH_METHOD(TenantService, CreateTenant), *request,
        [this, request, response](const Principal& caller,
                                  RedisConnection& redis) -> absl::Status {
          v1::Tenant tenant = request->tenant();
          TH_RETURN_IF_ERROR(ValidateTenantId("tenant.id", tenant.id()));
          TH_RETURN_IF_ERROR(ValidateText("tenant.display_name",
                                          tenant.display_name(),
                                          {.min_chars = 1, .max_chars = 200}));
          *tenant.mutable_create_time() =
              google::protobuf::util::TimeUtil::SecondsToTimestamp(
                  absl::ToUnixSeconds(absl::Now()));
          TH_ASSIGN_OR_RETURN(
              RedisReply reply,
              redis.Command({"SET", TenantKey(tenant.id()),
                             tenant.SerializeAsString(), "NX"}));
          if (reply.is_nil()) {
            return absl::AlreadyExistsError(
                absl::StrCat("tenant ", tenant.id(), " exists"));
          }
          *response->mutable_tenant() = std::move(tenant);
          return absl::OkStatus();
        });
  }

  grpc::ServerUnaryReactor* GetTenant(
      grpc::CallbackServerContext* ctx, const v1::GetTenantRequest* request,
      v1::GetTenantResponse* response) override {
    return rpc_->Run(
        ctx, TH_METHOD(TenantService, GetTenant), *request,
        [this, request, response](const Principal& caller,
                                  RedisConnection& redis) -> absl::Status {
          TH_RETURN_IF_ERROR(
              ValidateTenantId("tenant_id", request->tenant_id()));
          TH_RETURN_IF_ERROR(RequireTenantAccess(caller, request->tenant_id()));
          TH_ASSIGN_OR_RETURN(*response->mutable_tenant(),
                              LoadTenant(redis, request->tenant_id()));
          return absl::OkStatus();
        });
  }

  grpc::ServerUnaryReactor* IssueToken(
      grpc::CallbackServerContext* ctx, const v1::IssueTokenRequest* request,
      v1::IssueTokenResponse* response) override {
    return rpc_->Run(
        ctx, TH_METHOD(TenantService, IssueToken), *request,
        [this, request, response](const Principal& caller,
                                  RedisConnection& redis) -> absl::Status {
          TH_RETURN_IF_ERROR(
              ValidateTenantId("tenant_id", request->tenant_id()));
          TH_RETURN_IF_ERROR(RequireTenantAccess(caller, request->tenant_id()));
          TH_RETURN_IF_ERROR(ValidateText("subject", request->subject(),
                                          {.min_chars = 1, .max_chars = 200}));
          // Join tokens come from RegistrationService.IssueJoinToken and
          // API keys from CreateApiKey, never from here.
          Role role = Role::kOrganizer;
          if (!request->role().empty() && request->role() != "organizer") {
            return InvalidField("role", "must be \"organizer\"");
          }
          absl::Duration ttl = kDefaultTokenTtl;
          if (request->has_ttl()) ttl = absl::Seconds(request->ttl().seconds());
          if (ttl <= absl::ZeroDuration() || ttl > kMaxTokenTtl) {
            return InvalidField("ttl", "must be positive and at most 30 days");
          }
          TH_RETURN_IF_ERROR(LoadTenant(redis, request->tenant_id()).status());
          absl::Time now = absl::Now();
          TokenClaims claims{.tenant_id = request->tenant_id(),
                             .subject = request->subject(),
                             .role = role,
                             .issue_time = now,
                             .expire_time = now + ttl};
          TH_ASSIGN_OR_RETURN(std::string token, auth_->Issue(claims));
          response->set_token(std::move(token));
          *response->mutable_expire_time() =
              google::protobuf::util::TimeUtil::SecondsToTimestamp(
                  absl::ToUnixSeconds(claims.expire_time));
          return absl::OkStatus();
        });
  }

 private:
  RpcRunner* rpc_;
  const Authenticator* auth_;
};

}  // namespace

ModuleSpec TenantModule() {
  return {"tenants", [](const ServiceEnv& env) {
            return std::make_unique<TenantServiceImpl>(env.rpc, env.auth);
          }};
}

}  // namespace townhall::tenancy
