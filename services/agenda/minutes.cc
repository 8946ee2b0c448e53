#include "services/agenda/minutes.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "services/common/proto_json.h"
#include "services/common/proto_time.h"
#include "services/common/status.h"
#include "services/common/validation.h"
#include "services/polls/poll_export.h"

namespace townhall::agenda {
namespace {

std::string Suffix(absl::string_view name, absl::string_view prefix) {
  absl::ConsumePrefix(&name, prefix);
  return std::string(name);
}

std::string ItemStatusName(v1::AgendaItemStatus s) {
  return Suffix(v1::AgendaItemStatus_Name(s), "AGENDA_ITEM_STATUS_");
}
std::string ActionStatusName(v1::ActionItemStatus s) {
  return Suffix(v1::ActionItemStatus_Name(s), "ACTION_ITEM_STATUS_");
}
std::string QuestionStatusName(v1::QuestionStatus s) {
  return Suffix(v1::QuestionStatus_Name(s), "QUESTION_STATUS_");
}

std::string ExecutorText(const v1::Executor& executor) {
  switch (executor.executor_case()) {
    case v1::Executor::kParticipantId:
      return absl::StrCat("participant ", executor.participant_id());
    case v1::Executor::kOrganizationId:
      return absl::StrCat("organization ", executor.organization_id());
    case v1::Executor::kDepartment:
      return executor.department();
    default:
      return "(none)";
  }
}

// The session's zone; UTC when it has none or one this build cannot load.
absl::TimeZone SessionZone(const v1::Session& session) {
  if (session.time_zone().empty()) return absl::UTCTimeZone();
  absl::StatusOr<absl::TimeZone> loaded =
      ValidateTimeZone("session.time_zone", session.time_zone());
  return loaded.ok() ? *loaded : absl::UTCTimeZone();
}

// The polls the minutes show: closed ones.
bool InMinutes(const v1::Poll& poll) {
  return poll.state() == v1::POLL_STATE_CLOSED ||
         poll.state() == v1::POLL_STATE_PUBLISHED;
}

// "- <question>: <result summary>" per closed poll of `item_id` ("" for the
// polls of no item).
std::string PollLines(const std::vector<v1::Poll>& polls,
                      absl::string_view item_id) {
  std::string lines;
  for (const v1::Poll& poll : polls) {
    if (!InMinutes(poll) || poll.agenda_item_id() != item_id) continue;
    absl::StrAppend(&lines, "- ", poll.question(), ": ",
                    polls::PollResultSummary(poll), "\n");
  }
  return lines;
}

// The closed polls of `item_id` as a JSON array of proto3 JSON polls.
absl::StatusOr<std::string> PollsJson(const std::vector<v1::Poll>& polls,
                                      absl::string_view item_id) {
  std::string out = "[";
  bool first = true;
  for (const v1::Poll& poll : polls) {
    if (!InMinutes(poll) || poll.agenda_item_id() != item_id) continue;
    TH_ASSIGN_OR_RETURN(std::string json, ProtoToJson(poll));
    absl::StrAppend(&out, first ? "" : ",", json);
    first = false;
  }
  return absl::StrCat(out, "]");
}

}  // namespace

std::string MinutesMarkdown(const v1::Session& session,
                            const v1::AgendaSnapshot& agenda,
                            const std::vector<v1::Poll>& polls,
                            absl::TimeZone zone) {
  auto local = [&](const google::protobuf::Timestamp& ts) {
    return absl::FormatTime("%Y-%m-%d %H:%M", ToTime(ts), zone);
  };
  auto minutes = [](const google::protobuf::Duration& d) {
    return absl::FormatDuration(
        absl::Seconds(absl::ToInt64Seconds(ToDuration(d))));  // whole seconds
  };
  std::string md = absl::StrCat("# Minutes: ", session.title(), "\n\n");
  absl::Time end =
      ToTime(session.start_time()) + ToDuration(session.duration());
  absl::StrAppend(&md, "- Session: ", session.id(), "\n",
                  "- Time: ", local(session.start_time()), " to ",
                  absl::FormatTime("%H:%M", end, zone), " (", zone.name(),
                  ")\n");
  if (!session.series_id().empty()) {
    absl::StrAppend(&md, "- Series: ", session.series_id(), "\n");
  }
  absl::StrAppend(&md, "\n## Agenda\n");
  for (const v1::AgendaItem& item : agenda.items()) {
    absl::StrAppend(&md, "\n### ", item.position() + 1, ". ", item.title(),
                    "\n\n- Status: ", ItemStatusName(item.status()), "\n");
    if (item.has_planned_duration()) {
      absl::StrAppend(&md, "- Planned: ", minutes(item.planned_duration()),
                      "\n");
    }
    if (item.has_actual_start_time()) {
      absl::StrAppend(&md, "- Started: ", local(item.actual_start_time()),
                      "\n");
    }
    if (item.has_actual_end_time()) {
      absl::StrAppend(&md, "- Ended: ", local(item.actual_end_time()), "\n");
    }
    if (item.has_overrun()) {
      bool late = ToDuration(item.overrun()) >= absl::Seconds(1);
      absl::StrAppend(
          &md, "- Overrun: ", late ? minutes(item.overrun()) : "none", "\n");
    }
    if (!item.description().empty()) {
      absl::StrAppend(&md, "\n", item.description(), "\n");
    }
    bool header = false;
    for (const v1::Outcome& outcome : agenda.outcomes()) {
      if (outcome.agenda_item_id() != item.id()) continue;
      if (!header) absl::StrAppend(&md, "\nOutcomes:\n\n");
      header = true;
      absl::StrAppend(&md, "- ",
                      outcome.kind() == v1::OUTCOME_KIND_DECISION ? "Decision"
                                                                  : "Agreement",
                      ": ", outcome.text(), "\n");
    }
    if (std::string lines = PollLines(polls, item.id()); !lines.empty()) {
      absl::StrAppend(&md, "\nPolls:\n\n", lines);
    }
    if (item.action_item_ids_size() > 0) {
      absl::StrAppend(&md, "\nCarried action items: ",
                      absl::StrJoin(item.action_item_ids(), ", "), "\n");
    }
    if (item.questions_size() > 0) {
      absl::StrAppend(&md, "\nCarried questions:\n\n");
    }
    for (const v1::FollowUpQuestion& question : item.questions()) {
      absl::StrAppend(&md, "- ", question.question_id(), " (",
                      QuestionStatusName(question.status()), ")",
                      question.text().empty() ? "" : ": ", question.text(),
                      "\n");
    }
  }
  if (std::string lines = PollLines(polls, ""); !lines.empty()) {
    absl::StrAppend(&md, "\n## Polls\n\n", lines);
  }
  absl::StrAppend(&md, "\n## Action items\n\n");
  if (agenda.action_items().empty()) absl::StrAppend(&md, "None.\n");
  for (const v1::ActionItem& action : agenda.action_items()) {
    absl::StrAppend(
        &md, "- ", action.title(),
        " (executor: ", ExecutorText(action.executor()), "; deadline: ",
        absl::FormatTime("%Y-%m-%d", ToTime(action.deadline()), zone),
        "; status: ", ActionStatusName(action.status()), ")\n");
  }
  return md;
}

absl::StatusOr<std::string> MinutesJson(const v1::Session& session,
                                        const v1::AgendaSnapshot& agenda,
                                        const std::vector<v1::Poll>& polls) {
  std::string out = absl::StrCat(
      "{\"sessionId\":", JsonQuote(session.id()),
      ",\"title\":", JsonQuote(session.title()),
      ",\"seriesId\":", JsonQuote(session.series_id()),
      ",\"timeZone\":", JsonQuote(session.time_zone()),
      ",\"startTime\":", JsonQuote(FormatInstant(ToTime(session.start_time()))),
      ",\"items\":[");
  for (int i = 0; i < agenda.items_size(); ++i) {
    const v1::AgendaItem& item = agenda.items(i);
    TH_ASSIGN_OR_RETURN(std::string item_json, ProtoToJson(item));
    absl::StrAppend(&out, i ? "," : "", "{\"item\":", item_json,
                    ",\"outcomes\":[");
    bool first = true;
    for (const v1::Outcome& outcome : agenda.outcomes()) {
      if (outcome.agenda_item_id() != item.id()) continue;
      TH_ASSIGN_OR_RETURN(std::string json, ProtoToJson(outcome));
      absl::StrAppend(&out, first ? "" : ",", json);
      first = false;
    }
    TH_ASSIGN_OR_RETURN(std::string item_polls, PollsJson(polls, item.id()));
    absl::StrAppend(&out, "],\"polls\":", item_polls, "}");
  }
  TH_ASSIGN_OR_RETURN(std::string other_polls, PollsJson(polls, ""));
  absl::StrAppend(&out, "],\"polls\":", other_polls, ",\"actionItems\":[");
  for (int i = 0; i < agenda.action_items_size(); ++i) {
    TH_ASSIGN_OR_RETURN(std::string json, ProtoToJson(agenda.action_items(i)));
    absl::StrAppend(&out, i ? "," : "", json);
  }
  absl::StrAppend(&out, "]}\n");
  return out;
}

absl::StatusOr<v1::ExportMinutesResponse> RenderMinutes(
    const v1::Session& session, const v1::AgendaSnapshot& agenda,
    const std::vector<v1::Poll>& polls, v1::MinutesFormat format) {
  absl::TimeZone zone = SessionZone(session);
  std::string stem = absl::StrCat(
      "minutes-",
      absl::FormatTime("%Y-%m-%d", ToTime(session.start_time()), zone), "-",
      session.id());
  v1::ExportMinutesResponse minutes;
  if (format == v1::MINUTES_FORMAT_JSON) {
    TH_ASSIGN_OR_RETURN(*minutes.mutable_content(),
                        MinutesJson(session, agenda, polls));
    minutes.set_content_type("application/json");
    minutes.set_filename(absl::StrCat(stem, ".json"));
    return minutes;
  }
  minutes.set_content(MinutesMarkdown(session, agenda, polls, zone));
  minutes.set_content_type("text/markdown");
  minutes.set_filename(absl::StrCat(stem, ".md"));
  return minutes;
}

}  // namespace townhall::agenda
