// townhall-load-demo: loads the reference conference into a running server.
//
// Modelled on ../shared/scenario: the government of Uzbekistan (tenant
// "mfa-uz") holds a monthly video conference with compatriots in Russia,
// in Asia/Tashkent, whose first occurrence is live now, and a follow-up
// "Open Day" at the embassy in Berlin (a zone with daylight saving time).
// The directory (about 70 diaspora organizations, ministries and missions
// and their delegates) is imported from CSV; the import reports the rows it
// refuses, so a demo shows that too. Delegates are registered for the live
// occurrence (one of them moderates) and for the Open Day; the live
// occurrence gets the reference event's seven topics, the first active.
// Idempotent: a second run finds the demo, creates nothing twice and issues
// fresh tokens.
//
//   townhall-load-demo --server=127.0.0.1:50051
//       --bootstrap_credential_file=.local/bootstrap_credential
//       --directory_dir=tests/data --state_dir=.local
// prints an organizer token on stdout and writes a moderator's join token
// (and, on the first run, a portal's API key) into --state_dir.
#include <sys/stat.h>

#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "clients/cpp/townhall_client.h"

ABSL_FLAG(std::string, server, "127.0.0.1:50051", "townhalld address.");
ABSL_FLAG(std::string, bootstrap_credential_file, "",
          "File with the operator's bootstrap credential.");
ABSL_FLAG(std::string, tenant, "mfa-uz", "Tenant id of the demo organizer.");
ABSL_FLAG(absl::Duration, wait, absl::Seconds(30),
          "How long to wait for the server to become ready.");
ABSL_FLAG(std::string, directory_dir, "",
          "Folder with organizations.csv and participants.csv to import; "
          "empty skips the directory and registrations.");
ABSL_FLAG(std::string, state_dir, "",
          "Folder to write moderator_join_token and portal_api_key into.");

namespace townhall {
namespace {

using v1::Session;

int Fail(absl::string_view what, const absl::Status& status) {
  std::cerr << "load-demo: " << what << ": " << status << "\n";
  return 1;
}

void SetStart(absl::Time t, Session* s) {
  s->mutable_start_time()->set_seconds(absl::ToUnixSeconds(t));
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Writes a secret for the local user only.
void WriteSecret(const std::string& dir, const std::string& name,
                 const std::string& value) {
  if (dir.empty()) return;
  std::string path = absl::StrCat(dir, "/", name);
  std::ofstream out(path, std::ios::trunc);
  out << value << "\n";
  out.close();
  chmod(path.c_str(), 0600);
}

// OK, or ALREADY_EXISTS from a second run.
bool CreatedOrExists(const absl::Status& status) {
  return status.ok() || status.code() == absl::StatusCode::kAlreadyExists;
}

// Imports the directory and registers delegates: for the live occurrence
// of the dialogue one person of each of the first 40 organizations (the
// first of them moderates), for the Open Day in Berlin 12 people. Returns
// the moderator's participant id.
absl::StatusOr<std::string> LoadRegistrations(TownhallClient& client,
                                              const std::string& live_id,
                                              const std::string& open_day_id) {
  const std::string dir = absl::GetFlag(FLAGS_directory_dir);
  v1::ImportDirectoryRequest import;
  absl::StatusOr<std::string> orgs =
      ReadFile(absl::StrCat(dir, "/organizations.csv"));
  absl::StatusOr<std::string> people =
      ReadFile(absl::StrCat(dir, "/participants.csv"));
  if (!orgs.ok()) return orgs.status();
  if (!people.ok()) return people.status();
  import.set_organizations_csv(*orgs);
  import.set_participants_csv(*people);
  auto imported = client.ImportDirectory(import);
  if (!imported.ok()) return imported.status();
  std::cerr << "load-demo: directory: " << imported->organizations_created()
            << " organizations and " << imported->participants_created()
            << " participants created, " << imported->organizations_existing()
            << " + " << imported->participants_existing()
            << " already there; rows refused:\n";
  for (const v1::ImportError& error : imported->errors()) {
    std::cerr << "  " << error.file() << ".csv line " << error.line() << ": "
              << error.reason() << "\n";
  }

  // One member of each organization, in the order the server lists them.
  std::vector<std::string> delegates;
  std::set<std::string> seen_orgs;
  v1::ListParticipantsRequest list;
  list.set_page_size(500);
  auto listed = client.ListParticipants(list);
  if (!listed.ok()) return listed.status();
  for (const v1::Participant& p : listed->participants()) {
    if (p.organization_id().empty()) continue;
    if (seen_orgs.insert(p.organization_id()).second) {
      delegates.push_back(p.id());
    }
  }
  if (delegates.empty()) {
    return absl::FailedPreconditionError("the directory has no delegates");
  }
  for (size_t i = 0; i < delegates.size() && i < 40; ++i) {
    v1::RegisterRequest reg;
    reg.set_session_id(live_id);
    reg.set_participant_id(delegates[i]);
    reg.set_role(i == 0 ? v1::SESSION_ROLE_MODERATOR
                        : v1::SESSION_ROLE_PARTICIPANT);
    reg.set_request_id(absl::StrCat("demo-live-", delegates[i]));
    if (absl::Status s = client.Register(reg).status(); !CreatedOrExists(s)) {
      return s;
    }
  }
  for (size_t i = 0; i < delegates.size() && i < 12; ++i) {
    v1::RegisterRequest reg;
    reg.set_session_id(open_day_id);
    reg.set_participant_id(delegates[delegates.size() - 1 - i]);
    reg.set_request_id(absl::StrCat("demo-open-day-", reg.participant_id()));
    if (absl::Status s = client.Register(reg).status(); !CreatedOrExists(s)) {
      return s;
    }
  }
  return delegates[0];
}

absl::Status LoadSchedule(TownhallClient& client, std::string* live_id,
                          std::string* open_day_id);

// The reference event's topics on the live session, the first one active
// (once: an agenda that has items is left alone).
absl::Status LoadAgenda(TownhallClient& client, const std::string& live_id) {
  v1::GetAgendaRequest get;
  get.set_session_id(live_id);
  auto agenda = client.GetAgenda(get);
  if (!agenda.ok()) return agenda.status();
  if (agenda->agenda().items_size() > 0) return absl::OkStatus();
  const char* kTopics[] = {
      "Pandemiya sharoitidagi vaziyat / The situation with the pandemic",
      "Mehnat migratsiyasi va bandlik / Labour migration and employment",
      "Migrantlarni huquqiy himoya qilish / Legal protection of migrants",
      "Sugʻurta himoyasi / Insurance protection",
      "Investitsiya va biznes loyihalari / Investment and business projects",
      "Taʼlim, fan va madaniyat / Education, science and culture",
      "Oʻzbek tili, madaniyati va turizmi / Language, culture and tourism",
  };
  std::string first;
  int number = 0;
  for (const char* title : kTopics) {
    v1::CreateAgendaItemRequest create;
    create.set_session_id(live_id);
    create.mutable_item()->set_title(title);
    create.mutable_item()->mutable_planned_duration()->set_seconds(20 * 60);
    create.set_request_id(absl::StrCat("demo-topic-", number++));
    auto made = client.CreateAgendaItem(create);
    if (!made.ok()) return made.status();
    if (first.empty()) first = made->item().id();
  }
  v1::ActivateAgendaItemRequest activate;
  activate.set_session_id(live_id);
  activate.set_agenda_item_id(first);
  return client.ActivateAgendaItem(activate).status();
}

int Run() {
  std::ifstream in(absl::GetFlag(FLAGS_bootstrap_credential_file));
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string credential(absl::StripAsciiWhitespace(buffer.str()));
  if (credential.empty()) {
    std::cerr << "load-demo: --bootstrap_credential_file is empty or missing\n";
    return 2;
  }
  TownhallClient op(
      {.address = absl::GetFlag(FLAGS_server), .token = credential});

  // Wait for the server (and its Redis) to answer.
  absl::Time give_up = absl::Now() + absl::GetFlag(FLAGS_wait);
  while (true) {
    v1::PingRequest ping;
    absl::Status status =
        op.Ping(ping, {.deadline = absl::Seconds(1)}).status();
    if (status.ok()) break;
    if (absl::Now() > give_up) return Fail("server not ready", status);
    absl::SleepFor(absl::Milliseconds(200));
  }

  const std::string tenant = absl::GetFlag(FLAGS_tenant);
  v1::CreateTenantRequest create_tenant;
  create_tenant.mutable_tenant()->set_id(tenant);
  create_tenant.mutable_tenant()->set_display_name(
      "Ministry of Foreign Affairs of the Republic of Uzbekistan");
  absl::Status created = op.CreateTenant(create_tenant).status();
  if (!created.ok() && created.code() != absl::StatusCode::kAlreadyExists) {
    return Fail("create tenant", created);
  }
  v1::IssueTokenRequest issue;
  issue.set_tenant_id(tenant);
  issue.set_subject("organizer@mfa.example.uz");
  issue.mutable_ttl()->set_seconds(7 * 24 * 3600);
  auto token = op.IssueToken(issue);
  if (!token.ok()) return Fail("issue token", token.status());
  TownhallClient client(
      {.address = absl::GetFlag(FLAGS_server), .token = token->token()});

  auto existing = client.ListSessions(v1::ListSessionsRequest());
  if (!existing.ok()) return Fail("list sessions", existing.status());
  std::string live_id;
  std::string open_day_id;
  for (const Session& s : existing->sessions()) {
    if (s.state() == v1::SESSION_STATE_LIVE && live_id.empty())
      live_id = s.id();
    if (s.format() == v1::SESSION_FORMAT_IN_PERSON) open_day_id = s.id();
  }
  if (existing->sessions_size() == 0) {
    absl::Status loaded = LoadSchedule(client, &live_id, &open_day_id);
    if (!loaded.ok()) return Fail("load schedule", loaded);
  }
  if (!absl::GetFlag(FLAGS_directory_dir).empty() && !live_id.empty() &&
      !open_day_id.empty()) {
    absl::StatusOr<std::string> moderator =
        LoadRegistrations(client, live_id, open_day_id);
    if (!moderator.ok()) return Fail("load registrations", moderator.status());
    v1::IssueJoinTokenRequest join;
    join.set_session_id(live_id);
    join.set_participant_id(*moderator);
    auto joined = client.IssueJoinToken(join);
    if (!joined.ok()) return Fail("issue join token", joined.status());
    WriteSecret(absl::GetFlag(FLAGS_state_dir), "moderator_join_token",
                joined->token());
    WriteSecret(absl::GetFlag(FLAGS_state_dir), "live_session_id", live_id);
    if (absl::Status agenda = LoadAgenda(client, live_id); !agenda.ok()) {
      return Fail("load agenda", agenda);
    }
  }
  // A portal's API key, once (the key is shown only when created).
  auto keys = client.ListApiKeys(v1::ListApiKeysRequest());
  if (!keys.ok()) return Fail("list API keys", keys.status());
  if (keys->api_keys_size() == 0) {
    v1::CreateApiKeyRequest key;
    key.mutable_api_key()->set_display_name("Vatandoshlar portali (demo)");
    key.mutable_api_key()->add_scopes(v1::API_SCOPE_READ_SCHEDULE);
    key.mutable_api_key()->add_scopes(v1::API_SCOPE_MANAGE_REGISTRATIONS);
    auto created = client.CreateApiKey(key);
    if (!created.ok()) return Fail("create API key", created.status());
    WriteSecret(absl::GetFlag(FLAGS_state_dir), "portal_api_key",
                created->key());
  }
  std::cout << token->token() << "\n";
  return 0;
}

// Venues, the monthly dialogue (first occurrence live) and the Open Day.
absl::Status LoadSchedule(TownhallClient& client, std::string* live_id,
                          std::string* open_day_id) {
  v1::CreateVenueRequest moscow;
  moscow.set_request_id("demo-venue-moscow");
  moscow.mutable_venue()->set_name(
      "Embassy of the Republic of Uzbekistan in Moscow");
  moscow.mutable_venue()->set_address("Pogorelsky pereulok 12, Moscow");
  moscow.mutable_venue()->set_time_zone("Europe/Moscow");
  moscow.mutable_venue()->set_capacity(120);
  auto moscow_venue = client.CreateVenue(moscow);
  if (!moscow_venue.ok()) return moscow_venue.status();

  v1::CreateVenueRequest berlin;
  berlin.set_request_id("demo-venue-berlin");
  berlin.mutable_venue()->set_name(
      "Embassy of the Republic of Uzbekistan in Berlin");
  berlin.mutable_venue()->set_address("Perleberger Strasse 62, 10559 Berlin");
  berlin.mutable_venue()->set_time_zone("Europe/Berlin");
  berlin.mutable_venue()->set_capacity(80);
  auto berlin_venue = client.CreateVenue(berlin);
  if (!berlin_venue.ok()) return berlin_venue.status();

  // The monthly dialogue, first occurrence this hour in Tashkent.
  absl::TimeZone tashkent;
  absl::LoadTimeZone("Asia/Tashkent", &tashkent);
  absl::CivilHour this_hour = absl::ToCivilHour(absl::Now(), tashkent);
  v1::CreateSeriesRequest series;
  series.set_request_id("demo-series-dialogue");
  series.set_publish(true);
  Session* tmpl = series.mutable_series()->mutable_template_();
  tmpl->set_title("Dialogue of the Government with compatriots in Russia");
  tmpl->set_description(
      "Regular video conference of ministries, departments and diplomatic "
      "missions with more than 70 diaspora organizations: the pandemic "
      "situation, labour migration and employment, legal protection, "
      "insurance, investment, education, culture, language and tourism.");
  SetStart(absl::FromCivil(this_hour, tashkent), tmpl);
  tmpl->mutable_duration()->set_seconds(3 * 3600);
  tmpl->set_time_zone("Asia/Tashkent");
  tmpl->set_format(v1::SESSION_FORMAT_HYBRID);
  tmpl->add_venue_ids(moscow_venue->venue().id());
  tmpl->add_host_ids("mfa-diaspora-department");
  tmpl->set_join_url("https://meet.example.uz/dialogue-compatriots");
  tmpl->set_capacity(300);
  tmpl->add_languages("uz");
  tmpl->add_languages("ru");
  tmpl->add_languages("en");
  series.mutable_series()->set_rrule("FREQ=MONTHLY;COUNT=6");
  auto created_series = client.CreateSeries(series);
  if (!created_series.ok()) return created_series.status();
  v1::StartSessionRequest start;
  start.set_session_id(created_series->series().session_ids(0));
  if (auto s = client.StartSession(start); !s.ok()) return s.status();
  *live_id = start.session_id();

  // The follow-up Open Day at the embassy in Berlin, 10:00 local.
  absl::TimeZone berlin_zone;
  absl::LoadTimeZone("Europe/Berlin", &berlin_zone);
  absl::CivilDay in_six_weeks =
      absl::ToCivilDay(absl::Now() + absl::Hours(24 * 42), berlin_zone);
  v1::CreateSessionRequest open_day;
  open_day.set_request_id("demo-open-day-berlin");
  open_day.set_publish(true);
  Session* day = open_day.mutable_session();
  day->set_title("Open Day at the Embassy in Berlin");
  day->set_description(
      "Consular questions, education and business projects of compatriots.");
  SetStart(absl::FromCivil(
               absl::CivilSecond(in_six_weeks.year(), in_six_weeks.month(),
                                 in_six_weeks.day(), 10, 0, 0),
               berlin_zone),
           day);
  day->mutable_duration()->set_seconds(6 * 3600);
  day->set_time_zone("Europe/Berlin");
  day->set_format(v1::SESSION_FORMAT_IN_PERSON);
  day->add_venue_ids(berlin_venue->venue().id());
  day->set_capacity(80);
  day->add_languages("uz");
  day->add_languages("de");
  auto made_open_day = client.CreateSession(open_day);
  if (!made_open_day.ok()) return made_open_day.status();
  *open_day_id = made_open_day->session().id();
  return absl::OkStatus();
}

}  // namespace
}  // namespace townhall

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return townhall::Run();
}
