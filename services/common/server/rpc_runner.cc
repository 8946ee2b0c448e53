#include "services/common/server/rpc_runner.h"

#include <algorithm>
#include <chrono>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "proto/support/request_decoding.h"
#include "services/common/auth/authorization.h"
#include "services/common/logging.h"
#include "services/common/status.h"

namespace townhall {
namespace {

constexpr size_t kMaxClientRequestIdBytes = 64;

// A request id names a call in logs and replies; it guards nothing, so it
// needs no cryptographic generator. OpenSSL's RAND_bytes checked getpid()
// (a system call) on every call: 3 % of a Ping's CPU.
std::string NewRequestId() {
  thread_local absl::BitGen bits;
  const uint64_t id = absl::Uniform<uint64_t>(bits);
  return absl::StrFormat("%016x", id);
}

}  // namespace

RpcRunner::RpcRunner(RedisPool* redis, RedisEventLoop* loop,
                     const Authenticator* auth, Options options)
    : redis_(redis), loop_(loop), auth_(auth), options_(options) {}

RpcRunner::Call RpcRunner::Begin(grpc::CallbackServerContext* ctx,
                                 absl::string_view method,
                                 const google::protobuf::Message& request,
                                 absl::StatusOr<Principal>* caller) const {
  Call call;
  call.reactor = ctx->DefaultReactor();
  *caller = Authorize(ctx, method, request, &call);
  if (call.metrics != nullptr) call.metrics->Started();
  return call;
}

absl::StatusOr<Principal> RpcRunner::Authorize(
    grpc::CallbackServerContext* ctx, absl::string_view method,
    const google::protobuf::Message& request, CallLog* log) const {
  CallLog& call = *log;
  call.method = std::string(method);
  call.start = absl::Now();
  if (options_.metrics != nullptr) {
    call.metrics = options_.metrics->Method(method);
  }
  call.deadline = std::min(absl::FromChrono(ctx->deadline()),
                           call.start + options_.max_call_time);
  const auto& metadata = ctx->client_metadata();
  auto it = metadata.find("x-request-id");
  if (it != metadata.end() && !it->second.empty() &&
      it->second.size() <= kMaxClientRequestIdBytes) {
    call.request_id.assign(it->second.data(), it->second.size());
  } else {
    call.request_id = NewRequestId();
  }
  ctx->AddInitialMetadata("x-request-id", call.request_id);
  absl::StatusOr<Principal> caller = auth_->Authenticate(*ctx);
  if (!caller.ok()) return caller;
  call.tenant_id = caller->tenant_id;
  // After authentication (anonymous callers learn nothing but that) and
  // before authorization: a request protobuf could not parse (invalid
  // UTF-8, malformed wire format) was delivered empty, so checking its
  // session_id would refuse it for the wrong reason. The caller learns only
  // what is wrong with its own bytes.
  if (std::optional<std::string> error = DecodingError(request)) {
    return absl::InvalidArgumentError(*error);
  }
  if (absl::Status allowed = townhall::Authorize(*caller, method, request);
      !allowed.ok()) {
    return allowed;
  }
  return caller;
}

void RpcRunner::Finish(const Call& call, const absl::Status& status) const {
  LogAccess(call, status);
  if (call.metrics != nullptr) {
    call.metrics->Finished(status, absl::Now() - call.start);
  }
  call.reactor->Finish(ToGrpcStatus(status));
}

void RpcRunner::LogCall(const CallLog& call, const absl::Status& status) const {
  LogAccess(call, status);
  if (call.metrics != nullptr) call.metrics->StreamEnded(status);
}

void RpcRunner::LogAccess(const CallLog& call,
                          const absl::Status& status) const {
  if (status.code() == absl::StatusCode::kInternal ||
      status.code() == absl::StatusCode::kUnknown) {
    LogError("rpc failed", {{"request_id", call.request_id},
                            {"method", call.method},
                            {"error", status.ToString()}});
  }
  if (options_.access_log) {
    LogInfo("rpc", {{"request_id", call.request_id},
                    {"method", call.method},
                    {"tenant", call.tenant_id},
                    {"code", absl::StatusCodeToString(status.code())},
                    {"ms", absl::StrCat(absl::ToDoubleMilliseconds(
                               absl::Now() - call.start))}});
  }
}

}  // namespace townhall
