// What to do about a failed call, as a line under the server's code and
// message: the server could not be reached (which address, and how to name
// another), no token was given, or the token has expired (when, and where
// a new one comes from).
#pragma once

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace townhall::ctl {

struct CallContext {
  // The address the call went to.
  std::string address;
  // The bearer token sent ("" for none).
  std::string token;
  // Whether the channel got connected: UNAVAILABLE from a server that was
  // reached means its storage is down, not a wrong address.
  bool connected = false;
  absl::Time now = absl::Now();
};

// The claims of a token that townhallctl reads without checking the
// signature (the server does that): enough to say what kind of token it is
// and when it expires.
struct TokenClaims {
  std::optional<absl::Time> expire_time;
  std::string role;
  std::string tenant_id;
  std::string subject;
  std::string session_id;
  std::string participant_id;
};

// The claims of a JWT, or nullopt for anything that is not one (the
// bootstrap credential).
std::optional<TokenClaims> ReadTokenClaims(const std::string& token);

// The hint for `status`, or "" when there is nothing to add.
std::string ErrorHint(const absl::Status& status, const CallContext& call);

}  // namespace townhall::ctl
