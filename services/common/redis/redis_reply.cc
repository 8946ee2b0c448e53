#include "services/common/redis/redis_reply.h"

#include <hiredis/hiredis.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace townhall {

RedisReply RedisReply::FromHiredis(const redisReply& reply) {
  RedisReply out;
  switch (reply.type) {
    case REDIS_REPLY_STRING:
      out.type = Type::kString;
      out.str.assign(reply.str, reply.len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = Type::kStatus;
      out.str.assign(reply.str, reply.len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = Type::kError;
      out.str.assign(reply.str, reply.len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = Type::kInteger;
      out.integer = reply.integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = Type::kArray;
      out.elements.reserve(reply.elements);
      for (size_t i = 0; i < reply.elements; ++i) {
        out.elements.push_back(FromHiredis(*reply.element[i]));
      }
      break;
    default:
      out.type = Type::kNil;
  }
  return out;
}

absl::StatusOr<std::string> RedisReply::AsString() const {
  if (type == Type::kString || type == Type::kStatus) return str;
  return absl::InternalError(absl::StrCat(
      "redis: expected a string reply, got type ", static_cast<int>(type)));
}

absl::StatusOr<int64_t> RedisReply::AsInteger() const {
  if (type == Type::kInteger) return integer;
  int64_t value = 0;
  if (type == Type::kString && absl::SimpleAtoi(str, &value)) return value;
  return absl::InternalError(absl::StrCat(
      "redis: expected an integer reply, got type ", static_cast<int>(type)));
}

bool IsTransientRedisError(const RedisReply& reply) {
  if (reply.type != RedisReply::Type::kError) return false;
  for (absl::string_view prefix : {"LOADING", "BUSY", "MASTERDOWN", "TRYAGAIN",
                                   "READONLY", "CLUSTERDOWN"}) {
    if (absl::StartsWith(reply.str, prefix)) return true;
  }
  return false;
}

}  // namespace townhall
