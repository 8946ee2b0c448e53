#include "services/agenda/agenda_rules.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "absl/time/time.h"
#include "services/common/proto_time.h"
#include "tests/testing/status_matchers.h"

namespace townhall::agenda {
namespace {

using ::testing::HasSubstr;
using ::townhall::testing::HasCode;
using ::townhall::testing::StatusIs;
using Code = absl::StatusCode;

const absl::Time kStart = absl::FromUnixSeconds(1800000000);

v1::AgendaItem Planned(absl::Duration planned) {
  v1::AgendaItem item;
  item.set_title("Budget");
  SetDuration(planned, item.mutable_planned_duration());
  return item;
}

TEST(RequireAgendaOpenTest, EndedAndCancelledSessionsAreARecord) {
  v1::Session session;
  session.set_id("s1");
  for (v1::SessionState open :
       {v1::SESSION_STATE_SCHEDULED, v1::SESSION_STATE_LIVE}) {
    session.set_state(open);
    EXPECT_OK(RequireAgendaOpen(session));
  }
  session.set_state(v1::SESSION_STATE_ENDED);
  EXPECT_THAT(RequireAgendaOpen(session),
              StatusIs(Code::kFailedPrecondition,
                       HasSubstr("session s1 is SESSION_STATE_ENDED")));
  session.set_state(v1::SESSION_STATE_CANCELLED);
  EXPECT_THAT(RequireAgendaOpen(session), HasCode(Code::kFailedPrecondition));
}

TEST(ValidateItemTest, ChecksTitlePlanAndPresenters) {
  EXPECT_OK(ValidateItem(Planned(absl::Minutes(15))));
  EXPECT_OK(ValidateItem(Planned(absl::Hours(24))));
  v1::AgendaItem no_title = Planned(absl::Minutes(15));
  no_title.clear_title();
  EXPECT_THAT(ValidateItem(no_title),
              StatusIs(Code::kInvalidArgument, HasSubstr("item.title")));
  for (absl::Duration bad :
       {absl::ZeroDuration(), -absl::Minutes(1), absl::Hours(25)}) {
    EXPECT_THAT(
        ValidateItem(Planned(bad)),
        StatusIs(Code::kInvalidArgument, HasSubstr("item.planned_duration")))
        << bad;
  }
  v1::AgendaItem bad_presenter = Planned(absl::Minutes(15));
  bad_presenter.add_presenter_participant_ids("not an id!");
  EXPECT_THAT(ValidateItem(bad_presenter),
              StatusIs(Code::kInvalidArgument,
                       HasSubstr("item.presenter_participant_ids")));
}

TEST(NewItemTest, TakesOnlyTheEditableFields) {
  v1::Session session;
  session.set_id("s1");
  v1::AgendaItem from = Planned(absl::Minutes(10));
  from.set_id("chosen-by-client");
  from.set_status(v1::AGENDA_ITEM_STATUS_DONE);
  from.set_etag("7");
  from.add_presenter_organization_ids("org-1");
  v1::AgendaItem item = NewItem(session, from);
  EXPECT_NE(item.id(), "chosen-by-client");
  EXPECT_FALSE(item.id().empty());
  EXPECT_EQ(item.session_id(), "s1");
  EXPECT_EQ(item.title(), "Budget");
  EXPECT_EQ(ToDuration(item.planned_duration()), absl::Minutes(10));
  EXPECT_THAT(item.presenter_organization_ids(),
              ::testing::ElementsAre("org-1"));
  EXPECT_EQ(item.status(), v1::AGENDA_ITEM_STATUS_PENDING);
  EXPECT_EQ(item.kind(), v1::AGENDA_ITEM_KIND_TOPIC);
  EXPECT_TRUE(item.etag().empty());
}

TEST(PositionTest, NegativeIsRefusedAndAbsentMeansTheEnd) {
  EXPECT_OK(ValidatePosition(false, -5));
  EXPECT_OK(ValidatePosition(true, 0));
  EXPECT_THAT(ValidatePosition(true, -1), HasCode(Code::kInvalidArgument));
  EXPECT_EQ(PositionArg(true, 3), "3");
  EXPECT_EQ(PositionArg(false, 3), "-1");
}

TEST(SetOverrunTest, CountsOnlyTimePastThePlan) {
  v1::AgendaItem item = Planned(absl::Minutes(15));
  SetOverrun(kStart, &item);
  EXPECT_FALSE(item.has_overrun()) << "never started";

  SetTime(kStart, item.mutable_actual_start_time());
  SetOverrun(kStart + absl::Minutes(10), &item);
  EXPECT_EQ(ToDuration(item.overrun()), absl::ZeroDuration()) << "on time";
  SetOverrun(kStart + absl::Minutes(20), &item);
  EXPECT_EQ(ToDuration(item.overrun()), absl::Minutes(5)) << "still running";

  SetTime(kStart + absl::Minutes(17), item.mutable_actual_end_time());
  SetOverrun(kStart + absl::Hours(2), &item);
  EXPECT_EQ(ToDuration(item.overrun()), absl::Minutes(2)) << "ended";

  item.clear_planned_duration();
  SetOverrun(kStart + absl::Hours(2), &item);
  EXPECT_FALSE(item.has_overrun()) << "no plan";
}

TEST(DecodeItemTest, ParsesStoredJsonAndSetsTheOverrun) {
  v1::AgendaItem item;
  ASSERT_OK(DecodeItem(R"({"id":"i1","title":"Budget","plannedDuration":"60s",)"
                       R"("actualStartTime":"2027-01-15T08:00:00.123456Z"})",
                       absl::FromUnixSeconds(1799999999) + absl::Hours(1),
                       &item));
  EXPECT_EQ(item.id(), "i1");
  EXPECT_TRUE(item.has_overrun());
  EXPECT_THAT(DecodeItem("{not json", kStart, &item), HasCode(Code::kInternal));
}

}  // namespace
}  // namespace townhall::agenda
