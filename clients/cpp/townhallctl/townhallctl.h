// townhallctl: every RPC of the townhall API from the command line, for
// organizers and moderators, plus shortcuts for the common chores.
//
//   townhallctl scheduling list-sessions --states=SCHEDULED
//   townhallctl questions approve-question --session_id=S --question_id=Q
//   townhallctl sessions list --all -o wide
//   townhallctl sessions get 0b2c6a1e -o yaml
//   townhallctl import tests/data
//   townhallctl calendar --series_id=X -o dialogue.ics
//
// `<service> <method>` reaches any method through the API's descriptors
// (methods in kebab-case); the request comes from flags named after its
// fields (request_fields.h) and/or --data JSON. See `townhallctl --help`.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace townhall::ctl {

// Exit statuses: scripts can tell "you called it wrong" from "the server
// said no".
inline constexpr int kExitOk = 0;
// The server answered with an error (or could not be reached); its code
// and message are on stderr.
inline constexpr int kExitServerError = 1;
// Unknown command or flag, bad JSON, a missing value.
inline constexpr int kExitUsage = 2;
// Something on this machine: an unreadable file, TLS files.
inline constexpr int kExitLocalError = 3;
// `import` refused some rows (the others landed); the rows are in the
// answer, their count on stderr.
inline constexpr int kExitImportRefused = 4;

// Runs townhallctl with `args` (without the program name), reading --data -
// from `in`. Settings come also from the environment (settings.h).
int RunTownhallctl(const std::vector<std::string>& args, std::istream& in,
                   std::ostream& out, std::ostream& err);

}  // namespace townhall::ctl
