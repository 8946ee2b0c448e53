// Redis Cluster key hash slots (the Redis Cluster specification, "Key
// distribution model"): CRC16 (XMODEM) of the key's hash tag, mod 16384.
//
//   KeySlot("th:{t:acme}:sessions") == KeySlot("th:{t:acme}:venues")
//   TH_ASSIGN_OR_RETURN(int slot, CommonSlot(keys));  // CROSSSLOT refused
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace townhall {

inline constexpr int kClusterSlots = 16384;

// CRC16-CCITT (XMODEM): polynomial 0x1021, initial value 0, as Redis uses.
uint16_t Crc16(absl::string_view data);

// Returns the part of `key` that is hashed: the text between the first '{'
// and the first '}' after it, when that is not empty; the whole key
// otherwise.
absl::string_view HashTag(absl::string_view key);

// Returns the hash slot (0..16383) of `key`.
int KeySlot(absl::string_view key);

// Returns the one slot all `keys` hash to. INVALID_ARGUMENT for no keys;
// INTERNAL "CROSSSLOT ..." when they span slots (a key schema bug: Redis
// Cluster refuses such commands, so they are refused before sending).
absl::StatusOr<int> CommonSlot(absl::Span<const std::string> keys);

}  // namespace townhall
