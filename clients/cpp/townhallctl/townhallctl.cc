#include "clients/cpp/townhallctl/townhallctl.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "clients/cpp/townhall_client.h"
#include "clients/cpp/townhallctl/command_line.h"
#include "clients/cpp/townhallctl/commands.h"
#include "clients/cpp/townhallctl/completion.h"
#include "clients/cpp/townhallctl/error_hints.h"
#include "clients/cpp/townhallctl/moderate.h"
#include "clients/cpp/townhallctl/output.h"
#include "clients/cpp/townhallctl/paging.h"
#include "clients/cpp/townhallctl/request_fields.h"
#include "clients/cpp/townhallctl/settings.h"
#include "clients/cpp/townhallctl/viewer.h"
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
                const absl::Status& status, const CallContext& call) {
  err << "townhallctl: " << absl::StatusCodeToString(status.code()) << ": ";
  // gRPC answers a method the server does not host with no message at all.
  if (status.message().empty()) {
    err << "no message from the server for " << method.full_name();
  } else {
    err << status.message();
  }
  err << "\n";
  if (std::string hint = ErrorHint(status, call); !hint.empty()) {
    err << "townhallctl: " << hint << "\n";
  }
  return kExitServerError;
}

CallContext ContextOf(const Settings& settings, const TownhallClient& client) {
  return {.address = settings.client.address,
          .token = settings.client.token,
          .connected = client.channel() != nullptr &&
                       client.channel()->GetState(/*try_to_connect=*/false) ==
                           GRPC_CHANNEL_READY};
}

// Names for the organization ids a table shows: one GetOrganization per
// id. An organization the caller may not read keeps its id; the first
// answer other than NOT_FOUND (no permission, no server) ends the lookups.
absl::flat_hash_map<std::string, std::string> OrganizationNames(
    TownhallClient& client, const std::vector<std::string>& ids,
    const CallOptions& call) {
  absl::flat_hash_map<std::string, std::string> names;
  for (const std::string& id : ids) {
    v1::GetOrganizationRequest request;
    request.set_organization_id(id);
    absl::StatusOr<v1::GetOrganizationResponse> got =
        client.GetOrganization(request, call);
    if (!got.ok()) {
      if (absl::IsNotFound(got.status())) continue;
      break;
    }
    const v1::Organization& organization = got->organization();
    names[id] = organization.display_name().empty()
                    ? organization.name()
                    : organization.display_name();
  }
  return names;
}

// `import` with refused rows ends with its own status, so that a script
// sees that not everything landed.
int ImportStatus(const Message& response, const Message& request,
                 std::ostream& err) {
  const FieldDescriptor* errors =
      response.GetDescriptor()->FindFieldByName("errors");
  const int refused = response.GetReflection()->FieldSize(response, errors);
  if (refused == 0) return kExitOk;
  const bool validate_only = request.GetReflection()->GetBool(
      request, request.GetDescriptor()->FindFieldByName("validate_only"));
  err << "townhallctl: " << refused << (refused == 1 ? " row" : " rows")
      << (validate_only
              ? " would be refused (--validate_only: nothing was imported)\n"
              : " refused; the other rows were imported\n");
  return kExitImportRefused;
}

}  // namespace

int RunTownhallctl(const std::vector<std::string>& args, std::istream& in,
                   std::ostream& out, std::ostream& err) {
  absl::StatusOr<Invocation> parsed = Parse(args);
  if (!parsed.ok()) return Fail(err, parsed.status());
  const Invocation& invocation = *parsed;
  const Command& command = invocation.command;
  if (invocation.version) {
    out << "townhallctl " << TOWNHALL_VERSION << "\n";
    return kExitOk;
  }
  if (command.kind == Kind::kHelp) {
    out << Help(command);
    return kExitOk;
  }
  if (invocation.help) {
    if (command.kind == Kind::kModerate) {
      out << "Usage: townhallctl moderate SESSION | --session_id=SESSION\n\n"
             "The live moderator console: the question queue with live "
             "votes, the\nspeakers' queue and the active agenda item. Needs "
             "an organizer token or a\njoin token with the moderator role.\n\n"
          << kGlobalHelp;
    } else if (command.kind == Kind::kCompletion) {
      out << "Usage: townhallctl completion bash|zsh\n\n"
             "Prints a completion script for the shell: services, methods, "
             "shortcuts and\nflags, made from the API's descriptors. Load it "
             "from ~/.bashrc or ~/.zshrc:\n"
             "  source <(townhallctl completion bash)\n";
    } else {
      out << Help(command);
    }
    return kExitOk;
  }
  if (command.kind == Kind::kCompletion) {
    if (invocation.positionals.size() != 1) {
      return Fail(err, UsageError("usage: townhallctl completion bash|zsh"));
    }
    absl::StatusOr<std::string> script =
        CompletionScript(invocation.positionals[0]);
    if (!script.ok()) return Fail(err, script.status());
    out << *script;
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

  const MethodDescriptor& method = *command.method;
  OutputOptions output{.format = settings->output,
                       .columns = invocation.columns};
  if (absl::Status checked =
          CheckColumns(*method.output_type(), output.columns);
      !checked.ok()) {
    return Fail(err, checked);
  }
  const bool paging = invocation.pages.all || invocation.pages.limit;
  if (paging && !IsPaged(method)) {
    return Fail(err, UsageError(absl::StrCat(
                         "--all and --limit follow the pages of a list; ",
                         method.full_name(), " has none")));
  }
  absl::StatusOr<ViewerZone> zone =
      ResolveViewerZone(invocation.time_zone ? &*invocation.time_zone : nullptr,
                        std::getenv("TZ"), LocalTimeLink());
  if (!zone.ok()) return Fail(err, zone.status());
  output.cells.zone = zone->zone;
  output.cells.zone_name = zone->name;

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
  // A file gets whole rows, like a pipe.
  output.width =
      file.is_open() ? 0 : TerminalWidth(std::getenv("COLUMNS"), STDOUT_FILENO);
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
    return ended.ok()
               ? kExitOk
               : ServerError(err, method, ended, ContextOf(*settings, *client));
  }

  std::unique_ptr<Message> response(
      google::protobuf::MessageFactory::generated_factory()
          ->GetPrototype(method.output_type())
          ->New());
  absl::Status status =
      paging
          ? FetchPages(
                **request,
                [&](const Message& page_request, Message* page) {
                  return client->CallMethod(method, page_request, page, call);
                },
                invocation.pages, response.get())
          : client->CallMethod(method, **request, response.get(), call);
  if (!status.ok()) {
    return ServerError(err, method, status, ContextOf(*settings, *client));
  }

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
  } else if (const Shortcut* shortcut = command.shortcut;
             shortcut != nullptr && shortcut->file_field != nullptr &&
             (output.format == OutputFormat::kTable ||
              output.format == OutputFormat::kWide)) {
    // An export: the file itself, as `calendar` writes its .ics.
    const FieldDescriptor* field =
        response->GetDescriptor()->FindFieldByName(shortcut->file_field);
    const std::string text =
        response->GetReflection()->GetString(*response, field);
    sink << text;
    if (file.is_open()) {
      out << "wrote " << *invocation.output_file << " (" << text.size()
          << (text.size() == 1 ? " byte" : " bytes") << ")\n";
    }
  } else {
    output.cells.organization_names = OrganizationNames(
        *client, OrganizationIdsToName(*response, output), call);
    absl::StatusOr<std::string> text = FormatAnswer(*response, output);
    if (!text.ok()) return Fail(err, text.status());
    sink << *text;
  }
  sink.flush();
  if (!sink) {
    return Fail(err, LocalError("cannot write the answer"));
  }
  if (command.kind == Kind::kImport) {
    return ImportStatus(*response, **request, err);
  }
  return kExitOk;
}

}  // namespace townhall::ctl
