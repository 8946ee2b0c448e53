// Metrics: every Prometheus metric of a townhall process, defined once, on
// one registry that the server owns and exposes on --metrics_listen
// (docs/operations.md, "Metrics", lists them with what each is for).
//
//   Metrics metrics;                           // families registered here
//   metrics.AddService(*v1::QuestionService::descriptor());  // at start-up
//   const RpcMethodMetrics* m =
//       metrics.Method("/townhall.v1.QuestionService/UpvoteQuestion");
//   m->Finished(status, absl::Now() - start);  // hot path: no lookup
//
// Hot paths never look a series up by its label map (prometheus-cpp's
// Family::Add hashes the labels and takes the family's mutex): RPC methods
// get their series when their service is registered, Redis connections
// cache theirs per script (RedisInstruments), streams per service.
//
// Metrics are off when a process has no Metrics object (no
// --metrics_listen): every user holds a pointer that is then null and
// counts nothing, so an unexposed process pays no counting either.
//
// Labels are bounded: service and method names, status codes, script names,
// Redis node addresses (a cluster's masters), credential kinds. Never a
// session, tenant, participant or request id.
#pragma once

#include <google/protobuf/descriptor.h>
#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_type.h>
#include <prometheus/registry.h>

#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace townhall {

class Metrics;
class ScrapeTimeMetrics;

// The instruments of one RPC method; made by Metrics::AddService.
// Thread-safe.
class RpcMethodMetrics {
 public:
  RpcMethodMetrics(Metrics* metrics, const std::string& service,
                   const std::string& method);

  // A unary call started / ended (townhall_rpc_in_flight_calls).
  void Started() const { in_flight_->Increment(); }
  // A unary call ended with `status` after `duration`: the in-flight gauge,
  // the call counter, the latency histogram and, for a rate-limit refusal,
  // townhall_rate_limited_total.
  void Finished(const absl::Status& status, absl::Duration duration) const;
  // A stream ended with `status` (counted, not timed: a stream's duration
  // is its client's business).
  void StreamEnded(const absl::Status& status) const;

 private:
  void Count(const absl::Status& status) const;

  Metrics* const metrics_;
  const std::string service_;
  const std::string method_;
  prometheus::Gauge* in_flight_;
  prometheus::Histogram* duration_;
  prometheus::Counter* rate_limited_;
  // By canonical code (0..16), made on a code's first call: a method's
  // error series appear when it first fails.
  mutable std::array<std::atomic<prometheus::Counter*>, 17> calls_{};
};

// Why a Redis call failed (townhall_redis_errors_total{kind}).
enum class RedisErrorKind {
  kTimeout,      // DEADLINE_EXCEEDED: no answer within the call's deadline
  kUnavailable,  // connect failed, connection lost, LOADING, CLUSTERDOWN...
  kScript,       // a script failed with an error that is not TH:<CODE>
  kOther,
};
inline constexpr int kRedisErrorKinds = 4;

// The Redis layer's instruments. Thread-safe.
class RedisMetrics {
 public:
  explicit RedisMetrics(prometheus::Registry& registry);

  // Latency of one script run or command on `node` (host:port), for
  // RedisInstruments to cache: each lookup takes the family's mutex.
  prometheus::Histogram& ScriptDuration(absl::string_view script,
                                        absl::string_view node);
  prometheus::Histogram& CommandDuration(absl::string_view command,
                                         absl::string_view node);
  prometheus::Counter& Reconnects(absl::string_view node);
  // Calls per run of a batched script (EvalBatched), by script.
  prometheus::Histogram& BatchSize(absl::string_view script);

  // A call that failed; `status` not OK.
  void Failed(const absl::Status& status);
  void Failed(RedisErrorKind kind) {
    errors_[static_cast<int>(kind)]->Increment();
  }

  prometheus::Gauge& pool_queue_length() { return *pool_queue_length_; }
  prometheus::Histogram& pool_wait() { return *pool_wait_; }
  prometheus::Gauge& event_loop_queue_depth() { return *loop_queue_depth_; }
  prometheus::Gauge& event_loop_in_flight() { return *loop_in_flight_; }

 private:
  prometheus::Family<prometheus::Histogram>& script_duration_;
  prometheus::Family<prometheus::Histogram>& command_duration_;
  prometheus::Family<prometheus::Counter>& reconnects_;
  prometheus::Family<prometheus::Histogram>& batch_size_;
  std::array<prometheus::Counter*, kRedisErrorKinds> errors_;
  prometheus::Gauge* pool_queue_length_;
  prometheus::Histogram* pool_wait_;
  prometheus::Gauge* loop_queue_depth_;
  prometheus::Gauge* loop_in_flight_;
};

// One connection's cache of its latency histograms: the connection talks to
// one node and is used by one thread, so no lock. Null metrics: off.
class RedisInstruments {
 public:
  RedisInstruments(RedisMetrics* metrics, std::string node)
      : metrics_(metrics), node_(std::move(node)) {}

  RedisMetrics* metrics() const { return metrics_; }
  // Null when metrics are off.
  prometheus::Histogram* Script(const std::string& script);
  prometheus::Histogram* Command(absl::string_view command);

 private:
  RedisMetrics* const metrics_;
  const std::string node_;
  absl::flat_hash_map<std::string, prometheus::Histogram*> scripts_;
  absl::flat_hash_map<std::string, prometheus::Histogram*> commands_;
};

// The kinds of credential a stream is open with (label `credential`).
enum class CredentialKind { kParticipant, kOrganizer, kApiKey, kOperator };
inline constexpr int kCredentialKinds = 4;

// The instruments of one service's server streams (FeedWatch) and its feed
// hub; made once per FeedWatch.
struct LiveInstruments {
  std::array<prometheus::Gauge*, kCredentialKinds> open_streams{};
  prometheus::Counter* messages_sent = nullptr;
  // Changes merged into another message (vote counts) instead of sent.
  prometheus::Counter* coalesced = nullptr;
  // Fresh snapshots for watchers that fell behind (backlog, gap).
  prometheus::Counter* resyncs = nullptr;
  // Versions the hub is behind its feeds' heads (FeedHub).
  prometheus::Gauge* hub_lag_versions = nullptr;
  // Where the hub adds its lag in seconds, computed at scrape time so that
  // a stuck hub shows growing lag.
  ScrapeTimeMetrics* scrape_time = nullptr;
  std::string service;
};

// Counters of what organizers ask about. Thread-safe.
class BusinessMetrics {
 public:
  explicit BusinessMetrics(prometheus::Registry& registry);

  void QuestionSubmitted() { questions_submitted_->Increment(); }
  // A vote that changed a count (a repeated vote changes nothing).
  void Voted(bool up) { (up ? votes_up_ : votes_withdrawn_)->Increment(); }
  // `action`: approve, reject, pin, unpin, answer, archive, merge, undo.
  void ModeratorAction(absl::string_view action);
  // A new registration, by its status (CONFIRMED, WAITLISTED, ...).
  void Registered(absl::string_view status);

 private:
  prometheus::Counter* questions_submitted_;
  prometheus::Counter* votes_up_;
  prometheus::Counter* votes_withdrawn_;
  prometheus::Family<prometheus::Counter>& moderator_actions_;
  prometheus::Family<prometheus::Counter>& registrations_;
};

// Values read when Prometheus scrapes (revocation staleness, process CPU
// and memory): nothing to update on a hot path. Thread-safe.
class ScrapeTimeMetrics : public prometheus::Collectable {
 public:
  struct Metric {
    std::string name;
    std::string help;
    prometheus::MetricType type = prometheus::MetricType::Gauge;
    std::map<std::string, std::string> labels;
    // Runs on the exposer's thread at every scrape; must be quick and must
    // not call Add or Remove.
    std::function<double()> value;
  };

  // Returns an id for Remove.
  int Add(Metric metric);
  void Remove(int id);

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  mutable absl::Mutex mu_;
  std::map<int, Metric> metrics_ ABSL_GUARDED_BY(mu_);
  int next_id_ ABSL_GUARDED_BY(mu_) = 1;
};

class Metrics {
 public:
  Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // Makes the instruments of every method of `service`. Before the server
  // serves: Method() reads the table without a lock.
  void AddService(const google::protobuf::ServiceDescriptor& service);
  // `full_method` is the gRPC path ("/townhall.v1.X/Method"); null for a
  // method of no added service.
  const RpcMethodMetrics* Method(absl::string_view full_method) const;

  // The instruments of `service`'s streams and feed hub ("questions").
  LiveInstruments Live(absl::string_view service);

  // --max_streams (0: no cap), for the alert on streams near it.
  prometheus::Gauge& streams_limit() { return *streams_limit_; }
  RedisMetrics& redis() { return redis_; }
  BusinessMetrics& business() { return business_; }
  ScrapeTimeMetrics& scrape_time() { return *scrape_time_; }
  // What the exposer serves.
  std::vector<std::weak_ptr<prometheus::Collectable>> collectables() const {
    return {registry_, scrape_time_};
  }
  prometheus::Registry& registry() { return *registry_; }

 private:
  friend class RpcMethodMetrics;

  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<ScrapeTimeMetrics> scrape_time_;
  prometheus::Family<prometheus::Counter>& rpc_calls_;
  prometheus::Family<prometheus::Histogram>& rpc_duration_;
  prometheus::Family<prometheus::Gauge>& rpc_in_flight_;
  prometheus::Family<prometheus::Counter>& rate_limited_;
  prometheus::Family<prometheus::Gauge>& open_streams_;
  prometheus::Family<prometheus::Counter>& messages_sent_;
  prometheus::Family<prometheus::Counter>& coalesced_;
  prometheus::Family<prometheus::Counter>& resyncs_;
  prometheus::Family<prometheus::Gauge>& hub_lag_versions_;
  prometheus::Gauge* streams_limit_;
  RedisMetrics redis_;
  BusinessMetrics business_;
  // Keyed by the gRPC path; filled before the server serves, then read
  // without a lock.
  absl::flat_hash_map<std::string, std::unique_ptr<RpcMethodMetrics>> methods_;
};

// The standard process metrics (process_cpu_seconds_total,
// process_resident_memory_bytes, process_open_fds, ...; read from /proc at
// scrape time) and townhall_build_info, added to `metrics`.
void AddProcessMetrics(ScrapeTimeMetrics& metrics);

}  // namespace townhall
