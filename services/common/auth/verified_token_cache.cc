#include "services/common/auth/verified_token_cache.h"

#include "absl/hash/hash.h"

namespace townhall {

VerifiedTokenCache::VerifiedTokenCache(size_t capacity)
    : capacity_(capacity),
      shard_capacity_(capacity == 0 ? 0 : (capacity + kShards - 1) / kShards) {}

VerifiedTokenCache::Shard& VerifiedTokenCache::ShardFor(
    absl::string_view token) {
  // The top bits: the maps inside use the low ones (to place a token and
  // for its control byte), which then stay spread evenly in every shard.
  return shards_[(absl::HashOf(token) >> 56) % kShards];
}

std::optional<Principal> VerifiedTokenCache::Find(absl::string_view token,
                                                  absl::Time now) {
  if (capacity_ == 0 || token.size() > kMaxCachedTokenBytes) {
    return std::nullopt;
  }
  Shard& shard = ShardFor(token);
  absl::MutexLock lock(&shard.mu);
  auto it = shard.tokens.find(token);
  if (it == shard.tokens.end()) return std::nullopt;
  if (it->second.expire_time <= now) {
    shard.tokens.erase(it);
    return std::nullopt;
  }
  return it->second;
}

void VerifiedTokenCache::Insert(absl::string_view token,
                                const Principal& principal, absl::Time now) {
  if (capacity_ == 0 || token.size() > kMaxCachedTokenBytes) return;
  Shard& shard = ShardFor(token);
  absl::MutexLock lock(&shard.mu);
  if (shard.tokens.size() >= shard_capacity_) {
    absl::erase_if(shard.tokens, [now](const auto& entry) {
      return entry.second.expire_time <= now;
    });
    // Still full: drop one. Which one matters little (a dropped token is
    // verified again on its next call); the map's first slot is as good
    // as any and costs nothing to find.
    if (shard.tokens.size() >= shard_capacity_) {
      shard.tokens.erase(shard.tokens.begin());
    }
  }
  shard.tokens.insert_or_assign(std::string(token), principal);
}

size_t VerifiedTokenCache::size() const {
  size_t total = 0;
  for (const Shard& shard : shards_) {
    absl::MutexLock lock(&shard.mu);
    total += shard.tokens.size();
  }
  return total;
}

}  // namespace townhall
