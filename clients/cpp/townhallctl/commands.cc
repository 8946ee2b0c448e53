#include "clients/cpp/townhallctl/commands.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "clients/cpp/townhallctl/request_fields.h"
#include "townhall/v1/agenda.pb.h"
#include "townhall/v1/diagnostics.pb.h"
#include "townhall/v1/polls.pb.h"
#include "townhall/v1/questions.pb.h"
#include "townhall/v1/registration.pb.h"
#include "townhall/v1/scheduling.pb.h"
#include "townhall/v1/tenant.pb.h"

namespace townhall::ctl {

using google::protobuf::DescriptorPool;
using google::protobuf::MethodDescriptor;
using google::protobuf::ServiceDescriptor;

const std::vector<ServiceName>& Services() {
  static const auto* const kServices = new std::vector<ServiceName>{
      {"scheduling", "townhall.v1.SchedulingService",
       &v1::GetSessionRequest::descriptor},
      {"registration", "townhall.v1.RegistrationService",
       &v1::GetParticipantRequest::descriptor},
      {"agenda", "townhall.v1.AgendaService",
       &v1::GetAgendaRequest::descriptor},
      {"questions", "townhall.v1.QuestionService",
       &v1::GetQuestionRequest::descriptor},
      {"polls", "townhall.v1.PollService", &v1::GetPollRequest::descriptor},
      {"tenant", "townhall.v1.TenantService",
       &v1::GetTenantRequest::descriptor},
      {"diagnostics", "townhall.v1.DiagnosticsService",
       &v1::PingRequest::descriptor},
  };
  return *kServices;
}

namespace {

// The generated pool, with every service's file linked in.
const DescriptorPool& ApiPool() {
  static const bool linked = [] {
    for (const ServiceName& s : Services()) s.file_message();
    return true;
  }();
  (void)linked;
  return *DescriptorPool::generated_pool();
}

}  // namespace

const std::vector<Shortcut>& Shortcuts() {
  static const auto* const kShortcuts = new std::vector<Shortcut>{
      {"sessions", "list", "townhall.v1.SchedulingService.ListSessions", {}},
      {"sessions",
       "get",
       "townhall.v1.SchedulingService.GetSession",
       {"session_id"}},
      {"sessions", "create", "townhall.v1.SchedulingService.CreateSession", {}},
      {"sessions",
       "update",
       "townhall.v1.SchedulingService.UpdateSession",
       {"session.id"}},
      {"sessions",
       "publish",
       "townhall.v1.SchedulingService.PublishSession",
       {"session_id"}},
      {"sessions",
       "start",
       "townhall.v1.SchedulingService.StartSession",
       {"session_id"}},
      {"sessions",
       "end",
       "townhall.v1.SchedulingService.EndSession",
       {"session_id"}},
      {"sessions",
       "cancel",
       "townhall.v1.SchedulingService.CancelSession",
       {"session_id"}},
      {"venues", "list", "townhall.v1.SchedulingService.ListVenues", {}},
      {"venues", "get", "townhall.v1.SchedulingService.GetVenue", {"venue_id"}},
      {"venues", "create", "townhall.v1.SchedulingService.CreateVenue", {}},
      {"organizations",
       "list",
       "townhall.v1.RegistrationService.ListOrganizations",
       {}},
      {"organizations",
       "get",
       "townhall.v1.RegistrationService.GetOrganization",
       {"organization_id"}},
      {"organizations",
       "create",
       "townhall.v1.RegistrationService.CreateOrganization",
       {}},
      {"participants",
       "list",
       "townhall.v1.RegistrationService.ListParticipants",
       {}},
      {"participants",
       "get",
       "townhall.v1.RegistrationService.GetParticipant",
       {"participant_id"}},
      {"participants",
       "create",
       "townhall.v1.RegistrationService.CreateParticipant",
       {}},
      {"registrations",
       "list",
       "townhall.v1.RegistrationService.ListRegistrations",
       {"session_id"}},
      {"registrations",
       "get",
       "townhall.v1.RegistrationService.GetRegistration",
       {"session_id", "participant_id"}},
      // Beside PollService's methods (`polls list-polls`); a poll's verbs
      // take its id and --session_id.
      {"polls", "list", "townhall.v1.PollService.ListPolls", {"session_id"}},
      {"polls", "get", "townhall.v1.PollService.GetPoll", {"poll_id"}},
      {"polls", "create", "townhall.v1.PollService.CreatePoll", {}},
      {"polls", "open", "townhall.v1.PollService.OpenPoll", {"poll_id"}},
      {"polls", "close", "townhall.v1.PollService.ClosePoll", {"poll_id"}},
      {"polls", "publish", "townhall.v1.PollService.PublishPoll", {"poll_id"}},
      {"polls", "vote", "townhall.v1.PollService.CastBallot", {"poll_id"}},
      {"polls", "watch", "townhall.v1.PollService.WatchPolls", {"session_id"}},
      {"polls",
       "export",
       "townhall.v1.PollService.ExportPollResults",
       {"poll_id"},
       "content"},
  };
  return *kShortcuts;
}

const std::vector<GlobalFlag>& GlobalFlags() {
  static const auto* const kFlags = new std::vector<GlobalFlag>{
      {"address", true},      {"token", true},
      {"token_file", true},   {"config", true},
      {"output", true},       {"output_file", true},
      {"columns", true},      {"time_zone", true},
      {"all", false},         {"limit", true},
      {"timeout", true},      {"tls", false},
      {"tls_ca_file", true},  {"tls_cert_file", true},
      {"tls_key_file", true}, {"tls_server_name", true},
      {"data", true},         {"version", false},
      {"help", false},
  };
  return *kFlags;
}

const GlobalFlag* FindGlobalFlag(absl::string_view name) {
  for (const GlobalFlag& flag : GlobalFlags()) {
    if (name == flag.name) return &flag;
  }
  return nullptr;
}

const ServiceDescriptor* FindService(absl::string_view name) {
  for (const ServiceName& service : Services()) {
    if (name == service.name) {
      return ApiPool().FindServiceByName(service.full_name);
    }
  }
  return nullptr;
}

std::string ServiceCliName(const ServiceDescriptor& service) {
  for (const ServiceName& s : Services()) {
    if (service.full_name() == s.full_name) return s.name;
  }
  return KebabCase(service.name());
}

const MethodDescriptor* FindMethod(const ServiceDescriptor& service,
                                   absl::string_view kebab) {
  for (int i = 0; i < service.method_count(); ++i) {
    if (KebabCase(service.method(i)->name()) == kebab) return service.method(i);
  }
  return nullptr;
}

const MethodDescriptor* MethodByFullName(absl::string_view full_name) {
  return ApiPool().FindMethodByName(std::string(full_name));
}

bool IsShortcutGroup(absl::string_view group) {
  return std::any_of(Shortcuts().begin(), Shortcuts().end(),
                     [&](const Shortcut& s) { return group == s.group; });
}

const Shortcut* FindShortcut(absl::string_view group, absl::string_view verb) {
  for (const Shortcut& s : Shortcuts()) {
    if (group == s.group && verb == s.verb) return &s;
  }
  return nullptr;
}

bool IsCommandWord(absl::string_view word) {
  return FindService(word) != nullptr || IsShortcutGroup(word) ||
         std::any_of(std::begin(kSpecialCommands), std::end(kSpecialCommands),
                     [&](const char* w) { return word == w; });
}

const char kGlobalHelp[] =
    R"(Global flags (anywhere on the line, also before the command):
  --address=HOST:PORT     the server ($TOWNHALL_ADDRESS; 127.0.0.1:50051)
  --token=TOKEN           bearer token: organizer JWT, join token, API key
                          ($TOWNHALL_TOKEN)
  --token_file=FILE       the token, read from FILE
  --config=FILE           key=value settings with these flags' names
                          ($TOWNHALL_CONFIG; ~/.config/townhall/config)
  -o, --output=FORMAT     table (chosen columns), wide (every column), json
                          or yaml; -o with any other value is --output_file
  --output_file=FILE      write the answer to FILE instead of stdout
  --columns=a,b.c         the table's columns, by field name
  --time_zone=ZONE        show times in tables in this IANA zone (and UTC)
                          ($TZ; the machine's zone)
  --all                   follow next_page_token to the last page
  --limit=N               at most N rows, following pages until then
  --timeout=DURATION      deadline of a call (10s; streams have none unless
                          given); UNAVAILABLE is retried within it
  --tls                   TLS with the system's roots
  --tls_ca_file=FILE, --tls_cert_file=FILE, --tls_key_file=FILE,
  --tls_server_name=NAME  TLS with a CA, a client certificate, a name
  --data=JSON|@FILE|-     the request as JSON (proto field names); field
                          flags then set or add to it
  --version               townhallctl's version
  -h, --help              help for the command

Exit status: 0 done; 1 the server answered with an error (its code and
message on stderr); 2 usage error; 3 local error (a file, TLS files);
4 import refused some rows (listed, their count on stderr).
)";

std::string TopHelp() {
  std::string out =
      R"(townhallctl: the townhall API for organizers and moderators.

Usage:
  townhallctl <service> <method> [--field=value ...] [--data=JSON]
  townhallctl <shortcut> ...
  townhallctl <service> [<method>] --help   methods; a request's fields

Services (every method, by reflection over the API):
)";
  for (const ServiceName& s : Services()) {
    const ServiceDescriptor* service = FindService(s.name);
    absl::StrAppend(&out, "  ", s.name,
                    std::string(14 - std::string(s.name).size(), ' '),
                    s.full_name, " (", service->method_count(), " methods)\n");
  }
  absl::StrAppend(&out, R"(
Shortcuts:
  sessions list | get|update|publish|start|end|cancel ID | create
  venues list | get ID | create
  organizations list | get ID | create
  participants list | get ID | create
  registrations list SESSION | get SESSION PARTICIPANT
  polls list SESSION | create | watch SESSION
  polls get|open|close|publish|vote|export POLL --session_id=SESSION
                               (vote = cast-ballot; export writes the
                               results file to stdout or -o FILE)
  import DIR|FILE.csv...       the organizations and participants CSV files
                               (RegistrationService.ImportDirectory)
  calendar --session_id=ID | --series_id=ID [-o FILE.ics]
                               an iCalendar file (SchedulingService.ExportCalendar)
  moderate SESSION             the live moderator console
  completion bash|zsh          a shell completion script

Examples:
  townhallctl sessions list --states=SCHEDULED --all
  townhallctl sessions get 0b2c6a1e -o yaml
  townhallctl sessions create --session.title="Open Day" \
      --session.start_time=2027-03-20T09:00:00Z --session.duration=21600s \
      --session.time_zone=Europe/Berlin --session.format=IN_PERSON
  townhallctl questions approve-question --session_id=S --question_id=Q
  townhallctl agenda watch-agenda --session_id=S      (JSON lines; Ctrl-C ends)
  townhallctl polls export P --session_id=S --format=CSV -o results.csv

)",
                  kGlobalHelp);
  return out;
}

namespace {

// The verbs of a shortcut group, one a line: "  get ID  = scheduling
// get-session".
std::string VerbLines(absl::string_view group) {
  std::vector<std::pair<std::string, const MethodDescriptor*>> verbs;
  size_t width = 0;
  for (const Shortcut& s : Shortcuts()) {
    if (group != s.group) continue;
    std::string verb = absl::StrCat(s.verb, ShortcutArguments(s));
    width = std::max(width, verb.size());
    verbs.emplace_back(std::move(verb), MethodByFullName(s.method));
  }
  std::string out;
  for (const auto& [verb, method] : verbs) {
    absl::StrAppend(&out, "  ", verb, std::string(width - verb.size() + 2, ' '),
                    "= ", ServiceCliName(*method->service()), " ",
                    KebabCase(method->name()), "\n");
  }
  return out;
}

}  // namespace

std::string ShortcutArguments(const Shortcut& shortcut) {
  std::string out;
  bool names_session = false;
  for (const char* id : shortcut.ids) {
    absl::StrAppend(&out, " ", absl::AsciiStrToUpper(id));
    names_session = names_session || absl::string_view(id) == "session_id";
  }
  const MethodDescriptor* method = MethodByFullName(shortcut.method);
  if (!names_session && method != nullptr &&
      method->input_type()->FindFieldByName("session_id") != nullptr) {
    absl::StrAppend(&out, " --session_id=SESSION_ID");
  }
  return out;
}

std::string ServiceHelp(const ServiceDescriptor& service) {
  const std::string name = ServiceCliName(service);
  const bool verbs = IsShortcutGroup(name);
  std::string out =
      absl::StrCat("Usage: townhallctl ", name,
                   verbs ? " <method|verb> [flags]" : " <method> [flags]",
                   "\n\nMethods of ", service.full_name(), ":\n");
  size_t width = 0;
  for (int i = 0; i < service.method_count(); ++i) {
    width = std::max(width, KebabCase(service.method(i)->name()).size());
  }
  for (int i = 0; i < service.method_count(); ++i) {
    const MethodDescriptor& method = *service.method(i);
    std::string kebab = KebabCase(method.name());
    absl::StrAppend(&out, "  ", kebab,
                    std::string(width - kebab.size() + 2, ' '), method.name(),
                    method.server_streaming() ? " (server stream)" : "", "\n");
  }
  if (verbs) absl::StrAppend(&out, "\nShortcuts:\n", VerbLines(name));
  absl::StrAppend(&out, "\nSee townhallctl ", name,
                  verbs ? " <method|verb>" : " <method>",
                  " --help for a request's fields.\n");
  return out;
}

std::string GroupHelp(absl::string_view group) {
  return absl::StrCat("Usage: townhallctl ", group,
                      " <verb> [flags]\n\nVerbs:\n", VerbLines(group));
}

}  // namespace townhall::ctl
