// Integration tests of the limits on recurring series and time zones (issue
// 14 items 5, 6 and 8): the C++ client talks gRPC to an in-process townhall
// server backed by a real Redis, each test in a tenant of its own.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "tests/testing/shared_server.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_server.h"

namespace townhall::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// Matches an OK StatusOr<std::string> holding `zone`.
MATCHER_P(HoldsZone, zone, "") {
  if (!arg.ok()) {
    *result_listener << "status is " << arg.status();
    return false;
  }
  *result_listener << "holds " << *arg;
  return *arg == zone;
}

google::protobuf::Timestamp Utc(int year, int month, int day, int hour) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(absl::ToUnixSeconds(absl::FromCivil(
      absl::CivilHour(year, month, day, hour), absl::UTCTimeZone())));
  return ts;
}

v1::Session Online(const std::string& time_zone,
                   google::protobuf::Timestamp start = Utc(2027, 3, 15, 9)) {
  v1::Session s;
  s.set_title("Consular hour");
  *s.mutable_start_time() = start;
  s.mutable_duration()->set_seconds(3600);
  s.set_time_zone(time_zone);
  s.set_format(v1::SESSION_FORMAT_ONLINE);
  return s;
}

absl::StatusOr<v1::Series> CreateSeries(TownhallClient& client,
                                        const v1::Session& tmpl,
                                        const std::string& rrule) {
  v1::CreateSeriesRequest request;
  *request.mutable_series()->mutable_template_() = tmpl;
  request.mutable_series()->set_rrule(rrule);
  absl::StatusOr<v1::CreateSeriesResponse> response =
      client.CreateSeries(request);
  if (!response.ok()) return response.status();
  return response->series();
}

absl::StatusOr<std::vector<v1::Session>> AllSessions(TownhallClient& client) {
  v1::ListSessionsRequest request;
  request.set_page_size(500);
  absl::StatusOr<v1::ListSessionsResponse> response =
      client.ListSessions(request);
  if (!response.ok()) return response.status();
  return std::vector<v1::Session>(response->sessions().begin(),
                                  response->sessions().end());
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

// Item 6: files in the zoneinfo directory that are not IANA zones were
// accepted ("posixrules" was exported as TZID:posixrules). Every RPC that
// takes a time zone refuses them and stores a link under its canonical name.
struct ZoneField {
  const char* name;
  // Calls the RPC with `zone`; returns the stored zone on success.
  std::function<absl::StatusOr<std::string>(Tenant&, const std::string&)> call;
  const char* field;
};

std::vector<ZoneField> ZoneFields() {
  return {
      {"CreateSession",
       [](Tenant& t, const std::string& zone) -> absl::StatusOr<std::string> {
         v1::CreateSessionRequest request;
         *request.mutable_session() = Online(zone);
         absl::StatusOr<v1::CreateSessionResponse> response =
             t.client.CreateSession(request);
         if (!response.ok()) return response.status();
         return response->session().time_zone();
       },
       "session.time_zone: "},
      {"UpdateSession",
       [](Tenant& t, const std::string& zone) -> absl::StatusOr<std::string> {
         v1::CreateSessionRequest create;
         *create.mutable_session() = Online("Europe/Berlin");
         absl::StatusOr<v1::CreateSessionResponse> created =
             t.client.CreateSession(create);
         if (!created.ok()) return created.status();
         v1::UpdateSessionRequest request;
         request.mutable_session()->set_id(created->session().id());
         request.mutable_session()->set_time_zone(zone);
         request.mutable_update_mask()->add_paths("time_zone");
         absl::StatusOr<v1::UpdateSessionResponse> response =
             t.client.UpdateSession(request);
         if (!response.ok()) return response.status();
         return response->session().time_zone();
       },
       "session.time_zone: "},
      {"CreateSeries",
       [](Tenant& t, const std::string& zone) -> absl::StatusOr<std::string> {
         absl::StatusOr<v1::Series> series =
             CreateSeries(t.client, Online(zone), "FREQ=WEEKLY;COUNT=2");
         if (!series.ok()) return series.status();
         return series->template_().time_zone();
       },
       "series.template.time_zone: "},
      {"CreateVenue",
       [](Tenant& t, const std::string& zone) -> absl::StatusOr<std::string> {
         v1::CreateVenueRequest request;
         request.mutable_venue()->set_name("Consulate");
         request.mutable_venue()->set_time_zone(zone);
         absl::StatusOr<v1::CreateVenueResponse> response =
             t.client.CreateVenue(request);
         if (!response.ok()) return response.status();
         return response->venue().time_zone();
       },
       "venue.time_zone: "},
      {"CreateParticipant",
       [](Tenant& t, const std::string& zone) -> absl::StatusOr<std::string> {
         // A new email each time: same name and email is ALREADY_EXISTS.
         static int calls = 0;
         v1::CreateParticipantRequest request;
         request.mutable_participant()->set_display_name("Aziz Karimov");
         request.mutable_participant()->set_email(
             absl::StrCat("aziz", ++calls, "@example.org"));
         request.mutable_participant()->set_time_zone(zone);
         absl::StatusOr<v1::CreateParticipantResponse> response =
             t.client.CreateParticipant(request);
         if (!response.ok()) return response.status();
         return response->participant().time_zone();
       },
       "participant.time_zone: "},
      {"ProposeFairSlots",
       [](Tenant& t, const std::string& zone) -> absl::StatusOr<std::string> {
         v1::ProposeFairSlotsRequest request;
         v1::SlotParticipant* p = request.add_participants();
         p->set_id("p1");
         p->set_time_zone(zone);
         p->set_earliest_local_hour(9);
         p->set_latest_local_hour(17);
         *request.mutable_window_start() = Utc(2027, 3, 15, 0);
         *request.mutable_window_end() = Utc(2027, 3, 16, 0);
         request.mutable_duration()->set_seconds(3600);
         absl::StatusOr<v1::ProposeFairSlotsResponse> response =
             t.client.ProposeFairSlots(request);
         if (!response.ok()) return response.status();
         return zone;  // Not stored.
       },
       "participants[0].time_zone: "},
  };
}

TEST(TimeZoneTest, NamesThatAreNotZonesAreRefusedEverywhere) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  for (const ZoneField& f : ZoneFields()) {
    for (const char* zone : {"posixrules", "posix/Europe/Berlin", "right/UTC",
                             "localtime", "Factory", "Etc/GMT+5"}) {
      SCOPED_TRACE(absl::StrCat(f.name, " ", zone));
      EXPECT_THAT(f.call(t, zone),
                  StatusIs(absl::StatusCode::kInvalidArgument,
                           HasSubstr(absl::StrCat(
                               f.field, "unknown time zone \"", zone, "\""))));
    }
    SCOPED_TRACE(f.name);
    EXPECT_THAT(f.call(t, "Europe/Berlin"), HoldsZone("Europe/Berlin"));
  }
}

TEST(TimeZoneTest, LinksAreStoredUnderTheirCanonicalName) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  for (const ZoneField& f : ZoneFields()) {
    if (std::string(f.name) == "ProposeFairSlots") continue;  // Not stored.
    SCOPED_TRACE(f.name);
    EXPECT_THAT(f.call(t, "Asia/Calcutta"), HoldsZone("Asia/Kolkata"));
    EXPECT_THAT(f.call(t, "Etc/UTC"), HoldsZone("UTC"));
  }
  // And exported under it.
  v1::CreateSessionRequest create;
  *create.mutable_session() = Online("Asia/Calcutta");
  ASSERT_OK_AND_ASSIGN(v1::CreateSessionResponse created,
                       t.client.CreateSession(create));
  v1::ExportCalendarRequest request;
  request.set_session_id(created.session().id());
  ASSERT_OK_AND_ASSIGN(v1::ExportCalendarResponse ics,
                       t.client.ExportCalendar(request));
  EXPECT_THAT(ics.ics(), HasSubstr("TZID:Asia/Kolkata\r\n"));
  EXPECT_THAT(ics.ics(), Not(HasSubstr("Calcutta")));
}

}  // namespace
}  // namespace townhall::testing
