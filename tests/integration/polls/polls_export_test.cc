// After a poll: ExportPollResults as JSON and CSV (formulas defused), a
// motion recorded as its agenda item's outcome in the publishing call, and
// the results in the session's minutes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/integration/polls/polls_fixture.h"

namespace townhall::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST_F(PollsTest, ExportsJsonAndCsvWithFormulasDefused) {
  v1::Poll definition = ChoicePoll(v1::POLL_KIND_SINGLE_CHOICE,
                                   {"=HYPERLINK(\"http://x\")", "Oddiy"});
  const std::string id = Opened(definition);
  ASSERT_OK(Cast(voters_[0], id, Options({"1"})).status());
  ASSERT_OK(Cast(voters_[1], id, Options({"1"})).status());
  // Not before the poll is closed.
  absl::StatusOr<v1::ExportPollResultsResponse> early =
      Export(moderator_.token, id, v1::POLL_EXPORT_FORMAT_CSV);
  EXPECT_EQ(early.status().code(), PollCode::kFailedPrecondition);
  EXPECT_THAT(early.status().message(), HasSubstr("not closed"));
  ASSERT_OK(Close(id).status());

  ASSERT_OK_AND_ASSIGN(
      v1::ExportPollResultsResponse csv,
      Export(moderator_.token, id, v1::POLL_EXPORT_FORMAT_CSV));
  EXPECT_EQ(csv.content_type(), "text/csv");
  EXPECT_EQ(csv.filename(), absl::StrCat("poll-", id, ".csv"));
  EXPECT_THAT(csv.content(),
              HasSubstr("section,round,option_id,option,value,votes\r\n"));
  // The formula is a text cell: an apostrophe before '='.
  EXPECT_THAT(csv.content(), HasSubstr("option,,1,\"'=HYPERLINK(\"\"http"));
  EXPECT_THAT(csv.content(), HasSubstr("option,,2,Oddiy,,0\r\n"));
  EXPECT_THAT(csv.content(), HasSubstr("ballots,,,,,2\r\n"));

  ASSERT_OK_AND_ASSIGN(
      v1::ExportPollResultsResponse json,
      Export(moderator_.token, id, v1::POLL_EXPORT_FORMAT_UNSPECIFIED));
  EXPECT_EQ(json.content_type(), "application/json");
  EXPECT_THAT(json.content(), HasSubstr("\"ballot_count\": \"2\""));
  // A NAMED poll's export names the voters to its runners.
  EXPECT_THAT(json.content(), HasSubstr(voters_[0].participant_id));

  // A participant: once published, results only.
  EXPECT_EQ(
      Export(voters_[0].token, id, v1::POLL_EXPORT_FORMAT_JSON).status().code(),
      PollCode::kFailedPrecondition);
  ASSERT_OK(Publish(id).status());
  ASSERT_OK_AND_ASSIGN(
      v1::ExportPollResultsResponse theirs,
      Export(voters_[0].token, id, v1::POLL_EXPORT_FORMAT_JSON));
  EXPECT_THAT(theirs.content(), HasSubstr("\"ballot_count\": \"2\""));
  EXPECT_THAT(theirs.content(), Not(HasSubstr(voters_[1].participant_id)));

  // Bad requests.
  EXPECT_EQ(Export(moderator_.token, id, static_cast<v1::PollExportFormat>(9))
                .status()
                .code(),
            PollCode::kInvalidArgument);
  EXPECT_EQ(Export(moderator_.token, "no-such-poll", v1::POLL_EXPORT_FORMAT_CSV)
                .status()
                .code(),
            PollCode::kNotFound);
}

TEST_F(PollsTest, AMotionIsRecordedAsItsItemsOutcomeAndTheMinutesListPolls) {
  v1::CreateAgendaItemRequest item_request;
  item_request.set_session_id(sid());
  item_request.mutable_item()->set_title("Ochiq eshiklar kuni");
  item_request.set_request_id("item-1");
  ASSERT_OK_AND_ASSIGN(v1::CreateAgendaItemResponse item,
                       Organizer().CreateAgendaItem(item_request));
  const std::string item_id = item.item().id();

  v1::Poll motion;
  motion.set_kind(v1::POLL_KIND_MOTION);
  motion.set_question("Hold an Open Day in every consulate in spring");
  motion.set_agenda_item_id(item_id);
  const std::string id = Opened(motion);
  ASSERT_OK(Cast(voters_[0], id, Options({"yes"})).status());
  ASSERT_OK(Cast(voters_[1], id, Options({"yes"})).status());
  ASSERT_OK(Cast(voters_[2], id, Options({"no"})).status());
  ASSERT_OK(Close(id).status());

  // Only a motion on an item has an outcome: refused before publishing.
  const std::string plain =
      Opened(ChoicePoll(v1::POLL_KIND_SINGLE_CHOICE, {"A", "B"}, "Oddiy?"));
  ASSERT_OK(Close(plain).status());
  v1::PublishPollRequest refused;
  refused.set_session_id(sid());
  refused.set_poll_id(plain);
  refused.set_record_outcome(true);
  absl::StatusOr<v1::PublishPollResponse> no =
      As(moderator_).PublishPoll(refused);
  EXPECT_EQ(no.status().code(), PollCode::kInvalidArgument);
  EXPECT_THAT(no.status().message(), HasSubstr("record_outcome"));
  EXPECT_EQ(Moderated(plain).state(), v1::POLL_STATE_CLOSED);

  v1::PublishPollRequest publish;
  publish.set_session_id(sid());
  publish.set_poll_id(id);
  publish.set_record_outcome(true);
  ASSERT_OK_AND_ASSIGN(v1::PublishPollResponse published,
                       As(moderator_).PublishPoll(publish));
  EXPECT_EQ(published.poll().state(), v1::POLL_STATE_PUBLISHED);
  EXPECT_TRUE(published.poll().results().motion().adopted());
  ASSERT_FALSE(published.outcome_id().empty());
  EXPECT_THAT(published.outcome_text(),
              HasSubstr("Motion adopted: Hold an Open Day"));
  // A retry records nothing twice.
  ASSERT_OK_AND_ASSIGN(v1::PublishPollResponse again,
                       As(moderator_).PublishPoll(publish));
  EXPECT_EQ(again.outcome_id(), published.outcome_id());

  v1::GetAgendaRequest agenda_request;
  agenda_request.set_session_id(sid());
  ASSERT_OK_AND_ASSIGN(v1::GetAgendaResponse agenda,
                       Organizer().GetAgenda(agenda_request));
  int outcomes = 0;
  for (const v1::Outcome& outcome : agenda.agenda().outcomes()) {
    if (outcome.agenda_item_id() != item_id) continue;
    ++outcomes;
    EXPECT_EQ(outcome.id(), published.outcome_id());
    EXPECT_EQ(outcome.kind(), v1::OUTCOME_KIND_AGREEMENT);
  }
  EXPECT_EQ(outcomes, 1);

  v1::ExportMinutesRequest minutes_request;
  minutes_request.set_session_id(sid());
  ASSERT_OK_AND_ASSIGN(v1::ExportMinutesResponse minutes,
                       Organizer().ExportMinutes(minutes_request));
  EXPECT_THAT(minutes.content(),
              HasSubstr("Polls:\n\n- Hold an Open Day in every consulate in "
                        "spring: adopted: yes 2, no 1, abstain 0"));
  // The closed poll of no item has its own section.
  EXPECT_THAT(minutes.content(), HasSubstr("## Polls\n\n- Oddiy?: A 0, B 0"));
}

}  // namespace
}  // namespace townhall::testing
