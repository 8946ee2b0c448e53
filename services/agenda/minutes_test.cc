#include "services/agenda/minutes.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "services/common/proto_time.h"
#include "tests/testing/status_matchers.h"

namespace townhall::agenda {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

absl::Time Utc(int year, int month, int day, int hour, int minute) {
  return absl::FromCivil(absl::CivilSecond(year, month, day, hour, minute, 0),
                         absl::UTCTimeZone());
}

// A session in Tashkent (UTC+5) from 05:00 to 08:00 UTC on 2 Dec 2026.
v1::Session TashkentSession() {
  v1::Session session;
  session.set_id("s1");
  session.set_title("Dialogue");
  session.set_series_id("series-1");
  session.set_time_zone("Asia/Tashkent");
  SetTime(Utc(2026, 12, 2, 5, 0), session.mutable_start_time());
  SetDuration(absl::Hours(3), session.mutable_duration());
  return session;
}

// Two items (one ran 5 minutes over its plan), an outcome on the first and
// one action item.
v1::AgendaSnapshot Agenda() {
  v1::AgendaSnapshot agenda;
  v1::AgendaItem* budget = agenda.add_items();
  budget->set_id("i1");
  budget->set_title("Budget");
  budget->set_position(0);
  budget->set_status(v1::AGENDA_ITEM_STATUS_DONE);
  SetDuration(absl::Minutes(15), budget->mutable_planned_duration());
  SetTime(Utc(2026, 12, 2, 5, 10), budget->mutable_actual_start_time());
  SetTime(Utc(2026, 12, 2, 5, 30), budget->mutable_actual_end_time());
  SetDuration(absl::Minutes(5), budget->mutable_overrun());
  v1::AgendaItem* roads = agenda.add_items();
  roads->set_id("i2");
  roads->set_title("Roads");
  roads->set_position(1);
  roads->set_status(v1::AGENDA_ITEM_STATUS_SKIPPED);
  roads->set_description("Postponed.");
  v1::Outcome* outcome = agenda.add_outcomes();
  outcome->set_id("o1");
  outcome->set_agenda_item_id("i1");
  outcome->set_kind(v1::OUTCOME_KIND_DECISION);
  outcome->set_text("Adopt the budget");
  v1::ActionItem* action = agenda.add_action_items();
  action->set_id("a1");
  action->set_title("Publish the budget");
  action->mutable_executor()->set_department("Ministry of Finance");
  SetTime(Utc(2027, 1, 31, 12, 0), action->mutable_deadline());
  action->set_status(v1::ACTION_ITEM_STATUS_OPEN);
  return agenda;
}

TEST(MinutesMarkdownTest, ShowsTheAgendaInTheSessionsTimeZone) {
  std::string md = MinutesMarkdown(TashkentSession(), Agenda(), {},
                                   absl::FixedTimeZone(5 * 3600));
  EXPECT_THAT(md, StartsWith("# Minutes: Dialogue\n"));
  EXPECT_THAT(md, HasSubstr("- Time: 2026-12-02 10:00 to 13:00"));
  EXPECT_THAT(md, HasSubstr("- Series: series-1\n"));
  EXPECT_THAT(md, HasSubstr("### 1. Budget\n\n- Status: DONE\n"));
  EXPECT_THAT(md, HasSubstr("- Planned: 15m\n"));
  EXPECT_THAT(md, HasSubstr("- Started: 2026-12-02 10:10\n"));
  EXPECT_THAT(md, HasSubstr("- Ended: 2026-12-02 10:30\n"));
  EXPECT_THAT(md, HasSubstr("- Overrun: 5m\n"));
  EXPECT_THAT(md, HasSubstr("Outcomes:\n\n- Decision: Adopt the budget\n"));
  EXPECT_THAT(md, HasSubstr("### 2. Roads\n\n- Status: SKIPPED\n"));
  EXPECT_THAT(md, HasSubstr("\nPostponed.\n"));
  EXPECT_THAT(md, HasSubstr("- Publish the budget (executor: Ministry of "
                            "Finance; deadline: 2027-01-31; status: OPEN)\n"));
}

TEST(MinutesMarkdownTest, AnItemOnTimeHasNoOverrunAndNoActionsSaysNone) {
  v1::AgendaSnapshot agenda = Agenda();
  SetDuration(absl::Milliseconds(300),
              agenda.mutable_items(0)->mutable_overrun());
  agenda.clear_action_items();
  std::string md =
      MinutesMarkdown(TashkentSession(), agenda, {}, absl::UTCTimeZone());
  EXPECT_THAT(md, HasSubstr("- Overrun: none\n"));
  EXPECT_THAT(md, HasSubstr("## Action items\n\nNone.\n"));
}

TEST(MinutesMarkdownTest, ListsTheFollowUpItemsCarriedQuestions) {
  v1::AgendaSnapshot agenda = Agenda();
  v1::AgendaItem* follow_up = agenda.mutable_items(1);
  follow_up->set_kind(v1::AGENDA_ITEM_KIND_FOLLOW_UP);
  v1::FollowUpQuestion* answered = follow_up->add_questions();
  answered->set_question_id("q1");
  answered->set_status(v1::QUESTION_STATUS_ANSWERED);
  answered->set_text("When do consular days start?");
  v1::FollowUpQuestion* pending = follow_up->add_questions();
  pending->set_question_id("q2");
  pending->set_status(v1::QUESTION_STATUS_PENDING);
  std::string md =
      MinutesMarkdown(TashkentSession(), agenda, {}, absl::UTCTimeZone());
  EXPECT_THAT(md, HasSubstr("Carried questions:\n\n"
                            "- q1 (ANSWERED): When do consular days start?\n"
                            "- q2 (PENDING)\n"));
  // Items without carried questions say nothing of them.
  EXPECT_THAT(
      MinutesMarkdown(TashkentSession(), Agenda(), {}, absl::UTCTimeZone()),
      Not(HasSubstr("Carried questions")));
  ASSERT_OK_AND_ASSIGN(std::string json,
                       MinutesJson(TashkentSession(), agenda, {}));
  EXPECT_THAT(json, HasSubstr("\"questions\":[{\"questionId\":\"q1\","
                              "\"status\":\"QUESTION_STATUS_ANSWERED\""));
}

TEST(MinutesJsonTest, IsAStableDocumentGroupingOutcomesByItem) {
  ASSERT_OK_AND_ASSIGN(std::string json,
                       MinutesJson(TashkentSession(), Agenda(), {}));
  EXPECT_THAT(json, StartsWith("{\"sessionId\":\"s1\",\"title\":\"Dialogue\","
                               "\"seriesId\":\"series-1\",\"timeZone\":"
                               "\"Asia/Tashkent\",\"startTime\":"
                               "\"2026-12-02T05:00:00Z\",\"items\":[{"));
  EXPECT_THAT(json, HasSubstr("\"title\":\"Budget\""));
  EXPECT_THAT(json, HasSubstr("\"outcomes\":[{\"id\":\"o1\""));
  // Roads has none; no item has polls.
  EXPECT_THAT(json, HasSubstr("\"outcomes\":[],\"polls\":[]}"));
  EXPECT_THAT(json, HasSubstr("\"actionItems\":[{\"id\":\"a1\""));
  EXPECT_EQ(json.back(), '\n');
}

// A closed single-choice poll on the first item, a published motion on no
// item, and an open poll (not in the minutes).
std::vector<v1::Poll> Polls() {
  std::vector<v1::Poll> polls(3);
  v1::Poll& topic = polls[0];
  topic.set_id("p1");
  topic.set_agenda_item_id("i1");
  topic.set_kind(v1::POLL_KIND_SINGLE_CHOICE);
  topic.set_question("Which topic first?");
  topic.set_state(v1::POLL_STATE_CLOSED);
  for (const char* text : {"Schools", "Pensions"}) {
    v1::PollOption* option = topic.add_options();
    option->set_id(std::to_string(topic.options_size()));
    option->set_text(text);
  }
  topic.mutable_results()->set_ballot_count(40);
  for (auto [id, votes] : {std::pair{"1", 25}, std::pair{"2", 15}}) {
    v1::OptionTally* tally = topic.mutable_results()->add_tallies();
    tally->set_option_id(id);
    tally->set_votes(votes);
  }
  v1::Poll& motion = polls[1];
  motion.set_id("p2");
  motion.set_kind(v1::POLL_KIND_MOTION);
  motion.set_question("Hold an Open Day in spring");
  motion.set_state(v1::POLL_STATE_PUBLISHED);
  v1::PollResults& results = *motion.mutable_results();
  results.set_ballot_count(30);
  results.set_eligible_count(40);
  results.set_turnout(0.75);
  results.set_quorum_reached(true);
  v1::MotionResult& m = *results.mutable_motion();
  m.set_yes(20);
  m.set_no(8);
  m.set_abstain(2);
  m.set_base(28);
  m.set_required(15);
  m.set_adopted(true);
  polls[2].set_id("p3");
  polls[2].set_question("Still open?");
  polls[2].set_state(v1::POLL_STATE_OPEN);
  return polls;
}

TEST(MinutesPollsTest, ListClosedPollsUnderTheirItemAndTheOthersApart) {
  const std::string md = MinutesMarkdown(TashkentSession(), Agenda(), Polls(),
                                         absl::UTCTimeZone());
  EXPECT_THAT(md, HasSubstr("Polls:\n\n- Which topic first?: Schools 25, "
                            "Pensions 15 (40 ballots)\n"));
  EXPECT_THAT(md, HasSubstr("## Polls\n\n- Hold an Open Day in spring: "
                            "adopted: yes 20, no 8, abstain 2 (15 of 28 "
                            "required) (30 ballots; turnout 75%, quorum "
                            "reached)\n"));
  EXPECT_THAT(md, Not(HasSubstr("Still open?")));
  // The item's polls come before the next item.
  EXPECT_LT(md.find("Which topic first?"), md.find("### 2. Roads"));
  ASSERT_OK_AND_ASSIGN(std::string json,
                       MinutesJson(TashkentSession(), Agenda(), Polls()));
  EXPECT_THAT(json, HasSubstr("\"polls\":[{\"id\":\"p1\""));
  EXPECT_THAT(json, HasSubstr("],\"polls\":[{\"id\":\"p2\""));
  EXPECT_THAT(json, Not(HasSubstr("p3")));
}

TEST(RenderMinutesTest, NamesTheFileByTheLocalDateAndPicksTheFormat) {
  v1::Session session = TashkentSession();
  // 21:00 UTC on 1 Dec is 2 Dec in Tashkent.
  SetTime(Utc(2026, 12, 1, 21, 0), session.mutable_start_time());
  ASSERT_OK_AND_ASSIGN(
      v1::ExportMinutesResponse md,
      RenderMinutes(session, Agenda(), {}, v1::MINUTES_FORMAT_MARKDOWN));
  EXPECT_EQ(md.filename(), "minutes-2026-12-02-s1.md");
  EXPECT_EQ(md.content_type(), "text/markdown");
  EXPECT_THAT(md.content(), HasSubstr("(Asia/Tashkent)"));
  ASSERT_OK_AND_ASSIGN(
      v1::ExportMinutesResponse json,
      RenderMinutes(session, Agenda(), {}, v1::MINUTES_FORMAT_JSON));
  EXPECT_EQ(json.filename(), "minutes-2026-12-02-s1.json");
  EXPECT_EQ(json.content_type(), "application/json");
}

TEST(RenderMinutesTest, FallsBackToUtcWithoutAKnownTimeZone) {
  v1::Session session = TashkentSession();
  session.set_time_zone("");
  ASSERT_OK_AND_ASSIGN(
      v1::ExportMinutesResponse md,
      RenderMinutes(session, Agenda(), {}, v1::MINUTES_FORMAT_UNSPECIFIED));
  EXPECT_THAT(md.content(),
              HasSubstr("- Time: 2026-12-02 05:00 to 08:00 (UTC)"));
  session.set_time_zone("Mars/Olympus_Mons");
  ASSERT_OK_AND_ASSIGN(
      md, RenderMinutes(session, Agenda(), {}, v1::MINUTES_FORMAT_MARKDOWN));
  EXPECT_THAT(md.content(), Not(HasSubstr("Mars")));
}

}  // namespace
}  // namespace townhall::agenda
