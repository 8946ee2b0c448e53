#include "services/common/server/stream_registry.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace townhall {
namespace {

// Which per-credential cap counts a caller's streams.
struct CredentialCap {
  // The counter's key; "" when no per-credential cap applies.
  std::string key;
  int limit = 0;
  // "participant": completes "at most N open watch streams per ...".
  absl::string_view per;
};

CredentialCap CapOf(const Principal& caller, const StreamLimits& limits) {
  if (caller.is_session_scoped()) {
    return {absl::StrCat("participant:", caller.tenant_id, ":",
                         caller.participant_id),
            limits.max_per_participant, "participant"};
  }
  switch (caller.role) {
    case Role::kApiClient:
      return {absl::StrCat("api-key:", caller.tenant_id, ":", caller.token_id),
              limits.max_per_api_key, "API key"};
    case Role::kOrganizer:
      // Per person, not per token: minting more tokens gives no more.
      return {absl::StrCat("organizer:", caller.tenant_id, ":", caller.subject),
              limits.max_per_organizer, "organizer"};
    default:
      return {};
  }
}

}  // namespace

absl::Status ValidateStreamLimits(const StreamLimits& limits) {
  const std::pair<absl::string_view, int> caps[] = {
      {"--max_streams", limits.max_streams},
      {"--max_streams_per_participant", limits.max_per_participant},
      {"--max_streams_per_api_key", limits.max_per_api_key},
      {"--max_streams_per_organizer", limits.max_per_organizer}};
  for (const auto& [flag, value] : caps) {
    if (value < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(flag, " must not be negative (0: no limit)"));
    }
  }
  if (limits.max_lifetime < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "--max_stream_lifetime must not be negative (0: no limit)");
  }
  return absl::OkStatus();
}

StreamRegistry::Admission::~Admission() { registry_->Release(id_); }

StreamRegistry::StreamRegistry(StreamLimits limits, const Authenticator* auth)
    : limits_(limits), auth_(auth) {
  thread_ = std::thread([this] { Loop(); });
}

StreamRegistry::~StreamRegistry() { Stop(); }

absl::StatusOr<std::unique_ptr<StreamRegistry::Admission>>
StreamRegistry::Admit(const Principal& caller, std::weak_ptr<Stream> stream) {
  CredentialCap cap = CapOf(caller, limits_);
  if (cap.limit <= 0) cap.key.clear();
  const absl::Time now = absl::Now();
  absl::MutexLock lock(&mu_);
  if (limits_.max_streams > 0 &&
      open_.size() >= static_cast<size_t>(limits_.max_streams)) {
    return absl::ResourceExhaustedError(
        absl::StrCat("this server has reached its limit of ",
                     limits_.max_streams, " open watch streams; retry later"));
  }
  if (!cap.key.empty()) {
    int& open = per_credential_[cap.key];
    if (open >= cap.limit) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "at most ", cap.limit, " open watch streams per ", cap.per));
    }
    ++open;
  }
  absl::Time end_of_life = absl::InfiniteFuture();
  if (limits_.max_lifetime > absl::ZeroDuration()) {
    // 0.9 to 1 times the lifetime.
    const double spread =
        std::uniform_real_distribution<double>(0.9, 1.0)(random_);
    end_of_life = now + limits_.max_lifetime * spread;
  }
  const uint64_t id = next_id_++;
  open_.emplace(id, Entry{.caller = caller,
                          .credential = std::move(cap.key),
                          .end_of_life = end_of_life,
                          .stream = std::move(stream)});
  return std::unique_ptr<Admission>(new Admission(this, id));
}

void StreamRegistry::Release(uint64_t id) {
  absl::MutexLock lock(&mu_);
  auto it = open_.find(id);
  if (it == open_.end()) return;
  if (!it->second.credential.empty()) {
    auto counted = per_credential_.find(it->second.credential);
    if (counted != per_credential_.end() && --counted->second <= 0) {
      per_credential_.erase(counted);
    }
  }
  open_.erase(it);
}

void StreamRegistry::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

size_t StreamRegistry::open_streams() const {
  absl::MutexLock lock(&mu_);
  return open_.size();
}

void StreamRegistry::Loop() {
  auto stopped = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_; };
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (mu_.AwaitWithTimeout(absl::Condition(&stopped),
                               kStreamCheckInterval)) {
        return;
      }
    }
    Check(absl::Now());
  }
}

void StreamRegistry::Check(absl::Time now) {
  std::vector<std::pair<std::shared_ptr<Stream>, absl::Status>> ending;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [id, entry] : open_) {
      if (entry.ending) continue;
      absl::Status status = auth_->Revalidate(entry.caller, now);
      if (status.ok() && now >= entry.end_of_life) {
        status = absl::UnavailableError(absl::StrCat(
            "stream lifetime reached (at most ",
            absl::FormatDuration(limits_.max_lifetime),
            "); reconnect with after_version set to the last version "
            "received"));
      }
      if (status.ok()) continue;
      entry.ending = true;
      if (std::shared_ptr<Stream> stream = entry.stream.lock()) {
        ending.emplace_back(std::move(stream), std::move(status));
      }
    }
  }
  // Outside the lock: ending a stream releases its Admission.
  for (const auto& [stream, status] : ending) stream->End(status);
}

}  // namespace townhall
