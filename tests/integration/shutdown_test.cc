// Graceful shutdown of the real townhalld binary: on SIGTERM, health turns
// NOT_SERVING first, in-flight calls complete, and the process exits 0
// within its drain delay plus grace period.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/redis/redis_connection.h"
#include "tests/testing/child_process.h"
#include "tests/testing/health.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/test_server.h"

namespace townhall::testing {
namespace {

constexpr char kScheduling[] = "townhall.v1.SchedulingService";

TEST(Shutdown, SigtermDrainsInFlightCallsAndExits) {
  auto redis = RedisServer::Start();
  ASSERT_TRUE(redis.ok()) << redis.status();
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              absl::StrCat("townhall-shutdown-", getpid());
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "keys")
      << "k1 0123456789abcdef0123456789abcdef01234567\n";
  std::ofstream(dir / "bootstrap") << kTestBootstrapCredential << "\n";
  int port = PickFreePort();
  std::string address = absl::StrCat("127.0.0.1:", port);
  auto townhalld = ChildProcess::Spawn(
      {TOWNHALLD_PATH, absl::StrCat("--listen=", address),
       absl::StrCat("--redis=", (*redis)->address()),
       absl::StrCat("--auth_key_file=", (dir / "keys").string()),
       absl::StrCat("--bootstrap_credential_file=",
                    (dir / "bootstrap").string()),
       "--drain_delay=500ms", "--shutdown_grace=5s", "--access_log=false"});
  ASSERT_TRUE(townhalld.ok()) << townhalld.status();
  ASSERT_TRUE(WaitForHealth(address, kScheduling, true, absl::Seconds(10)));

  TownhallClient operator_client(
      {.address = address, .token = kTestBootstrapCredential});
  v1::CreateTenantRequest tenant;
  tenant.mutable_tenant()->set_id("shutdown-test");
  tenant.mutable_tenant()->set_display_name("Shutdown test");
  ASSERT_TRUE(operator_client.CreateTenant(tenant).ok());
  v1::IssueTokenRequest issue;
  issue.set_tenant_id("shutdown-test");
  issue.set_subject("organizer");
  auto token = operator_client.IssueToken(issue);
  ASSERT_TRUE(token.ok()) << token.status();
  TownhallClient client({.address = address, .token = token->token()});
  v1::CreateSessionRequest create;
  create.mutable_session()->set_title("Open Day");
  create.mutable_session()->mutable_start_time()->set_seconds(1815000000);
  create.mutable_session()->mutable_duration()->set_seconds(3600);
  create.mutable_session()->set_time_zone("Europe/Berlin");
  auto session = client.CreateSession(create);
  ASSERT_TRUE(session.ok()) << session.status();

  // Make Redis slow so that a call is certainly in flight at SIGTERM.
  std::thread sleeper([&] {
    RedisConnection raw(
        {.address = (*redis)->address(), .command_timeout = absl::Seconds(5)});
    raw.set_deadline(absl::Now() + absl::Seconds(5));
    (void)raw.Command({"DEBUG", "SLEEP", "1.5"});
  });
  absl::SleepFor(absl::Milliseconds(200));
  absl::StatusOr<v1::GetSessionResponse> in_flight;
  std::thread caller([&] {
    v1::GetSessionRequest get;
    get.set_session_id(session->session().id());
    in_flight = client.GetSession(get, {.deadline = absl::Seconds(10)});
  });
  absl::SleepFor(absl::Milliseconds(200));

  absl::Time sigterm_at = absl::Now();
  townhalld->Signal(SIGTERM);
  EXPECT_TRUE(WaitForHealth(address, kScheduling, false, absl::Seconds(2)))
      << "health must say NOT_SERVING before the server stops";
  caller.join();
  sleeper.join();
  EXPECT_TRUE(in_flight.ok())
      << "in-flight call was not completed: " << in_flight.status();

  std::optional<int> exit_code = townhalld->WaitFor(absl::Seconds(10));
  ASSERT_TRUE(exit_code.has_value()) << "townhalld did not exit";
  EXPECT_EQ(*exit_code, 0);
  // Drain delay (0.5 s) + grace (5 s) bound the shutdown.
  EXPECT_LT(absl::Now() - sigterm_at, absl::Seconds(6));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace townhall::testing
