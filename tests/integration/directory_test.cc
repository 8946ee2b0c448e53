// Integration tests of the directory part of RegistrationService
// (organizations, participants, CSV import): the C++ client talks gRPC to
// the shared in-process server backed by a real Redis. Every test works in
// tenants of its own.
#include <gmock/gmock.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <latch>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/common/auth/jwt.h"
#include "services/common/auth/principal.h"
#include "services/common/redis/redis_connection.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/shared_server.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_server.h"

namespace townhall::testing {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using ::testing::StartsWith;

// A client holding an API key of `tenant_id` (a registration portal).
TownhallClient ApiKeyClient(
    const std::string& tenant_id,
    uint32_t scopes = ScopeBit(ApiScope::kManageRegistrations)) {
  absl::Time now = absl::Now();
  return ServerEnvironment::server().Client(
      SignTestToken(TokenClaims{.tenant_id = tenant_id,
                                .subject = "portal",
                                .role = Role::kApiClient,
                                .issue_time = now,
                                .expire_time = now + absl::Hours(1),
                                .scopes = scopes,
                                .token_id = "key-1"}));
}

std::string ReadFixture(const std::string& name) {
  std::ifstream in(absl::StrCat(TOWNHALL_SOURCE_DIR, "/tests/data/", name),
                   std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

// ---- Builders and calls
// ------------------------------------------------------

v1::Organization Org(std::string name, std::string country = "RU") {
  v1::Organization org;
  org.set_name(std::move(name));
  org.set_country_code(std::move(country));
  org.set_city("Qozon");
  org.set_contact_name("Dilnoza Karimova");
  org.set_contact_email("dilnoza.karimova@example.org");
  org.set_contact_phone("+7 (843) 210-45-67");
  return org;
}

v1::Participant Person(std::string name, std::string organization_id = "",
                       std::string email = "") {
  v1::Participant p;
  p.set_display_name(std::move(name));
  p.set_organization_id(std::move(organization_id));
  p.set_email(std::move(email));
  p.set_phone("+7 912 345-67-89");
  p.set_preferred_language("uz-Latn");
  p.set_time_zone("Europe/Moscow");
  return p;
}

absl::StatusOr<v1::Organization> CreateOrg(TownhallClient& client,
                                           const v1::Organization& org,
                                           std::string request_id = "") {
  v1::CreateOrganizationRequest request;
  *request.mutable_organization() = org;
  request.set_request_id(std::move(request_id));
  absl::StatusOr<v1::CreateOrganizationResponse> response =
      client.CreateOrganization(request);
  if (!response.ok()) return response.status();
  return response->organization();
}

absl::StatusOr<v1::Organization> GetOrg(TownhallClient& client,
                                        const std::string& id) {
  v1::GetOrganizationRequest request;
  request.set_organization_id(id);
  absl::StatusOr<v1::GetOrganizationResponse> response =
      client.GetOrganization(request);
  if (!response.ok()) return response.status();
  return response->organization();
}

absl::StatusOr<v1::Participant> CreatePerson(TownhallClient& client,
                                             const v1::Participant& p,
                                             std::string request_id = "") {
  v1::CreateParticipantRequest request;
  *request.mutable_participant() = p;
  request.set_request_id(std::move(request_id));
  absl::StatusOr<v1::CreateParticipantResponse> response =
      client.CreateParticipant(request);
  if (!response.ok()) return response.status();
  return response->participant();
}

absl::StatusOr<v1::Participant> GetPerson(TownhallClient& client,
                                          const std::string& id) {
  v1::GetParticipantRequest request;
  request.set_participant_id(id);
  absl::StatusOr<v1::GetParticipantResponse> response =
      client.GetParticipant(request);
  if (!response.ok()) return response.status();
  return response->participant();
}

// Every organization ListOrganizations returns, following page tokens.
absl::StatusOr<std::vector<v1::Organization>> ListOrgs(
    TownhallClient& client, std::string country_code = "", int page_size = 0) {
  v1::ListOrganizationsRequest request;
  request.set_country_code(std::move(country_code));
  request.set_page_size(page_size);
  std::vector<v1::Organization> out;
  for (int page = 0; page < 1000; ++page) {
    absl::StatusOr<v1::ListOrganizationsResponse> response =
        client.ListOrganizations(request);
    if (!response.ok()) return response.status();
    if (page_size > 0 && response->organizations_size() > page_size) {
      return absl::InternalError("page larger than page_size");
    }
    out.insert(out.end(), response->organizations().begin(),
               response->organizations().end());
    if (response->next_page_token().empty()) return out;
    request.set_page_token(response->next_page_token());
  }
  return absl::InternalError("ListOrganizations does not end");
}

absl::StatusOr<std::vector<v1::Participant>> ListPeople(
    TownhallClient& client, std::string organization_id = "",
    int page_size = 0) {
  v1::ListParticipantsRequest request;
  request.set_organization_id(std::move(organization_id));
  request.set_page_size(page_size);
  std::vector<v1::Participant> out;
  for (int page = 0; page < 1000; ++page) {
    absl::StatusOr<v1::ListParticipantsResponse> response =
        client.ListParticipants(request);
    if (!response.ok()) return response.status();
    if (page_size > 0 && response->participants_size() > page_size) {
      return absl::InternalError("page larger than page_size");
    }
    out.insert(out.end(), response->participants().begin(),
               response->participants().end());
    if (response->next_page_token().empty()) return out;
    request.set_page_token(response->next_page_token());
  }
  return absl::InternalError("ListParticipants does not end");
}

template <typename Message>
std::vector<std::string> Ids(const std::vector<Message>& messages) {
  std::vector<std::string> ids;
  for (const Message& m : messages) ids.push_back(m.id());
  return ids;
}

absl::StatusOr<v1::ImportDirectoryResponse> Import(
    TownhallClient& client, std::string organizations_csv,
    std::string participants_csv, bool validate_only = false) {
  v1::ImportDirectoryRequest request;
  request.set_organizations_csv(std::move(organizations_csv));
  request.set_participants_csv(std::move(participants_csv));
  request.set_validate_only(validate_only);
  return client.ImportDirectory(request);
}

// "file:line: reason" of every import error, for readable failures.
std::vector<std::string> Errors(const v1::ImportDirectoryResponse& response) {
  std::vector<std::string> out;
  for (const v1::ImportError& e : response.errors()) {
    out.push_back(absl::StrCat(e.file(), ":", e.line(), ": ", e.reason()));
  }
  return out;
}

MATCHER_P3(ImportErrorIs, file, line, reason_matcher, "") {
  return arg.file() == file && arg.line() == line &&
         ::testing::ExplainMatchResult(reason_matcher, arg.reason(),
                                       result_listener);
}

// ---- Organizations
// -----------------------------------------------------------

TEST(DirectoryTest, CreateGetAndListOrganizations) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  v1::Organization wanted = Org("Qozon oʻzbeklari jamiyati");
  (*wanted.mutable_localized_names())["ru"] = "Общество узбеков Казани";
  (*wanted.mutable_localized_names())["en"] = "Uzbek Society of Kazan";
  // Server-owned fields from the client are ignored.
  wanted.set_id("chosen-by-client");
  wanted.set_tenant_id("someone-else");
  wanted.mutable_create_time()->set_seconds(1);

  ASSERT_OK_AND_ASSIGN(v1::Organization created, CreateOrg(t.client, wanted));
  EXPECT_NE(created.id(), "chosen-by-client");
  EXPECT_THAT(created.id(), SizeIs(16));
  EXPECT_EQ(created.tenant_id(), t.id);
  EXPECT_GT(created.create_time().seconds(),
            absl::ToUnixSeconds(absl::Now() - absl::Minutes(1)));
  EXPECT_EQ(created.name(), "Qozon oʻzbeklari jamiyati");
  EXPECT_EQ(created.localized_names().at("ru"), "Общество узбеков Казани");
  EXPECT_EQ(created.country_code(), "RU");
  EXPECT_EQ(created.contact_email(), "dilnoza.karimova@example.org");

  ASSERT_OK_AND_ASSIGN(v1::Organization got, GetOrg(t.client, created.id()));
  EXPECT_TRUE(MessageDifferencer::Equals(got, created))
      << got.DebugString() << created.DebugString();

  ASSERT_OK_AND_ASSIGN(
      v1::Organization tashkent,
      CreateOrg(t.client, Org("Diaspora va yoshlar siyosati vazirligi", "UZ")));
  ASSERT_OK_AND_ASSIGN(v1::Organization moscow,
                       CreateOrg(t.client, Org("Moskva oʻzbeklari jamiyati")));

  ASSERT_OK_AND_ASSIGN(std::vector<v1::Organization> all, ListOrgs(t.client));
  std::vector<std::string> ids = {created.id(), tashkent.id(), moscow.id()};
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(Ids(all), ids);  // ordered by id

  ASSERT_OK_AND_ASSIGN(std::vector<v1::Organization> uz,
                       ListOrgs(t.client, "UZ"));
  EXPECT_THAT(Ids(uz), ElementsAre(tashkent.id()));
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Organization> ru,
                       ListOrgs(t.client, "RU"));
  EXPECT_THAT(ru, SizeIs(2));
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Organization> de,
                       ListOrgs(t.client, "DE"));
  EXPECT_THAT(de, IsEmpty());
}

TEST(DirectoryTest, OrganizationFieldsAreTrimmedAndCanonicalized) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  v1::Organization org = Org("  Samara «Mahalla» oʻzbek jamoasi \t");
  (*org.mutable_localized_names())["UZ-latn"] = " Samara «Mahalla» jamoasi ";
  org.set_contact_email(" Aziz.Karimov@Example.ORG ");
  ASSERT_OK_AND_ASSIGN(v1::Organization created, CreateOrg(t.client, org));
  EXPECT_EQ(created.name(), "Samara «Mahalla» oʻzbek jamoasi");
  EXPECT_EQ(created.localized_names().size(), 1);
  EXPECT_EQ(created.localized_names().at("uz-Latn"),
            "Samara «Mahalla» jamoasi");
  EXPECT_EQ(created.contact_email(), "aziz.karimov@example.org");
}

TEST(DirectoryTest, ListOrganizationsPagesWithoutGapsOrDuplicates) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  std::vector<std::string> ids;
  for (int i = 0; i < 7; ++i) {
    ASSERT_OK_AND_ASSIGN(
        v1::Organization org,
        CreateOrg(t.client, Org(absl::StrCat("Vatandoshlar uyi ", i))));
    ids.push_back(org.id());
  }
  std::sort(ids.begin(), ids.end());
  for (int page_size : {1, 3, 7, 500}) {
    ASSERT_OK_AND_ASSIGN(std::vector<v1::Organization> all,
                         ListOrgs(t.client, "", page_size));
    EXPECT_EQ(Ids(all), ids) << "page_size " << page_size;
  }

  v1::ListOrganizationsRequest request;
  request.set_page_size(3);
  ASSERT_OK_AND_ASSIGN(v1::ListOrganizationsResponse first,
                       t.client.ListOrganizations(request));
  EXPECT_THAT(first.organizations(), SizeIs(3));
  EXPECT_FALSE(first.next_page_token().empty());

  request.set_page_token("not a token");
  EXPECT_THAT(
      t.client.ListOrganizations(request),
      StatusIs(absl::StatusCode::kInvalidArgument, StartsWith("page_token:")));
  request.set_page_token("");
  request.set_page_size(-1);
  EXPECT_THAT(
      t.client.ListOrganizations(request),
      StatusIs(absl::StatusCode::kInvalidArgument, StartsWith("page_size:")));
}

TEST(DirectoryTest, InvalidOrganizationsNameTheField) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  struct Case {
    std::string what;
    std::function<void(v1::Organization*)> change;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"no name", [](auto* o) { o->clear_name(); }, "organization.name:"},
      {"blank name", [](auto* o) { o->set_name("   "); }, "organization.name:"},
      {"long name", [](auto* o) { o->set_name(std::string(301, 'a')); },
       "organization.name:"},
      {"two-line name", [](auto* o) { o->set_name("Vatandosh\nuyi"); },
       "organization.name:"},
      {"punctuation name", [](auto* o) { o->set_name("«—»"); },
       "organization.name:"},
      {"bad language tag",
       [](auto* o) {
         (*o->mutable_localized_names())["russian!"] = "Общество";
       },
       "organization.localized_names:"},
      {"empty localized name",
       [](auto* o) { (*o->mutable_localized_names())["ru"] = " "; },
       "organization.localized_names[\"ru\"]:"},
      {"long localized name",
       [](auto* o) {
         (*o->mutable_localized_names())["en"] = std::string(301, 'x');
       },
       "organization.localized_names[\"en\"]:"},
      {"same language twice",
       [](auto* o) {
         (*o->mutable_localized_names())["uz-Latn"] = "Vatandosh";
         (*o->mutable_localized_names())["uz-latn"] = "Vatandoshlar";
       },
       "organization.localized_names:"},
      {"no country", [](auto* o) { o->clear_country_code(); },
       "organization.country_code:"},
      {"country name", [](auto* o) { o->set_country_code("Russia"); },
       "organization.country_code:"},
      {"lowercase country", [](auto* o) { o->set_country_code("ru"); },
       "organization.country_code:"},
      {"long city", [](auto* o) { o->set_city(std::string(101, 'c')); },
       "organization.city:"},
      {"long contact name",
       [](auto* o) { o->set_contact_name(std::string(201, 'n')); },
       "organization.contact_name:"},
      {"email without @",
       [](auto* o) { o->set_contact_email("info.example.org"); },
       "organization.contact_email:"},
      {"email with two @",
       [](auto* o) { o->set_contact_email("info@@example.org"); },
       "organization.contact_email:"},
      {"email without domain dot",
       [](auto* o) { o->set_contact_email("info@localhost"); },
       "organization.contact_email:"},
      {"email with space",
       [](auto* o) { o->set_contact_email("dil noza@example.org"); },
       "organization.contact_email:"},
      {"long email",
       [](auto* o) {
         o->set_contact_email(std::string(250, 'a') + "@example.org");
       },
       "organization.contact_email:"},
      {"phone with letters",
       [](auto* o) { o->set_contact_phone("+7 call me"); },
       "organization.contact_phone:"},
      {"phone without digits", [](auto* o) { o->set_contact_phone("+ ( ) -"); },
       "organization.contact_phone:"},
      {"long phone",
       [](auto* o) { o->set_contact_phone(std::string(33, '1')); },
       "organization.contact_phone:"},
  };
  for (const Case& c : cases) {
    v1::Organization org = Org("Vatandoshlar uyi, Qozon");
    c.change(&org);
    EXPECT_THAT(
        CreateOrg(t.client, org),
        StatusIs(absl::StatusCode::kInvalidArgument, StartsWith(c.field)))
        << c.what;
  }
  EXPECT_THAT(
      CreateOrg(t.client, Org("Vatandoshlar uyi"), "has spaces"),
      StatusIs(absl::StatusCode::kInvalidArgument, StartsWith("request_id:")));
  // Nothing was stored.
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Organization> all, ListOrgs(t.client));
  EXPECT_THAT(all, IsEmpty());

  v1::ListOrganizationsRequest list;
  list.set_country_code("RUS");
  EXPECT_THAT(t.client.ListOrganizations(list),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       StartsWith("country_code:")));
  EXPECT_THAT(GetOrg(t.client, ""), StatusIs(absl::StatusCode::kInvalidArgument,
                                             StartsWith("organization_id:")));
  EXPECT_THAT(GetOrg(t.client, "no/such:id"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       StartsWith("organization_id:")));
  EXPECT_THAT(GetOrg(t.client, "aaaaaaaaaaaaaaaa"),
              HasCode(absl::StatusCode::kNotFound));
}

TEST(DirectoryTest, SameNameInAnyScriptInTheSameCountryIsADuplicate) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(
      v1::Organization cyrillic,
      CreateOrg(t.client, Org("Ўзбекистон маданият маркази, Қозон")));

  // The Uzbek Latin spelling, with the real oʻ, a typed apostrophe, or in
  // capitals: the same organization.
  for (const std::string name : {"Oʻzbekiston madaniyat markazi, Qozon",
                                 "O'zbekiston madaniyat markazi - Qozon",
                                 "OʻZBEKISTON MADANIYAT MARKAZI QOZON"}) {
    EXPECT_THAT(CreateOrg(t.client, Org(name)),
                StatusIs(absl::StatusCode::kAlreadyExists,
                         AllOf(HasSubstr(cyrillic.id()),
                               HasSubstr("Ўзбекистон маданият маркази"))))
        << name;
  }
  // The same name in another country is another organization.
  ASSERT_OK_AND_ASSIGN(
      v1::Organization uz,
      CreateOrg(t.client, Org("Oʻzbekiston madaniyat markazi, Qozon", "UZ")));
  EXPECT_NE(uz.id(), cyrillic.id());

  // Localized names count too, both ways.
  v1::Organization kazan = Org("Qozon oʻzbeklari jamiyati");
  (*kazan.mutable_localized_names())["ru"] = "Общество узбеков Казани";
  ASSERT_OK_AND_ASSIGN(v1::Organization society, CreateOrg(t.client, kazan));
  EXPECT_THAT(CreateOrg(t.client, Org("ОБЩЕСТВО УЗБЕКОВ КАЗАНИ")),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       AllOf(HasSubstr(society.id()),
                             HasSubstr("Общество узбеков Казани"))));
  v1::Organization other = Org("Uzbek Society of Kazan");
  (*other.mutable_localized_names())["uz-Latn"] = "Qozon o'zbeklari jamiyati";
  EXPECT_THAT(
      CreateOrg(t.client, other),
      StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr(society.id())));

  ASSERT_OK_AND_ASSIGN(std::vector<v1::Organization> all, ListOrgs(t.client));
  EXPECT_THAT(all, SizeIs(3));
}

TEST(DirectoryTest, CreateOrganizationWithTheSameRequestIdCreatesOnce) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(
      v1::Organization first,
      CreateOrg(t.client, Org("Ufa oʻzbek ayollari kengashi"), "org-req-1"));
  ASSERT_OK_AND_ASSIGN(
      v1::Organization again,
      CreateOrg(t.client, Org("Ufa oʻzbek ayollari kengashi"), "org-req-1"));
  EXPECT_TRUE(MessageDifferencer::Equals(first, again));
  // Another request for the same organization is a duplicate.
  EXPECT_THAT(
      CreateOrg(t.client, Org("Ufa oʻzbek ayollari kengashi"), "org-req-2"),
      HasCode(absl::StatusCode::kAlreadyExists));
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Organization> all, ListOrgs(t.client));
  EXPECT_THAT(Ids(all), ElementsAre(first.id()));
}

TEST(DirectoryTest, ConcurrentCreatesOfOneOrganizationCreateItOnce) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  constexpr int kThreads = 8;
  std::vector<absl::StatusOr<v1::Organization>> results(kThreads);
  std::latch go(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      TownhallClient client = ServerEnvironment::server().Client(t.token);
      // Each spells it differently; all fold to the same name.
      v1::Organization org = Org(i % 2 == 0 ? "Tomsk oʻzbek talabalari jamiyati"
                                            : "Томск ўзбек талабалари жамияти");
      go.arrive_and_wait();
      results[i] = CreateOrg(client, org);
    });
  }
  for (std::thread& th : threads) th.join();
  int created = 0;
  for (const auto& result : results) {
    if (result.ok()) {
      ++created;
    } else {
      EXPECT_THAT(result, HasCode(absl::StatusCode::kAlreadyExists));
    }
  }
  EXPECT_EQ(created, 1);
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Organization> all, ListOrgs(t.client));
  EXPECT_THAT(all, SizeIs(1));
}

// ---- Participants
// ------------------------------------------------------------

TEST(DirectoryTest, CreateGetAndListParticipants) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Organization kazan,
                       CreateOrg(t.client, Org("Qozon oʻzbeklari jamiyati")));
  ASSERT_OK_AND_ASSIGN(v1::Organization perm,
                       CreateOrg(t.client, Org("Perm «Mahalla» jamoasi")));

  v1::Participant wanted =
      Person("Gʻayrat Toʻxtayev", kazan.id(), " Gayrat.Toxtayev@Example.ORG");
  wanted.set_preferred_language("UZ-LATN");
  wanted.set_id("mine");
  wanted.set_tenant_id("other");
  ASSERT_OK_AND_ASSIGN(v1::Participant created, CreatePerson(t.client, wanted));
  EXPECT_NE(created.id(), "mine");
  EXPECT_EQ(created.tenant_id(), t.id);
  EXPECT_TRUE(created.has_create_time());
  EXPECT_EQ(created.display_name(), "Gʻayrat Toʻxtayev");
  EXPECT_EQ(created.organization_id(), kazan.id());
  EXPECT_EQ(created.email(), "gayrat.toxtayev@example.org");
  EXPECT_EQ(created.phone(), "+7 912 345-67-89");
  EXPECT_EQ(created.preferred_language(), "uz-Latn");
  EXPECT_EQ(created.time_zone(), "Europe/Moscow");
  ASSERT_OK_AND_ASSIGN(v1::Participant got, GetPerson(t.client, created.id()));
  EXPECT_TRUE(MessageDifferencer::Equals(got, created));

  std::vector<std::string> kazan_ids = {created.id()};
  std::vector<std::string> all_ids = {created.id()};
  for (int i = 0; i < 4; ++i) {
    ASSERT_OK_AND_ASSIGN(
        v1::Participant p,
        CreatePerson(t.client, Person(absl::StrCat("Malika Yusupova ", i),
                                      i % 2 == 0 ? kazan.id() : perm.id())));
    all_ids.push_back(p.id());
    if (i % 2 == 0) kazan_ids.push_back(p.id());
  }
  ASSERT_OK_AND_ASSIGN(v1::Participant alone,
                       CreatePerson(t.client, Person("Sardor Rahimov", "",
                                                     "s.rahimov@example.uz")));
  all_ids.push_back(alone.id());
  std::sort(kazan_ids.begin(), kazan_ids.end());
  std::sort(all_ids.begin(), all_ids.end());

  for (int page_size : {1, 2, 50}) {
    ASSERT_OK_AND_ASSIGN(std::vector<v1::Participant> all,
                         ListPeople(t.client, "", page_size));
    EXPECT_EQ(Ids(all), all_ids) << page_size;
    ASSERT_OK_AND_ASSIGN(std::vector<v1::Participant> members,
                         ListPeople(t.client, kazan.id(), page_size));
    EXPECT_EQ(Ids(members), kazan_ids) << page_size;
  }
  EXPECT_THAT(ListPeople(t.client, "aaaaaaaaaaaaaaaa"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("organization")));
  EXPECT_THAT(ListPeople(t.client, "not an id"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       StartsWith("organization_id:")));
  v1::ListParticipantsRequest bad_token;
  bad_token.set_page_token("%%%");
  EXPECT_THAT(
      t.client.ListParticipants(bad_token),
      StatusIs(absl::StatusCode::kInvalidArgument, StartsWith("page_token:")));
}

TEST(DirectoryTest, InvalidParticipantsNameTheField) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  struct Case {
    std::string what;
    std::function<void(v1::Participant*)> change;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"no name", [](auto* p) { p->clear_display_name(); },
       "participant.display_name:"},
      {"long name", [](auto* p) { p->set_display_name(std::string(201, 'a')); },
       "participant.display_name:"},
      {"two-line name", [](auto* p) { p->set_display_name("Aziz\nKarimov"); },
       "participant.display_name:"},
      {"bad organization id", [](auto* p) { p->set_organization_id("org 1"); },
       "participant.organization_id:"},
      {"bad email", [](auto* p) { p->set_email("aziz(at)example.org"); },
       "participant.email:"},
      {"bad phone", [](auto* p) { p->set_phone("ext. 12"); },
       "participant.phone:"},
      {"long phone",
       [](auto* p) { p->set_phone("+7 912 345-67-89 +7 912 345-67-89"); },
       "participant.phone:"},
      {"bad language", [](auto* p) { p->set_preferred_language("uzbek!"); },
       "participant.preferred_language:"},
      {"language with bad subtag",
       [](auto* p) { p->set_preferred_language("uz-Latinscript"); },
       "participant.preferred_language:"},
      {"unknown time zone", [](auto* p) { p->set_time_zone("Asia/Samarqand"); },
       "participant.time_zone:"},
      {"offset time zone", [](auto* p) { p->set_time_zone("UTC+5"); },
       "participant.time_zone:"},
  };
  for (const Case& c : cases) {
    v1::Participant p = Person("Aziz Karimov", "", "aziz@example.org");
    c.change(&p);
    EXPECT_THAT(
        CreatePerson(t.client, p),
        StatusIs(absl::StatusCode::kInvalidArgument, StartsWith(c.field)))
        << c.what;
  }
  // A well-formed but unknown organization.
  EXPECT_THAT(
      CreatePerson(t.client, Person("Aziz Karimov", "aaaaaaaaaaaaaaaa")),
      StatusIs(absl::StatusCode::kNotFound, HasSubstr("aaaaaaaaaaaaaaaa")));
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Participant> all, ListPeople(t.client));
  EXPECT_THAT(all, IsEmpty());

  EXPECT_THAT(GetPerson(t.client, "bad id"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       StartsWith("participant_id:")));
  EXPECT_THAT(GetPerson(t.client, "aaaaaaaaaaaaaaaa"),
              HasCode(absl::StatusCode::kNotFound));
}

TEST(DirectoryTest, ParticipantDuplicatesByEmailOrByNameInTheOrganization) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Organization kazan,
                       CreateOrg(t.client, Org("Qozon oʻzbeklari jamiyati")));
  ASSERT_OK_AND_ASSIGN(v1::Organization omsk,
                       CreateOrg(t.client, Org("Omsk oʻzbeklari jamiyati")));

  // Email: case does not matter, nor does the organization.
  ASSERT_OK_AND_ASSIGN(
      v1::Participant dilnoza,
      CreatePerson(t.client, Person("Dilnoza Yusupova", kazan.id(),
                                    "dilnoza.yusupova@example.org")));
  EXPECT_THAT(
      CreatePerson(t.client, Person("D. Yusupova", omsk.id(),
                                    "Dilnoza.YUSUPOVA@example.org")),
      StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr(dilnoza.id())));

  // Without email: the same name in any script in the same organization.
  ASSERT_OK_AND_ASSIGN(
      v1::Participant rustam,
      CreatePerson(t.client, Person("Рустам Ғуломов", kazan.id())));
  EXPECT_THAT(
      CreatePerson(t.client, Person("Rustam Gʻulomov", kazan.id())),
      StatusIs(absl::StatusCode::kAlreadyExists,
               AllOf(HasSubstr(rustam.id()), HasSubstr("Рустам Ғуломов"))));
  // ... which also matches someone of that name who has an email.
  EXPECT_THAT(
      CreatePerson(t.client, Person("DILNOZA YUSUPOVA", kazan.id())),
      StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr(dilnoza.id())));
  // Another organization, or no organization, is another person.
  EXPECT_THAT(CreatePerson(t.client, Person("Rustam Gʻulomov", omsk.id())),
              HasCode(absl::StatusCode::kOk));
  EXPECT_THAT(CreatePerson(t.client, Person("Rustam Gʻulomov")),
              HasCode(absl::StatusCode::kOk));
  EXPECT_THAT(CreatePerson(t.client, Person("Rustam G'ulomov")),
              HasCode(absl::StatusCode::kAlreadyExists));
  // With a different email, a namesake in the same organization is fine.
  EXPECT_THAT(CreatePerson(t.client, Person("Rustam Gʻulomov", kazan.id(),
                                            "rustam.gulomov2@example.org")),
              HasCode(absl::StatusCode::kOk));

  ASSERT_OK_AND_ASSIGN(std::vector<v1::Participant> all, ListPeople(t.client));
  EXPECT_THAT(all, SizeIs(5));
}

TEST(DirectoryTest, CreateParticipantWithTheSameRequestIdCreatesOnce) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  v1::Participant p = Person("Nodira Ergasheva", "", "nodira@example.uz");
  ASSERT_OK_AND_ASSIGN(v1::Participant first,
                       CreatePerson(t.client, p, "person-req"));
  ASSERT_OK_AND_ASSIGN(v1::Participant again,
                       CreatePerson(t.client, p, "person-req"));
  EXPECT_TRUE(MessageDifferencer::Equals(first, again));
  EXPECT_THAT(CreatePerson(t.client, p, "person-req-2"),
              HasCode(absl::StatusCode::kAlreadyExists));
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Participant> all, ListPeople(t.client));
  EXPECT_THAT(Ids(all), ElementsAre(first.id()));
}

// ---- Tenants and contact details
// ---------------------------------------------

TEST(DirectoryTest, AnotherTenantSeesNothing) {
  ASSERT_OK_AND_ASSIGN(Tenant a, NewTenant());
  ASSERT_OK_AND_ASSIGN(Tenant b, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Organization org,
                       CreateOrg(a.client, Org("Irkutsk oʻzbeklari jamiyati")));
  ASSERT_OK_AND_ASSIGN(
      v1::Participant person,
      CreatePerson(a.client, Person("Sevara Qodirova", org.id(),
                                    "sevara.qodirova@example.org")));

  EXPECT_THAT(GetOrg(b.client, org.id()), HasCode(absl::StatusCode::kNotFound));
  EXPECT_THAT(GetPerson(b.client, person.id()),
              HasCode(absl::StatusCode::kNotFound));
  EXPECT_THAT(ListPeople(b.client, org.id()),
              HasCode(absl::StatusCode::kNotFound));
  EXPECT_THAT(CreatePerson(b.client, Person("Sevara Qodirova", org.id())),
              HasCode(absl::StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Organization> orgs, ListOrgs(b.client));
  EXPECT_THAT(orgs, IsEmpty());
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Participant> people,
                       ListPeople(b.client));
  EXPECT_THAT(people, IsEmpty());
  // Names and emails are unique per tenant only.
  EXPECT_THAT(CreateOrg(b.client, Org("Irkutsk oʻzbeklari jamiyati")),
              HasCode(absl::StatusCode::kOk));
  EXPECT_THAT(CreatePerson(b.client, Person("Sevara Qodirova", "",
                                            "sevara.qodirova@example.org")),
              HasCode(absl::StatusCode::kOk));
  // An API key of tenant B does not see A's either.
  TownhallClient portal = ApiKeyClient(b.id);
  EXPECT_THAT(GetOrg(portal, org.id()), HasCode(absl::StatusCode::kNotFound));
  EXPECT_THAT(GetPerson(portal, person.id()),
              HasCode(absl::StatusCode::kNotFound));
}

// Contact details of an organization and of a participant.
bool HasContacts(const v1::Organization& org) {
  return !org.contact_name().empty() && !org.contact_email().empty() &&
         !org.contact_phone().empty();
}
bool HasNoContacts(const v1::Organization& org) {
  return org.contact_name().empty() && org.contact_email().empty() &&
         org.contact_phone().empty();
}
bool HasContacts(const v1::Participant& p) {
  return !p.email().empty() && !p.phone().empty();
}
bool HasNoContacts(const v1::Participant& p) {
  return p.email().empty() && p.phone().empty();
}

TEST(DirectoryTest, ContactDetailsOnlyForOrganizersOnEveryReadPath) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  TownhallClient portal = ApiKeyClient(t.id);

  // Created by the organizer: the organizer sees contacts everywhere.
  ASSERT_OK_AND_ASSIGN(v1::Organization org,
                       CreateOrg(t.client, Org("Xabarovsk «Mahalla» jamoasi")));
  EXPECT_TRUE(HasContacts(org));
  ASSERT_OK_AND_ASSIGN(
      v1::Participant person,
      CreatePerson(t.client, Person("Bekzod Nazarov", org.id(),
                                    "bekzod.nazarov@example.org")));
  EXPECT_TRUE(HasContacts(person));
  ASSERT_OK_AND_ASSIGN(v1::Organization got_org, GetOrg(t.client, org.id()));
  EXPECT_TRUE(HasContacts(got_org));
  ASSERT_OK_AND_ASSIGN(v1::Participant got_person,
                       GetPerson(t.client, person.id()));
  EXPECT_TRUE(HasContacts(got_person));

  // Created by the portal: its own responses carry no contacts, though they
  // are stored.
  v1::Organization portal_wanted = Org("Vladivostok oʻzbek tadbirkorlari");
  ASSERT_OK_AND_ASSIGN(v1::Organization portal_org,
                       CreateOrg(portal, portal_wanted));
  EXPECT_TRUE(HasNoContacts(portal_org)) << portal_org.DebugString();
  EXPECT_EQ(portal_org.name(), portal_wanted.name());
  EXPECT_EQ(portal_org.city(), "Qozon");
  ASSERT_OK_AND_ASSIGN(
      v1::Participant portal_person,
      CreatePerson(portal, Person("Kamola Azimova", portal_org.id(),
                                  "kamola.azimova@example.org")));
  EXPECT_TRUE(HasNoContacts(portal_person)) << portal_person.DebugString();
  EXPECT_EQ(portal_person.display_name(), "Kamola Azimova");
  EXPECT_EQ(portal_person.preferred_language(), "uz-Latn");
  EXPECT_EQ(portal_person.time_zone(), "Europe/Moscow");
  ASSERT_OK_AND_ASSIGN(v1::Organization stored_org,
                       GetOrg(t.client, portal_org.id()));
  EXPECT_TRUE(HasContacts(stored_org));
  ASSERT_OK_AND_ASSIGN(v1::Participant stored_person,
                       GetPerson(t.client, portal_person.id()));
  EXPECT_TRUE(HasContacts(stored_person));

  // A retried portal create answers from the stored record: still redacted.
  ASSERT_OK_AND_ASSIGN(v1::Organization retried,
                       CreateOrg(portal, Org("Tula oʻzbeklari"), "portal-1"));
  ASSERT_OK_AND_ASSIGN(retried,
                       CreateOrg(portal, Org("Tula oʻzbeklari"), "portal-1"));
  EXPECT_TRUE(HasNoContacts(retried));

  // Get and List: contacts for the organizer, none for the portal.
  for (const std::string& id : {org.id(), portal_org.id()}) {
    ASSERT_OK_AND_ASSIGN(v1::Organization seen, GetOrg(portal, id));
    EXPECT_TRUE(HasNoContacts(seen)) << seen.DebugString();
    EXPECT_FALSE(seen.name().empty());
  }
  for (const std::string& id : {person.id(), portal_person.id()}) {
    ASSERT_OK_AND_ASSIGN(v1::Participant seen, GetPerson(portal, id));
    EXPECT_TRUE(HasNoContacts(seen)) << seen.DebugString();
    EXPECT_FALSE(seen.display_name().empty());
  }
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Organization> portal_orgs,
                       ListOrgs(portal));
  ASSERT_THAT(portal_orgs, SizeIs(3));
  for (const v1::Organization& o : portal_orgs) {
    EXPECT_TRUE(HasNoContacts(o)) << o.DebugString();
  }
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Organization> portal_ru,
                       ListOrgs(portal, "RU", 1));
  for (const v1::Organization& o : portal_ru) EXPECT_TRUE(HasNoContacts(o));
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Participant> portal_people,
                       ListPeople(portal));
  ASSERT_THAT(portal_people, SizeIs(2));
  for (const v1::Participant& p : portal_people) {
    EXPECT_TRUE(HasNoContacts(p)) << p.DebugString();
  }
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Participant> portal_members,
                       ListPeople(portal, org.id()));
  ASSERT_THAT(portal_members, SizeIs(1));
  EXPECT_TRUE(HasNoContacts(portal_members[0]));

  ASSERT_OK_AND_ASSIGN(std::vector<v1::Organization> organizer_orgs,
                       ListOrgs(t.client));
  for (const v1::Organization& o : organizer_orgs) {
    EXPECT_TRUE(HasContacts(o)) << o.DebugString();
  }
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Participant> organizer_people,
                       ListPeople(t.client));
  for (const v1::Participant& p : organizer_people) {
    EXPECT_TRUE(HasContacts(p)) << p.DebugString();
  }

  // A key without the registrations scope, and import by any key: refused.
  TownhallClient reader = ApiKeyClient(t.id, ScopeBit(ApiScope::kReadSchedule));
  EXPECT_THAT(GetOrg(reader, org.id()),
              HasCode(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(Import(portal, "name,country_code\nX,RU\n", ""),
              HasCode(absl::StatusCode::kPermissionDenied));
}

// ---- Import
// ------------------------------------------------------------------

// The fixtures hold 70 good organizations and 144 good participants, plus
// exactly these five bad rows.
constexpr int kFixtureOrganizations = 70;
constexpr int kFixtureParticipants = 144;

void ExpectFixtureErrors(const v1::ImportDirectoryResponse& response) {
  EXPECT_THAT(
      response.errors(),
      ElementsAre(
          // No name (only name_ru and name_en are filled).
          ImportErrorIs("organizations", 25, "name: must not be empty"),
          // A country name instead of its code.
          ImportErrorIs(
              "organizations", 49,
              AllOf(StartsWith("country_code: "), HasSubstr("\"Russia\""))),
          // An organization that is in neither file nor the tenant.
          ImportErrorIs(
              "participants", 39,
              "organization: no organization is named \"Murmansk oʻzbeklari "
              "jamiyati\""),
          // "(at)" instead of "@".
          ImportErrorIs("participants", 90, StartsWith("email: ")),
          // A misspelled zone (Asia/Samarkand).
          ImportErrorIs("participants", 131,
                        "time_zone: unknown time zone \"Asia/Samarqand\"")))
      << ::testing::PrintToString(Errors(response));
}

TEST(DirectoryTest, ImportFixturesThenImportAgainCreatesNothing) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  const std::string organizations = ReadFixture("organizations.csv");
  const std::string participants = ReadFixture("participants.csv");

  ASSERT_OK_AND_ASSIGN(v1::ImportDirectoryResponse first,
                       Import(t.client, organizations, participants));
  EXPECT_EQ(first.organizations_created(), kFixtureOrganizations);
  EXPECT_EQ(first.organizations_existing(), 0);
  EXPECT_EQ(first.participants_created(), kFixtureParticipants);
  EXPECT_EQ(first.participants_existing(), 0);
  ExpectFixtureErrors(first);

  ASSERT_OK_AND_ASSIGN(std::vector<v1::Organization> orgs,
                       ListOrgs(t.client, "", 500));
  EXPECT_THAT(orgs, SizeIs(kFixtureOrganizations));
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Organization> uz,
                       ListOrgs(t.client, "UZ"));
  EXPECT_THAT(uz, SizeIs(6));
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Participant> people,
                       ListPeople(t.client, "", 500));
  EXPECT_THAT(people, SizeIs(kFixtureParticipants));
  int members = 0;
  for (const v1::Organization& org : orgs) {
    EXPECT_EQ(org.tenant_id(), t.id);
    ASSERT_OK_AND_ASSIGN(std::vector<v1::Participant> of_org,
                         ListPeople(t.client, org.id()));
    // 1 or 2 people per organization, whichever name or script the
    // participants file uses for it.
    EXPECT_THAT(of_org.size(),
                ::testing::AllOf(::testing::Ge(1u), ::testing::Le(2u)))
        << org.name();
    members += static_cast<int>(of_org.size());
  }
  EXPECT_EQ(members, kFixtureParticipants - 12);  // 12 without organization

  // A participant named in Cyrillic and one whose email had capitals.
  bool found_cyrillic = false;
  for (const v1::Participant& p : people) {
    if (p.display_name() == "Рустам Каримов") found_cyrillic = true;
    EXPECT_EQ(p.email(), absl::AsciiStrToLower(p.email()));
  }
  EXPECT_TRUE(found_cyrillic);

  ASSERT_OK_AND_ASSIGN(v1::ImportDirectoryResponse second,
                       Import(t.client, organizations, participants));
  EXPECT_EQ(second.organizations_created(), 0);
  EXPECT_EQ(second.organizations_existing(), kFixtureOrganizations);
  EXPECT_EQ(second.participants_created(), 0);
  EXPECT_EQ(second.participants_existing(), kFixtureParticipants);
  ExpectFixtureErrors(second);
  ASSERT_OK_AND_ASSIGN(orgs, ListOrgs(t.client, "", 500));
  EXPECT_THAT(orgs, SizeIs(kFixtureOrganizations));
  ASSERT_OK_AND_ASSIGN(people, ListPeople(t.client, "", 500));
  EXPECT_THAT(people, SizeIs(kFixtureParticipants));
}

TEST(DirectoryTest, ValidateOnlyReportsTheSameAndWritesNothing) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(
      v1::ImportDirectoryResponse response,
      Import(t.client, ReadFixture("organizations.csv"),
             ReadFixture("participants.csv"), /*validate_only=*/true));
  EXPECT_EQ(response.organizations_created(), kFixtureOrganizations);
  EXPECT_EQ(response.organizations_existing(), 0);
  EXPECT_EQ(response.participants_created(), kFixtureParticipants);
  EXPECT_EQ(response.participants_existing(), 0);
  ExpectFixtureErrors(response);
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Organization> orgs, ListOrgs(t.client));
  EXPECT_THAT(orgs, IsEmpty());
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Participant> people,
                       ListPeople(t.client));
  EXPECT_THAT(people, IsEmpty());
}

TEST(DirectoryTest, ImportLoadsItsScriptsAfterRedisForgotThem) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  // Bulk creates pipeline EVALSHA; after a flush (or a Redis restart) every
  // call of a batch answers NOSCRIPT and must be retried with the body.
  RedisConnection redis(RedisOptions{.address = SharedRedisAddress()});
  ASSERT_OK_AND_ASSIGN(RedisReply flushed, redis.Command({"SCRIPT", "FLUSH"}));
  ASSERT_EQ(flushed.type, RedisReply::Type::kStatus) << flushed.str;
  ASSERT_OK_AND_ASSIGN(
      v1::ImportDirectoryResponse response,
      Import(t.client,
             "name,country_code\nTula oʻzbeklari,RU\nOmsk oʻzbeklari,RU\n",
             "display_name,organization\nAziz Karimov,Тула ўзбеклари\n"
             "Anvar Olimov,Омск ўзбеклари\n"));
  EXPECT_EQ(response.organizations_created(), 2);
  EXPECT_EQ(response.participants_created(), 2);
  EXPECT_THAT(response.errors(), IsEmpty());
}

TEST(DirectoryTest, ImportRefusesBadHeadersBeforeWritingAnything) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  const std::string good_orgs = "name,country_code\nTula oʻzbeklari,RU\n";
  const std::string good_people = "display_name\nAziz Karimov\n";
  EXPECT_THAT(
      Import(t.client, "name,country_code,website\nTula,RU,x\n", good_people),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(StartsWith("organizations_csv:"),
                     HasSubstr("unknown column \"website\""))));
  EXPECT_THAT(
      Import(t.client, good_orgs, "display_name,emial\nAziz,a@example.org\n"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(StartsWith("participants_csv:"),
                     HasSubstr("unknown column \"emial\""))));
  EXPECT_THAT(Import(t.client, "name,city\nTula oʻzbeklari,Tula\n", ""),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(StartsWith("organizations_csv:"),
                             HasSubstr("missing required column "
                                       "\"country_code\""))));
  EXPECT_THAT(Import(t.client, "", ""),
              HasCode(absl::StatusCode::kInvalidArgument));
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Organization> orgs, ListOrgs(t.client));
  EXPECT_THAT(orgs, IsEmpty());
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Participant> people,
                       ListPeople(t.client));
  EXPECT_THAT(people, IsEmpty());
}

TEST(DirectoryTest, ImportRowRules) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Organization stored,
                       CreateOrg(t.client, Org("Omsk oʻzbeklari jamiyati")));
  ASSERT_OK_AND_ASSIGN(
      v1::Participant known,
      CreatePerson(t.client, Person("Laylo Saidova", stored.id(),
                                    "laylo.saidova@example.org")));
  // Columns in any order; a quoted field spanning two lines shifts the
  // lines of the rows after it.
  const std::string organizations =
      "country_code,name,name_ru,city\n"                             // 1
      "RU,Омск ўзбеклари жамияти,,Omsk\n"                            // 2 stored
      "RU,\"Vatandoshlar uyi,\nTula\",,Tula\n"                       // 3-4 bad
      "RU,\"Perm «Mahalla» jamoasi\",Узбекская община Перми,Perm\n"  // 5
      "RU,PERM «MAHALLA» JAMOASI,,Perm\n"                            // 6 dup
      "UZ,Perm «Mahalla» jamoasi,,Toshkent\n"                        // 7 other
      "RU,Surgut faxriylar kengashi,,Surgut,extra\n"                 // 8 bad
      "RU,Tula oʻzbeklari,,Tula\n";                                  // 9
  const std::string participants =
      "display_name,organization,email,time_zone\n"           // 1
      "Aziz Karimov,Узбекская община Перми,,Europe/Moscow\n"  // 2
      "Азиз Каримов,узбекская община перми,,\n"               // 3 dup
      "Laylo Saidova,Omsk o'zbeklari jamiyati,LAYLO.SAIDOVA@example.org,\n"
      "Anvar Olimov,Vatandoshlar uyi Tula,,\n"                 // 5 bad
      "Kamola Umarova,Ўмск,,\n"                                // 6 bad
      "Sitora Nazarova,Tula O‘zbeklari,sitora@example.org,\n"  // 7
      "Sitora N.,,SITORA@example.org,\n"                       // 8 dup
      "Bobur Qodirov,Perm «Mahalla» jamoasi,,\n";              // 9 bad
  for (bool validate_only : {true, false}) {
    ASSERT_OK_AND_ASSIGN(
        v1::ImportDirectoryResponse response,
        Import(t.client, organizations, participants, validate_only));
    EXPECT_EQ(response.organizations_created(), 3) << validate_only;
    EXPECT_EQ(response.organizations_existing(), 2);
    EXPECT_EQ(response.participants_created(), 2);
    EXPECT_EQ(response.participants_existing(), 3);
    EXPECT_THAT(
        response.errors(),
        ElementsAre(
            ImportErrorIs("organizations", 3, StartsWith("name: ")),
            ImportErrorIs("organizations", 8, HasSubstr("expected 4 fields")),
            ImportErrorIs("participants", 5,
                          "organization: \"Vatandoshlar uyi Tula\" was not "
                          "imported (see organizations line 3)"),
            ImportErrorIs("participants", 6,
                          StartsWith("organization: no organization")),
            ImportErrorIs("participants", 9,
                          StartsWith("organization: \"Perm «Mahalla» "
                                     "jamoasi\" names 2 organizations"))))
        << ::testing::PrintToString(Errors(response));
  }
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Organization> orgs, ListOrgs(t.client));
  EXPECT_THAT(orgs, SizeIs(4));
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Participant> people,
                       ListPeople(t.client));
  EXPECT_THAT(people, SizeIs(3));
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Participant> omsk,
                       ListPeople(t.client, stored.id()));
  EXPECT_THAT(Ids(omsk), ElementsAre(known.id()));
}

// One invalid UTF-8 byte costs its row, not the file: the files are bytes
// on the wire, and the row is reported with its line and column.
TEST(DirectoryTest, ImportReportsAnInvalidUtf8RowAndImportsTheOthers) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  std::string organizations = "name,country_code,city\n";
  constexpr int kRows = 127;
  constexpr int kBadRow = 64;  // line 65
  for (int i = 1; i <= kRows; ++i) {
    absl::StrAppend(&organizations, "Jamiyat ", i, ",RU,",
                    i == kBadRow ? "Q\xFFzon" : "Qozon", "\n");
  }
  const std::string participants =
      "display_name,organization,email\n"                    // 1
      "Aziz Karimov,Jamiyat 1,aziz@example.org\n"            // 2
      "Bobur \xC3\x28Qodirov,Jamiyat 2,bobur@example.org\n"  // 3 bad
      "Dilnoza Karimova,Jamiyat 3,\n";                       // 4
  ASSERT_OK_AND_ASSIGN(v1::ImportDirectoryResponse response,
                       Import(t.client, organizations, participants));
  EXPECT_THAT(response.errors(),
              ElementsAre(ImportErrorIs("organizations", kBadRow + 1,
                                        "column \"city\": is not valid UTF-8"),
                          ImportErrorIs("participants", 3,
                                        "column \"display_name\": is not "
                                        "valid UTF-8")))
      << ::testing::PrintToString(Errors(response));
  EXPECT_EQ(response.organizations_created(), kRows - 1);
  EXPECT_EQ(response.participants_created(), 2);
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Organization> orgs, ListOrgs(t.client));
  EXPECT_THAT(orgs, SizeIs(kRows - 1));
  for (const v1::Organization& org : orgs) {
    EXPECT_NE(org.name(), absl::StrCat("Jamiyat ", kBadRow));
  }
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Participant> people,
                       ListPeople(t.client));
  EXPECT_THAT(people, SizeIs(2));
}

// Cells that a spreadsheet would run as formulas are data to townhall: the
// import keeps them as typed (a phone number starts with '+'), and every CSV
// townhall writes defuses them (see the export tests).
TEST(DirectoryTest, ImportStoresFormulaLookingCellsAsTyped) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  const std::string name = "=HYPERLINK(\"http://evil.example/\",\"Jamiyat\")";
  const std::string organizations =
      "name,name_ru,country_code,city,contact_name,contact_email,"
      "contact_phone\n"
      "\"=HYPERLINK(\"\"http://evil.example/\"\",\"\"Jamiyat\"\")\","
      "-Общество,RU,+Qozon,@Ali,=1+2@example.org,+998 90 123 45 67\n";
  const std::string participants =
      "display_name,organization,phone\n"
      "@SUM(A1) Aziz,-Общество,-12 34\n";
  ASSERT_OK_AND_ASSIGN(v1::ImportDirectoryResponse response,
                       Import(t.client, organizations, participants));
  ASSERT_THAT(response.errors(), IsEmpty())
      << ::testing::PrintToString(Errors(response));
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Organization> orgs, ListOrgs(t.client));
  ASSERT_THAT(orgs, SizeIs(1));
  ASSERT_OK_AND_ASSIGN(v1::Organization org, GetOrg(t.client, orgs[0].id()));
  for (const v1::Organization& o : {orgs[0], org}) {
    EXPECT_EQ(o.name(), name);
    EXPECT_EQ(o.localized_names().at("ru"), "-Общество");
    EXPECT_EQ(o.city(), "+Qozon");
    EXPECT_EQ(o.contact_name(), "@Ali");
    EXPECT_EQ(o.contact_email(), "=1+2@example.org");
    EXPECT_EQ(o.contact_phone(), "+998 90 123 45 67");
  }
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Participant> people,
                       ListPeople(t.client));
  ASSERT_THAT(people, SizeIs(1));
  ASSERT_OK_AND_ASSIGN(v1::Participant person,
                       GetPerson(t.client, people[0].id()));
  for (const v1::Participant& p : {people[0], person}) {
    EXPECT_EQ(p.display_name(), "@SUM(A1) Aziz");
    EXPECT_EQ(p.phone(), "-12 34");
    EXPECT_EQ(p.organization_id(), org.id());
  }
}

}  // namespace
}  // namespace townhall::testing
