#include "clients/cpp/townhallctl/townhallctl.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "clients/cpp/townhall_client.h"
#include "clients/cpp/townhallctl/moderate.h"
#include "clients/cpp/townhallctl/output.h"
#include "clients/cpp/townhallctl/request_fields.h"
#include "clients/cpp/townhallctl/settings.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"

namespace townhall::ctl {
namespace {

namespace fs = std::filesystem;
using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::MethodDescriptor;
using google::protobuf::ServiceDescriptor;

struct ServiceName {
  const char* name;
  const char* full_name;
};
constexpr ServiceName kServices[] = {
    {"scheduling", "townhall.v1.SchedulingService"},
    {"registration", "townhall.v1.RegistrationService"},
    {"agenda", "townhall.v1.AgendaService"},
    {"questions", "townhall.v1.QuestionService"},
    {"tenant", "townhall.v1.TenantService"},
    {"diagnostics", "townhall.v1.DiagnosticsService"},
};

// `<group> <verb>` for the methods organizers use most; the same flags as
// the method itself.
struct Shortcut {
  const char* group;
  const char* verb;
  const char* method;  // full name
};
constexpr Shortcut kShortcuts[] = {
    {"sessions", "list", "townhall.v1.SchedulingService.ListSessions"},
    {"sessions", "get", "townhall.v1.SchedulingService.GetSession"},
    {"sessions", "create", "townhall.v1.SchedulingService.CreateSession"},
    {"sessions", "update", "townhall.v1.SchedulingService.UpdateSession"},
    {"sessions", "publish", "townhall.v1.SchedulingService.PublishSession"},
    {"sessions", "start", "townhall.v1.SchedulingService.StartSession"},
    {"sessions", "end", "townhall.v1.SchedulingService.EndSession"},
    {"sessions", "cancel", "townhall.v1.SchedulingService.CancelSession"},
    {"venues", "list", "townhall.v1.SchedulingService.ListVenues"},
    {"venues", "get", "townhall.v1.SchedulingService.GetVenue"},
    {"venues", "create", "townhall.v1.SchedulingService.CreateVenue"},
    {"organizations", "list",
     "townhall.v1.RegistrationService.ListOrganizations"},
    {"organizations", "get", "townhall.v1.RegistrationService.GetOrganization"},
    {"organizations", "create",
     "townhall.v1.RegistrationService.CreateOrganization"},
    {"participants", "list",
     "townhall.v1.RegistrationService.ListParticipants"},
    {"participants", "get", "townhall.v1.RegistrationService.GetParticipant"},
    {"participants", "create",
     "townhall.v1.RegistrationService.CreateParticipant"},
    {"registrations", "list",
     "townhall.v1.RegistrationService.ListRegistrations"},
    {"registrations", "get", "townhall.v1.RegistrationService.GetRegistration"},
};

constexpr char kImportMethod[] =
    "townhall.v1.RegistrationService.ImportDirectory";
constexpr char kCalendarMethod[] =
    "townhall.v1.SchedulingService.ExportCalendar";

// Global flags that take a value; `tls` and `help` do not.
constexpr const char* kValueFlags[] = {
    "address",         "token",       "token_file",    "timeout",
    "output",          "tls_ca_file", "tls_cert_file", "tls_key_file",
    "tls_server_name", "config",      "data",          "output_file",
};

constexpr char kGlobalHelp[] = R"(Global flags (anywhere on the line):
  --address=HOST:PORT     the server ($TOWNHALL_ADDRESS; 127.0.0.1:50051)
  --token=TOKEN           bearer token: organizer JWT, join token, API key
                          ($TOWNHALL_TOKEN)
  --token_file=FILE       the token, read from FILE
  --config=FILE           key=value settings with these flags' names
                          ($TOWNHALL_CONFIG; ~/.config/townhall/config)
  --output=table|json     how to print the answer (table)
  -o, --output_file=FILE  write the answer to FILE instead of stdout
  --timeout=DURATION      deadline of a call (10s; streams have none unless
                          given); UNAVAILABLE is retried within it
  --tls                   TLS with the system's roots
  --tls_ca_file=FILE, --tls_cert_file=FILE, --tls_key_file=FILE,
  --tls_server_name=NAME  TLS with a CA, a client certificate, a name
  --data=JSON|@FILE|-     the request as JSON (proto field names); field
                          flags then set or add to it
  -h, --help              help for the command

Exit status: 0 done; 1 the server answered with an error (its code and
message on stderr); 2 usage error; 3 local error (a file, TLS files).
)";

// Kebab or snake case in, snake case out: --session-id is --session_id.
std::string FlagName(absl::string_view text) {
  return absl::StrReplaceAll(text, {{"-", "_"}});
}

bool IsValueFlag(const std::string& name) {
  return std::find_if(std::begin(kValueFlags), std::end(kValueFlags),
                      [&](const char* f) { return name == f; }) !=
         std::end(kValueFlags);
}

const ServiceDescriptor* FindService(absl::string_view name) {
  for (const ServiceName& service : kServices) {
    if (name == service.name) {
      return google::protobuf::DescriptorPool::generated_pool()
          ->FindServiceByName(service.full_name);
    }
  }
  return nullptr;
}

std::string ServiceCliName(const ServiceDescriptor& service) {
  for (const ServiceName& s : kServices) {
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

const MethodDescriptor* MethodByFullName(const char* full_name) {
  return google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(
      full_name);
}

bool IsShortcutGroup(absl::string_view group) {
  return std::any_of(std::begin(kShortcuts), std::end(kShortcuts),
                     [&](const Shortcut& s) { return group == s.group; });
}

// A usage error carries its own exit status through absl::Status: the
// message is for the user, the code only says which kind.
absl::Status UsageError(absl::string_view message) {
  return absl::InvalidArgumentError(message);
}
absl::Status LocalError(absl::string_view message) {
  return absl::FailedPreconditionError(message);
}

enum class Kind { kHelp, kRpc, kImport, kCalendar, kModerate };

struct Command {
  Kind kind = Kind::kHelp;
  // For kHelp: the service or shortcut group to explain ("" for all).
  std::string topic;
  // What the user typed, for messages: "sessions list".
  std::string name;
  const MethodDescriptor* method = nullptr;
};

struct Invocation {
  Command command;
  bool help = false;
  SettingLayer flags;
  std::optional<std::string> config;
  std::optional<std::string> data;
  std::optional<std::string> output_file;
  // Field flags in order: (name, value).
  std::vector<std::pair<std::string, std::string>> fields;
  std::vector<std::string> positionals;
};

std::string TopHelp() {
  std::string out =
      R"(townhallctl: the townhall API for organizers and moderators.

Usage:
  townhallctl <service> <method> [--field=value ...] [--data=JSON]
  townhallctl <shortcut> ...
  townhallctl <service> [<method>] --help   methods; a request's fields

Services (every method, by reflection over the API):
)";
  for (const ServiceName& s : kServices) {
    const ServiceDescriptor* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
            s.full_name);
    absl::StrAppend(&out, "  ", s.name,
                    std::string(14 - std::string(s.name).size(), ' '),
                    s.full_name, " (", service->method_count(), " methods)\n");
  }
  absl::StrAppend(&out, R"(
Shortcuts:
  sessions list|get|create|update|publish|start|end|cancel
  venues list|get|create
  organizations list|get|create
  participants list|get|create
  registrations list|get
  import DIR|FILE.csv...       the organizations and participants CSV files
                               (RegistrationService.ImportDirectory)
  calendar --session_id=ID | --series_id=ID [-o FILE.ics]
                               an iCalendar file (SchedulingService.ExportCalendar)
  moderate SESSION             the live moderator console

Examples:
  townhallctl sessions list --states=SCHEDULED --page_size=20
  townhallctl sessions create --session.title="Open Day" \
      --session.start_time=2027-03-20T09:00:00Z --session.duration=21600s \
      --session.time_zone=Europe/Berlin --session.format=IN_PERSON
  townhallctl questions approve-question --session_id=S --question_id=Q
  townhallctl agenda watch-agenda --session_id=S      (JSON lines; Ctrl-C ends)

)",
                  kGlobalHelp);
  return out;
}

std::string ServiceHelp(const ServiceDescriptor& service) {
  std::string out = absl::StrCat("Usage: townhallctl ", ServiceCliName(service),
                                 " <method> [flags]\n\nMethods of ",
                                 service.full_name(), ":\n");
  size_t width = 0;
  for (int i = 0; i < service.method_count(); ++i) {
    width = std::max(width, KebabCase(service.method(i)->name()).size());
  }
  for (int i = 0; i < service.method_count(); ++i) {
    const MethodDescriptor& method = *service.method(i);
    std::string name = KebabCase(method.name());
    absl::StrAppend(&out, "  ", name, std::string(width - name.size() + 2, ' '),
                    method.name(),
                    method.server_streaming() ? " (server stream)" : "", "\n");
  }
  absl::StrAppend(&out, "\nSee townhallctl ", ServiceCliName(service),
                  " <method> --help for a request's fields.\n");
  return out;
}

std::string GroupHelp(absl::string_view group) {
  std::string out =
      absl::StrCat("Usage: townhallctl ", group, " <verb> [flags]\n\nVerbs:\n");
  for (const Shortcut& s : kShortcuts) {
    if (group != s.group) continue;
    const MethodDescriptor* method = MethodByFullName(s.method);
    absl::StrAppend(&out, "  ", s.verb,
                    std::string(10 - std::string(s.verb).size(), ' '), "= ",
                    ServiceCliName(*method->service()), " ",
                    KebabCase(method->name()), "\n");
  }
  return out;
}

std::string MethodHelp(const Command& command) {
  const MethodDescriptor& method = *command.method;
  std::string out;
  switch (command.kind) {
    case Kind::kImport:
      out = absl::StrCat(
          "Usage: townhallctl import DIR | FILE.csv... [--validate_only]\n\n"
          "Imports organizations and participants from CSV through ",
          method.full_name(),
          ". A DIR gives its *.csv files. Each file is told apart by its\n"
          "header: organizations start with `name`, participants with\n"
          "`display_name` (docs/registration.md). Rows with errors are\n"
          "listed with their line; the others land, and importing again\n"
          "creates nothing new.\n\nFields:\n");
      break;
    case Kind::kCalendar:
      out = absl::StrCat(
          "Usage: townhallctl calendar --session_id=ID | --series_id=ID "
          "[-o FILE.ics]\n\nWrites the iCalendar (RFC 5545) of a session or a "
          "series from\n",
          method.full_name(), " to FILE (stdout without -o).\n\nFields:\n");
      break;
    default:
      out = absl::StrCat(
          "Usage: townhallctl ", command.name,
          " [--field=value ...] "
          "[--data=JSON]\n\nCalls ",
          method.full_name(),
          method.server_streaming()
              ? " (a server stream: prints each message as a JSON line "
                "as it arrives, until the stream ends or Ctrl-C)"
              : "",
          ".\nRequest ", method.input_type()->full_name(), ", response ",
          method.output_type()->full_name(), ".\n\nFields:\n");
  }
  absl::StrAppend(&out, DescribeFields(*method.input_type()),
                  "\nRepeated fields take one flag per element.");
  if (method.input_type()->FindFieldByName("request_id") != nullptr) {
    absl::StrAppend(&out,
                    " An empty request_id is filled for you\n"
                    "(retries after UNAVAILABLE reuse it).");
  }
  absl::StrAppend(&out, "\nGlobal flags: townhallctl --help.\n");
  return out;
}

std::string Help(const std::string& topic) {
  if (const ServiceDescriptor* service = FindService(topic)) {
    return ServiceHelp(*service);
  }
  if (IsShortcutGroup(topic)) return GroupHelp(topic);
  return TopHelp();
}

// Resolves the command words; `words` may hold positionals after them.
absl::StatusOr<Command> ResolveCommand(std::vector<std::string>& words,
                                       bool help) {
  Command command;
  if (words.empty()) {
    if (help) return command;
    return UsageError("no command; see townhallctl --help");
  }
  const std::string first = words[0];
  auto take = [&](size_t n) { words.erase(words.begin(), words.begin() + n); };
  if (first == "import" || first == "calendar" || first == "moderate") {
    command.name = first;
    command.kind = first == "import"     ? Kind::kImport
                   : first == "calendar" ? Kind::kCalendar
                                         : Kind::kModerate;
    command.method = first == "import"     ? MethodByFullName(kImportMethod)
                     : first == "calendar" ? MethodByFullName(kCalendarMethod)
                                           : nullptr;
    take(1);
    return command;
  }
  if (const ServiceDescriptor* service = FindService(first)) {
    if (words.size() < 2) {
      if (help) {
        command.topic = first;
        words.clear();
        return command;
      }
      return UsageError(absl::StrCat("townhallctl ", first,
                                     ": which method? see townhallctl ", first,
                                     " --help"));
    }
    command.method = FindMethod(*service, words[1]);
    if (command.method == nullptr) {
      return UsageError(absl::StrCat("unknown ", first, " method \"", words[1],
                                     "\"; see townhallctl ", first, " --help"));
    }
    command.kind = Kind::kRpc;
    command.name = absl::StrCat(first, " ", words[1]);
    take(2);
    return command;
  }
  if (IsShortcutGroup(first)) {
    if (words.size() < 2) {
      if (help) {
        command.topic = first;
        words.clear();
        return command;
      }
      return UsageError(absl::StrCat("townhallctl ", first,
                                     ": which verb? see townhallctl ", first,
                                     " --help"));
    }
    for (const Shortcut& s : kShortcuts) {
      if (first == s.group && words[1] == s.verb) {
        command.kind = Kind::kRpc;
        command.method = MethodByFullName(s.method);
        command.name = absl::StrCat(first, " ", words[1]);
        take(2);
        return command;
      }
    }
    return UsageError(absl::StrCat("unknown verb \"", words[1], "\" for ",
                                   first, "; see townhallctl ", first,
                                   " --help"));
  }
  return UsageError(
      absl::StrCat("unknown command \"", first, "\"; see townhallctl --help"));
}

absl::StatusOr<Invocation> Parse(const std::vector<std::string>& args) {
  Invocation invocation;
  for (const std::string& arg : args) {
    if (arg == "--") break;
    if (arg == "--help" || arg == "-h") invocation.help = true;
  }
  // `help X Y` is `X Y --help`.
  size_t i = 0;
  if (!args.empty() && args[0] == "help") {
    invocation.help = true;
    i = 1;
  }
  // Command words come before the first field flag; global flags may be
  // anywhere. Whether `--x` takes the next argument depends on the field's
  // type, known once the command is.
  std::vector<std::string> words;
  // Returns whether args[i] was a global flag (and consumes it).
  auto global = [&]() -> absl::StatusOr<bool> {
    const std::string& arg = args[i];
    if (arg == "-h") {
      ++i;
      return true;
    }
    std::string name;
    std::optional<std::string> value;
    if (arg == "-o") {
      name = "output_file";
    } else if (absl::StartsWith(arg, "--")) {
      std::pair<std::string, std::string> kv =
          absl::StrSplit(arg.substr(2), absl::MaxSplits('=', 1));
      name = FlagName(kv.first);
      if (arg.find('=') != std::string::npos) value = kv.second;
    } else {
      return false;
    }
    if (name == "help") {
      ++i;
      return true;
    }
    if (name == "tls") {
      invocation.flags["tls"] = value.value_or("true");
      ++i;
      return true;
    }
    if (!IsValueFlag(name)) return false;
    if (!value.has_value()) {
      if (i + 1 >= args.size()) {
        return UsageError(absl::StrCat(arg, " needs a value"));
      }
      value = args[++i];
    }
    ++i;
    if (name == "config") {
      invocation.config = *value;
    } else if (name == "data") {
      invocation.data = *value;
    } else if (name == "output_file") {
      invocation.output_file = *value;
    } else {
      invocation.flags[name] = *value;
    }
    return true;
  };
  while (i < args.size()) {
    absl::StatusOr<bool> consumed = global();
    if (!consumed.ok()) return consumed.status();
    if (*consumed) continue;
    if (absl::StartsWith(args[i], "-") && args[i] != "-") break;
    words.push_back(args[i++]);
  }
  absl::StatusOr<Command> command = ResolveCommand(words, invocation.help);
  if (!command.ok()) return command.status();
  invocation.command = *std::move(command);
  invocation.positionals = std::move(words);
  const Descriptor* request = invocation.command.method != nullptr
                                  ? invocation.command.method->input_type()
                                  : nullptr;
  while (i < args.size()) {
    absl::StatusOr<bool> consumed = global();
    if (!consumed.ok()) return consumed.status();
    if (*consumed) continue;
    const std::string& arg = args[i];
    if (arg == "--") {
      invocation.positionals.insert(invocation.positionals.end(),
                                    args.begin() + i + 1, args.end());
      break;
    }
    if (!absl::StartsWith(arg, "--")) {
      if (absl::StartsWith(arg, "-") && arg != "-") {
        return UsageError(absl::StrCat("unknown flag ", arg));
      }
      invocation.positionals.push_back(arg);
      ++i;
      continue;
    }
    std::pair<std::string, std::string> kv =
        absl::StrSplit(arg.substr(2), absl::MaxSplits('=', 1));
    const std::string name = FlagName(kv.first);
    const bool has_value = arg.find('=') != std::string::npos;
    bool is_bool = false;
    if (request != nullptr) {
      absl::StatusOr<FieldPath> path = ResolveFieldPath(*request, name);
      if (!path.ok()) {
        if (invocation.help) {  // --help wins over a typo
          ++i;
          continue;
        }
        return UsageError(absl::StrCat(path.status().message(),
                                       " (see townhallctl ",
                                       invocation.command.name, " --help)"));
      }
      is_bool = IsBool(*path->back());
    } else if (invocation.command.kind == Kind::kModerate &&
               name == "session_id") {
      is_bool = false;
    } else if (!invocation.help) {
      return UsageError(absl::StrCat("unknown flag --", kv.first));
    }
    std::string value = kv.second;
    if (!has_value) {
      if (is_bool) {
        value = "true";
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return UsageError(absl::StrCat(arg, " needs a value"));
      }
    }
    invocation.fields.emplace_back(name, std::move(value));
    ++i;
  }
  const Kind kind = invocation.command.kind;
  if (!invocation.help && !invocation.positionals.empty() &&
      kind != Kind::kImport && kind != Kind::kModerate) {
    return UsageError(absl::StrCat(
        "unexpected argument \"", invocation.positionals[0],
        "\" (see townhallctl ", invocation.command.name, " --help)"));
  }
  return invocation;
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return LocalError(absl::StrCat("cannot read ", path));
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

absl::StatusOr<Settings> LoadSettings(const Invocation& invocation) {
  std::vector<SettingLayer> layers;
  std::optional<std::string> config = invocation.config;
  if (!config.has_value()) {
    if (const char* env = std::getenv("TOWNHALL_CONFIG")) config = env;
  }
  bool required = config.has_value();
  if (!config.has_value()) {
    if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg) {
      config = absl::StrCat(xdg, "/townhall/config");
    } else if (const char* home = std::getenv("HOME"); home && *home) {
      config = absl::StrCat(home, "/.config/townhall/config");
    }
  }
  if (config.has_value() && (required || fs::exists(*config))) {
    absl::StatusOr<std::string> text = ReadFile(*config);
    if (!text.ok()) return text.status();
    absl::StatusOr<SettingLayer> layer = ParseConfig(*text, *config);
    if (!layer.ok()) return UsageError(layer.status().message());
    layers.push_back(*std::move(layer));
  }
  SettingLayer env;
  if (const char* address = std::getenv("TOWNHALL_ADDRESS")) {
    env["address"] = address;
  }
  if (const char* token = std::getenv("TOWNHALL_TOKEN")) env["token"] = token;
  layers.push_back(std::move(env));
  layers.push_back(invocation.flags);
  absl::StatusOr<Settings> settings = ResolveSettings(layers);
  if (!settings.ok()) {
    return absl::IsNotFound(settings.status())
               ? LocalError(settings.status().message())
               : UsageError(settings.status().message());
  }
  return settings;
}

absl::StatusOr<std::unique_ptr<Message>> BuildRequest(
    const Invocation& invocation, std::istream& in) {
  const Descriptor& type = *invocation.command.method->input_type();
  std::unique_ptr<Message> request(
      google::protobuf::MessageFactory::generated_factory()
          ->GetPrototype(&type)
          ->New());
  if (invocation.data.has_value()) {
    std::string json = *invocation.data;
    if (json == "-") {
      std::stringstream text;
      text << in.rdbuf();
      json = text.str();
    } else if (absl::StartsWith(json, "@")) {
      absl::StatusOr<std::string> text = ReadFile(json.substr(1));
      if (!text.ok()) return text.status();
      json = *std::move(text);
    }
    google::protobuf::util::JsonParseOptions options;
    auto parsed = google::protobuf::util::JsonStringToMessage(
        json, request.get(), options);
    if (!parsed.ok()) {
      return UsageError(absl::StrCat("--data is not a JSON ", type.full_name(),
                                     ": ", std::string(parsed.message())));
    }
  }
  for (const auto& [name, value] : invocation.fields) {
    absl::StatusOr<FieldPath> path = ResolveFieldPath(type, name);
    if (!path.ok()) return UsageError(path.status().message());
    absl::Status set = SetField(*request, *path, value);
    if (!set.ok()) return UsageError(set.message());
  }
  return request;
}

// First cell of a CSV file's header, without a UTF-8 byte order mark.
std::string HeaderStart(const std::string& text) {
  absl::string_view view = text;
  if (absl::StartsWith(view, "\xEF\xBB\xBF")) view.remove_prefix(3);
  view = view.substr(0, view.find_first_of(",\r\n"));
  return std::string(absl::StripAsciiWhitespace(view));
}

// Fills organizations_csv / participants_csv from the positionals. The
// files are sent as read (bytes fields): the server reports a row that is not
// valid UTF-8 as a row error and imports the others.
absl::Status AddCsvFiles(const std::vector<std::string>& positionals,
                         Message& request) {
  std::vector<std::string> files;
  for (const std::string& arg : positionals) {
    std::error_code error;
    if (fs::is_directory(arg, error)) {
      std::vector<std::string> found;
      for (const auto& entry : fs::directory_iterator(arg, error)) {
        if (entry.path().extension() == ".csv") {
          found.push_back(entry.path().string());
        }
      }
      if (found.empty()) {
        return UsageError(absl::StrCat("import: no .csv files in ", arg));
      }
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else {
      files.push_back(arg);
    }
  }
  if (files.empty()) {
    return UsageError(
        "import: give a directory or CSV files (see townhallctl import "
        "--help)");
  }
  const Descriptor& type = *request.GetDescriptor();
  const google::protobuf::Reflection& reflection = *request.GetReflection();
  for (const std::string& file : files) {
    absl::StatusOr<std::string> text = ReadFile(file);
    if (!text.ok()) return text.status();
    const std::string header = HeaderStart(*text);
    const char* field_name = header == "name"           ? "organizations_csv"
                             : header == "display_name" ? "participants_csv"
                                                        : nullptr;
    if (field_name == nullptr) {
      return UsageError(
          absl::StrCat("import: ", file,
                       ": the header must start with name (organizations) or "
                       "display_name (participants)"));
    }
    const FieldDescriptor* field = type.FindFieldByName(field_name);
    if (!reflection.GetString(request, field).empty()) {
      return UsageError(absl::StrCat("import: two ", field_name, " files (",
                                     file, " is the second)"));
    }
    reflection.SetString(&request, field, *std::move(text));
  }
  return absl::OkStatus();
}

int Fail(std::ostream& err, const absl::Status& status) {
  err << "townhallctl: " << status.message() << "\n";
  return absl::IsInvalidArgument(status) ? kExitUsage : kExitLocalError;
}

int ServerError(std::ostream& err, const MethodDescriptor& method,
                const absl::Status& status) {
  err << "townhallctl: " << absl::StatusCodeToString(status.code()) << ": ";
  // gRPC answers a method the server does not host with no message at all.
  if (status.message().empty()) {
    err << "no message from the server for " << method.full_name();
  } else {
    err << status.message();
  }
  err << "\n";
  return kExitServerError;
}

}  // namespace

int RunTownhallctl(const std::vector<std::string>& args, std::istream& in,
                   std::ostream& out, std::ostream& err) {
  absl::StatusOr<Invocation> parsed = Parse(args);
  if (!parsed.ok()) return Fail(err, parsed.status());
  const Invocation& invocation = *parsed;
  const Command& command = invocation.command;
  if (command.kind == Kind::kHelp) {
    out << Help(command.topic);
    return kExitOk;
  }
  if (invocation.help) {
    if (command.kind == Kind::kModerate) {
      out << "Usage: townhallctl moderate SESSION | --session_id=SESSION\n\n"
             "The live moderator console: the question queue with live "
             "votes, the\nspeakers' queue and the active agenda item. Needs "
             "an organizer token or a\njoin token with the moderator role.\n\n"
          << kGlobalHelp;
    } else {
      out << MethodHelp(command);
    }
    return kExitOk;
  }
  absl::StatusOr<Settings> settings = LoadSettings(invocation);
  if (!settings.ok()) return Fail(err, settings.status());

  if (command.kind == Kind::kModerate) {
    std::string session_id;
    for (const auto& [name, value] : invocation.fields) session_id = value;
    if (!invocation.positionals.empty()) session_id = invocation.positionals[0];
    if (session_id.empty() || invocation.positionals.size() > 1) {
      return Fail(err, UsageError("usage: townhallctl moderate SESSION"));
    }
    return RunModerate(settings->client, session_id, err);
  }

  absl::StatusOr<std::unique_ptr<Message>> request =
      BuildRequest(invocation, in);
  if (!request.ok()) return Fail(err, request.status());
  if (command.kind == Kind::kImport) {
    if (absl::Status added = AddCsvFiles(invocation.positionals, **request);
        !added.ok()) {
      return Fail(err, added);
    }
  }
  if (command.kind == Kind::kCalendar) {
    const google::protobuf::Reflection& reflection =
        *(*request)->GetReflection();
    const google::protobuf::OneofDescriptor* target =
        (*request)->GetDescriptor()->FindOneofByName("target");
    if (!reflection.HasOneof(**request, target)) {
      return Fail(err,
                  UsageError("calendar needs --session_id or --series_id"));
    }
  }

  absl::StatusOr<TownhallClient> client =
      TownhallClient::Create(settings->client);
  if (!client.ok()) return Fail(err, LocalError(client.status().message()));

  std::ofstream file;
  if (invocation.output_file.has_value() && *invocation.output_file != "-") {
    file.open(*invocation.output_file, std::ios::binary | std::ios::trunc);
    if (!file) {
      return Fail(err, LocalError(absl::StrCat("cannot write ",
                                               *invocation.output_file)));
    }
  }
  std::ostream& sink = file.is_open() ? file : out;
  const MethodDescriptor& method = *command.method;
  CallOptions call;
  if (invocation.flags.count("timeout")) {
    call.deadline = settings->client.default_deadline;
  }

  if (method.server_streaming()) {
    absl::Status ended = client->Watch(
        method, **request,
        [&](const Message& message) {
          sink << FormatJson(message, /*pretty=*/false) << std::endl;
        },
        call);
    return ended.ok() ? kExitOk : ServerError(err, method, ended);
  }

  std::unique_ptr<Message> response(
      google::protobuf::MessageFactory::generated_factory()
          ->GetPrototype(method.output_type())
          ->New());
  absl::Status status =
      client->CallMethod(method, **request, response.get(), call);
  if (!status.ok()) return ServerError(err, method, status);

  if (command.kind == Kind::kCalendar) {
    const FieldDescriptor* ics =
        response->GetDescriptor()->FindFieldByName("ics");
    const std::string text =
        response->GetReflection()->GetString(*response, ics);
    sink << text;
    if (file.is_open()) {
      size_t events = 0;
      for (size_t at = text.find("BEGIN:VEVENT"); at != std::string::npos;
           at = text.find("BEGIN:VEVENT", at + 1)) {
        ++events;
      }
      out << "wrote " << *invocation.output_file << " (" << events
          << (events == 1 ? " event" : " events") << ")\n";
    }
  } else if (settings->output == "json") {
    sink << FormatJson(*response, /*pretty=*/true) << "\n";
  } else {
    sink << FormatTable(*response);
  }
  sink.flush();
  if (!sink) {
    return Fail(err, LocalError("cannot write the answer"));
  }
  return kExitOk;
}

}  // namespace townhall::ctl
