// Integration tests of RegistrationService's registration core: seats and
// the waitlist, self-registration and approval, organization quotas and
// substitutes, cancellation with promotion, roles, join tokens and their
// revocation, and attendance. The C++ client talks gRPC to an in-process
// townhall server backed by a real Redis; every test works in a tenant of
// its own.
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

namespace townhall::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

// How long a revoked token may keep working: the watcher follows the
// stream with 1 s blocking reads, so 5 s is generous.
constexpr absl::Duration kRevocationBound = absl::Seconds(5);

google::protobuf::Timestamp Ts(absl::Time t) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(absl::ToUnixSeconds(t));
  return ts;
}

google::protobuf::Duration Dur(absl::Duration d) {
  google::protobuf::Duration out;
  out.set_seconds(absl::ToInt64Seconds(d));
  return out;
}

absl::Time FromTs(const google::protobuf::Timestamp& ts) {
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

absl::StatusOr<Tenant> NewTenant() {
  std::string id;
  absl::StatusOr<std::string> token =
      ServerEnvironment::server().NewTenantToken(&id);
  if (!token.ok()) return token.status();
  return Tenant{id, *token, ServerEnvironment::server().Client(*token),
                TenantPrefix(id)};
}

RedisConnection& Redis() {
  static RedisConnection* redis = [] {
    RedisOptions options;
    options.address = SharedRedisAddress();
    return new RedisConnection(options);
  }();
  redis->set_deadline(absl::Now() + absl::Seconds(5));
  return *redis;
}

// ---- Directory fixtures -----------------------------------------------

// Creates an organization (in Germany) through the API; "" on failure.
std::string NewOrganization(Tenant& tenant, const std::string& name) {
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
std::string NewParticipant(Tenant& tenant, const std::string& name,
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
std::vector<std::string> NewParticipants(Tenant& tenant, int n,
                                         const std::string& org_id = "") {
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

absl::StatusOr<v1::Session> NewSession(Tenant& tenant, SessionSpec spec = {}) {
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

absl::Status Start(Tenant& tenant, const std::string& session_id) {
  v1::StartSessionRequest request;
  request.set_session_id(session_id);
  return tenant.client.StartSession(request).status();
}

absl::Status End(Tenant& tenant, const std::string& session_id) {
  v1::EndSessionRequest request;
  request.set_session_id(session_id);
  return tenant.client.EndSession(request).status();
}

absl::Status CancelSession(Tenant& tenant, const std::string& session_id) {
  v1::CancelSessionRequest request;
  request.set_session_id(session_id);
  request.set_reason("test");
  return tenant.client.CancelSession(request).status();
}

absl::Status SetCapacity(Tenant& tenant, const std::string& session_id,
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

absl::StatusOr<v1::Registration> Register(Tenant& tenant,
                                          const std::string& session_id,
                                          const std::string& participant_id,
                                          const RegisterOptions& options = {}) {
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

RegisterOptions AsDelegate() {
  RegisterOptions o;
  o.delegation = v1::DELEGATION_DELEGATE;
  return o;
}

RegisterOptions AsSubstitute() {
  RegisterOptions o;
  o.delegation = v1::DELEGATION_SUBSTITUTE;
  return o;
}

RegisterOptions WithRole(v1::SessionRole role) {
  RegisterOptions o;
  o.role = role;
  return o;
}

RegisterOptions WithRequestId(std::string id) {
  RegisterOptions o;
  o.request_id = std::move(id);
  return o;
}

absl::StatusOr<v1::CancelRegistrationResponse> Cancel(
    Tenant& tenant, const std::string& session_id,
    const std::string& participant_id, const std::string& reason = "") {
  v1::CancelRegistrationRequest request;
  request.set_session_id(session_id);
  request.set_participant_id(participant_id);
  request.set_reason(reason);
  return tenant.client.CancelRegistration(request);
}

absl::StatusOr<v1::Registration> Approve(Tenant& tenant,
                                         const std::string& session_id,
                                         const std::string& participant_id) {
  v1::ApproveRegistrationRequest request;
  request.set_session_id(session_id);
  request.set_participant_id(participant_id);
  absl::StatusOr<v1::ApproveRegistrationResponse> response =
      tenant.client.ApproveRegistration(request);
  if (!response.ok()) return response.status();
  return response->registration();
}

absl::StatusOr<v1::Registration> SetRole(Tenant& tenant,
                                         const std::string& session_id,
                                         const std::string& participant_id,
                                         v1::SessionRole role) {
  v1::SetRoleRequest request;
  request.set_session_id(session_id);
  request.set_participant_id(participant_id);
  request.set_role(role);
  absl::StatusOr<v1::SetRoleResponse> response = tenant.client.SetRole(request);
  if (!response.ok()) return response.status();
  return response->registration();
}

absl::StatusOr<v1::Registration> Get(Tenant& tenant,
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

absl::StatusOr<v1::ListRegistrationsResponse> List(
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

absl::StatusOr<v1::OrganizationInvitation> Invite(Tenant& tenant,
                                                  const std::string& session_id,
                                                  const std::string& org_id,
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

absl::StatusOr<v1::IssueJoinTokenResponse> IssueJoinToken(
    Tenant& tenant, const std::string& session_id,
    const std::string& participant_id,
    absl::Duration ttl = absl::ZeroDuration()) {
  v1::IssueJoinTokenRequest request;
  request.set_session_id(session_id);
  request.set_participant_id(participant_id);
  if (ttl != absl::ZeroDuration()) *request.mutable_ttl() = Dur(ttl);
  return tenant.client.IssueJoinToken(request);
}

absl::StatusOr<v1::AttendanceRecord> Attend(Tenant& tenant,
                                            const std::string& session_id,
                                            const std::string& participant_id,
                                            v1::AttendanceAction action,
                                            const std::string& request_id = "",
                                            const std::string& token = "") {
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
absl::Status GetSessionAs(Tenant& tenant, const std::string& session_id,
                          const std::string& token) {
  v1::GetSessionRequest request;
  request.set_session_id(session_id);
  return tenant.client.GetSession(request, {.token = token}).status();
}

// Polls until GetSession with `token` is refused as UNAUTHENTICATED, for up
// to kRevocationBound; returns the last status.
absl::Status WaitUntilRefused(Tenant& tenant, const std::string& session_id,
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

// An API key of the tenant (a portal) with the manage_registrations scope.
std::string PortalKey(const Tenant& tenant) {
  TokenClaims claims;
  claims.tenant_id = tenant.id;
  claims.subject = "portal";
  claims.role = Role::kApiClient;
  claims.issue_time = absl::Now();
  claims.expire_time = absl::Now() + absl::Hours(1);
  claims.scopes = ScopeBit(ApiScope::kManageRegistrations);
  claims.token_id = NewId();
  return SignTestToken(claims);
}

std::vector<std::string> Participants(
    const google::protobuf::RepeatedPtrField<v1::Registration>& regs) {
  std::vector<std::string> out;
  for (const v1::Registration& r : regs) out.push_back(r.participant_id());
  return out;
}

// The kinds of the tenant's change feed entries.
std::vector<std::string> FeedKinds(const Tenant& tenant) {
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

// ---- Seats and the waitlist --------------------------------------------

TEST(RegistrationTest, OrganizerFillsSeatsThenTheWaitlistInArrivalOrder) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t, {.capacity = 2}));
  std::string org = NewOrganization(t, "Uzbek Society Berlin");
  std::string a = NewParticipant(t, "Aziza", org);
  std::vector<std::string> rest = NewParticipants(t, 3);

  ASSERT_OK_AND_ASSIGN(v1::Registration ra, Register(t, s.id(), a));
  EXPECT_EQ(ra.status(), v1::REGISTRATION_STATUS_CONFIRMED);
  EXPECT_EQ(ra.role(), v1::SESSION_ROLE_PARTICIPANT);
  EXPECT_EQ(ra.delegation(), v1::DELEGATION_INDIVIDUAL);
  EXPECT_EQ(ra.organization_id(), org);
  EXPECT_EQ(ra.participant_display_name(), "Aziza");
  EXPECT_EQ(ra.session_id(), s.id());
  EXPECT_FALSE(ra.self_registered());
  EXPECT_EQ(ra.waitlist_position(), 0);
  EXPECT_GT(ra.create_time().seconds(), 0);

  ASSERT_OK_AND_ASSIGN(v1::Registration r0, Register(t, s.id(), rest[0]));
  EXPECT_EQ(r0.status(), v1::REGISTRATION_STATUS_CONFIRMED);
  ASSERT_OK_AND_ASSIGN(v1::Registration r1, Register(t, s.id(), rest[1]));
  EXPECT_EQ(r1.status(), v1::REGISTRATION_STATUS_WAITLISTED);
  EXPECT_EQ(r1.waitlist_position(), 1);
  ASSERT_OK_AND_ASSIGN(v1::Registration r2, Register(t, s.id(), rest[2]));
  EXPECT_EQ(r2.waitlist_position(), 2);

  ASSERT_OK_AND_ASSIGN(v1::ListRegistrationsResponse list, List(t, s.id()));
  EXPECT_THAT(Participants(list.registrations()),
              ElementsAre(a, rest[0], rest[1], rest[2]));
  EXPECT_EQ(list.capacity(), 2);
  EXPECT_EQ(list.confirmed_count(), 2);
  EXPECT_EQ(list.waitlisted_count(), 2);
  EXPECT_EQ(list.registrations(3).waitlist_position(), 2);
  EXPECT_THAT(FeedKinds(t), ::testing::Contains("registration.created"));
}

TEST(RegistrationTest, UnlimitedCapacityConfirmsEveryone) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t, {.capacity = 0}));
  for (const std::string& p : NewParticipants(t, 5)) {
    ASSERT_OK_AND_ASSIGN(v1::Registration r, Register(t, s.id(), p));
    EXPECT_EQ(r.status(), v1::REGISTRATION_STATUS_CONFIRMED);
  }
}

TEST(RegistrationTest, RegisterRefusals) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t, {.capacity = 1}));
  std::vector<std::string> p = NewParticipants(t, 2);

  EXPECT_THAT(Register(t, s.id(), "no-such-person"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("participant")));
  EXPECT_THAT(Register(t, s.id(), "bad id!"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("participant_id")));
  EXPECT_THAT(Register(t, "nosuchsession", p[0]),
              HasCode(absl::StatusCode::kNotFound));
  RegisterOptions bad_role;
  bad_role.role = static_cast<v1::SessionRole>(42);
  EXPECT_THAT(Register(t, s.id(), p[0], bad_role),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("role")));

  ASSERT_OK_AND_ASSIGN(v1::Registration r, Register(t, s.id(), p[0]));
  EXPECT_THAT(
      Register(t, s.id(), p[0]),
      StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("CONFIRMED")));
  ASSERT_OK_AND_ASSIGN(v1::Registration w, Register(t, s.id(), p[1]));
  EXPECT_THAT(
      Register(t, s.id(), p[1]),
      StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("WAITLISTED")));

  // Ended and cancelled sessions take no registrations.
  ASSERT_OK_AND_ASSIGN(v1::Session ended, NewSession(t));
  ASSERT_TRUE(Start(t, ended.id()).ok());
  ASSERT_TRUE(End(t, ended.id()).ok());
  EXPECT_THAT(
      Register(t, ended.id(), p[0]),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("ENDED")));
  ASSERT_OK_AND_ASSIGN(v1::Session cancelled, NewSession(t));
  ASSERT_TRUE(CancelSession(t, cancelled.id()).ok());
  EXPECT_THAT(
      Register(t, cancelled.id(), p[0]),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("CANCELLED")));
}

TEST(RegistrationTest, AnotherTenantsSessionAndParticipantAreNotFound) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(Tenant other, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t));
  std::string p = NewParticipant(t, "Aziza");
  std::string theirs = NewParticipant(other, "Bobur");
  EXPECT_THAT(Register(other, s.id(), theirs),
              HasCode(absl::StatusCode::kNotFound));
  EXPECT_THAT(Register(t, s.id(), theirs),
              HasCode(absl::StatusCode::kNotFound));
  ASSERT_TRUE(Register(t, s.id(), p).ok());
  EXPECT_THAT(Get(other, s.id(), p), HasCode(absl::StatusCode::kNotFound));
}

TEST(RegistrationTest, CancelledParticipantMayRegisterAgainAsANewArrival) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t, {.capacity = 1}));
  std::vector<std::string> p = NewParticipants(t, 3);
  ASSERT_TRUE(Register(t, s.id(), p[0]).ok());
  ASSERT_TRUE(Register(t, s.id(), p[1]).ok());  // waitlisted
  ASSERT_TRUE(Register(t, s.id(), p[2]).ok());  // waitlisted
  ASSERT_OK_AND_ASSIGN(v1::CancelRegistrationResponse cancelled,
                       Cancel(t, s.id(), p[0]));
  EXPECT_EQ(cancelled.promoted().participant_id(), p[1]);

  // Back at the end of the line: after p[2], arrived later than everyone.
  ASSERT_OK_AND_ASSIGN(v1::Registration again, Register(t, s.id(), p[0]));
  EXPECT_EQ(again.status(), v1::REGISTRATION_STATUS_WAITLISTED);
  EXPECT_EQ(again.waitlist_position(), 2);
  EXPECT_TRUE(again.cancel_reason().empty());
  ASSERT_OK_AND_ASSIGN(v1::ListRegistrationsResponse list, List(t, s.id()));
  EXPECT_THAT(Participants(list.registrations()),
              ElementsAre(p[1], p[2], p[0]));
}

TEST(RegistrationTest, WaitlistIsPromotedWhenCapacityGrows) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t, {.capacity = 1}));
  std::vector<std::string> p = NewParticipants(t, 4);
  ASSERT_TRUE(Register(t, s.id(), p[0]).ok());
  ASSERT_TRUE(Register(t, s.id(), p[1]).ok());
  ASSERT_TRUE(Register(t, s.id(), p[2]).ok());
  ASSERT_TRUE(SetCapacity(t, s.id(), 2).ok());
  // The new arrival does not jump the line: p[1] takes the new seat first.
  ASSERT_OK_AND_ASSIGN(v1::Registration r3, Register(t, s.id(), p[3]));
  EXPECT_EQ(r3.status(), v1::REGISTRATION_STATUS_WAITLISTED);
  EXPECT_EQ(r3.waitlist_position(), 2);
  ASSERT_OK_AND_ASSIGN(v1::Registration r1, Get(t, s.id(), p[1]));
  EXPECT_EQ(r1.status(), v1::REGISTRATION_STATUS_CONFIRMED);
  ASSERT_OK_AND_ASSIGN(v1::Registration r2, Get(t, s.id(), p[2]));
  EXPECT_EQ(r2.waitlist_position(), 1);
  EXPECT_THAT(FeedKinds(t), ::testing::Contains("registration.promoted"));
}

// ---- Idempotency ---------------------------------------------------------

TEST(RegistrationTest, RetryWithTheSameRequestIdRegistersOnce) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t, {.capacity = 5}));
  std::string p = NewParticipant(t, "Aziza");
  ASSERT_OK_AND_ASSIGN(v1::Registration first,
                       Register(t, s.id(), p, WithRequestId("req-1")));
  ASSERT_OK_AND_ASSIGN(v1::Registration retry,
                       Register(t, s.id(), p, WithRequestId("req-1")));
  EXPECT_EQ(retry.participant_id(), first.participant_id());
  EXPECT_EQ(retry.status(), first.status());
  EXPECT_EQ(retry.create_time().seconds(), first.create_time().seconds());
  EXPECT_EQ(retry.create_time().nanos(), first.create_time().nanos());
  // Without the request id it is a second registration attempt.
  EXPECT_THAT(Register(t, s.id(), p),
              HasCode(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(
      Register(t, s.id(), p, WithRequestId("bad id é")),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("request_id")));
}

TEST(RegistrationTest, ConcurrentRetriesRegisterOnce) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t, {.capacity = 1}));
  std::string p = NewParticipant(t, "Aziza");
  constexpr int kRetries = 8;
  std::vector<absl::StatusOr<v1::Registration>> results(kRetries);
  std::vector<std::thread> threads;
  for (int i = 0; i < kRetries; ++i) {
    threads.emplace_back([&t, &s, &p, &results, i] {
      results[i] = Register(t, s.id(), p, WithRequestId("same-request"));
    });
  }
  for (std::thread& th : threads) th.join();
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->participant_id(), p);
    EXPECT_EQ(r->status(), v1::REGISTRATION_STATUS_CONFIRMED);
  }
  ASSERT_OK_AND_ASSIGN(v1::ListRegistrationsResponse list, List(t, s.id()));
  EXPECT_THAT(list.registrations(), SizeIs(1));
  EXPECT_EQ(list.confirmed_count(), 1);
}

// ---- Self-registration and approval ---------------------------------------

TEST(RegistrationTest, ApiKeyRegistrationIsPendingUntilApproved) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t, {.capacity = 1}));
  std::vector<std::string> p = NewParticipants(t, 3);
  RegisterOptions portal;
  portal.token = PortalKey(t);

  ASSERT_OK_AND_ASSIGN(v1::Registration r0, Register(t, s.id(), p[0], portal));
  EXPECT_EQ(r0.status(), v1::REGISTRATION_STATUS_PENDING);
  EXPECT_TRUE(r0.self_registered());
  ASSERT_OK_AND_ASSIGN(v1::Registration r1, Register(t, s.id(), p[1], portal));
  EXPECT_EQ(r1.status(), v1::REGISTRATION_STATUS_PENDING);
  ASSERT_OK_AND_ASSIGN(v1::Registration r2, Register(t, s.id(), p[2], portal));

  RegisterOptions portal_moderator = portal;
  portal_moderator.role = v1::SESSION_ROLE_MODERATOR;
  std::string q = NewParticipant(t, "Dilshod");
  EXPECT_THAT(Register(t, s.id(), q, portal_moderator),
              HasCode(absl::StatusCode::kPermissionDenied));
  RegisterOptions portal_participant = portal;
  portal_participant.role = v1::SESSION_ROLE_PARTICIPANT;
  EXPECT_TRUE(Register(t, s.id(), q, portal_participant).ok());

  ASSERT_OK_AND_ASSIGN(v1::ListRegistrationsResponse pending,
                       List(t, s.id(), {v1::REGISTRATION_STATUS_PENDING}));
  EXPECT_THAT(pending.registrations(), SizeIs(4));
  EXPECT_EQ(pending.confirmed_count(), 0);

  // Approval order decides seats and the waitlist, not arrival.
  ASSERT_OK_AND_ASSIGN(v1::Registration a2, Approve(t, s.id(), p[2]));
  EXPECT_EQ(a2.status(), v1::REGISTRATION_STATUS_CONFIRMED);
  EXPECT_TRUE(a2.self_registered());
  ASSERT_OK_AND_ASSIGN(v1::Registration a1, Approve(t, s.id(), p[1]));
  EXPECT_EQ(a1.status(), v1::REGISTRATION_STATUS_WAITLISTED);
  EXPECT_EQ(a1.waitlist_position(), 1);
  ASSERT_OK_AND_ASSIGN(v1::Registration a0, Approve(t, s.id(), p[0]));
  EXPECT_EQ(a0.waitlist_position(), 2);

  EXPECT_THAT(
      Approve(t, s.id(), p[2]),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("CONFIRMED")));
  EXPECT_THAT(
      Approve(t, s.id(), p[1]),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("WAITLISTED")));
  EXPECT_THAT(Approve(t, s.id(), "nobody"),
              HasCode(absl::StatusCode::kNotFound));

  // Rejecting a pending one is cancelling it.
  ASSERT_OK_AND_ASSIGN(v1::CancelRegistrationResponse rejected,
                       Cancel(t, s.id(), q, "not eligible"));
  EXPECT_EQ(rejected.registration().status(),
            v1::REGISTRATION_STATUS_CANCELLED);
  EXPECT_FALSE(rejected.has_promoted());
  EXPECT_THAT(FeedKinds(t), ::testing::Contains("registration.approved"));
}

// ---- Organizations: quotas and substitutes -------------------------------

TEST(RegistrationTest, InviteOrganizationChecksQuotaAndOrganization) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t, {.capacity = 10}));
  std::string org = NewOrganization(t, "Diaspora Hamburg");
  EXPECT_THAT(Invite(t, s.id(), "noorg", 2),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("noorg")));
  EXPECT_THAT(
      Invite(t, s.id(), org, 0),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("seat_quota")));
  ASSERT_OK_AND_ASSIGN(v1::OrganizationInvitation inv,
                       Invite(t, s.id(), org, 2));
  EXPECT_EQ(inv.seat_quota(), 2);
  EXPECT_EQ(inv.seats_used(), 0);
  EXPECT_EQ(inv.organization_id(), org);

  std::vector<std::string> members = NewParticipants(t, 2, org);
  ASSERT_TRUE(Register(t, s.id(), members[0], AsDelegate()).ok());
  ASSERT_TRUE(Register(t, s.id(), members[1], AsDelegate()).ok());
  EXPECT_THAT(Invite(t, s.id(), org, 1),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("2 delegate seats")));
  ASSERT_OK_AND_ASSIGN(inv, Invite(t, s.id(), org, 3));
  EXPECT_EQ(inv.seat_quota(), 3);
  EXPECT_EQ(inv.seats_used(), 2);
  EXPECT_THAT(FeedKinds(t), ::testing::Contains("registration.invited"));
}

TEST(RegistrationTest, DelegatesNeedAnInvitationAndAFreeQuotaSeat) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t, {.capacity = 10}));
  std::string org = NewOrganization(t, "Uzbek Society Berlin");
  std::vector<std::string> members = NewParticipants(t, 4, org);
  std::string loner = NewParticipant(t, "No organization");

  EXPECT_THAT(Register(t, s.id(), members[0], AsDelegate()),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("not invited")));
  EXPECT_THAT(Register(t, s.id(), members[0], AsSubstitute()),
              HasCode(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(Register(t, s.id(), loner, AsDelegate()),
              HasCode(absl::StatusCode::kFailedPrecondition));

  ASSERT_TRUE(Invite(t, s.id(), org, 2).ok());
  ASSERT_OK_AND_ASSIGN(v1::Registration d0,
                       Register(t, s.id(), members[0], AsDelegate()));
  EXPECT_EQ(d0.status(), v1::REGISTRATION_STATUS_CONFIRMED);
  EXPECT_EQ(d0.delegation(), v1::DELEGATION_DELEGATE);
  ASSERT_TRUE(Register(t, s.id(), members[1], AsDelegate()).ok());
  EXPECT_THAT(
      Register(t, s.id(), members[2], AsDelegate()),
      StatusIs(absl::StatusCode::kResourceExhausted,
               HasSubstr(absl::StrCat("organization ", org,
                                      " has used all 2 delegate seats"))));
  // Individuals are outside the quota.
  ASSERT_OK_AND_ASSIGN(v1::Registration individual,
                       Register(t, s.id(), members[2]));
  EXPECT_EQ(individual.delegation(), v1::DELEGATION_INDIVIDUAL);
  EXPECT_EQ(individual.status(), v1::REGISTRATION_STATUS_CONFIRMED);

  // Cancelling a delegate releases its quota seat.
  ASSERT_TRUE(Cancel(t, s.id(), members[1]).ok());
  ASSERT_OK_AND_ASSIGN(v1::Registration d3,
                       Register(t, s.id(), members[3], AsDelegate()));
  EXPECT_EQ(d3.delegation(), v1::DELEGATION_DELEGATE);
  ASSERT_OK_AND_ASSIGN(v1::OrganizationInvitation inv,
                       Invite(t, s.id(), org, 2));
  EXPECT_EQ(inv.seats_used(), 2);
}

TEST(RegistrationTest, WaitlistedDelegatesUseQuotaSeats) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t, {.capacity = 1}));
  std::string org = NewOrganization(t, "Mission Paris");
  std::vector<std::string> members = NewParticipants(t, 3, org);
  ASSERT_TRUE(Invite(t, s.id(), org, 2).ok());
  ASSERT_OK_AND_ASSIGN(v1::Registration d0,
                       Register(t, s.id(), members[0], AsDelegate()));
  ASSERT_OK_AND_ASSIGN(v1::Registration d1,
                       Register(t, s.id(), members[1], AsDelegate()));
  EXPECT_EQ(d1.status(), v1::REGISTRATION_STATUS_WAITLISTED);
  EXPECT_THAT(Register(t, s.id(), members[2], AsDelegate()),
              HasCode(absl::StatusCode::kResourceExhausted));
}

TEST(RegistrationTest, SubstituteStandsByAndTakesACancelledDelegatesSeat) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t, {.capacity = 2}));
  std::string org = NewOrganization(t, "Uzbek Society Berlin");
  std::vector<std::string> members = NewParticipants(t, 5, org);
  std::vector<std::string> others = NewParticipants(t, 2);
  ASSERT_TRUE(Invite(t, s.id(), org, 2).ok());

  ASSERT_OK_AND_ASSIGN(v1::Registration d0,
                       Register(t, s.id(), members[0], AsDelegate()));
  ASSERT_TRUE(Register(t, s.id(), others[0]).ok());  // the last seat
  ASSERT_TRUE(Register(t, s.id(), others[1]).ok());  // waitlisted first
  ASSERT_OK_AND_ASSIGN(v1::Registration sub1,
                       Register(t, s.id(), members[1], AsSubstitute()));
  EXPECT_EQ(sub1.status(), v1::REGISTRATION_STATUS_STANDBY);
  EXPECT_EQ(sub1.delegation(), v1::DELEGATION_SUBSTITUTE);
  ASSERT_OK_AND_ASSIGN(v1::Registration sub2,
                       Register(t, s.id(), members[2], AsSubstitute()));
  EXPECT_EQ(sub2.status(), v1::REGISTRATION_STATUS_STANDBY);
  // At most seat_quota substitutes.
  EXPECT_THAT(Register(t, s.id(), members[3], AsSubstitute()),
              HasCode(absl::StatusCode::kResourceExhausted));
  ASSERT_OK_AND_ASSIGN(v1::ListRegistrationsResponse list, List(t, s.id()));
  EXPECT_EQ(list.confirmed_count(), 2);  // substitutes hold no seat

  // The delegate's seat goes to the earliest substitute, ahead of the
  // waitlist.
  ASSERT_OK_AND_ASSIGN(v1::CancelRegistrationResponse cancelled,
                       Cancel(t, s.id(), members[0], "ill"));
  EXPECT_EQ(cancelled.registration().status(),
            v1::REGISTRATION_STATUS_CANCELLED);
  EXPECT_EQ(cancelled.registration().cancel_reason(), "ill");
  EXPECT_EQ(cancelled.promoted().participant_id(), members[1]);
  EXPECT_EQ(cancelled.promoted().status(), v1::REGISTRATION_STATUS_CONFIRMED);
  EXPECT_EQ(cancelled.promoted().delegation(), v1::DELEGATION_DELEGATE);
  ASSERT_OK_AND_ASSIGN(v1::Registration waiting, Get(t, s.id(), others[1]));
  EXPECT_EQ(waiting.status(), v1::REGISTRATION_STATUS_WAITLISTED);
  ASSERT_OK_AND_ASSIGN(v1::OrganizationInvitation inv,
                       Invite(t, s.id(), org, 2));
  EXPECT_EQ(inv.seats_used(), 1);  // the substitute now holds it

  // An individual's seat goes to the waitlist, not to a substitute.
  ASSERT_OK_AND_ASSIGN(cancelled, Cancel(t, s.id(), others[0]));
  EXPECT_EQ(cancelled.promoted().participant_id(), others[1]);
  ASSERT_OK_AND_ASSIGN(v1::Registration still, Get(t, s.id(), members[2]));
  EXPECT_EQ(still.status(), v1::REGISTRATION_STATUS_STANDBY);
}

TEST(RegistrationTest, ApprovingAPendingDelegateNeedsAFreeQuotaSeat) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t, {.capacity = 10}));
  std::string org = NewOrganization(t, "Embassy Club Vienna");
  std::vector<std::string> members = NewParticipants(t, 3, org);
  ASSERT_TRUE(Invite(t, s.id(), org, 1).ok());
  RegisterOptions portal_delegate = AsDelegate();
  portal_delegate.token = PortalKey(t);
  RegisterOptions portal_substitute = AsSubstitute();
  portal_substitute.token = PortalKey(t);

  // Pending delegates hold no quota seat until approved.
  ASSERT_OK_AND_ASSIGN(v1::Registration pending,
                       Register(t, s.id(), members[0], portal_delegate));
  EXPECT_EQ(pending.status(), v1::REGISTRATION_STATUS_PENDING);
  EXPECT_EQ(pending.delegation(), v1::DELEGATION_DELEGATE);
  ASSERT_OK_AND_ASSIGN(v1::Registration sub,
                       Register(t, s.id(), members[2], portal_substitute));
  EXPECT_EQ(sub.status(), v1::REGISTRATION_STATUS_PENDING);
  ASSERT_TRUE(Register(t, s.id(), members[1], AsDelegate()).ok());
  EXPECT_THAT(Approve(t, s.id(), members[0]),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("has used all 1 delegate seats")));
  ASSERT_OK_AND_ASSIGN(v1::Registration standby,
                       Approve(t, s.id(), members[2]));
  EXPECT_EQ(standby.status(), v1::REGISTRATION_STATUS_STANDBY);

  // Once the quota has room, the approval goes through.
  ASSERT_TRUE(Invite(t, s.id(), org, 2).ok());
  ASSERT_OK_AND_ASSIGN(v1::Registration approved,
                       Approve(t, s.id(), members[0]));
  EXPECT_EQ(approved.status(), v1::REGISTRATION_STATUS_CONFIRMED);
  ASSERT_OK_AND_ASSIGN(v1::OrganizationInvitation inv,
                       Invite(t, s.id(), org, 2));
  EXPECT_EQ(inv.seats_used(), 2);
}

// ---- Cancellation ---------------------------------------------------------

TEST(RegistrationTest, CancelPromotesTheFirstWaitlisted) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t, {.capacity = 1}));
  std::vector<std::string> p = NewParticipants(t, 3);
  for (const std::string& id : p) ASSERT_TRUE(Register(t, s.id(), id).ok());
  ASSERT_OK_AND_ASSIGN(v1::CancelRegistrationResponse c,
                       Cancel(t, s.id(), p[0], "travel"));
  EXPECT_EQ(c.registration().status(), v1::REGISTRATION_STATUS_CANCELLED);
  EXPECT_EQ(c.registration().cancel_reason(), "travel");
  EXPECT_EQ(c.promoted().participant_id(), p[1]);
  EXPECT_EQ(c.promoted().status(), v1::REGISTRATION_STATUS_CONFIRMED);
  ASSERT_OK_AND_ASSIGN(v1::Registration last, Get(t, s.id(), p[2]));
  EXPECT_EQ(last.waitlist_position(), 1);

  // A waitlisted one cancelling frees no seat.
  ASSERT_OK_AND_ASSIGN(c, Cancel(t, s.id(), p[2]));
  EXPECT_FALSE(c.has_promoted());

  EXPECT_THAT(
      Cancel(t, s.id(), p[0]),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("CANCELLED")));
  EXPECT_THAT(Cancel(t, s.id(), "nobody"),
              HasCode(absl::StatusCode::kNotFound));
  EXPECT_THAT(
      Cancel(t, s.id(), p[1], std::string(501, 'x')),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("reason")));
  EXPECT_TRUE(Cancel(t, s.id(), p[1], std::string(500, 'x')).ok());

  ASSERT_OK_AND_ASSIGN(v1::ListRegistrationsResponse cancelled,
                       List(t, s.id(), {v1::REGISTRATION_STATUS_CANCELLED}));
  EXPECT_THAT(cancelled.registrations(), SizeIs(3));
  EXPECT_EQ(cancelled.confirmed_count(), 0);
  EXPECT_THAT(FeedKinds(t), ::testing::Contains("registration.cancelled"));
}

// ---- Roles ------------------------------------------------------------------

TEST(RegistrationTest, SetRoleChangesTheRole) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t));
  std::vector<std::string> p = NewParticipants(t, 2);
  ASSERT_OK_AND_ASSIGN(
      v1::Registration r,
      Register(t, s.id(), p[0], WithRole(v1::SESSION_ROLE_SPEAKER)));
  EXPECT_EQ(r.role(), v1::SESSION_ROLE_SPEAKER);
  ASSERT_OK_AND_ASSIGN(r, SetRole(t, s.id(), p[0], v1::SESSION_ROLE_MODERATOR));
  EXPECT_EQ(r.role(), v1::SESSION_ROLE_MODERATOR);
  ASSERT_OK_AND_ASSIGN(r, Get(t, s.id(), p[0]));
  EXPECT_EQ(r.role(), v1::SESSION_ROLE_MODERATOR);

  EXPECT_THAT(SetRole(t, s.id(), p[0], v1::SESSION_ROLE_UNSPECIFIED),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("role")));
  EXPECT_THAT(SetRole(t, s.id(), p[1], v1::SESSION_ROLE_OBSERVER),
              HasCode(absl::StatusCode::kNotFound));
  ASSERT_TRUE(Register(t, s.id(), p[1]).ok());
  ASSERT_TRUE(Cancel(t, s.id(), p[1]).ok());
  EXPECT_THAT(
      SetRole(t, s.id(), p[1], v1::SESSION_ROLE_OBSERVER),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("CANCELLED")));
  EXPECT_THAT(FeedKinds(t), ::testing::Contains("registration.role"));
}

// ---- Reads ------------------------------------------------------------------

TEST(RegistrationTest, GetAndListWithFiltersAndPages) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t, {.capacity = 3}));
  std::vector<std::string> p = NewParticipants(t, 7);
  for (const std::string& id : p) ASSERT_TRUE(Register(t, s.id(), id).ok());
  ASSERT_TRUE(Cancel(t, s.id(), p[1]).ok());  // p[3] promoted

  EXPECT_THAT(
      Get(t, s.id(), NewParticipant(t, "Unregistered")),
      StatusIs(absl::StatusCode::kNotFound, HasSubstr("not registered")));

  // Pages of 2 cover everyone once, in arrival order.
  std::vector<std::string> seen;
  std::string token;
  for (int page = 0; page < 10; ++page) {
    ASSERT_OK_AND_ASSIGN(v1::ListRegistrationsResponse list,
                         List(t, s.id(), {}, 2, token));
    EXPECT_LE(list.registrations_size(), 2);
    for (const auto& r : list.registrations())
      seen.push_back(r.participant_id());
    token = list.next_page_token();
    if (token.empty()) break;
  }
  EXPECT_EQ(seen, p);

  ASSERT_OK_AND_ASSIGN(v1::ListRegistrationsResponse waiting,
                       List(t, s.id(), {v1::REGISTRATION_STATUS_WAITLISTED}));
  EXPECT_THAT(Participants(waiting.registrations()),
              ElementsAre(p[4], p[5], p[6]));
  std::vector<int> positions;
  for (const auto& r : waiting.registrations()) {
    positions.push_back(r.waitlist_position());
  }
  EXPECT_THAT(positions, ElementsAre(1, 2, 3));
  EXPECT_EQ(waiting.confirmed_count(), 3);
  EXPECT_EQ(waiting.waitlisted_count(), 3);

  ASSERT_OK_AND_ASSIGN(v1::ListRegistrationsResponse two,
                       List(t, s.id(),
                            {v1::REGISTRATION_STATUS_CONFIRMED,
                             v1::REGISTRATION_STATUS_CANCELLED}));
  EXPECT_THAT(Participants(two.registrations()),
              ElementsAre(p[0], p[1], p[2], p[3]));

  EXPECT_THAT(
      List(t, s.id(), {}, 0, "garbage"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")));
  EXPECT_THAT(List(t, s.id(), {static_cast<v1::RegistrationStatus>(9)}),
              HasCode(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(List(t, s.id(), {}, -1),
              HasCode(absl::StatusCode::kInvalidArgument));

  ASSERT_OK_AND_ASSIGN(v1::Session empty, NewSession(t, {.capacity = 4}));
  ASSERT_OK_AND_ASSIGN(v1::ListRegistrationsResponse none, List(t, empty.id()));
  EXPECT_THAT(none.registrations(), SizeIs(0));
  EXPECT_EQ(none.capacity(), 4);
  EXPECT_TRUE(none.next_page_token().empty());
}

// ---- Join tokens ------------------------------------------------------------

TEST(RegistrationTest, JoinTokenIsScopedToItsSession) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t, {.capacity = 1}));
  ASSERT_OK_AND_ASSIGN(v1::Session other, NewSession(t));
  std::vector<std::string> p = NewParticipants(t, 2);
  ASSERT_TRUE(Register(t, s.id(), p[0]).ok());
  ASSERT_TRUE(Register(t, s.id(), p[1]).ok());  // waitlisted

  absl::Time before = absl::Now();
  ASSERT_OK_AND_ASSIGN(v1::IssueJoinTokenResponse issued,
                       IssueJoinToken(t, s.id(), p[0]));
  EXPECT_EQ(issued.role(), v1::SESSION_ROLE_PARTICIPANT);
  absl::Time expires = FromTs(issued.expire_time());
  EXPECT_GE(expires, before + absl::Hours(12) - absl::Seconds(2));
  EXPECT_LE(expires, absl::Now() + absl::Hours(12) + absl::Seconds(1));

  EXPECT_TRUE(GetSessionAs(t, s.id(), issued.token()).ok());
  // Any other session is invisible to it (NOT_FOUND, as for an unknown id).
  EXPECT_THAT(GetSessionAs(t, other.id(), issued.token()),
              HasCode(absl::StatusCode::kNotFound));
  // Its own registration, not another participant's.
  v1::GetRegistrationRequest own;
  own.set_session_id(s.id());
  own.set_participant_id(p[0]);
  EXPECT_TRUE(t.client.GetRegistration(own, {.token = issued.token()}).ok());
  own.set_participant_id(p[1]);
  EXPECT_THAT(t.client.GetRegistration(own, {.token = issued.token()}),
              HasCode(absl::StatusCode::kPermissionDenied));

  EXPECT_THAT(
      IssueJoinToken(t, s.id(), p[1]),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("WAITLISTED")));
  EXPECT_THAT(IssueJoinToken(t, s.id(), "nobody"),
              HasCode(absl::StatusCode::kNotFound));
  EXPECT_THAT(IssueJoinToken(t, s.id(), p[0], absl::Hours(24 * 7 + 1)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("ttl")));
  EXPECT_THAT(IssueJoinToken(t, s.id(), p[0], -absl::Seconds(5)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("ttl")));
  ASSERT_OK_AND_ASSIGN(v1::IssueJoinTokenResponse week,
                       IssueJoinToken(t, s.id(), p[0], absl::Hours(24 * 7)));
  EXPECT_GE(FromTs(week.expire_time()),
            before + absl::Hours(24 * 7) - absl::Seconds(2));
}

TEST(RegistrationTest, JoinTokenCarriesTheSessionRole) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t));
  std::vector<std::string> p = NewParticipants(t, 2);
  ASSERT_TRUE(
      Register(t, s.id(), p[0], WithRole(v1::SESSION_ROLE_MODERATOR)).ok());
  ASSERT_TRUE(Register(t, s.id(), p[1]).ok());
  ASSERT_OK_AND_ASSIGN(v1::IssueJoinTokenResponse moderator,
                       IssueJoinToken(t, s.id(), p[0]));
  EXPECT_EQ(moderator.role(), v1::SESSION_ROLE_MODERATOR);
  ASSERT_OK_AND_ASSIGN(v1::IssueJoinTokenResponse participant,
                       IssueJoinToken(t, s.id(), p[1]));
  // Moderators may list the session's registrations; participants may not.
  v1::ListRegistrationsRequest list;
  list.set_session_id(s.id());
  EXPECT_TRUE(
      t.client.ListRegistrations(list, {.token = moderator.token()}).ok());
  EXPECT_THAT(t.client.ListRegistrations(list, {.token = participant.token()}),
              HasCode(absl::StatusCode::kPermissionDenied));
}

TEST(RegistrationTest, CancellingRevokesJoinTokensAndReRegisteringIssuesNew) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t));
  std::string p = NewParticipant(t, "Aziza");
  ASSERT_TRUE(Register(t, s.id(), p).ok());
  ASSERT_OK_AND_ASSIGN(v1::IssueJoinTokenResponse old,
                       IssueJoinToken(t, s.id(), p));
  ASSERT_TRUE(GetSessionAs(t, s.id(), old.token()).ok());

  ASSERT_TRUE(Cancel(t, s.id(), p).ok());
  EXPECT_THAT(WaitUntilRefused(t, s.id(), old.token()),
              HasCode(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(
      IssueJoinToken(t, s.id(), p),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("CANCELLED")));

  ASSERT_TRUE(Register(t, s.id(), p).ok());
  ASSERT_OK_AND_ASSIGN(v1::IssueJoinTokenResponse fresh,
                       IssueJoinToken(t, s.id(), p));
  EXPECT_TRUE(GetSessionAs(t, s.id(), fresh.token()).ok());
  EXPECT_THAT(GetSessionAs(t, s.id(), old.token()),
              HasCode(absl::StatusCode::kUnauthenticated));
}

TEST(RegistrationTest, SetRoleRevokesTokensWithTheOldRole) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t));
  std::string p = NewParticipant(t, "Aziza");
  ASSERT_TRUE(Register(t, s.id(), p).ok());
  ASSERT_OK_AND_ASSIGN(v1::IssueJoinTokenResponse old,
                       IssueJoinToken(t, s.id(), p));
  ASSERT_TRUE(GetSessionAs(t, s.id(), old.token()).ok());
  ASSERT_TRUE(SetRole(t, s.id(), p, v1::SESSION_ROLE_SPEAKER).ok());
  EXPECT_THAT(WaitUntilRefused(t, s.id(), old.token()),
              HasCode(absl::StatusCode::kUnauthenticated));
  ASSERT_OK_AND_ASSIGN(v1::IssueJoinTokenResponse fresh,
                       IssueJoinToken(t, s.id(), p));
  EXPECT_EQ(fresh.role(), v1::SESSION_ROLE_SPEAKER);
  EXPECT_TRUE(GetSessionAs(t, s.id(), fresh.token()).ok());
}

TEST(RegistrationTest, NoJoinTokensForEndedSessions) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t));
  std::string p = NewParticipant(t, "Aziza");
  ASSERT_TRUE(Register(t, s.id(), p).ok());
  ASSERT_TRUE(Start(t, s.id()).ok());
  ASSERT_TRUE(IssueJoinToken(t, s.id(), p).ok());
  ASSERT_TRUE(End(t, s.id()).ok());
  EXPECT_THAT(
      IssueJoinToken(t, s.id(), p),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("ENDED")));
}

// ---- Series -----------------------------------------------------------------

absl::StatusOr<std::vector<v1::Session>> NewSeries(Tenant& tenant, int count,
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

absl::StatusOr<v1::RegisterForSeriesResponse> RegisterForSeries(
    Tenant& tenant, const std::string& series_id,
    const std::string& participant_id, const std::string& request_id = "") {
  v1::RegisterForSeriesRequest request;
  request.set_series_id(series_id);
  request.set_participant_id(participant_id);
  request.set_request_id(request_id);
  return tenant.client.RegisterForSeries(request);
}

TEST(RegistrationTest, RegisterForSeriesCoversUpcomingOccurrencesInOrder) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Session> occ, NewSeries(t, 4, 1));
  ASSERT_THAT(occ, SizeIs(4));
  const std::string& series = occ[0].series_id();
  std::vector<std::string> p = NewParticipants(t, 2);
  // The first occurrence has ended, the last is cancelled: neither is
  // upcoming.
  ASSERT_TRUE(Start(t, occ[0].id()).ok());
  ASSERT_TRUE(End(t, occ[0].id()).ok());
  ASSERT_TRUE(CancelSession(t, occ[3].id()).ok());
  // p[1] already holds the only seat of the third occurrence.
  ASSERT_TRUE(Register(t, occ[2].id(), p[1]).ok());
  ASSERT_TRUE(Register(t, occ[1].id(), p[0]).ok());

  ASSERT_OK_AND_ASSIGN(v1::RegisterForSeriesResponse r,
                       RegisterForSeries(t, series, p[1], "series-1"));
  ASSERT_THAT(r.registrations(), SizeIs(2));
  EXPECT_EQ(r.registrations(0).session_id(), occ[1].id());
  EXPECT_EQ(r.registrations(0).status(), v1::REGISTRATION_STATUS_WAITLISTED);
  // Already registered: the existing registration, not an error.
  EXPECT_EQ(r.registrations(1).session_id(), occ[2].id());
  EXPECT_EQ(r.registrations(1).status(), v1::REGISTRATION_STATUS_CONFIRMED);

  // A retry answers the same; a new request finds them all registered.
  ASSERT_OK_AND_ASSIGN(v1::RegisterForSeriesResponse retry,
                       RegisterForSeries(t, series, p[1], "series-1"));
  ASSERT_THAT(retry.registrations(), SizeIs(2));
  EXPECT_EQ(retry.registrations(0).waitlist_position(), 1);
  ASSERT_OK_AND_ASSIGN(v1::RegisterForSeriesResponse again,
                       RegisterForSeries(t, series, p[1]));
  EXPECT_THAT(again.registrations(), SizeIs(2));
  ASSERT_OK_AND_ASSIGN(v1::ListRegistrationsResponse list,
                       List(t, occ[1].id()));
  EXPECT_THAT(list.registrations(), SizeIs(2));

  EXPECT_THAT(RegisterForSeries(t, series, "nobody"),
              HasCode(absl::StatusCode::kNotFound));
  EXPECT_THAT(RegisterForSeries(t, "nosuchseries", p[0]),
              HasCode(absl::StatusCode::kNotFound));
}

// ---- Attendance -------------------------------------------------------------

TEST(RegistrationTest, OnlineJoinLeaveAndReport) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  // Scheduled to start within the next 2 hours: joining is open.
  ASSERT_OK_AND_ASSIGN(
      v1::Session s,
      NewSession(t, {.capacity = 3, .start = absl::Now() + absl::Minutes(30)}));
  std::vector<std::string> p = NewParticipants(t, 4);
  for (const std::string& id : p) ASSERT_TRUE(Register(t, s.id(), id).ok());

  ASSERT_OK_AND_ASSIGN(v1::AttendanceRecord joined,
                       Attend(t, s.id(), p[1], v1::ATTENDANCE_ACTION_JOIN));
  EXPECT_TRUE(joined.online_now());
  EXPECT_TRUE(joined.has_first_seen_time());
  EXPECT_EQ(joined.participant_display_name(), "Person 1");
  // A second JOIN while online changes nothing.
  ASSERT_OK_AND_ASSIGN(v1::AttendanceRecord twice,
                       Attend(t, s.id(), p[1], v1::ATTENDANCE_ACTION_JOIN));
  EXPECT_EQ(FromTs(twice.first_seen_time()), FromTs(joined.first_seen_time()));
  absl::SleepFor(absl::Milliseconds(300));
  ASSERT_OK_AND_ASSIGN(v1::AttendanceRecord left,
                       Attend(t, s.id(), p[1], v1::ATTENDANCE_ACTION_LEAVE));
  EXPECT_FALSE(left.online_now());
  absl::Duration first_stint =
      absl::Seconds(left.online_duration().seconds()) +
      absl::Nanoseconds(left.online_duration().nanos());
  EXPECT_GE(first_stint, absl::Milliseconds(300));
  EXPECT_THAT(
      Attend(t, s.id(), p[1], v1::ATTENDANCE_ACTION_LEAVE),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("not joined")));
  EXPECT_THAT(Attend(t, s.id(), p[1], v1::ATTENDANCE_ACTION_CHECK_IN),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("online only")));
  EXPECT_THAT(Attend(t, s.id(), p[1], v1::ATTENDANCE_ACTION_UNSPECIFIED),
              HasCode(absl::StatusCode::kInvalidArgument));

  // The participant's own join token may record their own attendance only.
  ASSERT_OK_AND_ASSIGN(v1::IssueJoinTokenResponse token,
                       IssueJoinToken(t, s.id(), p[0]));
  ASSERT_TRUE(
      Attend(t, s.id(), p[0], v1::ATTENDANCE_ACTION_JOIN, "", token.token())
          .ok());
  EXPECT_THAT(
      Attend(t, s.id(), p[2], v1::ATTENDANCE_ACTION_JOIN, "", token.token()),
      HasCode(absl::StatusCode::kPermissionDenied));
  // Rejoining adds to the online time.
  ASSERT_TRUE(Attend(t, s.id(), p[1], v1::ATTENDANCE_ACTION_JOIN).ok());

  // Waitlisted: no attendance.
  EXPECT_THAT(
      Attend(t, s.id(), p[3], v1::ATTENDANCE_ACTION_JOIN),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("WAITLISTED")));
  EXPECT_THAT(Attend(t, s.id(), "nobody", v1::ATTENDANCE_ACTION_JOIN),
              HasCode(absl::StatusCode::kNotFound));

  absl::SleepFor(absl::Milliseconds(200));
  ASSERT_OK_AND_ASSIGN(v1::GetAttendanceReportResponse report,
                       t.client.GetAttendanceReport([&] {
                         v1::GetAttendanceReportRequest r;
                         r.set_session_id(s.id());
                         return r;
                       }()));
  EXPECT_EQ(report.registered_count(), 3);
  EXPECT_EQ(report.attended_count(), 2);
  ASSERT_THAT(report.records(), SizeIs(2));
  EXPECT_EQ(report.records(0).participant_id(), p[1]);  // first to appear
  EXPECT_EQ(report.records(1).participant_id(), p[0]);
  EXPECT_TRUE(report.records(0).online_now());
  absl::Duration total =
      absl::Seconds(report.records(0).online_duration().seconds()) +
      absl::Nanoseconds(report.records(0).online_duration().nanos());
  // Closed stint plus the open one counted up to the report.
  EXPECT_GE(total, first_stint + absl::Milliseconds(200));
  EXPECT_THAT(FeedKinds(t), ::testing::Contains("attendance.joined"));
}

TEST(RegistrationTest, AttendanceWindowAndIdempotency) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session later,
                       NewSession(t, {.start = absl::Now() + absl::Hours(5)}));
  std::string p = NewParticipant(t, "Aziza");
  ASSERT_TRUE(Register(t, later.id(), p).ok());
  EXPECT_THAT(
      Attend(t, later.id(), p, v1::ATTENDANCE_ACTION_JOIN),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("2 hours")));
  // Live: open whatever the clock says.
  ASSERT_TRUE(Start(t, later.id()).ok());
  ASSERT_OK_AND_ASSIGN(
      v1::AttendanceRecord joined,
      Attend(t, later.id(), p, v1::ATTENDANCE_ACTION_JOIN, "join-1"));
  ASSERT_TRUE(Attend(t, later.id(), p, v1::ATTENDANCE_ACTION_LEAVE).ok());
  // The same JOIN again (a retry) records nothing new: still offline.
  ASSERT_OK_AND_ASSIGN(
      v1::AttendanceRecord retried,
      Attend(t, later.id(), p, v1::ATTENDANCE_ACTION_JOIN, "join-1"));
  EXPECT_FALSE(retried.online_now());
  // Ended: no more joining, but an open JOIN may still be closed.
  ASSERT_TRUE(Attend(t, later.id(), p, v1::ATTENDANCE_ACTION_JOIN).ok());
  ASSERT_TRUE(End(t, later.id()).ok());
  EXPECT_TRUE(Attend(t, later.id(), p, v1::ATTENDANCE_ACTION_LEAVE).ok());
  EXPECT_THAT(
      Attend(t, later.id(), p, v1::ATTENDANCE_ACTION_JOIN),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("ENDED")));

  ASSERT_OK_AND_ASSIGN(v1::Session draft,
                       NewSession(t, {.start = absl::Now() + absl::Minutes(10),
                                      .publish = false}));
  ASSERT_TRUE(Register(t, draft.id(), p).ok());
  EXPECT_THAT(
      Attend(t, draft.id(), p, v1::ATTENDANCE_ACTION_JOIN),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("DRAFT")));
}

TEST(RegistrationTest, CheckInAtTheVenue) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session in_person,
                       NewSession(t, {.format = v1::SESSION_FORMAT_IN_PERSON,
                                      .start = absl::Now() + absl::Hours(1)}));
  ASSERT_OK_AND_ASSIGN(v1::Session hybrid,
                       NewSession(t, {.format = v1::SESSION_FORMAT_HYBRID}));
  std::string p = NewParticipant(t, "Aziza");
  ASSERT_TRUE(Register(t, in_person.id(), p).ok());
  ASSERT_TRUE(Register(t, hybrid.id(), p).ok());

  ASSERT_OK_AND_ASSIGN(
      v1::AttendanceRecord checked,
      Attend(t, in_person.id(), p, v1::ATTENDANCE_ACTION_CHECK_IN));
  EXPECT_TRUE(checked.has_check_in_time());
  EXPECT_TRUE(checked.has_first_seen_time());
  EXPECT_FALSE(checked.online_now());
  EXPECT_THAT(Attend(t, in_person.id(), p, v1::ATTENDANCE_ACTION_JOIN),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("in person only")));
  EXPECT_THAT(Attend(t, in_person.id(), p, v1::ATTENDANCE_ACTION_LEAVE),
              HasCode(absl::StatusCode::kFailedPrecondition));

  // Hybrid takes both, once live.
  ASSERT_TRUE(Start(t, hybrid.id()).ok());
  ASSERT_TRUE(Attend(t, hybrid.id(), p, v1::ATTENDANCE_ACTION_CHECK_IN).ok());
  ASSERT_OK_AND_ASSIGN(v1::AttendanceRecord both,
                       Attend(t, hybrid.id(), p, v1::ATTENDANCE_ACTION_JOIN));
  EXPECT_TRUE(both.online_now());
  EXPECT_TRUE(both.has_check_in_time());
}

TEST(RegistrationTest, SeriesAttendanceByOrganization) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Session> occ, NewSeries(t, 3));
  ASSERT_THAT(occ, SizeIs(3));
  const std::string& series = occ[0].series_id();
  std::string berlin = NewOrganization(t, "Berlin Society");
  std::string paris = NewOrganization(t, "Paris Mission");
  std::string aachen = NewOrganization(t, "Aachen Students");
  std::string b1 = NewParticipant(t, "B1", berlin);
  std::string b2 = NewParticipant(t, "B2", berlin);
  std::string p1 = NewParticipant(t, "P1", paris);
  std::string a1 = NewParticipant(t, "A1", aachen);
  std::string solo = NewParticipant(t, "Solo");
  for (const std::string& id : {b1, b2, p1, a1, solo}) {
    ASSERT_TRUE(RegisterForSeries(t, series, id).ok());
  }

  // Occurrence 1: Berlin (twice over) and the individual attend.
  ASSERT_TRUE(Start(t, occ[0].id()).ok());
  ASSERT_TRUE(Attend(t, occ[0].id(), b1, v1::ATTENDANCE_ACTION_JOIN).ok());
  ASSERT_TRUE(Attend(t, occ[0].id(), b2, v1::ATTENDANCE_ACTION_JOIN).ok());
  ASSERT_TRUE(Attend(t, occ[0].id(), solo, v1::ATTENDANCE_ACTION_JOIN).ok());
  ASSERT_TRUE(End(t, occ[0].id()).ok());
  // Occurrence 2: Berlin and Paris; still live.
  ASSERT_TRUE(Start(t, occ[1].id()).ok());
  ASSERT_TRUE(Attend(t, occ[1].id(), b2, v1::ATTENDANCE_ACTION_JOIN).ok());
  ASSERT_TRUE(Attend(t, occ[1].id(), p1, v1::ATTENDANCE_ACTION_JOIN).ok());
  ASSERT_TRUE(Attend(t, occ[1].id(), p1, v1::ATTENDANCE_ACTION_LEAVE).ok());
  // Occurrence 3 has not taken place.

  v1::GetSeriesAttendanceRequest request;
  request.set_series_id(series);
  ASSERT_OK_AND_ASSIGN(v1::GetSeriesAttendanceResponse report,
                       t.client.GetSeriesAttendance(request));
  EXPECT_EQ(report.occurrences_total(), 2);
  ASSERT_THAT(report.organizations(), SizeIs(3));
  EXPECT_EQ(report.organizations(0).organization_id(), berlin);
  EXPECT_EQ(report.organizations(0).organization_name(), "Berlin Society");
  EXPECT_EQ(report.organizations(0).occurrences_attended(), 2);
  EXPECT_EQ(report.organizations(0).occurrences_total(), 2);
  EXPECT_THAT(report.organizations(0).session_ids(),
              ElementsAre(occ[0].id(), occ[1].id()));
  EXPECT_EQ(report.organizations(1).organization_id(), paris);
  EXPECT_EQ(report.organizations(1).occurrences_attended(), 1);
  EXPECT_THAT(report.organizations(1).session_ids(), ElementsAre(occ[1].id()));
  // Registered, never came: listed with 0.
  EXPECT_EQ(report.organizations(2).organization_id(), aachen);
  EXPECT_EQ(report.organizations(2).organization_name(), "Aachen Students");
  EXPECT_EQ(report.organizations(2).occurrences_attended(), 0);
  EXPECT_THAT(report.organizations(2).session_ids(), SizeIs(0));

  v1::GetAttendanceReportRequest one;
  one.set_session_id(occ[0].id());
  ASSERT_OK_AND_ASSIGN(v1::GetAttendanceReportResponse first,
                       t.client.GetAttendanceReport(one));
  EXPECT_EQ(first.registered_count(), 5);
  EXPECT_EQ(first.attended_count(), 3);
  EXPECT_EQ(first.records(0).participant_id(), b1);
  EXPECT_EQ(first.records(0).organization_id(), berlin);
}

}  // namespace
}  // namespace townhall::testing
