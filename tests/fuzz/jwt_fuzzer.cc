// Fuzzes JWT parsing and verification (services/common/auth/jwt.h). An
// input is one of
//   <token>                           verified as it comes: mostly
//                                     signature failures, plus libjwt's
//                                     parsing of header, payload, base64;
//   sign:<header JSON>\n<payload JSON> both parts signed with the test key
//                                     (HS256), then verified: this reaches
//                                     the claim checks behind the
//                                     signature with hostile claim values;
//   keys:<key file>                   a key file for KeySet::Parse.
// Checks that a token that verifies has a tenant, an expiry after now, a
// lifetime within townhalld's default TokenRules, and that a join token
// names its session and participant.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "services/common/auth/jwt.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

constexpr char kKeyId[] = "fuzz-key";
constexpr char kSecret[] = "0123456789abcdef0123456789abcdef01234567";
// 2027-01-15: seeds carry exp claims after it.
const absl::Time kNow = absl::FromUnixSeconds(1800000000);

const townhall::KeySet& Keys() {
  static const townhall::KeySet* const keys = new townhall::KeySet(
      *townhall::KeySet::Parse(absl::StrCat(kKeyId, " ", kSecret, "\n")));
  return *keys;
}

// header.payload.signature with HMAC-SHA256 over the first two parts.
std::string SignHs256(absl::string_view header, absl::string_view payload) {
  std::string signing_input =
      absl::StrCat(absl::WebSafeBase64Escape(header), ".",
                   absl::WebSafeBase64Escape(payload));
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_size = 0;
  HMAC(EVP_sha256(), kSecret, sizeof(kSecret) - 1,
       reinterpret_cast<const unsigned char*>(signing_input.data()),
       signing_input.size(), mac, &mac_size);
  return absl::StrCat(signing_input, ".",
                      absl::WebSafeBase64Escape(absl::string_view(
                          reinterpret_cast<const char*>(mac), mac_size)));
}

void Verify(absl::string_view token) {
  const townhall::TokenRules rules;  // townhalld's defaults
  absl::StatusOr<townhall::Principal> principal =
      townhall::VerifyToken(Keys(), rules, token, kNow);
  if (!principal.ok()) {
    FUZZ_CHECK(principal.status().code() == absl::StatusCode::kUnauthenticated);
    return;
  }
  FUZZ_CHECK(!principal->tenant_id.empty());
  FUZZ_CHECK(principal->expire_time > kNow);
  FUZZ_CHECK(principal->expire_time - principal->issue_time <=
             rules.MaxLifetime(principal->role));
  if (townhall::IsSessionRole(principal->role)) {
    FUZZ_CHECK(!principal->session_id.empty());
    FUZZ_CHECK(!principal->participant_id.empty());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view input(reinterpret_cast<const char*>(data), size);
  if (absl::ConsumePrefix(&input, "keys:")) {
    absl::StatusOr<townhall::KeySet> keys = townhall::KeySet::Parse(input);
    if (keys.ok()) FUZZ_CHECK(keys->Find(keys->signing_key_id()) != nullptr);
    return 0;
  }
  if (absl::ConsumePrefix(&input, "sign:")) {
    const size_t newline = input.find('\n');
    if (newline == absl::string_view::npos) return 0;
    Verify(SignHs256(input.substr(0, newline), input.substr(newline + 1)));
    return 0;
  }
  Verify(input);
  return 0;
}
