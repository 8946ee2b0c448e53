#include "services/common/metrics/metrics.h"

#include <prometheus/metric_family.h>

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/status.h"

namespace townhall {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;
using prometheus::Histogram;

// RPCs: from a cached read (~0.1 ms) to the 30 s call cap.
const Histogram::BucketBoundaries& RpcBuckets() {
  static const auto* buckets = new Histogram::BucketBoundaries{
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
      0.25,   0.5,   1,      2.5,   5,    10,    30};
  return *buckets;
}

// Redis: a command on loopback takes tens of microseconds.
const Histogram::BucketBoundaries& RedisBuckets() {
  static const auto* buckets = new Histogram::BucketBoundaries{
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
      0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5};
  return *buckets;
}

// Votes per batch: EvalBatched sends at most kMaxBatchCalls (64).
const Histogram::BucketBoundaries& BatchBuckets() {
  static const auto* buckets =
      new Histogram::BucketBoundaries{1, 2, 4, 8, 16, 32, 64};
  return *buckets;
}

constexpr absl::string_view kCredentialNames[kCredentialKinds] = {
    "participant", "organizer", "api_key", "operator"};
constexpr absl::string_view kErrorNames[kRedisErrorKinds] = {
    "timeout", "unavailable", "script", "other"};

}  // namespace

RpcMethodMetrics::RpcMethodMetrics(Metrics* metrics, const std::string& service,
                                   const std::string& method)
    : metrics_(metrics), service_(service), method_(method) {
  in_flight_ = &metrics->rpc_in_flight_.Add({{"service", service}});
  duration_ = &metrics->rpc_duration_.Add(
      {{"service", service}, {"method", method}}, RpcBuckets());
  rate_limited_ =
      &metrics->rate_limited_.Add({{"service", service}, {"method", method}});
  // The OK series exists from the start, so that rates and ratios have a
  // denominator before the first call.
  calls_[0] = &metrics->rpc_calls_.Add(
      {{"service", service}, {"method", method}, {"code", "OK"}});
}

void RpcMethodMetrics::Count(const absl::Status& status) const {
  const int code = static_cast<int>(status.code());
  if (code < 0 || code >= static_cast<int>(calls_.size())) return;
  prometheus::Counter* counter = calls_[code].load(std::memory_order_acquire);
  if (counter == nullptr) {
    // First call with this code: Family::Add returns the one series of
    // these labels, whichever thread gets here first.
    counter = &metrics_->rpc_calls_.Add(
        {{"service", service_},
         {"method", method_},
         {"code", absl::StatusCodeToString(status.code())}});
    calls_[code].store(counter, std::memory_order_release);
  }
  counter->Increment();
}

void RpcMethodMetrics::Finished(const absl::Status& status,
                                absl::Duration duration) const {
  in_flight_->Decrement();
  Count(status);
  duration_->Observe(absl::ToDoubleSeconds(duration));
  if (status.code() == absl::StatusCode::kResourceExhausted &&
      status.GetPayload(kRetryAfterPayload).has_value()) {
    rate_limited_->Increment();
  }
}

void RpcMethodMetrics::StreamEnded(const absl::Status& status) const {
  Count(status);
}

RedisMetrics::RedisMetrics(prometheus::Registry& registry)
    : script_duration_(
          BuildHistogram()
              .Name("townhall_redis_script_duration_seconds")
              .Help("Round trip of one Lua script run (EVALSHA, with its "
                    "EVAL on NOSCRIPT), by script and Redis node")
              .Register(registry)),
      command_duration_(
          BuildHistogram()
              .Name("townhall_redis_command_duration_seconds")
              .Help("Round trip of one Redis command or pipeline (PIPELINE) "
                    "other than a script, by node; blocking reads (XREAD "
                    "BLOCK) are not timed")
              .Register(registry)),
      reconnects_(BuildCounter()
                      .Name("townhall_redis_reconnects_total")
                      .Help("Redis connections made again after one was "
                            "dropped, by node")
                      .Register(registry)),
      batch_size_(BuildHistogram()
                      .Name("townhall_redis_batch_calls")
                      .Help("Calls per run of a batched script (votes)")
                      .Register(registry)) {
  auto& errors = BuildCounter()
                     .Name("townhall_redis_errors_total")
                     .Help(
                         "Redis calls that failed, by kind: timeout, "
                         "unavailable (down, loading, connection lost, "
                         "cluster down), script (a script bug), other")
                     .Register(registry);
  for (int i = 0; i < kRedisErrorKinds; ++i) {
    errors_[i] = &errors.Add({{"kind", std::string(kErrorNames[i])}});
  }
  pool_queue_length_ =
      &BuildGauge()
           .Name("townhall_redis_pool_queue_length")
           .Help("Tasks waiting for a Redis worker (RedisPool)")
           .Register(registry)
           .Add({});
  pool_wait_ = &BuildHistogram()
                    .Name("townhall_redis_pool_wait_seconds")
                    .Help("Time a task waited for a Redis worker")
                    .Register(registry)
                    .Add({}, RedisBuckets());
  loop_queue_depth_ =
      &BuildGauge()
           .Name("townhall_redis_event_loop_queue_depth")
           .Help("Calls queued for the Redis event loop's thread")
           .Register(registry)
           .Add({});
  loop_in_flight_ =
      &BuildGauge()
           .Name("townhall_redis_event_loop_in_flight")
           .Help(
               "Commands the Redis event loop has sent and not had "
               "answered")
           .Register(registry)
           .Add({});
}

prometheus::Histogram& RedisMetrics::ScriptDuration(absl::string_view script,
                                                    absl::string_view node) {
  return script_duration_.Add(
      {{"script", std::string(script)}, {"node", std::string(node)}},
      RedisBuckets());
}

prometheus::Histogram& RedisMetrics::CommandDuration(absl::string_view command,
                                                     absl::string_view node) {
  return command_duration_.Add(
      {{"command", std::string(command)}, {"node", std::string(node)}},
      RedisBuckets());
}

prometheus::Counter& RedisMetrics::Reconnects(absl::string_view node) {
  return reconnects_.Add({{"node", std::string(node)}});
}

prometheus::Histogram& RedisMetrics::BatchSize(absl::string_view script) {
  return batch_size_.Add({{"script", std::string(script)}}, BatchBuckets());
}

void RedisMetrics::Failed(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return;
    case absl::StatusCode::kDeadlineExceeded:
      return Failed(RedisErrorKind::kTimeout);
    case absl::StatusCode::kUnavailable:
      return Failed(RedisErrorKind::kUnavailable);
    case absl::StatusCode::kInternal:
      return Failed(RedisErrorKind::kScript);
    default:
      // TH:<CODE> script errors are answers (NOT_FOUND, ABORTED...), not
      // Redis failures.
      return;
  }
}

prometheus::Histogram* RedisInstruments::Script(const std::string& script) {
  if (metrics_ == nullptr) return nullptr;
  auto [it, inserted] = scripts_.try_emplace(script, nullptr);
  if (inserted) it->second = &metrics_->ScriptDuration(script, node_);
  return it->second;
}

prometheus::Histogram* RedisInstruments::Command(absl::string_view command) {
  if (metrics_ == nullptr) return nullptr;
  auto [it, inserted] = commands_.try_emplace(command, nullptr);
  if (inserted) {
    it->second =
        &metrics_->CommandDuration(absl::AsciiStrToUpper(command), node_);
  }
  return it->second;
}

BusinessMetrics::BusinessMetrics(prometheus::Registry& registry)
    : moderator_actions_(BuildCounter()
                             .Name("townhall_moderator_actions_total")
                             .Help("Moderation actions applied, by action")
                             .Register(registry)),
      registrations_(BuildCounter()
                         .Name("townhall_registrations_total")
                         .Help("New registrations, by the status they got")
                         .Register(registry)) {
  questions_submitted_ =
      &BuildCounter()
           .Name("townhall_questions_submitted_total")
           .Help("Questions submitted (a retried submission counts once)")
           .Register(registry)
           .Add({});
  auto& votes = BuildCounter()
                    .Name("townhall_votes_total")
                    .Help(
                        "Votes that changed a count, by direction (up, "
                        "withdraw)")
                    .Register(registry);
  votes_up_ = &votes.Add({{"direction", "up"}});
  votes_withdrawn_ = &votes.Add({{"direction", "withdraw"}});
  // Every known label value from the start: rates and dashboards need a
  // series before the first event.
  for (const char* action : {"approve", "reject", "pin", "unpin", "answer",
                             "archive", "merge", "undo"}) {
    moderator_actions_.Add({{"action", action}});
  }
  for (const char* status : {"PENDING", "CONFIRMED", "WAITLISTED", "STANDBY"}) {
    registrations_.Add({{"status", status}});
  }
}

void BusinessMetrics::ModeratorAction(absl::string_view action) {
  // Moderation is human-paced: the family's lookup costs nothing here.
  moderator_actions_.Add({{"action", std::string(action)}}).Increment();
}

void BusinessMetrics::Registered(absl::string_view status) {
  registrations_.Add({{"status", std::string(status)}}).Increment();
}

int ScrapeTimeMetrics::Add(Metric metric) {
  absl::MutexLock lock(&mu_);
  const int id = next_id_++;
  metrics_.emplace(id, std::move(metric));
  return id;
}

void ScrapeTimeMetrics::Remove(int id) {
  absl::MutexLock lock(&mu_);
  metrics_.erase(id);
}

std::vector<prometheus::MetricFamily> ScrapeTimeMetrics::Collect() const {
  absl::MutexLock lock(&mu_);
  std::vector<prometheus::MetricFamily> families;
  std::map<std::string, size_t> by_name;
  for (const auto& [id, metric] : metrics_) {
    auto [it, inserted] = by_name.try_emplace(metric.name, families.size());
    if (inserted) {
      families.push_back({metric.name, metric.help, metric.type, {}});
    }
    prometheus::ClientMetric sample;
    for (const auto& [name, value] : metric.labels) {
      sample.label.push_back({name, value});
    }
    const double value = metric.value();
    if (metric.type == prometheus::MetricType::Counter) {
      sample.counter.value = value;
    } else {
      sample.gauge.value = value;
    }
    families[it->second].metric.push_back(std::move(sample));
  }
  return families;
}

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      scrape_time_(std::make_shared<ScrapeTimeMetrics>()),
      rpc_calls_(BuildCounter()
                     .Name("townhall_rpc_calls_total")
                     .Help("Finished RPCs (unary calls and streams), by "
                           "service, method and status code")
                     .Register(*registry_)),
      rpc_duration_(BuildHistogram()
                        .Name("townhall_rpc_duration_seconds")
                        .Help("Time from the start of a unary call to its "
                              "answer, by service and method")
                        .Register(*registry_)),
      rpc_in_flight_(BuildGauge()
                         .Name("townhall_rpc_in_flight_calls")
                         .Help("Unary calls started and not answered yet, by "
                               "service")
                         .Register(*registry_)),
      rate_limited_(BuildCounter()
                        .Name("townhall_rate_limited_total")
                        .Help("Calls refused by a rate limit (questions, "
                              "votes), by service and method")
                        .Register(*registry_)),
      open_streams_(BuildGauge()
                        .Name("townhall_streams_open")
                        .Help("Open server streams, by service and credential "
                              "kind")
                        .Register(*registry_)),
      messages_sent_(BuildCounter()
                         .Name("townhall_stream_messages_sent_total")
                         .Help("Messages written to server streams "
                               "(snapshots and changes), by service")
                         .Register(*registry_)),
      coalesced_(BuildCounter()
                     .Name("townhall_stream_coalesced_changes_total")
                     .Help("Coalescable changes (vote counts) merged into "
                           "another message instead of sent, by service")
                     .Register(*registry_)),
      resyncs_(BuildCounter()
                   .Name("townhall_stream_resyncs_total")
                   .Help("Fresh snapshots sent to watchers that fell behind "
                         "(full backlog or a gap), by service")
                   .Register(*registry_)),
      hub_lag_versions_(BuildGauge()
                            .Name("townhall_feed_hub_lag_versions")
                            .Help("Versions the feed hub was behind the "
                                  "newest of its feeds at its last check "
                                  "(every second), by service")
                            .Register(*registry_)),
      streams_limit_(&BuildGauge()
                          .Name("townhall_streams_limit")
                          .Help("Most server streams this process admits "
                                "(--max_streams; 0: no cap)")
                          .Register(*registry_)
                          .Add({})),
      redis_(*registry_),
      business_(*registry_) {}

void Metrics::AddService(const google::protobuf::ServiceDescriptor& service) {
  for (int i = 0; i < service.method_count(); ++i) {
    const std::string& method = service.method(i)->name();
    methods_.emplace(
        absl::StrCat("/", service.full_name(), "/", method),
        std::make_unique<RpcMethodMetrics>(this, service.full_name(), method));
  }
}

const RpcMethodMetrics* Metrics::Method(absl::string_view full_method) const {
  auto it = methods_.find(full_method);
  return it == methods_.end() ? nullptr : it->second.get();
}

LiveInstruments Metrics::Live(absl::string_view service) {
  const std::string name(service);
  LiveInstruments live;
  for (int i = 0; i < kCredentialKinds; ++i) {
    live.open_streams[i] = &open_streams_.Add(
        {{"service", name}, {"credential", std::string(kCredentialNames[i])}});
  }
  live.messages_sent = &messages_sent_.Add({{"service", name}});
  live.coalesced = &coalesced_.Add({{"service", name}});
  live.resyncs = &resyncs_.Add({{"service", name}});
  live.hub_lag_versions = &hub_lag_versions_.Add({{"service", name}});
  live.scrape_time = scrape_time_.get();
  live.service = name;
  return live;
}

}  // namespace townhall
