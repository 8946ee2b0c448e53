#include "services/common/redis/eval_command.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace townhall {

std::vector<std::string> EvalShaCommand(const LuaScript& script,
                                        absl::Span<const std::string> keys,
                                        absl::Span<const std::string> args) {
  std::vector<std::string> command;
  command.reserve(3 + keys.size() + args.size());
  command.emplace_back("EVALSHA");
  command.push_back(script.sha1());
  command.push_back(absl::StrCat(keys.size()));
  command.insert(command.end(), keys.begin(), keys.end());
  command.insert(command.end(), args.begin(), args.end());
  return command;
}

bool IsNoScript(const absl::StatusOr<RedisReply>& reply) {
  return reply.ok() && reply->type == RedisReply::Type::kError &&
         absl::StartsWith(reply->str, "NOSCRIPT");
}

void ToEvalCommand(const LuaScript& script, std::vector<std::string>* command) {
  (*command)[0] = "EVAL";
  (*command)[1] = script.body();
}

HiredisArgv::HiredisArgv(absl::Span<const std::string> argv) {
  pointers_.reserve(argv.size());
  lengths_.reserve(argv.size());
  for (const std::string& arg : argv) {
    pointers_.push_back(arg.data());
    lengths_.push_back(arg.size());
  }
}

}  // namespace townhall
