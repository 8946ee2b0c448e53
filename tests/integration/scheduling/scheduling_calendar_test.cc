// SchedulingService integration tests of ExportCalendar
// (services/scheduling/calendar_logic.cc) for one session; a series' EXDATE
// and RDATE are checked in scheduling_series_test.cc.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
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

}  // namespace
}  // namespace townhall::testing
