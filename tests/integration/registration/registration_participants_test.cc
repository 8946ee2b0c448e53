// Integration tests of participants: create, get and list, validation,
// duplicates; tenants' isolation and contact details on every read path.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/integration/registration/directory_test_util.h"

namespace townhall::testing::directory_test {
namespace {

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

TEST(DirectoryTest, ParticipantWithLookAlikeLettersIsADuplicate) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(
      v1::Organization miami,
      CreateOrg(t.client, Org("Kazakh Cultural Center of Miami", "US")));
  ASSERT_OK_AND_ASSIGN(
      v1::Participant aigerim,
      CreatePerson(t.client, Person("Aigerim Sadykova", miami.id())));
  // Cyrillic А and а, Greek ο: the same name to the eye.
  for (const std::string name :
       {"Аigerim Sаdykova", "Aigerim Sadykοva", "AIGERIM SADYKOVA"}) {
    EXPECT_THAT(
        CreatePerson(t.client, Person(name, miami.id())),
        StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr(aigerim.id())))
        << name;
  }
  // Another person.
  EXPECT_THAT(CreatePerson(t.client, Person("Aigul Sadykova", miami.id())),
              HasCode(absl::StatusCode::kOk));
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

}  // namespace
}  // namespace townhall::testing::directory_test
