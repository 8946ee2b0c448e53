// SchedulingService integration tests of ExportCalendar
// (services/scheduling/calendar_logic.cc): one session, the local times
// around DST changes, and occurrences with their own details (overrides); a
// series' EXDATE and RDATE are checked in scheduling_series_test.cc.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "tests/integration/scheduling/scheduling_fixture.h"
#include "tests/testing/status_matchers.h"

namespace townhall::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The value of the first "NAME:" line of an iCalendar text, or "".
std::string IcsValue(const std::string& ics, absl::string_view name) {
  for (absl::string_view line : absl::StrSplit(ics, "\r\n")) {
    if (absl::ConsumePrefix(&line, name) && absl::ConsumePrefix(&line, ":")) {
      return std::string(line);
    }
  }
  return "";
}

TEST(SchedulingTest, ExportCalendarOfOneSession) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  const absl::Time start = Local("Asia/Tashkent", 2028, 1, 10, 14, 30);
  ASSERT_OK_AND_ASSIGN(
      v1::Session s,
      CreateSession(t.client, OnlineSession("Dialogue with compatriots", start,
                                            absl::Minutes(90))));
  v1::ExportCalendarRequest request;
  request.set_session_id(s.id());
  ASSERT_OK_AND_ASSIGN(v1::ExportCalendarResponse first,
                       t.client.ExportCalendar(request));
  const std::string& ics = first.ics();
  EXPECT_THAT(ics, ::testing::StartsWith("BEGIN:VCALENDAR\r\n"));
  EXPECT_THAT(ics, HasSubstr("END:VCALENDAR"));
  EXPECT_THAT(ics, HasSubstr("BEGIN:VEVENT\r\n"));
  EXPECT_THAT(ics, HasSubstr("BEGIN:VTIMEZONE\r\n"));
  EXPECT_THAT(ics, HasSubstr("TZID:Asia/Tashkent\r\n"));
  EXPECT_EQ(IcsValue(ics, "UID"), absl::StrCat(s.id(), "@townhall"));
  EXPECT_THAT(ics, HasSubstr("DTSTART;TZID=Asia/Tashkent:20280110T143000\r\n"))
      << ics;
  EXPECT_THAT(ics, HasSubstr("SUMMARY:Dialogue with compatriots\r\n"));
  EXPECT_EQ(IcsValue(ics, "STATUS"), "TENTATIVE");  // DRAFT
  EXPECT_EQ(first.filename(), absl::StrCat(s.id(), ".ics"));
  EXPECT_THAT(ics, Not(HasSubstr("freeassociation")));
  int64_t seq_before = -1;
  ASSERT_TRUE(absl::SimpleAtoi(IcsValue(ics, "SEQUENCE"), &seq_before)) << ics;

  v1::UpdateSessionRequest update;
  update.mutable_session()->set_id(s.id());
  update.mutable_session()->set_title(
      "Dialogue with compatriots (moved online)");
  update.mutable_update_mask()->add_paths("title");
  update.set_etag(s.etag());
  ASSERT_TRUE(t.client.UpdateSession(update).ok());
  ASSERT_OK_AND_ASSIGN(v1::ExportCalendarResponse second,
                       t.client.ExportCalendar(request));
  int64_t seq_after = -1;
  ASSERT_TRUE(absl::SimpleAtoi(IcsValue(second.ics(), "SEQUENCE"), &seq_after))
      << second.ics();
  EXPECT_GT(seq_after, seq_before);
  EXPECT_EQ(IcsValue(second.ics(), "UID"), absl::StrCat(s.id(), "@townhall"));

  // Publishing makes it CONFIRMED; cancelling makes it CANCELLED.
  ASSERT_TRUE(Transition(t.client, Rpc::kPublish, s.id()).ok());
  ASSERT_OK_AND_ASSIGN(v1::ExportCalendarResponse third,
                       t.client.ExportCalendar(request));
  EXPECT_EQ(IcsValue(third.ics(), "STATUS"), "CONFIRMED");
  ASSERT_TRUE(Transition(t.client, Rpc::kCancel, s.id()).ok());
  ASSERT_OK_AND_ASSIGN(v1::ExportCalendarResponse fourth,
                       t.client.ExportCalendar(request));
  EXPECT_EQ(IcsValue(fourth.ics(), "STATUS"), "CANCELLED");

  // Neither target, an unknown session.
  EXPECT_THAT(t.client.ExportCalendar(v1::ExportCalendarRequest()),
              HasCode(absl::StatusCode::kInvalidArgument));
  request.set_session_id("no-such-session");
  EXPECT_THAT(t.client.ExportCalendar(request),
              HasCode(absl::StatusCode::kNotFound));
}

absl::StatusOr<std::string> Export(TownhallClient& client,
                                   const v1::Series& series) {
  v1::ExportCalendarRequest request;
  request.set_series_id(series.id());
  absl::StatusOr<v1::ExportCalendarResponse> response =
      client.ExportCalendar(request);
  if (!response.ok()) return response.status();
  return response->ics();
}

absl::Status CancelOccurrence(TownhallClient& client, const v1::Series& series,
                              absl::Time original) {
  v1::CancelOccurrenceRequest request;
  request.set_series_id(series.id());
  *request.mutable_original_start_time() = Ts(original);
  return client.CancelOccurrence(request).status();
}

absl::Status MoveOccurrence(TownhallClient& client, const v1::Series& series,
                            absl::Time original, absl::Time to) {
  v1::MoveOccurrenceRequest request;
  request.set_series_id(series.id());
  *request.mutable_original_start_time() = Ts(original);
  *request.mutable_new_start_time() = Ts(to);
  return client.MoveOccurrence(request).status();
}

absl::Status Retitle(TownhallClient& client, const v1::Session& session,
                     const std::string& title) {
  v1::UpdateSessionRequest update;
  update.mutable_session()->set_id(session.id());
  update.mutable_session()->set_title(title);
  update.mutable_update_mask()->add_paths("title");
  update.set_etag(session.etag());
  return client.UpdateSession(update).status();
}

// Weekly at 02:30 in New York from 2027-03-07, published: 02:30 does not
// exist on 2027-03-14 and that occurrence lives at 03:30 EDT (07:30Z).
absl::StatusOr<v1::Series> NewYorkSeries(TownhallClient& client, int count) {
  return CreateSeries(
      client,
      OnlineSession("Town hall", Local("America/New_York", 2027, 3, 7, 2, 30),
                    absl::Hours(1), "America/New_York"),
      absl::StrCat("FREQ=WEEKLY;COUNT=", count), Publish());
}

TEST(SchedulingTest, ExportExcludesAnOccurrenceInADstGapByItsRruleValue) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Series series, NewYorkSeries(t.client, 3));
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Session> occ,
                       Occurrences(t.client, series.id()));
  ASSERT_EQ(occ.size(), 3);
  ASSERT_EQ(FromTs(occ[1].start_time()), Utc(2027, 3, 14, 7, 30));
  ASSERT_OK(CancelOccurrence(t.client, series, Utc(2027, 3, 14, 7, 30)));
  ASSERT_OK_AND_ASSIGN(std::string ics, Export(t.client, series));
  EXPECT_THAT(ics,
              HasSubstr("EXDATE;TZID=America/New_York:20270314T023000\r\n"))
      << ics;
  EXPECT_THAT(ics, Not(HasSubstr("20270314T033000"))) << ics;
}

TEST(SchedulingTest, ExportWritesRepeatedLocalTimesInUtc) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  // 01:30Z is Berlin's second 02:30 on 2027-10-31 (CET); written as
  // TZID=Europe/Berlin:20271031T023000 it would read as the first (00:30Z).
  ASSERT_OK_AND_ASSIGN(
      v1::Session s,
      CreateSession(t.client,
                    OnlineSession("Open Day", Utc(2027, 10, 31, 1, 30),
                                  absl::Hours(1), "Europe/Berlin")));
  v1::ExportCalendarRequest request;
  request.set_session_id(s.id());
  ASSERT_OK_AND_ASSIGN(v1::ExportCalendarResponse single,
                       t.client.ExportCalendar(request));
  EXPECT_THAT(single.ics(), HasSubstr("DTSTART:20271031T013000Z\r\n"))
      << single.ics();
  EXPECT_THAT(single.ics(),
              HasSubstr("DTEND;TZID=Europe/Berlin:20271031T033000\r\n"))
      << single.ics();

  // A series starting there keeps a local DTSTART (its RRULE repeats
  // 02:30); that instance is an override of itself with its start in UTC.
  ASSERT_OK_AND_ASSIGN(
      v1::Series series,
      CreateSeries(t.client,
                   OnlineSession("Open Day", Utc(2027, 10, 31, 1, 30),
                                 absl::Hours(1), "Europe/Berlin"),
                   "FREQ=WEEKLY;COUNT=3"));
  ASSERT_OK_AND_ASSIGN(std::string ics, Export(t.client, series));
  EXPECT_THAT(ics, HasSubstr("DTSTART;TZID=Europe/Berlin:20271031T023000\r\n"))
      << ics;
  EXPECT_THAT(ics, HasSubstr("DURATION:PT1H\r\n")) << ics;
  EXPECT_THAT(ics,
              HasSubstr("RECURRENCE-ID;TZID=Europe/Berlin:20271031T023000\r\n"))
      << ics;
  EXPECT_THAT(ics, HasSubstr("DTSTART:20271031T013000Z\r\n")) << ics;

  // An occurrence moved into the repeated hour: a UTC RDATE.
  ASSERT_OK_AND_ASSIGN(
      v1::Series weekly,
      CreateSeries(t.client,
                   OnlineSession("Consular hour", Utc(2027, 10, 24, 8),
                                 absl::Hours(1), "Europe/Berlin"),
                   "FREQ=WEEKLY;COUNT=3"));
  ASSERT_OK(MoveOccurrence(t.client, weekly, Utc(2027, 10, 31, 9),
                           Utc(2027, 10, 31, 1, 30)));
  ASSERT_OK_AND_ASSIGN(ics, Export(t.client, weekly));
  EXPECT_THAT(ics, HasSubstr("RDATE:20271031T013000Z\r\n")) << ics;
  EXPECT_THAT(ics, HasSubstr("EXDATE;TZID=Europe/Berlin:20271031T100000\r\n"))
      << ics;
}

TEST(SchedulingTest, ExportsEditedOccurrencesAsOverrides) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Series series, NewYorkSeries(t.client, 4));
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Session> occ,
                       Occurrences(t.client, series.id()));
  ASSERT_EQ(occ.size(), 4);
  // The 2nd (in the DST gap) gets its own title; the 3rd its own title and
  // time; the 4th is only moved (EXDATE + RDATE, as before).
  ASSERT_OK(Retitle(t.client, occ[1], "Town hall with the consul"));
  ASSERT_OK(MoveOccurrence(t.client, series, FromTs(occ[2].start_time()),
                           FromTs(occ[2].start_time()) + absl::Hours(3)));
  ASSERT_OK_AND_ASSIGN(v1::Session third, GetSession(t.client, occ[2].id()));
  ASSERT_OK(Retitle(t.client, third, "Town hall (later)"));
  const absl::Time fourth_to = FromTs(occ[3].start_time()) + absl::Hours(24);
  ASSERT_OK(
      MoveOccurrence(t.client, series, FromTs(occ[3].start_time()), fourth_to));

  ASSERT_OK_AND_ASSIGN(std::string ics, Export(t.client, series));
  const std::string uid = absl::StrCat("UID:", series.id(), "@townhall\r\n");
  std::vector<std::string> events =
      absl::StrSplit(ics, "BEGIN:VEVENT\r\n", absl::SkipEmpty());
  events.erase(events.begin());  // The calendar's header and VTIMEZONE.
  ASSERT_EQ(events.size(), 3) << ics;
  for (const std::string& e : events) EXPECT_THAT(e, HasSubstr(uid)) << ics;
  // The master: the 4th excluded and added back moved, nothing else.
  EXPECT_THAT(events[0], HasSubstr("RRULE:FREQ=WEEKLY;COUNT=4\r\n"));
  EXPECT_THAT(events[0],
              HasSubstr("EXDATE;TZID=America/New_York:20270328T023000\r\n"));
  EXPECT_THAT(events[0],
              HasSubstr("RDATE;TZID=America/New_York:20270329T023000\r\n"));
  EXPECT_THAT(events[0], Not(HasSubstr("20270314T")));
  EXPECT_THAT(events[0], Not(HasSubstr("20270321T")));
  // The overrides name the instances as the RRULE generates them.
  EXPECT_THAT(events[1],
              HasSubstr("RECURRENCE-ID;TZID=America/New_York:20270314T023000"));
  EXPECT_THAT(events[1], HasSubstr("SUMMARY:Town hall with the consul\r\n"));
  EXPECT_THAT(events[1],
              HasSubstr("DTSTART;TZID=America/New_York:20270314T033000\r\n"));
  EXPECT_THAT(events[2],
              HasSubstr("RECURRENCE-ID;TZID=America/New_York:20270321T023000"));
  EXPECT_THAT(events[2], HasSubstr("SUMMARY:Town hall (later)\r\n"));
  EXPECT_THAT(events[2],
              HasSubstr("DTSTART;TZID=America/New_York:20270321T053000\r\n"));
  for (const std::string& e : {events[1], events[2]}) {
    EXPECT_THAT(e, Not(HasSubstr("RRULE"))) << e;
    EXPECT_THAT(e, Not(HasSubstr("EXDATE"))) << e;
  }

  // Cancelled, an edited occurrence is an EXDATE again.
  ASSERT_OK(CancelOccurrence(t.client, series, FromTs(occ[1].start_time())));
  ASSERT_OK_AND_ASSIGN(ics, Export(t.client, series));
  EXPECT_THAT(ics, HasSubstr("EXDATE;TZID=America/New_York:20270314T023000"));
  EXPECT_THAT(ics, Not(HasSubstr("Town hall with the consul")));
}

// iCalendar text with its folded lines joined (RFC 5545 3.1).
std::string Unfolded(absl::string_view ics) {
  return absl::StrReplaceAll(ics, {{"\r\n ", ""}});
}

// LAST-MODIFIED as the export writes it: UTC, whole seconds.
std::string IcsUtc(const google::protobuf::Timestamp& t) {
  return absl::FormatTime("%Y%m%dT%H%M%SZ", absl::FromUnixSeconds(t.seconds()),
                          absl::UTCTimeZone());
}

int64_t IcsSequence(const std::string& ics) {
  int64_t sequence = -1;
  EXPECT_TRUE(absl::SimpleAtoi(IcsValue(ics, "SEQUENCE"), &sequence)) << ics;
  return sequence;
}

TEST(SchedulingTest, SeriesExportFollowsItsOccurrencesStatus) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  // Drafts: the master is TENTATIVE until an occurrence is published.
  ASSERT_OK_AND_ASSIGN(
      v1::Series series,
      CreateSeries(
          t.client,
          OnlineSession("Town hall", Local("America/New_York", 2027, 3, 7, 10),
                        absl::Hours(1), "America/New_York"),
          "FREQ=WEEKLY;COUNT=3"));
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Session> occ,
                       Occurrences(t.client, series.id()));
  ASSERT_EQ(occ.size(), 3);
  ASSERT_OK_AND_ASSIGN(std::string before, Export(t.client, series));
  EXPECT_EQ(IcsValue(before, "STATUS"), "TENTATIVE") << before;

  ASSERT_OK_AND_ASSIGN(v1::Session published,
                       Transition(t.client, Rpc::kPublish, occ[0].id()));
  ASSERT_OK_AND_ASSIGN(std::string after, Export(t.client, series));
  EXPECT_EQ(IcsValue(after, "STATUS"), "CONFIRMED") << after;
  // A calendar replaces its copy only for a higher SEQUENCE.
  EXPECT_GT(IcsSequence(after), IcsSequence(before)) << before << after;
  EXPECT_EQ(IcsValue(after, "LAST-MODIFIED"), IcsUtc(published.update_time()))
      << after;

  // Every further change of an occurrence moves it on.
  ASSERT_OK(Transition(t.client, Rpc::kPublish, occ[1].id()).status());
  ASSERT_OK_AND_ASSIGN(std::string later, Export(t.client, series));
  EXPECT_GT(IcsSequence(later), IcsSequence(after)) << later;
}

TEST(SchedulingTest, CancelReasonIsKeptAndExported) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  // A single session: the reason leads its description.
  ASSERT_OK_AND_ASSIGN(
      v1::Session single,
      CreateSession(t.client, OnlineSession("Open Day", Utc(2027, 5, 1, 8),
                                            absl::Hours(6), "Europe/Berlin")));
  v1::CancelSessionRequest cancel;
  cancel.set_session_id(single.id());
  cancel.set_reason("The embassy is closed on Labour Day");
  ASSERT_OK_AND_ASSIGN(v1::CancelSessionResponse cancelled,
                       t.client.CancelSession(cancel));
  EXPECT_EQ(cancelled.session().cancel_reason(),
            "The embassy is closed on Labour Day");
  ASSERT_OK_AND_ASSIGN(v1::Session read, GetSession(t.client, single.id()));
  EXPECT_EQ(read.cancel_reason(), "The embassy is closed on Labour Day");
  v1::ExportCalendarRequest request;
  request.set_session_id(single.id());
  ASSERT_OK_AND_ASSIGN(v1::ExportCalendarResponse exported,
                       t.client.ExportCalendar(request));
  EXPECT_EQ(IcsValue(Unfolded(exported.ics()), "DESCRIPTION"),
            "Cancelled: The embassy is closed on Labour Day")
      << exported.ics();

  // A series: an EXDATE has no text, so the master's description lists
  // the cancelled occurrences with their reasons, in the series' zone.
  ASSERT_OK_AND_ASSIGN(v1::Series series, NewYorkSeries(t.client, 3));
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Session> occ,
                       Occurrences(t.client, series.id()));
  ASSERT_EQ(occ.size(), 3);
  v1::CancelOccurrenceRequest by_series;
  by_series.set_series_id(series.id());
  *by_series.mutable_original_start_time() = occ[1].original_start_time();
  by_series.set_reason("Daylight saving starts; see you next week");
  ASSERT_OK(t.client.CancelOccurrence(by_series).status());
  cancel.set_session_id(occ[2].id());
  cancel.set_reason("Holiday, with a comma; and a semicolon");
  ASSERT_OK(t.client.CancelSession(cancel).status());
  ASSERT_OK_AND_ASSIGN(read, GetSession(t.client, occ[1].id()));
  EXPECT_EQ(read.cancel_reason(), "Daylight saving starts; see you next week");

  ASSERT_OK_AND_ASSIGN(std::string ics, Export(t.client, series));
  EXPECT_EQ(IcsValue(Unfolded(ics), "DESCRIPTION"),
            "Cancelled:\\n"
            "- 2027-03-14 03:30 America/New_York: Daylight saving starts\\; "
            "see you next week\\n"
            "- 2027-03-21 02:30 America/New_York: Holiday\\, with a comma\\; "
            "and a semicolon")
      << ics;
  // Both stay excluded; the one left is as before.
  EXPECT_THAT(ics, HasSubstr("EXDATE;TZID=America/New_York:20270314T023000"));
  EXPECT_THAT(ics, HasSubstr("20270321T023000")) << ics;

  // Cancelling without a reason adds no note.
  ASSERT_OK_AND_ASSIGN(
      v1::Session quiet,
      CreateSession(t.client, OnlineSession("Briefing", Utc(2027, 6, 1, 8),
                                            absl::Hours(1), "Europe/Berlin")));
  cancel.set_session_id(quiet.id());
  cancel.clear_reason();
  ASSERT_OK_AND_ASSIGN(cancelled, t.client.CancelSession(cancel));
  EXPECT_EQ(cancelled.session().cancel_reason(), "");
  request.set_session_id(quiet.id());
  ASSERT_OK_AND_ASSIGN(exported, t.client.ExportCalendar(request));
  EXPECT_THAT(exported.ics(), Not(HasSubstr("Cancelled"))) << exported.ics();
}

}  // namespace
}  // namespace townhall::testing
