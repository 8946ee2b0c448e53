// Outcomes, action items shared by a series, and the follow-up item that
// carries open action items into the next occurrence (OutcomesLogic).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/integration/agenda/agenda_fixture.h"

namespace townhall::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

using Code = absl::StatusCode;

TEST(OutcomeTest, RulesAndIdempotency) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t));
  ASSERT_OK_AND_ASSIGN(v1::AgendaItem a, AddItem(t, s.id(), "A"));
  v1::RecordOutcomeRequest request;
  request.set_session_id(s.id());
  request.mutable_outcome()->set_agenda_item_id(a.id());
  request.mutable_outcome()->set_text("Agreed");
  EXPECT_THAT(t.client.RecordOutcome(request),
              StatusIs(Code::kInvalidArgument, HasSubstr("kind")));
  request.mutable_outcome()->set_kind(v1::OUTCOME_KIND_DECISION);
  request.mutable_outcome()->set_text("");
  EXPECT_THAT(t.client.RecordOutcome(request), HasCode(Code::kInvalidArgument));
  request.mutable_outcome()->set_text(std::string(2001, 'x'));
  EXPECT_THAT(t.client.RecordOutcome(request), HasCode(Code::kInvalidArgument));
  request.mutable_outcome()->set_text("Agreed");
  request.mutable_outcome()->set_agenda_item_id("missing");
  EXPECT_THAT(t.client.RecordOutcome(request), HasCode(Code::kNotFound));
  request.mutable_outcome()->set_agenda_item_id(a.id());
  request.set_request_id("o-1");
  ASSERT_OK_AND_ASSIGN(v1::RecordOutcomeResponse first,
                       t.client.RecordOutcome(request));
  ASSERT_OK_AND_ASSIGN(v1::RecordOutcomeResponse again,
                       t.client.RecordOutcome(request));
  EXPECT_EQ(first.outcome().id(), again.outcome().id());
  ASSERT_OK_AND_ASSIGN(v1::AgendaSnapshot agenda, Agenda(t, s.id()));
  EXPECT_THAT(agenda.outcomes(), SizeIs(1));
}

TEST(ActionItemTest, CreateAndUpdateRules) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t));
  v1::CreateActionItemRequest request;
  request.set_session_id(s.id());
  request.mutable_action_item()->set_title("Draft the agreement");
  *request.mutable_action_item()->mutable_deadline() =
      Ts(absl::Now() + absl::Hours(48));
  EXPECT_THAT(t.client.CreateActionItem(request),
              StatusIs(Code::kInvalidArgument, HasSubstr("executor")));
  request.mutable_action_item()->mutable_executor()->set_organization_id(
      "bad id!");
  EXPECT_THAT(t.client.CreateActionItem(request),
              HasCode(Code::kInvalidArgument));
  request.mutable_action_item()->mutable_executor()->set_participant_id("p1");
  request.mutable_action_item()->clear_deadline();
  EXPECT_THAT(t.client.CreateActionItem(request),
              StatusIs(Code::kInvalidArgument, HasSubstr("deadline")));
  request.mutable_action_item()->mutable_deadline()->set_seconds(-5);
  EXPECT_THAT(t.client.CreateActionItem(request),
              HasCode(Code::kInvalidArgument));
  *request.mutable_action_item()->mutable_deadline() =
      Ts(absl::Now() + absl::Hours(48));
  request.mutable_action_item()->set_title("");
  EXPECT_THAT(t.client.CreateActionItem(request),
              HasCode(Code::kInvalidArgument));
  request.mutable_action_item()->set_title("Draft the agreement");
  request.mutable_action_item()->set_agenda_item_id("missing");
  EXPECT_THAT(t.client.CreateActionItem(request), HasCode(Code::kNotFound));
  request.mutable_action_item()->clear_agenda_item_id();
  request.set_request_id("a-1");
  ASSERT_OK_AND_ASSIGN(v1::CreateActionItemResponse made,
                       t.client.CreateActionItem(request));
  ASSERT_OK_AND_ASSIGN(v1::CreateActionItemResponse again,
                       t.client.CreateActionItem(request));
  EXPECT_EQ(made.action_item().id(), again.action_item().id());
  const v1::ActionItem& a = made.action_item();
  EXPECT_EQ(a.status(), v1::ACTION_ITEM_STATUS_OPEN);
  EXPECT_EQ(a.session_id(), s.id());
  EXPECT_EQ(a.series_id(), "");
  ASSERT_THAT(a.history(), SizeIs(1));
  EXPECT_EQ(a.history(0).status(), v1::ACTION_ITEM_STATUS_OPEN);

  EXPECT_THAT(
      SetActionStatus(t, s.id(), a.id(), v1::ACTION_ITEM_STATUS_UNSPECIFIED),
      HasCode(Code::kInvalidArgument));
  EXPECT_THAT(SetActionStatus(t, s.id(), a.id(),
                              v1::ACTION_ITEM_STATUS_IN_PROGRESS, "stale"),
              HasCode(Code::kAborted));
  ASSERT_OK_AND_ASSIGN(
      v1::ActionItem progress,
      SetActionStatus(t, s.id(), a.id(), v1::ACTION_ITEM_STATUS_IN_PROGRESS,
                      a.etag()));
  ASSERT_THAT(progress.history(), SizeIs(2));
  EXPECT_EQ(progress.history(1).actor(), "organizer@example.org")
      << "actor is the token's subject";
  EXPECT_EQ(progress.history(1).session_id(), s.id());
  EXPECT_EQ(progress.history(1).note(), "progress");
  EXPECT_THAT(SetActionStatus(t, s.id(), a.id(), v1::ACTION_ITEM_STATUS_OPEN),
              HasCode(Code::kFailedPrecondition));
  ASSERT_OK(
      SetActionStatus(t, s.id(), a.id(), v1::ACTION_ITEM_STATUS_DONE).status());
  EXPECT_THAT(
      SetActionStatus(t, s.id(), a.id(), v1::ACTION_ITEM_STATUS_CANCELLED),
      HasCode(Code::kFailedPrecondition));
  // Another session (no series) does not see it.
  ASSERT_OK_AND_ASSIGN(v1::Session other, NewSession(t, false));
  EXPECT_THAT(
      SetActionStatus(t, other.id(), a.id(), v1::ACTION_ITEM_STATUS_CANCELLED),
      HasCode(Code::kNotFound));
  EXPECT_THAT(
      SetActionStatus(t, s.id(), "missing", v1::ACTION_ITEM_STATUS_CANCELLED),
      HasCode(Code::kNotFound));

  ASSERT_OK_AND_ASSIGN(v1::ActionItem second,
                       AddAction(t, s.id(), "Second", "Ministry of Justice"));
  ASSERT_OK(
      SetActionStatus(t, s.id(), second.id(), v1::ACTION_ITEM_STATUS_CANCELLED)
          .status());
  v1::ListActionItemsRequest list;
  list.set_session_id(s.id());
  list.add_statuses(v1::ACTION_ITEM_STATUS_CANCELLED);
  ASSERT_OK_AND_ASSIGN(v1::ListActionItemsResponse cancelled,
                       t.client.ListActionItems(list));
  ASSERT_THAT(cancelled.action_items(), SizeIs(1));
  EXPECT_EQ(cancelled.action_items(0).id(), second.id());
  // Without a series there are no earlier occurrences to follow up.
  v1::PrepareFollowUpRequest follow;
  follow.set_session_id(s.id());
  EXPECT_THAT(t.client.PrepareFollowUp(follow),
              HasCode(Code::kFailedPrecondition));
}

TEST(AgendaSeriesTest, FollowUpCarriesOpenActionItems) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  v1::CreateSeriesRequest create;
  v1::Session* tmpl = create.mutable_series()->mutable_template_();
  tmpl->set_title("Monthly dialogue");
  *tmpl->mutable_start_time() = Ts(absl::Now() + absl::Hours(2));
  *tmpl->mutable_duration() = Dur(absl::Hours(2));
  tmpl->set_time_zone("Asia/Tashkent");
  tmpl->set_format(v1::SESSION_FORMAT_ONLINE);
  tmpl->set_join_url("https://meet.example.org/townhall");
  create.mutable_series()->set_rrule("FREQ=MONTHLY;COUNT=2");
  create.set_publish(true);
  ASSERT_OK_AND_ASSIGN(v1::CreateSeriesResponse series,
                       t.client.CreateSeries(create));
  v1::ListSeriesOccurrencesRequest list_occ;
  list_occ.set_series_id(series.series().id());
  ASSERT_OK_AND_ASSIGN(v1::ListSeriesOccurrencesResponse occ,
                       t.client.ListSeriesOccurrences(list_occ));
  ASSERT_THAT(occ.sessions(), SizeIs(2));
  const std::string first = occ.sessions(0).id();
  const std::string second = occ.sessions(1).id();
  v1::StartSessionRequest start;
  start.set_session_id(first);
  ASSERT_OK(t.client.StartSession(start).status());

  ASSERT_OK_AND_ASSIGN(v1::AgendaItem item, AddItem(t, first, "Employment"));
  ASSERT_OK_AND_ASSIGN(
      v1::ActionItem open,
      AddAction(t, first, "Open job fairs",
                "Ministry of Employment and Labour Relations", item.id()));
  EXPECT_EQ(open.series_id(), series.series().id());
  ASSERT_OK_AND_ASSIGN(
      v1::ActionItem started,
      AddAction(t, first, "Consular days", "Ministry of Foreign Affairs"));
  ASSERT_OK(SetActionStatus(t, first, started.id(),
                            v1::ACTION_ITEM_STATUS_IN_PROGRESS)
                .status());
  ASSERT_OK_AND_ASSIGN(v1::ActionItem closed,
                       AddAction(t, first, "Closed", "Ministry of Finance"));
  ASSERT_OK(
      SetActionStatus(t, first, closed.id(), v1::ACTION_ITEM_STATUS_CANCELLED)
          .status());
  // Created in the second session itself: not carried.
  ASSERT_OK_AND_ASSIGN(v1::ActionItem local,
                       AddAction(t, second, "Local", "Ministry of Justice"));

  ASSERT_OK_AND_ASSIGN(v1::AgendaItem existing, AddItem(t, second, "Other"));
  v1::PrepareFollowUpRequest follow;
  follow.set_session_id(second);
  ASSERT_OK_AND_ASSIGN(v1::PrepareFollowUpResponse prepared,
                       t.client.PrepareFollowUp(follow));
  EXPECT_EQ(prepared.item().kind(), v1::AGENDA_ITEM_KIND_FOLLOW_UP);
  EXPECT_EQ(prepared.item().position(), 0);
  EXPECT_THAT(prepared.item().title(), HasSubstr("Follow-up"));
  EXPECT_THAT(prepared.item().action_item_ids(),
              ElementsAre(open.id(), started.id()));
  ASSERT_THAT(prepared.action_items(), SizeIs(2));
  ASSERT_OK_AND_ASSIGN(v1::PrepareFollowUpResponse repeat,
                       t.client.PrepareFollowUp(follow));
  EXPECT_EQ(repeat.item().id(), prepared.item().id());
  ASSERT_OK_AND_ASSIGN(v1::AgendaSnapshot agenda, Agenda(t, second));
  EXPECT_THAT(Ids(agenda), ElementsAre(prepared.item().id(), existing.id()));

  // Done from the second occurrence, seen done from the first.
  ASSERT_OK_AND_ASSIGN(
      v1::ActionItem done,
      SetActionStatus(t, second, open.id(), v1::ACTION_ITEM_STATUS_DONE));
  EXPECT_EQ(done.history().rbegin()->session_id(), second);
  v1::ListActionItemsRequest list;
  list.set_session_id(first);
  ASSERT_OK_AND_ASSIGN(v1::ListActionItemsResponse from_first,
                       t.client.ListActionItems(list));
  ASSERT_THAT(from_first.action_items(), SizeIs(3));
  EXPECT_EQ(from_first.action_items(0).id(), open.id());
  EXPECT_EQ(from_first.action_items(0).status(), v1::ACTION_ITEM_STATUS_DONE);
  list.set_whole_series(true);
  ASSERT_OK_AND_ASSIGN(v1::ListActionItemsResponse whole,
                       t.client.ListActionItems(list));
  EXPECT_THAT(whole.action_items(), SizeIs(4));
  list.add_statuses(v1::ACTION_ITEM_STATUS_OPEN);
  list.add_statuses(v1::ACTION_ITEM_STATUS_IN_PROGRESS);
  ASSERT_OK_AND_ASSIGN(whole, t.client.ListActionItems(list));
  EXPECT_THAT(whole.action_items(), SizeIs(2));  // started, local
  // Another series does not see it.
  ASSERT_OK_AND_ASSIGN(v1::Session stranger, NewSession(t, false));
  EXPECT_THAT(SetActionStatus(t, stranger.id(), started.id(),
                              v1::ACTION_ITEM_STATUS_DONE),
              HasCode(Code::kNotFound));
  // The change went to the feed of the session it was made from.
  EXPECT_EQ(FeedKinds(t, second).back(), "agenda.action.updated");
  (void)local;
}

}  // namespace
}  // namespace townhall::testing
