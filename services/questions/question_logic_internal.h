// What the questions logic files (submit_, moderation_, reads_, exports_,
// settings_logic.cc) share; not for use outside services/questions/.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "google/protobuf/timestamp.pb.h"
#include "services/common/auth/principal.h"
#include "services/common/redis/redis_connection.h"
#include "services/common/validation.h"
#include "services/questions/question_view.h"
#include "townhall/v1/questions.pb.h"

namespace townhall::questions::internal {

inline constexpr TextLimits kQuestionText{
    .min_chars = 1, .max_chars = 500, .multiline = true, .visible_only = true};

// Parses JSON a questions script wrote.
absl::Status FromJson(absl::string_view json, google::protobuf::Message* out);

// Unix milliseconds as a script argument.
std::string NowMillis(absl::Time now);

absl::Status ValidateQuestionRef(const std::string& session_id,
                                 const std::string& question_id);

// FAILED_PRECONDITION naming the question's status ("PENDING" as scripts
// name it) and what the action needs.
absl::Status BadState(absl::string_view id, absl::string_view status,
                      absl::string_view what);

// The caller's viewer; the policy (one more round trip) is read only for
// tenant organizers, the only viewers it changes.
absl::StatusOr<QuestionViewer> ViewerFor(const Principal& caller,
                                         RedisConnection& redis);

// Decodes a question for `viewer`: NOT_FOUND when it may not see it.
absl::StatusOr<v1::Question> ForViewer(const QuestionViewer& viewer,
                                       absl::string_view json);

// The questions of script `values` from `first` on that `viewer` may see;
// errors other than NOT_FOUND (a question it may not see) fail.
absl::Status AppendVisible(const QuestionViewer& viewer,
                           const std::vector<std::string>& values, size_t first,
                           std::vector<v1::Question>* out);

// Offsets are the page tokens (ParseOffsetPageToken, validation.h):
// rank-based reads (ZRANGE) cost O(log n + page).

// QueueSettings JSON as the scripts write it (defaults if it does not
// parse).
v1::QueueSettings DecodeSettings(absl::string_view json);

// The audit log from `offset`, at most `count` actions (lua/read_log.lua);
// `total` is the log's length.
absl::StatusOr<std::vector<v1::ModerationAction>> ReadLog(
    RedisConnection& redis, absl::string_view tenant_id,
    absl::string_view session_id, int64_t offset, int count, int64_t* total);

}  // namespace townhall::questions::internal
