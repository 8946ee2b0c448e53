// The commands that run a Lua script, built one way for both Redis clients:
// RedisConnection (synchronous) and RedisEventLoop (async) send the same
// bytes and take the same NOSCRIPT fallback; only how they wait differs.
//
// Usage:
//   std::vector<std::string> argv = EvalShaCommand(script, keys, args);
//   ... send argv ...
//   if (IsNoScript(reply)) {
//     ToEvalCommand(script, &argv);  // sends the body; Redis caches it
//     ... send argv again ...
//   }
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "services/common/redis/lua_script.h"
#include "services/common/redis/redis_reply.h"

namespace townhall {

// Builds `EVALSHA <sha1> <numkeys> <keys...> <args...>`.
std::vector<std::string> EvalShaCommand(const LuaScript& script,
                                        absl::Span<const std::string> keys,
                                        absl::Span<const std::string> args);

// Tells whether Redis answered an EVALSHA with NOSCRIPT: it has not cached
// the script (first use, after a restart or SCRIPT FLUSH).
bool IsNoScript(const absl::StatusOr<RedisReply>& reply);

// Turns a command from EvalShaCommand into the EVAL that sends the script's
// body. EVAL also caches the script, so later calls take the EVALSHA path.
void ToEvalCommand(const LuaScript& script, std::vector<std::string>* command);

// A command's arguments as hiredis' *CommandArgv functions take them:
// pointers and lengths. Borrows the strings of `argv`, which must outlive it.
class HiredisArgv {
 public:
  explicit HiredisArgv(absl::Span<const std::string> argv);

  int argc() const { return static_cast<int>(pointers_.size()); }
  const char** argv() { return pointers_.data(); }
  const size_t* lengths() const { return lengths_.data(); }

 private:
  std::vector<const char*> pointers_;
  std::vector<size_t> lengths_;
};

}  // namespace townhall
