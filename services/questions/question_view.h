// Who sees what of a question (the property level of authorization):
//   - privileged callers (tenant organizers, the session's organizer and
//     moderators) see every question; others see APPROVED, PINNED and
//     ANSWERED ones, and their own in any status;
//   - the author of an anonymous question is shown to the author, and to
//     tenant organizers only when the tenant's QuestionPolicy allows it;
//   - a reject reason and an edited question's original text are shown to
//     the author and to privileged callers only.
// Used by every read path: Get, List, Export, the answers of mutations and
// (through the feed codec) WatchQueue, which never shows anonymous authors.
#pragma once

#include <string>

#include "absl/strings/string_view.h"
#include "services/common/auth/principal.h"
#include "townhall/v1/questions.pb.h"

namespace townhall::questions {

struct QuestionViewer {
  bool privileged = false;
  // The caller's participant (join tokens); "" for none.
  std::string participant_id;
  // May see who wrote anonymous questions.
  bool sees_anonymous_authors = false;
};

// The viewer of a caller; `policy` is the tenant's (read only for tenant
// organizers: nobody else's view depends on it).
QuestionViewer ViewerOf(const Principal& caller,
                        const v1::QuestionPolicy& policy);
// IsPrivileged (principal.h): tenant organizers, session organizers and
// moderators see every question.

// Whether `viewer` may see `question` at all.
bool IsVisibleTo(const QuestionViewer& viewer, const v1::Question& question);
// True for APPROVED, PINNED and ANSWERED.
bool IsPublic(v1::QuestionStatus status);

// Clears what `viewer` may not see of a visible question.
void Redact(const QuestionViewer& viewer, v1::Question* question);

}  // namespace townhall::questions
