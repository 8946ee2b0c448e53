// The CPU that metrics add to one call, measured on the real instruments
// (services/common/metrics) without a server, so that the figure does not
// drown in the noise of a shared machine the way an end-to-end throughput
// ratio does (docs/benchmarks.md, "The cost of metrics").
//
// Per call it does what townhalld does with --metrics_listen:
//   ping  RpcRunner: Method() lookup, Started(), Finished() with the time;
//   vote  that, plus the event loop's queue-depth and in-flight gauges, the
//         script histogram (looked up by script name, as Finish() does) and
//         two clock reads, plus the business vote counter.
// Threads run the same loop at once, as gRPC's threads do, so the
// histograms' mutexes are contended as they are under load.
//
//   metrics-cost-bench --threads=2 --calls=2000000
// prints one JSON line per kind: {"kind":..., "threads":..., "ns_per_call":...}
// (CPU time of the process over the calls of all threads).
#include <time.h>

#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "services/common/metrics/metrics.h"
#include "townhall/v1/diagnostics.pb.h"
#include "townhall/v1/questions.pb.h"

ABSL_FLAG(int, threads, 2, "threads calling at once");
ABSL_FLAG(int, calls, 2000000, "calls per thread");

namespace townhall {
namespace {

double ProcessCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

void Ping(Metrics& metrics, int calls) {
  for (int i = 0; i < calls; ++i) {
    absl::Time start = absl::Now();
    const RpcMethodMetrics* m =
        metrics.Method("/townhall.v1.DiagnosticsService/Ping");
    m->Started();
    m->Finished(absl::OkStatus(), absl::Now() - start);
  }
}

void Vote(Metrics& metrics, int calls) {
  RedisInstruments instruments(&metrics.redis(), "127.0.0.1:6379");
  const std::string script = "vote.lua";
  double in_flight = 0;
  for (int i = 0; i < calls; ++i) {
    absl::Time start = absl::Now();
    const RpcMethodMetrics* m =
        metrics.Method("/townhall.v1.QuestionService/UpvoteQuestion");
    m->Started();
    metrics.redis().event_loop_queue_depth().Set(1);
    absl::Time sent = absl::Now();
    metrics.redis().event_loop_in_flight().Set(++in_flight);
    metrics.redis().event_loop_in_flight().Set(--in_flight);
    instruments.Script(script)->Observe(
        absl::ToDoubleSeconds(absl::Now() - sent));
    metrics.business().Voted(true);
    m->Finished(absl::OkStatus(), absl::Now() - start);
  }
}

void Run(const char* kind, void (*body)(Metrics&, int), int threads,
         int calls) {
  Metrics metrics;
  // Through a message of each file, which links its descriptors in.
  metrics.AddService(*v1::PingRequest::descriptor()->file()->FindServiceByName(
      "DiagnosticsService"));
  metrics.AddService(
      *v1::UpvoteQuestionRequest::descriptor()->file()->FindServiceByName(
          "QuestionService"));
  body(metrics, calls / 10);  // warm-up: caches, the lazy allocations
  double cpu = ProcessCpuSeconds();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] { body(metrics, calls); });
  }
  for (std::thread& w : workers) w.join();
  cpu = ProcessCpuSeconds() - cpu;
  std::printf("{\"kind\":\"%s\",\"threads\":%d,\"ns_per_call\":%.1f}\n", kind,
              threads, cpu * 1e9 / (static_cast<double>(threads) * calls));
}

}  // namespace
}  // namespace townhall

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const int threads = absl::GetFlag(FLAGS_threads);
  const int calls = absl::GetFlag(FLAGS_calls);
  townhall::Run("ping", townhall::Ping, threads, calls);
  townhall::Run("vote", townhall::Vote, threads, calls);
  return 0;
}
