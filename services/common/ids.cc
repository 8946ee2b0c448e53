#include "services/common/ids.h"

#include <openssl/rand.h>

namespace townhall {

std::string NewId() {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
  unsigned char bytes[16];
  RAND_bytes(bytes, sizeof(bytes));
  std::string id(16, ' ');
  // 5 bits of each byte; 16 bytes give 80 bits.
  for (int i = 0; i < 16; ++i) id[i] = kAlphabet[bytes[i] & 31];
  return id;
}

}  // namespace townhall
