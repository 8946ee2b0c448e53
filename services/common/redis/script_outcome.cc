#include "services/common/redis/script_outcome.h"

#include <cstdint>
#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
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

absl::Status RateLimited(absl::string_view what, const ScriptOutcome& outcome) {
  const std::string& retry_ms =
      outcome.values.empty() ? "1000" : outcome.values[0];
  const std::string& per_minute =
      outcome.values.size() > 1 ? outcome.values[1] : "?";
  int64_t ms = 1000;
  absl::SimpleAtoi(retry_ms, &ms);
  absl::Status status = absl::ResourceExhaustedError(
      absl::StrCat("rate limit: at most ", per_minute, " ", what,
                   " per minute per participant; retry in ",
                   absl::FormatDuration(absl::Milliseconds(ms))));
  status.SetPayload(kRetryAfterPayload, absl::Cord(absl::StrCat(ms)));
  return status;
}

}  // namespace townhall
