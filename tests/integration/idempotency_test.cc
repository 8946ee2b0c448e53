// Request ids belong to their caller (issue 14): for every RPC that takes a
// request_id, two callers who use the same id each get a result of their
// own and never the other's, and each caller's retry still answers its own
// first result. A table, one row per RPC; a guard test fails when an RPC
// with a request_id has no row.
#include <google/protobuf/descriptor.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <functional>
#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "clients/cpp/townhall_client.h"
#include "services/common/ids.h"
#include "services/common/proto_time.h"
#include "tests/integration/questions/questions_client.h"
#include "tests/testing/shared_server.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_server.h"

namespace townhall::testing {
namespace {

using Client = std::shared_ptr<TownhallClient>;

// What one call made: the id of what it created or recorded, and the field
// that shows whose request it served (a name, title, text or participant).
struct Made {
  std::string id;
  std::string content;
};

// Two callers of one RPC, ready to call it with a shared request id.
struct Callers {
  // Calls the RPC as caller `who` (0 or 1), asking for content of its own,
  // expected[who].
  std::function<absl::StatusOr<Made>(int who, const std::string& request_id)>
      call;
  std::array<std::string, 2> expected;
  // Reads back, as the organizer, the content stored under a Made's id
  // (NOT_FOUND when nothing is); empty when the answers say it all.
  std::function<absl::StatusOr<std::string>(const std::string& id)> read_back;
};

struct Case {
  // The RPC, e.g. "SchedulingService.CreateVenue".
  std::string rpc;
  // Makes a fresh tenant with what the RPC needs, and its two callers.
  std::function<absl::StatusOr<Callers>()> setup;
};

Client Connect(const std::string& token) {
  return std::make_shared<TownhallClient>(
      ServerEnvironment::server().client_options(token));
}

// An organizer token of `tenant_id` for `subject`: organizers of one tenant
// differ only by subject.
std::string OrganizerToken(const std::string& tenant_id,
                           const std::string& subject) {
  absl::Time now = absl::Now();
  return SignTestToken({.tenant_id = tenant_id,
                        .subject = subject,
                        .role = Role::kOrganizer,
                        .issue_time = now,
                        .expire_time = now + absl::Hours(1)});
}

// A fresh tenant and its organizer (subject organizer@example.org).
struct World {
  std::string tenant_id;
  Client organizer;
  std::string session_id;
};

absl::StatusOr<World> NewWorld(bool with_live_session) {
  absl::StatusOr<Tenant> tenant = NewTenant();
  if (!tenant.ok()) return tenant.status();
  World world{tenant->id, Connect(tenant->token), ""};
  if (with_live_session) {
    absl::StatusOr<v1::Session> session =
        NewQuestionsSession(*world.organizer, /*live=*/true);
    if (!session.ok()) return session.status();
    world.session_id = session->id();
  }
  return world;
}

// Another organizer of the same tenant.
Client SecondOrganizer(const World& world) {
  return Connect(OrganizerToken(world.tenant_id, "second@example.org"));
}

Client ApiKey(const World& world, ApiScope scope) {
  return Connect(ApiKeyToken(world.tenant_id, ScopeBit(scope)));
}

// Two participants of the tenant, registered nowhere.
absl::StatusOr<std::array<std::string, 2>> TwoParticipants(
    const World& world, const std::string& name) {
  std::array<std::string, 2> ids;
  for (int who : {0, 1}) {
    absl::StatusOr<Member> member =
        NewParticipant(*world.organizer, absl::StrCat(name, " ", who));
    if (!member.ok()) return member.status();
    ids[who] = member->participant_id;
  }
  return ids;
}

// Two participants registered in the world's session, each with a client
// on its own join token.
struct Members {
  std::array<Client, 2> by;
  std::array<std::string, 2> participants;
};

absl::StatusOr<Members> TwoMembers(const World& world,
                                   const std::string& name) {
  Members members;
  for (int who : {0, 1}) {
    absl::StatusOr<Member> member = NewMember(
        *world.organizer, world.session_id, absl::StrCat(name, " ", who));
    if (!member.ok()) return member.status();
    members.by[who] = Connect(member->token);
    members.participants[who] = member->participant_id;
  }
  return members;
}

v1::Session OnlineSession(const std::string& title) {
  v1::Session s;
  s.set_title(title);
  SetTime(absl::Now() + absl::Hours(24), s.mutable_start_time());
  SetDuration(absl::Hours(2), s.mutable_duration());
  s.set_time_zone("Asia/Tashkent");
  s.set_format(v1::SESSION_FORMAT_ONLINE);
  s.set_join_url("https://meet.example.org/townhall");
  return s;
}

// "<session>/<participant>" names a registration or attendance record.
std::string RecordId(const std::string& session_id,
                     const std::string& participant_id) {
  return absl::StrCat(session_id, "/", participant_id);
}

// ---- Scheduling: two organizers of one tenant -------------------------------

absl::StatusOr<Callers> CreateVenueCase() {
  absl::StatusOr<World> world = NewWorld(false);
  if (!world.ok()) return world.status();
  std::array<Client, 2> by = {world->organizer, SecondOrganizer(*world)};
  Client organizer = world->organizer;
  return Callers{
      .call = [by](int who, const std::string& rid) -> absl::StatusOr<Made> {
        v1::CreateVenueRequest request;
        request.mutable_venue()->set_name(absl::StrCat("Zal ", who));
        request.mutable_venue()->set_time_zone("Asia/Tashkent");
        request.set_request_id(rid);
        absl::StatusOr<v1::CreateVenueResponse> r =
            by[who]->CreateVenue(request);
        if (!r.ok()) return r.status();
        return Made{r->venue().id(), r->venue().name()};
      },
      .expected = {"Zal 0", "Zal 1"},
      .read_back =
          [organizer](const std::string& id) -> absl::StatusOr<std::string> {
        v1::GetVenueRequest request;
        request.set_venue_id(id);
        absl::StatusOr<v1::GetVenueResponse> r = organizer->GetVenue(request);
        if (!r.ok()) return r.status();
        return r->venue().name();
      }};
}

absl::StatusOr<std::string> SessionTitle(TownhallClient& organizer,
                                         const std::string& id) {
  v1::GetSessionRequest request;
  request.set_session_id(id);
  absl::StatusOr<v1::GetSessionResponse> r = organizer.GetSession(request);
  if (!r.ok()) return r.status();
  return r->session().title();
}

absl::StatusOr<Callers> CreateSessionCase() {
  absl::StatusOr<World> world = NewWorld(false);
  if (!world.ok()) return world.status();
  std::array<Client, 2> by = {world->organizer, SecondOrganizer(*world)};
  Client organizer = world->organizer;
  return Callers{
      .call = [by](int who, const std::string& rid) -> absl::StatusOr<Made> {
        v1::CreateSessionRequest request;
        *request.mutable_session() =
            OnlineSession(absl::StrCat("Majlis ", who));
        request.set_request_id(rid);
        absl::StatusOr<v1::CreateSessionResponse> r =
            by[who]->CreateSession(request);
        if (!r.ok()) return r.status();
        return Made{r->session().id(), r->session().title()};
      },
      .expected = {"Majlis 0", "Majlis 1"},
      .read_back =
          [organizer](const std::string& id) {
            return SessionTitle(*organizer, id);
          }};
}

absl::StatusOr<Callers> CreateSeriesCase() {
  absl::StatusOr<World> world = NewWorld(false);
  if (!world.ok()) return world.status();
  std::array<Client, 2> by = {world->organizer, SecondOrganizer(*world)};
  Client organizer = world->organizer;
  return Callers{
      .call = [by](int who, const std::string& rid) -> absl::StatusOr<Made> {
        v1::CreateSeriesRequest request;
        *request.mutable_series()->mutable_template_() =
            OnlineSession(absl::StrCat("Haftalik ", who));
        request.mutable_series()->set_rrule("FREQ=WEEKLY;COUNT=2");
        request.set_request_id(rid);
        absl::StatusOr<v1::CreateSeriesResponse> r =
            by[who]->CreateSeries(request);
        if (!r.ok()) return r.status();
        return Made{r->series().id(), r->series().template_().title()};
      },
      .expected = {"Haftalik 0", "Haftalik 1"},
      .read_back =
          [organizer](const std::string& id) -> absl::StatusOr<std::string> {
        v1::GetSeriesRequest request;
        request.set_series_id(id);
        absl::StatusOr<v1::GetSeriesResponse> r = organizer->GetSeries(request);
        if (!r.ok()) return r.status();
        return r->series().template_().title();
      }};
}

// ---- Registration: an organizer and an API key, or two members --------------

absl::StatusOr<Callers> CreateOrganizationCase() {
  absl::StatusOr<World> world = NewWorld(false);
  if (!world.ok()) return world.status();
  std::array<Client, 2> by = {world->organizer,
                              ApiKey(*world, ApiScope::kManageRegistrations)};
  Client organizer = world->organizer;
  const std::string unique = NewId();
  std::array<std::string, 2> names = {absl::StrCat("Birinchi ", unique),
                                      absl::StrCat("Ikkinchi ", unique)};
  return Callers{
      .call = [by, names](int who,
                          const std::string& rid) -> absl::StatusOr<Made> {
        v1::CreateOrganizationRequest request;
        request.mutable_organization()->set_name(names[who]);
        request.mutable_organization()->set_country_code("UZ");
        request.mutable_organization()->set_city("Buxoro");
        request.set_request_id(rid);
        absl::StatusOr<v1::CreateOrganizationResponse> r =
            by[who]->CreateOrganization(request);
        if (!r.ok()) return r.status();
        return Made{r->organization().id(), r->organization().name()};
      },
      .expected = names,
      .read_back =
          [organizer](const std::string& id) -> absl::StatusOr<std::string> {
        v1::GetOrganizationRequest request;
        request.set_organization_id(id);
        absl::StatusOr<v1::GetOrganizationResponse> r =
            organizer->GetOrganization(request);
        if (!r.ok()) return r.status();
        return r->organization().name();
      }};
}

absl::StatusOr<Callers> CreateParticipantCase() {
  absl::StatusOr<World> world = NewWorld(false);
  if (!world.ok()) return world.status();
  std::array<Client, 2> by = {world->organizer,
                              ApiKey(*world, ApiScope::kManageRegistrations)};
  Client organizer = world->organizer;
  v1::CreateOrganizationRequest org;
  org.mutable_organization()->set_name(absl::StrCat("Mahalla ", NewId()));
  org.mutable_organization()->set_country_code("UZ");
  org.mutable_organization()->set_city("Xiva");
  absl::StatusOr<v1::CreateOrganizationResponse> made_org =
      organizer->CreateOrganization(org);
  if (!made_org.ok()) return made_org.status();
  const std::string org_id = made_org->organization().id();
  return Callers{
      .call = [by, org_id](int who,
                           const std::string& rid) -> absl::StatusOr<Made> {
        v1::CreateParticipantRequest request;
        request.mutable_participant()->set_display_name(
            absl::StrCat("Ishtirokchi ", who));
        request.mutable_participant()->set_organization_id(org_id);
        request.mutable_participant()->set_email(
            absl::StrCat("caller-", who, "-", org_id, "@example.org"));
        request.set_request_id(rid);
        absl::StatusOr<v1::CreateParticipantResponse> r =
            by[who]->CreateParticipant(request);
        if (!r.ok()) return r.status();
        return Made{r->participant().id(), r->participant().display_name()};
      },
      .expected = {"Ishtirokchi 0", "Ishtirokchi 1"},
      .read_back =
          [organizer](const std::string& id) -> absl::StatusOr<std::string> {
        v1::GetParticipantRequest request;
        request.set_participant_id(id);
        absl::StatusOr<v1::GetParticipantResponse> r =
            organizer->GetParticipant(request);
        if (!r.ok()) return r.status();
        return r->participant().display_name();
      }};
}

// The registration "<session>/<participant>" as the organizer reads it:
// its participant.
std::function<absl::StatusOr<std::string>(const std::string&)>
RegistrationReader(Client organizer) {
  return [organizer](const std::string& id) -> absl::StatusOr<std::string> {
    std::vector<std::string> parts = absl::StrSplit(id, '/');
    v1::GetRegistrationRequest request;
    request.set_session_id(parts.at(0));
    request.set_participant_id(parts.at(1));
    absl::StatusOr<v1::GetRegistrationResponse> r =
        organizer->GetRegistration(request);
    if (!r.ok()) return r.status();
    return r->registration().participant_id();
  };
}

// The organizer registers one participant, an API key another.
absl::StatusOr<Callers> RegisterCase() {
  absl::StatusOr<World> world = NewWorld(false);
  if (!world.ok()) return world.status();
  std::array<Client, 2> by = {world->organizer,
                              ApiKey(*world, ApiScope::kManageRegistrations)};
  v1::CreateSessionRequest create;
  *create.mutable_session() = OnlineSession("Ochiq majlis");
  create.set_publish(true);
  absl::StatusOr<v1::CreateSessionResponse> session =
      world->organizer->CreateSession(create);
  if (!session.ok()) return session.status();
  const std::string session_id = session->session().id();
  absl::StatusOr<std::array<std::string, 2>> made =
      TwoParticipants(*world, "Mehmon");
  if (!made.ok()) return made.status();
  const std::array<std::string, 2> participants = *made;
  return Callers{
      .call = [by, session_id, participants](
                  int who, const std::string& rid) -> absl::StatusOr<Made> {
        v1::RegisterRequest request;
        request.set_session_id(session_id);
        request.set_participant_id(participants[who]);
        request.set_request_id(rid);
        absl::StatusOr<v1::RegisterResponse> r = by[who]->Register(request);
        if (!r.ok()) return r.status();
        return Made{RecordId(r->registration().session_id(),
                             r->registration().participant_id()),
                    r->registration().participant_id()};
      },
      .expected = participants,
      .read_back = RegistrationReader(world->organizer)};
}

absl::StatusOr<Callers> RegisterForSeriesCase() {
  absl::StatusOr<World> world = NewWorld(false);
  if (!world.ok()) return world.status();
  std::array<Client, 2> by = {world->organizer,
                              ApiKey(*world, ApiScope::kManageRegistrations)};
  v1::CreateSeriesRequest create;
  *create.mutable_series()->mutable_template_() = OnlineSession("Seriya");
  create.mutable_series()->set_rrule("FREQ=DAILY;COUNT=2");
  create.set_publish(true);
  absl::StatusOr<v1::CreateSeriesResponse> series =
      world->organizer->CreateSeries(create);
  if (!series.ok()) return series.status();
  const std::string series_id = series->series().id();
  absl::StatusOr<std::array<std::string, 2>> made =
      TwoParticipants(*world, "Tinglovchi");
  if (!made.ok()) return made.status();
  const std::array<std::string, 2> participants = *made;
  return Callers{
      .call = [by, series_id, participants](
                  int who, const std::string& rid) -> absl::StatusOr<Made> {
        v1::RegisterForSeriesRequest request;
        request.set_series_id(series_id);
        request.set_participant_id(participants[who]);
        request.set_request_id(rid);
        absl::StatusOr<v1::RegisterForSeriesResponse> r =
            by[who]->RegisterForSeries(request);
        if (!r.ok()) return r.status();
        if (r->registrations_size() != 2) {
          return absl::InternalError(
              absl::StrCat("expected 2 occurrences, got ", r->DebugString()));
        }
        // Both occurrences answer for the same participant.
        const v1::Registration& last = r->registrations(1);
        if (r->registrations(0).participant_id() != last.participant_id()) {
          return Made{"", "mixed participants: " + r->DebugString()};
        }
        return Made{RecordId(last.session_id(), last.participant_id()),
                    last.participant_id()};
      },
      .expected = participants,
      .read_back = RegistrationReader(world->organizer)};
}

// Two participants record their own JOIN; both appear in the report.
absl::StatusOr<Callers> RecordAttendanceCase() {
  absl::StatusOr<World> world = NewWorld(true);
  if (!world.ok()) return world.status();
  absl::StatusOr<Members> members = TwoMembers(*world, "Qatnashchi");
  if (!members.ok()) return members.status();
  const std::array<Client, 2> by = members->by;
  const std::array<std::string, 2> participants = members->participants;
  const std::string session_id = world->session_id;
  Client organizer = world->organizer;
  return Callers{
      .call = [by, session_id, participants](
                  int who, const std::string& rid) -> absl::StatusOr<Made> {
        v1::RecordAttendanceRequest request;
        request.set_session_id(session_id);
        request.set_participant_id(participants[who]);
        request.set_action(v1::ATTENDANCE_ACTION_JOIN);
        request.set_request_id(rid);
        absl::StatusOr<v1::RecordAttendanceResponse> r =
            by[who]->RecordAttendance(request);
        if (!r.ok()) return r.status();
        return Made{RecordId(session_id, r->record().participant_id()),
                    r->record().participant_id()};
      },
      .expected = participants,
      .read_back =
          [organizer](const std::string& id) -> absl::StatusOr<std::string> {
        std::vector<std::string> parts = absl::StrSplit(id, '/');
        v1::GetAttendanceReportRequest request;
        request.set_session_id(parts.at(0));
        absl::StatusOr<v1::GetAttendanceReportResponse> r =
            organizer->GetAttendanceReport(request);
        if (!r.ok()) return r.status();
        for (const v1::AttendanceRecord& record : r->records()) {
          if (record.participant_id() == parts.at(1) &&
              record.has_first_seen_time()) {
            return record.participant_id();
          }
        }
        return absl::NotFoundError(
            absl::StrCat(parts.at(1), " is not in the attendance report"));
      }};
}

// ---- Agenda: an organizer and a moderator, or two participants --------------

// The organizer and a moderator (join token) of the world's session.
absl::StatusOr<std::array<Client, 2>> OrganizerAndModerator(
    const World& world) {
  absl::StatusOr<Member> moderator =
      NewMember(*world.organizer, world.session_id, "Moderator",
                v1::SESSION_ROLE_MODERATOR);
  if (!moderator.ok()) return moderator.status();
  return std::array<Client, 2>{world.organizer, Connect(moderator->token)};
}

absl::StatusOr<Callers> CreateAgendaItemCase() {
  absl::StatusOr<World> world = NewWorld(true);
  if (!world.ok()) return world.status();
  absl::StatusOr<std::array<Client, 2>> by = OrganizerAndModerator(*world);
  if (!by.ok()) return by.status();
  const std::string session_id = world->session_id;
  Client organizer = world->organizer;
  return Callers{
      .call = [by = *by, session_id](
                  int who, const std::string& rid) -> absl::StatusOr<Made> {
        v1::CreateAgendaItemRequest request;
        request.set_session_id(session_id);
        request.mutable_item()->set_title(absl::StrCat("Masala ", who));
        request.set_request_id(rid);
        absl::StatusOr<v1::CreateAgendaItemResponse> r =
            by[who]->CreateAgendaItem(request);
        if (!r.ok()) return r.status();
        return Made{r->item().id(), r->item().title()};
      },
      .expected = {"Masala 0", "Masala 1"},
      .read_back = [organizer, session_id](
                       const std::string& id) -> absl::StatusOr<std::string> {
        v1::GetAgendaRequest request;
        request.set_session_id(session_id);
        absl::StatusOr<v1::GetAgendaResponse> r = organizer->GetAgenda(request);
        if (!r.ok()) return r.status();
        for (const v1::AgendaItem& item : r->agenda().items()) {
          if (item.id() == id) return item.title();
        }
        return absl::NotFoundError(absl::StrCat("no agenda item ", id));
      }};
}

// Two participants propose; each proposal is private to its author.
absl::StatusOr<Callers> ProposeTopicCase() {
  absl::StatusOr<World> world = NewWorld(true);
  if (!world.ok()) return world.status();
  absl::StatusOr<Members> members = TwoMembers(*world, "Taklifchi");
  if (!members.ok()) return members.status();
  const std::array<Client, 2> by = members->by;
  const std::array<std::string, 2> participants = members->participants;
  std::array<std::string, 2> expected;
  for (int who : {0, 1}) {
    expected[who] = absl::StrCat(participants[who], ": Taklif ", who);
  }
  const std::string session_id = world->session_id;
  Client organizer = world->organizer;
  return Callers{
      .call = [by, session_id, participants](
                  int who, const std::string& rid) -> absl::StatusOr<Made> {
        v1::ProposeTopicRequest request;
        request.set_session_id(session_id);
        request.set_participant_id(participants[who]);
        request.set_title(absl::StrCat("Taklif ", who));
        request.set_request_id(rid);
        absl::StatusOr<v1::ProposeTopicResponse> r =
            by[who]->ProposeTopic(request);
        if (!r.ok()) return r.status();
        return Made{r->proposal().id(),
                    absl::StrCat(r->proposal().participant_id(), ": ",
                                 r->proposal().title())};
      },
      .expected = expected,
      .read_back = [organizer, session_id](
                       const std::string& id) -> absl::StatusOr<std::string> {
        v1::ListTopicProposalsRequest request;
        request.set_session_id(session_id);
        absl::StatusOr<v1::ListTopicProposalsResponse> r =
            organizer->ListTopicProposals(request);
        if (!r.ok()) return r.status();
        for (const v1::TopicProposal& p : r->proposals()) {
          if (p.id() == id) {
            return absl::StrCat(p.participant_id(), ": ", p.title());
          }
        }
        return absl::NotFoundError(absl::StrCat("no proposal ", id));
      }};
}

absl::StatusOr<Callers> RecordOutcomeCase() {
  absl::StatusOr<World> world = NewWorld(true);
  if (!world.ok()) return world.status();
  absl::StatusOr<std::array<Client, 2>> by = OrganizerAndModerator(*world);
  if (!by.ok()) return by.status();
  v1::CreateAgendaItemRequest create;
  create.set_session_id(world->session_id);
  create.mutable_item()->set_title("Byudjet");
  absl::StatusOr<v1::CreateAgendaItemResponse> item =
      world->organizer->CreateAgendaItem(create);
  if (!item.ok()) return item.status();
  const std::string session_id = world->session_id;
  const std::string item_id = item->item().id();
  return Callers{
      .call = [by = *by, session_id, item_id](
                  int who, const std::string& rid) -> absl::StatusOr<Made> {
        v1::RecordOutcomeRequest request;
        request.set_session_id(session_id);
        request.mutable_outcome()->set_agenda_item_id(item_id);
        request.mutable_outcome()->set_kind(v1::OUTCOME_KIND_AGREEMENT);
        request.mutable_outcome()->set_text(absl::StrCat("Kelishuv ", who));
        request.set_request_id(rid);
        absl::StatusOr<v1::RecordOutcomeResponse> r =
            by[who]->RecordOutcome(request);
        if (!r.ok()) return r.status();
        return Made{r->outcome().id(), r->outcome().text()};
      },
      .expected = {"Kelishuv 0", "Kelishuv 1"}};
}

absl::StatusOr<Callers> CreateActionItemCase() {
  absl::StatusOr<World> world = NewWorld(true);
  if (!world.ok()) return world.status();
  absl::StatusOr<std::array<Client, 2>> by = OrganizerAndModerator(*world);
  if (!by.ok()) return by.status();
  const std::string session_id = world->session_id;
  Client organizer = world->organizer;
  return Callers{
      .call = [by = *by, session_id](
                  int who, const std::string& rid) -> absl::StatusOr<Made> {
        v1::CreateActionItemRequest request;
        request.set_session_id(session_id);
        v1::ActionItem* action = request.mutable_action_item();
        action->set_title(absl::StrCat("Topshiriq ", who));
        action->mutable_executor()->set_department("Moliya vazirligi");
        SetTime(absl::Now() + absl::Hours(24 * 7), action->mutable_deadline());
        request.set_request_id(rid);
        absl::StatusOr<v1::CreateActionItemResponse> r =
            by[who]->CreateActionItem(request);
        if (!r.ok()) return r.status();
        return Made{r->action_item().id(), r->action_item().title()};
      },
      .expected = {"Topshiriq 0", "Topshiriq 1"},
      .read_back = [organizer, session_id](
                       const std::string& id) -> absl::StatusOr<std::string> {
        v1::ListActionItemsRequest request;
        request.set_session_id(session_id);
        absl::StatusOr<v1::ListActionItemsResponse> r =
            organizer->ListActionItems(request);
        if (!r.ok()) return r.status();
        for (const v1::ActionItem& a : r->action_items()) {
          if (a.id() == id) return a.title();
        }
        return absl::NotFoundError(absl::StrCat("no action item ", id));
      }};
}

// ---- Questions: two participants, or an organizer and a moderator -----------

// Two participants submit pending anonymous questions (the reported case).
absl::StatusOr<Callers> SubmitQuestionCase() {
  absl::StatusOr<World> world = NewWorld(true);
  if (!world.ok()) return world.status();
  absl::StatusOr<Members> members = TwoMembers(*world, "Savolchi");
  if (!members.ok()) return members.status();
  const std::array<Client, 2> by = members->by;
  const std::array<std::string, 2> participants = members->participants;
  const std::string session_id = world->session_id;
  Client organizer = world->organizer;
  return Callers{
      .call = [by, session_id, participants](
                  int who, const std::string& rid) -> absl::StatusOr<Made> {
        v1::SubmitQuestionRequest request;
        request.set_session_id(session_id);
        request.set_participant_id(participants[who]);
        request.set_text(who == 0 ? "Yo'llar qachon ta'mirlanadi?"
                                  : "Maktabga yangi o'qituvchi keladimi?");
        request.set_anonymous(true);
        request.set_request_id(rid);
        absl::StatusOr<v1::SubmitQuestionResponse> r =
            by[who]->SubmitQuestion(request);
        if (!r.ok()) return r.status();
        return Made{r->question().id(), r->question().text()};
      },
      .expected = {"Yo'llar qachon ta'mirlanadi?",
                   "Maktabga yangi o'qituvchi keladimi?"},
      .read_back = [organizer, session_id](
                       const std::string& id) -> absl::StatusOr<std::string> {
        v1::GetQuestionRequest request;
        request.set_session_id(session_id);
        request.set_question_id(id);
        absl::StatusOr<v1::GetQuestionResponse> r =
            organizer->GetQuestion(request);
        if (!r.ok()) return r.status();
        return r->question().text();
      }};
}

// Two moderator actions (approvals of q0, then q1); the organizer's undo
// takes back the newer, the moderator's the older.
absl::StatusOr<Callers> UndoModerationCase() {
  absl::StatusOr<World> world = NewWorld(true);
  if (!world.ok()) return world.status();
  absl::StatusOr<std::array<Client, 2>> by = OrganizerAndModerator(*world);
  if (!by.ok()) return by.status();
  absl::StatusOr<Member> author = NewParticipant(*world->organizer, "Muallif");
  if (!author.ok()) return author.status();
  std::array<std::string, 2> questions;
  for (int i : {0, 1}) {
    v1::SubmitQuestionRequest submit;
    submit.set_session_id(world->session_id);
    submit.set_participant_id(author->participant_id);
    submit.set_text(absl::StrCat("Savol raqami ", i, ": suv qachon bo'ladi?"));
    absl::StatusOr<v1::SubmitQuestionResponse> q =
        world->organizer->SubmitQuestion(submit);
    if (!q.ok()) return q.status();
    questions[i] = q->question().id();
    v1::ApproveQuestionRequest approve;
    approve.set_session_id(world->session_id);
    approve.set_question_id(questions[i]);
    absl::StatusOr<v1::ApproveQuestionResponse> approved =
        world->organizer->ApproveQuestion(approve);
    if (!approved.ok()) return approved.status();
  }
  const std::string session_id = world->session_id;
  Client organizer = world->organizer;
  return Callers{
      .call = [by = *by, session_id](
                  int who, const std::string& rid) -> absl::StatusOr<Made> {
        v1::UndoModerationRequest request;
        request.set_session_id(session_id);
        request.set_request_id(rid);
        absl::StatusOr<v1::UndoModerationResponse> r =
            by[who]->UndoModeration(request, {.max_attempts = 1});
        if (!r.ok()) return r.status();
        if (r->undone().question_ids_size() != 1) {
          return absl::InternalError(r->DebugString());
        }
        return Made{absl::StrCat(r->undone().sequence()),
                    r->undone().question_ids(0)};
      },
      .expected = {questions[1], questions[0]},
      .read_back = [organizer, session_id](const std::string& sequence)
          -> absl::StatusOr<std::string> {
        v1::ListModerationLogRequest request;
        request.set_session_id(session_id);
        absl::StatusOr<v1::ListModerationLogResponse> r =
            organizer->ListModerationLog(request);
        if (!r.ok()) return r.status();
        for (const v1::ModerationAction& a : r->actions()) {
          if (absl::StrCat(a.sequence()) == sequence && a.undone()) {
            return a.question_ids(0);
          }
        }
        return absl::NotFoundError(
            absl::StrCat("action ", sequence, " is not undone"));
      }};
}

std::vector<Case> Cases() {
  return {
      {"SchedulingService.CreateVenue", CreateVenueCase},
      {"SchedulingService.CreateSession", CreateSessionCase},
      {"SchedulingService.CreateSeries", CreateSeriesCase},
      {"RegistrationService.CreateOrganization", CreateOrganizationCase},
      {"RegistrationService.CreateParticipant", CreateParticipantCase},
      {"RegistrationService.Register", RegisterCase},
      {"RegistrationService.RegisterForSeries", RegisterForSeriesCase},
      {"RegistrationService.RecordAttendance", RecordAttendanceCase},
      {"AgendaService.CreateAgendaItem", CreateAgendaItemCase},
      {"AgendaService.ProposeTopic", ProposeTopicCase},
      {"AgendaService.RecordOutcome", RecordOutcomeCase},
      {"AgendaService.CreateActionItem", CreateActionItemCase},
      {"QuestionService.SubmitQuestion", SubmitQuestionCase},
      {"QuestionService.UndoModeration", UndoModerationCase},
  };
}

void PrintTo(const Case& c, std::ostream* os) { *os << c.rpc; }

class IdempotencyTest : public ::testing::TestWithParam<Case> {};

TEST_P(IdempotencyTest, ARequestIdIsPerCaller) {
  ASSERT_OK_AND_ASSIGN(Callers callers, GetParam().setup());
  // ':' as in the key's own separators.
  const std::string rid = absl::StrCat("shared:", NewId());
  ASSERT_OK_AND_ASSIGN(Made first, callers.call(0, rid));
  ASSERT_OK_AND_ASSIGN(Made second, callers.call(1, rid));
  EXPECT_EQ(first.content, callers.expected[0]);
  EXPECT_EQ(second.content, callers.expected[1])
      << "the second caller was answered with the first caller's result";
  EXPECT_NE(first.id, second.id);
  // Each caller's retry still answers its own first result.
  for (int who : {0, 1}) {
    const Made& original = who == 0 ? first : second;
    ASSERT_OK_AND_ASSIGN(Made again, callers.call(who, rid));
    EXPECT_EQ(again.id, original.id) << "caller " << who;
    EXPECT_EQ(again.content, original.content) << "caller " << who;
  }
  // And both requests took effect.
  if (callers.read_back) {
    for (const Made& made : {first, second}) {
      ASSERT_OK_AND_ASSIGN(std::string stored, callers.read_back(made.id));
      EXPECT_EQ(stored, made.content);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(EveryRpcWithARequestId, IdempotencyTest,
                         ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           std::string name = info.param.rpc;
                           std::replace(name.begin(), name.end(), '.', '_');
                           return name;
                         });

// A caller acting for two participants makes two requests: an API key
// submits a question for each with one request id.
TEST(IdempotencyScopeTest, ActingForAnotherParticipantIsANewRequest) {
  ASSERT_OK_AND_ASSIGN(World world, NewWorld(true));
  Client bot = ApiKey(world, ApiScope::kSubmitQuestions);
  const std::string rid = absl::StrCat("bot:", NewId());
  std::array<std::string, 2> ids;
  for (int who : {0, 1}) {
    ASSERT_OK_AND_ASSIGN(Member member,
                         NewMember(*world.organizer, world.session_id,
                                   absl::StrCat("Vakil ", who)));
    v1::SubmitQuestionRequest request;
    request.set_session_id(world.session_id);
    request.set_participant_id(member.participant_id);
    request.set_text(absl::StrCat("Vakil ", who, " so'raydi: bozor qayerda?"));
    request.set_request_id(rid);
    ASSERT_OK_AND_ASSIGN(v1::SubmitQuestionResponse r,
                         bot->SubmitQuestion(request));
    EXPECT_EQ(r.question().text(), request.text());
    ids[who] = r.question().id();
  }
  EXPECT_NE(ids[0], ids[1]);
}

// The table covers every RPC whose request has a request_id.
TEST(IdempotencyCoverageTest, EveryRpcWithARequestIdHasARow) {
  std::set<std::string> rows;
  for (const Case& c : Cases()) rows.insert(c.rpc);
  std::set<std::string> with_request_id;
  const google::protobuf::DescriptorPool* pool =
      google::protobuf::DescriptorPool::generated_pool();
  for (const char* service :
       {"townhall.v1.DiagnosticsService", "townhall.v1.TenantService",
        "townhall.v1.SchedulingService", "townhall.v1.RegistrationService",
        "townhall.v1.AgendaService", "townhall.v1.QuestionService"}) {
    const google::protobuf::ServiceDescriptor* s =
        pool->FindServiceByName(service);
    ASSERT_NE(s, nullptr) << service;
    for (int i = 0; i < s->method_count(); ++i) {
      const google::protobuf::MethodDescriptor* m = s->method(i);
      if (m->input_type()->FindFieldByName("request_id") != nullptr) {
        with_request_id.insert(absl::StrCat(s->name(), ".", m->name()));
      }
    }
  }
  EXPECT_EQ(rows, with_request_id);
}

}  // namespace
}  // namespace townhall::testing
