// Integration tests of ImportDirectory: the CSV fixtures, validate-only,
// header and row rules, invalid UTF-8 and formula-looking cells.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

#include "tests/integration/registration/directory_test_util.h"

namespace townhall::testing::directory_test {
namespace {

std::string ReadFixture(const std::string& name) {
  std::ifstream in(absl::StrCat(TOWNHALL_SOURCE_DIR, "/tests/data/", name),
                   std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
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
  ASSERT_OK(CommandOnEveryMaster({"SCRIPT", "FLUSH"}).status());
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

// Localized names in any language: name:<tag> columns (any case), the older
// name_uz_latn/name_ru/name_en columns as aliases, reads in a viewer's
// language, and the duplicate rule across the scripts and look-alikes.
TEST(DirectoryTest, ImportNameColumnsByLanguageTag) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  const std::string organizations =
      "name,Name:KK-cyrl,name:ky,name_ru,name:en-GB,country_code,city\n"
      "Qazaq madeni ortalyghy,Қазақ мәдени орталығы,,"
      "Казахский культурный центр,Kazakh Cultural Centre,US,Miami\n"
      "Kyrgyz koomu,,Кыргыз коому,,,US,Boston\n"
      // The first row again: its Cyrillic name as the name, and a
      // look-alike of its English name (Cyrillic К and С).
      "Қазақ мәдени орталығы,,,,,US,Miami\n"
      "Кazakh Сultural Сentre,,,,,US,Miami\n";
  const std::string participants =
      "display_name,organization\n"
      "Aigerim Sadykova,Казахский культурный центр\n"
      "Bakyt Usenov,Кыргыз коому\n";
  ASSERT_OK_AND_ASSIGN(v1::ImportDirectoryResponse response,
                       Import(t.client, organizations, participants));
  EXPECT_THAT(response.errors(), IsEmpty())
      << ::testing::PrintToString(Errors(response));
  EXPECT_EQ(response.organizations_created(), 2);
  EXPECT_EQ(response.organizations_existing(), 2);
  EXPECT_EQ(response.participants_created(), 2);

  ASSERT_OK_AND_ASSIGN(std::vector<v1::Organization> orgs, ListOrgs(t.client));
  ASSERT_THAT(orgs, SizeIs(2));
  const v1::Organization& kazakh =
      orgs[0].name() == "Qazaq madeni ortalyghy" ? orgs[0] : orgs[1];
  EXPECT_EQ(kazakh.localized_names().at("kk-Cyrl"), "Қазақ мәдени орталығы");
  EXPECT_EQ(kazakh.localized_names().at("ru"), "Казахский культурный центр");
  EXPECT_EQ(kazakh.localized_names().at("en-GB"), "Kazakh Cultural Centre");
  EXPECT_EQ(kazakh.localized_names().size(), 3);

  // Reads in the viewer's language: exact tag, then shorter, then any tag
  // of the language, then the name.
  v1::GetOrganizationRequest get;
  get.set_organization_id(kazakh.id());
  for (const auto& [language, tag, name] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"kk-Cyrl-KZ", "kk-Cyrl", "Қазақ мәдени орталығы"},
           {"KK", "kk-Cyrl", "Қазақ мәдени орталығы"},
           {"en-GB", "en-GB", "Kazakh Cultural Centre"},
           {"en-US", "en-GB", "Kazakh Cultural Centre"},
           {"ru-RU", "ru", "Казахский культурный центр"},
           {"de", "", "Qazaq madeni ortalyghy"},
           {"", "", "Qazaq madeni ortalyghy"}}) {
    SCOPED_TRACE(language);
    get.set_language(language);
    ASSERT_OK_AND_ASSIGN(v1::GetOrganizationResponse got,
                         t.client.GetOrganization(get));
    EXPECT_EQ(got.organization().display_name(), name);
    EXPECT_EQ(got.organization().display_name_language(), tag);
  }
  get.set_language("en-Latn-Latn");
  EXPECT_THAT(
      t.client.GetOrganization(get),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("language")));
  v1::ListOrganizationsRequest list;
  list.set_language("ky-KG");
  ASSERT_OK_AND_ASSIGN(v1::ListOrganizationsResponse listed,
                       t.client.ListOrganizations(list));
  for (const v1::Organization& o : listed.organizations()) {
    EXPECT_EQ(o.display_name(), o.id() == kazakh.id() ? "Qazaq madeni ortalyghy"
                                                      : "Кыргыз коому");
  }

  // A malformed tag or two columns of one language refuse the file.
  EXPECT_THAT(Import(t.client, "name,name:en-12,country_code\nA,B,US\n", ""),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(StartsWith("organizations_csv:"),
                             HasSubstr("name:en-12"))));
  EXPECT_THAT(
      Import(t.client, "name,name_ru,name:RU,country_code\nA,Б,В,US\n", ""),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr("name_ru"), HasSubstr("name:ru"))));
  // A bad name in a name:<tag> column names that column.
  ASSERT_OK_AND_ASSIGN(
      response,
      Import(t.client, "name,name:tg,country_code\nTojik jamiyati,!!!,US\n",
             ""));
  EXPECT_THAT(
      response.errors(),
      ElementsAre(ImportErrorIs("organizations", 2, StartsWith("name:tg: "))));
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
}  // namespace townhall::testing::directory_test
