// QuestionLogic: a session's question queue. Plain methods taking the
// caller, a Redis connection, (where the call needs it) the session fetched
// from SchedulingService by the glue in question_service.cc, and the
// request; the access table has already let the call in. Every change is
// one Lua script (lua/) that also appends to the session's question feed
// and, for moderator actions, to the audit log and the undo stack.
//
// Votes do not come here: they are one script on the event loop
// (question_service.cc, VoteScriptCall) so that the hot path takes no
// worker hand-off.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/common/auth/principal.h"
#include "services/common/redis/redis_connection.h"
#include "services/common/redis/script_outcome.h"
#include "services/questions/question_view.h"
#include "townhall/v1/questions.pb.h"
#include "townhall/v1/scheduling.pb.h"

namespace townhall::questions {

// Text rules of a question (and of an edited text): 1 to 500 code points,
// newlines allowed, no control or invisible characters (see
// questions.proto).
absl::Status ValidateQuestionText(absl::string_view field,
                                  absl::string_view text);

// The text as stored: without leading and trailing whitespace (the 500
// code points count after it).
std::string TrimQuestionText(absl::string_view text);

// The matching form of a text for duplicate detection: the words of
// MatchTokens (text_normalization.h) joined by spaces.
std::string MatchingForm(absl::string_view text);

// The `limit` most similar candidates to `text` (similarity at least
// kDuplicateThreshold), most similar first. Candidates are (id, matching
// form) pairs; `exclude` is left out.
struct DuplicateCandidate {
  std::string id;
  std::string match;
};
std::vector<std::pair<std::string, double>> RankDuplicates(
    absl::string_view text, const std::vector<DuplicateCandidate>& candidates,
    absl::string_view exclude, int limit);

// Similarity (text_normalization.h) from which a question is suggested as a
// likely duplicate.
inline constexpr double kDuplicateThreshold = 0.45;

// The delay of a RATE_LIMITED script outcome ({retry_ms, per_minute}) as
// RESOURCE_EXHAUSTED, with the delay in milliseconds also as the payload
// kRetryAfterPayload (status.h), which the handler sends as a trailer.
absl::Status RateLimited(absl::string_view what, const ScriptOutcome& outcome);

// Decodes a question's JSON (as the scripts write it).
absl::StatusOr<v1::Question> DecodeQuestion(absl::string_view json);

// The QueueSnapshot for a viewer, read atomically with its version;
// `agenda_item_id` narrows it to one item ("" for all). Anonymous authors
// are never in it.
absl::StatusOr<v1::QueueSnapshot> ReadQueueSnapshot(
    RedisConnection& redis, absl::string_view tenant_id,
    absl::string_view session_id, const QuestionViewer& viewer,
    absl::string_view agenda_item_id);

// The tenant's question policy (defaults when never set).
absl::StatusOr<v1::QuestionPolicy> ReadQuestionPolicy(
    RedisConnection& redis, absl::string_view tenant_id);

class QuestionLogic {
 public:
  using Redis = RedisConnection;

  absl::Status SubmitQuestion(const Principal& caller, Redis& redis,
                              const v1::Session& session,
                              const v1::SubmitQuestionRequest& request,
                              v1::SubmitQuestionResponse* response) const;
  absl::Status GetQuestion(const Principal& caller, Redis& redis,
                           const v1::GetQuestionRequest& request,
                           v1::GetQuestionResponse* response) const;
  absl::Status ListQuestions(const Principal& caller, Redis& redis,
                             const v1::Session& session,
                             const v1::ListQuestionsRequest& request,
                             v1::ListQuestionsResponse* response) const;
  // approve, reject, pin, unpin, answer, archive.
  absl::Status ApproveQuestion(const Principal& caller, Redis& redis,
                               const v1::ApproveQuestionRequest& request,
                               v1::ApproveQuestionResponse* response) const;
  absl::Status RejectQuestion(const Principal& caller, Redis& redis,
                              const v1::RejectQuestionRequest& request,
                              v1::RejectQuestionResponse* response) const;
  absl::Status PinQuestion(const Principal& caller, Redis& redis,
                           const v1::PinQuestionRequest& request,
                           v1::PinQuestionResponse* response) const;
  absl::Status UnpinQuestion(const Principal& caller, Redis& redis,
                             const v1::UnpinQuestionRequest& request,
                             v1::UnpinQuestionResponse* response) const;
  absl::Status MarkAnswered(const Principal& caller, Redis& redis,
                            const v1::MarkAnsweredRequest& request,
                            v1::MarkAnsweredResponse* response) const;
  absl::Status ArchiveQuestion(const Principal& caller, Redis& redis,
                               const v1::ArchiveQuestionRequest& request,
                               v1::ArchiveQuestionResponse* response) const;
  absl::Status MergeQuestions(const Principal& caller, Redis& redis,
                              const v1::MergeQuestionsRequest& request,
                              v1::MergeQuestionsResponse* response) const;
  absl::Status UndoModeration(const Principal& caller, Redis& redis,
                              const v1::UndoModerationRequest& request,
                              v1::UndoModerationResponse* response) const;
  absl::Status SuggestDuplicates(const Principal& caller, Redis& redis,
                                 const v1::SuggestDuplicatesRequest& request,
                                 v1::SuggestDuplicatesResponse* response) const;
  absl::Status ListModerationLog(const Principal& caller, Redis& redis,
                                 const v1::ListModerationLogRequest& request,
                                 v1::ListModerationLogResponse* response) const;
  absl::Status ExportModerationLog(
      const Principal& caller, Redis& redis,
      const v1::ExportModerationLogRequest& request,
      v1::ExportModerationLogResponse* response) const;
  absl::Status GetQueueSettings(const Principal& caller, Redis& redis,
                                const v1::GetQueueSettingsRequest& request,
                                v1::GetQueueSettingsResponse* response) const;
  absl::Status UpdateQueueSettings(
      const Principal& caller, Redis& redis, const v1::Session& session,
      const v1::UpdateQueueSettingsRequest& request,
      v1::UpdateQueueSettingsResponse* response) const;
  absl::Status GetQuestionPolicy(const Principal& caller, Redis& redis,
                                 const v1::GetQuestionPolicyRequest& request,
                                 v1::GetQuestionPolicyResponse* response) const;
  absl::Status UpdateQuestionPolicy(
      const Principal& caller, Redis& redis,
      const v1::UpdateQuestionPolicyRequest& request,
      v1::UpdateQuestionPolicyResponse* response) const;
  // `occurrences`: every occurrence of the session's series, in order.
  absl::Status CarryOverQuestions(
      const Principal& caller, Redis& redis, const v1::Session& session,
      const std::vector<v1::Session>& occurrences,
      const v1::CarryOverQuestionsRequest& request,
      v1::CarryOverQuestionsResponse* response) const;
  absl::Status ExportQuestions(const Principal& caller, Redis& redis,
                               const v1::Session& session,
                               const v1::ExportQuestionsRequest& request,
                               v1::ExportQuestionsResponse* response) const;
};

}  // namespace townhall::questions
