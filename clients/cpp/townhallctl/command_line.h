// townhallctl's command line: the command words, global flags anywhere
// (also before the command), field flags by the request's descriptor,
// positional ids of shortcuts, and the help page of a command.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "clients/cpp/townhallctl/commands.h"
#include "clients/cpp/townhallctl/paging.h"
#include "clients/cpp/townhallctl/settings.h"
#include "google/protobuf/descriptor.h"

namespace townhall::ctl {

// A usage error carries its own exit status through absl::Status: the
// message is for the user, the code only says which kind.
inline absl::Status UsageError(absl::string_view message) {
  return absl::InvalidArgumentError(message);
}
inline absl::Status LocalError(absl::string_view message) {
  return absl::FailedPreconditionError(message);
}

enum class Kind { kHelp, kRpc, kImport, kCalendar, kModerate, kCompletion };

struct Command {
  Kind kind = Kind::kHelp;
  // For kHelp: the service or shortcut group to explain ("" for all).
  std::string topic;
  // What the user typed, for messages: "sessions list".
  std::string name;
  const google::protobuf::MethodDescriptor* method = nullptr;
  // Set for a shortcut: its positional ids.
  const Shortcut* shortcut = nullptr;
};

struct Invocation {
  Command command;
  bool help = false;
  bool version = false;
  SettingLayer flags;
  std::optional<std::string> config;
  std::optional<std::string> data;
  std::optional<std::string> output_file;
  std::vector<std::string> columns;
  std::optional<std::string> time_zone;
  PageLimits pages;
  // Field flags in order: (name, value).
  std::vector<std::pair<std::string, std::string>> fields;
  std::vector<std::string> positionals;
};

// Reads the command line (without the program name). INVALID_ARGUMENT,
// for the user, when it is not one townhallctl understands.
absl::StatusOr<Invocation> Parse(const std::vector<std::string>& args);

// The help page of the command (its fields and how to call it), or of a
// service or shortcut group or the top one for kHelp.
std::string Help(const Command& command);

}  // namespace townhall::ctl
