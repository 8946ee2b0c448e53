// StreamReader: reads a server stream (WatchAgenda, WatchQueue) on its own
// thread and keeps every message, for tests that wait for what arrives.
//
//   StreamReader<v1::WatchQueueResponse> reader(token, [&](auto* context) {
//     return stub->WatchQueue(context, request);
//   });
//   auto got = reader.WaitFor(1);  // the snapshot
#pragma once

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace townhall::testing {

template <typename Response>
class StreamReader {
 public:
  // Opens the stream on a context that carries `token`; `open` must keep
  // what it needs (the stub) alive: it is kept as long as the reader.
  using Open = std::function<std::unique_ptr<grpc::ClientReader<Response>>(
      grpc::ClientContext*)>;

  StreamReader(const std::string& token, Open open) : open_(std::move(open)) {
    context_.AddMetadata("authorization", absl::StrCat("Bearer ", token));
    reader_ = open_(&context_);
    thread_ = std::thread([this] {
      Response message;
      while (reader_->Read(&message)) {
        absl::MutexLock lock(&mu_);
        messages_.push_back(message);
      }
      grpc::Status status = reader_->Finish();
      absl::MutexLock lock(&mu_);
      status_ = status;
      done_ = true;
    });
  }
  ~StreamReader() { Cancel(); }

  void Cancel() {
    context_.TryCancel();
    if (thread_.joinable()) thread_.join();
  }

  // Waits until `done(messages)` holds or the stream ended; all so far.
  std::vector<Response> WaitUntil(
      const std::function<bool(const std::vector<Response>&)>& done,
      absl::Duration timeout = absl::Seconds(10)) {
    absl::MutexLock lock(&mu_);
    auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return done_ || done(messages_);
    };
    mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
    return messages_;
  }

  // Waits until `n` messages arrived (or the stream ended); all so far.
  std::vector<Response> WaitFor(size_t n,
                                absl::Duration timeout = absl::Seconds(10)) {
    return WaitUntil(
        [n](const std::vector<Response>& got) { return got.size() >= n; },
        timeout);
  }

  // Waits until a message reaches `version`; all so far.
  std::vector<Response> WaitForVersion(
      int64_t version, absl::Duration timeout = absl::Seconds(10)) {
    return WaitUntil(
        [version](const std::vector<Response>& got) {
          for (const Response& m : got) {
            if (m.has_change() && m.change().version() >= version) return true;
            if (m.has_snapshot() && m.snapshot().version() >= version) {
              return true;
            }
          }
          return false;
        },
        timeout);
  }

  // The stream's status once it ended (waits up to `timeout`).
  absl::StatusOr<grpc::Status> Ended(absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto done = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return done_; };
    if (!mu_.AwaitWithTimeout(absl::Condition(&done), timeout)) {
      return absl::DeadlineExceededError("stream still open");
    }
    return status_;
  }

 private:
  Open open_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<Response>> reader_;
  std::thread thread_;
  absl::Mutex mu_;
  std::vector<Response> messages_ ABSL_GUARDED_BY(mu_);
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
  bool done_ ABSL_GUARDED_BY(mu_) = false;
};

// The versions of the changes among `messages` (snapshots give none).
template <typename Response>
std::vector<int64_t> ChangeVersions(const std::vector<Response>& messages) {
  std::vector<int64_t> out;
  for (const auto& m : messages) {
    if (m.has_change()) out.push_back(m.change().version());
  }
  return out;
}

}  // namespace townhall::testing
