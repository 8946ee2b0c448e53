#include "services/common/auth/revocation_list.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/logging.h"

namespace townhall {
namespace {

constexpr absl::Duration kBlock = absl::Seconds(1);
constexpr absl::Duration kRetryDelay = absl::Milliseconds(200);
constexpr int kBatch = 1000;

}  // namespace

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
  // "0" reads the stream from its start; later reads continue after the
  // last entry seen.
  std::string last_id = "0";
  bool caught_up = false;
  while (!stop_.HasBeenNotified()) {
    absl::Time started = absl::Now();
    redis.set_deadline(started + options.command_timeout);
    // Until caught up, read without blocking so that start-up is quick.
    int entries = 0;
    if (ReadOnce(redis, &last_id, caught_up ? kBlock : absl::ZeroDuration(),
                 &entries)) {
      // A full batch may have more behind it: current only after a short one.
      caught_up = entries < kBatch;
      if (caught_up) list_->MarkSynced(started);
    } else {
      stop_.WaitForNotificationWithTimeout(kRetryDelay);
    }
  }
}

bool RevocationWatcher::ReadOnce(RedisConnection& redis, std::string* last_id,
                                 absl::Duration block, int* entries) {
  std::vector<std::string> argv = {"XREAD", "COUNT", absl::StrCat(kBatch)};
  if (block > absl::ZeroDuration()) {
    argv.push_back("BLOCK");
    argv.push_back(absl::StrCat(absl::ToInt64Milliseconds(block)));
  }
  argv.insert(argv.end(),
              {"STREAMS", std::string(kRevocationStreamKey), *last_id});
  absl::StatusOr<RedisReply> reply = redis.Command(argv);
  if (!reply.ok() || reply->type == RedisReply::Type::kError) {
    LogWarning(
        "revocation watcher: read failed",
        {{"error", reply.ok() ? reply->str : reply.status().ToString()}});
    return false;
  }
  if (reply->is_nil()) return true;  // nothing new within the block time
  // [[stream, [[id, [field, value, ...]], ...]]]
  for (const RedisReply& stream : reply->elements) {
    if (stream.elements.size() != 2) continue;
    for (const RedisReply& entry : stream.elements[1].elements) {
      if (entry.elements.size() != 2) continue;
      *last_id = entry.elements[0].str;
      ++*entries;
      std::string key;
      int64_t generation = 0;
      const auto& fields = entry.elements[1].elements;
      for (size_t i = 0; i + 1 < fields.size(); i += 2) {
        if (fields[i].str == "k") key = fields[i + 1].str;
        if (fields[i].str == "g")
          (void)absl::SimpleAtoi(fields[i + 1].str, &generation);
      }
      if (!key.empty()) list_->Apply(key, generation);
    }
  }
  return true;
}

}  // namespace townhall
