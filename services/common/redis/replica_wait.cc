#include "services/common/redis/replica_wait.h"

#include <algorithm>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"

namespace townhall {
namespace {

constexpr absl::string_view kShortfallPayload =
    "townhall/redis/replica-wait-shortfall";

}  // namespace

std::vector<std::string> WaitCommand(int replicas, absl::Duration timeout,
                                     absl::Time deadline) {
  int64_t ms = absl::ToInt64Milliseconds(
      std::min(timeout, deadline - absl::Now()));
  return {"WAIT", absl::StrCat(replicas), absl::StrCat(std::max<int64_t>(1, ms))};
}

absl::Status CheckReplicaWait(const absl::StatusOr<RedisReply>& wait,
                              int replicas) {
  if (!wait.ok()) return wait.status();
  if (wait->type != RedisReply::Type::kInteger) {
    return absl::UnavailableError(absl::StrCat(
        "storage unavailable (redis WAIT: ",
        wait->type == RedisReply::Type::kError ? wait->str : "bad reply", ")"));
  }
  if (wait->integer < replicas) {
    absl::Status shortfall = absl::UnavailableError(absl::StrCat(
        "storage unavailable (write confirmed by ", wait->integer, " of ",
        replicas, " replicas; retry with the same request_id)"));
    shortfall.SetPayload(kShortfallPayload, absl::Cord());
    return shortfall;
  }
  return absl::OkStatus();
}

bool IsReplicaWaitShortfall(const absl::Status& status) {
  return status.GetPayload(kShortfallPayload).has_value();
}

}  // namespace townhall
