// townhall-bench: a closed-loop gRPC load generator for townhalld.
//
// Keeps --concurrency unary RPCs outstanding at all times, spread over
// --channels HTTP/2 connections, with gRPC's callback client API (no thread
// per request: each completion starts the next call of its slot). After
// --warmup it measures for --duration: throughput of successful RPCs,
// latency percentiles (every latency is recorded, in microseconds) and
// errors by status code.
//
//   townhall-bench --server=127.0.0.1:50051 --token=$TOKEN --rpc=ping
//       --duration=10s --warmup=2s --concurrency=64 --channels=4 --json
//
// --setup prepares a tenant instead: it creates --tenant with the bootstrap
// credential (ALREADY_EXISTS is fine), issues an organizer token, creates
// --prefill online sessions and prints two lines: the token and the id of
// the first session created ("" when --prefill=0).
//
//   townhall-bench --setup --server=... --bootstrap_credential_file=F
//       --tenant=bench-read --prefill=200
//
// RPCs: ping (DiagnosticsService/Ping, the no-op baseline), get_session (one
// session, --session_id or one created at start), create_session (venue-less
// online sessions with distinct start times and distinct request ids),
// list_sessions (first page of --page_size sessions).
#include <grpcpp/grpcpp.h>
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "clients/cpp/townhall_client.h"

ABSL_FLAG(std::string, server, "127.0.0.1:50051",
          "townhalld address (host:port).");
ABSL_FLAG(std::string, token, "", "Organizer token (bearer JWT) for the load.");
ABSL_FLAG(std::string, rpc, "ping",
          "ping | get_session | create_session | list_sessions");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(10), "Measured time.");
ABSL_FLAG(absl::Duration, warmup, absl::Seconds(2),
          "Load before measuring (not counted).");
ABSL_FLAG(int, concurrency, 64, "RPCs outstanding at any time.");
ABSL_FLAG(int, channels, 4, "gRPC channels (separate HTTP/2 connections).");
ABSL_FLAG(absl::Duration, deadline, absl::Seconds(10), "Deadline of each RPC.");
ABSL_FLAG(std::string, session_id, "",
          "Session for get_session; when empty one is created at start.");
ABSL_FLAG(int, page_size, 20, "page_size of list_sessions.");
ABSL_FLAG(int, payload_bytes, 0, "Size of the Ping payload.");
ABSL_FLAG(bool, json, false, "Print one JSON line instead of text.");
ABSL_FLAG(bool, setup, false,
          "Create --tenant, print an organizer token and a session id, exit.");
ABSL_FLAG(std::string, bootstrap_credential_file, "",
          "--setup: file with the operator's bootstrap credential.");
ABSL_FLAG(std::string, tenant, "bench", "--setup: tenant id to create.");
ABSL_FLAG(int, prefill, 200,
          "--setup: online sessions to create in the tenant.");
ABSL_FLAG(absl::Duration, wait, absl::Seconds(30),
          "How long to wait for the server to answer Ping at start.");

namespace townhall {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kNumCodes = 17;  // grpc::StatusCode 0..16

enum class RpcKind { kPing, kGetSession, kCreateSession, kListSessions };

bool ParseRpcKind(const std::string& name, RpcKind* kind) {
  if (name == "ping")
    *kind = RpcKind::kPing;
  else if (name == "get_session")
    *kind = RpcKind::kGetSession;
  else if (name == "create_session")
    *kind = RpcKind::kCreateSession;
  else if (name == "list_sessions")
    *kind = RpcKind::kListSessions;
  else
    return false;
  return true;
}

const char* CodeName(int code) {
  static const char* kNames[kNumCodes] = {"OK",
                                          "CANCELLED",
                                          "UNKNOWN",
                                          "INVALID_ARGUMENT",
                                          "DEADLINE_EXCEEDED",
                                          "NOT_FOUND",
                                          "ALREADY_EXISTS",
                                          "PERMISSION_DENIED",
                                          "RESOURCE_EXHAUSTED",
                                          "FAILED_PRECONDITION",
                                          "ABORTED",
                                          "OUT_OF_RANGE",
                                          "UNIMPLEMENTED",
                                          "INTERNAL",
                                          "UNAVAILABLE",
                                          "DATA_LOSS",
                                          "UNAUTHENTICATED"};
  return code >= 0 && code < kNumCodes ? kNames[code] : "?";
}

// A venue-less online session; distinct `seq` gives a distinct start time.
v1::Session BenchSession(int64_t seq, int64_t base_unix) {
  v1::Session s;
  s.set_title(absl::StrCat("Bench session ", seq));
  s.set_description("Consular questions and answers (benchmark data).");
  s.mutable_start_time()->set_seconds(base_unix + seq * 3600);
  s.mutable_duration()->set_seconds(3600);
  s.set_time_zone("Europe/Berlin");
  s.set_format(v1::SESSION_FORMAT_ONLINE);
  s.set_join_url(absl::StrCat("https://meet.example.org/bench-", seq));
  s.add_languages("en");
  s.add_languages("uz");
  return s;
}

int64_t UnixOf(int year) {
  return absl::ToUnixSeconds(
      absl::FromCivil(absl::CivilDay(year, 1, 1), absl::UTCTimeZone()));
}

std::string RandomHex(int bytes) {
  std::random_device rd;
  std::string out;
  for (int i = 0; i < bytes; ++i)
    absl::StrAppend(&out, absl::Hex(rd() & 0xff, absl::kZeroPad2));
  return out;
}

ClientOptions Options(const std::string& server, const std::string& token) {
  ClientOptions options;
  options.address = server;
  options.token = token;
  return options;
}

CallOptions WithDeadline(absl::Duration deadline) {
  CallOptions call;
  call.deadline = deadline;
  return call;
}

bool WaitForServer(TownhallClient& client, absl::Duration wait) {
  absl::Time give_up = absl::Now() + wait;
  while (true) {
    absl::Status status =
        client.Ping(v1::PingRequest(), WithDeadline(absl::Seconds(1))).status();
    if (status.ok()) return true;
    if (absl::Now() > give_up) {
      std::cerr << "townhall-bench: server not ready: " << status << "\n";
      return false;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
}

// ---------------------------------------------------------------- --setup

int Setup() {
  std::ifstream in(absl::GetFlag(FLAGS_bootstrap_credential_file));
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string credential(absl::StripAsciiWhitespace(buffer.str()));
  if (credential.empty()) {
    std::cerr
        << "townhall-bench: --bootstrap_credential_file is empty or missing\n";
    return 2;
  }
  const std::string server = absl::GetFlag(FLAGS_server);
  TownhallClient op(Options(server, credential));
  if (!WaitForServer(op, absl::GetFlag(FLAGS_wait))) return 1;

  const std::string tenant = absl::GetFlag(FLAGS_tenant);
  v1::CreateTenantRequest create;
  create.mutable_tenant()->set_id(tenant);
  create.mutable_tenant()->set_display_name("Benchmark tenant");
  absl::Status created = op.CreateTenant(create).status();
  if (!created.ok() && created.code() != absl::StatusCode::kAlreadyExists) {
    std::cerr << "townhall-bench: create tenant: " << created << "\n";
    return 1;
  }
  v1::IssueTokenRequest issue;
  issue.set_tenant_id(tenant);
  issue.set_subject("bench@example.org");
  issue.set_role("organizer");
  issue.mutable_ttl()->set_seconds(24 * 3600);
  auto token = op.IssueToken(issue);
  if (!token.ok()) {
    std::cerr << "townhall-bench: issue token: " << token.status() << "\n";
    return 1;
  }
  TownhallClient client(Options(server, token->token()));
  std::string first_id;
  const std::string nonce = RandomHex(6);
  for (int i = 0; i < absl::GetFlag(FLAGS_prefill); ++i) {
    v1::CreateSessionRequest request;
    *request.mutable_session() = BenchSession(i, UnixOf(2030));
    request.set_request_id(absl::StrCat("bench-prefill-", nonce, "-", i));
    request.set_publish(i % 2 == 0);
    auto made = client.CreateSession(request);
    if (!made.ok()) {
      std::cerr << "townhall-bench: prefill session " << i << ": "
                << made.status() << "\n";
      return 1;
    }
    if (first_id.empty()) first_id = made->session().id();
  }
  std::cout << token->token() << "\n" << first_id << "\n";
  return 0;
}

// ---------------------------------------------------------------- load

class Bench;

// One outstanding RPC at a time; each completion starts the slot's next
// call. A slot's calls run one after the other, so its data needs no lock.
struct Slot {
  Bench* bench = nullptr;
  int index = 0;
  std::unique_ptr<grpc::ClientContext> context;
  Clock::time_point started;
  v1::PingResponse ping_response;
  v1::GetSessionResponse get_response;
  v1::CreateSessionRequest create_request;
  v1::CreateSessionResponse create_response;
  v1::ListSessionsResponse list_response;
  // Measured window only.
  std::vector<uint32_t> latencies_us;
  std::array<int64_t, kNumCodes> codes{};
  // Whole run (warm-up included).
  int64_t issued = 0;
};

struct Channel {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<TownhallClient> client;  // for PrepareContext
  std::unique_ptr<v1::DiagnosticsService::Stub> diagnostics;
  std::unique_ptr<v1::SchedulingService::Stub> scheduling;
};

struct Result {
  double seconds = 0;
  int64_t ok = 0;
  std::array<int64_t, kNumCodes> codes{};
  std::vector<uint32_t> latencies_us;  // sorted
  double client_cpu_seconds = 0;
  int64_t issued = 0;
};

double CpuSeconds() {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

class Bench {
 public:
  Bench(RpcKind kind, std::vector<Channel>* channels)
      : kind_(kind), channels_(channels) {
    ping_request_.set_payload(
        std::string(absl::GetFlag(FLAGS_payload_bytes), 'x'));
    get_request_.set_session_id(absl::GetFlag(FLAGS_session_id));
    list_request_.set_page_size(absl::GetFlag(FLAGS_page_size));
    deadline_ = absl::GetFlag(FLAGS_deadline);
    nonce_ = RandomHex(6);
    // Far from the prefilled sessions (2030 on) and from earlier runs.
    create_base_ =
        UnixOf(2100) + (absl::ToUnixSeconds(absl::Now()) % 100000) * 3600;
  }

  Result Run(int concurrency, absl::Duration warmup, absl::Duration duration) {
    slots_.resize(concurrency);
    Clock::time_point begin = Clock::now();
    measure_from_ = begin + absl::ToChronoNanoseconds(warmup);
    measure_until_ = measure_from_ + absl::ToChronoNanoseconds(duration);
    active_.store(concurrency);
    for (int i = 0; i < concurrency; ++i) {
      slots_[i].bench = this;
      slots_[i].index = i;
      slots_[i].latencies_us.reserve(1 << 16);
      Issue(&slots_[i]);
    }
    std::this_thread::sleep_until(measure_from_);
    double cpu_from = CpuSeconds();
    std::this_thread::sleep_until(measure_until_);
    double cpu_until = CpuSeconds();
    // Calls in flight at the end finish within their deadline.
    if (!all_done_.WaitForNotificationWithTimeout(deadline_ +
                                                  absl::Seconds(5))) {
      std::cerr
          << "townhall-bench: calls still outstanding after their deadline\n";
    }

    Result result;
    result.seconds = absl::ToDoubleSeconds(duration);
    result.client_cpu_seconds = cpu_until - cpu_from;
    for (Slot& slot : slots_) {
      for (int c = 0; c < kNumCodes; ++c) result.codes[c] += slot.codes[c];
      result.latencies_us.insert(result.latencies_us.end(),
                                 slot.latencies_us.begin(),
                                 slot.latencies_us.end());
      result.issued += slot.issued;
    }
    result.ok = result.codes[0];
    std::sort(result.latencies_us.begin(), result.latencies_us.end());
    return result;
  }

 private:
  void Issue(Slot* slot) {
    Channel& ch = (*channels_)[slot->index % channels_->size()];
    slot->context = std::make_unique<grpc::ClientContext>();
    ch.client->PrepareContext(WithDeadline(deadline_), slot->context.get());
    ++slot->issued;
    auto done = [slot](grpc::Status status) {
      slot->bench->Done(slot, status);
    };
    slot->started = Clock::now();
    switch (kind_) {
      case RpcKind::kPing:
        ch.diagnostics->async()->Ping(slot->context.get(), &ping_request_,
                                      &slot->ping_response, std::move(done));
        break;
      case RpcKind::kGetSession:
        ch.scheduling->async()->GetSession(slot->context.get(), &get_request_,
                                           &slot->get_response,
                                           std::move(done));
        break;
      case RpcKind::kCreateSession: {
        int64_t seq = next_seq_.fetch_add(1);
        slot->create_request.Clear();
        *slot->create_request.mutable_session() =
            BenchSession(seq, create_base_);
        slot->create_request.set_request_id(
            absl::StrCat("bench-", nonce_, "-", seq));
        ch.scheduling->async()->CreateSession(
            slot->context.get(), &slot->create_request, &slot->create_response,
            std::move(done));
        break;
      }
      case RpcKind::kListSessions:
        ch.scheduling->async()->ListSessions(
            slot->context.get(), &list_request_, &slot->list_response,
            std::move(done));
        break;
    }
  }

  void Done(Slot* slot, const grpc::Status& status) {
    Clock::time_point now = Clock::now();
    if (now >= measure_from_ && now < measure_until_) {
      int code = static_cast<int>(status.error_code());
      ++slot->codes[code >= 0 && code < kNumCodes ? code : 2];
      if (status.ok()) {
        auto us = std::chrono::duration_cast<std::chrono::microseconds>(
            now - slot->started);
        slot->latencies_us.push_back(static_cast<uint32_t>(us.count()));
      } else if (first_error_.exchange(true) == false) {
        absl::MutexLock lock(&mu_);
        first_error_message_ =
            absl::StrCat(CodeName(code), ": ", status.error_message());
      }
    }
    if (now >= measure_until_) {
      if (active_.fetch_sub(1) == 1) all_done_.Notify();
      return;
    }
    Issue(slot);  // ClientContext of the finished call is released here
  }

 public:
  std::string first_error() {
    absl::MutexLock lock(&mu_);
    return first_error_message_;
  }

 private:
  const RpcKind kind_;
  std::vector<Channel>* channels_;
  absl::Duration deadline_;
  v1::PingRequest ping_request_;
  v1::GetSessionRequest get_request_;
  v1::ListSessionsRequest list_request_;
  std::string nonce_;
  int64_t create_base_ = 0;
  std::atomic<int64_t> next_seq_{0};
  std::vector<Slot> slots_;
  Clock::time_point measure_from_;
  Clock::time_point measure_until_;
  std::atomic<int> active_{0};
  absl::Notification all_done_;
  std::atomic<bool> first_error_{false};
  absl::Mutex mu_;
  std::string first_error_message_;
};

uint32_t Percentile(const std::vector<uint32_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t rank =
      static_cast<size_t>(p / 100.0 * static_cast<double>(sorted.size()));
  return sorted[std::min(rank, sorted.size() - 1)];
}

int Load() {
  RpcKind kind;
  const std::string rpc = absl::GetFlag(FLAGS_rpc);
  if (!ParseRpcKind(rpc, &kind)) {
    std::cerr << "townhall-bench: unknown --rpc=" << rpc << "\n";
    return 2;
  }
  const std::string server = absl::GetFlag(FLAGS_server);
  const std::string token = absl::GetFlag(FLAGS_token);
  if (token.empty()) {
    std::cerr << "townhall-bench: --token is required (see --setup)\n";
    return 2;
  }
  const int concurrency = std::max(1, absl::GetFlag(FLAGS_concurrency));
  const int num_channels =
      std::max(1, std::min(absl::GetFlag(FLAGS_channels), concurrency));

  // Channels with identical arguments share one subchannel (one TCP
  // connection); a local subchannel pool and a distinct argument give each
  // channel its own connection.
  std::vector<Channel> channels(num_channels);
  for (int i = 0; i < num_channels; ++i) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt("townhall.bench.channel", i);
    args.SetMaxReceiveMessageSize(64 << 20);
    channels[i].channel = grpc::CreateCustomChannel(
        server, grpc::InsecureChannelCredentials(), args);
    channels[i].client = std::make_unique<TownhallClient>(
        Options(server, token), channels[i].channel);
    channels[i].diagnostics =
        v1::DiagnosticsService::NewStub(channels[i].channel);
    channels[i].scheduling =
        v1::SchedulingService::NewStub(channels[i].channel);
  }
  for (Channel& ch : channels) {
    if (!WaitForServer(*ch.client, absl::GetFlag(FLAGS_wait))) return 1;
  }
  if (kind == RpcKind::kGetSession && absl::GetFlag(FLAGS_session_id).empty()) {
    v1::CreateSessionRequest request;
    *request.mutable_session() = BenchSession(0, UnixOf(2099));
    auto made = channels[0].client->CreateSession(request);
    if (!made.ok()) {
      std::cerr << "townhall-bench: create a session for get_session: "
                << made.status() << "\n";
      return 1;
    }
    absl::SetFlag(&FLAGS_session_id, made->session().id());
  }

  Bench bench(kind, &channels);
  Result r = bench.Run(concurrency, absl::GetFlag(FLAGS_warmup),
                       absl::GetFlag(FLAGS_duration));

  int64_t errors = 0;
  std::vector<std::string> error_parts;
  for (int c = 1; c < kNumCodes; ++c) {
    if (r.codes[c] == 0) continue;
    errors += r.codes[c];
    error_parts.push_back(
        absl::StrFormat("\"%s\":%d", CodeName(c), r.codes[c]));
  }
  double throughput = r.ok / r.seconds;
  double mean = 0;
  for (uint32_t v : r.latencies_us) mean += v;
  if (!r.latencies_us.empty()) mean /= r.latencies_us.size();
  uint32_t p50 = Percentile(r.latencies_us, 50),
           p90 = Percentile(r.latencies_us, 90),
           p99 = Percentile(r.latencies_us, 99);
  uint32_t max = r.latencies_us.empty() ? 0 : r.latencies_us.back();
  double client_cpu_us_per_rpc =
      r.ok > 0 ? r.client_cpu_seconds * 1e6 / r.ok : 0;

  if (absl::GetFlag(FLAGS_json)) {
    std::cout << absl::StrFormat(
        "{\"rpc\":\"%s\",\"seconds\":%.3f,\"concurrency\":%d,\"channels\":%d,"
        "\"ok\":%d,\"errors\":%d,\"error_codes\":{%s},\"throughput\":%.1f,"
        "\"p50_us\":%d,\"p90_us\":%d,\"p99_us\":%d,\"max_us\":%d,\"mean_us\":%."
        "1f,"
        "\"client_cpu_s\":%.3f,\"client_cpu_us_per_rpc\":%.1f,\"calls_total\":%"
        "d}\n",
        rpc, r.seconds, concurrency, num_channels, r.ok, errors,
        absl::StrJoin(error_parts, ","), throughput, p50, p90, p99, max, mean,
        r.client_cpu_seconds, client_cpu_us_per_rpc, r.issued);
  } else {
    std::cout << absl::StrFormat(
        "%s: %.0f ok/s over %.1fs (concurrency %d, %d channels)\n"
        "  latency us: p50 %d  p90 %d  p99 %d  max %d  mean %.0f\n"
        "  errors: %d%s%s\n  client CPU: %.2fs (%.1f us per RPC)\n",
        rpc, throughput, r.seconds, concurrency, num_channels, p50, p90, p99,
        max, mean, errors, error_parts.empty() ? "" : " ",
        absl::StrJoin(error_parts, ","), r.client_cpu_seconds,
        client_cpu_us_per_rpc);
  }
  if (errors > 0)
    std::cerr << "townhall-bench: first error: " << bench.first_error() << "\n";
  return r.ok > 0 ? 0 : 1;
}

}  // namespace
}  // namespace townhall

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "closed-loop load generator for townhalld; see bench/run_bench.sh");
  absl::ParseCommandLine(argc, argv);
  return absl::GetFlag(FLAGS_setup) ? townhall::Setup() : townhall::Load();
}
