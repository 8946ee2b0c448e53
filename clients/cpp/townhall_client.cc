#include "clients/cpp/townhall_client.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace townhall {
namespace {

bool WantsTls(const ClientOptions& options) {
  return options.tls || !options.tls_ca_file.empty() ||
         !options.tls_cert_file.empty() || !options.tls_key_file.empty() ||
         !options.tls_server_name.empty();
}

absl::StatusOr<std::string> ReadFile(absl::string_view what,
                                     const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int error = errno;
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot read ", what, " \"", path, "\": ", std::strerror(error)));
  }
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

// A channel on which every call fails (used when the real one cannot be
// made): gRPC makes a "lame" channel for null credentials.
std::shared_ptr<grpc::Channel> ChannelOrLame(const ClientOptions& options,
                                             absl::Status* status) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = MakeChannel(options);
  if (channel.ok()) return *std::move(channel);
  *status = channel.status();
  return grpc::CreateChannel(options.address, nullptr);
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>>
MakeChannelCredentials(const ClientOptions& options) {
  if (options.credentials != nullptr) return options.credentials;
  if (!WantsTls(options)) return grpc::InsecureChannelCredentials();
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return absl::InvalidArgumentError(
        "tls_cert_file and tls_key_file go together");
  }
  grpc::SslCredentialsOptions ssl;
  if (!options.tls_ca_file.empty()) {
    absl::StatusOr<std::string> ca =
        ReadFile("TLS CA file", options.tls_ca_file);
    if (!ca.ok()) return ca.status();
    ssl.pem_root_certs = *std::move(ca);
  }
  if (!options.tls_cert_file.empty()) {
    absl::StatusOr<std::string> cert =
        ReadFile("TLS certificate file", options.tls_cert_file);
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key =
        ReadFile("TLS key file", options.tls_key_file);
    if (!key.ok()) return key.status();
    ssl.pem_cert_chain = *std::move(cert);
    ssl.pem_private_key = *std::move(key);
  }
  return grpc::SslCredentials(ssl);
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(
    const ClientOptions& options) {
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      MakeChannelCredentials(options);
  if (!credentials.ok()) return credentials.status();
  grpc::ChannelArguments arguments;
  if (!options.tls_server_name.empty()) {
    arguments.SetSslTargetNameOverride(options.tls_server_name);
  }
  return grpc::CreateCustomChannel(options.address, *credentials, arguments);
}

absl::StatusOr<TownhallClient> TownhallClient::Create(ClientOptions options) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = MakeChannel(options);
  if (!channel.ok()) return channel.status();
  return TownhallClient(std::move(options), *std::move(channel));
}

TownhallClient::TownhallClient(ClientOptions options)
    : options_(std::move(options)),
      channel_(ChannelOrLame(options_, &channel_status_)),
      DiagnosticsService_(v1::DiagnosticsService::NewStub(channel_)),
      TenantService_(v1::TenantService::NewStub(channel_)),
      SchedulingService_(v1::SchedulingService::NewStub(channel_)),
      RegistrationService_(v1::RegistrationService::NewStub(channel_)),
      AgendaService_(v1::AgendaService::NewStub(channel_)) {}

TownhallClient::TownhallClient(ClientOptions options,
                               std::shared_ptr<grpc::Channel> channel)
    : options_(std::move(options)),
      channel_(std::move(channel)),
      DiagnosticsService_(v1::DiagnosticsService::NewStub(channel_)),
      TenantService_(v1::TenantService::NewStub(channel_)),
      SchedulingService_(v1::SchedulingService::NewStub(channel_)),
      RegistrationService_(v1::RegistrationService::NewStub(channel_)),
      AgendaService_(v1::AgendaService::NewStub(channel_)) {}

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
