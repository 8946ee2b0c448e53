#include "services/common/redis/lua_script.h"

#include <openssl/sha.h>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"

namespace townhall {

LuaScript::LuaScript(absl::string_view name, absl::string_view body)
    : name_(name), body_(body) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(body_.data()), body_.size(),
       digest);
  sha1_ = absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
  if (absl::StartsWith(body_, "#!")) {
    absl::string_view shebang =
        absl::string_view(body_).substr(0, body_.find('\n'));
    writes_ = !absl::StrContains(shebang, "no-writes");
  }
}

}  // namespace townhall
