#include "tests/testing/health.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/status.h"

namespace townhall::testing {

absl::StatusOr<bool> CheckServing(const std::string& address,
                                  const std::string& service) {
  auto channel =
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(
      absl::ToChronoTime(absl::Now() + absl::Milliseconds(500)));
  // HealthCheckRequest{service = 1}, encoded by hand.
  std::string bytes = absl::StrCat(
      "\x0a", std::string(1, static_cast<char>(service.size())), service);
  grpc::Slice slice(bytes);
  grpc::ByteBuffer request(&slice, 1);
  grpc::CompletionQueue cq;
  grpc::ByteBuffer response;
  grpc::Status status;
  auto call = stub.PrepareUnaryCall(&context, "/grpc.health.v1.Health/Check",
                                    request, &cq);
  call->StartCall();
  call->Finish(&response, &status, reinterpret_cast<void*>(1));
  void* tag = nullptr;
  bool ok = false;
  cq.Next(&tag, &ok);
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  if (!status.ok()) return FromGrpcStatus(status);
  std::vector<grpc::Slice> slices;
  (void)response.Dump(&slices);
  std::string out;
  for (auto& s : slices)
    out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  // HealthCheckResponse{status = 1}: 1 SERVING, 2 NOT_SERVING.
  return out == std::string("\x08\x01", 2);
}

bool WaitForHealth(const std::string& address, const std::string& service,
                   bool serving, absl::Duration timeout) {
  absl::Time give_up = absl::Now() + timeout;
  while (absl::Now() < give_up) {
    absl::StatusOr<bool> current = CheckServing(address, service);
    if (current.ok() && *current == serving) return true;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return false;
}

}  // namespace townhall::testing
