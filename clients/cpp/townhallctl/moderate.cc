#include "clients/cpp/townhallctl/moderate.h"

#include "clients/cpp/console/moderator_console.h"
#include "clients/cpp/townhallctl/townhallctl.h"

namespace townhall::ctl {

int RunModerate(const ClientOptions& client, const std::string& session_id,
                std::ostream& err) {
  // The console's only failures are local: no terminal, unreadable TLS
  // files. Server errors stay on its status line.
  int status = console::RunModeratorConsole(
      {.client = client, .session_id = session_id, .err = &err});
  return status == 0 ? kExitOk : kExitLocalError;
}

}  // namespace townhall::ctl
