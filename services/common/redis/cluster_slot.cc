#include "services/common/redis/cluster_slot.h"

#include <array>

#include "absl/strings/str_cat.h"

namespace townhall {
namespace {

constexpr std::array<uint16_t, 256> MakeCrc16Table() {
  std::array<uint16_t, 256> table{};
  for (int byte = 0; byte < 256; ++byte) {
    uint16_t crc = static_cast<uint16_t>(byte << 8);
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 0x8000) != 0 ? static_cast<uint16_t>((crc << 1) ^ 0x1021)
                                : static_cast<uint16_t>(crc << 1);
    }
    table[byte] = crc;
  }
  return table;
}

constexpr std::array<uint16_t, 256> kCrc16Table = MakeCrc16Table();

}  // namespace

uint16_t Crc16(absl::string_view data) {
  uint16_t crc = 0;
  for (unsigned char c : data) {
    crc = static_cast<uint16_t>((crc << 8) ^
                                kCrc16Table[((crc >> 8) ^ c) & 0xff]);
  }
  return crc;
}

absl::string_view HashTag(absl::string_view key) {
  size_t open = key.find('{');
  if (open == absl::string_view::npos) return key;
  size_t close = key.find('}', open + 1);
  if (close == absl::string_view::npos || close == open + 1) return key;
  return key.substr(open + 1, close - open - 1);
}

int KeySlot(absl::string_view key) {
  return Crc16(HashTag(key)) & (kClusterSlots - 1);
}

absl::StatusOr<int> CommonSlot(absl::Span<const std::string> keys) {
  if (keys.empty()) {
    return absl::InvalidArgumentError(
        "redis cluster: a routed command needs at least one key");
  }
  int slot = KeySlot(keys[0]);
  for (const std::string& key : keys.subspan(1)) {
    int other = KeySlot(key);
    if (other != slot) {
      return absl::InternalError(
          absl::StrCat("CROSSSLOT keys in different hash slots: '", keys[0],
                       "' (", slot, ") and '", key, "' (", other, ")"));
    }
  }
  return slot;
}

}  // namespace townhall
