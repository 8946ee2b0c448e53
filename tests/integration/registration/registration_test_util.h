// Helpers of the registration integration tests: tenants, directory and
// scheduling fixtures, and one call per RegistrationService RPC. The C++
// client talks gRPC to the shared in-process townhall server backed by a
// real Redis; every test works in a tenant of its own.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/common/auth/jwt.h"
#include "services/common/ids.h"
#include "services/common/redis/redis_connection.h"
#include "services/common/tenant_keys.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/shared_server.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_server.h"

// Names here are in their own namespace: townhall::testing has another
// Tenant (shared_server.h).
namespace townhall::testing::registration_test {

using ::testing::SizeIs;

// How long a revoked token may keep working: the watcher follows the
// stream with 1 s blocking reads, so 5 s is generous.
inline constexpr absl::Duration kRevocationBound = absl::Seconds(5);

inline google::protobuf::Timestamp Ts(absl::Time t) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(absl::ToUnixSeconds(t));
  return ts;
}

inline google::protobuf::Duration Dur(absl::Duration d) {
  google::protobuf::Duration out;
  out.set_seconds(absl::ToInt64Seconds(d));
  return out;
}

inline absl::Time FromTs(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

// A fresh tenant with an organizer client and a raw Redis connection (for
// seeding the directory and looking at keys).
struct Tenant {
  std::string id;
  std::string token;
  TownhallClient client;
  std::string prefix;
};

inline absl::StatusOr<Tenant> NewTenant() {
  std::string id;
  absl::StatusOr<std::string> token =
      ServerEnvironment::server().NewTenantToken(&id);
  if (!token.ok()) return token.status();
  return Tenant{id, *token, ServerEnvironment::server().Client(*token),
                TenantPrefix(id)};
}

inline RedisConnection& Redis() {
  static RedisConnection* redis = [] {
    return new RedisConnection(SharedRedisOptions());
  }();
  redis->set_deadline(absl::Now() + absl::Seconds(5));
  return *redis;
}

// ---- Directory fixtures -----------------------------------------------

// Creates an organization (in Germany) through the API; "" on failure.
inline std::string NewOrganization(Tenant& tenant, const std::string& name) {
  v1::CreateOrganizationRequest request;
  request.mutable_organization()->set_name(name);
  request.mutable_organization()->set_country_code("DE");
  absl::StatusOr<v1::CreateOrganizationResponse> created =
      tenant.client.CreateOrganization(request);
  if (!created.ok()) {
    ADD_FAILURE() << "CreateOrganization " << name << ": " << created.status();
    return "";
  }
  return created->organization().id();
}

// Creates a participant through the API; "" on failure. Names must differ
// within an organization (the duplicate rule).
inline std::string NewParticipant(Tenant& tenant, const std::string& name,
                                  const std::string& org_id = "") {
  v1::CreateParticipantRequest request;
  request.mutable_participant()->set_display_name(name);
  request.mutable_participant()->set_organization_id(org_id);
  absl::StatusOr<v1::CreateParticipantResponse> created =
      tenant.client.CreateParticipant(request);
  if (!created.ok()) {
    ADD_FAILURE() << "CreateParticipant " << name << ": " << created.status();
    return "";
  }
  return created->participant().id();
}

// "Person 0" .. "Person <n-1>".
inline std::vector<std::string> NewParticipants(
    Tenant& tenant, int n, const std::string& org_id = "") {
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) {
    ids.push_back(NewParticipant(tenant, absl::StrCat("Person ", i), org_id));
  }
  return ids;
}

// ---- Scheduling fixtures ----------------------------------------------

struct SessionSpec {
  int capacity = 0;
  v1::SessionFormat format = v1::SESSION_FORMAT_ONLINE;
  absl::Time start = absl::Now() + absl::Hours(24 * 30);
  bool publish = true;
};

inline absl::StatusOr<v1::Session> NewSession(Tenant& tenant,
                                              SessionSpec spec = {}) {
  v1::CreateSessionRequest request;
  v1::Session* s = request.mutable_session();
  s->set_title("Consular hour");
  *s->mutable_start_time() = Ts(spec.start);
  *s->mutable_duration() = Dur(absl::Hours(1));
  s->set_time_zone("Asia/Tashkent");
  s->set_format(spec.format);
  s->set_capacity(spec.capacity);
  if (spec.format != v1::SESSION_FORMAT_IN_PERSON) {
    s->set_join_url("https://meet.example.org/townhall");
  }
  if (spec.format != v1::SESSION_FORMAT_ONLINE) {
    v1::CreateVenueRequest venue;
    venue.mutable_venue()->set_name(absl::StrCat("Hall ", NewId()));
    venue.mutable_venue()->set_address("Platz der Republik 1, Berlin");
    venue.mutable_venue()->set_time_zone("Europe/Berlin");
    venue.mutable_venue()->set_capacity(120);
    absl::StatusOr<v1::CreateVenueResponse> created =
        tenant.client.CreateVenue(venue);
    if (!created.ok()) return created.status();
    s->add_venue_ids(created->venue().id());
  }
  request.set_publish(spec.publish);
  absl::StatusOr<v1::CreateSessionResponse> response =
      tenant.client.CreateSession(request);
  if (!response.ok()) return response.status();
  return response->session();
}

inline absl::Status Start(Tenant& tenant, const std::string& session_id) {
  v1::StartSessionRequest request;
  request.set_session_id(session_id);
  return tenant.client.StartSession(request).status();
}

inline absl::Status End(Tenant& tenant, const std::string& session_id) {
  v1::EndSessionRequest request;
  request.set_session_id(session_id);
  return tenant.client.EndSession(request).status();
}

inline absl::Status CancelSession(Tenant& tenant,
                                  const std::string& session_id) {
  v1::CancelSessionRequest request;
  request.set_session_id(session_id);
  request.set_reason("test");
  return tenant.client.CancelSession(request).status();
}

inline absl::Status SetCapacity(Tenant& tenant, const std::string& session_id,
                                int capacity) {
  v1::UpdateSessionRequest request;
  request.mutable_session()->set_id(session_id);
  request.mutable_session()->set_capacity(capacity);
  request.mutable_update_mask()->add_paths("capacity");
  return tenant.client.UpdateSession(request).status();
}

// ---- Registration calls -----------------------------------------------

struct RegisterOptions {
  v1::SessionRole role = v1::SESSION_ROLE_UNSPECIFIED;
  v1::Delegation delegation = v1::DELEGATION_UNSPECIFIED;
  std::string request_id;
  // Replaces the client's token.
  std::string token;
};

inline absl::StatusOr<v1::Registration> Register(
    Tenant& tenant, const std::string& session_id,
    const std::string& participant_id, const RegisterOptions& options = {}) {
  v1::RegisterRequest request;
  request.set_session_id(session_id);
  request.set_participant_id(participant_id);
  request.set_role(options.role);
  request.set_delegation(options.delegation);
  request.set_request_id(options.request_id);
  CallOptions call;
  if (!options.token.empty()) call.token = options.token;
  absl::StatusOr<v1::RegisterResponse> response =
      tenant.client.Register(request, call);
  if (!response.ok()) return response.status();
  return response->registration();
}

inline RegisterOptions AsDelegate() {
  RegisterOptions o;
  o.delegation = v1::DELEGATION_DELEGATE;
  return o;
}

inline RegisterOptions AsSubstitute() {
  RegisterOptions o;
  o.delegation = v1::DELEGATION_SUBSTITUTE;
  return o;
}

inline RegisterOptions WithRole(v1::SessionRole role) {
  RegisterOptions o;
  o.role = role;
  return o;
}

inline RegisterOptions WithRequestId(std::string id) {
  RegisterOptions o;
  o.request_id = std::move(id);
  return o;
}

inline absl::StatusOr<v1::CancelRegistrationResponse> Cancel(
    Tenant& tenant, const std::string& session_id,
    const std::string& participant_id, const std::string& reason = "") {
  v1::CancelRegistrationRequest request;
  request.set_session_id(session_id);
  request.set_participant_id(participant_id);
  request.set_reason(reason);
  return tenant.client.CancelRegistration(request);
}

inline absl::StatusOr<v1::Registration> Approve(
    Tenant& tenant, const std::string& session_id,
    const std::string& participant_id) {
  v1::ApproveRegistrationRequest request;
  request.set_session_id(session_id);
  request.set_participant_id(participant_id);
  absl::StatusOr<v1::ApproveRegistrationResponse> response =
      tenant.client.ApproveRegistration(request);
  if (!response.ok()) return response.status();
  return response->registration();
}

inline absl::StatusOr<v1::Registration> SetRole(
    Tenant& tenant, const std::string& session_id,
    const std::string& participant_id, v1::SessionRole role) {
  v1::SetRoleRequest request;
  request.set_session_id(session_id);
  request.set_participant_id(participant_id);
  request.set_role(role);
  absl::StatusOr<v1::SetRoleResponse> response = tenant.client.SetRole(request);
  if (!response.ok()) return response.status();
  return response->registration();
}

inline absl::StatusOr<v1::Registration> Get(Tenant& tenant,
                                            const std::string& session_id,
                                            const std::string& participant_id) {
  v1::GetRegistrationRequest request;
  request.set_session_id(session_id);
  request.set_participant_id(participant_id);
  absl::StatusOr<v1::GetRegistrationResponse> response =
      tenant.client.GetRegistration(request);
  if (!response.ok()) return response.status();
  return response->registration();
}

inline absl::StatusOr<v1::ListRegistrationsResponse> List(
    Tenant& tenant, const std::string& session_id,
    std::vector<v1::RegistrationStatus> statuses = {}, int page_size = 0,
    const std::string& page_token = "") {
  v1::ListRegistrationsRequest request;
  request.set_session_id(session_id);
  for (v1::RegistrationStatus s : statuses) request.add_statuses(s);
  request.set_page_size(page_size);
  request.set_page_token(page_token);
  return tenant.client.ListRegistrations(request);
}

inline absl::StatusOr<v1::OrganizationInvitation> Invite(
    Tenant& tenant, const std::string& session_id, const std::string& org_id,
    int quota) {
  v1::InviteOrganizationRequest request;
  request.set_session_id(session_id);
  request.set_organization_id(org_id);
  request.set_seat_quota(quota);
  absl::StatusOr<v1::InviteOrganizationResponse> response =
      tenant.client.InviteOrganization(request);
  if (!response.ok()) return response.status();
  return response->invitation();
}

inline absl::StatusOr<v1::IssueJoinTokenResponse> IssueJoinToken(
    Tenant& tenant, const std::string& session_id,
    const std::string& participant_id,
    absl::Duration ttl = absl::ZeroDuration()) {
  v1::IssueJoinTokenRequest request;
  request.set_session_id(session_id);
  request.set_participant_id(participant_id);
  if (ttl != absl::ZeroDuration()) *request.mutable_ttl() = Dur(ttl);
  return tenant.client.IssueJoinToken(request);
}

inline absl::StatusOr<v1::AttendanceRecord> Attend(
    Tenant& tenant, const std::string& session_id,
    const std::string& participant_id, v1::AttendanceAction action,
    const std::string& request_id = "", const std::string& token = "") {
  v1::RecordAttendanceRequest request;
  request.set_session_id(session_id);
  request.set_participant_id(participant_id);
  request.set_action(action);
  request.set_request_id(request_id);
  CallOptions call;
  if (!token.empty()) call.token = token;
  absl::StatusOr<v1::RecordAttendanceResponse> response =
      tenant.client.RecordAttendance(request, call);
  if (!response.ok()) return response.status();
  return response->record();
}

// GetSession with `token` (a join token).
inline absl::Status GetSessionAs(Tenant& tenant, const std::string& session_id,
                                 const std::string& token) {
  v1::GetSessionRequest request;
  request.set_session_id(session_id);
  return tenant.client.GetSession(request, {.token = token}).status();
}

// Polls until GetSession with `token` is refused as UNAUTHENTICATED, for up
// to kRevocationBound; returns the last status.
inline absl::Status WaitUntilRefused(Tenant& tenant,
                                     const std::string& session_id,
                                     const std::string& token) {
  absl::Time give_up = absl::Now() + kRevocationBound;
  absl::Status status;
  do {
    status = GetSessionAs(tenant, session_id, token);
    if (status.code() == absl::StatusCode::kUnauthenticated) return status;
    absl::SleepFor(absl::Milliseconds(50));
  } while (absl::Now() < give_up);
  return status;
}

// An API key of the tenant (a portal) with the manage_registrations scope,
// or with `scopes`.
inline std::string PortalKey(
    const Tenant& tenant,
    uint32_t scopes = ScopeBit(ApiScope::kManageRegistrations)) {
  TokenClaims claims;
  claims.tenant_id = tenant.id;
  claims.subject = "portal";
  claims.role = Role::kApiClient;
  claims.issue_time = absl::Now();
  claims.expire_time = absl::Now() + absl::Hours(1);
  claims.scopes = scopes;
  claims.token_id = NewId();
  return SignTestToken(claims);
}

inline std::vector<std::string> Participants(
    const google::protobuf::RepeatedPtrField<v1::Registration>& regs) {
  std::vector<std::string> out;
  for (const v1::Registration& r : regs) out.push_back(r.participant_id());
  return out;
}

// The kinds of the tenant's change feed entries.
inline std::vector<std::string> FeedKinds(const Tenant& tenant) {
  std::vector<std::string> kinds;
  absl::StatusOr<RedisReply> reply = Redis().Command(
      {"XRANGE", absl::StrCat(tenant.prefix, "events"), "-", "+"});
  if (!reply.ok()) return kinds;
  for (const RedisReply& entry : reply->elements) {
    const auto& fields = entry.elements[1].elements;
    for (size_t i = 0; i + 1 < fields.size(); i += 2) {
      if (fields[i].str == "kind") kinds.push_back(fields[i + 1].str);
    }
  }
  return kinds;
}

// ---- Series -----------------------------------------------------------------

inline absl::StatusOr<std::vector<v1::Session>> NewSeries(Tenant& tenant,
                                                          int count,
                                                          int capacity = 0) {
  v1::CreateSeriesRequest request;
  v1::Session* tmpl = request.mutable_series()->mutable_template_();
  tmpl->set_title("Monthly town hall");
  *tmpl->mutable_start_time() = Ts(absl::Now() + absl::Hours(24 * 3));
  *tmpl->mutable_duration() = Dur(absl::Hours(1));
  tmpl->set_time_zone("Asia/Tashkent");
  tmpl->set_format(v1::SESSION_FORMAT_ONLINE);
  tmpl->set_join_url("https://meet.example.org/townhall");
  tmpl->set_capacity(capacity);
  request.mutable_series()->set_rrule(
      absl::StrCat("FREQ=WEEKLY;COUNT=", count));
  request.set_publish(true);
  absl::StatusOr<v1::CreateSeriesResponse> created =
      tenant.client.CreateSeries(request);
  if (!created.ok()) return created.status();
  v1::ListSeriesOccurrencesRequest list;
  list.set_series_id(created->series().id());
  absl::StatusOr<v1::ListSeriesOccurrencesResponse> occurrences =
      tenant.client.ListSeriesOccurrences(list);
  if (!occurrences.ok()) return occurrences.status();
  return std::vector<v1::Session>(occurrences->sessions().begin(),
                                  occurrences->sessions().end());
}

inline absl::StatusOr<v1::RegisterForSeriesResponse> RegisterForSeries(
    Tenant& tenant, const std::string& series_id,
    const std::string& participant_id, const std::string& request_id = "") {
  v1::RegisterForSeriesRequest request;
  request.set_series_id(series_id);
  request.set_participant_id(participant_id);
  request.set_request_id(request_id);
  return tenant.client.RegisterForSeries(request);
}

}  // namespace townhall::testing::registration_test
