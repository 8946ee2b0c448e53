#include "services/common/redis/script_outcome.h"

#include "absl/strings/str_cat.h"
#include "services/common/status.h"

namespace townhall {

absl::StatusOr<ScriptOutcome> DecodeScriptOutcome(const RedisReply& reply,
                                                  const LuaScript& script) {
  if (!reply.is_array() || reply.elements.empty()) {
    return absl::InternalError(
        absl::StrCat("unexpected reply from ", script.name()));
  }
  ScriptOutcome outcome;
  outcome.kind = reply.elements[0].str;
  for (size_t i = 1; i < reply.elements.size(); ++i) {
    const RedisReply& r = reply.elements[i];
    outcome.values.push_back(
        r.type == RedisReply::Type::kInteger ? absl::StrCat(r.integer) : r.str);
  }
  return outcome;
}

absl::StatusOr<ScriptOutcome> RunScript(RedisConnection& redis,
                                        const LuaScript& script,
                                        const std::vector<std::string>& keys,
                                        const std::vector<std::string>& args) {
  TH_ASSIGN_OR_RETURN(RedisReply reply, redis.Eval(script, keys, args));
  return DecodeScriptOutcome(reply, script);
}

}  // namespace townhall
