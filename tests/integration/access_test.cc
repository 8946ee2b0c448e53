// The access table (services/common/auth/authorization.cc) drives this
// test: every RPC of every hosted service is called by every kind of caller,
// and the server must answer as the table says.
//
//   caller kinds: anonymous, another tenant's organizer, organizer, session
//   organizer, moderator, speaker, participant, observer, an API key with
//   one of the rule's scopes, an API key without them.
//
// Each RPC gets a fresh session in tenant A with one registered participant
// per session role, so that mutations by one caller cannot change what the
// next one sees. Requests carry real ids of tenant A (session, participant,
// organization, venue, series, tenant), so a refusal is about who calls,
// not about a missing object. Refused callers must get PERMISSION_DENIED
// (anonymous: UNAUTHENTICATED); allowed ones must not. Beyond the table:
//   - another tenant's organizer never gets an answer that carries any of
//     tenant A's ids;
//   - no answer to anyone but A's organizer carries contact details.
// A method without a row fails AccessTableCoversEveryMethodOfEveryService
// in auth_test; a row without a method fails here.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/auth/authorization.h"
#include "tests/testing/generic_call.h"
#include "tests/testing/shared_server.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_server.h"

namespace townhall::testing {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::MethodDescriptor;

constexpr char kContactEmail[] = "matrix.contact@example.uz";
constexpr char kContactPhone[] = "+998 71 555 01 02";
constexpr char kOrgEmail[] = "office.matrix@example.org";

// One kind of caller.
struct Caller {
  std::string name;
  // "" for anonymous.
  std::string token;
  // What the server should decide for `rule` (set per rule below).
  Principal principal;
  bool anonymous = false;
  bool other_tenant = false;
  // The participant a join token names ("" otherwise).
  std::string participant_id;
};

// The ids of tenant A that a request may name.
struct Fixture {
  std::string tenant_id;
  std::string session_id;
  std::string series_id;
  std::string venue_id;
  std::string organization_id;
  std::string api_key_id;
  // Participant per session role (and "participant" for organizers).
  std::map<Role, std::string> participants;
};

class AccessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TestServer& server = ServerEnvironment::server();
    ASSERT_OK_AND_ASSIGN(organizer_token_,
                         server.NewTenantToken(&fixture_.tenant_id));
    ASSERT_OK_AND_ASSIGN(other_token_, server.NewTenantToken(&other_tenant_));
    TownhallClient organizer = server.Client(organizer_token_);

    v1::CreateVenueRequest venue;
    venue.mutable_venue()->set_name("Embassy of Uzbekistan in Moscow");
    venue.mutable_venue()->set_time_zone("Europe/Moscow");
    ASSERT_OK_AND_ASSIGN(v1::CreateVenueResponse made_venue,
                         organizer.CreateVenue(venue));
    fixture_.venue_id = made_venue.venue().id();

    v1::CreateSeriesRequest series;
    *series.mutable_series()->mutable_template_() = SessionTemplate();
    series.mutable_series()->set_rrule("FREQ=MONTHLY;COUNT=2");
    series.set_publish(true);
    ASSERT_OK_AND_ASSIGN(v1::CreateSeriesResponse made_series,
                         organizer.CreateSeries(series));
    fixture_.series_id = made_series.series().id();

    v1::CreateOrganizationRequest org;
    org.mutable_organization()->set_name("Vatandoshlar matrix jamiyati");
    org.mutable_organization()->set_country_code("RU");
    org.mutable_organization()->set_city("Moskva");
    org.mutable_organization()->set_contact_email(kOrgEmail);
    ASSERT_OK_AND_ASSIGN(v1::CreateOrganizationResponse made_org,
                         organizer.CreateOrganization(org));
    fixture_.organization_id = made_org.organization().id();

    v1::CreateApiKeyRequest key;
    key.mutable_api_key()->set_display_name("Matrix portal");
    key.mutable_api_key()->add_scopes(v1::API_SCOPE_READ_SCHEDULE);
    ASSERT_OK_AND_ASSIGN(v1::CreateApiKeyResponse made_key,
                         organizer.CreateApiKey(key));
    fixture_.api_key_id = made_key.api_key().id();
  }

  v1::Session SessionTemplate() const {
    v1::Session session;
    session.set_title("Muloqot: vatandoshlar bilan videokonferensiya");
    session.set_time_zone("Asia/Tashkent");
    session.set_format(v1::SESSION_FORMAT_ONLINE);
    session.set_capacity(20);
    session.mutable_start_time()->set_seconds(
        absl::ToUnixSeconds(absl::Now() + absl::Hours(24 * 30)));
    session.mutable_duration()->set_seconds(7200);
    return session;
  }

  // A fresh session with one confirmed registration per session role.
  void NewSession() {
    TownhallClient organizer =
        ServerEnvironment::server().Client(organizer_token_);
    v1::CreateSessionRequest create;
    *create.mutable_session() = SessionTemplate();
    create.set_publish(true);
    absl::StatusOr<v1::CreateSessionResponse> session =
        organizer.CreateSession(create);
    ASSERT_TRUE(session.ok()) << session.status();
    fixture_.session_id = session->session().id();
    fixture_.participants.clear();
    const std::pair<Role, v1::SessionRole> roles[] = {
        {Role::kSessionOrganizer, v1::SESSION_ROLE_ORGANIZER},
        {Role::kModerator, v1::SESSION_ROLE_MODERATOR},
        {Role::kSpeaker, v1::SESSION_ROLE_SPEAKER},
        {Role::kParticipant, v1::SESSION_ROLE_PARTICIPANT},
        {Role::kObserver, v1::SESSION_ROLE_OBSERVER},
    };
    for (const auto& [role, session_role] : roles) {
      v1::CreateParticipantRequest person;
      person.mutable_participant()->set_display_name(
          absl::StrCat("Matrix ", RoleName(role), " ", fixture_.session_id));
      person.mutable_participant()->set_organization_id(
          fixture_.organization_id);
      person.mutable_participant()->set_email(absl::StrCat(
          RoleName(role), ".", fixture_.session_id, ".", kContactEmail));
      person.mutable_participant()->set_phone(kContactPhone);
      absl::StatusOr<v1::CreateParticipantResponse> made =
          organizer.CreateParticipant(person);
      ASSERT_TRUE(made.ok()) << made.status();
      v1::RegisterRequest reg;
      reg.set_session_id(fixture_.session_id);
      reg.set_participant_id(made->participant().id());
      reg.set_role(session_role);
      absl::StatusOr<v1::RegisterResponse> registered = organizer.Register(reg);
      ASSERT_TRUE(registered.ok()) << registered.status();
      ASSERT_EQ(registered->registration().status(),
                v1::REGISTRATION_STATUS_CONFIRMED);
      fixture_.participants[role] = made->participant().id();
    }
  }

  std::vector<Caller> Callers(const AccessRule& rule) const {
    absl::Time now = absl::Now();
    auto principal = [&](Role role, const std::string& tenant) {
      Principal p;
      p.role = role;
      p.tenant_id = tenant;
      return p;
    };
    std::vector<Caller> callers;
    callers.push_back({"anonymous", "", {}, /*anonymous=*/true});
    Caller other{"other tenant's organizer", other_token_,
                 principal(Role::kOrganizer, other_tenant_)};
    other.other_tenant = true;
    callers.push_back(other);
    for (Role role : {Role::kSessionOrganizer, Role::kModerator, Role::kSpeaker,
                      Role::kParticipant, Role::kObserver}) {
      const std::string& participant = fixture_.participants.at(role);
      TokenClaims claims{.tenant_id = fixture_.tenant_id,
                         .subject = participant,
                         .role = role,
                         .issue_time = now,
                         .expire_time = now + absl::Hours(1),
                         .session_id = fixture_.session_id,
                         .participant_id = participant};
      Caller caller{std::string(RoleName(role)), SignTestToken(claims),
                    principal(role, fixture_.tenant_id)};
      caller.principal.session_id = fixture_.session_id;
      caller.principal.participant_id = participant;
      caller.participant_id = participant;
      callers.push_back(caller);
    }
    // API keys: one holding a scope the rule accepts (or every scope when it
    // accepts none), one holding only the scopes it does not.
    const uint32_t all_scopes = ScopeBit(ApiScope::kReadSchedule) |
                                ScopeBit(ApiScope::kManageRegistrations) |
                                ScopeBit(ApiScope::kSubmitQuestions);
    uint32_t with = rule.api_scopes == kAnyApiKey || rule.api_scopes == 0
                        ? all_scopes
                        : (rule.api_scopes & all_scopes);
    uint32_t without = all_scopes & ~rule.api_scopes;
    if (without == 0) without = ScopeBit(ApiScope::kSubmitQuestions);
    for (const auto& [name, scopes] :
         {std::pair<std::string, uint32_t>{"API key with the scope", with},
          {"API key without the scope", without}}) {
      TokenClaims claims{.tenant_id = fixture_.tenant_id,
                         .subject = "api-key:matrix",
                         .role = Role::kApiClient,
                         .issue_time = now,
                         .expire_time = now + absl::Hours(1),
                         .scopes = scopes,
                         .token_id = absl::StrCat("matrix-", scopes)};
      Caller caller{name, SignTestToken(claims),
                    principal(Role::kApiClient, fixture_.tenant_id)};
      caller.principal.scopes = scopes;
      callers.push_back(caller);
    }
    // The organizer last: their mutations come after everyone else's calls.
    callers.push_back({"organizer", organizer_token_,
                       principal(Role::kOrganizer, fixture_.tenant_id)});
    return callers;
  }

  std::unique_ptr<Message> RequestFor(const MethodDescriptor& method,
                                      const Caller& caller) const {
    std::unique_ptr<Message> request = NewRequest(method);
    // series_id before session_id: in a oneof (ExportCalendar) the last
    // one set wins, and the session is what a join token may name.
    SetStringField(request.get(), "series_id", fixture_.series_id);
    SetStringField(request.get(), "session_id", fixture_.session_id);
    SetStringField(request.get(), "participant_id",
                   caller.participant_id.empty()
                       ? fixture_.participants.at(Role::kParticipant)
                       : caller.participant_id);
    SetStringField(request.get(), "venue_id", fixture_.venue_id);
    SetStringField(request.get(), "organization_id", fixture_.organization_id);
    SetStringField(request.get(), "tenant_id", fixture_.tenant_id);
    SetStringField(request.get(), "api_key_id", fixture_.api_key_id);
    return request;
  }

  // Strings of tenant A that another tenant must never see.
  std::vector<std::string> TenantAIds() const {
    std::vector<std::string> ids = {fixture_.session_id, fixture_.series_id,
                                    fixture_.venue_id, fixture_.organization_id,
                                    fixture_.api_key_id};
    for (const auto& [role, id] : fixture_.participants) ids.push_back(id);
    return ids;
  }

  Fixture fixture_;
  std::string organizer_token_;
  std::string other_token_;
  std::string other_tenant_;
};

TEST_F(AccessTest, EveryRpcAnswersEveryCallerAsTheTableSays) {
  std::shared_ptr<grpc::Channel> channel =
      ServerEnvironment::server().Client().channel();
  int allowed_calls = 0;
  int refused_calls = 0;
  for (const AccessRule& rule : AccessRules()) {
    const MethodDescriptor* method = FindMethod(rule.method);
    ASSERT_NE(method, nullptr) << "no such method: " << rule.method;
    NewSession();
    for (const Caller& caller : Callers(rule)) {
      SCOPED_TRACE(absl::StrCat(rule.method, " by ", caller.name));
      std::unique_ptr<Message> request = RequestFor(*method, caller);
      std::string response;
      absl::Status status = CallWithToken(channel, std::string(rule.method),
                                          *request, caller.token, &response);
      if (caller.anonymous) {
        EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated) << status;
        ++refused_calls;
        continue;
      }
      bool allowed = RuleAllows(rule, caller.principal);
      if (allowed && FindMethod(rule.method)->server_streaming() &&
          status.code() == absl::StatusCode::kDeadlineExceeded) {
        status = absl::OkStatus();  // the watch was open: let in
      }
      if (allowed) {
        ++allowed_calls;
        EXPECT_NE(status.code(), absl::StatusCode::kPermissionDenied) << status;
        EXPECT_NE(status.code(), absl::StatusCode::kUnauthenticated) << status;
        EXPECT_NE(status.code(), absl::StatusCode::kUnimplemented) << status;
        EXPECT_NE(status.code(), absl::StatusCode::kInternal) << status;
      } else {
        ++refused_calls;
        EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied) << status;
      }
      if (status.ok() && caller.other_tenant) {
        for (const std::string& id : TenantAIds()) {
          EXPECT_FALSE(absl::StrContains(response, id))
              << "another tenant sees " << id;
        }
      }
      if (status.ok() && caller.principal.role != Role::kOrganizer) {
        EXPECT_FALSE(absl::StrContains(response, kContactEmail));
        EXPECT_FALSE(absl::StrContains(response, kContactPhone));
        EXPECT_FALSE(absl::StrContains(response, kOrgEmail));
      }
    }
  }
  // The table is not all-allow or all-deny.
  EXPECT_GT(allowed_calls, 100);
  EXPECT_GT(refused_calls, 200);
}

// The table itself, checked against the policy in docs/registration.md
// (so that a careless row cannot make the test above pass vacuously).
TEST(AccessTableTest, FollowsThePolicy) {
  for (const AccessRule& rule : AccessRules()) {
    SCOPED_TRACE(rule.method);
    absl::string_view method = rule.method;
    const bool tenants =
        absl::StartsWith(method, "/townhall.v1.TenantService/");
    // Only the operator manages tenants; organizers issue their own tokens
    // and keys; API keys and join tokens never touch tenants or keys.
    if (tenants) {
      EXPECT_EQ(rule.api_scopes, 0u);
      EXPECT_EQ(
          rule.roles & (RoleBit(Role::kSessionOrganizer) |
                        RoleBit(Role::kModerator) | RoleBit(Role::kSpeaker) |
                        RoleBit(Role::kParticipant) | RoleBit(Role::kObserver)),
          0u);
    } else if (!absl::EndsWith(method, "/Ping")) {
      // The operator never reaches a tenant's data; organizers reach all.
      EXPECT_EQ(rule.roles & RoleBit(Role::kOperator), 0u);
      EXPECT_NE(rule.roles & RoleBit(Role::kOrganizer), 0u);
    }
    // Only the session's runners may ever act for another member.
    EXPECT_EQ(rule.acts_for_others & ~(RoleBit(Role::kSessionOrganizer) |
                                       RoleBit(Role::kModerator)),
              0u)
        << method;
    // Members other than runners may only read their session, manage their
    // own registration and attendance.
    for (Role member : {Role::kSpeaker, Role::kParticipant, Role::kObserver}) {
      if (rule.roles & RoleBit(member)) {
        const bool own_only = rule.own_registration_only;
        const bool read = absl::EndsWith(method, "/GetSession") ||
                          absl::EndsWith(method, "/ExportCalendar") ||
                          absl::EndsWith(method, "/Ping") ||
                          absl::EndsWith(method, "/GetAgenda") ||
                          absl::EndsWith(method, "/ListTopicProposals") ||
                          absl::EndsWith(method, "/GetSpeakersQueue") ||
                          absl::EndsWith(method, "/ListActionItems") ||
                          absl::EndsWith(method, "/WatchAgenda") ||
                          absl::EndsWith(method, "/GetQuestion") ||
                          absl::EndsWith(method, "/ListQuestions") ||
                          absl::EndsWith(method, "/SuggestDuplicates") ||
                          absl::EndsWith(method, "/GetQueueSettings") ||
                          absl::EndsWith(method, "/ExportQuestions") ||
                          absl::EndsWith(method, "/WatchQueue") ||
                          absl::EndsWith(method, "/GetPoll") ||
                          absl::EndsWith(method, "/ListPolls") ||
                          absl::EndsWith(method, "/WatchPolls") ||
                          absl::EndsWith(method, "/ExportPollResults");
        EXPECT_TRUE(read || own_only) << RoleName(member);
      }
    }
    // Registrations, roles and tokens are never self-served by members.
    for (absl::string_view organizer_only :
         {"/Register", "/RegisterForSeries", "/SetRole", "/IssueJoinToken",
          "/ImportDirectory", "/InviteOrganization", "/CreateApiKey"}) {
      if (absl::EndsWith(method, organizer_only)) {
        EXPECT_EQ(rule.roles & ~(RoleBit(Role::kOrganizer) |
                                 RoleBit(Role::kSessionOrganizer)),
                  0u);
      }
    }
  }
}

TEST(AccessTableTest, DocsShowTheCurrentTable) {
  // docs/registration.md embeds the table between two markers; regenerate
  // it with `build/services/common/townhall-access-table`.
  std::ifstream in(TOWNHALL_SOURCE_DIR "/docs/registration.md");
  ASSERT_TRUE(in.good());
  std::stringstream doc;
  doc << in.rdbuf();
  EXPECT_TRUE(absl::StrContains(doc.str(), AccessTableMarkdown()))
      << "docs/registration.md is out of date; paste this:\n"
      << AccessTableMarkdown();
}

TEST(AccessTableTest, MarkdownListsEveryRule) {
  std::string table = AccessTableMarkdown();
  for (const AccessRule& rule : AccessRules()) {
    std::string name(rule.method.substr(std::string("/townhall.v1.").size()));
    EXPECT_TRUE(absl::StrContains(table, absl::StrCat("| ", name, " |")))
        << name;
  }
}

}  // namespace
}  // namespace townhall::testing
