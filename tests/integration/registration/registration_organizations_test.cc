// Integration tests of organizations: create, get and list, validation,
// the duplicate rule across scripts, idempotent and concurrent creates.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "services/common/tenant_keys.h"
#include "services/registration/directory_validation.h"
#include "tests/integration/registration/directory_test_util.h"

namespace townhall::testing::directory_test {
namespace {

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
  // Reads add the name to show (the name itself, no language asked for).
  EXPECT_EQ(got.display_name(), "Qozon oʻzbeklari jamiyati");
  EXPECT_EQ(got.display_name_language(), "");
  got.clear_display_name();
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

TEST(DirectoryTest, LookAlikeLettersOfAnotherScriptAreADuplicate) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(
      v1::Organization original,
      CreateOrg(t.client, Org("Kazakh Cultural Center of Miami", "US")));
  // Spoofs: Cyrillic К С (transliterated "k", "s": only the skeleton
  // catches them), Cyrillic а е о р, Greek ο.
  for (const std::string name :
       {"Кazakh Сultural Сenter of Miami", "Kаzаkh Culturаl Cеntеr оf Miаmi",
        "Kazakh Cultural Center οf Μiami"}) {
    EXPECT_THAT(CreateOrg(t.client, Org(name, "US")),
                StatusIs(absl::StatusCode::kAlreadyExists,
                         AllOf(HasSubstr(original.id()),
                               HasSubstr("Kazakh Cultural Center of Miami"))))
        << name;
  }
  // Also as a localized name of a new organization.
  v1::Organization sneaky = Org("Qazaq madeni ortalygy Maiami", "US");
  (*sneaky.mutable_localized_names())["en"] = "Кazakh Сultural Сenter of Miami";
  EXPECT_THAT(
      CreateOrg(t.client, sneaky),
      StatusIs(absl::StatusCode::kAlreadyExists,
               AllOf(HasSubstr(original.id()), HasSubstr("look alike"))));
  // Distinct names stay distinct: another people, another city.
  for (const std::string name :
       {"Kyrgyz Cultural Center of Miami", "Kazakh Cultural Center of Chicago",
        "Казахский культурный центр Майами"}) {
    EXPECT_THAT(CreateOrg(t.client, Org(name, "US")),
                HasCode(absl::StatusCode::kOk))
        << name;
  }
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Organization> all, ListOrgs(t.client));
  EXPECT_THAT(all, SizeIs(4));
}

TEST(DirectoryTest, NamesInEachScriptMatchTheirLatinSpelling) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  struct Case {
    const char* written;
    const char* tag;  // of the localized name; "" for the name itself
    const char* latin;
  };
  const Case cases[] = {
      {"Ассоциация узбеков Казани", "", "Assotsiatsiya uzbekov Kazani"},
      {"Қазақ мәдени орталығы", "", "Qazaq madeni ortalyghy"},
      {"Бишкек жаштар бирикмеси", "ky", "Bishkek jashtar birikmesi"},
      {"Маркази фарҳангии Душанбе", "tg", "Markazi farhangii Dushanbe"},
      {"Українське товариство Києва", "", "Ukrayinske tovarystvo Kyyeva"},
      {"Хоразм вилояти жамияти", "uz-Cyrl", "Xorazm viloyati jamiyati"},
      {"Κέντρο Ελληνικού Πολιτισμού", "", "Kentro Ellinikou Politismou"},
  };
  int n = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.written);
    ASSERT_OK_AND_ASSIGN(v1::Organization created,
                         CreateOrg(t.client, Org(c.latin, "DE")));
    // The name in its own script: as the name (its letters tell the
    // language) or as a localized name under its tag.
    v1::Organization again = Org(c.written, "DE");
    if (c.tag[0] != 0) {
      again = Org(absl::StrCat("Placeholder ", ++n), "DE");
      (*again.mutable_localized_names())[c.tag] = c.written;
    }
    EXPECT_THAT(
        CreateOrg(t.client, again),
        StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr(created.id())));
  }
}

// Bulgaria's (2009) and North Macedonia's official romanizations, not
// ICU's older BGN/PCGN tables ("bulgarsko", "drustvo").
TEST(DirectoryTest, BulgarianAndMacedonianNamesMatchTheirOfficialLatin) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(
      v1::Organization bulgarian,
      CreateOrg(t.client, Org("Balgarsko kulturno druzhestvo", "DE")));
  // Untagged: its ъ before a consonant is Bulgarian's.
  EXPECT_THAT(
      CreateOrg(t.client, Org("Българско културно дружество", "DE")),
      StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr(bulgarian.id())));
  v1::Organization tagged = Org("Bulgarian Cultural Society", "DE");
  (*tagged.mutable_localized_names())["bg"] = "Българско културно дружество";
  EXPECT_THAT(
      CreateOrg(t.client, tagged),
      StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr(bulgarian.id())));

  ASSERT_OK_AND_ASSIGN(
      v1::Organization macedonian,
      CreateOrg(t.client, Org("Makedonsko kulturno drushtvo Gjorgjija "
                              "Pulevski",
                              "DE")));
  v1::Organization mk = Org("Macedonian Cultural Society", "DE");
  (*mk.mutable_localized_names())["mk"] =
      "Македонско културно друштво Ѓорѓија Пулевски";
  EXPECT_THAT(
      CreateOrg(t.client, mk),
      StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr(macedonian.id())));
  // Untagged: ѓ is a Macedonian letter.
  EXPECT_THAT(
      CreateOrg(t.client,
                Org("Македонско културно друштво Ѓорѓија Пулевски", "DE")),
      StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr(macedonian.id())));

  // Different names stay apart.
  ASSERT_OK(
      CreateOrg(t.client, Org("Сръбско културно дружество", "DE")).status());
  ASSERT_OK(CreateOrg(t.client, Org("Иван Щукин фонд", "DE")).status());
  ASSERT_OK(CreateOrg(t.client, Org("Иван Штукин фонд", "DE")).status());
}

// A tenant whose keys are of version 3 (before the official Bulgarian
// reading) gets the new keys of its stored organizations on the next write.
TEST(DirectoryTest, Version3KeysGainTheBulgarianReadingOnReindex) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(
      v1::Organization stored,
      CreateOrg(t.client, Org("Българско читалище Берлин", "DE")));
  const std::string prefix = TenantPrefix(t.id);
  RedisConnection redis(SharedRedisOptions());
  ASSERT_OK(redis
                .Command({"HDEL", prefix + "orgs:match",
                          "DE:t:balgarsko chitalishte berlin"})
                .status());
  ASSERT_OK(
      redis.Command({"SET", prefix + "directory:match_version", "3"}).status());
  EXPECT_THAT(
      CreateOrg(t.client, Org("Balgarsko chitalishte Berlin", "DE")),
      StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr(stored.id())));
}

TEST(DirectoryTest, MatchKeysOfAnOlderVersionAreReindexedOnce) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(
      v1::Organization original,
      CreateOrg(t.client, Org("Kazakh Cultural Center of Miami", "US")));
  ASSERT_OK_AND_ASSIGN(v1::Participant person,
                       CreatePerson(t.client, Person("Aigerim Sadykova")));
  // Make the tenant look like one written before this version: only the
  // old fields (no "t:"/"s:" prefix) and no version.
  const std::string prefix = TenantPrefix(t.id);
  RedisConnection redis(SharedRedisOptions());
  for (const char* key : {"orgs:match", "orgs:names", "participants:match",
                          "directory:match_version"}) {
    ASSERT_OK(redis.Command({"DEL", prefix + key}).status());
  }
  ASSERT_OK(redis
                .Command({"HSET", prefix + "orgs:match",
                          "US:kazakh cultural center of miami", original.id()})
                .status());
  ASSERT_OK(redis
                .Command({"HSET", prefix + "participants:match",
                          "name::aigerim sadykova", person.id()})
                .status());

  // The next create reindexes, then finds the look-alike.
  EXPECT_THAT(
      CreateOrg(t.client, Org("Кazakh Сultural Сenter of Miami", "US")),
      StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr(original.id())));
  ASSERT_OK_AND_ASSIGN(
      RedisReply version,
      redis.Command({"GET", prefix + "directory:match_version"}));
  EXPECT_EQ(version.str, townhall::registration::kMatchKeyVersion);
  EXPECT_THAT(
      CreatePerson(t.client, Person("Аigerim Sаdykova")),
      StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr(person.id())));
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Organization> all, ListOrgs(t.client));
  EXPECT_THAT(all, SizeIs(1));
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

}  // namespace
}  // namespace townhall::testing::directory_test
