// What townhallctl can be asked: the services by their command-line names,
// the shortcuts, the global flags, and the help texts built from them. The
// parser (townhallctl.cc) and the completion scripts (completion.h) read
// the same tables, so a shortcut or flag added here is in both.
#pragma once

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"

namespace townhall::ctl {

struct ServiceName {
  const char* name;       // "scheduling"
  const char* full_name;  // "townhall.v1.SchedulingService"
  // A message of the service's file: calling it links the file into the
  // descriptor pool (a static library's unreferenced objects are left out).
  const google::protobuf::Descriptor* (*file_message)();
};

// `<group> <verb>` for the methods organizers use most; the same flags as
// the method itself. `ids` are request fields that may be given as
// positional arguments, in order: `sessions get ID`. A group may have the
// name of a service (`polls`): its verbs then sit beside the methods.
struct Shortcut {
  const char* group;
  const char* verb;
  const char* method;  // full name
  std::vector<const char*> ids;
  // A string field of the answer that is a file (an export's `content`):
  // printed as it is, to stdout or to -o FILE, unless -o json|yaml asks
  // for the whole answer.
  const char* file_field = nullptr;
};

const std::vector<ServiceName>& Services();
const std::vector<Shortcut>& Shortcuts();

// The methods behind `import` and `calendar`.
inline constexpr char kImportMethod[] =
    "townhall.v1.RegistrationService.ImportDirectory";
inline constexpr char kCalendarMethod[] =
    "townhall.v1.SchedulingService.ExportCalendar";

// Words that stand for themselves rather than an RPC.
inline constexpr const char* kSpecialCommands[] = {
    "import", "calendar", "moderate", "completion", "help"};

struct GlobalFlag {
  const char* name;
  bool takes_value;
};
// Flags every command takes, anywhere on the line.
const std::vector<GlobalFlag>& GlobalFlags();
const GlobalFlag* FindGlobalFlag(absl::string_view name);

const google::protobuf::ServiceDescriptor* FindService(absl::string_view name);
std::string ServiceCliName(const google::protobuf::ServiceDescriptor& service);
// `kebab` is the method's name in kebab-case ("list-sessions").
const google::protobuf::MethodDescriptor* FindMethod(
    const google::protobuf::ServiceDescriptor& service,
    absl::string_view kebab);
const google::protobuf::MethodDescriptor* MethodByFullName(
    absl::string_view full_name);
bool IsShortcutGroup(absl::string_view group);
const Shortcut* FindShortcut(absl::string_view group, absl::string_view verb);
// Whether `word` starts a command (a service, a shortcut group, a special
// command).
bool IsCommandWord(absl::string_view word);

// The global flags' help, shared by every help page.
extern const char kGlobalHelp[];
std::string TopHelp();
std::string ServiceHelp(const google::protobuf::ServiceDescriptor& service);
std::string GroupHelp(absl::string_view group);
// What follows `<group> <verb>` on a usage line: the positional ids, and
// `--session_id=SESSION_ID` when the request needs a session that is not
// one of them (`polls get POLL_ID --session_id=SESSION_ID`).
std::string ShortcutArguments(const Shortcut& shortcut);

}  // namespace townhall::ctl
