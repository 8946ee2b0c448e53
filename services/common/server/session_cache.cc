#include "services/common/server/session_cache.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/logging.h"
#include "services/common/tenant_keys.h"

ABSL_FLAG(int, session_cache_size, 10000,
          "Sessions of other services' hot paths cached per process, kept "
          "current from the scheduling change feed; 0 turns the cache off "
          "(every lookup asks SchedulingService).");
ABSL_FLAG(absl::Duration, session_cache_max_staleness, absl::Milliseconds(500),
          "A cached session is served only while its tenant's scheduling "
          "feed was read up to less than this long ago; else it is re-read.");

namespace townhall {
namespace {

// Entries one XREAD takes per feed; a full batch means "read on at once".
constexpr int kSessionFeedReadCount = 1000;
// A tenant nobody asked for this long, with nothing cached, is no longer
// followed.
constexpr absl::Duration kForgetTenant = absl::Minutes(1);
// After a failed XREAD.
constexpr absl::Duration kSessionFeedRetryDelay = absl::Milliseconds(100);

// Every cache of the process, for InvalidateTenantInProcess.
absl::Mutex registry_mu(absl::kConstInit);
absl::flat_hash_set<SessionCache*>& Registry() {
  static auto* caches = new absl::flat_hash_set<SessionCache*>();
  return *caches;
}
absl::Mutex shared_mu(absl::kConstInit);
// The shared cache per Redis address (weak: it dies with its last user).
absl::flat_hash_map<std::string, std::weak_ptr<SessionCache>>& SharedCaches() {
  static auto* caches =
      new absl::flat_hash_map<std::string, std::weak_ptr<SessionCache>>();
  return *caches;
}

// "<version>-0" -> version.
int64_t EntryVersion(const std::string& id) {
  int64_t version = 0;
  if (!absl::SimpleAtoi(id.substr(0, id.find('-')), &version)) return -1;
  return version;
}

// The field `name` of a stream entry's flat field list.
const std::string* Field(const RedisReply& fields, absl::string_view name) {
  for (size_t i = 0; i + 1 < fields.elements.size(); i += 2) {
    if (fields.elements[i].str == name) return &fields.elements[i + 1].str;
  }
  return nullptr;
}

}  // namespace

SessionCache::SessionCache(RedisOptions redis, Options options)
    : redis_(std::move(redis)), options_(options) {
  if (options_.invalidate_in_process) {
    absl::MutexLock lock(&registry_mu);
    Registry().insert(this);
  }
  thread_ = std::thread([this] { Run(); });
}

SessionCache::~SessionCache() {
  if (options_.invalidate_in_process) {
    absl::MutexLock lock(&registry_mu);
    Registry().erase(this);
  }
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  thread_.join();
}

std::shared_ptr<SessionCache> SessionCache::Shared(const RedisOptions& redis) {
  const int size = absl::GetFlag(FLAGS_session_cache_size);
  if (size <= 0) return nullptr;
  absl::MutexLock lock(&shared_mu);
  // One cache per Redis: per address, or per cluster (whose connections
  // all carry the default address).
  std::weak_ptr<SessionCache>& slot = SharedCaches()[absl::StrCat(
      redis.address, "/", reinterpret_cast<uintptr_t>(redis.cluster.get()))];
  std::shared_ptr<SessionCache> cache = slot.lock();
  if (cache == nullptr) {
    Options options;
    options.max_entries = static_cast<size_t>(size);
    options.max_staleness = absl::GetFlag(FLAGS_session_cache_max_staleness);
    options.block = std::min(options.block, options.max_staleness / 4);
    cache = std::make_shared<SessionCache>(redis, options);
    slot = cache;
  }
  return cache;
}

void SessionCache::InvalidateTenantInProcess(absl::string_view tenant_id) {
  absl::MutexLock lock(&registry_mu);
  for (SessionCache* cache : Registry()) cache->InvalidateTenant(tenant_id);
}

std::optional<v1::Session> SessionCache::Get(absl::string_view tenant_id,
                                             absl::string_view session_id) {
  absl::Time now = absl::Now();
  absl::MutexLock lock(&mu_);
  auto tenant = tenants_.find(tenant_id);
  if (tenant == tenants_.end() ||
      now - tenant->second.confirmed > options_.max_staleness) {
    ++misses_;
    return std::nullopt;
  }
  auto entry = tenant->second.sessions.find(session_id);
  if (entry == tenant->second.sessions.end()) {
    ++misses_;
    return std::nullopt;
  }
  ++hits_;
  return entry->second.session;
}

std::optional<uint64_t> SessionCache::BeginFetch(absl::string_view tenant_id) {
  absl::MutexLock lock(&mu_);
  Tenant& tenant = tenants_[tenant_id];
  if (tenant.events_key.empty()) {
    tenant.events_key = absl::StrCat(TenantPrefix(tenant_id), "events");
  }
  tenant.last_wanted = absl::Now();
  if (tenant.position < 0) return std::nullopt;
  return tenant.generation;
}

void SessionCache::Insert(absl::string_view tenant_id,
                          const v1::Session& session, uint64_t ticket) {
  if (options_.max_entries == 0) return;
  absl::MutexLock lock(&mu_);
  auto tenant = tenants_.find(tenant_id);
  if (tenant == tenants_.end() || tenant->second.position < 0 ||
      tenant->second.generation != ticket) {
    return;
  }
  uint64_t order = next_order_++;
  auto [entry, inserted] = tenant->second.sessions.insert_or_assign(
      session.id(), Entry{session, order});
  if (inserted) ++entries_;
  insertions_.push_back({std::string(tenant_id), session.id(), order});
  EvictLocked();
}

void SessionCache::EvictLocked() {
  while (entries_ > static_cast<int64_t>(options_.max_entries) ||
         insertions_.size() > 2 * options_.max_entries + 16) {
    if (insertions_.empty()) return;
    Inserted oldest = std::move(insertions_.front());
    insertions_.pop_front();
    auto tenant = tenants_.find(oldest.tenant_id);
    if (tenant == tenants_.end()) continue;
    auto entry = tenant->second.sessions.find(oldest.session_id);
    // A row is stale when its entry was dropped or inserted again since.
    if (entry == tenant->second.sessions.end() ||
        entry->second.order != oldest.order) {
      continue;
    }
    if (entries_ <= static_cast<int64_t>(options_.max_entries)) {
      // Only compacting: keep the live row.
      insertions_.push_back(std::move(oldest));
      continue;
    }
    tenant->second.sessions.erase(entry);
    --entries_;
  }
}

void SessionCache::InvalidateTenant(absl::string_view tenant_id) {
  absl::MutexLock lock(&mu_);
  auto tenant = tenants_.find(tenant_id);
  if (tenant != tenants_.end()) ClearTenantLocked(tenant->second);
}

void SessionCache::ClearTenantLocked(Tenant& tenant) {
  entries_ -= static_cast<int64_t>(tenant.sessions.size());
  tenant.sessions.clear();
  ++tenant.generation;
}

void SessionCache::ResetAllLocked() {
  for (auto& [id, tenant] : tenants_) {
    ClearTenantLocked(tenant);
    tenant.position = -1;
    tenant.confirmed = absl::InfinitePast();
  }
}

SessionCache::Stats SessionCache::stats() const {
  absl::MutexLock lock(&mu_);
  return {hits_, misses_, entries_};
}

void SessionCache::Run() {
  RedisConnection redis(redis_);
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (stop_) return;
    }
    if (!FollowOnce(redis)) {
      {
        absl::MutexLock lock(&mu_);
        // What happened meanwhile is unknown: start over.
        ResetAllLocked();
      }
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stop_), kSessionFeedRetryDelay);
    }
  }
}

bool SessionCache::FollowOnce(RedisConnection& redis) {
  // Tenants to start following, and the streams to read.
  std::vector<std::string> new_tenants;
  std::vector<std::string> keys, ids, tenant_ids;
  {
    absl::MutexLock lock(&mu_);
    absl::Time now = absl::Now();
    std::vector<std::string> forget;
    for (auto& [id, tenant] : tenants_) {
      if (tenant.sessions.empty() && now - tenant.last_wanted > kForgetTenant) {
        forget.push_back(id);
      } else if (tenant.position < 0) {
        new_tenants.push_back(id);
      }
    }
    for (const std::string& id : forget) tenants_.erase(id);
    if (new_tenants.empty() && tenants_.empty()) {
      mu_.AwaitWithTimeout(absl::Condition(&stop_), options_.block);
      return true;
    }
  }
  // Where each new tenant's feed stands; every later change is read.
  for (const std::string& id : new_tenants) {
    redis.set_deadline(absl::Now() + redis_.command_timeout);
    absl::Time asked = absl::Now();
    absl::StatusOr<RedisReply> version =
        redis.Command({"GET", absl::StrCat(TenantPrefix(id), "version")});
    if (!version.ok()) return false;
    int64_t position = 0;
    if (!version->is_nil()) {
      absl::StatusOr<int64_t> parsed = version->AsInteger();
      if (!parsed.ok()) return false;
      position = *parsed;
    }
    absl::MutexLock lock(&mu_);
    auto tenant = tenants_.find(id);
    if (tenant == tenants_.end()) continue;
    tenant->second.position = position;
    tenant->second.confirmed = asked;
  }
  {
    absl::MutexLock lock(&mu_);
    for (auto& [id, tenant] : tenants_) {
      if (tenant.position < 0) continue;
      tenant_ids.push_back(id);
      keys.push_back(tenant.events_key);
      ids.push_back(absl::StrCat(tenant.position, "-0"));
    }
  }
  if (keys.empty()) return true;
  std::vector<std::string> argv = {
      "XREAD",
      "COUNT",
      absl::StrCat(kSessionFeedReadCount),
      "BLOCK",
      absl::StrCat(absl::ToInt64Milliseconds(options_.block)),
      "STREAMS"};
  argv.insert(argv.end(), keys.begin(), keys.end());
  argv.insert(argv.end(), ids.begin(), ids.end());
  // Every change committed before the XREAD is sent is in its reply.
  absl::Time asked = absl::Now();
  redis.set_deadline(asked + options_.block + redis_.command_timeout);
  absl::StatusOr<RedisReply> reply = redis.Command(argv);
  if (!reply.ok()) {
    LogError("session cache: XREAD failed",
             {{"error", reply.status().ToString()}});
    return false;
  }
  absl::MutexLock lock(&mu_);
  absl::flat_hash_set<std::string> busy;  // a full batch: not confirmed yet
  for (const RedisReply& stream : reply->elements) {
    if (stream.elements.size() != 2) continue;
    const std::string& key = stream.elements[0].str;
    const std::vector<RedisReply>& entries = stream.elements[1].elements;
    size_t index = std::find(keys.begin(), keys.end(), key) - keys.begin();
    if (index == keys.size()) continue;
    auto tenant = tenants_.find(tenant_ids[index]);
    if (tenant == tenants_.end() || tenant->second.position < 0) continue;
    Tenant& t = tenant->second;
    if (entries.size() >= static_cast<size_t>(kSessionFeedReadCount))
      busy.insert(key);
    for (const RedisReply& entry : entries) {
      if (entry.elements.size() != 2) continue;
      int64_t version = EntryVersion(entry.elements[0].str);
      if (version <= t.position) continue;
      const std::string* kind = Field(entry.elements[1], "kind");
      const std::string* id = Field(entry.elements[1], "id");
      if (version != t.position + 1 || kind == nullptr) {
        // A gap (the stream was trimmed past us) or an entry we cannot
        // read: forget the tenant's sessions.
        ClearTenantLocked(t);
      } else if (absl::StartsWith(*kind, "session.") && id != nullptr) {
        auto cached = t.sessions.find(*id);
        if (cached != t.sessions.end()) {
          t.sessions.erase(cached);
          --entries_;
        }
        ++t.generation;
      } else if (absl::StartsWith(*kind, "series.")) {
        ClearTenantLocked(t);
      }
      // Registration and attendance entries change no session.
      t.position = version;
    }
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    if (busy.contains(keys[i])) continue;
    auto tenant = tenants_.find(tenant_ids[i]);
    if (tenant != tenants_.end() && tenant->second.position >= 0 &&
        tenant->second.confirmed < asked) {
      tenant->second.confirmed = asked;
    }
  }
  return true;
}

}  // namespace townhall
