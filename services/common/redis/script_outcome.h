// The reply of a mutating townhall script: a kind ("OK", "EXISTING" or a
// refusal such as "BAD_STATE") followed by values. Scripts return
// {kind, value...}; refusals that are not errors of the request (a retry
// that found the first result, a state the caller should be told about)
// travel this way instead of as th_fail errors.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/common/redis/lua_script.h"
#include "services/common/redis/redis_connection.h"
#include "services/common/redis/redis_reply.h"

namespace townhall {

struct ScriptOutcome {
  std::string kind;
  // Integers as decimal strings.
  std::vector<std::string> values;
};

// Decodes a script's array reply; INTERNAL (naming the script) for
// anything else.
absl::StatusOr<ScriptOutcome> DecodeScriptOutcome(const RedisReply& reply,
                                                  const LuaScript& script);

// The one way C++ runs a mutating or reading townhall script: EVALSHA (EVAL
// on NOSCRIPT) of `script` with `keys` and `args`, decoded as above.
// `keys[0]` is the prefix of the one Cluster slot the script touches (the
// tenant's `th:{t:<tenant>}:` or a session's `th:{s:<tenant>:<session>}:`);
// every other key the script uses is in that slot and passed in `keys` or
// built by appending to `keys[0]`, never rebuilt from scratch in Lua.
absl::StatusOr<ScriptOutcome> RunScript(RedisConnection& redis,
                                        const LuaScript& script,
                                        const std::vector<std::string>& keys,
                                        const std::vector<std::string>& args);

// The delay of a RATE_LIMITED script outcome ({retry_ms, per_minute}) as
// RESOURCE_EXHAUSTED ("at most <per_minute> <what> per minute per
// participant"), with the delay in milliseconds also as the payload
// kRetryAfterPayload (status.h), which the handler sends as a trailer.
absl::Status RateLimited(absl::string_view what, const ScriptOutcome& outcome);

}  // namespace townhall
