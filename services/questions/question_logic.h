// QuestionLogic: a session's question queue. Plain methods taking the
// caller, a Redis connection, (where the call needs it) the session fetched
// from SchedulingService by the glue in question_service.cc, and the
// request; the access table has already let the call in. Every change is
// one Lua script (lua/, run through QuestionStore) that also appends to the
// session's question feed and, for moderator actions, to the audit log and
// the undo stack.
//
// One file per aggregate: submit_logic.cc (submissions, duplicates),
// moderation_logic.cc (moderator actions, merge, undo, carry-over),
// reads_logic.cc (Get, List, the WatchQueue snapshot, the audit log),
// exports_logic.cc, settings_logic.cc; question_logic.cc holds the text
// rules and what they share (question_logic_internal.h).
//
// Votes do not come here: they are one run of lua/vote.lua on the event
// loop (question_service.cc), so that the hot path takes no worker
// hand-off; votes_logic.h holds their validation, arguments and decoding.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/common/auth/principal.h"
#include "services/common/metrics/metrics.h"
#include "services/common/redis/redis_connection.h"
#include "services/common/redis/redis_event_loop.h"
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

// The matching form of a text for duplicate detection, stored with the
// question (its `match` field): kMatchingFormPrefix, LatinMatchKey(text),
// '|', SkeletonMatchKey(text) (text_normalization.h; neither key contains
// '|'). Questions stored before skeletons (MatchTokens joined by spaces, no
// prefix) are recomputed from their text when read (RankDuplicates), so
// stored data needs no migration.
std::string MatchingForm(absl::string_view text);
inline constexpr absl::string_view kMatchingFormPrefix = "2|";

// A question that a new text may duplicate: its id, matching form and text.
struct DuplicateCandidate {
  std::string id;
  std::string match;
  std::string text;
};

// The `limit` most similar candidates to `text` (similarity at least
// kDuplicateThreshold), most similar first. `exclude` is left out. The
// similarity is the larger KeySimilarity of the Latin keys and of the
// skeleton keys, so that a question retyped in another script or with
// look-alike letters of another script ranks as the same question.
std::vector<std::pair<std::string, double>> RankDuplicates(
    absl::string_view text, const std::vector<DuplicateCandidate>& candidates,
    absl::string_view exclude, int limit);

// RankDuplicates as the SimilarQuestions of an answer (id, text,
// similarity).
std::vector<v1::SimilarQuestion> SimilarQuestions(
    absl::string_view text, const std::vector<DuplicateCandidate>& candidates,
    absl::string_view exclude, int limit);

// The candidates of a script reply: (id, match, text) triples from
// `values[first]` on (lua/questions.lua, duplicate_candidates).
std::vector<DuplicateCandidate> DecodeDuplicateCandidates(
    const std::vector<std::string>& values, size_t first);

// Similarity (text_normalization.h) from which a question is suggested as a
// likely duplicate.
inline constexpr double kDuplicateThreshold = 0.45;

// RateLimited (script_outcome.h) turns a RATE_LIMITED script outcome into
// RESOURCE_EXHAUSTED.

// Decodes a question's JSON (as the scripts write it).
absl::StatusOr<v1::Question> DecodeQuestion(absl::string_view json);

// The QueueSnapshot for a viewer, read atomically with its version
// (lua/read_snapshot.lua); `agenda_item_id` narrows it to one item ("" for
// all). Anonymous authors are never in it.
absl::StatusOr<v1::QueueSnapshot> ReadQueueSnapshot(
    RedisConnection& redis, absl::string_view tenant_id,
    absl::string_view session_id, const QuestionViewer& viewer,
    absl::string_view agenda_item_id);

// Every method serving a session-scoped RPC takes the session: the handler
// looks it up first (NOT_FOUND for an unknown one and for another tenant's,
// before any queue key is read); methods that need only that check leave
// it unused. Methods on one question take none (a question exists only in a
// session of the caller's tenant).
class QuestionLogic {
 public:
  using Redis = RedisConnection;

  // `metrics` (null: off) counts submissions, votes and moderator actions;
  // it outlives this.
  explicit QuestionLogic(BusinessMetrics* metrics = nullptr)
      : metrics_(metrics) {}

  // ---- submit_logic.cc ----
  // lua/submit.lua: stores the question and answers it with the duplicate
  // candidates, in one round trip.
  absl::Status SubmitQuestion(const Principal& caller, Redis& redis,
                              const v1::Session& session,
                              const v1::SubmitQuestionRequest& request,
                              v1::SubmitQuestionResponse* response) const;
  // lua/read_matches.lua: the candidates (and the named question).
  absl::Status SuggestDuplicates(const Principal& caller, Redis& redis,
                                 const v1::Session& session,
                                 const v1::SuggestDuplicatesRequest& request,
                                 v1::SuggestDuplicatesResponse* response) const;

  // ---- votes_logic.cc ----
  // The hot path: one run of lua/vote.lua on the RedisEventLoop, batched
  // with the other votes of the session in flight (EvalBatched); no session
  // lookup (the question exists only in a session of the caller's tenant)
  // and no worker hand-off. `finish` runs once. Pure parts: votes_logic.h.
  void UpvoteQuestion(
      const Principal& caller, RedisEventLoop& loop, absl::Time deadline,
      const v1::UpvoteQuestionRequest& request,
      v1::UpvoteQuestionResponse* response,
      absl::AnyInvocable<void(const absl::Status&) &&> finish) const;
  void WithdrawVote(
      const Principal& caller, RedisEventLoop& loop, absl::Time deadline,
      const v1::WithdrawVoteRequest& request,
      v1::WithdrawVoteResponse* response,
      absl::AnyInvocable<void(const absl::Status&) &&> finish) const;

  // ---- moderation_logic.cc ----
  // lua/moderate.lua, one action each (approve, reject, pin, unpin, answer,
  // archive).
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
  // lua/merge.lua.
  absl::Status MergeQuestions(const Principal& caller, Redis& redis,
                              const v1::MergeQuestionsRequest& request,
                              v1::MergeQuestionsResponse* response) const;
  // lua/undo.lua.
  absl::Status UndoModeration(const Principal& caller, Redis& redis,
                              const v1::Session& session,
                              const v1::UndoModerationRequest& request,
                              v1::UndoModerationResponse* response) const;
  // lua/carry_out.lua (read), lua/carry_in.lua in the next occurrence, then
  // lua/carry_out.lua (mark). `occurrences`: every occurrence of the
  // session's series, in order.
  absl::Status CarryOverQuestions(
      const Principal& caller, Redis& redis, const v1::Session& session,
      const std::vector<v1::Session>& occurrences,
      const v1::CarryOverQuestionsRequest& request,
      v1::CarryOverQuestionsResponse* response) const;

  // ---- reads_logic.cc ----
  // lua/read_questions.lua ('get').
  absl::Status GetQuestion(const Principal& caller, Redis& redis,
                           const v1::GetQuestionRequest& request,
                           v1::GetQuestionResponse* response) const;
  // lua/read_questions.lua ('page').
  absl::Status ListQuestions(const Principal& caller, Redis& redis,
                             const v1::Session& session,
                             const v1::ListQuestionsRequest& request,
                             v1::ListQuestionsResponse* response) const;
  // lua/read_log.lua.
  absl::Status ListModerationLog(const Principal& caller, Redis& redis,
                                 const v1::Session& session,
                                 const v1::ListModerationLogRequest& request,
                                 v1::ListModerationLogResponse* response) const;

  // ---- exports_logic.cc ----
  // lua/read_questions.lua ('page' over every question).
  absl::Status ExportQuestions(const Principal& caller, Redis& redis,
                               const v1::Session& session,
                               const v1::ExportQuestionsRequest& request,
                               v1::ExportQuestionsResponse* response) const;
  // lua/read_log.lua (all of it).
  absl::Status ExportModerationLog(
      const Principal& caller, Redis& redis, const v1::Session& session,
      const v1::ExportModerationLogRequest& request,
      v1::ExportModerationLogResponse* response) const;

  // ---- settings_logic.cc ----
  // lua/read_settings.lua.
  absl::Status GetQueueSettings(const Principal& caller, Redis& redis,
                                const v1::Session& session,
                                const v1::GetQueueSettingsRequest& request,
                                v1::GetQueueSettingsResponse* response) const;
  // lua/update_settings.lua.
  absl::Status UpdateQueueSettings(
      const Principal& caller, Redis& redis, const v1::Session& session,
      const v1::UpdateQueueSettingsRequest& request,
      v1::UpdateQueueSettingsResponse* response) const;
  // No script: one GET of the tenant's policy key.
  absl::Status GetQuestionPolicy(const Principal& caller, Redis& redis,
                                 const v1::GetQuestionPolicyRequest& request,
                                 v1::GetQuestionPolicyResponse* response) const;
  // No script: one SET of the tenant's policy key (written whole).
  absl::Status UpdateQuestionPolicy(
      const Principal& caller, Redis& redis,
      const v1::UpdateQuestionPolicyRequest& request,
      v1::UpdateQuestionPolicyResponse* response) const;

 private:
  BusinessMetrics* metrics_;
};

}  // namespace townhall::questions
