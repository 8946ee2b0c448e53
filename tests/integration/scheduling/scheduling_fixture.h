// The SchedulingService integration tests' fixture
// (tests/integration/scheduling/scheduling_<aggregate>_test.cc): builders of
// valid sessions, thin wrappers of the RPCs that unwrap the response, and
// Transition/SessionIn to drive a session through its state machine. The C++
// client talks gRPC to the shared in-process townhall server backed by a real
// Redis; every test works in a tenant of its own (NewTenant), so tests never
// see each other's data. Include it in exactly one .cc of a test binary (it
// includes shared_server.h).
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "tests/testing/shared_server.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_server.h"

namespace townhall::testing {

// ---- Builders

inline absl::Time Utc(int year, int month, int day, int hour = 0,
                      int minute = 0) {
  return absl::FromCivil(absl::CivilSecond(year, month, day, hour, minute, 0),
                         absl::UTCTimeZone());
}

inline absl::Time Local(const char* zone_name, int year, int month, int day,
                        int hour, int minute = 0) {
  absl::TimeZone zone;
  EXPECT_TRUE(absl::LoadTimeZone(zone_name, &zone)) << zone_name;
  return absl::FromCivil(absl::CivilSecond(year, month, day, hour, minute, 0),
                         zone);
}

inline google::protobuf::Timestamp Ts(absl::Time t) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(absl::ToUnixSeconds(t));
  return ts;
}

inline absl::Time FromTs(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

inline google::protobuf::Duration Dur(absl::Duration d) {
  google::protobuf::Duration out;
  out.set_seconds(absl::ToInt64Seconds(d));
  return out;
}

inline std::string Iso(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

inline int64_t EtagNumber(const std::string& etag) {
  int64_t n = -1;
  EXPECT_TRUE(absl::SimpleAtoi(etag, &n)) << "etag \"" << etag << "\"";
  return n;
}

// A valid online session.
inline v1::Session OnlineSession(std::string title, absl::Time start,
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
inline v1::Session InPersonSession(std::string title, absl::Time start,
                                   absl::Duration duration,
                                   const std::string& venue_id) {
  v1::Session s =
      OnlineSession(std::move(title), start, duration, "Europe/Berlin");
  s.set_format(v1::SESSION_FORMAT_IN_PERSON);
  s.clear_join_url();
  s.add_venue_ids(venue_id);
  return s;
}

// The valid online session of the recurrence and time zone limit tests: one
// hour, "Consular hour", no join URL.
inline v1::Session Online(const std::string& time_zone,
                          absl::Time start = Utc(2027, 3, 15, 9)) {
  v1::Session s =
      OnlineSession("Consular hour", start, absl::Hours(1), time_zone);
  s.clear_join_url();
  return s;
}

// How CreateSession and CreateSeries are called.
struct CreateOptions {
  bool publish = false;
  bool allow_conflicts = false;
  std::string request_id;
};

inline CreateOptions Publish() {
  CreateOptions o;
  o.publish = true;
  return o;
}

inline CreateOptions AllowConflicts() {
  CreateOptions o;
  o.allow_conflicts = true;
  return o;
}

inline CreateOptions WithRequestId(std::string id) {
  CreateOptions o;
  o.request_id = std::move(id);
  return o;
}

// ---- RPC wrappers: the response's object, or the call's status

inline absl::StatusOr<v1::Session> CreateSession(
    TownhallClient& client, const v1::Session& session,
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

inline absl::StatusOr<v1::Session> GetSession(TownhallClient& client,
                                              const std::string& id) {
  v1::GetSessionRequest request;
  request.set_session_id(id);
  absl::StatusOr<v1::GetSessionResponse> response = client.GetSession(request);
  if (!response.ok()) return response.status();
  return response->session();
}

inline absl::StatusOr<v1::Venue> CreateVenue(TownhallClient& client,
                                             std::string name,
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

inline absl::StatusOr<v1::Series> CreateSeries(
    TownhallClient& client, const v1::Session& tmpl, std::string rrule,
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

inline absl::StatusOr<v1::Series> GetSeries(TownhallClient& client,
                                            const std::string& id) {
  v1::GetSeriesRequest request;
  request.set_series_id(id);
  absl::StatusOr<v1::GetSeriesResponse> response = client.GetSeries(request);
  if (!response.ok()) return response.status();
  return response->series();
}

inline absl::StatusOr<std::vector<v1::Session>> Occurrences(
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
inline absl::StatusOr<std::vector<v1::Session>> ListAll(
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

inline std::vector<std::string> Ids(const std::vector<v1::Session>& sessions) {
  std::vector<std::string> ids;
  for (const v1::Session& s : sessions) ids.push_back(s.id());
  return ids;
}

inline std::vector<absl::Time> Times(
    const google::protobuf::RepeatedPtrField<google::protobuf::Timestamp>& ts) {
  std::vector<absl::Time> out;
  for (const auto& t : ts) out.push_back(FromTs(t));
  return out;
}

// ---- Transitions

enum class Rpc { kPublish, kStart, kEnd, kCancel };

inline const char* RpcName(Rpc rpc) {
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

inline absl::StatusOr<v1::Session> Transition(TownhallClient& client, Rpc rpc,
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
inline std::vector<Rpc> PathTo(v1::SessionState state) {
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
inline absl::StatusOr<v1::Session> SessionIn(TownhallClient& client,
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

}  // namespace townhall::testing
