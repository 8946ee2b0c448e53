// Test support: an in-process townhall server on a free port, with test
// keys, a bootstrap credential and helpers to create isolated tenants.
//
//   auto server = TestServer::Start(SharedRedisAddress());
//   std::string token = *(*server)->NewTenantToken();
//   TownhallClient client = (*server)->Client(token);
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "clients/cpp/townhall_client.h"
#include "services/common/auth/jwt.h"
#include "services/common/server/server.h"
#include "tests/testing/redis_server.h"

namespace townhall::testing {

inline constexpr char kTestBootstrapCredential[] =
    "test-bootstrap-credential-0123456789abcdef";
inline constexpr char kTestAudience[] = "townhall";

// The key set test servers use ("test-key", a fixed 40-byte secret).
const KeySet& TestKeys();
// Another key set, to forge tokens with a wrong signature.
const KeySet& ForeignKeys();

struct TestServerOptions {
  std::string redis_address;
  // Defaults to AllModules().
  std::vector<ModuleSpec> modules;
  // ServerOptions::peer_address: where services not hosted are reached.
  std::string peer_address;
  absl::Duration drain_delay = absl::ZeroDuration();
  absl::Duration shutdown_grace = absl::Seconds(5);
  absl::Duration redis_timeout = absl::Seconds(1);
  // RedisOptions::max_queue: Redis calls the pool holds before refusing.
  int redis_max_queue = RedisOptions().max_queue;
  absl::Duration health_interval = absl::Milliseconds(100);
  // Caps and lifetime of server streams (production defaults).
  StreamLimits streams;
  // TLS of the server; plaintext when tls.cert_file is empty (see
  // TestCertificates for files).
  ServerTlsOptions tls;
  // Connection options of Client() and NewTenantToken() (tls_ca_file,
  // client certificate, ...); address and token are filled in.
  ClientOptions client;
};

class TestServer {
 public:
  static absl::StatusOr<std::unique_ptr<TestServer>> Start(
      TestServerOptions options);
  static absl::StatusOr<std::unique_ptr<TestServer>> Start(
      const std::string& redis_address);

  std::string address() const;
  TownhallServer& server() { return *server_; }

  // A client for this server with `token`, connecting as
  // TestServerOptions::client says.
  TownhallClient Client(const std::string& token = "") const;
  // The options Client() uses.
  ClientOptions client_options(const std::string& token = "") const;

  // Creates a tenant with a random id and returns an organizer token for it.
  absl::StatusOr<std::string> NewTenantToken(std::string* tenant_id = nullptr);

 private:
  std::unique_ptr<TownhallServer> server_;
  ClientOptions client_options_;
};

// Signs a token with the test keys (or `keys`) and the test servers' token
// rules (or `rules`: another issuer or audience), for auth tests.
std::string SignTestToken(const TokenClaims& claims,
                          const KeySet& keys = TestKeys(),
                          const TokenRules& rules = TokenRules());

}  // namespace townhall::testing
