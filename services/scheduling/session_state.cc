#include "services/scheduling/session_state.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

namespace townhall::scheduling {

using townhall::v1::SESSION_STATE_CANCELLED;
using townhall::v1::SESSION_STATE_DRAFT;
using townhall::v1::SESSION_STATE_ENDED;
using townhall::v1::SESSION_STATE_LIVE;
using townhall::v1::SESSION_STATE_SCHEDULED;

const TransitionRule& RuleFor(Transition transition) {
  static const TransitionRule kPublish{
      "publish", {SESSION_STATE_DRAFT}, SESSION_STATE_SCHEDULED};
  static const TransitionRule kStart{
      "start", {SESSION_STATE_SCHEDULED}, SESSION_STATE_LIVE};
  static const TransitionRule kEnd{
      "end", {SESSION_STATE_LIVE}, SESSION_STATE_ENDED};
  static const TransitionRule kCancel{
      "cancel",
      {SESSION_STATE_DRAFT, SESSION_STATE_SCHEDULED},
      SESSION_STATE_CANCELLED};
  switch (transition) {
    case Transition::kPublish:
      return kPublish;
    case Transition::kStart:
      return kStart;
    case Transition::kEnd:
      return kEnd;
    case Transition::kCancel:
      return kCancel;
  }
  return kCancel;
}

std::string StateName(SessionState state) {
  absl::string_view name = townhall::v1::SessionState_Name(state);
  absl::ConsumePrefix(&name, "SESSION_STATE_");
  return std::string(name);
}

absl::Status IllegalTransition(absl::string_view session_id,
                               SessionState current, Transition transition) {
  const TransitionRule& rule = RuleFor(transition);
  return absl::FailedPreconditionError(absl::StrCat(
      "session ", session_id, " is ", StateName(current), ": cannot ",
      rule.verb, " it (only from ",
      absl::StrJoin(
          rule.from, " or ",
          [](std::string* out, SessionState s) { out->append(StateName(s)); }),
      ")"));
}

}  // namespace townhall::scheduling
