// `townhallctl completion bash|zsh`: a completion script made from the
// API's descriptors and townhallctl's own tables (commands.h): services,
// their methods in kebab-case, shortcut words, global flags and each
// command's field flags. A method added to proto/ completes once the
// script is made again.
//
//   source <(townhallctl completion bash)     # ~/.bashrc
//   source <(townhallctl completion zsh)      # ~/.zshrc, after compinit
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace townhall::ctl {

// The script for `shell` ("bash" or "zsh"); INVALID_ARGUMENT otherwise.
absl::StatusOr<std::string> CompletionScript(const std::string& shell);

}  // namespace townhall::ctl
