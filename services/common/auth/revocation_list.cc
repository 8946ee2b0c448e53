#include "services/common/auth/revocation_list.h"

#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/logging.h"
#include "services/common/status.h"
#include "services/common/tenant_keys.h"
#include "townhall_common_lua.h"

namespace townhall {
namespace {

constexpr absl::Duration kBlock = absl::Seconds(1);
constexpr absl::Duration kRetryDelay = absl::Milliseconds(200);
constexpr int kBatch = 1000;

// The entries of one stream that one read returned, oldest first.
struct StreamEntry {
  std::string id;
  std::string key;         // field "k" (a revocation) or "t" (an index entry)
  int64_t generation = 0;  // field "g"
};
struct StreamBatch {
  std::string stream;
  std::vector<StreamEntry> entries;
};

// Reads up to kBatch entries of every stream in `cursors` (stream key -> id
// of the last entry read, "0" for none) after that id, waiting up to
// `block` for the first one (zero: not at all). Every read of the watcher
// goes through here, as one XREAD over all the streams. On Redis Cluster
// the connection's router sends one blocking XREAD per slot at once (the
// index and the tenants' streams are in different slots) and merges their
// entries; a failed one fails the whole read (docs/redis-cluster.md).
absl::StatusOr<std::vector<StreamBatch>> ReadStreams(
    RedisConnection& redis,
    const absl::flat_hash_map<std::string, std::string>& cursors,
    absl::Duration block) {
  std::vector<std::string> argv = {"XREAD", "COUNT", absl::StrCat(kBatch)};
  if (block > absl::ZeroDuration()) {
    argv.push_back("BLOCK");
    argv.push_back(absl::StrCat(absl::ToInt64Milliseconds(block)));
  }
  argv.push_back("STREAMS");
  for (const auto& [stream, last_id] : cursors) argv.push_back(stream);
  for (const auto& [stream, last_id] : cursors) argv.push_back(last_id);
  TH_ASSIGN_OR_RETURN(RedisReply reply, redis.Command(argv));
  if (reply.type == RedisReply::Type::kError) {
    return absl::UnavailableError(reply.str);
  }
  std::vector<StreamBatch> batches;
  if (reply.is_nil()) return batches;  // nothing new within the block time
  // [[stream, [[id, [field, value, ...]], ...]], ...]
  for (const RedisReply& stream : reply.elements) {
    if (stream.elements.size() != 2) continue;
    StreamBatch& batch = batches.emplace_back();
    batch.stream = stream.elements[0].str;
    for (const RedisReply& entry : stream.elements[1].elements) {
      if (entry.elements.size() != 2) continue;
      StreamEntry& out = batch.entries.emplace_back();
      out.id = entry.elements[0].str;
      const auto& fields = entry.elements[1].elements;
      for (size_t i = 0; i + 1 < fields.size(); i += 2) {
        if (fields[i].str == "k" || fields[i].str == "t") {
          out.key = fields[i + 1].str;
        }
        if (fields[i].str == "g") {
          (void)absl::SimpleAtoi(fields[i + 1].str, &out.generation);
        }
      }
    }
  }
  return batches;
}

}  // namespace

std::string RevocationStreamKey(absl::string_view tenant_id) {
  return absl::StrCat(TenantPrefix(tenant_id), "revocations");
}

absl::Status ListRevocationStream(RedisConnection& redis,
                                  absl::string_view tenant_id) {
  return redis
      .Eval(common_lua::kListRevocationStreamScript,
            {std::string(kRevocationTenantsKey),
             std::string(kRevocationIndexKey)},
            {std::string(tenant_id)})
      .status();
}

std::string RegistrationRevocationKey(absl::string_view tenant_id,
                                      absl::string_view session_id,
                                      absl::string_view participant_id) {
  return absl::StrCat("reg:", tenant_id, ":", session_id, ":", participant_id);
}

std::string ApiKeyRevocationKey(absl::string_view tenant_id,
                                absl::string_view api_key_id) {
  return absl::StrCat("key:", tenant_id, ":", api_key_id);
}

std::string RevocationStreamMinId(absl::Time now) {
  return absl::StrCat(absl::ToUnixMillis(now - kMaxRevocableLifetime));
}

absl::Status RevocationList::Check(const Principal& caller,
                                   absl::Time now) const {
  std::string key;
  if (caller.is_session_scoped()) {
    key = RegistrationRevocationKey(caller.tenant_id, caller.session_id,
                                    caller.participant_id);
  } else if (caller.role == Role::kApiClient) {
    key = ApiKeyRevocationKey(caller.tenant_id, caller.token_id);
  } else {
    return absl::OkStatus();
  }
  absl::MutexLock lock(&mu_);
  if (now - synced_ > max_staleness_) {
    return absl::UnavailableError(
        "cannot confirm that this token is still valid (revocation list is "
        "out of date); retry shortly");
  }
  auto it = revoked_.find(key);
  if (it == revoked_.end()) return absl::OkStatus();
  if (caller.role == Role::kApiClient || caller.generation < it->second) {
    return absl::UnauthenticatedError("token revoked");
  }
  return absl::OkStatus();
}

void RevocationList::Apply(absl::string_view key, int64_t generation) {
  absl::MutexLock lock(&mu_);
  int64_t& lowest = revoked_[key];
  lowest = std::max(lowest, generation);
}

absl::Duration RevocationList::Staleness(absl::Time now) const {
  absl::MutexLock lock(&mu_);
  return now - synced_;
}

void RevocationList::MarkSynced(absl::Time time) {
  absl::MutexLock lock(&mu_);
  synced_ = time;
}

bool RevocationList::WaitForSync(absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto synced = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return synced_ != absl::InfinitePast();
  };
  return mu_.AwaitWithTimeout(absl::Condition(&synced), timeout);
}

RevocationWatcher::RevocationWatcher(RedisOptions redis, RevocationList* list)
    : redis_(std::move(redis)), list_(list) {
  thread_ = std::thread([this] { Run(); });
}

RevocationWatcher::~RevocationWatcher() {
  stop_.Notify();
  thread_.join();
}

void RevocationWatcher::Run() {
  // The command timeout must outlast the XREAD block.
  RedisOptions options = redis_;
  options.command_timeout = kBlock + options.command_timeout;
  RedisConnection redis(options);
  // "0" reads a stream from its start; later reads continue after the last
  // entry seen. Tenants' streams join as the index lists them.
  last_ids_[std::string(kRevocationIndexKey)] = "0";
  bool caught_up = false;
  while (!stop_.HasBeenNotified()) {
    absl::Time started = absl::Now();
    redis.set_deadline(started + options.command_timeout);
    // Until caught up, read without blocking so that start-up is quick.
    bool read_all = false;
    if (ReadOnce(redis, caught_up ? kBlock : absl::ZeroDuration(), &read_all)) {
      caught_up = read_all;
      // Every revocation written before `started` was read: its tenant was
      // listed before it was written, so this read knew the stream or
      // found the tenant (and then was not caught up).
      if (caught_up) list_->MarkSynced(started);
    } else {
      caught_up = false;
      stop_.WaitForNotificationWithTimeout(kRetryDelay);
    }
  }
}

bool RevocationWatcher::ReadOnce(RedisConnection& redis, absl::Duration block,
                                 bool* caught_up) {
  absl::StatusOr<std::vector<StreamBatch>> batches =
      ReadStreams(redis, last_ids_, block);
  if (!batches.ok()) {
    LogWarning("revocation watcher: read failed",
               {{"error", batches.status().ToString()}});
    return false;
  }
  *caught_up = true;
  for (const StreamBatch& batch : *batches) {
    const bool index = batch.stream == kRevocationIndexKey;
    // A full batch may have more behind it.
    if (batch.entries.size() >= static_cast<size_t>(kBatch)) *caught_up = false;
    for (const StreamEntry& entry : batch.entries) {
      last_ids_[batch.stream] = entry.id;
      if (entry.key.empty()) continue;
      if (!index) {
        list_->Apply(entry.key, entry.generation);
      } else if (last_ids_.try_emplace(RevocationStreamKey(entry.key), "0")
                     .second) {
        // A newly listed tenant: its stream is read from the start next.
        *caught_up = false;
      }
    }
  }
  return true;
}

}  // namespace townhall
