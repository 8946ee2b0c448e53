#include "clients/cpp/townhallctl/command_line.h"


#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "clients/cpp/townhallctl/output.h"
#include "clients/cpp/townhallctl/request_fields.h"

namespace townhall::ctl {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::MethodDescriptor;
using google::protobuf::ServiceDescriptor;

// Kebab or snake case in, snake case out: --session-id is --session_id.
std::string FlagName(absl::string_view text) {
  return absl::StrReplaceAll(text, {{"-", "_"}});
}

// A field flag given before the command words: whether it takes the next
// word is known once the command is, so it takes one unless that word is
// a command word.
struct EarlyField {
  std::string typed;  // the name as typed, for messages
  std::string name;
  std::optional<std::string> value;
};

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
      const Shortcut* shortcut = command.shortcut;
      out = absl::StrCat(
          "Usage: townhallctl ", command.name,
          shortcut != nullptr ? ShortcutArguments(*shortcut) : "",
          " [--field=value ...] "
          "[--data=JSON]\n\nCalls ",
          method.full_name(),
          method.server_streaming()
              ? " (a server stream: prints each message as a JSON line "
                "as it arrives, until the stream ends or Ctrl-C)"
              : "",
          ".\nRequest ", method.input_type()->full_name(), ", response ",
          method.output_type()->full_name(), ".\n");
      if (shortcut != nullptr && shortcut->file_field != nullptr) {
        absl::StrAppend(&out, "The answer's ", shortcut->file_field,
                        " is the file: written as it is to stdout, or to "
                        "FILE with -o FILE;\n-o json or -o yaml show the "
                        "whole answer.\n");
      }
      absl::StrAppend(&out, "\nFields:\n");
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
  if (first == "import" || first == "calendar" || first == "moderate" ||
      first == "completion") {
    command.name = first;
    command.kind = first == "import"       ? Kind::kImport
                   : first == "calendar"   ? Kind::kCalendar
                   : first == "completion" ? Kind::kCompletion
                                           : Kind::kModerate;
    command.method = first == "import"     ? MethodByFullName(kImportMethod)
                     : first == "calendar" ? MethodByFullName(kCalendarMethod)
                                           : nullptr;
    take(1);
    return command;
  }
  const ServiceDescriptor* service = FindService(first);
  if ((service != nullptr || IsShortcutGroup(first)) && words.size() < 2) {
    if (help) {  // the service's methods, the group's verbs
      command.topic = first;
      words.clear();
      return command;
    }
    return UsageError(absl::StrCat("townhallctl ", first, ": which ",
                                   service ? "method" : "verb",
                                   "? see townhallctl ", first, " --help"));
  }
  // A name that is a service and a shortcut group (`polls`) takes both
  // its methods and its verbs.
  if (service != nullptr &&
      (FindMethod(*service, words[1]) != nullptr || !IsShortcutGroup(first))) {
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
    if (const Shortcut* shortcut = FindShortcut(first, words[1])) {
      command.kind = Kind::kRpc;
      command.method = MethodByFullName(shortcut->method);
      command.shortcut = shortcut;
      command.name = absl::StrCat(first, " ", words[1]);
      take(2);
      return command;
    }
    return UsageError(absl::StrCat(
        "unknown ", service != nullptr ? "method or verb" : "verb", " \"",
        words[1], "\" for ", first, "; see townhallctl ", first, " --help"));
  }
  return UsageError(
      absl::StrCat("unknown command \"", first, "\"; see townhallctl --help"));
}

// Fills the fields of a shortcut's positional ids (`sessions get ID`).
absl::Status TakeIds(Invocation& invocation) {
  const Command& command = invocation.command;
  if (command.shortcut == nullptr || command.shortcut->ids.empty()) {
    return absl::OkStatus();
  }
  const std::vector<const char*>& ids = command.shortcut->ids;
  std::vector<std::string>& positionals = invocation.positionals;
  if (positionals.size() > ids.size()) {
    return UsageError(
        absl::StrCat("unexpected argument \"", positionals[ids.size()],
                     "\" (see townhallctl ", command.name, " --help)"));
  }
  const Descriptor& request = *command.method->input_type();
  for (size_t k = 0; k < positionals.size(); ++k) {
    const absl::StatusOr<FieldPath> id = ResolveFieldPath(request, ids[k]);
    for (const auto& [name, value] : invocation.fields) {
      if (ResolveFieldPath(request, name).value_or(FieldPath()) == *id) {
        return UsageError(absl::StrCat(ids[k], " is given twice: \"",
                                       positionals[k], "\" and --", name));
      }
    }
    invocation.fields.emplace_back(ids[k], positionals[k]);
  }
  positionals.clear();
  return absl::OkStatus();
}

}  // namespace

std::string Help(const Command& command) {
  if (command.kind != Kind::kHelp) return MethodHelp(command);
  if (const ServiceDescriptor* service = FindService(command.topic)) {
    return ServiceHelp(*service);
  }
  if (IsShortcutGroup(command.topic)) return GroupHelp(command.topic);
  return TopHelp();
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
  // Command words come before the first field flag after them; global
  // flags may be anywhere. Whether `--x` takes the next argument depends on
  // the field's type, known once the command is.
  std::vector<std::string> words;
  std::vector<EarlyField> early;
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
      name = "output";
    } else if (absl::StartsWith(arg, "--")) {
      std::pair<std::string, std::string> kv =
          absl::StrSplit(arg.substr(2), absl::MaxSplits('=', 1));
      name = FlagName(kv.first);
      if (arg.find('=') != std::string::npos) value = kv.second;
    } else {
      return false;
    }
    const GlobalFlag* flag = FindGlobalFlag(name);
    if (flag == nullptr) return false;
    ++i;
    if (name == "tls") {  // settings check the value with the config's
      invocation.flags["tls"] = value.value_or("true");
      return true;
    }
    if (!flag->takes_value) {
      bool on = true;
      if (value.has_value() && !absl::SimpleAtob(*value, &on)) {
        return UsageError(absl::StrCat("--", name, ": \"", *value,
                                       "\" is not true or false"));
      }
      if (name == "all") invocation.pages.all = on;
      if (name == "version") invocation.version = on;
      return true;
    }
    if (!value.has_value()) {
      if (i >= args.size()) {
        return UsageError(absl::StrCat(arg, " needs a value"));
      }
      value = args[i++];
    }
    if (arg == "-o" && !ParseOutputFormat(*value).has_value()) {
      invocation.output_file = *value;  // -o FILE, as --output_file
    } else if (name == "config") {
      invocation.config = *value;
    } else if (name == "data") {
      invocation.data = *value;
    } else if (name == "output_file") {
      invocation.output_file = *value;
    } else if (name == "time_zone") {
      invocation.time_zone = *value;
    } else if (name == "columns") {
      invocation.columns = absl::StrSplit(*value, ',', absl::SkipEmpty());
    } else if (name == "limit") {
      int limit = 0;
      if (!absl::SimpleAtoi(*value, &limit) || limit <= 0) {
        return UsageError(
            absl::StrCat("--limit: \"", *value, "\" is not a number of rows"));
      }
      invocation.pages.limit = limit;
    } else {
      invocation.flags[name] = *value;
    }
    return true;
  };
  while (i < args.size()) {
    absl::StatusOr<bool> consumed = global();
    if (!consumed.ok()) return consumed.status();
    if (*consumed) continue;
    const std::string& arg = args[i];
    if (absl::StartsWith(arg, "--") && arg != "--" && words.empty()) {
      std::pair<std::string, std::string> kv =
          absl::StrSplit(arg.substr(2), absl::MaxSplits('=', 1));
      EarlyField field{kv.first, FlagName(kv.first), std::nullopt};
      if (arg.find('=') != std::string::npos) field.value = kv.second;
      ++i;
      if (!field.value.has_value() && i < args.size() &&
          !absl::StartsWith(args[i], "-") && !IsCommandWord(args[i])) {
        field.value = args[i++];
      }
      early.push_back(std::move(field));
      continue;
    }
    if (absl::StartsWith(arg, "-") && arg != "-") break;
    words.push_back(args[i++]);
  }
  if (invocation.version) return invocation;
  absl::StatusOr<Command> command = ResolveCommand(words, invocation.help);
  if (!command.ok()) return command.status();
  invocation.command = *std::move(command);
  invocation.positionals = std::move(words);
  const Descriptor* request = invocation.command.method != nullptr
                                  ? invocation.command.method->input_type()
                                  : nullptr;
  // Whether the field flag `name` is a bool; a usage error for one the
  // command does not have.
  auto is_bool = [&](const std::string& name,
                     const std::string& typed) -> absl::StatusOr<bool> {
    if (request != nullptr) {
      absl::StatusOr<FieldPath> path = ResolveFieldPath(*request, name);
      if (!path.ok()) {
        return UsageError(absl::StrCat(path.status().message(),
                                       " (see townhallctl ",
                                       invocation.command.name, " --help)"));
      }
      return IsBool(*path->back());
    }
    if (invocation.command.kind == Kind::kModerate && name == "session_id") {
      return false;
    }
    if (invocation.help) return false;
    return UsageError(absl::StrCat("unknown flag --", typed));
  };
  for (EarlyField& field : early) {
    absl::StatusOr<bool> bool_field = is_bool(field.name, field.typed);
    if (!bool_field.ok()) {
      if (invocation.help) continue;  // --help wins over a typo
      return bool_field.status();
    }
    if (!field.value.has_value()) {
      if (!*bool_field) {
        return UsageError(absl::StrCat("--", field.typed, " needs a value"));
      }
      field.value = "true";
    }
    invocation.fields.emplace_back(field.name, *field.value);
  }
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
    absl::StatusOr<bool> bool_field = is_bool(name, kv.first);
    if (!bool_field.ok()) {
      if (invocation.help) {
        ++i;
        continue;
      }
      return bool_field.status();
    }
    std::string value = kv.second;
    if (!has_value) {
      if (*bool_field) {
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
  if (invocation.help) return invocation;
  if (absl::Status taken = TakeIds(invocation); !taken.ok()) return taken;
  const Kind kind = invocation.command.kind;
  if (!invocation.positionals.empty() && kind != Kind::kImport &&
      kind != Kind::kModerate && kind != Kind::kCompletion) {
    return UsageError(absl::StrCat(
        "unexpected argument \"", invocation.positionals[0],
        "\" (see townhallctl ", invocation.command.name, " --help)"));
  }
  return invocation;
}

}  // namespace townhall::ctl
