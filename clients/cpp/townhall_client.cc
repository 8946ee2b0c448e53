#include "clients/cpp/townhall_client.h"

#include <grpcpp/generic/generic_stub.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/notification.h"
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

absl::Status ToStatus(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

const google::protobuf::FieldDescriptor* RequestIdField(
    const google::protobuf::Descriptor& descriptor) {
  const google::protobuf::FieldDescriptor* field =
      descriptor.FindFieldByName("request_id");
  if (field == nullptr || field->is_repeated() ||
      field->type() != google::protobuf::FieldDescriptor::TYPE_STRING) {
    return nullptr;
  }
  return field;
}

std::string MethodPath(const google::protobuf::MethodDescriptor& method) {
  return absl::StrCat("/", method.service()->full_name(), "/", method.name());
}

// Generic calls carry plain messages: protobuf's serialization of whatever
// concrete type the descriptor names.
using MessageStub = grpc::TemplatedGenericStub<google::protobuf::Message,
                                               google::protobuf::Message>;

}  // namespace

bool FillRequestId(google::protobuf::Message& request) {
  const google::protobuf::FieldDescriptor* field =
      RequestIdField(*request.GetDescriptor());
  if (field == nullptr) return false;
  const google::protobuf::Reflection* reflection = request.GetReflection();
  if (!reflection->GetString(request, field).empty()) return false;
  // 128 random bits: no two clients pick the same id within the server's
  // 24 hours of idempotency keys.
  absl::BitGen bits;
  reflection->SetString(
      &request, field,
      absl::StrFormat("th-%016x%016x", absl::Uniform<uint64_t>(bits),
                      absl::Uniform<uint64_t>(bits)));
  return true;
}

bool TownhallClient::NeedsRequestId(const google::protobuf::Message& request) {
  const google::protobuf::FieldDescriptor* field =
      RequestIdField(*request.GetDescriptor());
  return field != nullptr &&
         request.GetReflection()->GetString(request, field).empty();
}

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
      AgendaService_(v1::AgendaService::NewStub(channel_)),
      QuestionService_(v1::QuestionService::NewStub(channel_)),
      PollService_(v1::PollService::NewStub(channel_)) {}

TownhallClient::TownhallClient(ClientOptions options,
                               std::shared_ptr<grpc::Channel> channel)
    : options_(std::move(options)),
      channel_(std::move(channel)),
      DiagnosticsService_(v1::DiagnosticsService::NewStub(channel_)),
      TenantService_(v1::TenantService::NewStub(channel_)),
      SchedulingService_(v1::SchedulingService::NewStub(channel_)),
      RegistrationService_(v1::RegistrationService::NewStub(channel_)),
      AgendaService_(v1::AgendaService::NewStub(channel_)),
      QuestionService_(v1::QuestionService::NewStub(channel_)),
      PollService_(v1::PollService::NewStub(channel_)) {}

absl::Status TownhallClient::CallMethod(
    const google::protobuf::MethodDescriptor& method,
    const google::protobuf::Message& request,
    google::protobuf::Message* response, const CallOptions& call) {
  if (!channel_status_.ok()) return channel_status_;
  std::unique_ptr<google::protobuf::Message> with_id;
  const google::protobuf::Message* sent = &request;
  if (NeedsRequestId(request)) {
    with_id.reset(request.New());
    with_id->CopyFrom(request);
    FillRequestId(*with_id);
    sent = with_id.get();
  }
  MessageStub stub(channel_);
  const std::string path = MethodPath(method);
  return CallWithRetries(call, [&](grpc::ClientContext* context) {
    response->Clear();
    grpc::Status status;
    absl::Notification done;
    stub.UnaryCall(context, path, grpc::StubOptions(), sent, response,
                   [&](grpc::Status s) {
                     status = std::move(s);
                     done.Notify();
                   });
    done.WaitForNotification();
    return status;
  });
}

absl::Status TownhallClient::Watch(
    const google::protobuf::MethodDescriptor& method,
    const google::protobuf::Message& request,
    absl::FunctionRef<void(const google::protobuf::Message&)> on_message,
    const CallOptions& call) {
  if (!channel_status_.ok()) return channel_status_;
  grpc::ClientContext context;
  PrepareContext(call,
                 absl::Now() + call.deadline.value_or(absl::InfiniteDuration()),
                 &context);
  grpc::CompletionQueue queue;
  MessageStub stub(channel_);
  // A server stream is a bidirectional one on the wire in which the client
  // writes once. One operation is in flight at a time, so the queue's next
  // event is always the answer to the last one.
  auto stream = stub.PrepareCall(&context, MethodPath(method), &queue);
  void* tag;
  bool ok = false;
  auto wait = [&] { return queue.Next(&tag, &ok) && ok; };
  stream->StartCall(nullptr);
  if (wait()) {
    stream->Write(request, nullptr);
    if (wait()) {
      stream->WritesDone(nullptr);
      wait();
    }
  }
  std::unique_ptr<google::protobuf::Message> message(
      google::protobuf::MessageFactory::generated_factory()
          ->GetPrototype(method.output_type())
          ->New());
  for (;;) {
    stream->Read(message.get(), nullptr);
    if (!wait()) break;
    on_message(*message);
  }
  grpc::Status status;
  stream->Finish(&status, nullptr);
  queue.Next(&tag, &ok);
  queue.Shutdown();
  while (queue.Next(&tag, &ok)) {
  }
  return ToStatus(status);
}

absl::Status TownhallClient::CallWithRetries(
    const CallOptions& call,
    absl::FunctionRef<grpc::Status(grpc::ClientContext*)> attempt) const {
  const absl::Time deadline =
      absl::Now() + call.deadline.value_or(options_.default_deadline);
  const RetryPolicy& policy = options_.retry;
  const int max_attempts =
      std::max(1, call.max_attempts.value_or(policy.max_attempts));
  absl::Duration backoff = policy.initial_backoff;
  absl::BitGen bits;
  for (int n = 1;; ++n) {
    grpc::ClientContext context;
    PrepareContext(call, deadline, &context);
    grpc::Status status = attempt(&context);
    if (status.error_code() != grpc::StatusCode::UNAVAILABLE ||
        n >= max_attempts) {
      return ToStatus(status);
    }
    // Jitter keeps many clients that lost the same server from coming back
    // in lockstep.
    const absl::Duration wait = backoff * absl::Uniform(bits, 0.5, 1.0);
    if (absl::Now() + wait >= deadline) return ToStatus(status);
    absl::SleepFor(wait);
    backoff = std::min(backoff * policy.multiplier, policy.max_backoff);
  }
}

void TownhallClient::PrepareContext(const CallOptions& call,
                                    grpc::ClientContext* context) const {
  PrepareContext(
      call, absl::Now() + call.deadline.value_or(options_.default_deadline),
      context);
}

void TownhallClient::PrepareContext(const CallOptions& call,
                                    absl::Time deadline,
                                    grpc::ClientContext* context) const {
  context->set_deadline(absl::ToChronoTime(deadline));
  const std::string& token =
      call.token.has_value() ? *call.token : options_.token;
  if (!token.empty())
    context->AddMetadata("authorization", absl::StrCat("Bearer ", token));
  if (!call.request_id.empty())
    context->AddMetadata("x-request-id", call.request_id);
}

}  // namespace townhall
