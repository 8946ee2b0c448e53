// townhall-load-demo: loads the reference conference into a running server.
//
// Modelled on ../shared/scenario: the government of Uzbekistan (tenant
// "mfa-uz") holds a monthly video conference with compatriots in Russia,
// in Asia/Tashkent, whose first occurrence is live now, and a follow-up
// "Open Day" at the embassy in Berlin (a zone with daylight saving time).
// Idempotent: a second run finds the demo and only issues a fresh token.
//
//   townhall-load-demo --server=127.0.0.1:50051
//       --bootstrap_credential_file=.local/bootstrap_credential
// prints an organizer token on stdout.
#include <fstream>
#include <iostream>
#include <sstream>

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
  if (existing->sessions_size() > 0) {
    std::cout << token->token() << "\n";
    return 0;  // already loaded
  }

  v1::CreateVenueRequest moscow;
  moscow.set_request_id("demo-venue-moscow");
  moscow.mutable_venue()->set_name(
      "Embassy of the Republic of Uzbekistan in Moscow");
  moscow.mutable_venue()->set_address("Pogorelsky pereulok 12, Moscow");
  moscow.mutable_venue()->set_time_zone("Europe/Moscow");
  moscow.mutable_venue()->set_capacity(120);
  auto moscow_venue = client.CreateVenue(moscow);
  if (!moscow_venue.ok()) return Fail("create venue", moscow_venue.status());

  v1::CreateVenueRequest berlin;
  berlin.set_request_id("demo-venue-berlin");
  berlin.mutable_venue()->set_name(
      "Embassy of the Republic of Uzbekistan in Berlin");
  berlin.mutable_venue()->set_address("Perleberger Strasse 62, 10559 Berlin");
  berlin.mutable_venue()->set_time_zone("Europe/Berlin");
  berlin.mutable_venue()->set_capacity(80);
  auto berlin_venue = client.CreateVenue(berlin);
  if (!berlin_venue.ok()) return Fail("create venue", berlin_venue.status());

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
  if (!created_series.ok())
    return Fail("create series", created_series.status());
  v1::StartSessionRequest start;
  start.set_session_id(created_series->series().session_ids(0));
  if (auto s = client.StartSession(start); !s.ok())
    return Fail("start session", s.status());

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
  if (auto s = client.CreateSession(open_day); !s.ok())
    return Fail("create open day", s.status());

  std::cout << token->token() << "\n";
  return 0;
}

}  // namespace
}  // namespace townhall

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return townhall::Run();
}
