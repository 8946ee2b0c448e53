#include "clients/cpp/townhall_client.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace townhall {

TownhallClient::TownhallClient(ClientOptions options)
    : TownhallClient(options, grpc::CreateChannel(
                                  options.address,
                                  options.credentials != nullptr
                                      ? options.credentials
                                      : grpc::InsecureChannelCredentials())) {}

TownhallClient::TownhallClient(ClientOptions options,
                               std::shared_ptr<grpc::Channel> channel)
    : options_(std::move(options)),
      channel_(std::move(channel)),
      DiagnosticsService_(v1::DiagnosticsService::NewStub(channel_)),
      TenantService_(v1::TenantService::NewStub(channel_)),
      SchedulingService_(v1::SchedulingService::NewStub(channel_)) {}

void TownhallClient::PrepareContext(const CallOptions& call,
                                    grpc::ClientContext* context) const {
  absl::Duration deadline = call.deadline.value_or(options_.default_deadline);
  context->set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  const std::string& token =
      call.token.has_value() ? *call.token : options_.token;
  if (!token.empty())
    context->AddMetadata("authorization", absl::StrCat("Bearer ", token));
  if (!call.request_id.empty())
    context->AddMetadata("x-request-id", call.request_id);
}

}  // namespace townhall
