#include "clients/cpp/townhallctl/completion.h"

#include <algorithm>
#include <map>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "clients/cpp/townhallctl/commands.h"
#include "clients/cpp/townhallctl/request_fields.h"

namespace townhall::ctl {
namespace {

using google::protobuf::MethodDescriptor;
using google::protobuf::ServiceDescriptor;

// Flag words as completed: "--name=" for a flag that takes a value (no
// space after it), "--name" for one that does not.
std::string FieldFlagWords(const MethodDescriptor& method) {
  std::vector<std::string> words;
  for (const auto& [name, field] : FlagFields(*method.input_type())) {
    words.push_back(absl::StrCat("--", name, IsBool(*field) ? "" : "="));
  }
  return absl::StrJoin(words, " ");
}

// Two POSIX shell functions both shells share: the words that may follow
// the command words so far, and the flags of a command.
std::string SharedFunctions() {
  // The first command words in order (services, then shortcut groups; a
  // group with a service's name is one word), and the words after each:
  // its methods, then its verbs.
  std::vector<std::string> firsts;
  std::map<std::string, std::vector<std::string>> seconds;
  // Method (by full name, for a stable order) -> its command words
  // ("scheduling list-sessions", "sessions list").
  std::map<std::string, std::vector<std::string>> commands;
  for (const ServiceName& s : Services()) {
    const ServiceDescriptor* service = FindService(s.name);
    firsts.push_back(s.name);
    for (int i = 0; i < service->method_count(); ++i) {
      const std::string kebab = KebabCase(service->method(i)->name());
      seconds[s.name].push_back(kebab);
      commands[service->method(i)->full_name()].push_back(
          absl::StrCat("\"", s.name, " ", kebab, "\""));
    }
  }
  std::vector<std::string> groups;
  for (const Shortcut& s : Shortcuts()) {
    if (std::find(groups.begin(), groups.end(), s.group) == groups.end()) {
      groups.push_back(s.group);
      if (FindService(s.group) == nullptr) firsts.push_back(s.group);
    }
    seconds[s.group].push_back(s.verb);
    commands[s.method].push_back(
        absl::StrCat("\"", s.group, " ", s.verb, "\""));
  }
  commands[kImportMethod].push_back("import");
  commands[kCalendarMethod].push_back("calendar");
  std::string top;
  std::string next;
  for (const std::string& first : firsts) {
    absl::StrAppend(&top, first, " ");
    absl::StrAppend(&next, "    ", first, ") echo \"",
                    absl::StrJoin(seconds[first], " "), "\" ;;\n");
  }
  absl::StrAppend(&top, absl::StrJoin(kSpecialCommands, " "));
  std::vector<std::string> globals;
  for (const GlobalFlag& flag : GlobalFlags()) {
    globals.push_back(
        absl::StrCat("--", flag.name, flag.takes_value ? "=" : ""));
  }
  std::string flags;
  for (const auto& [method, names] : commands) {
    absl::StrAppend(&flags, "    ", absl::StrJoin(names, "|"), ") echo \"",
                    FieldFlagWords(*MethodByFullName(method)), "\" ;;\n");
  }
  return absl::StrCat(
      "# The words that may follow the command words \"$1\".\n"
      "_townhallctl_words() {\n"
      "  case \"$1\" in\n"
      "    \"\") echo \"",
      top, "\" ;;\n", next,
      "    completion) echo \"bash zsh\" ;;\n"
      "    help) echo \"",
      absl::StrJoin(firsts, " "),
      "\" ;;\n"
      "  esac\n"
      "}\n\n"
      "# The flags of the command \"$1\": the global ones and its fields.\n"
      "_townhallctl_flags() {\n"
      "  echo \"",
      absl::StrJoin(globals, " "),
      " -o\"\n"
      "  case \"$1\" in\n",
      flags,
      "  esac\n"
      "}\n");
}

// The case pattern of the global flags whose value may be the next word.
std::string ValueFlagPattern() {
  std::vector<std::string> names = {"-o"};
  for (const GlobalFlag& flag : GlobalFlags()) {
    if (flag.takes_value) names.push_back(absl::StrCat("--", flag.name));
  }
  return absl::StrJoin(names, "|");
}

// The loop over the words before the cursor that both shells run:
// command words go to `cmd` (two at most), flags and their values not.
std::string CommandWordsLoop(const char* word) {
  return absl::StrCat(
      "    if ((skip)); then skip=0; continue; fi\n"
      "    case ",
      word,
      " in\n"
      "      --*=* | -h) ;;\n"
      "      ",
      ValueFlagPattern(),
      ") skip=1 ;;\n"
      "      -*) ;;\n"
      "      *) ((n < 2)) && cmd=\"${cmd:+$cmd }",
      word,
      "\"; n=$((n + 1)) ;;\n"
      "    esac\n");
}

}  // namespace

absl::StatusOr<std::string> CompletionScript(const std::string& shell) {
  if (shell == "bash") {
    return absl::StrCat(
        "# townhallctl completion for bash, made by `townhallctl completion "
        "bash`.\n"
        "# Load it with: source <(townhallctl completion bash)\n\n",
        SharedFunctions(),
        "\n_townhallctl() {\n"
        "  local cur=${COMP_WORDS[COMP_CWORD]} cmd=\"\" w skip=0 n=0 next\n"
        "  # The line split at spaces: bash's own words split --flag=value.\n"
        "  local line=${COMP_LINE:0:COMP_POINT} last\n"
        "  local -a args\n"
        "  read -r -a args <<<\"$line\"\n"
        "  last=\"\"\n"
        "  if [[ $line != *\" \" ]] && ((${#args[@]} > 1)); then\n"
        "    last=${args[${#args[@]}-1]}\n"
        "    unset 'args[${#args[@]}-1]'\n"
        "  fi\n"
        "  for w in \"${args[@]:1}\"; do\n",
        CommandWordsLoop("$w"),
        "  done\n"
        "  if [[ $last == -*=* ]]; then\n"
        "    COMPREPLY=()\n"
        "  elif [[ $last == -* ]]; then\n"
        "    COMPREPLY=($(compgen -W \"$(_townhallctl_flags \"$cmd\")\" -- "
        "\"$cur\"))\n"
        "    [[ ${COMPREPLY[0]} == *= ]] && compopt -o nospace\n"
        "  elif ((skip)) || [[ $cmd == import* ]]; then\n"
        "    COMPREPLY=($(compgen -f -- \"$cur\"))\n"
        "  else\n"
        "    next=$(_townhallctl_words \"$cmd\")\n"
        "    COMPREPLY=($(compgen -W \"$next\" -- \"$cur\"))\n"
        "  fi\n"
        "}\n\n"
        "complete -F _townhallctl townhallctl\n");
  }
  if (shell == "zsh") {
    return absl::StrCat(
        "#compdef townhallctl\n"
        "# townhallctl completion for zsh, made by `townhallctl completion "
        "zsh`.\n"
        "# Load it with: source <(townhallctl completion zsh) (after "
        "compinit)\n\n",
        SharedFunctions(),
        "\n_townhallctl() {\n"
        "  local cur=${words[CURRENT]} cmd=\"\" w skip=0 n=0 i\n"
        "  local -a flags next\n"
        "  for ((i = 2; i < CURRENT; i++)); do\n"
        "    w=${words[i]}\n",
        CommandWordsLoop("$w"),
        "  done\n"
        "  if [[ $cur == -*=* ]]; then\n"
        "    _files\n"
        "  elif [[ $cur == -* ]]; then\n"
        "    flags=(${=$(_townhallctl_flags \"$cmd\")})\n"
        "    compadd -S '' -- ${(M)flags:#*=}\n"
        "    compadd -- ${flags:#*=}\n"
        "  elif ((skip)) || [[ $cmd == import* ]]; then\n"
        "    _files\n"
        "  else\n"
        "    next=(${=$(_townhallctl_words \"$cmd\")})\n"
        "    compadd -- $next\n"
        "  fi\n"
        "}\n\n"
        "if (($+functions[compdef])); then\n"
        "  compdef _townhallctl townhallctl\n"
        "else\n"
        "  print -u2 'townhallctl completion: run compinit first'\n"
        "fi\n");
  }
  return absl::InvalidArgumentError(
      absl::StrCat("completion: \"", shell,
                   "\" is not a shell townhallctl completes for "
                   "(bash, zsh)"));
}

}  // namespace townhall::ctl
