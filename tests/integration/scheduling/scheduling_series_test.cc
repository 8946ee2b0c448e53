// SchedulingService integration tests of recurring series
// (services/scheduling/series_logic.cc): occurrences across DST
// (create_sessions.lua), cancelled and moved occurrences with their EXDATE and
// RDATE (change_occurrence.lua), and the limits on a series' rule (issue 14
// items 5 and 8).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "tests/integration/scheduling/scheduling_fixture.h"
#include "tests/testing/status_matchers.h"

namespace townhall::testing {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

// ---- Recurrence

TEST(SchedulingTest, WeeklySeriesInBerlinStaysAtTenLocalAcrossDst) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  // Mondays from 2027-03-01; Europe/Berlin springs forward on 2027-03-28.
  const absl::Time first = Local("Europe/Berlin", 2027, 3, 1, 10);
  ASSERT_EQ(first, Utc(2027, 3, 1, 9));
  ASSERT_OK_AND_ASSIGN(
      v1::Series series,
      CreateSeries(t.client,
                   OnlineSession("Weekly briefing", first, absl::Hours(1),
                                 "Europe/Berlin"),
                   "FREQ=WEEKLY;COUNT=6"));
  EXPECT_THAT(series.session_ids(), SizeIs(6));
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Session> occurrences,
                       Occurrences(t.client, series.id()));
  ASSERT_THAT(occurrences, SizeIs(6));

  absl::TimeZone berlin;
  ASSERT_TRUE(absl::LoadTimeZone("Europe/Berlin", &berlin));
  const absl::CivilDay days[] = {
      absl::CivilDay(2027, 3, 1),  absl::CivilDay(2027, 3, 8),
      absl::CivilDay(2027, 3, 15), absl::CivilDay(2027, 3, 22),
      absl::CivilDay(2027, 3, 29), absl::CivilDay(2027, 4, 5)};
  const int utc_hours[] = {9, 9, 9, 9, 8, 8};
  for (int i = 0; i < 6; ++i) {
    SCOPED_TRACE(i);
    const v1::Session& s = occurrences[i];
    const absl::Time start = FromTs(s.start_time());
    EXPECT_EQ(absl::ToCivilHour(start, absl::UTCTimeZone()).hour(),
              utc_hours[i])
        << Iso(start);
    const absl::CivilSecond local = absl::ToCivilSecond(start, berlin);
    EXPECT_EQ(absl::CivilDay(local), days[i]);
    EXPECT_EQ(local.hour(), 10);
    EXPECT_EQ(local.minute(), 0);
    EXPECT_EQ(s.series_id(), series.id());
    EXPECT_EQ(FromTs(s.original_start_time()), start);
    EXPECT_EQ(s.time_zone(), "Europe/Berlin");
    EXPECT_EQ(s.state(), v1::SESSION_STATE_DRAFT);
    EXPECT_EQ(s.id(), series.session_ids(i));
  }
}

TEST(SchedulingTest, WeeklySeriesInTashkentIsAlwaysFiveUtc) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  const absl::Time first = Local("Asia/Tashkent", 2027, 3, 1, 10);
  ASSERT_OK_AND_ASSIGN(
      v1::Series series,
      CreateSeries(t.client,
                   OnlineSession("Weekly briefing", first, absl::Hours(1),
                                 "Asia/Tashkent"),
                   "FREQ=WEEKLY;COUNT=6", Publish()));
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Session> occurrences,
                       Occurrences(t.client, series.id()));
  ASSERT_THAT(occurrences, SizeIs(6));
  absl::TimeZone tashkent;
  ASSERT_TRUE(absl::LoadTimeZone("Asia/Tashkent", &tashkent));
  for (int i = 0; i < 6; ++i) {
    SCOPED_TRACE(i);
    const absl::Time start = FromTs(occurrences[i].start_time());
    EXPECT_EQ(start, Utc(2027, 3, 1, 5) + absl::Hours(24 * 7 * i))
        << Iso(start);
    EXPECT_EQ(absl::ToCivilSecond(start, tashkent).hour(), 10);
    EXPECT_EQ(occurrences[i].state(), v1::SESSION_STATE_SCHEDULED);
  }
}

// ---- Occurrence exceptions

TEST(SchedulingTest, CancelOccurrenceCancelsItsSessionAndAddsExdate) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  const absl::Time first = Local("Asia/Tashkent", 2027, 6, 7, 10);
  ASSERT_OK_AND_ASSIGN(v1::Series series,
                       CreateSeries(t.client, OnlineSession("Open day", first),
                                    "FREQ=WEEKLY;COUNT=4", Publish()));
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Session> occ,
                       Occurrences(t.client, series.id()));
  ASSERT_THAT(occ, SizeIs(4));
  const absl::Time second = first + absl::Hours(24 * 7);
  ASSERT_EQ(FromTs(occ[1].start_time()), second);

  v1::CancelOccurrenceRequest cancel;
  cancel.set_series_id(series.id());
  *cancel.mutable_original_start_time() = Ts(second);
  cancel.set_reason("public holiday");
  ASSERT_OK_AND_ASSIGN(v1::CancelOccurrenceResponse cancelled,
                       t.client.CancelOccurrence(cancel));
  EXPECT_EQ(cancelled.session().id(), occ[1].id());
  EXPECT_EQ(cancelled.session().state(), v1::SESSION_STATE_CANCELLED);

  ASSERT_OK_AND_ASSIGN(v1::Session stored, GetSession(t.client, occ[1].id()));
  EXPECT_EQ(stored.state(), v1::SESSION_STATE_CANCELLED);
  // The other occurrences are untouched.
  for (int i : {0, 2, 3}) {
    ASSERT_OK_AND_ASSIGN(v1::Session other, GetSession(t.client, occ[i].id()));
    EXPECT_EQ(other.state(), v1::SESSION_STATE_SCHEDULED) << i;
  }

  ASSERT_OK_AND_ASSIGN(v1::Series after, GetSeries(t.client, series.id()));
  EXPECT_THAT(Times(after.exception_dates()), ElementsAre(second));
  EXPECT_THAT(after.extra_dates(), IsEmpty());
  EXPECT_GT(EtagNumber(after.etag()), EtagNumber(series.etag()));

  v1::ExportCalendarRequest export_request;
  export_request.set_series_id(series.id());
  ASSERT_OK_AND_ASSIGN(v1::ExportCalendarResponse ics,
                       t.client.ExportCalendar(export_request));
  EXPECT_THAT(ics.ics(), HasSubstr("RRULE:FREQ=WEEKLY;COUNT=4"));
  // 10:00 local in Tashkent on 2027-06-14.
  EXPECT_THAT(ics.ics(),
              HasSubstr("EXDATE;TZID=Asia/Tashkent:20270614T100000\r\n"))
      << ics.ics();

  // Cancelling it again: it is CANCELLED now.
  EXPECT_THAT(t.client.CancelOccurrence(cancel),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("is CANCELLED")));
  // A LIVE occurrence cannot be cancelled either.
  ASSERT_OK_AND_ASSIGN(v1::Session live,
                       Transition(t.client, Rpc::kStart, occ[2].id()));
  ASSERT_EQ(live.state(), v1::SESSION_STATE_LIVE);
  *cancel.mutable_original_start_time() = occ[2].original_start_time();
  EXPECT_THAT(
      t.client.CancelOccurrence(cancel),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("is LIVE")));
  ASSERT_OK_AND_ASSIGN(stored, GetSession(t.client, occ[2].id()));
  EXPECT_EQ(stored.state(), v1::SESSION_STATE_LIVE);
  // No occurrence starts at this time.
  *cancel.mutable_original_start_time() = Ts(first + absl::Hours(1));
  EXPECT_THAT(t.client.CancelOccurrence(cancel),
              HasCode(absl::StatusCode::kNotFound));
  // An unknown series.
  cancel.set_series_id("no-such-series");
  *cancel.mutable_original_start_time() = Ts(first);
  EXPECT_THAT(t.client.CancelOccurrence(cancel),
              HasCode(absl::StatusCode::kNotFound));

  ASSERT_OK_AND_ASSIGN(after, GetSeries(t.client, series.id()));
  EXPECT_THAT(Times(after.exception_dates()), ElementsAre(second));
}

TEST(SchedulingTest, CancelSessionOfAnOccurrenceAlsoAddsExdate) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  const absl::Time first = Local("Europe/Berlin", 2027, 6, 7, 10);
  ASSERT_OK_AND_ASSIGN(
      v1::Series series,
      CreateSeries(
          t.client,
          OnlineSession("Open day", first, absl::Hours(1), "Europe/Berlin"),
          "FREQ=DAILY;COUNT=3"));
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Session> occ,
                       Occurrences(t.client, series.id()));
  ASSERT_THAT(occ, SizeIs(3));
  ASSERT_OK_AND_ASSIGN(v1::Session cancelled,
                       Transition(t.client, Rpc::kCancel, occ[2].id()));
  EXPECT_EQ(cancelled.state(), v1::SESSION_STATE_CANCELLED);
  ASSERT_OK_AND_ASSIGN(v1::Series after, GetSeries(t.client, series.id()));
  EXPECT_THAT(Times(after.exception_dates()),
              ElementsAre(FromTs(occ[2].start_time())));
  // And CancelSession keeps the state machine's message for a bad state.
  EXPECT_THAT(Transition(t.client, Rpc::kCancel, occ[2].id()),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("is CANCELLED")));
}

TEST(SchedulingTest, MoveOccurrenceKeepsIdAndRecordsExdateAndRdate) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  const absl::Time first = Local("Europe/Berlin", 2027, 9, 6, 10);
  ASSERT_OK_AND_ASSIGN(
      v1::Series series,
      CreateSeries(t.client,
                   OnlineSession("Consular hour", first, absl::Hours(1),
                                 "Europe/Berlin"),
                   "FREQ=WEEKLY;COUNT=4"));
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Session> occ,
                       Occurrences(t.client, series.id()));
  ASSERT_THAT(occ, SizeIs(4));
  const absl::Time original = FromTs(occ[1].start_time());
  const absl::Time moved_to =
      original + absl::Hours(24 + 3);  // next day, 13:00

  v1::MoveOccurrenceRequest move;
  move.set_series_id(series.id());
  *move.mutable_original_start_time() = Ts(original);
  *move.mutable_new_start_time() = Ts(moved_to);
  ASSERT_OK_AND_ASSIGN(v1::MoveOccurrenceResponse moved,
                       t.client.MoveOccurrence(move));
  EXPECT_EQ(moved.session().id(), occ[1].id());
  EXPECT_EQ(FromTs(moved.session().start_time()), moved_to);
  EXPECT_EQ(FromTs(moved.session().original_start_time()), original);
  EXPECT_EQ(moved.session().duration().seconds(), 3600);
  EXPECT_GT(EtagNumber(moved.session().etag()), EtagNumber(occ[1].etag()));

  ASSERT_OK_AND_ASSIGN(v1::Session stored, GetSession(t.client, occ[1].id()));
  EXPECT_EQ(FromTs(stored.start_time()), moved_to);
  ASSERT_OK_AND_ASSIGN(v1::Series after, GetSeries(t.client, series.id()));
  EXPECT_THAT(Times(after.exception_dates()), ElementsAre(original));
  EXPECT_THAT(Times(after.extra_dates()), ElementsAre(moved_to));
  EXPECT_THAT(after.session_ids(), SizeIs(4));

  v1::ExportCalendarRequest export_request;
  export_request.set_series_id(series.id());
  ASSERT_OK_AND_ASSIGN(v1::ExportCalendarResponse ics,
                       t.client.ExportCalendar(export_request));
  EXPECT_THAT(ics.ics(),
              HasSubstr("EXDATE;TZID=Europe/Berlin:20270913T100000\r\n"))
      << ics.ics();
  EXPECT_THAT(ics.ics(),
              HasSubstr("RDATE;TZID=Europe/Berlin:20270914T130000\r\n"))
      << ics.ics();

  // The moved session is found at its new time in ListSessions.
  v1::ListSessionsRequest list;
  *list.mutable_start_after() = Ts(moved_to);
  *list.mutable_start_before() = Ts(moved_to + absl::Minutes(1));
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Session> at_new_time,
                       ListAll(t.client, list));
  EXPECT_THAT(Ids(at_new_time), ElementsAre(occ[1].id()));

  // Moving it again replaces the RDATE.
  const absl::Time moved_again = original + absl::Hours(2);
  *move.mutable_new_start_time() = Ts(moved_again);
  ASSERT_OK_AND_ASSIGN(moved, t.client.MoveOccurrence(move));
  ASSERT_OK_AND_ASSIGN(after, GetSeries(t.client, series.id()));
  EXPECT_THAT(Times(after.exception_dates()), ElementsAre(original));
  EXPECT_THAT(Times(after.extra_dates()), ElementsAre(moved_again));

  // Moving it back removes both.
  *move.mutable_new_start_time() = Ts(original);
  ASSERT_OK_AND_ASSIGN(moved, t.client.MoveOccurrence(move));
  EXPECT_EQ(moved.session().id(), occ[1].id());
  EXPECT_EQ(FromTs(moved.session().start_time()), original);
  ASSERT_OK_AND_ASSIGN(after, GetSeries(t.client, series.id()));
  EXPECT_THAT(after.exception_dates(), IsEmpty());
  EXPECT_THAT(after.extra_dates(), IsEmpty());
  ASSERT_OK_AND_ASSIGN(ics, t.client.ExportCalendar(export_request));
  EXPECT_THAT(ics.ics(), Not(HasSubstr("EXDATE")));
  EXPECT_THAT(ics.ics(), Not(HasSubstr("RDATE")));

  // An unknown original start.
  *move.mutable_original_start_time() = Ts(original + absl::Minutes(30));
  EXPECT_THAT(t.client.MoveOccurrence(move),
              HasCode(absl::StatusCode::kNotFound));
  // A cancelled occurrence cannot be moved.
  ASSERT_OK_AND_ASSIGN(v1::Session cancelled,
                       Transition(t.client, Rpc::kCancel, occ[3].id()));
  *move.mutable_original_start_time() = occ[3].original_start_time();
  EXPECT_THAT(t.client.MoveOccurrence(move),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("is CANCELLED")));
}

// EXDATE/RDATE are plain instants: two occurrences may never share a start,
// or the exported series would drop one of them.
TEST(SchedulingTest, MoveOntoAnotherOccurrencesStartIsRefused) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  const absl::Time first = Local("Europe/Berlin", 2027, 9, 6, 10);
  ASSERT_OK_AND_ASSIGN(
      v1::Series series,
      CreateSeries(t.client,
                   OnlineSession("Consular hour", first, absl::Hours(1),
                                 "Europe/Berlin"),
                   "FREQ=WEEKLY;COUNT=3"));
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Session> occ,
                       Occurrences(t.client, series.id()));
  ASSERT_THAT(occ, SizeIs(3));
  auto move = [&](absl::Time from, absl::Time to) {
    v1::MoveOccurrenceRequest request;
    request.set_series_id(series.id());
    *request.mutable_original_start_time() = Ts(from);
    *request.mutable_new_start_time() = Ts(to);
    request.set_allow_conflicts(true);
    return t.client.MoveOccurrence(request);
  };
  const absl::Time a = FromTs(occ[0].start_time());
  const absl::Time b = FromTs(occ[1].start_time());
  const absl::Time c = FromTs(occ[2].start_time());
  // Onto another occurrence's original start.
  EXPECT_THAT(StatusOf(move(a, b)),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("already starts at")));
  // Onto another occurrence's moved start.
  ASSERT_OK_AND_ASSIGN(auto moved, move(c, c + absl::Hours(2)));
  EXPECT_THAT(StatusOf(move(a, c + absl::Hours(2))),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("already starts at")));
  // Nothing changed for the refused move; the series still lists all three.
  ASSERT_OK_AND_ASSIGN(v1::Session first_session,
                       GetSession(t.client, occ[0].id()));
  EXPECT_EQ(FromTs(first_session.start_time()), a);
  ASSERT_OK_AND_ASSIGN(v1::Series after, GetSeries(t.client, series.id()));
  EXPECT_THAT(Times(after.exception_dates()), ElementsAre(c));
  EXPECT_THAT(Times(after.extra_dates()), ElementsAre(c + absl::Hours(2)));
  // Moving an occurrence to where it already is stays allowed (a no-op move).
  EXPECT_TRUE(move(c, c + absl::Hours(2)).ok());
}

TEST(SchedulingTest, MoveOccurrenceIntoAHostConflictIsRefused) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  const absl::Time first = Utc(2027, 10, 4, 8);
  v1::Session tmpl = OnlineSession("Ambassador's hour", first);
  tmpl.add_host_ids("ambassador@example.org");
  ASSERT_OK_AND_ASSIGN(v1::Series series,
                       CreateSeries(t.client, tmpl, "FREQ=DAILY;COUNT=2"));
  v1::Session other = OnlineSession("Press conference", first + absl::Hours(4));
  other.add_host_ids("ambassador@example.org");
  ASSERT_OK_AND_ASSIGN(v1::Session press, CreateSession(t.client, other));

  v1::MoveOccurrenceRequest move;
  move.set_series_id(series.id());
  *move.mutable_original_start_time() = Ts(first);
  *move.mutable_new_start_time() =
      Ts(first + absl::Hours(4) + absl::Minutes(30));
  EXPECT_THAT(
      t.client.MoveOccurrence(move),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(press.id())));
  ASSERT_OK_AND_ASSIGN(v1::Series after, GetSeries(t.client, series.id()));
  EXPECT_THAT(after.exception_dates(), IsEmpty());
  EXPECT_THAT(after.extra_dates(), IsEmpty());
  move.set_allow_conflicts(true);
  EXPECT_TRUE(t.client.MoveOccurrence(move).ok());
}

// ---- Limits of a series' rule

// Every session of the tenant.
absl::StatusOr<std::vector<v1::Session>> AllSessions(TownhallClient& client) {
  v1::ListSessionsRequest request;
  request.set_page_size(500);
  return ListAll(client, request);
}

// Item 5: a series starting 2199-01-01 with COUNT=200 used to create
// occurrences until 2398 that UpdateSession then refused to edit.
TEST(RecurrenceLimitsTest, OccurrencesPastTheSessionRangeAreRefused) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  EXPECT_THAT(
      CreateSeries(t.client, Online("UTC", Utc(2199, 1, 1, 10)),
                   "FREQ=YEARLY;COUNT=200"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr("series.rrule: \"FREQ=YEARLY;COUNT=200\""),
                     HasSubstr("2200-01-01T00:00:00Z"))));
  EXPECT_THAT(CreateSeries(t.client, Online("UTC", Utc(2199, 6, 1, 10)),
                           "FREQ=WEEKLY;UNTIL=22000301T000000Z"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("series.rrule: ")));
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Session> none, AllSessions(t.client));
  EXPECT_THAT(none, IsEmpty());

  // Within the range, every occurrence stays editable.
  ASSERT_OK_AND_ASSIGN(
      v1::Series series,
      CreateSeries(t.client, Online("UTC", Utc(2199, 1, 1, 10)),
                   "FREQ=MONTHLY;COUNT=12"));
  ASSERT_EQ(series.session_ids_size(), 12);
  v1::UpdateSessionRequest update;
  update.mutable_session()->set_id(series.session_ids(11));
  update.mutable_session()->set_title("Last one");
  update.mutable_update_mask()->add_paths("title");
  EXPECT_OK(t.client.UpdateSession(update));
}

// Item 8: this rule is legal but made libical step through every day up to
// the year 2582 (~0.5 s under a process-wide lock) per call.
TEST(RecurrenceLimitsTest, ExpensiveRuleIsRefused) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  const std::string rule =
      "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO;COUNT=200";
  EXPECT_THAT(
      CreateSeries(t.client, Online("Europe/Berlin"), rule),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr(absl::StrCat("series.rrule: \"", rule, "\"")),
                     HasSubstr("candidate"))));
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Session> none, AllSessions(t.client));
  EXPECT_THAT(none, IsEmpty());
  // The same days as a YEARLY rule are cheap and fine.
  EXPECT_OK(CreateSeries(t.client, Online("Europe/Berlin"),
                         "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO;"
                         "COUNT=3"));
}

}  // namespace
}  // namespace townhall::testing
