// QuestionStore: the question queue's Redis keys and the one way its scripts
// run. Everything of one session's queue shares the hash tag
// {s:<tenant>:<session>}, so a busy session's votes land on one Redis
// Cluster slot and different sessions spread over the cluster. The scripts
// (lua/) receive the prefix as KEYS[1] and derive every key by appending to
// it; lua/queue_core.lua lists the schema:
//
//   th:{s:<tenant>:<session>}:version, :events   the session's question feed
//   th:{s:<tenant>:<session>}:q:<id>[:voters]    one question, its voters
//   th:{s:<tenant>:<session>}:top, trend, new, pending, answered, visible,
//                             all, mine:<p>      indexes
//   th:{s:<tenant>:<session>}:counts             questions per status
//   th:{s:<tenant>:<session>}:match              duplicate candidates
//   th:{s:<tenant>:<session>}:settings, pinned, audit, undo, rl:<kind>,
//                             idem:...           the rest
//
// The tenant-wide QuestionPolicy has the tenant's tag:
//
//   th:{t:<tenant>}:questions:policy             STRING QuestionPolicy bytes
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "services/common/change_feed.h"
#include "services/common/redis/lua_script.h"
#include "services/common/redis/redis_connection.h"
#include "services/common/redis/script_outcome.h"
#include "services/questions/question_keys.h"
#include "townhall/v1/questions.pb.h"

namespace townhall::questions {

// One session's queue. One store per call (it wraps the worker's
// connection).
class QuestionStore {
 public:
  QuestionStore(RedisConnection& redis, absl::string_view tenant_id,
                absl::string_view session_id)
      : redis_(redis), prefix_(QueuePrefix(tenant_id, session_id)) {}

  const std::string& prefix() const { return prefix_; }

  // Runs a questions script with KEYS = {prefix}.
  absl::StatusOr<ScriptOutcome> RunScript(
      const LuaScript& script, const std::vector<std::string>& args) const;

 private:
  RedisConnection& redis_;
  std::string prefix_;
};

// Reads the tenant's question policy (defaults when never set).
absl::StatusOr<v1::QuestionPolicy> ReadQuestionPolicy(
    RedisConnection& redis, absl::string_view tenant_id);

// Writes the tenant's question policy whole (one key: no read-modify-write).
absl::Status WriteQuestionPolicy(RedisConnection& redis,
                                 absl::string_view tenant_id,
                                 const v1::QuestionPolicy& policy);

}  // namespace townhall::questions
