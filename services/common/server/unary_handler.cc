#include "services/common/server/unary_handler.h"

#include <string>

namespace townhall {

absl::Status FinishStatus(grpc::CallbackServerContext* ctx,
                          absl::Status status) {
  if (status.code() == absl::StatusCode::kResourceExhausted) {
    if (auto delay = status.GetPayload(kRetryAfterPayload)) {
      ctx->AddTrailingMetadata(std::string(kRetryAfterPayload),
                               std::string(*delay));
    }
  }
  return status;
}

}  // namespace townhall
