// A Lua script embedded at build time (see cmake/TownhallLua.cmake), with
// its SHA1 computed once so that calls use EVALSHA.
#pragma once

#include <string>

#include "absl/strings/string_view.h"

namespace townhall {

class LuaScript {
 public:
  // `name` is for logs; `body` is the full script text.
  LuaScript(absl::string_view name, absl::string_view body);

  const std::string& name() const { return name_; }
  const std::string& body() const { return body_; }
  // Lowercase hex SHA1 of the body, as EVALSHA expects.
  const std::string& sha1() const { return sha1_; }
  // False for a script whose shebang has `flags=no-writes` (Redis refuses
  // its writes): no WAIT for replicas after it (--redis_wait_replicas).
  bool writes() const { return writes_; }

 private:
  std::string name_;
  std::string body_;
  std::string sha1_;
  bool writes_ = true;
};

}  // namespace townhall
