// The text rules, duplicate ranking and what the questions logic files
// share (question_logic_internal.h).
#include "services/questions/question_logic.h"

#include <algorithm>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "services/common/proto_json.h"
#include "services/common/proto_time.h"
#include "services/common/status.h"
#include "services/common/text_normalization.h"
#include "services/common/validation.h"
#include "services/questions/question_logic_internal.h"
#include "services/questions/question_store.h"

namespace townhall::questions {

namespace internal {

absl::Status FromJson(absl::string_view json, google::protobuf::Message* out) {
  return ProtoFromJson(json, out, "stored question JSON");
}

std::string NowMillis(absl::Time now) {
  return absl::StrCat(absl::ToUnixMillis(now));
}

absl::Status ValidateQuestionRef(const std::string& session_id,
                                 const std::string& question_id) {
  TH_RETURN_IF_ERROR(ValidateId("session_id", session_id));
  return ValidateId("question_id", question_id);
}

absl::Status BadState(absl::string_view id, absl::string_view status,
                      absl::string_view what) {
  return absl::FailedPreconditionError(absl::StrCat(
      "question ", id, " is QUESTION_STATUS_", status, ": ", what));
}

absl::StatusOr<QuestionViewer> ViewerFor(const Principal& caller,
                                         RedisConnection& redis) {
  v1::QuestionPolicy policy;
  if (caller.role == Role::kOrganizer) {
    TH_ASSIGN_OR_RETURN(policy, ReadQuestionPolicy(redis, caller.tenant_id));
  }
  return ViewerOf(caller, policy);
}

absl::StatusOr<v1::Question> ForViewer(const QuestionViewer& viewer,
                                       absl::string_view json) {
  TH_ASSIGN_OR_RETURN(v1::Question question, DecodeQuestion(json));
  if (!IsVisibleTo(viewer, question)) {
    return absl::NotFoundError(
        absl::StrCat("question ", question.id(), " not found"));
  }
  Redact(viewer, &question);
  return question;
}

absl::Status AppendVisible(const QuestionViewer& viewer,
                           const std::vector<std::string>& values, size_t first,
                           std::vector<v1::Question>* out) {
  for (size_t i = first; i < values.size(); ++i) {
    absl::StatusOr<v1::Question> question = ForViewer(viewer, values[i]);
    if (question.ok()) {
      out->push_back(*std::move(question));
    } else if (question.status().code() != absl::StatusCode::kNotFound) {
      return question.status();
    }
  }
  return absl::OkStatus();
}

v1::QueueSettings DecodeSettings(absl::string_view json) {
  v1::QueueSettings settings;
  // Written by our own scripts; a parse failure leaves the defaults.
  FromJson(json, &settings).IgnoreError();
  return settings;
}

}  // namespace internal

absl::Status ValidateQuestionText(absl::string_view field,
                                  absl::string_view text) {
  return ValidateText(field, text, internal::kQuestionText);
}

std::string TrimQuestionText(absl::string_view text) {
  return std::string(absl::StripAsciiWhitespace(text));
}

std::string MatchingForm(absl::string_view text) {
  return absl::StrCat(kMatchingFormPrefix, LatinMatchKey(text), "|",
                      SkeletonMatchKey(text));
}

namespace {

// The two keys of a stored matching form; a form of an older version is
// recomputed from the question's text.
struct MatchingKeys {
  std::string latin;
  std::string skeleton;
};

MatchingKeys DecodeMatchingForm(absl::string_view form,
                                absl::string_view text) {
  if (absl::ConsumePrefix(&form, kMatchingFormPrefix)) {
    size_t bar = form.find('|');
    if (bar != absl::string_view::npos) {
      return {std::string(form.substr(0, bar)),
              std::string(form.substr(bar + 1))};
    }
  }
  // Version 1 stored only the Latin words; tests and old callers may not
  // carry the text.
  absl::string_view source = text.empty() ? form : text;
  return {LatinMatchKey(source), SkeletonMatchKey(source)};
}

}  // namespace

std::vector<std::pair<std::string, double>> RankDuplicates(
    absl::string_view text, const std::vector<DuplicateCandidate>& candidates,
    absl::string_view exclude, int limit) {
  const MatchingKeys keys = DecodeMatchingForm(MatchingForm(text), text);
  std::vector<std::pair<std::string, double>> ranked;
  for (const DuplicateCandidate& candidate : candidates) {
    if (candidate.id == exclude) continue;
    const MatchingKeys other =
        DecodeMatchingForm(candidate.match, candidate.text);
    double similarity = std::max(KeySimilarity(keys.latin, other.latin),
                                 KeySimilarity(keys.skeleton, other.skeleton));
    if (similarity >= kDuplicateThreshold) {
      ranked.emplace_back(candidate.id, similarity);
    }
  }
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (ranked.size() > static_cast<size_t>(limit)) ranked.resize(limit);
  return ranked;
}

std::vector<v1::SimilarQuestion> SimilarQuestions(
    absl::string_view text, const std::vector<DuplicateCandidate>& candidates,
    absl::string_view exclude, int limit) {
  std::vector<v1::SimilarQuestion> out;
  for (const auto& [id, similarity] :
       RankDuplicates(text, candidates, exclude, limit)) {
    auto candidate =
        std::find_if(candidates.begin(), candidates.end(),
                     [&id = id](const auto& c) { return c.id == id; });
    v1::SimilarQuestion& similar = out.emplace_back();
    similar.set_question_id(id);
    similar.set_text(candidate->text);
    similar.set_similarity(similarity);
  }
  return out;
}

std::vector<DuplicateCandidate> DecodeDuplicateCandidates(
    const std::vector<std::string>& values, size_t first) {
  std::vector<DuplicateCandidate> candidates;
  for (size_t i = first; i + 2 < values.size(); i += 3) {
    candidates.push_back({values[i], values[i + 1], values[i + 2]});
  }
  return candidates;
}

absl::StatusOr<v1::Question> DecodeQuestion(absl::string_view json) {
  v1::Question question;
  TH_RETURN_IF_ERROR(internal::FromJson(json, &question));
  return question;
}

}  // namespace townhall::questions
