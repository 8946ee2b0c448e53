// Every Lua script of townhall on a real Redis Cluster (3 masters, 3
// replicas, ports 7200-7299): each one runs through ClusterRouter with KEYS
// and ARGV shaped as its production caller passes them, and none may touch
// more than one hash slot (issue 16). Script errors other than slot
// violations (NOT_FOUND, a refused state) are fine: the scripts run in an
// order that creates most of the data the later ones need, but the test
// checks the key schema, not the scripts' logic.
//
// Every script of every th_embed_lua library needs an entry in the tables
// below: a table is a std::array of kScriptCount entries, so a new script
// without an entry leaves an empty one (a runtime failure) and a removed
// script leaves one too many (a compile error).
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/types/span.h"
#include "services/agenda/agenda_keys.h"
#include "services/common/auth/principal.h"
#include "services/common/auth/revocation_list.h"
#include "services/common/redis/cluster_map.h"
#include "services/common/redis/cluster_router.h"
#include "services/common/redis/cluster_slot.h"
#include "services/common/redis/idempotency_key.h"
#include "services/common/tenant_keys.h"
#include "services/polls/poll_store.h"
#include "services/questions/question_store.h"
#include "services/questions/votes_logic.h"
#include "services/registration/directory_store.h"
#include "services/registration/directory_validation.h"
#include "services/scheduling/scheduling_scripts.h"
#include "tests/testing/redis_cluster.h"
#include "townhall/v1/registration.pb.h"
#include "townhall/v1/scheduling.pb.h"
#include "townhall/v1/tenant.pb.h"
#include "townhall_agenda_lua.h"
#include "townhall_common_lua.h"
#include "townhall_directory_lua.h"
#include "townhall_polls_lua.h"
#include "townhall_questions_lua.h"
#include "townhall_registration_lua.h"
#include "townhall_scheduling_lua.h"
#include "townhall_speakers_lua.h"
#include "townhall_tenancy_lua.h"
#include "townhall_vote_lua.h"

namespace townhall {
namespace {

using ::townhall::testing::RedisCluster;
using ::townhall::testing::RedisClusterOptions;

// Realistic ids: a tenant, a weekly series with two occurrences, an
// organization with two participants.
constexpr char kTenant[] = "acme-eu";
constexpr char kSeries[] = "ser-weekly-townhall";
constexpr char kSession[] = "ses-2031-05-14";
constexpr char kNextSession[] = "ses-2031-05-21";
constexpr char kVenue[] = "ven-main-hall";
constexpr char kOrg[] = "org-civic-lab";
constexpr char kAna[] = "par-ana";
constexpr char kBen[] = "par-ben";
constexpr char kItem[] = "itm-budget";
constexpr char kQuestion[] = "q-ana-1";
constexpr char kDuplicate[] = "q-ben-1";
constexpr int64_t kStart = 1936594800;  // 2031-05-14 17:00 UTC
constexpr char kNow[] = "2031-05-14T17:05:00Z";
constexpr char kNowMs[] = "1936595100000";
constexpr char kNowUs[] = "1936595100000000";

// One script call: KEYS and ARGV.
struct Call {
  std::vector<std::string> keys;
  std::vector<std::string> args;
};
using Calls = std::vector<Call>;

// A script and the calls that run it, as its production caller makes them.
struct ScriptCase {
  const LuaScript* script = nullptr;
  Calls (*calls)() = nullptr;
};

std::string Tenant() { return TenantPrefix(kTenant); }

Principal Organizer() {
  Principal p;
  p.role = Role::kOrganizer;
  p.tenant_id = kTenant;
  p.subject = "org-admin@acme.example";
  return p;
}

Principal Attendee(const char* participant) {
  Principal p;
  p.role = Role::kParticipant;
  p.tenant_id = kTenant;
  p.session_id = kSession;
  p.participant_id = participant;
  return p;
}

std::string Idem(const char* method, const Principal& caller,
                 const IdempotencyScope& scope = {}) {
  return IdempotencyKey(method, caller, "req-7f3a", scope);
}

// --- scheduling: KEYS[1] the tenant prefix (SessionStore).

v1::Session Occurrence(const char* id, int64_t start) {
  v1::Session session;
  session.set_id(id);
  session.set_tenant_id(kTenant);
  session.set_title("Weekly town hall");
  session.mutable_start_time()->set_seconds(start);
  session.mutable_duration()->set_seconds(3600);
  session.set_state(v1::SESSION_STATE_SCHEDULED);
  session.add_venue_ids(kVenue);
  session.add_host_ids(kAna);
  session.mutable_original_start_time()->set_seconds(start);
  return session;
}

constexpr std::array<ScriptCase, scheduling::lua::kScriptCount> kScheduling = {{
    {&scheduling::lua::kCreateVenueScript,
     [] {
       v1::Venue venue;
       venue.set_id(kVenue);
       venue.set_tenant_id(kTenant);
       venue.set_name("Main hall");
       return Calls{
           {{Tenant()},
            {Idem("/townhall.v1.SchedulingService/CreateVenue", Organizer()),
             kVenue, venue.SerializeAsString()}}};
     }},
    {&scheduling::lua::kCreateSessionsScript,
     [] {
       v1::Series series;
       series.set_id(kSeries);
       series.set_tenant_id(kTenant);
       series.set_rrule("FREQ=WEEKLY;COUNT=2");
       std::vector<std::string> args = {
           Idem("/townhall.v1.SchedulingService/CreateSeries", Organizer()),
           kNowUs,
           "0",
           kSeries,
           series.SerializeAsString(),
           "2"};
       scheduling::AppendSessionArgs(Occurrence(kSession, kStart), &args);
       scheduling::AppendSessionArgs(
           Occurrence(kNextSession, kStart + 7 * 86400), &args);
       return Calls{{{Tenant()}, args}};
     }},
    {&scheduling::lua::kUpdateSessionScript,
     [] {
       v1::Session session = Occurrence(kSession, kStart);
       session.set_title("Weekly town hall: budget");
       return Calls{
           {{Tenant()},
            {kSession, "1", kNowUs, "0", scheduling::SerializeRecord(session),
             absl::StrCat(kStart), absl::StrCat(kStart + 3600), kVenue, kAna}}};
     }},
    {&scheduling::lua::kTransitionSessionScript,
     [] {
       return Calls{{{Tenant()},
                     {kSession, absl::StrCat(v1::SESSION_STATE_SCHEDULED),
                      absl::StrCat(v1::SESSION_STATE_LIVE), kNowUs}}};
     }},
    {&scheduling::lua::kChangeOccurrenceScript,
     [] {
       int64_t next = kStart + 7 * 86400;
       return Calls{
           {{Tenant()},
            {kSeries, absl::StrCat(next), "move", absl::StrCat(next + 3600),
             absl::StrCat(next + 7200), "0", kNowUs}}};
     }},
}};

// --- directory: KEYS from DirectoryKeys, as DirectoryStore builds them.

constexpr std::array<ScriptCase, registration::directory_lua::kScriptCount>
    kDirectory = {{
        {&registration::directory_lua::kCreateOrganizationScript,
         [] {
           registration::DirectoryKeys keys(kTenant);
           v1::Organization org;
           org.set_id(kOrg);
           org.set_tenant_id(kTenant);
           org.set_name("Civic Lab");
           org.set_country_code("DE");
           Call call{
               {keys.prefix(), keys.Organization(kOrg), keys.Organizations(),
                keys.OrganizationsOfCountry("DE"), keys.OrganizationMatch(),
                keys.OrganizationNames(), keys.MatchVersion()},
               {"", kOrg, org.SerializeAsString(), "DE",
                std::string(registration::kMatchKeyVersion)}};
           for (std::string& key : registration::OrganizationMatchKeys(org)) {
             call.args.push_back(std::move(key));
           }
           return Calls{call};
         }},
        {&registration::directory_lua::kCreateParticipantScript,
         [] {
           registration::DirectoryKeys keys(kTenant);
           Calls calls;
           for (const char* id : {kAna, kBen}) {
             v1::Participant p;
             p.set_id(id);
             p.set_tenant_id(kTenant);
             p.set_display_name(std::string(id) == kAna ? "Ana Silva"
                                                        : "Ben Okafor");
             p.set_organization_id(kOrg);
             p.set_email(absl::StrCat(id, "@civic-lab.example"));
             Call call{
                 {keys.prefix(), keys.Participant(id), keys.Participants(),
                  keys.ParticipantMatch(), keys.MatchVersion(),
                  keys.Organization(kOrg), keys.Members(kOrg)},
                 {"", id, p.SerializeAsString(), kOrg,
                  registration::ParticipantEmailField(p.email()),
                  std::string(registration::kMatchKeyVersion)}};
             for (std::string& field : registration::ParticipantNameFields(p)) {
               call.args.push_back(std::move(field));
             }
             calls.push_back(std::move(call));
           }
           return calls;
         }},
        {&registration::directory_lua::kReindexDirectoryScript,
         [] {
           // As DirectoryStore::Reindex: a batch of records, then the
           // version.
           registration::DirectoryKeys keys(kTenant);
           std::vector<std::string> reindex_keys = {
               keys.prefix(), keys.OrganizationMatch(),
               keys.OrganizationNames(), keys.ParticipantMatch(),
               keys.MatchVersion()};
           return Calls{
               {reindex_keys, {"", "o", kOrg, "DE", "1", "civic lab"}},
               {reindex_keys, {std::string(registration::kMatchKeyVersion)}}};
         }},
    }};

// --- registration: KEYS[1] the tenant prefix, KEYS[2] a directory record or
// the tenant's revocation stream (RegistrationStore).

std::string RoleArg(v1::SessionRole role) { return absl::StrCat(role); }

constexpr std::array<ScriptCase, registration::lua::kScriptCount>
    kRegistration = {{
        {&registration::lua::kInviteOrganizationScript,
         [] {
           return Calls{
               {{Tenant(),
                 registration::DirectoryKeys(kTenant).Organization(kOrg)},
                {kSession, kOrg, "5"}}};
         }},
        {&registration::lua::kRegisterScript,
         [] {
           Calls calls;
           for (const char* id : {kAna, kBen}) {
             calls.push_back(
                 {{Tenant(),
                   registration::DirectoryKeys(kTenant).Participant(id)},
                  {kSession, id, RoleArg(v1::SESSION_ROLE_PARTICIPANT),
                   absl::StrCat(v1::DELEGATION_DELEGATE),
                   std::string(id) == kBen ? "1" : "0", "100", kNowUs,
                   Idem("/townhall.v1.RegistrationService/Register",
                        Organizer(),
                        {.session_id = kSession, .participant_id = id}),
                   ""}});
           }
           return calls;
         }},
        {&registration::lua::kApproveRegistrationScript,
         [] {
           return Calls{{{Tenant()}, {kSession, kBen, "100", kNowUs}}};
         }},
        {&registration::lua::kCancelRegistrationScript,
         [] {
           return Calls{{{Tenant(), RevocationStreamKey(kTenant)},
                         {kSession, kBen, "cannot attend", kNowUs, "100",
                          RegistrationRevocationKey(kTenant, kSession, kBen),
                          RevocationStreamMinId(absl::Now())}}};
         }},
        {&registration::lua::kSetRoleScript,
         [] {
           return Calls{
               {{Tenant(), RevocationStreamKey(kTenant)},
                {kSession, kAna, RoleArg(v1::SESSION_ROLE_SPEAKER), kNowUs,
                 RegistrationRevocationKey(kTenant, kSession, kAna),
                 RevocationStreamMinId(absl::Now())}}};
         }},
        {&registration::lua::kReadRegistrationsScript,
         [] {
           return Calls{{{Tenant()}, {kSession, "get", kAna}},
                        {{Tenant()}, {kSession, "list", "", "50", "", "1000"}}};
         }},
        {&registration::lua::kRecordAttendanceScript,
         [] {
           return Calls{
               {{Tenant()},
                {kSession, kAna, "1", kNowUs,
                 Idem("/townhall.v1.RegistrationService/RecordAttendance",
                      Attendee(kAna),
                      {.session_id = kSession, .participant_id = kAna}),
                 ""}}};
         }},
        {&registration::lua::kAttendanceReportScript,
         [] {
           return Calls{{{Tenant()}, {kSession}}};
         }},
        {&registration::lua::kSeriesAttendanceScript,
         [] {
           return Calls{{{Tenant()}, {kSession, kNextSession}}};
         }},
    }};

// --- tenancy (TenantStore): a key's hash is <tenant prefix>apikey:<id>.

constexpr char kApiKey[] = "key-portal-1";

std::string ApiKeyHash() { return absl::StrCat(Tenant(), "apikey:", kApiKey); }

constexpr std::array<ScriptCase, tenancy::lua::kScriptCount> kTenancy = {{
    {&tenancy::lua::kCreateApiKeyScript,
     [] {
       v1::ApiKey key;
       key.set_id(kApiKey);
       key.set_tenant_id(kTenant);
       key.set_display_name("Portal");
       return Calls{
           {{Tenant(), ApiKeyHash(), absl::StrCat(Tenant(), "apikeys")},
            {kApiKey, key.SerializeAsString(), "100"}}};
     }},
    {&tenancy::lua::kRevokeApiKeyScript,
     [] {
       return Calls{{{ApiKeyHash(), RevocationStreamKey(kTenant)},
                     {ApiKeyRevocationKey(kTenant, kApiKey), kNowUs,
                      RevocationStreamMinId(absl::Now())}}};
     }},
}};

// --- the shared runtime: the revocation index.

constexpr std::array<ScriptCase, common_lua::kScriptCount> kCommon = {{
    {&common_lua::kListRevocationStreamScript,
     [] {
       return Calls{{{std::string(kRevocationTenantsKey),
                      std::string(kRevocationIndexKey)},
                     {kTenant}}};
     }},
}};

// --- agenda and speakers' queue (AgendaStore): KEYS the tenant prefix and
// the session's feed; ARGV[1] the session.

Call Agenda(const char* session, std::vector<std::string> args) {
  FeedKeys feed = agenda::AgendaFeedKeys(kTenant, session);
  args.insert(args.begin(), session);
  return {{Tenant(), feed.version, feed.events}, std::move(args)};
}

std::string ItemJson(const char* id, const char* kind) {
  return absl::StrCat(R"({"id":")", id, R"(","sessionId":")", kSession,
                      R"(","title":"Budget 2032","kind":")", kind,
                      R"(","status":"AGENDA_ITEM_STATUS_PENDING"})");
}

constexpr std::array<ScriptCase, agenda::lua::kScriptCount> kAgenda = {{
    {&agenda::lua::kCreateItemScript,
     [] {
       return Calls{
           Agenda(kSession,
                  {ItemJson(kItem, "AGENDA_ITEM_KIND_DISCUSSION"), "-1",
                   Idem("/townhall.v1.AgendaService/CreateAgendaItem",
                        Organizer(), {.session_id = kSession}),
                   kNow}),
           Agenda(kSession, {ItemJson("itm-aob", "AGENDA_ITEM_KIND_DISCUSSION"),
                             "-1", "", kNow})};
     }},
    {&agenda::lua::kUpdateItemScript,
     [] {
       return Calls{Agenda(
           kSession,
           {kItem, "1", ItemJson(kItem, "AGENDA_ITEM_KIND_DISCUSSION"), kNow})};
     }},
    {&agenda::lua::kMoveItemScript,
     [] {
       return Calls{Agenda(kSession, {"itm-aob", "0", kNow})};
     }},
    {&agenda::lua::kDeleteItemScript,
     [] {
       return Calls{Agenda(kSession, {"itm-aob", kNow})};
     }},
    {&agenda::lua::kTransitionItemScript,
     [] {
       return Calls{Agenda(kSession, {kItem, "activate", kNow})};
     }},
    {&agenda::lua::kProposeTopicScript,
     [] {
       return Calls{Agenda(
           kSession,
           {R"({"id":"prop-1","participantId":"par-ana","title":"Bike lanes","status":"TOPIC_PROPOSAL_STATUS_PENDING"})",
            Idem("/townhall.v1.AgendaService/ProposeTopic", Attendee(kAna),
                 {.session_id = kSession, .participant_id = kAna}),
            kNow})};
     }},
    {&agenda::lua::kDecideProposalScript,
     [] {
       return Calls{Agenda(
           kSession,
           {"prop-1", "accept",
            ItemJson("itm-bikes", "AGENDA_ITEM_KIND_DISCUSSION"), "-1", kNow})};
     }},
    {&agenda::lua::kRecordOutcomeScript,
     [] {
       return Calls{Agenda(
           kSession,
           {absl::StrCat(
                R"({"id":"out-1","agendaItemId":")", kItem,
                R"(","kind":"OUTCOME_KIND_DECISION","text":"Approved","createTime":")",
                kNow, R"("})"),
            "", kNow})};
     }},
    {&agenda::lua::kCreateActionScript,
     [] {
       return Calls{Agenda(
           kSession,
           {absl::StrCat(
                R"({"id":"act-1","sessionId":")", kSession, R"(","seriesId":")",
                kSeries, R"(","agendaItemId":")", kItem,
                R"(","title":"Publish minutes","status":"ACTION_ITEM_STATUS_OPEN","etag":"1"})"),
            "", kNow})};
     }},
    {&agenda::lua::kUpdateActionScript,
     [] {
       return Calls{
           Agenda(kSession, {kSeries, "act-1", "ACTION_ITEM_STATUS_IN_PROGRESS",
                             "drafting", kAna, "", kNow})};
     }},
    {&agenda::lua::kPrepareFollowUpScript,
     [] {
       // Reads the series' action items created in the first occurrence.
       return Calls{Agenda(
           kNextSession,
           {kSeries,
            R"({"id":"itm-follow-up","title":"Follow-up","kind":"AGENDA_ITEM_KIND_FOLLOW_UP","status":"AGENDA_ITEM_STATUS_PENDING"})",
            kNow})};
     }},
    // The FOLLOW_UP item's question links (follow_up_link.h): the links
    // read_carried.lua read in the queue's own slot, as JSON.
    {&agenda::lua::kLinkFollowUpScript,
     [] {
       return Calls{Agenda(
           kNextSession,
           {absl::StrCat(
                R"([{"questionId":")", kQuestion,
                R"(","status":"QUESTION_STATUS_APPROVED","carriedFromSessionId":")",
                kSession, R"("}])"),
            kNow})};
     }},
    {&agenda::lua::kReadAgendaScript,
     [] {
       return Calls{Agenda(kSession, {"agenda"}),
                    Agenda(kSession, {"item", kItem}),
                    Agenda(kSession, {"proposals"}),
                    Agenda(kSession, {"series_actions", kSeries})};
     }},
}};

constexpr std::array<ScriptCase, agenda::speakers_lua::kScriptCount> kSpeakers =
    {{
        {&agenda::speakers_lua::kRaiseHandScript,
         [] {
           return Calls{Agenda(kSession, {kItem, kAna, kOrg, kNow}),
                        Agenda(kSession, {kItem, kBen, kOrg, kNow})};
         }},
        {&agenda::speakers_lua::kLowerHandScript,
         [] {
           return Calls{Agenda(kSession, {kItem, kBen, kNow})};
         }},
        {&agenda::speakers_lua::kCallNextSpeakerScript,
         [] {
           return Calls{Agenda(kSession, {kItem, "", kNow})};
         }},
        {&agenda::speakers_lua::kFinishSpeakerScript,
         [] {
           return Calls{Agenda(kSession, {kItem, kNow})};
         }},
        {&agenda::speakers_lua::kSetQueueOptionsScript,
         [] {
           return Calls{Agenda(
               kSession, {kItem, R"({"speakingTimeSeconds":120})", kNow})};
         }},
        {&agenda::speakers_lua::kReadQueueScript,
         [] { return Calls{Agenda(kSession, {kItem})}; }},
    }};

// --- questions (QuestionStore): KEYS[1] the session's queue prefix
// th:{s:<tenant>:<session>}:, a slot of its own.

std::string Queue(const char* session) {
  return questions::QueuePrefix(kTenant, session);
}

// The actor's role as QuestionLogic passes it (RoleName).
std::string ModeratorRole() { return std::string(RoleName(Role::kModerator)); }

Call Submit(const char* id, const char* author, const char* text) {
  return {{Queue(kSession)},
          {id, kSession, text, "bike lanes on main street", author, kOrg, "0",
           "en", kItem, kVenue, kNow, kNowMs,
           Idem("/townhall.v1.QuestionService/SubmitQuestion", Attendee(author),
                {.session_id = kSession, .participant_id = author}),
           "1", "0"}};
}

constexpr std::array<ScriptCase, questions::lua::kScriptCount> kQuestions = {{
    {&questions::lua::kSubmitScript,
     [] {
       return Calls{Submit(kQuestion, kAna, "Bike lanes on Main Street?"),
                    Submit(kDuplicate, kBen, "Bike lanes on main street")};
     }},
    {&questions::lua::kUpdateSettingsScript,
     [] {
       return Calls{{{Queue(kSession)},
                     {"MODERATION_MODE_PRE", "5", "30", "0", "mod-1",
                      ModeratorRole(), kNow}}};
     }},
    {&questions::lua::kModerateScript,
     [] {
       return Calls{{{Queue(kSession)},
                     {"approve", kQuestion, "mod-1", ModeratorRole(), kNow,
                      kNowMs, "", ""}},
                    {{Queue(kSession)},
                     {"pin", kQuestion, "mod-1", ModeratorRole(), kNow, kNowMs,
                      "", ""}}};
     }},
    {&questions::lua::kMergeScript,
     [] {
       return Calls{{{Queue(kSession)},
                     {kQuestion, "mod-1", ModeratorRole(), kNow, kDuplicate}}};
     }},
    {&questions::lua::kUndoScript,
     [] {
       return Calls{{{Queue(kSession)},
                     {"mod-1", ModeratorRole(), kNow,
                      Idem("/townhall.v1.QuestionService/UndoModeration",
                           Organizer(), {.session_id = kSession})}}};
     }},
    {&questions::lua::kReadSettingsScript,
     [] {
       return Calls{{{Queue(kSession)}, {}}};
     }},
    {&questions::lua::kReadLogScript,
     [] {
       return Calls{{{Queue(kSession)}, {"0", "50"}}};
     }},
    {&questions::lua::kReadMatchesScript,
     [] {
       return Calls{{{Queue(kSession)}, {"1", kQuestion, kAna}}};
     }},
    {&questions::lua::kReadQuestionsScript,
     [] {
       return Calls{
           {{Queue(kSession)}, {"get", kQuestion, kAna}},
           {{Queue(kSession)}, {"page", "top", "1", "0", "20", kAna, ""}},
           {{Queue(kSession)},
            {"page", absl::StrCat("mine:", kAna), "0", "0", "20", kAna,
             "PENDING", "visible"}}};
     }},
    {&questions::lua::kReadSnapshotScript,
     [] {
       return Calls{{{Queue(kSession)}, {"1", kAna, ""}}};
     }},
    // CarryOverQuestions: read here, copy into the next occurrence (its own
    // slot, its own script), then mark here.
    {&questions::lua::kCarryOutScript,
     [] {
       return Calls{
           {{Queue(kSession)}, {"read"}},
           {{Queue(kSession)},
            {"mark", kNextSession, "mod-1", ModeratorRole(), kNow, kQuestion}}};
     }},
    {&questions::lua::kCarryInScript,
     [] {
       return Calls{
           {{Queue(kNextSession)},
            {kSession, kNextSession, kNow,
             // The question's hash as carry_out.lua's 'read' returns it.
             absl::StrCat(
                 R"({"id":")", kQuestion, R"(","session":")", kSession,
                 R"(","text":"Bike lanes on Main Street?","match":"bike lanes on main street","author":"par-ana","org":"org-civic-lab","anon":"0","lang":"en","item":")",
                 kItem, R"(","venue":")", kVenue,
                 R"(","votes":"1","seq":"1","trend":"1936595100.000","created":")",
                 kNow, R"(","updated":")", kNow, R"(","status":"APPROVED"})"),
             R"({"par-ben":"1936595100000"})"}}};
     }},
    // The other half of the follow-up link: the questions carried in.
    {&questions::lua::kReadCarriedScript,
     [] {
       return Calls{{{Queue(kNextSession)}, {}}};
     }},
}};

constexpr std::array<ScriptCase, questions::vote_lua::kScriptCount> kVote = {{
    {&questions::vote_lua::kVoteScript,
     [] {
       // One batch of two calls, as RedisEventLoop::EvalBatched sends them.
       Calls calls;
       Call batch;
       for (const char* voter : {kAna, kBen}) {
         questions::VoteScriptCall call =
             questions::MakeVoteScriptCall(Attendee(voter),
                                           {.session_id = kSession,
                                            .question_id = kQuestion,
                                            .participant_id = voter},
                                           true, absl::Now());
         batch.keys = {call.key_prefix};
         batch.args.insert(batch.args.end(), call.args.begin(),
                           call.args.end());
       }
       calls.push_back(batch);
       return calls;
     }},
}};

// --- polls: KEYS[1] the session's slot prefix (PollStore), the queue's.
constexpr char kPoll[] = "poll-topic-1";

std::string Polls() { return polls::PollPrefix(kTenant, kSession); }

constexpr std::array<ScriptCase, polls::lua::kScriptCount> kPolls = {{
    {&polls::lua::kCreatePollScript,
     [] {
       return Calls{
           {{Polls()},
            {kPoll,
             R"({"id":"poll-topic-1","sessionId":"ses-2031-05-14",)"
             R"("kind":"POLL_KIND_SINGLE_CHOICE","question":"Which first?",)"
             R"("options":[{"id":"1","text":"Budget"},{"id":"2","text":"Bikes"}],)"
             R"("secrecy":"BALLOT_SECRECY_NAMED"})",
             "POLL_KIND_SINGLE_CHOICE", "2", "0", "0", "0", "NAMED", "1", "",
             "", kNow,
             Idem("/townhall.v1.PollService/CreatePoll", Organizer(),
                  {.session_id = kSession}),
             "mod-1", ModeratorRole()}}};
     }},
    {&polls::lua::kTransitionPollScript,
     [] {
       return Calls{
           {{Polls()},
            // Ana and Ben: CONFIRMED participants, individuals, absent.
            {kPoll, "open", "",   kNowMs, kNow, "mod-1", ModeratorRole(),
             "5",   "1",    kAna, "2",    "4",  "1",     "",
             "0",   kBen,   "2",  "4",    "1",  "",      "0"}}};
     }},
    // A batch of two ballots (EvalBatched's ARGV).
    {&polls::lua::kCastBallotScript,
     [] {
       std::vector<std::string> args;
       for (const char* voter : {kAna, kBen}) {
         for (std::string arg :
              {std::string(kPoll), std::string(voter), std::string("1"),
               std::string("0"), std::string(R"({"optionIds":["1"]})"),
               std::string(kNowMs),
               Idem("/townhall.v1.PollService/CastBallot", Attendee(voter),
                    {.session_id = kSession, .participant_id = voter}),
               std::string("1"), std::string("30"), std::string(),
               std::string("1")}) {
           args.push_back(std::move(arg));
         }
       }
       return Calls{{{Polls()}, std::move(args)}};
     }},
    {&polls::lua::kReadPollsScript,
     [] {
       return Calls{{{Polls()}, {"get", kPoll, kAna, "1"}},
                    {{Polls()}, {"page", "0", "50", kAna}},
                    {{Polls()}, {"watch", "", ""}}};
     }},
}};

struct Library {
  const char* name;
  absl::Span<const LuaScript* const> scripts;  // the generated kAllScripts
  absl::Span<const ScriptCase> cases;
};

// In the order they run: scheduling creates the sessions, the directory
// the people that registration then registers, and so on.
const std::vector<Library>& Libraries() {
  static const auto* libraries = new std::vector<Library>{
      {"scheduling", scheduling::lua::kAllScripts, kScheduling},
      {"directory", registration::directory_lua::kAllScripts, kDirectory},
      {"common", common_lua::kAllScripts, kCommon},
      {"registration", registration::lua::kAllScripts, kRegistration},
      {"tenancy", tenancy::lua::kAllScripts, kTenancy},
      {"agenda", agenda::lua::kAllScripts, kAgenda},
      {"speakers", agenda::speakers_lua::kAllScripts, kSpeakers},
      {"questions", questions::lua::kAllScripts, kQuestions},
      {"vote", questions::vote_lua::kAllScripts, kVote},
      {"polls", polls::lua::kAllScripts, kPolls},
  };
  return *libraries;
}

// True when Redis or the router refused a call for touching keys of more
// than one slot: KEYS of several slots (CROSSSLOT, before sending), or a
// key outside KEYS' slot reached from inside the script.
bool IsSlotViolation(const absl::Status& status) {
  for (absl::string_view marker :
       {"CROSSSLOT", "Lua script attempted to access keys of different hash",
        "Script attempted to access keys of different hash slots",
        "Script attempted to access keys that do not hash to the same slot",
        "Script attempted to access a non local key"}) {
    if (absl::StrContains(status.message(), marker)) return true;
  }
  return false;
}

class ClusterScriptsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    RedisClusterOptions options;
    options.first_port = 7200;
    options.last_port = 7299;
    absl::StatusOr<std::unique_ptr<RedisCluster>> started =
        RedisCluster::Start(options);
    ASSERT_TRUE(started.ok()) << started.status();
    cluster_ = started->release();
    absl::StatusOr<std::shared_ptr<ClusterTopology>> topology =
        cluster_->DiscoverTopology();
    ASSERT_TRUE(topology.ok()) << topology.status();
    topology_ = new std::shared_ptr<ClusterTopology>(*std::move(topology));
  }
  static void TearDownTestSuite() {
    delete topology_;
    topology_ = nullptr;
    delete cluster_;
    cluster_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(topology_, nullptr);
    router_ = std::make_unique<ClusterRouter>(*topology_);
  }

  // Runs `script` strictly: without a shebang Redis 7 runs a script in a
  // compatibility mode that lets it reach keys of other slots as long as
  // the same node serves them; `#!lua` (no flags) makes Redis refuse every
  // key outside the slot of the script's KEYS, so every cross-slot access
  // fails here, not only those that happen to cross nodes. (Read-only
  // scripts have one already: `#!lua flags=no-writes`.)
  absl::Status Run(const LuaScript& script, const Call& call) {
    const LuaScript strict(script.name(), absl::StartsWith(script.body(), "#!")
                                              ? script.body()
                                              : "#!lua\n" + script.body());
    router_->set_deadline(absl::Now() + absl::Seconds(10));
    return router_->Eval(strict, call.keys, call.args).status();
  }

  // A key of another tenant (another slot) whose master is (or is not)
  // the master of `key`.
  std::string KeyOfAnotherSlot(const std::string& key, bool same_master) {
    ClusterMap map = (*topology_)->Snapshot();
    for (int i = 0; i < 1000; ++i) {
      std::string other = TenantPrefix(absl::StrCat("other-", i)) + "probe";
      if (KeySlot(other) == KeySlot(key)) continue;
      bool same = map.MasterOf(KeySlot(other)) == map.MasterOf(KeySlot(key));
      if (same == same_master) return other;
    }
    return "";
  }

  static RedisCluster* cluster_;
  static std::shared_ptr<ClusterTopology>* topology_;
  std::unique_ptr<ClusterRouter> router_;
};

RedisCluster* ClusterScriptsTest::cluster_ = nullptr;
std::shared_ptr<ClusterTopology>* ClusterScriptsTest::topology_ = nullptr;

TEST(ClusterScriptsTableTest, EveryScriptHasExactlyOneEntry) {
  for (const Library& library : Libraries()) {
    ASSERT_EQ(library.cases.size(), library.scripts.size()) << library.name;
    std::set<const LuaScript*> listed;
    for (const ScriptCase& c : library.cases) {
      ASSERT_NE(c.script, nullptr)
          << library.name << ": a script has no entry in its table (add one)";
      ASSERT_NE(c.calls, nullptr) << library.name << " " << c.script->name();
      EXPECT_TRUE(listed.insert(c.script).second)
          << library.name << ": " << c.script->name() << " listed twice";
    }
    for (const LuaScript* script : library.scripts) {
      EXPECT_TRUE(listed.count(script))
          << library.name << ": " << script->name() << " has no entry";
    }
  }
}

TEST_F(ClusterScriptsTest, EveryScriptTouchesOneSlot) {
  int calls = 0;
  int succeeded = 0;
  for (const Library& library : Libraries()) {
    for (const ScriptCase& c : library.cases) {
      ASSERT_NE(c.script, nullptr);
      for (const Call& call : c.calls()) {
        absl::Status status = Run(*c.script, call);
        ++calls;
        if (status.ok()) ++succeeded;
        EXPECT_FALSE(IsSlotViolation(status))
            << library.name << "/" << c.script->name() << ": " << status;
        // Unavailable would hide a violation: the script never ran.
        EXPECT_NE(status.code(), absl::StatusCode::kUnavailable)
            << library.name << "/" << c.script->name() << ": " << status;
        if (!status.ok()) {
          std::printf("%s/%s: %s\n", library.name,
                      std::string(c.script->name()).c_str(),
                      status.ToString().c_str());
        }
      }
    }
  }
  std::printf("%d of %d script calls succeeded\n", succeeded, calls);
  // Most calls run to the end (their data exists), so their every key
  // access was checked, not only their first ones.
  EXPECT_GE(succeeded * 10, calls * 8);
}

// The revoking scripts write the tenant's stream, in the tenant's slot.
TEST_F(ClusterScriptsTest, RevocationsLandInTheTenantsStream) {
  for (const Library& library : Libraries()) {
    for (const ScriptCase& c : library.cases) {
      for (const Call& call : c.calls()) (void)Run(*c.script, call);
    }
  }
  const std::string stream = RevocationStreamKey(kTenant);
  EXPECT_EQ(KeySlot(stream), KeySlot(Tenant()));
  router_->set_deadline(absl::Now() + absl::Seconds(10));
  absl::StatusOr<RedisReply> len = router_->Command({stream}, {"XLEN", stream});
  ASSERT_TRUE(len.ok()) << len.status();
  // cancel_registration, set_role, revoke_api_key, each at least once.
  EXPECT_GE(len->integer, 3);
  const std::string tenants(kRevocationTenantsKey);
  absl::StatusOr<RedisReply> listed =
      router_->Command({tenants}, {"SISMEMBER", tenants, kTenant});
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_EQ(listed->integer, 1);
}

// The check catches what it is for: a script reaching a key of another
// slot (served by the same master or by another one), and KEYS of two
// slots.
TEST_F(ClusterScriptsTest, CrossSlotScriptIsCaught) {
  const std::string here = Tenant() + "probe";
  const LuaScript cross_slot(
      "cross_slot",
      "redis.call('SET', KEYS[1], '1') return redis.call('GET', ARGV[1])");
  for (bool same_master : {true, false}) {
    const std::string there = KeyOfAnotherSlot(here, same_master);
    ASSERT_FALSE(there.empty());
    absl::Status status = Run(cross_slot, {{here}, {there}});
    EXPECT_TRUE(IsSlotViolation(status))
        << (same_master ? "same master: " : "other master: ") << status;
  }

  const LuaScript two_keys("two_keys", "return redis.call('GET', KEYS[2])");
  absl::Status status =
      Run(two_keys, {{here, KeyOfAnotherSlot(here, false)}, {}});
  EXPECT_TRUE(IsSlotViolation(status)) << status;

  // The same script within one slot passes the check.
  status = Run(cross_slot, {{here}, {Tenant() + "other-probe"}});
  EXPECT_TRUE(status.ok()) << status;
}

}  // namespace
}  // namespace townhall
