// townhall-moderate: the moderator console on its own, until townhallctl's
// `moderate` subcommand (which calls the same RunModeratorConsole) is there.
//
//   townhall-moderate --server=127.0.0.1:50051 --token=$TOKEN <session>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "clients/cpp/console/moderator_console.h"

ABSL_FLAG(std::string, server, "127.0.0.1:50051", "townhalld address.");
ABSL_FLAG(std::string, token, "",
          "Organizer token or a moderator's join token (default: "
          "$TOWNHALL_TOKEN).");
ABSL_FLAG(bool, tls, false, "Connect with TLS.");
ABSL_FLAG(std::string, tls_ca_file, "",
          "CA certificates of the server (PEM); implies --tls.");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "the live moderator console\n  townhall-moderate [--server=host:port] "
      "[--token=...] <session>");
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() != 2) {
    std::fprintf(stderr, "usage: townhall-moderate [flags] <session>\n");
    return 2;
  }
  townhall::console::ConsoleOptions options;
  options.client.address = absl::GetFlag(FLAGS_server);
  options.client.token = absl::GetFlag(FLAGS_token);
  if (options.client.token.empty()) {
    const char* env = std::getenv("TOWNHALL_TOKEN");
    if (env != nullptr) options.client.token = env;
  }
  options.client.tls = absl::GetFlag(FLAGS_tls);
  options.client.tls_ca_file = absl::GetFlag(FLAGS_tls_ca_file);
  options.session_id = args[1];
  return townhall::console::RunModeratorConsole(options);
}
