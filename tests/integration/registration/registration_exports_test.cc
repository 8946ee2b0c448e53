// Integration tests of RegistrationService's exports (exports_logic.cc):
// organizations, participants, registrations and attendance (per session,
// per organization across a series) as JSON and CSV, with data made
// through the API. JSON is read back with protobuf's JSON parser, CSV with
// the server's own ParseCsv; cells a spreadsheet would run as formulas come
// out defused; names in Cyrillic, Arabic and CJK survive both forms; the
// directory CSVs re-import unchanged; the error paths and the byte cap.
#include <gmock/gmock.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "services/common/csv.h"
#include "tests/integration/registration/directory_test_util.h"
#include "tests/integration/registration/registration_test_util.h"

namespace townhall::testing::registration_test {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;
using ::townhall::testing::directory_test::CreateOrg;
using ::townhall::testing::directory_test::CreatePerson;
using ::townhall::testing::directory_test::ListOrgs;

constexpr v1::ExportFormat kJson = v1::EXPORT_FORMAT_JSON;
constexpr v1::ExportFormat kCsv = v1::EXPORT_FORMAT_CSV;

// Values a spreadsheet would run as formulas, stored as typed.
const char kFormulaName[] = "=HYPERLINK(\"http://x\")";
const char kFormulaPhone[] = "+1-555-0100";
const char kFormulaPerson[] = "@SUM(A1) Aziz";
const char kFormulaReason[] = "=cmd|' /C calc'!A0";
// What the CSV holds for them.
std::string Defused(const std::string& value) { return "'" + value; }

// Names in several scripts.
const char kCyrillicOrg[] = "Ассоциация узбеков Казани";
const char kArabicOrg[] = "الجمعية الثقافية العربية";
const char kCjkOrg[] = "北京同乡会";
const char kCyrillicPerson[] = "Шерзод Усманов";
const char kArabicPerson[] = "فاطمة الزهراء";
const char kCjkPerson[] = "王小明";

// ---- Calls ----------------------------------------------------------------

template <typename Request>
Request In(v1::ExportFormat format, Request request = {}) {
  request.set_format(format);
  return request;
}

// The content of an export, after checking its content type.
template <typename Response>
absl::StatusOr<std::string> Content(const absl::StatusOr<Response>& response,
                                    v1::ExportFormat format) {
  if (!response.ok()) return response.status();
  EXPECT_EQ(response->content_type(),
            format == kCsv ? "text/csv" : "application/json");
  return response->content();
}

absl::StatusOr<std::string> ExportOrganizations(Tenant& t,
                                                v1::ExportFormat format) {
  return Content(
      t.client.ExportOrganizations(In<v1::ExportOrganizationsRequest>(format)),
      format);
}

absl::StatusOr<std::string> ExportParticipants(Tenant& t,
                                               v1::ExportFormat format) {
  return Content(
      t.client.ExportParticipants(In<v1::ExportParticipantsRequest>(format)),
      format);
}

absl::StatusOr<std::string> ExportRegistrations(Tenant& t,
                                                const std::string& session_id,
                                                v1::ExportFormat format) {
  v1::ExportRegistrationsRequest request;
  request.set_session_id(session_id);
  return Content(t.client.ExportRegistrations(In(format, request)), format);
}

absl::StatusOr<std::string> ExportSessionAttendance(
    Tenant& t, const std::string& session_id, v1::ExportFormat format) {
  v1::ExportSessionAttendanceRequest request;
  request.set_session_id(session_id);
  return Content(t.client.ExportSessionAttendance(In(format, request)), format);
}

absl::StatusOr<std::string> ExportSeriesAttendance(Tenant& t,
                                                   const std::string& series_id,
                                                   v1::ExportFormat format) {
  v1::ExportSeriesAttendanceRequest request;
  request.set_series_id(series_id);
  return Content(t.client.ExportSeriesAttendance(In(format, request)), format);
}

// ---- Reading exports back -------------------------------------------------

template <typename Message>
absl::StatusOr<Message> FromJson(const std::string& json) {
  Message message;
  // Strict: a field the message does not have fails.
  auto status = google::protobuf::util::JsonStringToMessage(json, &message);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a ", Message::descriptor()->name(), ": ",
                     status.ToString(), "\n", json));
  }
  return message;
}

// A CSV export as the header (ParseCsv lowercases it) and one map of
// column to cell per row.
struct Csv {
  std::vector<std::string> header;
  std::vector<std::map<std::string, std::string>> rows;
};

absl::StatusOr<Csv> ReadCsv(const std::string& content) {
  absl::StatusOr<CsvTable> table = ParseCsv(content, CsvOptions{});
  if (!table.ok()) return table.status();
  if (!table->errors.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "line ", table->errors[0].line, ": ", table->errors[0].reason));
  }
  Csv csv{table->header, {}};
  for (const CsvRow& row : table->rows) {
    std::map<std::string, std::string>& cells = csv.rows.emplace_back();
    for (size_t i = 0; i < row.fields.size(); ++i) {
      cells[table->header[i]] = row.fields[i];
    }
  }
  return csv;
}

// The rows whose `column` is `value`.
std::vector<std::map<std::string, std::string>> RowsWhere(
    const Csv& csv, const std::string& column, const std::string& value) {
  std::vector<std::map<std::string, std::string>> found;
  for (const auto& row : csv.rows) {
    if (row.at(column) == value) found.push_back(row);
  }
  return found;
}

// The rows as a set, for comparing exports of two tenants (whose ids, and
// so row orders, differ).
std::multiset<std::map<std::string, std::string>> RowSet(const Csv& csv) {
  return {csv.rows.begin(), csv.rows.end()};
}

// An RFC 3339 UTC time within the last hour.
void ExpectRecentTime(const std::string& cell) {
  absl::Time t;
  std::string error;
  ASSERT_TRUE(absl::ParseTime(absl::RFC3339_full, cell, &t, &error))
      << cell << ": " << error;
  EXPECT_THAT(cell, ::testing::EndsWith("Z"));
  EXPECT_LT(absl::AbsDuration(absl::Now() - t), absl::Hours(1)) << cell;
}

// ---- Fixtures ---------------------------------------------------------------

v1::Organization Org(const std::string& name, const std::string& country,
                     std::map<std::string, std::string> localized = {}) {
  v1::Organization org;
  org.set_name(name);
  org.set_country_code(country);
  for (const auto& [tag, value] : localized) {
    (*org.mutable_localized_names())[tag] = value;
  }
  return org;
}

v1::Participant Person(const std::string& name, const std::string& org_id,
                       const std::string& email, const std::string& phone,
                       const std::string& language,
                       const std::string& time_zone) {
  v1::Participant p;
  p.set_display_name(name);
  p.set_organization_id(org_id);
  p.set_email(email);
  p.set_phone(phone);
  p.set_preferred_language(language);
  p.set_time_zone(time_zone);
  return p;
}

// A directory with names in several scripts and formula-looking values:
// four organizations and four participants, one of each per organization.
struct Directory {
  std::vector<v1::Organization> orgs;
  std::vector<v1::Participant> people;
};

absl::StatusOr<Directory> NewDirectory(Tenant& t) {
  v1::Organization formula =
      Org(kFormulaName, "DE", {{"en", "Hyperlink Club"}});
  formula.set_city("Berlin");
  formula.set_contact_name("Dilnoza Karimova");
  formula.set_contact_email("office@hyperlink.example.org");
  formula.set_contact_phone(kFormulaPhone);
  v1::Organization cyrillic =
      Org(kCyrillicOrg, "RU",
          {{"uz-Latn", "Qozon oʻzbeklari assotsiatsiyasi"},
           {"en", "Association of Uzbeks of Kazan"}});
  cyrillic.set_city("Казань");
  cyrillic.set_contact_phone("+7 843 210 45 67");
  v1::Organization arabic =
      Org(kArabicOrg, "AE", {{"en", "Arab Cultural Society"}});
  arabic.set_city("دبي");
  v1::Organization cjk = Org(kCjkOrg, "CN", {{"ja", "北京同郷会"}});
  cjk.set_city("北京");
  Directory d;
  for (const v1::Organization& org : {formula, cyrillic, arabic, cjk}) {
    absl::StatusOr<v1::Organization> made = CreateOrg(t.client, org);
    if (!made.ok()) return made.status();
    d.orgs.push_back(*made);
  }
  const v1::Participant people[] = {
      Person(kFormulaPerson, d.orgs[0].id(), "aziz@example.org", "-12 34",
             "uz-Latn", "Europe/Berlin"),
      Person(kCyrillicPerson, d.orgs[1].id(), "sherzod@example.org",
             "+7 843 555 01 02", "ru", "Europe/Moscow"),
      Person(kArabicPerson, d.orgs[2].id(), "fatima@example.org",
             "+971 4 555 0101", "ar", "Asia/Dubai"),
      Person(kCjkPerson, d.orgs[3].id(), "", "", "zh-Hans", "Asia/Shanghai"),
  };
  for (const v1::Participant& person : people) {
    absl::StatusOr<v1::Participant> made = CreatePerson(t.client, person);
    if (!made.ok()) return made.status();
    d.people.push_back(*made);
  }
  return d;
}

// ---- Organizations ----------------------------------------------------------

TEST(RegistrationExportsTest, OrganizationsAsJsonHoldEveryOrganization) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(Directory d, NewDirectory(t));
  ASSERT_OK_AND_ASSIGN(std::string json, ExportOrganizations(t, kJson));
  ASSERT_OK_AND_ASSIGN(auto exported,
                       FromJson<v1::ListOrganizationsResponse>(json));
  ASSERT_EQ(exported.organizations_size(), 4) << json;
  EXPECT_EQ(exported.next_page_token(), "");
  std::map<std::string, v1::Organization> by_id;
  for (const v1::Organization& org : exported.organizations()) {
    by_id[org.id()] = org;
  }
  for (v1::Organization created : d.orgs) {
    ASSERT_TRUE(by_id.contains(created.id())) << created.id();
    // The list answers display_name (the name, no language asked for).
    created.set_display_name(created.name());
    EXPECT_TRUE(MessageDifferencer::Equals(by_id[created.id()], created))
        << by_id[created.id()].DebugString() << "\n"
        << created.DebugString();
  }
  // Contact details for the organizer, as typed.
  EXPECT_EQ(by_id[d.orgs[0].id()].contact_phone(), kFormulaPhone);
  EXPECT_EQ(by_id[d.orgs[0].id()].name(), kFormulaName);
  // The default format is JSON.
  ASSERT_OK_AND_ASSIGN(std::string by_default,
                       ExportOrganizations(t, v1::EXPORT_FORMAT_UNSPECIFIED));
  EXPECT_EQ(by_default, json);
}

TEST(RegistrationExportsTest, OrganizationsCsvHasTheImportColumnsDefused) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(Directory d, NewDirectory(t));
  ASSERT_OK_AND_ASSIGN(std::string content, ExportOrganizations(t, kCsv));
  // A name:<tag> column for every tag present, in the import's spelling.
  EXPECT_THAT(content,
              StartsWith("name,name:en,name:ja,name:uz-Latn,country_code,city,"
                         "contact_name,contact_email,contact_phone\r\n"));
  ASSERT_OK_AND_ASSIGN(Csv csv, ReadCsv(content));
  ASSERT_EQ(csv.rows.size(), 4u) << content;

  auto formula = RowsWhere(csv, "name", Defused(kFormulaName));
  ASSERT_EQ(formula.size(), 1u) << content;
  EXPECT_EQ(formula[0]["contact_phone"], Defused(kFormulaPhone));
  EXPECT_EQ(formula[0]["contact_email"], "office@hyperlink.example.org");
  EXPECT_EQ(formula[0]["name:en"], "Hyperlink Club");
  EXPECT_EQ(formula[0]["name:ja"], "");
  // Not a cell that starts a formula anywhere in the file.
  for (const auto& row : csv.rows) {
    for (const auto& [column, cell] : row) {
      EXPECT_FALSE(!cell.empty() &&
                   absl::StrContains("=+-@", cell.substr(0, 1)))
          << column << ": " << cell;
    }
  }

  auto cyrillic = RowsWhere(csv, "name", kCyrillicOrg);
  ASSERT_EQ(cyrillic.size(), 1u) << content;
  EXPECT_EQ(cyrillic[0]["name:uz-latn"], "Qozon oʻzbeklari assotsiatsiyasi");
  EXPECT_EQ(cyrillic[0]["city"], "Казань");
  EXPECT_EQ(cyrillic[0]["country_code"], "RU");
  auto arabic = RowsWhere(csv, "name", kArabicOrg);
  ASSERT_EQ(arabic.size(), 1u) << content;
  EXPECT_EQ(arabic[0]["city"], "دبي");
  EXPECT_EQ(arabic[0]["name:en"], "Arab Cultural Society");
  auto cjk = RowsWhere(csv, "name", kCjkOrg);
  ASSERT_EQ(cjk.size(), 1u) << content;
  EXPECT_EQ(cjk[0]["name:ja"], "北京同郷会");
  EXPECT_EQ(cjk[0]["city"], "北京");
}

// Export, import elsewhere, export again: the same rows. And the export
// imported where it came from creates nothing.
TEST(RegistrationExportsTest, DirectoryCsvsReimportUnchanged) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(Directory d, NewDirectory(t));
  ASSERT_OK_AND_ASSIGN(std::string orgs, ExportOrganizations(t, kCsv));
  ASSERT_OK_AND_ASSIGN(std::string people, ExportParticipants(t, kCsv));

  v1::ImportDirectoryRequest import;
  import.set_organizations_csv(orgs);
  import.set_participants_csv(people);
  ASSERT_OK_AND_ASSIGN(v1::ImportDirectoryResponse again,
                       t.client.ImportDirectory(import));
  EXPECT_THAT(again.errors(), IsEmpty());
  EXPECT_EQ(again.organizations_created(), 0);
  EXPECT_EQ(again.organizations_existing(), 4);
  EXPECT_EQ(again.participants_created(), 0);
  EXPECT_EQ(again.participants_existing(), 4);

  ASSERT_OK_AND_ASSIGN(Tenant other, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::ImportDirectoryResponse imported,
                       other.client.ImportDirectory(import));
  EXPECT_THAT(imported.errors(), IsEmpty());
  EXPECT_EQ(imported.organizations_created(), 4);
  EXPECT_EQ(imported.participants_created(), 4);
  ASSERT_OK_AND_ASSIGN(std::string orgs_again,
                       ExportOrganizations(other, kCsv));
  ASSERT_OK_AND_ASSIGN(std::string people_again,
                       ExportParticipants(other, kCsv));
  ASSERT_OK_AND_ASSIGN(Csv before, ReadCsv(orgs));
  ASSERT_OK_AND_ASSIGN(Csv after, ReadCsv(orgs_again));
  EXPECT_EQ(after.header, before.header);
  EXPECT_EQ(RowSet(after), RowSet(before)) << orgs << "\n" << orgs_again;
  ASSERT_OK_AND_ASSIGN(before, ReadCsv(people));
  ASSERT_OK_AND_ASSIGN(after, ReadCsv(people_again));
  EXPECT_EQ(after.header, before.header);
  EXPECT_EQ(RowSet(after), RowSet(before)) << people << "\n" << people_again;
  // The stored values are the typed ones, not the defused cells.
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Organization> listed,
                       ListOrgs(other.client));
  std::set<std::string> phones;
  for (const v1::Organization& org : listed) {
    phones.insert(org.contact_phone());
  }
  EXPECT_TRUE(phones.contains(kFormulaPhone));
}

// ---- Participants -----------------------------------------------------------

TEST(RegistrationExportsTest, ParticipantsCarryContactDetailsForOrganizers) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(Directory d, NewDirectory(t));

  ASSERT_OK_AND_ASSIGN(std::string json, ExportParticipants(t, kJson));
  ASSERT_OK_AND_ASSIGN(auto exported,
                       FromJson<v1::ListParticipantsResponse>(json));
  ASSERT_EQ(exported.participants_size(), 4) << json;
  std::map<std::string, v1::Participant> by_id;
  for (const v1::Participant& p : exported.participants()) by_id[p.id()] = p;
  for (const v1::Participant& created : d.people) {
    EXPECT_TRUE(MessageDifferencer::Equals(by_id[created.id()], created))
        << by_id[created.id()].DebugString() << "\n"
        << created.DebugString();
  }
  EXPECT_EQ(by_id[d.people[1].id()].email(), "sherzod@example.org");
  EXPECT_EQ(by_id[d.people[1].id()].phone(), "+7 843 555 01 02");

  ASSERT_OK_AND_ASSIGN(std::string content, ExportParticipants(t, kCsv));
  EXPECT_THAT(content, StartsWith("display_name,organization,email,phone,"
                                  "preferred_language,time_zone\r\n"));
  ASSERT_OK_AND_ASSIGN(Csv csv, ReadCsv(content));
  ASSERT_EQ(csv.rows.size(), 4u) << content;
  auto aziz = RowsWhere(csv, "display_name", Defused(kFormulaPerson));
  ASSERT_EQ(aziz.size(), 1u) << content;
  EXPECT_EQ(aziz[0]["organization"], Defused(kFormulaName));
  EXPECT_EQ(aziz[0]["phone"], Defused("-12 34"));
  EXPECT_EQ(aziz[0]["email"], "aziz@example.org");
  auto sherzod = RowsWhere(csv, "display_name", kCyrillicPerson);
  ASSERT_EQ(sherzod.size(), 1u) << content;
  EXPECT_EQ(sherzod[0]["organization"], kCyrillicOrg);
  EXPECT_EQ(sherzod[0]["phone"], Defused("+7 843 555 01 02"));
  EXPECT_EQ(sherzod[0]["time_zone"], "Europe/Moscow");
  auto fatima = RowsWhere(csv, "display_name", kArabicPerson);
  ASSERT_EQ(fatima.size(), 1u) << content;
  EXPECT_EQ(fatima[0]["organization"], kArabicOrg);
  EXPECT_EQ(fatima[0]["preferred_language"], "ar");
  auto wang = RowsWhere(csv, "display_name", kCjkPerson);
  ASSERT_EQ(wang.size(), 1u) << content;
  EXPECT_EQ(wang[0]["organization"], kCjkOrg);
  EXPECT_EQ(wang[0]["email"], "");
}

// Nobody but the tenant's organizers gets an export: not a portal's API
// key (which reads the directory without contact details), not a join
// token, even the session organizer's.
TEST(RegistrationExportsTest, OnlyOrganizersExport) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(Directory d, NewDirectory(t));
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t));
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Session> series, NewSeries(t, 2));
  ASSERT_TRUE(Register(t, s.id(), d.people[1].id(),
                       WithRole(v1::SESSION_ROLE_ORGANIZER))
                  .ok());
  ASSERT_OK_AND_ASSIGN(v1::IssueJoinTokenResponse join,
                       IssueJoinToken(t, s.id(), d.people[1].id()));
  ASSERT_EQ(join.role(), v1::SESSION_ROLE_ORGANIZER);
  // The portal may read the directory (contact details cleared)...
  const CallOptions portal{
      .token = PortalKey(t, ScopeBit(ApiScope::kReadSchedule) |
                                ScopeBit(ApiScope::kManageRegistrations) |
                                ScopeBit(ApiScope::kSubmitQuestions))};
  v1::GetParticipantRequest get;
  get.set_participant_id(d.people[1].id());
  ASSERT_OK_AND_ASSIGN(v1::GetParticipantResponse seen,
                       t.client.GetParticipant(get, portal));
  EXPECT_EQ(seen.participant().email(), "");

  v1::ExportRegistrationsRequest registrations;
  registrations.set_session_id(s.id());
  v1::ExportSessionAttendanceRequest attendance;
  attendance.set_session_id(s.id());
  v1::ExportSeriesAttendanceRequest series_attendance;
  series_attendance.set_series_id(series[0].series_id());
  for (const CallOptions& call : {portal, CallOptions{.token = join.token()}}) {
    SCOPED_TRACE(call.token == portal.token ? "API key" : "join token");
    for (v1::ExportFormat format : {kJson, kCsv}) {
      // ... but exports none of it.
      EXPECT_THAT(t.client.ExportOrganizations(
                      In<v1::ExportOrganizationsRequest>(format), call),
                  HasCode(absl::StatusCode::kPermissionDenied));
      EXPECT_THAT(t.client.ExportParticipants(
                      In<v1::ExportParticipantsRequest>(format), call),
                  HasCode(absl::StatusCode::kPermissionDenied));
      EXPECT_THAT(t.client.ExportRegistrations(In(format, registrations), call),
                  HasCode(absl::StatusCode::kPermissionDenied));
      EXPECT_THAT(
          t.client.ExportSessionAttendance(In(format, attendance), call),
          HasCode(absl::StatusCode::kPermissionDenied));
      EXPECT_THAT(
          t.client.ExportSeriesAttendance(In(format, series_attendance), call),
          HasCode(absl::StatusCode::kPermissionDenied));
    }
  }
  // The organizer may.
  EXPECT_OK(ExportRegistrations(t, s.id(), kCsv));
}

// ---- Registrations ----------------------------------------------------------

TEST(RegistrationExportsTest, RegistrationsShowStatusAndWaitlistPosition) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(Directory d, NewDirectory(t));
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t, {.capacity = 2}));
  std::string ali = NewParticipant(t, "Ali Valiyev");
  // People: 0 formula, 1 Cyrillic, 2 Arabic, 3 CJK.
  const std::string& aziz = d.people[0].id();
  const std::string& sherzod = d.people[1].id();
  const std::string& fatima = d.people[2].id();
  const std::string& wang = d.people[3].id();
  ASSERT_OK_AND_ASSIGN(
      v1::Registration first,
      Register(t, s.id(), sherzod, WithRole(v1::SESSION_ROLE_MODERATOR)));
  ASSERT_EQ(first.status(), v1::REGISTRATION_STATUS_CONFIRMED);
  for (const std::string& id : {fatima, wang, aziz, ali}) {
    ASSERT_TRUE(Register(t, s.id(), id).ok());
  }
  // Fatima cancels: Wang, first on the waitlist, takes her seat; Aziz and
  // Ali move up to 1 and 2.
  ASSERT_OK_AND_ASSIGN(v1::CancelRegistrationResponse cancelled,
                       Cancel(t, s.id(), fatima, kFormulaReason));
  ASSERT_EQ(cancelled.promoted().participant_id(), wang);

  ASSERT_OK_AND_ASSIGN(std::string json, ExportRegistrations(t, s.id(), kJson));
  ASSERT_OK_AND_ASSIGN(auto exported,
                       FromJson<v1::ListRegistrationsResponse>(json));
  ASSERT_OK_AND_ASSIGN(v1::ListRegistrationsResponse listed,
                       List(t, s.id(), {}, 500));
  EXPECT_TRUE(MessageDifferencer::Equals(exported, listed))
      << json << "\n"
      << listed.DebugString();
  EXPECT_EQ(exported.registrations_size(), 5);
  EXPECT_EQ(exported.capacity(), 2);
  EXPECT_EQ(exported.confirmed_count(), 2);
  EXPECT_EQ(exported.waitlisted_count(), 2);

  ASSERT_OK_AND_ASSIGN(std::string content,
                       ExportRegistrations(t, s.id(), kCsv));
  EXPECT_THAT(content,
              StartsWith("participant_id,display_name,organization_id,"
                         "organization_name,role,status,waitlist_position,"
                         "delegation,self_registered,cancel_reason,"
                         "create_time,update_time\r\n"));
  ASSERT_OK_AND_ASSIGN(Csv csv, ReadCsv(content));
  ASSERT_EQ(csv.rows.size(), 5u) << content;
  // Arrival order.
  std::vector<std::string> order;
  for (const auto& row : csv.rows) order.push_back(row.at("participant_id"));
  EXPECT_THAT(order, ElementsAre(sherzod, fatima, wang, aziz, ali));
  std::map<std::string, std::map<std::string, std::string>> row;
  for (const auto& r : csv.rows) row[r.at("participant_id")] = r;

  EXPECT_EQ(row[sherzod]["display_name"], kCyrillicPerson);
  EXPECT_EQ(row[sherzod]["organization_id"], d.orgs[1].id());
  EXPECT_EQ(row[sherzod]["organization_name"], kCyrillicOrg);
  EXPECT_EQ(row[sherzod]["role"], "MODERATOR");
  EXPECT_EQ(row[sherzod]["status"], "CONFIRMED");
  EXPECT_EQ(row[sherzod]["waitlist_position"], "0");
  EXPECT_EQ(row[sherzod]["delegation"], "INDIVIDUAL");
  EXPECT_EQ(row[sherzod]["self_registered"], "false");
  ExpectRecentTime(row[sherzod]["create_time"]);
  ExpectRecentTime(row[sherzod]["update_time"]);

  EXPECT_EQ(row[fatima]["display_name"], kArabicPerson);
  EXPECT_EQ(row[fatima]["organization_name"], kArabicOrg);
  EXPECT_EQ(row[fatima]["status"], "CANCELLED");
  EXPECT_EQ(row[fatima]["cancel_reason"], Defused(kFormulaReason));
  EXPECT_EQ(row[wang]["display_name"], kCjkPerson);
  EXPECT_EQ(row[wang]["organization_name"], kCjkOrg);
  EXPECT_EQ(row[wang]["status"], "CONFIRMED");
  EXPECT_EQ(row[wang]["role"], "PARTICIPANT");
  EXPECT_EQ(row[aziz]["display_name"], Defused(kFormulaPerson));
  EXPECT_EQ(row[aziz]["organization_name"], Defused(kFormulaName));
  EXPECT_EQ(row[aziz]["status"], "WAITLISTED");
  EXPECT_EQ(row[aziz]["waitlist_position"], "1");
  EXPECT_EQ(row[ali]["status"], "WAITLISTED");
  EXPECT_EQ(row[ali]["waitlist_position"], "2");
  EXPECT_EQ(row[ali]["organization_id"], "");
  EXPECT_EQ(row[ali]["organization_name"], "");
}

// More than one page of the list read (500): every registration, once.
TEST(RegistrationExportsTest, RegistrationsSpanSeveralPages) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t, {.capacity = 3}));
  // 520 people in one import; ExportParticipants reads them in two pages.
  std::string people = "display_name\n";
  for (int i = 0; i < 520; ++i) absl::StrAppend(&people, "Person ", i, "\n");
  v1::ImportDirectoryRequest import;
  import.set_participants_csv(people);
  ASSERT_OK_AND_ASSIGN(v1::ImportDirectoryResponse imported,
                       t.client.ImportDirectory(import));
  ASSERT_EQ(imported.participants_created(), 520);
  ASSERT_OK_AND_ASSIGN(std::string json, ExportParticipants(t, kJson));
  ASSERT_OK_AND_ASSIGN(auto directory,
                       FromJson<v1::ListParticipantsResponse>(json));
  ASSERT_EQ(directory.participants_size(), 520);
  std::set<std::string> ids;
  for (const v1::Participant& p : directory.participants()) {
    ids.insert(p.id());
    ASSERT_TRUE(Register(t, s.id(), p.id()).ok());
  }
  EXPECT_EQ(ids.size(), 520u);

  ASSERT_OK_AND_ASSIGN(std::string content,
                       ExportRegistrations(t, s.id(), kCsv));
  ASSERT_OK_AND_ASSIGN(Csv csv, ReadCsv(content));
  ASSERT_EQ(csv.rows.size(), 520u);
  std::set<std::string> exported;
  for (const auto& row : csv.rows) exported.insert(row.at("participant_id"));
  EXPECT_EQ(exported, ids);
  // The last to arrive is 517th on the waitlist.
  EXPECT_EQ(csv.rows.back().at("waitlist_position"), "517");
}

// ---- Attendance -------------------------------------------------------------

TEST(RegistrationExportsTest, SessionAttendanceListsEveryRegistration) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(Directory d, NewDirectory(t));
  // Hybrid, starting within 2 hours: joining and check-in are open.
  ASSERT_OK_AND_ASSIGN(
      v1::Session s, NewSession(t, {.capacity = 3,
                                    .format = v1::SESSION_FORMAT_HYBRID,
                                    .start = absl::Now() + absl::Minutes(30)}));
  for (const v1::Participant& p : d.people) {
    ASSERT_TRUE(Register(t, s.id(), p.id()).ok());
  }
  // 0 formula, 1 Cyrillic, 2 Arabic, 3 CJK (waitlisted).
  ASSERT_TRUE(
      Attend(t, s.id(), d.people[2].id(), v1::ATTENDANCE_ACTION_JOIN).ok());
  ASSERT_TRUE(
      Attend(t, s.id(), d.people[1].id(), v1::ATTENDANCE_ACTION_CHECK_IN).ok());

  ASSERT_OK_AND_ASSIGN(std::string json,
                       ExportSessionAttendance(t, s.id(), kJson));
  ASSERT_OK_AND_ASSIGN(auto exported,
                       FromJson<v1::SessionAttendanceExport>(json));
  EXPECT_EQ(exported.registered_count(), 3);
  EXPECT_EQ(exported.attended_count(), 2);
  ASSERT_EQ(exported.entries_size(), 4) << json;
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(exported.entries(i).registration().participant_id(),
              d.people[i].id());
  }
  EXPECT_FALSE(exported.entries(0).has_attendance());
  EXPECT_TRUE(exported.entries(1).attendance().has_check_in_time());
  EXPECT_FALSE(exported.entries(1).attendance().online_now());
  EXPECT_TRUE(exported.entries(2).attendance().online_now());
  EXPECT_EQ(exported.entries(2).attendance().participant_display_name(),
            kArabicPerson);
  EXPECT_FALSE(exported.entries(3).has_attendance());
  EXPECT_EQ(exported.entries(3).registration().status(),
            v1::REGISTRATION_STATUS_WAITLISTED);

  ASSERT_OK_AND_ASSIGN(std::string content,
                       ExportSessionAttendance(t, s.id(), kCsv));
  EXPECT_THAT(content,
              StartsWith("participant_id,display_name,organization_id,"
                         "organization_name,role,status,attended,"
                         "first_seen_time,check_in_time,online_seconds,"
                         "online_now\r\n"));
  ASSERT_OK_AND_ASSIGN(Csv csv, ReadCsv(content));
  ASSERT_EQ(csv.rows.size(), 4u) << content;
  std::vector<std::string> attended, online, checked_in;
  for (const auto& row : csv.rows) {
    attended.push_back(row.at("attended"));
    online.push_back(row.at("online_now"));
    checked_in.push_back(row.at("check_in_time").empty() ? "-" : "yes");
  }
  EXPECT_THAT(attended, ElementsAre("false", "true", "true", "false"));
  EXPECT_THAT(online, ElementsAre("false", "false", "true", "false"));
  EXPECT_THAT(checked_in, ElementsAre("-", "yes", "-", "-"));
  EXPECT_EQ(csv.rows[0].at("display_name"), Defused(kFormulaPerson));
  EXPECT_EQ(csv.rows[0].at("organization_name"), Defused(kFormulaName));
  EXPECT_EQ(csv.rows[0].at("first_seen_time"), "");
  EXPECT_EQ(csv.rows[1].at("display_name"), kCyrillicPerson);
  ExpectRecentTime(csv.rows[1].at("check_in_time"));
  ExpectRecentTime(csv.rows[1].at("first_seen_time"));
  EXPECT_EQ(csv.rows[2].at("organization_name"), kArabicOrg);
  ExpectRecentTime(csv.rows[2].at("first_seen_time"));
  EXPECT_EQ(csv.rows[3].at("display_name"), kCjkPerson);
  EXPECT_EQ(csv.rows[3].at("status"), "WAITLISTED");
  EXPECT_EQ(csv.rows[3].at("online_seconds"), "0");
}

TEST(RegistrationExportsTest, SeriesAttendancePerOrganization) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(Directory d, NewDirectory(t));
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Session> occ, NewSeries(t, 3));
  const std::string& series = occ[0].series_id();
  // 0 formula, 1 Cyrillic, 2 Arabic, 3 CJK.
  for (const v1::Participant& p : d.people) {
    ASSERT_TRUE(RegisterForSeries(t, series, p.id()).ok());
  }
  // Occurrence 1: Cyrillic and Arabic attend; occurrence 2: Cyrillic;
  // occurrence 3 has not taken place.
  ASSERT_TRUE(Start(t, occ[0].id()).ok());
  for (int i : {1, 2}) {
    ASSERT_TRUE(
        Attend(t, occ[0].id(), d.people[i].id(), v1::ATTENDANCE_ACTION_JOIN)
            .ok());
  }
  ASSERT_TRUE(End(t, occ[0].id()).ok());
  ASSERT_TRUE(Start(t, occ[1].id()).ok());
  ASSERT_TRUE(
      Attend(t, occ[1].id(), d.people[1].id(), v1::ATTENDANCE_ACTION_JOIN)
          .ok());

  ASSERT_OK_AND_ASSIGN(std::string json,
                       ExportSeriesAttendance(t, series, kJson));
  ASSERT_OK_AND_ASSIGN(auto exported,
                       FromJson<v1::GetSeriesAttendanceResponse>(json));
  v1::GetSeriesAttendanceRequest request;
  request.set_series_id(series);
  ASSERT_OK_AND_ASSIGN(v1::GetSeriesAttendanceResponse report,
                       t.client.GetSeriesAttendance(request));
  EXPECT_TRUE(MessageDifferencer::Equals(exported, report))
      << json << "\n"
      << report.DebugString();
  EXPECT_EQ(exported.occurrences_total(), 2);
  ASSERT_EQ(exported.organizations_size(), 4);
  EXPECT_EQ(exported.organizations(0).organization_name(), kCyrillicOrg);

  ASSERT_OK_AND_ASSIGN(std::string content,
                       ExportSeriesAttendance(t, series, kCsv));
  EXPECT_THAT(content, StartsWith("organization_id,organization_name,"
                                  "occurrences_attended,occurrences_total,"
                                  "attended_session_ids\r\n"));
  ASSERT_OK_AND_ASSIGN(Csv csv, ReadCsv(content));
  ASSERT_EQ(csv.rows.size(), 4u) << content;
  // Most attended first (GetSeriesAttendance's order).
  EXPECT_EQ(csv.rows[0].at("organization_id"), d.orgs[1].id());
  EXPECT_EQ(csv.rows[0].at("organization_name"), kCyrillicOrg);
  EXPECT_EQ(csv.rows[0].at("occurrences_attended"), "2");
  EXPECT_EQ(csv.rows[0].at("occurrences_total"), "2");
  EXPECT_EQ(csv.rows[0].at("attended_session_ids"),
            absl::StrCat(occ[0].id(), " ", occ[1].id()));
  EXPECT_EQ(csv.rows[1].at("organization_name"), kArabicOrg);
  EXPECT_EQ(csv.rows[1].at("occurrences_attended"), "1");
  EXPECT_EQ(csv.rows[1].at("attended_session_ids"), occ[0].id());
  std::set<std::string> never;
  for (size_t i = 2; i < csv.rows.size(); ++i) {
    EXPECT_EQ(csv.rows[i].at("occurrences_attended"), "0");
    EXPECT_EQ(csv.rows[i].at("attended_session_ids"), "");
    never.insert(csv.rows[i].at("organization_name"));
  }
  EXPECT_EQ(never, (std::set<std::string>{Defused(kFormulaName), kCjkOrg}));
}

// ---- Errors -----------------------------------------------------------------

TEST(RegistrationExportsTest, BadSessionSeriesAndFormatAreRefused) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(Tenant other, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session theirs, NewSession(other));
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Session> their_series,
                       NewSeries(other, 2));
  ASSERT_OK_AND_ASSIGN(v1::Session mine, NewSession(t));
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Session> my_series, NewSeries(t, 2));

  for (v1::ExportFormat format : {kJson, kCsv}) {
    for (const std::string& id : {std::string(""), std::string("no such/id")}) {
      EXPECT_THAT(ExportRegistrations(t, id, format),
                  StatusIs(absl::StatusCode::kInvalidArgument,
                           HasSubstr("session_id")));
      EXPECT_THAT(ExportSessionAttendance(t, id, format),
                  StatusIs(absl::StatusCode::kInvalidArgument,
                           HasSubstr("session_id")));
      EXPECT_THAT(
          ExportSeriesAttendance(t, id, format),
          StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("series_id")));
    }
    // Another tenant's is NOT_FOUND, as one nobody made.
    for (const std::string& id : {theirs.id(), NewId()}) {
      EXPECT_THAT(ExportRegistrations(t, id, format),
                  StatusIs(absl::StatusCode::kNotFound, HasSubstr(id)));
      EXPECT_THAT(ExportSessionAttendance(t, id, format),
                  StatusIs(absl::StatusCode::kNotFound, HasSubstr(id)));
    }
    for (const std::string& id : {their_series[0].series_id(), NewId()}) {
      EXPECT_THAT(ExportSeriesAttendance(t, id, format),
                  HasCode(absl::StatusCode::kNotFound));
    }
  }

  // A format this server does not know (proto3 enums are open).
  const auto unknown = static_cast<v1::ExportFormat>(7);
  for (absl::StatusOr<std::string> refused :
       {ExportOrganizations(t, unknown), ExportParticipants(t, unknown),
        ExportRegistrations(t, mine.id(), unknown),
        ExportSessionAttendance(t, mine.id(), unknown),
        ExportSeriesAttendance(t, my_series[0].series_id(), unknown)}) {
    EXPECT_THAT(refused,
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("format: unknown export format 7")));
  }
}

// A name of `chars` random letters of the Mathematical Bold block (4 bytes
// each in UTF-8; the duplicate rule reads them as Latin).
std::string BoldName(std::mt19937& random, int chars) {
  std::string name;
  for (int i = 0; i < chars; ++i) {
    const char32_t cp = 0x1D400 + random() % 26;
    name += static_cast<char>(0xF0 | (cp >> 18));
    name += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    name += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    name += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return name;
}

// An export whose content would pass 4,000,000 bytes (the most a gRPC
// client takes by default is 4 MiB) is RESOURCE_EXHAUSTED in either form.
TEST(RegistrationExportsTest, AnExportPastTheByteCapIsResourceExhausted) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  // 165 organizations of 21 names of 300 four-byte letters: ~25 KB each in
  // CSV, 4.1 MB in all.
  const char* const kTags[] = {"ru",      "en",      "de", "fr", "uz-Latn",
                               "uz-Cyrl", "kk",      "ky", "tg", "tr",
                               "ar",      "zh-Hans", "ja", "ko", "es",
                               "it",      "pl",      "uk", "be", "az"};
  std::mt19937 random(17);
  for (int i = 0; i < 165; ++i) {
    v1::Organization org = Org(BoldName(random, 300), "UZ");
    for (const char* tag : kTags) {
      (*org.mutable_localized_names())[tag] = BoldName(random, 300);
    }
    ASSERT_OK(CreateOrg(t.client, org).status());
  }
  for (v1::ExportFormat format : {kJson, kCsv}) {
    EXPECT_THAT(ExportOrganizations(t, format),
                StatusIs(absl::StatusCode::kResourceExhausted,
                         HasSubstr("more than 4000000 bytes")));
  }
  // Fewer records still export.
  EXPECT_OK(ExportParticipants(t, kCsv));
}

}  // namespace
}  // namespace townhall::testing::registration_test
