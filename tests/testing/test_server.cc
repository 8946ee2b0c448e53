#include "tests/testing/test_server.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/ids.h"
#include "services/townhalld/modules.h"
#include "tests/testing/redis_server.h"

namespace townhall::testing {

const KeySet& TestKeys() {
  static const KeySet* keys = new KeySet(
      *KeySet::Parse("test-key 0123456789abcdef0123456789abcdef01234567\n"));
  return *keys;
}

const KeySet& ForeignKeys() {
  static const KeySet* keys = new KeySet(
      *KeySet::Parse("test-key ffffffffffffffffffffffffffffffffffffffff\n"));
  return *keys;
}

std::string SignTestToken(const TokenClaims& claims, const KeySet& keys,
                          const TokenRules& rules) {
  return *SignToken(keys, rules, claims);
}

absl::StatusOr<std::unique_ptr<TestServer>> TestServer::Start(
    const std::string& redis_address) {
  TestServerOptions options;
  options.redis_address = redis_address;
  return Start(std::move(options));
}

absl::StatusOr<std::unique_ptr<TestServer>> TestServer::Start(
    TestServerOptions options) {
  ServerOptions server_options;
  server_options.listen_address = "127.0.0.1:0";
  server_options.redis.address = options.redis_address;
  if (options.redis_address == SharedRedisAddress()) {
    server_options.redis.cluster = SharedTestCluster();
  }
  server_options.redis.command_timeout = options.redis_timeout;
  server_options.redis.max_queue = options.redis_max_queue;
  server_options.redis.pool_size = 4;
  server_options.auth.keys = TestKeys();
  server_options.auth.tokens.audience = kTestAudience;
  server_options.auth.bootstrap_credential = kTestBootstrapCredential;
  server_options.rpc.access_log = false;
  server_options.drain_delay = options.drain_delay;
  server_options.peer_address = options.peer_address;
  server_options.shutdown_grace = options.shutdown_grace;
  server_options.health_interval = options.health_interval;
  server_options.streams = options.streams;
  server_options.tls = options.tls;
  std::vector<ModuleSpec> modules =
      options.modules.empty() ? AllModules() : options.modules;
  auto test_server = std::unique_ptr<TestServer>(new TestServer());
  test_server->client_options_ = std::move(options.client);
  absl::StatusOr<std::unique_ptr<TownhallServer>> server =
      TownhallServer::Start(std::move(server_options), modules);
  if (!server.ok()) return server.status();
  test_server->server_ = *std::move(server);
  return test_server;
}

std::string TestServer::address() const {
  return absl::StrCat("127.0.0.1:", server_->port());
}

ClientOptions TestServer::client_options(const std::string& token) const {
  ClientOptions options = client_options_;
  options.address = address();
  options.token = token;
  return options;
}

TownhallClient TestServer::Client(const std::string& token) const {
  return TownhallClient(client_options(token));
}

absl::StatusOr<std::string> TestServer::NewTenantToken(std::string* tenant_id) {
  TownhallClient client = Client(kTestBootstrapCredential);
  v1::CreateTenantRequest create;
  std::string id = absl::StrCat("t-", NewId());
  create.mutable_tenant()->set_id(id);
  create.mutable_tenant()->set_display_name("Test tenant");
  absl::StatusOr<v1::CreateTenantResponse> created =
      client.CreateTenant(create);
  if (!created.ok()) return created.status();
  v1::IssueTokenRequest issue;
  issue.set_tenant_id(id);
  issue.set_subject("organizer@example.org");
  absl::StatusOr<v1::IssueTokenResponse> issued = client.IssueToken(issue);
  if (!issued.ok()) return issued.status();
  if (tenant_id != nullptr) *tenant_id = id;
  return issued->token();
}

}  // namespace townhall::testing
