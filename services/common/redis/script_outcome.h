// The reply of a mutating townhall script: a kind ("OK", "EXISTING" or a
// refusal such as "BAD_STATE") followed by values. Scripts return
// {kind, value...}; refusals that are not errors of the request (a retry
// that found the first result, a state the caller should be told about)
// travel this way instead of as th_fail errors.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/common/redis/lua_script.h"
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

}  // namespace townhall
