// ResumingWatch: follows one server stream of a feed (WatchQueue,
// WatchAgenda, WatchPolls) on its own thread for as long as it lives. When the
// stream ends (server restart, network, a deploy) it opens it again with
// `after_version` = the last version it delivered, so the server sends
// exactly the changes after it (or a fresh snapshot): nothing is lost or
// applied twice. Retries back off from initial_backoff to max_backoff and
// start over after a stream that delivered something.
//
//   ResumingWatch<v1::WatchQueueResponse> watch(
//       channel,
//       [&](grpc::ClientContext* context, int64_t after_version) {
//         request.set_after_version(after_version);
//         return stub->WatchQueue(context, request);
//       },
//       {.prepare = ..., .on_message = ..., .on_status = ...});
//
// The callbacks run on the watch thread.
#pragma once

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/sync_stream.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "clients/cpp/console/console_state.h"
#include "townhall/v1/agenda.pb.h"
#include "townhall/v1/polls.pb.h"
#include "townhall/v1/questions.pb.h"

namespace townhall::console {

// The feed version a message brings the watcher to; `is_snapshot` tells
// whether it replaces everything before it.
inline int64_t FeedVersion(const v1::WatchQueueResponse& message,
                           bool* is_snapshot) {
  *is_snapshot = message.has_snapshot();
  return message.has_snapshot() ? message.snapshot().version()
                                : message.change().version();
}
inline int64_t FeedVersion(const v1::WatchAgendaResponse& message,
                           bool* is_snapshot) {
  *is_snapshot = message.has_snapshot();
  return message.has_snapshot() ? message.snapshot().version()
                                : message.change().version();
}
inline int64_t FeedVersion(const v1::WatchPollsResponse& message,
                           bool* is_snapshot) {
  *is_snapshot = message.has_snapshot();
  return message.has_snapshot() ? message.snapshot().version()
                                : message.change().version();
}

struct WatchOptions {
  absl::Duration initial_backoff = absl::Milliseconds(200);
  absl::Duration max_backoff = absl::Seconds(5);
  // How long to wait for the channel before saying the stream is live when
  // the server has nothing to send yet (a resume without new changes).
  absl::Duration connect_wait = absl::Seconds(2);
};

template <typename Response>
class ResumingWatch {
 public:
  using Reader = grpc::ClientReaderInterface<Response>;
  // Starts the call on `context` (already prepared) after `after_version`.
  using Open = std::function<std::unique_ptr<Reader>(grpc::ClientContext*,
                                                     int64_t after_version)>;
  struct Callbacks {
    // Adds the authorization and any deadline to a new call's context.
    std::function<void(grpc::ClientContext*)> prepare;
    std::function<void(const Response&)> on_message;
    std::function<void(const StreamStatus&)> on_status;
  };

  ResumingWatch(std::shared_ptr<grpc::Channel> channel, Open open,
                Callbacks callbacks, WatchOptions options = {})
      : channel_(std::move(channel)),
        open_(std::move(open)),
        callbacks_(std::move(callbacks)),
        options_(options),
        thread_([this] { Run(); }) {}
  ~ResumingWatch() { Stop(); }
  ResumingWatch(const ResumingWatch&) = delete;
  ResumingWatch& operator=(const ResumingWatch&) = delete;

  // Ends the stream and the thread; no callback runs after it returns.
  void Stop() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
      if (context_ != nullptr) context_->TryCancel();
    }
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Run() {
    int64_t after_version = 0;
    absl::Duration backoff = options_.initial_backoff;
    while (true) {
      grpc::ClientContext context;
      if (callbacks_.prepare) callbacks_.prepare(&context);
      {
        absl::MutexLock lock(&mu_);
        if (stopping_) return;
        context_ = &context;
      }
      std::unique_ptr<Reader> reader = open_(&context, after_version);
      bool live = false;
      if (WaitConnected()) {
        live = true;
        callbacks_.on_status({StreamStatus::State::kLive, absl::OkStatus()});
      }
      Response message;
      bool delivered = false;
      while (reader->Read(&message)) {
        bool is_snapshot = false;
        int64_t version = FeedVersion(message, &is_snapshot);
        // A snapshot may go back (a server that lost its data): it is the
        // truth from now on.
        after_version =
            is_snapshot ? version : std::max(after_version, version);
        if (!live) {
          live = true;
          callbacks_.on_status({StreamStatus::State::kLive, absl::OkStatus()});
        }
        delivered = true;
        callbacks_.on_message(message);
      }
      grpc::Status status = reader->Finish();
      {
        absl::MutexLock lock(&mu_);
        context_ = nullptr;
        if (stopping_) return;
      }
      if (delivered) backoff = options_.initial_backoff;
      absl::Status error(static_cast<absl::StatusCode>(status.error_code()),
                         status.error_message());
      if (error.ok()) error = absl::UnavailableError("the stream ended");
      callbacks_.on_status({StreamStatus::State::kReconnecting, error});
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stopping_), backoff);
      if (stopping_) return;
      backoff = std::min(backoff * 2, options_.max_backoff);
    }
  }

  // Whether the channel is connected within connect_wait (in short slices,
  // so that Stop() is not kept waiting).
  bool WaitConnected() {
    absl::Time deadline = absl::Now() + options_.connect_wait;
    while (absl::Now() < deadline) {
      if (channel_->GetState(/*try_to_connect=*/true) == GRPC_CHANNEL_READY) {
        return true;
      }
      {
        absl::MutexLock lock(&mu_);
        if (stopping_) return false;
      }
      channel_->WaitForStateChange(
          channel_->GetState(false),
          absl::ToChronoTime(absl::Now() + absl::Milliseconds(100)));
    }
    return false;
  }

  std::shared_ptr<grpc::Channel> channel_;
  Open open_;
  Callbacks callbacks_;
  WatchOptions options_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  grpc::ClientContext* context_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::thread thread_;  // last: starts after everything above
};

}  // namespace townhall::console
