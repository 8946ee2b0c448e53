// `townhallctl moderate <session>`: the live moderator console.
#pragma once

#include <ostream>
#include <string>

#include "clients/cpp/townhall_client.h"

namespace townhall::ctl {

// Runs the moderator console for `session_id` on this terminal and returns
// townhallctl's exit status.
int RunModerate(const ClientOptions& client, const std::string& session_id,
                std::ostream& err);

}  // namespace townhall::ctl
