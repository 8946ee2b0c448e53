#include "tests/testing/generic_call.h"

#include <google/protobuf/dynamic_message.h>
#include <grpcpp/generic/generic_stub.h>

#include <future>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "townhall/v1/agenda.grpc.pb.h"
#include "townhall/v1/diagnostics.grpc.pb.h"
#include "townhall/v1/polls.grpc.pb.h"
#include "townhall/v1/questions.grpc.pb.h"
#include "townhall/v1/registration.grpc.pb.h"
#include "townhall/v1/scheduling.grpc.pb.h"
#include "townhall/v1/tenant.grpc.pb.h"

namespace townhall::testing {

const std::vector<std::string>& ServiceNames() {
  static const auto* const kNames =
      new std::vector<std::string>{v1::AgendaService::service_full_name(),
                                   v1::SchedulingService::service_full_name(),
                                   v1::RegistrationService::service_full_name(),
                                   v1::TenantService::service_full_name(),
                                   v1::DiagnosticsService::service_full_name(),
                                   v1::QuestionService::service_full_name(),
                                   v1::PollService::service_full_name()};
  return *kNames;
}

const std::vector<std::string>& AllMethods() {
  static const auto* const kMethods = [] {
    auto* methods = new std::vector<std::string>;
    for (const std::string& name : ServiceNames()) {
      const google::protobuf::ServiceDescriptor* service =
          google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
              name);
      for (int i = 0; service != nullptr && i < service->method_count(); ++i) {
        methods->push_back(
            absl::StrCat("/", name, "/", service->method(i)->name()));
      }
    }
    return methods;
  }();
  return *kMethods;
}

const google::protobuf::MethodDescriptor* FindMethod(absl::string_view path) {
  // "/townhall.v1.Service/Method"
  if (path.size() < 2 || path[0] != '/') return nullptr;
  std::string full(path.substr(1));
  size_t slash = full.find('/');
  if (slash == std::string::npos) return nullptr;
  full[slash] = '.';
  return google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(
      full);
}

std::unique_ptr<google::protobuf::Message> NewRequest(
    const google::protobuf::MethodDescriptor& method) {
  return std::unique_ptr<google::protobuf::Message>(
      google::protobuf::MessageFactory::generated_factory()
          ->GetPrototype(method.input_type())
          ->New());
}

void SetStringField(google::protobuf::Message* request,
                    absl::string_view field_name, const std::string& value) {
  using google::protobuf::FieldDescriptor;
  const FieldDescriptor* field =
      request->GetDescriptor()->FindFieldByName(std::string(field_name));
  if (value.empty() || field == nullptr ||
      field->type() != FieldDescriptor::TYPE_STRING) {
    return;
  }
  if (field->is_repeated()) {
    request->GetReflection()->AddString(request, field, value);
  } else {
    request->GetReflection()->SetString(request, field, value);
  }
}

absl::Status RawCall(const std::shared_ptr<grpc::Channel>& channel,
                     const std::string& path, const std::string& authorization,
                     const std::string& request_bytes,
                     std::string* response_bytes) {
  const google::protobuf::MethodDescriptor* method = FindMethod(path);
  const bool streams = method != nullptr && method->server_streaming();
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(
      absl::Now() + (streams ? absl::Milliseconds(500) : absl::Seconds(10))));
  if (!authorization.empty()) {
    context.AddMetadata("authorization", authorization);
  }
  grpc::Slice slice(request_bytes);  // an empty message is zero bytes
  grpc::ByteBuffer send(&slice, 1);
  grpc::ByteBuffer receive;
  std::promise<grpc::Status> done;
  stub.UnaryCall(
      &context, path, grpc::StubOptions(), &send, &receive,
      [&done](grpc::Status status) { done.set_value(std::move(status)); });
  grpc::Status status = done.get_future().get();
  if (response_bytes != nullptr) {
    response_bytes->clear();
    std::vector<grpc::Slice> slices;
    if (status.ok() && receive.Dump(&slices).ok()) {
      for (const grpc::Slice& s : slices) {
        response_bytes->append(reinterpret_cast<const char*>(s.begin()),
                               s.size());
      }
    }
  }
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

absl::Status CallWithToken(const std::shared_ptr<grpc::Channel>& channel,
                           const std::string& path,
                           const google::protobuf::Message& request,
                           const std::string& token,
                           std::string* response_bytes) {
  return RawCall(channel, path,
                 token.empty() ? "" : absl::StrCat("Bearer ", token),
                 request.SerializeAsString(), response_bytes);
}

}  // namespace townhall::testing
