// Test support for the RedisConnection and RedisPool tests: options, key
// prefixes, private Redis servers and INFO commandstats.
//
//   RedisConnection redis(OptionsFor(SharedRedisAddress()));
//   std::string key = Prefix() + "counter";
#pragma once

#include <gtest/gtest.h>

#include <csignal>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/common/ids.h"
#include "services/common/redis/redis_connection.h"
#include "tests/testing/redis_server.h"

namespace townhall::testing {

// hiredis 0.14 writes with write(2); a killed Redis must not kill the test
// (townhalld does the same in RunServerMain).
inline const bool kSigpipeIgnored = [] {
  signal(SIGPIPE, SIG_IGN);
  return true;
}();

inline RedisOptions OptionsFor(const std::string& address) {
  RedisOptions options;
  options.address = address;
  options.command_timeout = absl::Seconds(2);
  return options;
}

// A key prefix of its own, so that tests sharing a Redis never collide.
inline std::string Prefix() { return absl::StrCat("th:{test:", NewId(), "}:"); }

inline std::unique_ptr<RedisServer> StartPrivateRedis() {
  absl::StatusOr<std::unique_ptr<RedisServer>> server = RedisServer::Start();
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? *std::move(server) : nullptr;
}

// The `calls` count of `command` in INFO commandstats (0 if never called).
inline int64_t CommandCalls(RedisConnection& redis,
                            const std::string& command) {
  absl::StatusOr<RedisReply> info = redis.Command({"INFO", "commandstats"});
  EXPECT_TRUE(info.ok()) << info.status();
  if (!info.ok()) return -1;
  std::string prefix = absl::StrCat("cmdstat_", command, ":calls=");
  for (absl::string_view line : absl::StrSplit(info->str, "\r\n")) {
    if (!absl::ConsumePrefix(&line, prefix)) continue;
    int64_t calls = 0;
    EXPECT_TRUE(absl::SimpleAtoi(line.substr(0, line.find(',')), &calls))
        << line;
    return calls;
  }
  return 0;
}

}  // namespace townhall::testing
