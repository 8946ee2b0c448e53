// The floor for a no-op call on this machine: DiagnosticsService.Ping on a
// bare gRPC callback server built from townhall's own proto, with none of
// townhalld's work (no authentication, no request id, no access log, no
// metrics, no Redis). bench/run_bench.sh drives it with the same client as
// townhalld's Ping, so "Ping / bare" is what townhalld's per-call
// bookkeeping costs (docs/benchmarks.md, "Performance (issue 19)").
//
//   bare-grpc-server --listen=127.0.0.1:0 --port_file=/tmp/bare.port
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/synchronization/mutex.h"
#include "townhall/v1/diagnostics.grpc.pb.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:0", "address to listen on");
ABSL_FLAG(std::string, port_file, "",
          "file to write the bound port to once serving");

namespace {

class BarePing final
    : public townhall::v1::DiagnosticsService::CallbackService {
  grpc::ServerUnaryReactor* Ping(
      grpc::CallbackServerContext* ctx,
      const townhall::v1::PingRequest* request,
      townhall::v1::PingResponse* response) override {
    response->set_payload(request->payload());
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  // As townhalld does (server.cc): Debian's Abseil is built with Mutex
  // deadlock detection on, which gRPC's own mutexes pay for on every call.
  // The floor must not carry a cost townhalld does not.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  BarePing service;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(absl::GetFlag(FLAGS_listen),
                           grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::fprintf(stderr, "cannot listen on %s\n",
                 absl::GetFlag(FLAGS_listen).c_str());
    return 1;
  }
  if (std::string file = absl::GetFlag(FLAGS_port_file); !file.empty()) {
    std::ofstream(file) << port << "\n";
  }
  std::printf("bare-grpc-server listening on port %d\n", port);
  std::fflush(stdout);
  server->Wait();
  return 0;
}
