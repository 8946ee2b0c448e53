// An owned copy of a hiredis reply, so that replies outlive the connection's
// buffers and can be handed between threads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

struct redisReply;

namespace townhall {

struct RedisReply {
  enum class Type { kNil, kString, kInteger, kArray, kStatus, kError };

  Type type = Type::kNil;
  std::string str;  // kString, kStatus, kError
  int64_t integer = 0;
  std::vector<RedisReply> elements;  // kArray

  // Copies a hiredis reply (recursively).
  static RedisReply FromHiredis(const redisReply& reply);

  bool is_nil() const { return type == Type::kNil; }
  bool is_array() const { return type == Type::kArray; }

  // The reply as a string (bulk or status); an error otherwise.
  absl::StatusOr<std::string> AsString() const;
  // The reply as an integer (integer reply or a decimal bulk string).
  absl::StatusOr<int64_t> AsInteger() const;
};

// Error replies that mean "Redis cannot serve right now" (LOADING, BUSY,
// MASTERDOWN, TRYAGAIN, READONLY, CLUSTERDOWN) rather than "this command is
// wrong": retrying later may succeed, so callers report UNAVAILABLE.
bool IsTransientRedisError(const RedisReply& reply);

}  // namespace townhall
