// The live moderator console (`townhallctl moderate <session>`): the
// question queue (pending, approved, pinned) with live vote counts, the
// speakers' queue and the active agenda item, the session's polls with
// their live tallies, with keys to approve (also after editing the text),
// reject, pin, mark answered, merge, archive, undo, call the next speaker,
// lower a hand, and open, close and publish a poll (`?` lists them). It
// follows WatchQueue, WatchAgenda and WatchPolls on their own threads,
// reconnects by itself and resumes after the last version it saw, so no
// change is lost.
//
//   townhall::console::ConsoleOptions options;
//   options.client = {.address = "127.0.0.1:50051", .token = token};
//   options.session_id = "ses-123";
//   return townhall::console::RunModeratorConsole(options);
#pragma once

#include <ostream>
#include <string>

#include "absl/time/time.h"
#include "clients/cpp/townhall_client.h"

namespace townhall::console {

struct ConsoleOptions {
  // Server and credentials: an organizer token, or a join token with the
  // moderator role in the session.
  townhall::ClientOptions client;
  std::string session_id;
  // Redraws at most this often: a busy session brings many changes a
  // second, the screen does not need them all.
  absl::Duration redraw_interval = absl::Milliseconds(50);
  // Longest wait between attempts to get a lost stream back.
  absl::Duration max_reconnect_backoff = absl::Seconds(5);
  // Where a reason not to start goes; stderr when null.
  std::ostream* err = nullptr;
};

// Runs the console on the calling thread's terminal until the moderator
// quits (q) or SIGINT/SIGTERM arrives. Returns the process exit status: 0
// after quitting, 1 when it cannot start (no terminal, no session id, an
// unreadable TLS file), with the reason on `err`. Server errors never end
// it: they are shown in the status line.
int RunModeratorConsole(const ConsoleOptions& options);

}  // namespace townhall::console
