// Test support: a client that sends a request again, unchanged, after a
// transient failure, as townhall's clients may (every mutation carries a
// request id or is idempotent by nature); chaos_test and
// cluster_failover_test build their histories on it.
#pragma once

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace townhall::testing {

// Errors after which the request may or may not have been applied: the
// client sends it again, unchanged. A killed server or a broken connection
// shows as UNAVAILABLE.
inline bool IsTransient(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnavailable ||
         status.code() == absl::StatusCode::kDeadlineExceeded;
}

// How an operation ended, as its client saw it.
enum class Outcome { kAcked, kRefused, kUnknown };

inline const char* OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kAcked:
      return "acked";
    case Outcome::kRefused:
      return "refused";
    case Outcome::kUnknown:
      return "unknown";
  }
  return "?";
}

template <typename Response>
struct Answer {
  Outcome outcome = Outcome::kUnknown;
  // The answer (acked or refused), or the last transient error.
  absl::StatusOr<Response> last = absl::UnknownError("not sent");
  int attempts = 0;
  // An attempt before the last one failed transiently (it may have been
  // applied all the same).
  bool transient = false;
  // An answer was dropped on purpose and the request sent again.
  bool dropped = false;
};

// Sends one request until it gets an answer that is not transient, or
// `give_up` passes. `send(attempt)` makes one attempt (0, 1, ...): the same
// request every time. With `drop_first_reply`, the first answer that is
// not transient is treated as lost and the request sent once more. Waits
// between attempts start at 50 ms and double up to `max_backoff`.
template <typename Response, typename Send>
Answer<Response> SendUntilAnswered(
    absl::Time give_up, bool drop_first_reply, Send send,
    absl::Duration max_backoff = absl::Seconds(1)) {
  Answer<Response> answer;
  absl::Duration backoff = absl::Milliseconds(50);
  while (true) {
    answer.last = send(answer.attempts++);
    if (!IsTransient(answer.last.status())) {
      if (drop_first_reply) {
        drop_first_reply = false;
        answer.dropped = true;
        continue;
      }
      answer.outcome = answer.last.ok() ? Outcome::kAcked : Outcome::kRefused;
      return answer;
    }
    answer.transient = true;
    if (absl::Now() + backoff >= give_up) return answer;  // kUnknown
    absl::SleepFor(backoff);
    backoff = std::min(backoff * 2, max_backoff);
  }
}

// A channel that reconnects quickly to a restarted server (gRPC's default
// backoff grows to two minutes).
inline std::shared_ptr<grpc::Channel> FastReconnectChannel(
    const std::string& address) {
  grpc::ChannelArguments arguments;
  arguments.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  arguments.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(),
                                   arguments);
}

}  // namespace townhall::testing
