// Status helpers shared by every townhall service.
//
// Errors are values: functions return absl::Status or absl::StatusOr<T>.
// Codes follow the gRPC canonical meanings (they are numerically identical):
//
//   INVALID_ARGUMENT     the request itself is wrong; the message names the
//                        field and why. Retrying the same request never helps.
//   NOT_FOUND            the object does not exist *for this caller*; another
//                        tenant's objects are reported this way too, so that
//                        existence is not leaked.
//   ALREADY_EXISTS       a create collided with an existing object.
//   FAILED_PRECONDITION  the system is in the wrong state for the call (a
//                        session that is LIVE cannot be cancelled). The caller
//                        must change the state first; retrying is useless.
//   ABORTED              a concurrency conflict (stale etag): re-read, then
//                        retry the read-modify-write.
//   UNAVAILABLE          a transient failure (Redis down or timing out); the
//                        same request may be retried, with its request_id.
//   INTERNAL             a bug. Details go to the log, never to the caller.
//
// Usage:
//   absl::StatusOr<Session> s = LoadSession(...);
//   TH_ASSIGN_OR_RETURN(Session session, LoadSession(...));
//   TH_RETURN_IF_ERROR(ValidateTitle(title));
#pragma once

#include <grpcpp/support/status.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace townhall {

// The payload of a rate-limit refusal (RESOURCE_EXHAUSTED) that holds the
// delay in milliseconds; unary handlers also send it as a trailer of that
// name (server/unary_handler.h).
inline constexpr absl::string_view kRetryAfterPayload = "retry-after-ms";

// Converts to the wire status. INTERNAL messages are replaced by a generic
// text so that internals never reach a client (they are logged instead).
grpc::Status ToGrpcStatus(const absl::Status& status);

// Converts a status received from a server (client side).
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace townhall

#define TH_STATUS_CONCAT_INNER_(a, b) a##b
#define TH_STATUS_CONCAT_(a, b) TH_STATUS_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` is not OK.
#define TH_RETURN_IF_ERROR(expr)             \
  do {                                       \
    ::absl::Status th_status_ = (expr);      \
    if (!th_status_.ok()) return th_status_; \
  } while (0)

// Evaluates `rexpr` (an absl::StatusOr<T>); returns its error, or assigns its
// value to `lhs` (which may be a declaration).
#define TH_ASSIGN_OR_RETURN(lhs, rexpr)                                     \
  TH_ASSIGN_OR_RETURN_IMPL_(TH_STATUS_CONCAT_(th_statusor_, __LINE__), lhs, \
                            rexpr)

#define TH_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                              \
  if (!statusor.ok()) return statusor.status();         \
  lhs = *std::move(statusor)
