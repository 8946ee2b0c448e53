#include "services/common/redis/lua_script.h"

#include <openssl/sha.h>

#include "absl/strings/escaping.h"

namespace townhall {

LuaScript::LuaScript(absl::string_view name, absl::string_view body)
    : name_(name), body_(body) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(body_.data()), body_.size(),
       digest);
  sha1_ = absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

}  // namespace townhall
