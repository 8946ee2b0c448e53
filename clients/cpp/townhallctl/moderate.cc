#include "clients/cpp/townhallctl/moderate.h"

#include "clients/cpp/townhallctl/townhallctl.h"

namespace townhall::ctl {

// The console (clients/cpp/console/, RunModeratorConsole) is not on main
// yet. When it lands, this body becomes
//   return console::RunModeratorConsole(
//       {.client = client, .session_id = session_id});
// and townhallctl links townhall_console.
int RunModerate(const ClientOptions& client, const std::string& session_id,
                std::ostream& err) {
  err << "townhallctl: moderate: the moderator console is not part of this "
         "build yet\n";
  return kExitLocalError;
}

}  // namespace townhall::ctl
