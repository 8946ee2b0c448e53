// Integration tests of SchedulingService: the C++ client talks gRPC to an
// in-process townhall server backed by a real Redis. Every test works in a
// tenant of its own, so tests never see each other's data.
#include <gmock/gmock.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <latch>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "services/common/redis/redis_connection.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/shared_server.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_server.h"

namespace townhall::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAreArray;

// ---- Assertion helpers
// -------------------------------------------------------

// ---- Builders
// ----------------------------------------------------------------

absl::Time Utc(int year, int month, int day, int hour = 0, int minute = 0) {
  return absl::FromCivil(absl::CivilSecond(year, month, day, hour, minute, 0),
                         absl::UTCTimeZone());
}

absl::Time Local(const char* zone_name, int year, int month, int day, int hour,
                 int minute = 0) {
  absl::TimeZone zone;
  EXPECT_TRUE(absl::LoadTimeZone(zone_name, &zone)) << zone_name;
  return absl::FromCivil(absl::CivilSecond(year, month, day, hour, minute, 0),
                         zone);
}

google::protobuf::Timestamp Ts(absl::Time t) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(absl::ToUnixSeconds(t));
  return ts;
}

absl::Time FromTs(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

google::protobuf::Duration Dur(absl::Duration d) {
  google::protobuf::Duration out;
  out.set_seconds(absl::ToInt64Seconds(d));
  return out;
}

std::string Iso(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

int64_t EtagNumber(const std::string& etag) {
  int64_t n = -1;
  EXPECT_TRUE(absl::SimpleAtoi(etag, &n)) << "etag \"" << etag << "\"";
  return n;
}

// A valid online session.
v1::Session OnlineSession(std::string title, absl::Time start,
                          absl::Duration duration = absl::Hours(1),
                          std::string time_zone = "Asia/Tashkent") {
  v1::Session s;
  s.set_title(std::move(title));
  *s.mutable_start_time() = Ts(start);
  *s.mutable_duration() = Dur(duration);
  s.set_time_zone(std::move(time_zone));
  s.set_format(v1::SESSION_FORMAT_ONLINE);
  s.set_join_url("https://meet.example.org/townhall");
  return s;
}

// A valid in-person session at `venue_id`.
v1::Session InPersonSession(std::string title, absl::Time start,
                            absl::Duration duration,
                            const std::string& venue_id) {
  v1::Session s =
      OnlineSession(std::move(title), start, duration, "Europe/Berlin");
  s.set_format(v1::SESSION_FORMAT_IN_PERSON);
  s.clear_join_url();
  s.add_venue_ids(venue_id);
  return s;
}

struct CreateOptions {
  bool publish = false;
  bool allow_conflicts = false;
  std::string request_id;
};

CreateOptions Publish() {
  CreateOptions o;
  o.publish = true;
  return o;
}

CreateOptions AllowConflicts() {
  CreateOptions o;
  o.allow_conflicts = true;
  return o;
}

CreateOptions WithRequestId(std::string id) {
  CreateOptions o;
  o.request_id = std::move(id);
  return o;
}

absl::StatusOr<v1::Session> CreateSession(TownhallClient& client,
                                          const v1::Session& session,
                                          const CreateOptions& options = {}) {
  v1::CreateSessionRequest request;
  *request.mutable_session() = session;
  request.set_publish(options.publish);
  request.set_allow_conflicts(options.allow_conflicts);
  request.set_request_id(options.request_id);
  absl::StatusOr<v1::CreateSessionResponse> response =
      client.CreateSession(request);
  if (!response.ok()) return response.status();
  return response->session();
}

absl::StatusOr<v1::Session> GetSession(TownhallClient& client,
                                       const std::string& id) {
  v1::GetSessionRequest request;
  request.set_session_id(id);
  absl::StatusOr<v1::GetSessionResponse> response = client.GetSession(request);
  if (!response.ok()) return response.status();
  return response->session();
}

absl::StatusOr<v1::Venue> CreateVenue(TownhallClient& client, std::string name,
                                      std::string request_id = "") {
  v1::CreateVenueRequest request;
  request.mutable_venue()->set_name(std::move(name));
  request.mutable_venue()->set_address("Platz der Republik 1, Berlin");
  request.mutable_venue()->set_time_zone("Europe/Berlin");
  request.mutable_venue()->set_capacity(120);
  request.set_request_id(std::move(request_id));
  absl::StatusOr<v1::CreateVenueResponse> response =
      client.CreateVenue(request);
  if (!response.ok()) return response.status();
  return response->venue();
}

absl::StatusOr<v1::Series> CreateSeries(TownhallClient& client,
                                        const v1::Session& tmpl,
                                        std::string rrule,
                                        const CreateOptions& options = {}) {
  v1::CreateSeriesRequest request;
  *request.mutable_series()->mutable_template_() = tmpl;
  request.mutable_series()->set_rrule(std::move(rrule));
  request.set_publish(options.publish);
  request.set_allow_conflicts(options.allow_conflicts);
  request.set_request_id(options.request_id);
  absl::StatusOr<v1::CreateSeriesResponse> response =
      client.CreateSeries(request);
  if (!response.ok()) return response.status();
  return response->series();
}

absl::StatusOr<v1::Series> GetSeries(TownhallClient& client,
                                     const std::string& id) {
  v1::GetSeriesRequest request;
  request.set_series_id(id);
  absl::StatusOr<v1::GetSeriesResponse> response = client.GetSeries(request);
  if (!response.ok()) return response.status();
  return response->series();
}

absl::StatusOr<std::vector<v1::Session>> Occurrences(
    TownhallClient& client, const std::string& series_id) {
  std::vector<v1::Session> out;
  v1::ListSeriesOccurrencesRequest request;
  request.set_series_id(series_id);
  request.set_page_size(3);
  for (int page = 0; page < 100; ++page) {
    absl::StatusOr<v1::ListSeriesOccurrencesResponse> response =
        client.ListSeriesOccurrences(request);
    if (!response.ok()) return response.status();
    for (const v1::Session& s : response->sessions()) out.push_back(s);
    if (response->next_page_token().empty()) return out;
    request.set_page_token(response->next_page_token());
  }
  return absl::InternalError("ListSeriesOccurrences does not end");
}

// Every session ListSessions returns for `request` (following page tokens).
absl::StatusOr<std::vector<v1::Session>> ListAll(
    TownhallClient& client, v1::ListSessionsRequest request) {
  std::vector<v1::Session> out;
  for (int page = 0; page < 1000; ++page) {
    absl::StatusOr<v1::ListSessionsResponse> response =
        client.ListSessions(request);
    if (!response.ok()) return response.status();
    if (request.page_size() > 0 &&
        response->sessions_size() > request.page_size()) {
      return absl::InternalError(absl::StrCat(
          "page of ", response->sessions_size(), " sessions > page_size"));
    }
    for (const v1::Session& s : response->sessions()) out.push_back(s);
    if (response->next_page_token().empty()) return out;
    request.set_page_token(response->next_page_token());
  }
  return absl::InternalError("ListSessions does not end");
}

std::vector<std::string> Ids(const std::vector<v1::Session>& sessions) {
  std::vector<std::string> ids;
  for (const v1::Session& s : sessions) ids.push_back(s.id());
  return ids;
}

std::vector<absl::Time> Times(
    const google::protobuf::RepeatedPtrField<google::protobuf::Timestamp>& ts) {
  std::vector<absl::Time> out;
  for (const auto& t : ts) out.push_back(FromTs(t));
  return out;
}

// ---- Transitions
// -------------------------------------------------------------

enum class Rpc { kPublish, kStart, kEnd, kCancel };

const char* RpcName(Rpc rpc) {
  switch (rpc) {
    case Rpc::kPublish:
      return "PublishSession";
    case Rpc::kStart:
      return "StartSession";
    case Rpc::kEnd:
      return "EndSession";
    case Rpc::kCancel:
      return "CancelSession";
  }
  return "?";
}

absl::StatusOr<v1::Session> Transition(TownhallClient& client, Rpc rpc,
                                       const std::string& id) {
  auto unwrap = [](auto response) -> absl::StatusOr<v1::Session> {
    if (!response.ok()) return response.status();
    return response->session();
  };
  switch (rpc) {
    case Rpc::kPublish: {
      v1::PublishSessionRequest r;
      r.set_session_id(id);
      return unwrap(client.PublishSession(r));
    }
    case Rpc::kStart: {
      v1::StartSessionRequest r;
      r.set_session_id(id);
      return unwrap(client.StartSession(r));
    }
    case Rpc::kEnd: {
      v1::EndSessionRequest r;
      r.set_session_id(id);
      return unwrap(client.EndSession(r));
    }
    case Rpc::kCancel: {
      v1::CancelSessionRequest r;
      r.set_session_id(id);
      r.set_reason("test");
      return unwrap(client.CancelSession(r));
    }
  }
  return absl::InternalError("unknown rpc");
}

// The path from DRAFT to each state.
std::vector<Rpc> PathTo(v1::SessionState state) {
  switch (state) {
    case v1::SESSION_STATE_DRAFT:
      return {};
    case v1::SESSION_STATE_SCHEDULED:
      return {Rpc::kPublish};
    case v1::SESSION_STATE_LIVE:
      return {Rpc::kPublish, Rpc::kStart};
    case v1::SESSION_STATE_ENDED:
      return {Rpc::kPublish, Rpc::kStart, Rpc::kEnd};
    case v1::SESSION_STATE_CANCELLED:
      return {Rpc::kCancel};
    default:
      return {};
  }
}

// Creates a session and drives it to `state`.
absl::StatusOr<v1::Session> SessionIn(TownhallClient& client,
                                      v1::SessionState state,
                                      absl::Time start) {
  absl::StatusOr<v1::Session> session =
      CreateSession(client, OnlineSession("Consular hour", start));
  if (!session.ok()) return session;
  for (Rpc rpc : PathTo(state)) {
    session = Transition(client, rpc, session->id());
    if (!session.ok()) return session;
  }
  if (session->state() != state) {
    return absl::InternalError(
        absl::StrCat("reached ", v1::SessionState_Name(session->state())));
  }
  return session;
}

TEST(SchedulingTest, LegalTransitionsChangeStateAndGrowEtag) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  struct Case {
    v1::SessionState from;
    Rpc rpc;
    v1::SessionState to;
  } cases[] = {
      {v1::SESSION_STATE_DRAFT, Rpc::kPublish, v1::SESSION_STATE_SCHEDULED},
      {v1::SESSION_STATE_SCHEDULED, Rpc::kStart, v1::SESSION_STATE_LIVE},
      {v1::SESSION_STATE_LIVE, Rpc::kEnd, v1::SESSION_STATE_ENDED},
      {v1::SESSION_STATE_DRAFT, Rpc::kCancel, v1::SESSION_STATE_CANCELLED},
      {v1::SESSION_STATE_SCHEDULED, Rpc::kCancel, v1::SESSION_STATE_CANCELLED},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrCat(v1::SessionState_Name(c.from), " --",
                              RpcName(c.rpc), "-->"));
    ASSERT_OK_AND_ASSIGN(v1::Session before,
                         SessionIn(t.client, c.from, Utc(2027, 5, 3, 9)));
    ASSERT_OK_AND_ASSIGN(v1::Session after,
                         Transition(t.client, c.rpc, before.id()));
    EXPECT_EQ(after.id(), before.id());
    EXPECT_EQ(after.state(), c.to);
    EXPECT_GT(EtagNumber(after.etag()), EtagNumber(before.etag()));
    EXPECT_GT(after.sequence(), before.sequence());
    // What the server stored, not only what it answered.
    ASSERT_OK_AND_ASSIGN(v1::Session stored, GetSession(t.client, before.id()));
    EXPECT_EQ(stored.state(), c.to);
    EXPECT_EQ(stored.etag(), after.etag());
    EXPECT_EQ(stored.title(), before.title());
    EXPECT_EQ(FromTs(stored.start_time()), FromTs(before.start_time()));
  }
}

// CreateSession answers without reading the session back; what it answers
// must be exactly what is stored.
TEST(SchedulingTest, CreateResponseEqualsTheStoredSession) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  v1::Session s = OnlineSession("Dialogue", Utc(2027, 5, 8, 5));
  s.mutable_start_time()->set_nanos(123456789);  // truncated to the second
  s.add_languages("uz");
  s.add_host_ids("mfa-diaspora");
  ASSERT_OK_AND_ASSIGN(v1::Session created,
                       CreateSession(t.client, s, Publish()));
  ASSERT_OK_AND_ASSIGN(v1::Session stored, GetSession(t.client, created.id()));
  EXPECT_TRUE(
      google::protobuf::util::MessageDifferencer::Equals(created, stored))
      << "created: " << created.DebugString()
      << "\nstored: " << stored.DebugString();
  EXPECT_EQ(created.start_time().nanos(), 0);
}

TEST(SchedulingTest, CreateWithPublishStartsScheduled) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(
      v1::Session s,
      CreateSession(t.client, OnlineSession("Open day", Utc(2027, 5, 4, 9)),
                    Publish()));
  EXPECT_EQ(s.state(), v1::SESSION_STATE_SCHEDULED);
  EXPECT_EQ(s.etag(), "1");
  EXPECT_EQ(s.sequence(), 0);
}

TEST(SchedulingTest, EveryIllegalTransitionIsRefusedAndChangesNothing) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  const v1::SessionState states[] = {
      v1::SESSION_STATE_DRAFT, v1::SESSION_STATE_SCHEDULED,
      v1::SESSION_STATE_LIVE, v1::SESSION_STATE_ENDED,
      v1::SESSION_STATE_CANCELLED};
  const Rpc rpcs[] = {Rpc::kPublish, Rpc::kStart, Rpc::kEnd, Rpc::kCancel};
  // The legal (from, rpc) pairs; everything else must be refused.
  const std::set<std::pair<v1::SessionState, Rpc>> legal = {
      {v1::SESSION_STATE_DRAFT, Rpc::kPublish},
      {v1::SESSION_STATE_SCHEDULED, Rpc::kStart},
      {v1::SESSION_STATE_LIVE, Rpc::kEnd},
      {v1::SESSION_STATE_DRAFT, Rpc::kCancel},
      {v1::SESSION_STATE_SCHEDULED, Rpc::kCancel},
  };
  int illegal = 0;
  for (v1::SessionState from : states) {
    for (Rpc rpc : rpcs) {
      const std::string state_name = std::string(
          absl::StripPrefix(v1::SessionState_Name(from), "SESSION_STATE_"));
      SCOPED_TRACE(absl::StrCat(state_name, " + ", RpcName(rpc)));
      ASSERT_OK_AND_ASSIGN(v1::Session before,
                           SessionIn(t.client, from, Utc(2027, 5, 5, 9)));
      absl::StatusOr<v1::Session> result =
          Transition(t.client, rpc, before.id());
      if (legal.contains({from, rpc})) {
        EXPECT_TRUE(result.ok()) << result.status();
        continue;
      }
      ++illegal;
      EXPECT_THAT(result, StatusIs(absl::StatusCode::kFailedPrecondition,
                                   HasSubstr(absl::StrCat("is ", state_name))));
      EXPECT_THAT(result, StatusIs(absl::StatusCode::kFailedPrecondition,
                                   HasSubstr(before.id())));
      ASSERT_OK_AND_ASSIGN(v1::Session after,
                           GetSession(t.client, before.id()));
      EXPECT_EQ(after.state(), from);
      EXPECT_EQ(after.etag(), before.etag());
      EXPECT_EQ(after.sequence(), before.sequence());
    }
  }
  EXPECT_EQ(illegal, 15);
}

TEST(SchedulingTest, TransitionOfUnknownSessionIsNotFound) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  for (Rpc rpc : {Rpc::kPublish, Rpc::kStart, Rpc::kEnd, Rpc::kCancel}) {
    SCOPED_TRACE(RpcName(rpc));
    EXPECT_THAT(Transition(t.client, rpc, "no-such-session"),
                HasCode(absl::StatusCode::kNotFound));
  }
}

// ---- Recurrence
// ----------------------------------------------------------------

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
// ---------------------------------------------------

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

// ---- Conflicts
// -------------------------------------------------------------------

TEST(SchedulingTest, VenueDoubleBookingIsRefused) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Venue venue,
                       CreateVenue(t.client, "Embassy of Uzbekistan"));
  const absl::Time ten = Utc(2027, 4, 10, 10);
  ASSERT_OK_AND_ASSIGN(
      v1::Session a,
      CreateSession(t.client, InPersonSession("Open day", ten, absl::Hours(2),
                                              venue.id())));

  // 11:00-13:00 overlaps 10:00-12:00.
  v1::Session overlapping = InPersonSession("Film night", ten + absl::Hours(1),
                                            absl::Hours(2), venue.id());
  absl::StatusOr<v1::Session> refused = CreateSession(t.client, overlapping);
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kFailedPrecondition,
                                HasSubstr(a.id())));
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kFailedPrecondition,
                                HasSubstr(absl::StrCat("venue:", venue.id()))));
  // A session entirely inside the other one.
  EXPECT_THAT(
      CreateSession(t.client, InPersonSession("Inside", ten + absl::Minutes(30),
                                              absl::Minutes(30), venue.id())),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(a.id())));
  // One that encloses it.
  EXPECT_THAT(
      CreateSession(t.client, InPersonSession("Around", ten - absl::Hours(1),
                                              absl::Hours(4), venue.id())),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(a.id())));

  // Back to back, after and before: no overlap.
  ASSERT_OK_AND_ASSIGN(
      v1::Session after_a,
      CreateSession(t.client, InPersonSession("After", ten + absl::Hours(2),
                                              absl::Hours(1), venue.id())));
  ASSERT_OK_AND_ASSIGN(
      v1::Session before_a,
      CreateSession(t.client, InPersonSession("Before", ten - absl::Hours(1),
                                              absl::Hours(1), venue.id())));

  // allow_conflicts books anyway.
  ASSERT_OK_AND_ASSIGN(v1::Session forced,
                       CreateSession(t.client, overlapping, AllowConflicts()));
  EXPECT_NE(forced.id(), a.id());

  // A cancelled session frees its slot.
  const absl::Time evening = Utc(2027, 4, 10, 18);
  ASSERT_OK_AND_ASSIGN(
      v1::Session e,
      CreateSession(t.client, InPersonSession("Concert", evening,
                                              absl::Hours(2), venue.id())));
  EXPECT_THAT(
      CreateSession(t.client, InPersonSession("Rehearsal", evening,
                                              absl::Hours(1), venue.id())),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(e.id())));
  ASSERT_OK_AND_ASSIGN(v1::Session e_cancelled,
                       Transition(t.client, Rpc::kCancel, e.id()));
  ASSERT_OK_AND_ASSIGN(
      v1::Session rehearsal,
      CreateSession(t.client, InPersonSession("Rehearsal", evening,
                                              absl::Hours(1), venue.id())));

  // Another venue at the same time is fine.
  ASSERT_OK_AND_ASSIGN(v1::Venue consulate, CreateVenue(t.client, "Consulate"));
  ASSERT_OK_AND_ASSIGN(
      v1::Session elsewhere,
      CreateSession(t.client, InPersonSession("Elsewhere", ten, absl::Hours(2),
                                              consulate.id())));

  v1::ListSessionsRequest list;
  list.set_venue_id(venue.id());
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Session> at_venue,
                       ListAll(t.client, list));
  EXPECT_THAT(Ids(at_venue), UnorderedElementsAreArray(std::vector<std::string>{
                                 a.id(), after_a.id(), before_a.id(),
                                 forced.id(), e.id(), rehearsal.id()}));
}

TEST(SchedulingTest, UpdateIntoAVenueConflictIsRefused) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Venue venue, CreateVenue(t.client, "Embassy"));
  const absl::Time ten = Utc(2027, 4, 11, 10);
  ASSERT_OK_AND_ASSIGN(
      v1::Session a,
      CreateSession(t.client,
                    InPersonSession("A", ten, absl::Hours(1), venue.id())));
  ASSERT_OK_AND_ASSIGN(
      v1::Session b,
      CreateSession(t.client, InPersonSession("B", ten + absl::Hours(1),
                                              absl::Hours(1), venue.id())));
  v1::UpdateSessionRequest update;
  update.mutable_session()->set_id(b.id());
  *update.mutable_session()->mutable_start_time() = Ts(ten + absl::Minutes(30));
  update.mutable_update_mask()->add_paths("start_time");
  update.set_etag(b.etag());
  EXPECT_THAT(
      t.client.UpdateSession(update),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(a.id())));
  ASSERT_OK_AND_ASSIGN(v1::Session unchanged, GetSession(t.client, b.id()));
  EXPECT_EQ(FromTs(unchanged.start_time()), ten + absl::Hours(1));
  EXPECT_EQ(unchanged.etag(), b.etag());
  // Updating a session onto its own slot is not a conflict with itself.
  *update.mutable_session()->mutable_start_time() =
      Ts(ten + absl::Hours(1) + absl::Minutes(15));
  EXPECT_TRUE(t.client.UpdateSession(update).ok());
}

TEST(SchedulingTest, HostDoubleBookingIsRefused) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  const absl::Time ten = Utc(2027, 6, 1, 10);
  v1::Session first = OnlineSession("Q&A with the consul", ten);
  first.add_host_ids("consul@example.org");
  ASSERT_OK_AND_ASSIGN(v1::Session a, CreateSession(t.client, first));

  v1::Session second = OnlineSession("Webinar", ten + absl::Minutes(30));
  second.add_host_ids("deputy@example.org");
  second.add_host_ids("consul@example.org");
  EXPECT_THAT(
      CreateSession(t.client, second),
      StatusIs(
          absl::StatusCode::kFailedPrecondition,
          HasSubstr("host:consul@example.org is booked by session " + a.id())));
  // Without the busy host it is fine.
  second.clear_host_ids();
  second.add_host_ids("deputy@example.org");
  EXPECT_TRUE(CreateSession(t.client, second).ok());
  v1::ListSessionsRequest list;
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Session> all, ListAll(t.client, list));
  EXPECT_THAT(all, SizeIs(2));
}

TEST(SchedulingTest, SeriesWithOneConflictingOccurrenceCreatesNothing) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Venue venue, CreateVenue(t.client, "Embassy"));
  // Occupies the third Thursday of the series below.
  const absl::Time first = Local("Europe/Berlin", 2027, 7, 1, 10);
  ASSERT_OK_AND_ASSIGN(
      v1::Session blocker,
      CreateSession(t.client, InPersonSession("Reception",
                                              first + absl::Hours(24 * 14 + 1),
                                              absl::Hours(1), venue.id())));
  v1::ListSessionsRequest list;
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Session> before,
                       ListAll(t.client, list));
  ASSERT_THAT(before, SizeIs(1));

  v1::Session tmpl =
      InPersonSession("Language course", first, absl::Hours(2), venue.id());
  tmpl.add_host_ids("teacher@example.org");
  absl::StatusOr<v1::Series> refused =
      CreateSeries(t.client, tmpl, "FREQ=WEEKLY;COUNT=5");
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kFailedPrecondition,
                                HasSubstr(blocker.id())));
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Session> after, ListAll(t.client, list));
  EXPECT_THAT(Ids(after), ElementsAre(blocker.id()));
  // The host was not booked either: a session with only that host at the
  // first occurrence's time is free.
  v1::Session host_only = OnlineSession("Teacher's call", first);
  host_only.add_host_ids("teacher@example.org");
  EXPECT_TRUE(CreateSession(t.client, host_only).ok());
  // With allow_conflicts the whole series is created.
  ASSERT_OK_AND_ASSIGN(
      v1::Series forced,
      CreateSeries(t.client, tmpl, "FREQ=WEEKLY;COUNT=5", AllowConflicts()));
  EXPECT_THAT(forced.session_ids(), SizeIs(5));
  ASSERT_OK_AND_ASSIGN(after, ListAll(t.client, list));
  EXPECT_THAT(after, SizeIs(7));
}

TEST(SchedulingTest, SeriesWhoseOccurrencesOverlapEachOtherIsRefused) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Venue venue, CreateVenue(t.client, "Embassy"));
  // Daily, 30 hours long: each occurrence overlaps the next at the venue.
  const v1::Session tmpl = InPersonSession("Marathon", Utc(2027, 9, 6, 8),
                                           absl::Hours(30), venue.id());
  EXPECT_THAT(
      CreateSeries(t.client, tmpl, "FREQ=DAILY;COUNT=3"),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("overlap")));
  v1::ListSessionsRequest list;
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Session> all, ListAll(t.client, list));
  EXPECT_THAT(all, IsEmpty());
  // The same for a shared host.
  v1::Session hosted =
      OnlineSession("Telethon", Utc(2027, 9, 6, 8), absl::Hours(25));
  hosted.add_host_ids("anchor@example.org");
  EXPECT_THAT(CreateSeries(t.client, hosted, "FREQ=DAILY;COUNT=2"),
              HasCode(absl::StatusCode::kFailedPrecondition));
  // Exactly back to back is fine, and allow_conflicts books anyway.
  v1::Session back_to_back = tmpl;
  *back_to_back.mutable_duration() = Dur(absl::Hours(24));
  EXPECT_TRUE(CreateSeries(t.client, back_to_back, "FREQ=DAILY;COUNT=2").ok());
  EXPECT_TRUE(
      CreateSeries(t.client, hosted, "FREQ=DAILY;COUNT=2", AllowConflicts())
          .ok());
}

// ---- Fair slots
// ------------------------------------------------------------------

v1::ProposeFairSlotsRequest FourRegions(int earliest, int latest) {
  v1::ProposeFairSlotsRequest r;
  const std::pair<const char*, const char*> regions[] = {
      {"berlin", "Europe/Berlin"},
      {"moscow", "Europe/Moscow"},
      {"tashkent", "Asia/Tashkent"},
      {"vladivostok", "Asia/Vladivostok"}};
  for (const auto& [id, zone] : regions) {
    v1::SlotParticipant* p = r.add_participants();
    p->set_id(id);
    p->set_time_zone(zone);
    p->set_earliest_local_hour(earliest);
    p->set_latest_local_hour(latest);
  }
  *r.mutable_window_start() = Ts(Utc(2027, 1, 15));
  *r.mutable_window_end() = Ts(Utc(2027, 1, 16));
  *r.mutable_duration() = Dur(absl::Hours(1));
  *r.mutable_step() = Dur(absl::Minutes(30));
  return r;
}

std::vector<absl::Time> SlotStarts(const v1::ProposeFairSlotsResponse& r) {
  std::vector<absl::Time> out;
  for (const v1::ProposedSlot& s : r.slots())
    out.push_back(FromTs(s.start_time()));
  return out;
}

TEST(SchedulingTest, FairSlotsEightToEightCoverAllFourRegions) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  v1::ProposeFairSlotsRequest request = FourRegions(8, 20);
  request.set_max_slots(6);
  ASSERT_OK_AND_ASSIGN(v1::ProposeFairSlotsResponse response,
                       t.client.ProposeFairSlots(request));
  EXPECT_THAT(SlotStarts(response),
              ElementsAre(Utc(2027, 1, 15, 7), Utc(2027, 1, 15, 7, 30),
                          Utc(2027, 1, 15, 8), Utc(2027, 1, 15, 8, 30),
                          Utc(2027, 1, 15, 9), Utc(2027, 1, 15, 5)));
  ASSERT_EQ(response.slots_size(), 6);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(response.slots(i).covered_weight(), 4) << i;
    EXPECT_EQ(response.slots(i).total_weight(), 4) << i;
    EXPECT_THAT(response.slots(i).inconvenienced_ids(), IsEmpty()) << i;
  }
  EXPECT_EQ(response.slots(5).covered_weight(), 3);
  EXPECT_THAT(response.slots(5).inconvenienced_ids(), ElementsAre("berlin"));
}

TEST(SchedulingTest, FairSlotsNineToSixNeverCoverAllFourRegions) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  v1::ProposeFairSlotsRequest request = FourRegions(9, 18);
  request.set_max_slots(100);
  ASSERT_OK_AND_ASSIGN(v1::ProposeFairSlotsResponse response,
                       t.client.ProposeFairSlots(request));
  ASSERT_EQ(response.slots_size(), 48);
  for (const v1::ProposedSlot& s : response.slots()) {
    EXPECT_LT(s.covered_weight(), s.total_weight())
        << Iso(FromTs(s.start_time()));
  }
  EXPECT_EQ(response.slots(0).covered_weight(), 3);
  EXPECT_EQ(FromTs(response.slots(0).start_time()), Utc(2027, 1, 15, 6));
  EXPECT_THAT(response.slots(0).inconvenienced_ids(), ElementsAre("berlin"));
}

TEST(SchedulingTest, FairSlotsSeriesRotatesTheBadHour) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  v1::ProposeFairSlotsRequest request = FourRegions(9, 18);
  request.set_occurrences(4);
  *request.mutable_occurrence_interval() = Dur(absl::Hours(24 * 7));
  ASSERT_OK_AND_ASSIGN(v1::ProposeFairSlotsResponse response,
                       t.client.ProposeFairSlots(request));
  EXPECT_THAT(SlotStarts(response),
              ElementsAre(Utc(2027, 1, 15, 6), Utc(2027, 1, 22, 8),
                          Utc(2027, 1, 29, 6), Utc(2027, 2, 5, 8)));
  std::map<std::string, int> counts(response.inconvenience_counts().begin(),
                                    response.inconvenience_counts().end());
  EXPECT_EQ(
      counts,
      (std::map<std::string, int>{
          {"berlin", 2}, {"moscow", 0}, {"tashkent", 0}, {"vladivostok", 2}}));
  // Nobody takes the bad hour twice in a row.
  for (int i = 1; i < response.slots_size(); ++i) {
    EXPECT_NE(
        std::vector<std::string>(response.slots(i).inconvenienced_ids().begin(),
                                 response.slots(i).inconvenienced_ids().end()),
        std::vector<std::string>(
            response.slots(i - 1).inconvenienced_ids().begin(),
            response.slots(i - 1).inconvenienced_ids().end()))
        << i;
  }
}

TEST(SchedulingTest, FairSlotsBadInputIsInvalidArgument) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  v1::ProposeFairSlotsRequest request = FourRegions(9, 18);
  request.mutable_participants(2)->set_time_zone("Mars/Olympus");
  EXPECT_THAT(t.client.ProposeFairSlots(request),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("participants[2].time_zone")));
  request = FourRegions(9, 18);
  request.clear_window_end();
  EXPECT_THAT(
      t.client.ProposeFairSlots(request),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("window_end")));
}

// ---- UpdateSession
// ---------------------------------------------------------------

TEST(SchedulingTest, UpdateSessionChangesOnlyMaskedFields) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  v1::Session original = OnlineSession("Consular hour", Utc(2027, 8, 2, 5));
  original.set_description("Passports and visas.");
  original.set_capacity(50);
  original.add_languages("uz");
  ASSERT_OK_AND_ASSIGN(v1::Session created, CreateSession(t.client, original));

  v1::UpdateSessionRequest update;
  v1::Session* changes = update.mutable_session();
  changes->set_id(created.id());
  changes->set_title("Consular hour (extended)");
  changes->set_description("SHOULD NOT BE STORED");
  changes->set_capacity(999);
  *changes->mutable_duration() = Dur(absl::Hours(2));
  changes->set_state(v1::SESSION_STATE_ENDED);  // server-owned: ignored
  update.mutable_update_mask()->add_paths("title");
  update.mutable_update_mask()->add_paths("duration");
  update.set_etag(created.etag());
  ASSERT_OK_AND_ASSIGN(v1::UpdateSessionResponse updated,
                       t.client.UpdateSession(update));
  EXPECT_GT(EtagNumber(updated.session().etag()), EtagNumber(created.etag()));
  EXPECT_GT(updated.session().sequence(), created.sequence());

  ASSERT_OK_AND_ASSIGN(v1::Session stored, GetSession(t.client, created.id()));
  EXPECT_EQ(stored.title(), "Consular hour (extended)");
  EXPECT_EQ(stored.duration().seconds(), 7200);
  EXPECT_EQ(stored.description(), "Passports and visas.");
  EXPECT_EQ(stored.capacity(), 50);
  EXPECT_THAT(stored.languages(), ElementsAre("uz"));
  EXPECT_EQ(stored.time_zone(), "Asia/Tashkent");
  EXPECT_EQ(FromTs(stored.start_time()), Utc(2027, 8, 2, 5));
  EXPECT_EQ(stored.join_url(), original.join_url());
  EXPECT_EQ(stored.state(), v1::SESSION_STATE_DRAFT);
  EXPECT_EQ(stored.etag(), updated.session().etag());
  // UpdateSession answers without a read-back: the answer is what is stored.
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
      updated.session(), stored))
      << "updated: " << updated.session().DebugString()
      << "\nstored: " << stored.DebugString();

  // The old etag is stale now.
  update.mutable_update_mask()->Clear();
  update.mutable_update_mask()->add_paths("description");
  EXPECT_THAT(t.client.UpdateSession(update),
              HasCode(absl::StatusCode::kAborted));
  ASSERT_OK_AND_ASSIGN(v1::Session unchanged,
                       GetSession(t.client, created.id()));
  EXPECT_EQ(unchanged.description(), "Passports and visas.");
  EXPECT_EQ(unchanged.etag(), stored.etag());

  // Unknown and server-owned paths.
  update.set_etag(stored.etag());
  for (const char* path : {"titel", "state", "id", "etag", "series_id", ""}) {
    SCOPED_TRACE(path);
    update.mutable_update_mask()->Clear();
    update.mutable_update_mask()->add_paths(path);
    EXPECT_THAT(
        t.client.UpdateSession(update),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("update_mask")));
  }
  update.mutable_update_mask()->Clear();
  EXPECT_THAT(
      t.client.UpdateSession(update),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("update_mask")));
  // Masked values are validated.
  update.mutable_update_mask()->add_paths("title");
  changes->set_title("   ");
  EXPECT_THAT(
      t.client.UpdateSession(update),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("session.title")));
  ASSERT_OK_AND_ASSIGN(unchanged, GetSession(t.client, created.id()));
  EXPECT_EQ(unchanged.title(), "Consular hour (extended)");
  EXPECT_EQ(unchanged.etag(), stored.etag());
  // Unknown session.
  changes->set_id("no-such-session");
  changes->set_title("x");
  EXPECT_THAT(t.client.UpdateSession(update),
              HasCode(absl::StatusCode::kNotFound));
}

TEST(SchedulingTest, UpdateOfEndedOrCancelledSessionIsRefused) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  for (v1::SessionState state :
       {v1::SESSION_STATE_ENDED, v1::SESSION_STATE_CANCELLED}) {
    SCOPED_TRACE(v1::SessionState_Name(state));
    ASSERT_OK_AND_ASSIGN(v1::Session s,
                         SessionIn(t.client, state, Utc(2027, 8, 3, 5)));
    v1::UpdateSessionRequest update;
    update.mutable_session()->set_id(s.id());
    update.mutable_session()->set_title("New title");
    update.mutable_update_mask()->add_paths("title");
    update.set_etag(s.etag());
    EXPECT_THAT(t.client.UpdateSession(update),
                HasCode(absl::StatusCode::kFailedPrecondition));
    ASSERT_OK_AND_ASSIGN(v1::Session after, GetSession(t.client, s.id()));
    EXPECT_EQ(after.title(), s.title());
  }
}

TEST(SchedulingTest, ConcurrentUpdatesWithTheSameEtagLetExactlyOneWin) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(
      v1::Session created,
      CreateSession(t.client, OnlineSession("Race", Utc(2027, 8, 4, 5))));
  constexpr int kThreads = 10;
  std::vector<absl::Status> results(kThreads);
  std::latch go(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      TownhallClient client = ServerEnvironment::server().Client(t.token);
      v1::UpdateSessionRequest update;
      update.mutable_session()->set_id(created.id());
      update.mutable_session()->set_title(absl::StrCat("Writer ", i));
      update.mutable_update_mask()->add_paths("title");
      update.set_etag(created.etag());
      go.arrive_and_wait();
      results[i] = client.UpdateSession(update).status();
    });
  }
  for (std::thread& th : threads) th.join();
  int winner = -1;
  int ok = 0;
  for (int i = 0; i < kThreads; ++i) {
    if (results[i].ok()) {
      ++ok;
      winner = i;
    } else {
      EXPECT_THAT(results[i], HasCode(absl::StatusCode::kAborted)) << i;
    }
  }
  ASSERT_EQ(ok, 1);
  ASSERT_OK_AND_ASSIGN(v1::Session stored, GetSession(t.client, created.id()));
  EXPECT_EQ(stored.title(), absl::StrCat("Writer ", winner));
  EXPECT_EQ(EtagNumber(stored.etag()), EtagNumber(created.etag()) + 1);
}

// ---- Idempotency
// -------------------------------------------------------------------

TEST(SchedulingTest, CreateSessionWithTheSameRequestIdCreatesOnce) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  v1::Session s = OnlineSession("Retry me", Utc(2027, 9, 1, 5));
  ASSERT_OK_AND_ASSIGN(v1::Session first,
                       CreateSession(t.client, s, WithRequestId("req-1")));
  ASSERT_OK_AND_ASSIGN(v1::Session second,
                       CreateSession(t.client, s, WithRequestId("req-1")));
  EXPECT_EQ(second.id(), first.id());
  EXPECT_EQ(second.etag(), first.etag());
  // Another request id creates another session.
  ASSERT_OK_AND_ASSIGN(v1::Session third,
                       CreateSession(t.client, s, WithRequestId("req-2")));
  EXPECT_NE(third.id(), first.id());
  v1::ListSessionsRequest list;
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Session> all, ListAll(t.client, list));
  EXPECT_THAT(Ids(all), UnorderedElementsAreArray(
                            std::vector<std::string>{first.id(), third.id()}));
}

TEST(SchedulingTest, RequestIdsAreScopedToTheirMethodAndTenant) {
  ASSERT_OK_AND_ASSIGN(Tenant a, NewTenant());
  ASSERT_OK_AND_ASSIGN(Tenant b, NewTenant());
  v1::Session s = OnlineSession("Same id", Utc(2027, 9, 2, 5));
  ASSERT_OK_AND_ASSIGN(v1::Session in_a,
                       CreateSession(a.client, s, WithRequestId("shared")));
  ASSERT_OK_AND_ASSIGN(v1::Session in_b,
                       CreateSession(b.client, s, WithRequestId("shared")));
  EXPECT_NE(in_a.id(), in_b.id());
  EXPECT_EQ(in_b.tenant_id(), b.id);
  ASSERT_OK_AND_ASSIGN(v1::Venue venue,
                       CreateVenue(a.client, "Embassy", "shared"));
  EXPECT_NE(venue.id(), in_a.id());
  ASSERT_OK_AND_ASSIGN(v1::GetVenueResponse got, [&] {
    v1::GetVenueRequest r;
    r.set_venue_id(venue.id());
    return a.client.GetVenue(r);
  }());
  EXPECT_EQ(got.venue().name(), "Embassy");
}

TEST(SchedulingTest, CreateSeriesWithTheSameRequestIdCreatesOnce) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  v1::Session tmpl = OnlineSession("Weekly", Utc(2027, 9, 6, 5));
  ASSERT_OK_AND_ASSIGN(v1::Series first,
                       CreateSeries(t.client, tmpl, "FREQ=WEEKLY;COUNT=3",
                                    WithRequestId("s-1")));
  ASSERT_OK_AND_ASSIGN(v1::Series second,
                       CreateSeries(t.client, tmpl, "FREQ=WEEKLY;COUNT=3",
                                    WithRequestId("s-1")));
  EXPECT_EQ(second.id(), first.id());
  EXPECT_EQ(std::vector<std::string>(second.session_ids().begin(),
                                     second.session_ids().end()),
            std::vector<std::string>(first.session_ids().begin(),
                                     first.session_ids().end()));
  v1::ListSessionsRequest list;
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Session> all, ListAll(t.client, list));
  EXPECT_THAT(all, SizeIs(3));
}

TEST(SchedulingTest, CreateVenueWithTheSameRequestIdCreatesOnce) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Venue first,
                       CreateVenue(t.client, "Embassy", "v-1"));
  ASSERT_OK_AND_ASSIGN(v1::Venue second,
                       CreateVenue(t.client, "Embassy", "v-1"));
  EXPECT_EQ(second.id(), first.id());
  ASSERT_OK_AND_ASSIGN(v1::ListVenuesResponse venues, t.client.ListVenues({}));
  ASSERT_EQ(venues.venues_size(), 1);
  EXPECT_EQ(venues.venues(0).id(), first.id());
  ASSERT_OK_AND_ASSIGN(v1::Venue third,
                       CreateVenue(t.client, "Embassy", "v-2"));
  EXPECT_NE(third.id(), first.id());
  ASSERT_OK_AND_ASSIGN(venues, t.client.ListVenues({}));
  EXPECT_EQ(venues.venues_size(), 2);
}

TEST(SchedulingTest, ConcurrentRetriesWithTheSameRequestIdCreateOneSession) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  constexpr int kThreads = 20;
  std::vector<absl::StatusOr<v1::Session>> results(kThreads);
  std::latch go(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      TownhallClient client = ServerEnvironment::server().Client(t.token);
      v1::Session s = OnlineSession("Flaky network", Utc(2027, 9, 3, 5));
      go.arrive_and_wait();
      results[i] = CreateSession(client, s, WithRequestId("retry-storm"));
    });
  }
  for (std::thread& th : threads) th.join();
  std::set<std::string> ids;
  for (int i = 0; i < kThreads; ++i) {
    ASSERT_TRUE(results[i].ok()) << i << ": " << results[i].status();
    ids.insert(results[i]->id());
  }
  EXPECT_THAT(ids, SizeIs(1));
  v1::ListSessionsRequest list;
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Session> all, ListAll(t.client, list));
  ASSERT_THAT(all, SizeIs(1));
  EXPECT_EQ(all[0].id(), *ids.begin());
}

// White-box check of the idempotency records (key schema in
// services/scheduling/session_store.h): a retry-safe create leaves one
// short-lived record; a create without request_id leaves none (it used to
// SET the bare tenant prefix "th:{t:<tenant>}:").
TEST(SchedulingTest, IdempotencyRecordsExistOnlyForRequestIds) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  // Straight through the stub: TownhallClient gives every create an id.
  auto stub = v1::SchedulingService::NewStub(t.client.channel());
  auto context = [&t](grpc::ClientContext* c) {
    c->AddMetadata("authorization", "Bearer " + t.token);
    return c;
  };
  {
    grpc::ClientContext c;
    v1::CreateSessionRequest request;
    *request.mutable_session() = OnlineSession("No id", Utc(2027, 9, 4, 5));
    v1::CreateSessionResponse response;
    ASSERT_TRUE(stub->CreateSession(context(&c), request, &response).ok());
  }
  {
    grpc::ClientContext c;
    v1::CreateVenueRequest request;
    request.mutable_venue()->set_name("No id");
    request.mutable_venue()->set_time_zone("Europe/Berlin");
    v1::CreateVenueResponse response;
    ASSERT_TRUE(stub->CreateVenue(context(&c), request, &response).ok());
  }
  {
    grpc::ClientContext c;
    v1::CreateSeriesRequest request;
    *request.mutable_series()->mutable_template_() =
        OnlineSession("No id", Utc(2027, 9, 5, 5));
    request.mutable_series()->set_rrule("FREQ=DAILY;COUNT=2");
    v1::CreateSeriesResponse response;
    ASSERT_TRUE(stub->CreateSeries(context(&c), request, &response).ok());
  }
  ASSERT_TRUE(CreateSession(t.client,
                            OnlineSession("With id", Utc(2027, 9, 4, 7)),
                            WithRequestId("r1"))
                  .ok());
  RedisOptions options;
  options.address = SharedRedisAddress();
  RedisConnection redis(options);
  const std::string prefix = absl::StrCat("th:{t:", t.id, "}:");
  ASSERT_OK_AND_ASSIGN(RedisReply bare, redis.Command({"EXISTS", prefix}));
  EXPECT_EQ(bare.integer, 0) << "stray key " << prefix;
  ASSERT_OK_AND_ASSIGN(
      RedisReply keys,
      redis.Command({"KEYS", absl::StrCat("th:{t:", t.id, "}:idem:*")}));
  ASSERT_EQ(keys.elements.size(), 1u);
  // The record of the one request with an id (its caller's, see
  // IdempotencyKey).
  const std::string& key = keys.elements[0].str;
  EXPECT_TRUE(absl::StartsWith(
      key, absl::StrCat(prefix, "idem:SchedulingService/CreateSession:")))
      << key;
  EXPECT_TRUE(absl::EndsWith(key, ":r1")) << key;
  ASSERT_OK_AND_ASSIGN(RedisReply ttl, redis.Command({"TTL", key}));
  EXPECT_GT(ttl.integer, 0);
  EXPECT_LE(ttl.integer, 24 * 3600);
}

// ---- ListSessions
// --------------------------------------------------------------------

TEST(SchedulingTest, ListSessionsPagesThroughTiesWithoutGapsOrDuplicates) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  const absl::Time t0 = Utc(2027, 11, 1, 5);
  // Three sessions at t0, two at t0+1h, one at t0+2h and one at t0+3h.
  const absl::Duration offsets[] = {absl::Hours(1),      absl::ZeroDuration(),
                                    absl::Hours(3),      absl::ZeroDuration(),
                                    absl::Hours(2),      absl::Hours(1),
                                    absl::ZeroDuration()};
  std::vector<std::string> created;
  for (absl::Duration offset : offsets) {
    ASSERT_OK_AND_ASSIGN(
        v1::Session s,
        CreateSession(t.client,
                      OnlineSession("Tie", t0 + offset, absl::Minutes(30))));
    created.push_back(s.id());
  }
  for (int page_size : {1, 2, 3, 7, 50}) {
    SCOPED_TRACE(page_size);
    v1::ListSessionsRequest list;
    list.set_page_size(page_size);
    ASSERT_OK_AND_ASSIGN(std::vector<v1::Session> all, ListAll(t.client, list));
    EXPECT_THAT(Ids(all), UnorderedElementsAreArray(created));
    const std::vector<std::string> ids = Ids(all);
    const std::set<std::string> unique(ids.begin(), ids.end());
    EXPECT_EQ(unique.size(), all.size());
    for (size_t i = 1; i < all.size(); ++i) {
      EXPECT_LE(FromTs(all[i - 1].start_time()), FromTs(all[i].start_time()))
          << i;
    }
  }
  // Pages of two: 4 pages, the last holding one session.
  v1::ListSessionsRequest list;
  list.set_page_size(2);
  int pages = 0;
  for (;;) {
    ASSERT_OK_AND_ASSIGN(v1::ListSessionsResponse page,
                         t.client.ListSessions(list));
    ++pages;
    if (page.next_page_token().empty()) {
      EXPECT_EQ(page.sessions_size(), 1);
      break;
    }
    EXPECT_EQ(page.sessions_size(), 2);
    list.set_page_token(page.next_page_token());
    ASSERT_LT(pages, 10);
  }
  EXPECT_EQ(pages, 4);
}

TEST(SchedulingTest, ListSessionsFiltersByTimeStateAndVenue) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Venue venue, CreateVenue(t.client, "Embassy"));
  const absl::Time t0 = Utc(2027, 11, 2, 5);
  ASSERT_OK_AND_ASSIGN(v1::Session a,
                       CreateSession(t.client, OnlineSession("a", t0)));
  ASSERT_OK_AND_ASSIGN(
      v1::Session b,
      CreateSession(t.client, OnlineSession("b", t0), Publish()));
  ASSERT_OK_AND_ASSIGN(
      v1::Session c,
      CreateSession(t.client, InPersonSession("c", t0 + absl::Hours(1),
                                              absl::Hours(1), venue.id())));
  ASSERT_OK_AND_ASSIGN(
      v1::Session d, CreateSession(t.client,
                                   InPersonSession("d", t0 + absl::Hours(2),
                                                   absl::Hours(1), venue.id()),
                                   Publish()));
  ASSERT_OK_AND_ASSIGN(
      v1::Session e,
      CreateSession(t.client, OnlineSession("e", t0 + absl::Hours(3)),
                    Publish()));
  ASSERT_OK_AND_ASSIGN(v1::Session e_live,
                       Transition(t.client, Rpc::kStart, e.id()));

  auto ids_for =
      [&](v1::ListSessionsRequest request) -> std::vector<std::string> {
    request.set_page_size(1);  // filters must work across pages too
    absl::StatusOr<std::vector<v1::Session>> all = ListAll(t.client, request);
    EXPECT_TRUE(all.ok()) << all.status();
    return all.ok() ? Ids(*all) : std::vector<std::string>{};
  };

  v1::ListSessionsRequest range;  // [t0+1h, t0+3h)
  *range.mutable_start_after() = Ts(t0 + absl::Hours(1));
  *range.mutable_start_before() = Ts(t0 + absl::Hours(3));
  EXPECT_THAT(ids_for(range), ElementsAre(c.id(), d.id()));

  v1::ListSessionsRequest after_only;
  *after_only.mutable_start_after() = Ts(t0 + absl::Hours(2));
  EXPECT_THAT(ids_for(after_only), ElementsAre(d.id(), e.id()));

  v1::ListSessionsRequest before_only;
  *before_only.mutable_start_before() = Ts(t0 + absl::Hours(1));
  EXPECT_THAT(ids_for(before_only),
              UnorderedElementsAreArray({a.id(), b.id()}));

  v1::ListSessionsRequest scheduled;
  scheduled.add_states(v1::SESSION_STATE_SCHEDULED);
  EXPECT_THAT(ids_for(scheduled), ElementsAre(b.id(), d.id()));

  v1::ListSessionsRequest draft_or_live;
  draft_or_live.add_states(v1::SESSION_STATE_DRAFT);
  draft_or_live.add_states(v1::SESSION_STATE_LIVE);
  EXPECT_THAT(ids_for(draft_or_live), ElementsAre(a.id(), c.id(), e.id()));

  v1::ListSessionsRequest at_venue;
  at_venue.set_venue_id(venue.id());
  EXPECT_THAT(ids_for(at_venue), ElementsAre(c.id(), d.id()));

  v1::ListSessionsRequest combined = range;
  combined.set_venue_id(venue.id());
  combined.add_states(v1::SESSION_STATE_SCHEDULED);
  EXPECT_THAT(ids_for(combined), ElementsAre(d.id()));

  v1::ListSessionsRequest nothing;
  nothing.set_venue_id("unknown-venue");
  EXPECT_THAT(ids_for(nothing), IsEmpty());
}

TEST(SchedulingTest, ListSessionsRejectsBadTokensAndRanges) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(
      v1::Session s,
      CreateSession(t.client, OnlineSession("x", Utc(2027, 11, 3))));
  for (const char* token :
       {"%%%not-base64%%%", "YWJj" /* "abc" */, "OjE=" /* ":1" */, "!"}) {
    SCOPED_TRACE(token);
    v1::ListSessionsRequest list;
    list.set_page_token(token);
    EXPECT_THAT(
        t.client.ListSessions(list),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")));
  }
  v1::ListSessionsRequest equal;
  *equal.mutable_start_after() = Ts(Utc(2027, 11, 3));
  *equal.mutable_start_before() = Ts(Utc(2027, 11, 3));
  EXPECT_THAT(
      t.client.ListSessions(equal),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("start_before")));
  v1::ListSessionsRequest reversed;
  *reversed.mutable_start_after() = Ts(Utc(2027, 11, 4));
  *reversed.mutable_start_before() = Ts(Utc(2027, 11, 3));
  EXPECT_THAT(
      t.client.ListSessions(reversed),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("start_before")));
  v1::ListSessionsRequest negative;
  negative.set_page_size(-1);
  EXPECT_THAT(
      t.client.ListSessions(negative),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_size")));
  v1::ListSessionsRequest bad_state;
  bad_state.add_states(v1::SESSION_STATE_UNSPECIFIED);
  EXPECT_THAT(
      t.client.ListSessions(bad_state),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("states")));
}

// ---- Validation
// ----------------------------------------------------------------------

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

// ---- Calendar export
// ---------------------------------------------------------------

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

// ---- Tenancy
// -------------------------------------------------------------------------

TEST(SchedulingTest, AnotherTenantsObjectsAreNotFound) {
  ASSERT_OK_AND_ASSIGN(Tenant a, NewTenant());
  ASSERT_OK_AND_ASSIGN(Tenant b, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Venue venue, CreateVenue(a.client, "A's embassy"));
  ASSERT_OK_AND_ASSIGN(
      v1::Session s,
      CreateSession(a.client, OnlineSession("A's session", Utc(2028, 2, 1, 5)),
                    Publish()));
  const absl::Time first = Utc(2028, 2, 7, 5);
  ASSERT_OK_AND_ASSIGN(
      v1::Series series,
      CreateSeries(a.client, OnlineSession("A's series", first),
                   "FREQ=WEEKLY;COUNT=2"));
  const auto not_found = HasCode(absl::StatusCode::kNotFound);

  EXPECT_THAT(GetSession(b.client, s.id()), not_found);
  v1::UpdateSessionRequest update;
  update.mutable_session()->set_id(s.id());
  update.mutable_session()->set_title("Hijacked");
  update.mutable_update_mask()->add_paths("title");
  EXPECT_THAT(b.client.UpdateSession(update),
              not_found);  // blind write, no etag
  update.set_etag(s.etag());
  EXPECT_THAT(b.client.UpdateSession(update), not_found);
  for (Rpc rpc : {Rpc::kPublish, Rpc::kStart, Rpc::kEnd, Rpc::kCancel}) {
    SCOPED_TRACE(RpcName(rpc));
    EXPECT_THAT(Transition(b.client, rpc, s.id()), not_found);
  }
  v1::ExportCalendarRequest export_session;
  export_session.set_session_id(s.id());
  EXPECT_THAT(b.client.ExportCalendar(export_session), not_found);
  v1::ExportCalendarRequest export_series;
  export_series.set_series_id(series.id());
  EXPECT_THAT(b.client.ExportCalendar(export_series), not_found);
  EXPECT_THAT(GetSeries(b.client, series.id()), not_found);
  EXPECT_THAT(Occurrences(b.client, series.id()), not_found);
  v1::CancelOccurrenceRequest cancel;
  cancel.set_series_id(series.id());
  *cancel.mutable_original_start_time() = Ts(first);
  EXPECT_THAT(b.client.CancelOccurrence(cancel), not_found);
  v1::MoveOccurrenceRequest move;
  move.set_series_id(series.id());
  *move.mutable_original_start_time() = Ts(first);
  *move.mutable_new_start_time() = Ts(first + absl::Hours(1));
  EXPECT_THAT(b.client.MoveOccurrence(move), not_found);
  v1::GetVenueRequest get_venue;
  get_venue.set_venue_id(venue.id());
  EXPECT_THAT(b.client.GetVenue(get_venue), not_found);
  // B cannot book A's venue.
  EXPECT_THAT(CreateSession(b.client, InPersonSession(
                                          "B at A's venue", Utc(2028, 2, 2, 5),
                                          absl::Hours(1), venue.id())),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("session.venue_ids")));
  // B's lists are empty.
  v1::ListSessionsRequest list;
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Session> b_sessions,
                       ListAll(b.client, list));
  EXPECT_THAT(b_sessions, IsEmpty());
  ASSERT_OK_AND_ASSIGN(v1::ListVenuesResponse b_venues,
                       b.client.ListVenues({}));
  EXPECT_THAT(b_venues.venues(), IsEmpty());

  // A's objects are unchanged.
  ASSERT_OK_AND_ASSIGN(v1::Session after, GetSession(a.client, s.id()));
  EXPECT_EQ(after.title(), "A's session");
  EXPECT_EQ(after.state(), v1::SESSION_STATE_SCHEDULED);
  EXPECT_EQ(after.etag(), s.etag());
  EXPECT_EQ(after.tenant_id(), a.id);
  ASSERT_OK_AND_ASSIGN(v1::Series series_after,
                       GetSeries(a.client, series.id()));
  EXPECT_EQ(series_after.etag(), series.etag());
  EXPECT_THAT(series_after.exception_dates(), IsEmpty());
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Session> a_sessions,
                       ListAll(a.client, list));
  EXPECT_THAT(a_sessions, SizeIs(3));
}

}  // namespace
}  // namespace townhall::testing
