#include "services/questions/question_view.h"

namespace townhall::questions {

QuestionViewer ViewerOf(const Principal& caller,
                        const v1::QuestionPolicy& policy) {
  QuestionViewer viewer;
  viewer.privileged = IsPrivileged(caller);
  if (caller.is_session_scoped()) viewer.participant_id = caller.participant_id;
  viewer.sees_anonymous_authors = caller.role == Role::kOrganizer &&
                                  policy.organizers_see_anonymous_authors();
  return viewer;
}

bool IsPublic(v1::QuestionStatus status) {
  return status == v1::QUESTION_STATUS_APPROVED ||
         status == v1::QUESTION_STATUS_PINNED ||
         status == v1::QUESTION_STATUS_ANSWERED;
}

namespace {

bool IsOwn(const QuestionViewer& viewer, const v1::Question& question) {
  return !viewer.participant_id.empty() &&
         question.author_participant_id() == viewer.participant_id;
}

}  // namespace

bool IsVisibleTo(const QuestionViewer& viewer, const v1::Question& question) {
  return viewer.privileged || IsOwn(viewer, question) ||
         IsPublic(question.status());
}

void Redact(const QuestionViewer& viewer, v1::Question* question) {
  const bool own = IsOwn(viewer, *question);
  if (question->anonymous() && !own && !viewer.sees_anonymous_authors) {
    question->clear_author_participant_id();
    question->clear_author_organization_id();
  }
  if (!own && !viewer.privileged) {
    question->clear_reject_reason();
    question->clear_original_text();
  }
}

}  // namespace townhall::questions
