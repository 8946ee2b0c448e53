// --redis_wait_replicas: a write counts as done only once N replicas of its
// master have it. Redis replicates asynchronously, so a write acknowledged
// by a master that dies before its replicas copied it is lost when a
// replica takes over; `WAIT N timeout`, sent after the write on the same
// connection, answers how many replicas have every write of that
// connection so far (docs/operations.md, "On a Redis Cluster").
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/common/redis/redis_reply.h"

namespace townhall {

// `WAIT replicas ms` with ms the smaller of `timeout` and the time left to
// `deadline`, at least 1 (WAIT 0 would block for ever).
std::vector<std::string> WaitCommand(int replicas, absl::Duration timeout,
                                     absl::Time deadline);

// OK when `wait` (the reply to WaitCommand) counts at least `replicas`;
// else UNAVAILABLE: the write may or may not survive a failover, so the
// caller retries (townhall's writes are idempotent per request id).
absl::Status CheckReplicaWait(const absl::StatusOr<RedisReply>& wait,
                              int replicas);

// Whether `status` is CheckReplicaWait's "too few replicas": the cluster
// routing returns it at once (sending the write again to the same master
// would not add replicas) instead of retrying as for a lost connection.
bool IsReplicaWaitShortfall(const absl::Status& status);

}  // namespace townhall
