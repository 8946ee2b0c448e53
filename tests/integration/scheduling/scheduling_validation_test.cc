// SchedulingService integration tests of input validation
// (services/scheduling/session_validation.cc): a bad session, series
// template, rule or request id is INVALID_ARGUMENT naming the field and stores
// nothing; a name that is not an IANA time zone is refused by every RPC that
// takes one, and a link is stored under its canonical name (issue 14 item 6).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "tests/integration/scheduling/scheduling_fixture.h"
#include "tests/testing/status_matchers.h"

namespace townhall::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

TEST(SchedulingTest, InvalidSessionsAreRejectedNamingTheFieldAndStoreNothing) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  const v1::Session valid = OnlineSession("Valid", Utc(2027, 12, 1, 5));
  ASSERT_OK_AND_ASSIGN(v1::Venue venue, CreateVenue(t.client, "Embassy"));
  struct Case {
    std::string name;
    std::function<void(v1::Session*)> mutate;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"empty title", [](v1::Session* s) { s->set_title(""); },
       "session.title"},
      {"whitespace title", [](v1::Session* s) { s->set_title(" \t  "); },
       "session.title"},
      {"unknown time zone",
       [](v1::Session* s) { s->set_time_zone("Mars/Olympus"); },
       "session.time_zone"},
      {"missing time zone", [](v1::Session* s) { s->clear_time_zone(); },
       "session.time_zone"},
      {"end before start",
       [](v1::Session* s) { s->mutable_duration()->set_seconds(-3600); },
       "session.duration"},
      {"zero duration",
       [](v1::Session* s) { s->mutable_duration()->set_seconds(0); },
       "session.duration"},
      {"missing duration", [](v1::Session* s) { s->clear_duration(); },
       "session.duration"},
      {"missing start", [](v1::Session* s) { s->clear_start_time(); },
       "session.start_time"},
      {"title of 201 characters",
       [](v1::Session* s) { s->set_title(std::string(201, 'x')); },
       "session.title"},
      {"title of 201 two-byte characters",
       [](v1::Session* s) {
         std::string title;
         for (int i = 0; i < 201; ++i) title += "\xd1\x8f";  // U+044F
         s->set_title(title);
       },
       "session.title"},
      {"description of 5001 characters",
       [](v1::Session* s) { s->set_description(std::string(5001, 'y')); },
       "session.description"},
      {"control character in title",
       [](v1::Session* s) {
         s->set_title(
             "Open\x01"
             "day");
       },
       "session.title"},
      {"newline in title", [](v1::Session* s) { s->set_title("Open\nday"); },
       "session.title"},
      {"join_url not http",
       [](v1::Session* s) { s->set_join_url("javascript:alert(1)"); },
       "session.join_url"},
      {"join_url with space",
       [](v1::Session* s) { s->set_join_url("https://meet.example.org/a b"); },
       "session.join_url"},
      {"in person without venue",
       [](v1::Session* s) { s->set_format(v1::SESSION_FORMAT_IN_PERSON); },
       "session.venue_ids"},
      {"hybrid without venue",
       [](v1::Session* s) { s->set_format(v1::SESSION_FORMAT_HYBRID); },
       "session.venue_ids"},
      {"unknown venue",
       [](v1::Session* s) {
         s->set_format(v1::SESSION_FORMAT_IN_PERSON);
         s->add_venue_ids("no-such-venue");
       },
       "session.venue_ids"},
      {"one known and one unknown venue",
       [&venue](v1::Session* s) {
         s->set_format(v1::SESSION_FORMAT_HYBRID);
         s->add_venue_ids(venue.id());
         s->add_venue_ids("no-such-venue");
       },
       "session.venue_ids"},
      {"bad venue id", [](v1::Session* s) { s->add_venue_ids("a,b"); },
       "session.venue_ids"},
      {"bad host id", [](v1::Session* s) { s->add_host_ids("x y"); },
       "session.host_ids"},
      {"negative capacity", [](v1::Session* s) { s->set_capacity(-1); },
       "session.capacity"},
      {"bad language", [](v1::Session* s) { s->add_languages("u"); },
       "session.languages"},
      {"start before 2000",
       [](v1::Session* s) { s->mutable_start_time()->set_seconds(0); },
       "session.start_time"},
      {"unknown format",
       [](v1::Session* s) {
         s->set_format(static_cast<v1::SessionFormat>(42));
       },
       "session.format"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    v1::Session s = valid;
    c.mutate(&s);
    EXPECT_THAT(
        CreateSession(t.client, s),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.field)));
    v1::Session tmpl = valid;
    c.mutate(&tmpl);
    EXPECT_THAT(CreateSeries(t.client, tmpl, "FREQ=DAILY;COUNT=2"),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr(absl::StrCat(
                             "series.template.",
                             absl::StripPrefix(c.field, "session.")))));
  }
  // Bad rules.
  for (const char* rrule :
       {"FREQ=SOMETIMES", "", "COUNT=3", "FREQ=HOURLY;COUNT=3",
        "FREQ=DAILY;COUNT=201", "RRULE:FREQ=DAILY;COUNT=2"}) {
    SCOPED_TRACE(rrule);
    EXPECT_THAT(CreateSeries(t.client, valid, rrule),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("series.rrule")));
  }
  // Bad request ids.
  EXPECT_THAT(
      CreateSession(t.client, valid, WithRequestId("has space")),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("request_id")));
  EXPECT_THAT(
      CreateSession(t.client, valid, WithRequestId(std::string(65, 'r'))),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("request_id")));

  v1::ListSessionsRequest list;
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Session> all, ListAll(t.client, list));
  EXPECT_THAT(all, IsEmpty());
  // The valid session itself is accepted (the table tests what it says).
  EXPECT_TRUE(CreateSession(t.client, valid).ok());
  EXPECT_TRUE(CreateSeries(t.client, valid, "FREQ=DAILY;COUNT=2").ok());
}

// Invalid UTF-8 in a proto3 string never reaches the service: the server's
// protobuf parser refuses the message, and gRPC 1.51's callback API then
// answers UNIMPLEMENTED with an empty message (server_callback_handlers.h,
// UnimplementedUnaryReactor), not INVALID_ARGUMENT naming the field. What
// this test holds the server to: the call is refused, nothing is stored and
// the server keeps serving.
TEST(SchedulingTest, InvalidUtf8TitleIsRefusedAndStoresNothing) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  v1::Session s = OnlineSession("Valid", Utc(2027, 12, 2, 5));
  s.set_title("\xff\xfe");
  // Protobuf refuses such a string while parsing; the server still names
  // the field (proto/support/request_decoding.h).
  absl::StatusOr<v1::Session> created = CreateSession(t.client, s);
  EXPECT_THAT(StatusOf(created),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("session.title: is not valid UTF-8")));
  v1::Session tmpl = OnlineSession("Valid", Utc(2027, 12, 2, 5));
  tmpl.set_description("ok \xc3\x28 not ok");
  EXPECT_THAT(
      StatusOf(CreateSeries(t.client, tmpl, "FREQ=DAILY;COUNT=2")),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("series.template.description: is not valid UTF-8")));
  v1::ProposeFairSlotsRequest slots;
  slots.add_participants()->set_id("ok");
  slots.add_participants()->set_time_zone("Asia/\xe0");
  EXPECT_THAT(
      StatusOf(t.client.ProposeFairSlots(slots)),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("participants[1].time_zone: is not valid UTF-8")));
  v1::ListSessionsRequest list;
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Session> all, ListAll(t.client, list));
  EXPECT_THAT(all, IsEmpty());
  EXPECT_TRUE(
      CreateSession(t.client, OnlineSession("Valid", Utc(2027, 12, 2, 5)))
          .ok());
}

// ---- Time zones

// Matches an OK StatusOr<std::string> holding `zone`.
MATCHER_P(HoldsZone, zone, "") {
  if (!arg.ok()) {
    *result_listener << "status is " << arg.status();
    return false;
  }
  *result_listener << "holds " << *arg;
  return *arg == zone;
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
         *request.mutable_window_start() = Ts(Utc(2027, 3, 15, 0));
         *request.mutable_window_end() = Ts(Utc(2027, 3, 16, 0));
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
