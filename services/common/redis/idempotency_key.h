// Idempotency records: where a mutating RPC remembers its result so that a
// retry with the same request_id gets that result instead of a second
// write. A record belongs to its caller: the tenant, the principal (a join
// token's participant, an organizer token's subject, an API key's id, the
// operator) and, where the RPC acts for someone or in one session, that
// participant and session. Another caller reusing a request_id makes a new
// request and never sees the first caller's result.
//
//   std::string idem = IdempotencyKey(
//       TH_METHOD(AgendaService, ProposeTopic), caller, request.request_id(),
//       {.session_id = session.id(),
//        .participant_id = request.participant_id()});
//   // "" without a request_id; else the key's suffix, which the script
//   // appends to the prefix it gets in KEYS[1] (so the record stays in the
//   // slot of that prefix's hash tag) and never builds itself.
#pragma once

#include <string>

#include "absl/strings/string_view.h"
#include "services/common/auth/principal.h"

namespace townhall {

// What a request acts on besides the caller, when the RPC names it.
struct IdempotencyScope {
  // The session (or series occurrence) the request writes to.
  absl::string_view session_id;
  // The participant the request acts for (Register, RecordAttendance,
  // SubmitQuestion, ProposeTopic).
  absl::string_view participant_id;
};

// Returns "" when `request_id` is empty (the request is not remembered),
// else "idem:<Service>/<Method>:<tenant>:<caller kind>:<caller>:<session>:
// <participant>:<request_id>" with every variable part percent-encoded
// (':', '%', '{', '}' and bytes outside printable ASCII), so that no two
// different callers or scopes can produce the same key. `method` is the
// gRPC path, TH_METHOD(Service, Method).
std::string IdempotencyKey(absl::string_view method, const Principal& caller,
                           absl::string_view request_id,
                           const IdempotencyScope& scope = {});

}  // namespace townhall
