#include "tests/testing/townhalld_process.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "clients/cpp/townhall_client.h"
#include "services/common/ids.h"
#include "services/common/status.h"
#include "tests/testing/health.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/test_server.h"

namespace townhall::testing {

TownhalldFleet::~TownhalldFleet() {
  servers_.clear();  // ChildProcess stops each
  if (!dir_.empty()) std::filesystem::remove_all(dir_);
}

std::string SharedRedisFlag() {
  if (const char* seeds = std::getenv("TOWNHALL_TEST_REDIS_CLUSTER");
      seeds != nullptr && *seeds) {
    return absl::StrCat("--redis_cluster=", seeds);
  }
  return absl::StrCat("--redis=", SharedRedisAddress());
}

absl::Status TownhalldFleet::Start(const std::string& path, int count,
                                   absl::string_view health_service,
                                   const std::string& redis_address,
                                   bool cluster) {
  dir_ = std::filesystem::temp_directory_path() /
         absl::StrCat("townhall-fleet-", getpid(), "-", NewId());
  std::filesystem::create_directories(dir_);
  health_service_ = std::string(health_service);
  // The secret of TestKeys().
  std::ofstream(dir_ / "keys")
      << "test-key 0123456789abcdef0123456789abcdef01234567\n";
  std::ofstream(dir_ / "bootstrap") << kTestBootstrapCredential << "\n";
  for (int i = 0; i < count; ++i) {
    Server server;
    server.address = absl::StrCat("127.0.0.1:", PickFreePort());
    server.argv = {
        path,
        absl::StrCat("--listen=", server.address),
        redis_address.empty()
            ? SharedRedisFlag()
            : absl::StrCat(cluster ? "--redis_cluster=" : "--redis=",
                           redis_address),
        absl::StrCat("--auth_key_file=", (dir_ / "keys").string()),
        absl::StrCat("--bootstrap_credential_file=",
                     (dir_ / "bootstrap").string()),
        "--redis_pool_size=8",
        "--shutdown_grace=2s",
        "--access_log=false"};
    TH_RETURN_IF_ERROR(Launch(server));
    servers_.push_back(std::move(server));
  }
  return absl::OkStatus();
}

absl::Status TownhalldFleet::Restart(int i) {
  Kill(i);
  return Launch(servers_[i]);
}

absl::Status TownhalldFleet::Launch(Server& server) {
  absl::StatusOr<ChildProcess> process = ChildProcess::Spawn(server.argv);
  if (!process.ok()) return process.status();
  server.process = *std::move(process);
  if (!WaitForHealth(server.address, health_service_, true,
                     absl::Seconds(15))) {
    return absl::UnavailableError(absl::StrCat("townhalld on ", server.address,
                                               " did not become healthy"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> TownhalldFleet::CreateTenant(
    const std::string& tenant_id) {
  TownhallClient operator_client(
      {.address = address(0), .token = kTestBootstrapCredential});
  v1::CreateTenantRequest tenant;
  tenant.mutable_tenant()->set_id(tenant_id);
  tenant.mutable_tenant()->set_display_name(
      absl::StrCat("Test tenant ", tenant_id));
  absl::Status created = operator_client.CreateTenant(tenant).status();
  if (!created.ok()) return created;
  v1::IssueTokenRequest issue;
  issue.set_tenant_id(tenant_id);
  issue.set_subject("organizer@example.org");
  absl::StatusOr<v1::IssueTokenResponse> token =
      operator_client.IssueToken(issue);
  if (!token.ok()) return token.status();
  return token->token();
}

}  // namespace townhall::testing
