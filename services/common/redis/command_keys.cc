#include "services/common/redis/command_keys.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"

namespace townhall {
namespace {

bool IsAnyOf(absl::string_view name,
             std::initializer_list<absl::string_view> names) {
  for (absl::string_view n : names) {
    if (absl::EqualsIgnoreCase(name, n)) return true;
  }
  return false;
}

std::vector<std::string> Range(absl::Span<const std::string> argv, size_t first,
                               size_t count, size_t step = 1) {
  std::vector<std::string> keys;
  for (size_t i = first; i < argv.size() && keys.size() < count; i += step) {
    keys.push_back(argv[i]);
  }
  return keys;
}

}  // namespace

std::vector<std::string> CommandKeys(absl::Span<const std::string> argv) {
  if (argv.size() < 2) return {};
  absl::string_view name = argv[0];
  if (IsAnyOf(name,
              {"PING",     "INFO",    "CLUSTER", "SCRIPT", "WAIT",   "TIME",
               "DBSIZE",   "CONFIG",  "COMMAND", "ECHO",   "KEYS",   "SCAN",
               "FLUSHALL", "FLUSHDB", "DEBUG",   "ROLE",   "ASKING", "READONLY",
               "CLIENT",   "MEMORY",  "SLOWLOG", "LATENCY"})) {
    return {};
  }
  if (IsAnyOf(name, {"EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO"})) {
    size_t numkeys = 0;
    if (argv.size() < 3 || !absl::SimpleAtoi(argv[2], &numkeys) ||
        numkeys > argv.size() - 3) {
      return {};
    }
    return Range(argv, 3, numkeys);
  }
  if (IsAnyOf(name, {"XREAD", "XREADGROUP"})) {
    for (size_t i = 1; i < argv.size(); ++i) {
      if (!absl::EqualsIgnoreCase(argv[i], "STREAMS")) continue;
      size_t rest = argv.size() - i - 1;
      // STREAMS k1 .. kn id1 .. idn
      if (rest == 0 || rest % 2 != 0) return {};
      return Range(argv, i + 1, rest / 2);
    }
    return {};
  }
  if (IsAnyOf(name, {"DEL", "EXISTS", "MGET", "UNLINK", "TOUCH"})) {
    return Range(argv, 1, argv.size());
  }
  if (IsAnyOf(name, {"MSET", "MSETNX"})) {
    return Range(argv, 1, argv.size(), 2);
  }
  return {argv[1]};
}

bool CommandWrites(absl::Span<const std::string> argv) {
  if (argv.empty()) return false;
  return !IsAnyOf(
      argv[0],
      {"GET",    "MGET",      "EXISTS",        "TYPE",       "TTL",
       "PTTL",   "STRLEN",    "HGET",          "HMGET",      "HGETALL",
       "HKEYS",  "HVALS",     "HLEN",          "HEXISTS",    "SMEMBERS",
       "SCARD",  "SISMEMBER", "ZRANGE",        "ZREVRANGE",  "ZRANGEBYSCORE",
       "ZCARD",  "ZSCORE",    "ZRANK",         "ZREVRANK",   "ZCOUNT",
       "LRANGE", "LLEN",      "LINDEX",        "XREAD",      "XRANGE",
       "XREVRANGE", "XLEN",   "XINFO",         "SCAN",       "KEYS",
       "PING",   "ECHO",      "INFO",          "CLUSTER",    "CLIENT",
       "SCRIPT", "WAIT",      "TIME",          "DBSIZE",     "CONFIG",
       "COMMAND", "ROLE",     "ASKING",        "READONLY",   "MEMORY",
       "SLOWLOG", "LATENCY",  "DEBUG",         "EVAL_RO",    "EVALSHA_RO"});
}

}  // namespace townhall
