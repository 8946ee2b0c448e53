#include "services/questions/question_store.h"

#include "absl/strings/str_cat.h"
#include "services/common/status.h"

namespace townhall::questions {

absl::StatusOr<ScriptOutcome> QuestionStore::RunScript(
    const LuaScript& script, const std::vector<std::string>& args) const {
  return townhall::RunScript(redis_, script, {prefix_}, args);
}

absl::StatusOr<v1::QuestionPolicy> ReadQuestionPolicy(
    RedisConnection& redis, absl::string_view tenant_id) {
  TH_ASSIGN_OR_RETURN(RedisReply reply,
                      redis.Command({"GET", QuestionPolicyKey(tenant_id)}));
  v1::QuestionPolicy policy;
  if (reply.type == RedisReply::Type::kString &&
      !policy.ParseFromString(reply.str)) {
    return absl::InternalError("stored question policy does not parse");
  }
  return policy;
}

absl::Status WriteQuestionPolicy(RedisConnection& redis,
                                 absl::string_view tenant_id,
                                 const v1::QuestionPolicy& policy) {
  TH_ASSIGN_OR_RETURN(RedisReply reply,
                      redis.Command({"SET", QuestionPolicyKey(tenant_id),
                                     policy.SerializeAsString()}));
  if (reply.type == RedisReply::Type::kError) {
    return absl::InternalError(absl::StrCat("SET policy: ", reply.str));
  }
  return absl::OkStatus();
}

}  // namespace townhall::questions
