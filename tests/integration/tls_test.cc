// TLS and mutual TLS of the gRPC port, with certificates made at test time
// (TestCertificates): clients that do not trust the server's CA, plaintext
// clients and, under mutual TLS, clients without a valid certificate are
// refused; a bad TLS configuration stops the server from starting; the
// townhalld flags wire it all up.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "services/common/ids.h"
#include "services/common/server/server.h"
#include "tests/testing/certificates.h"
#include "tests/testing/child_process.h"
#include "tests/testing/health.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_server.h"
#include "tests/testing/townhalld_process.h"

namespace townhall::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr char kScheduling[] = "townhall.v1.SchedulingService";
// Refused handshakes fail fast; the deadline only bounds a hang.
constexpr absl::Duration kCallDeadline = absl::Seconds(5);

class TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<TestCertificates>> certs =
        TestCertificates::Create();
    if (certs.ok()) {
      certs_ = certs->release();
    } else {
      certs_error_ = new absl::Status(certs.status());
    }
  }
  static void TearDownTestSuite() {
    delete certs_;
    certs_ = nullptr;
  }

  void SetUp() override { ASSERT_NE(certs_, nullptr) << *certs_error_; }

  static const TestCertificates& certs() { return *certs_; }

  static ServerTlsOptions ServerTls() {
    return {.cert_file = certs().server_cert(),
            .key_file = certs().server_key()};
  }
  static ServerTlsOptions MutualTls() {
    ServerTlsOptions tls = ServerTls();
    tls.client_ca_file = certs().ca_cert();
    tls.require_client_cert = true;
    return tls;
  }
  // TLS trusting `ca_file` (the system roots when empty).
  static ClientOptions TlsClient(const std::string& ca_file) {
    ClientOptions options;
    options.tls = true;
    options.tls_ca_file = ca_file;
    return options;
  }
  // Trusts the test CA, no client certificate.
  static ClientOptions TrustingClient() { return TlsClient(certs().ca_cert()); }
  // Trusts the test CA and presents `cert_file`/`key_file`.
  static ClientOptions ClientWithCert(const std::string& cert_file,
                                      const std::string& key_file) {
    ClientOptions options = TlsClient(certs().ca_cert());
    options.tls_cert_file = cert_file;
    options.tls_key_file = key_file;
    return options;
  }
  static ClientOptions ClientWithGoodCert() {
    return ClientWithCert(certs().client_cert(), certs().client_key());
  }

  // Starts a server on the shared Redis; its own Client() (used for the
  // tenant token) connects with `client`.
  static absl::StatusOr<std::unique_ptr<TestServer>> StartServer(
      ServerTlsOptions tls, ClientOptions client) {
    TestServerOptions options;
    options.redis_address = SharedRedisAddress();
    options.tls = std::move(tls);
    options.client = std::move(client);
    return TestServer::Start(std::move(options));
  }

  // Ping through a fresh client with `options` to `server`.
  static absl::Status Ping(const TestServer& server, ClientOptions options,
                           const std::string& token) {
    options.address = server.address();
    options.token = token;
    options.default_deadline = kCallDeadline;
    TownhallClient client(std::move(options));
    v1::PingRequest request;
    request.set_payload("tls");
    absl::StatusOr<v1::PingResponse> response = client.Ping(request);
    if (response.ok() && response->payload() != "tls") {
      return absl::InternalError("Ping echoed the wrong payload");
    }
    return response.status();
  }

 private:
  static inline TestCertificates* certs_ = nullptr;
  static inline absl::Status* certs_error_ = nullptr;
};

// ---- Server TLS --------------------------------------------------------

TEST_F(TlsTest, ClientTrustingTheCaCanCallEveryService) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestServer> server,
                       StartServer(ServerTls(), TrustingClient()));
  // Tenant and token over TLS (TenantService).
  ASSERT_OK_AND_ASSIGN(std::string token, server->NewTenantToken());
  EXPECT_TRUE(Ping(*server, TrustingClient(), token).ok());

  TownhallClient client = server->Client(token);
  v1::CreateSessionRequest create;
  create.mutable_session()->set_title("Open Day over TLS");
  create.mutable_session()->mutable_start_time()->set_seconds(1815000000);
  create.mutable_session()->mutable_duration()->set_seconds(3600);
  create.mutable_session()->set_time_zone("Europe/Berlin");
  ASSERT_OK_AND_ASSIGN(v1::CreateSessionResponse created,
                       client.CreateSession(create));
  v1::GetSessionRequest get;
  get.set_session_id(created.session().id());
  ASSERT_OK_AND_ASSIGN(v1::GetSessionResponse got, client.GetSession(get));
  EXPECT_EQ(got.session().title(), "Open Day over TLS");
}

TEST_F(TlsTest, ClientWithoutTheCaIsRefused) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestServer> server,
                       StartServer(ServerTls(), TrustingClient()));
  ASSERT_OK_AND_ASSIGN(std::string token, server->NewTenantToken());
  ASSERT_TRUE(Ping(*server, TrustingClient(), token).ok());

  // System roots: the test CA is not among them.
  EXPECT_THAT(Ping(*server, TlsClient(""), token),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("certificate verify failed")));
  // Another CA.
  EXPECT_THAT(Ping(*server, TlsClient(certs().other_ca_cert()), token),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("certificate verify failed")));
}

TEST_F(TlsTest, PlaintextClientIsRefused) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestServer> server,
                       StartServer(ServerTls(), TrustingClient()));
  ASSERT_OK_AND_ASSIGN(std::string token, server->NewTenantToken());
  ASSERT_TRUE(Ping(*server, TrustingClient(), token).ok());

  EXPECT_THAT(Ping(*server, ClientOptions(), token),
              HasCode(absl::StatusCode::kUnavailable));
}

TEST_F(TlsTest, ServerNameIsVerified) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestServer> server,
                       StartServer(ServerTls(), TrustingClient()));
  ASSERT_OK_AND_ASSIGN(std::string token, server->NewTenantToken());

  // The certificate names 127.0.0.1, ::1 and localhost.
  ClientOptions localhost = TrustingClient();
  localhost.tls_server_name = "localhost";
  EXPECT_TRUE(Ping(*server, localhost, token).ok());
  ClientOptions elsewhere = TrustingClient();
  elsewhere.tls_server_name = "townhall.example.org";
  EXPECT_THAT(Ping(*server, elsewhere, token),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("townhall.example.org")));
}

TEST_F(TlsTest, HealthAnswersOverTlsOnly) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestServer> server,
                       StartServer(ServerTls(), TrustingClient()));
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<grpc::Channel> channel,
                       MakeChannel(server->client_options()));
  auto health = grpc::health::v1::Health::NewStub(channel);
  auto check = [&](const std::string& service) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + kCallDeadline));
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(service);
    grpc::health::v1::HealthCheckResponse response;
    grpc::Status status = health->Check(&context, request, &response);
    return status.ok() &&
           response.status() == grpc::health::v1::HealthCheckResponse::SERVING;
  };
  absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (!check(kScheduling) && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_TRUE(check(kScheduling));
  EXPECT_TRUE(check(""));
  // The plaintext health helper gets no answer.
  EXPECT_FALSE(CheckServing(server->address(), kScheduling).ok());
}

// ---- Mutual TLS --------------------------------------------------------

TEST_F(TlsTest, MutualTlsAcceptsClientWithCertificateOfTheCa) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestServer> server,
                       StartServer(MutualTls(), ClientWithGoodCert()));
  ASSERT_OK_AND_ASSIGN(std::string token, server->NewTenantToken());
  EXPECT_TRUE(Ping(*server, ClientWithGoodCert(), token).ok());
}

TEST_F(TlsTest, MutualTlsRefusesClientWithoutCertificate) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestServer> server,
                       StartServer(MutualTls(), ClientWithGoodCert()));
  ASSERT_OK_AND_ASSIGN(std::string token, server->NewTenantToken());
  ASSERT_TRUE(Ping(*server, ClientWithGoodCert(), token).ok());

  EXPECT_THAT(Ping(*server, TrustingClient(), token),
              HasCode(absl::StatusCode::kUnavailable));
  EXPECT_THAT(Ping(*server, ClientOptions(), token),
              HasCode(absl::StatusCode::kUnavailable));
}

TEST_F(TlsTest, MutualTlsRefusesClientWithCertificateOfAnotherCa) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestServer> server,
                       StartServer(MutualTls(), ClientWithGoodCert()));
  ASSERT_OK_AND_ASSIGN(std::string token, server->NewTenantToken());
  ASSERT_TRUE(Ping(*server, ClientWithGoodCert(), token).ok());

  EXPECT_THAT(Ping(*server,
                   ClientWithCert(certs().other_client_cert(),
                                  certs().other_client_key()),
                   token),
              HasCode(absl::StatusCode::kUnavailable));
}

TEST_F(TlsTest, OptionalClientCertificateIsVerifiedWhenPresented) {
  ServerTlsOptions tls = ServerTls();
  tls.client_ca_file = certs().ca_cert();  // require_client_cert = false
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestServer> server,
                       StartServer(tls, TrustingClient()));
  ASSERT_OK_AND_ASSIGN(std::string token, server->NewTenantToken());

  EXPECT_TRUE(Ping(*server, TrustingClient(), token).ok());
  EXPECT_TRUE(Ping(*server, ClientWithGoodCert(), token).ok());
  EXPECT_THAT(Ping(*server,
                   ClientWithCert(certs().other_client_cert(),
                                  certs().other_client_key()),
                   token),
              HasCode(absl::StatusCode::kUnavailable));
}

// ---- Configuration errors ----------------------------------------------

TEST_F(TlsTest, ClientWithUnreadableFileFailsEveryCall) {
  ClientOptions options = TrustingClient();
  options.tls_ca_file = certs().dir() + "/missing-ca.pem";
  EXPECT_THAT(TownhallClient::Create(options),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("missing-ca.pem")));
  TownhallClient client(options);
  EXPECT_THAT(client.Ping(v1::PingRequest()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("missing-ca.pem")));
  ClientOptions cert_without_key;
  cert_without_key.tls_cert_file = certs().client_cert();
  EXPECT_THAT(
      MakeChannel(cert_without_key),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("tls_key_file")));
}

struct BadConfig {
  std::string name;
  // Builds the options from the certificates.
  ServerTlsOptions (*tls)(const TestCertificates&);
  std::vector<std::string> message_parts;
};

TEST_F(TlsTest, BadConfigurationStopsStart) {
  ASSERT_OK_AND_ASSIGN(std::string not_pem,
                       certs().WriteFile("not-pem.txt", "hello\n"));
  const std::vector<BadConfig> cases = {
      {"missing key file",
       [](const TestCertificates& c) -> ServerTlsOptions {
         return {.cert_file = c.server_cert(),
                 .key_file = c.dir() + "/missing.key"};
       },
       {"--tls_key_file", "missing.key", "No such file"}},
      {"missing certificate file",
       [](const TestCertificates& c) -> ServerTlsOptions {
         return {.cert_file = c.dir() + "/missing.pem",
                 .key_file = c.server_key()};
       },
       {"--tls_cert_file", "missing.pem", "No such file"}},
      {"missing client CA file",
       [](const TestCertificates& c) -> ServerTlsOptions {
         return {.cert_file = c.server_cert(),
                 .key_file = c.server_key(),
                 .client_ca_file = c.dir() + "/missing-ca.pem",
                 .require_client_cert = true};
       },
       {"--tls_client_ca_file", "missing-ca.pem"}},
      {"key without certificate",
       [](const TestCertificates& c) -> ServerTlsOptions {
         return {.key_file = c.server_key()};
       },
       {"without --tls_cert_file"}},
      {"certificate without key",
       [](const TestCertificates& c) -> ServerTlsOptions {
         return {.cert_file = c.server_cert()};
       },
       {"needs --tls_key_file"}},
      {"client certificates required without a CA",
       [](const TestCertificates& c) -> ServerTlsOptions {
         return {.cert_file = c.server_cert(),
                 .key_file = c.server_key(),
                 .require_client_cert = true};
       },
       {"--tls_require_client_cert needs --tls_client_ca_file"}},
      {"key of another certificate",
       [](const TestCertificates& c) -> ServerTlsOptions {
         return {.cert_file = c.server_cert(), .key_file = c.client_key()};
       },
       {"client.key", "is not the key of", "server.pem"}},
      {"key and certificate swapped",
       [](const TestCertificates& c) -> ServerTlsOptions {
         return {.cert_file = c.server_key(), .key_file = c.server_cert()};
       },
       {"--tls_cert_file", "no PEM certificate"}},
      {"client CA file is not PEM",
       [](const TestCertificates& c) -> ServerTlsOptions {
         return {.cert_file = c.server_cert(),
                 .key_file = c.server_key(),
                 .client_ca_file = c.dir() + "/not-pem.txt"};
       },
       {"--tls_client_ca_file", "not-pem.txt", "no PEM certificate"}},
  };
  for (const BadConfig& bad : cases) {
    SCOPED_TRACE(bad.name);
    absl::StatusOr<std::unique_ptr<TestServer>> server =
        StartServer(bad.tls(certs()), TrustingClient());
    ASSERT_THAT(server, HasCode(absl::StatusCode::kInvalidArgument));
    for (const std::string& part : bad.message_parts) {
      EXPECT_THAT(std::string(server.status().message()), HasSubstr(part));
    }
  }
}

ServerOptions MinimalServerOptions(const std::string& listen_address) {
  ServerOptions options;
  options.listen_address = listen_address;
  options.redis = SharedRedisOptions();
  options.redis.pool_size = 1;
  options.auth.keys = TestKeys();
  options.auth.tokens.audience = kTestAudience;
  options.rpc.access_log = false;
  options.shutdown_grace = absl::Seconds(1);
  return options;
}

TEST_F(TlsTest, PlaintextOnlyOnLoopbackUnlessAllowed) {
  absl::StatusOr<std::unique_ptr<TownhallServer>> refused =
      TownhallServer::Start(MinimalServerOptions("0.0.0.0:0"), {});
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kFailedPrecondition,
                                AllOf(HasSubstr("0.0.0.0:0"),
                                      HasSubstr("--tls_cert_file"))));

  ServerOptions allowed = MinimalServerOptions("0.0.0.0:0");
  allowed.allow_insecure_non_loopback = true;
  absl::StatusOr<std::unique_ptr<TownhallServer>> insecure =
      TownhallServer::Start(std::move(allowed), {});
  EXPECT_TRUE(insecure.ok()) << insecure.status();

  ServerOptions tls = MinimalServerOptions("0.0.0.0:0");
  tls.tls = ServerTls();
  absl::StatusOr<std::unique_ptr<TownhallServer>> secure =
      TownhallServer::Start(std::move(tls), {});
  EXPECT_TRUE(secure.ok()) << secure.status();
}

TEST(IsLoopbackListenAddressTest, AcceptsOnlyLocalAddresses) {
  for (const char* address :
       {"127.0.0.1:50051", "127.1.2.3:0", "localhost:50051", "LOCALHOST:1",
        "[::1]:50051", "unix:/run/townhall.sock", "unix-abstract:townhall"}) {
    EXPECT_TRUE(IsLoopbackListenAddress(address)) << address;
  }
  for (const char* address :
       {"0.0.0.0:50051", "[::]:50051", ":50051", "10.0.0.7:50051",
        "townhall.example.org:50051", "127.0.0.1.example.org:50051",
        "[::ffff:10.0.0.1]:1", "[::1:50051", ""}) {
    EXPECT_FALSE(IsLoopbackListenAddress(address)) << address;
  }
}

// ---- townhalld flags ---------------------------------------------------

class TownhalldTlsTest : public TlsTest {
 protected:
  void SetUp() override {
    TlsTest::SetUp();
    dir_ = certs().dir();
    ASSERT_OK_AND_ASSIGN(
        keys_file_,
        certs().WriteFile("auth-keys",
                          "k1 0123456789abcdef0123456789abcdef01234567\n"));
    ASSERT_OK_AND_ASSIGN(
        bootstrap_file_,
        certs().WriteFile("bootstrap",
                          absl::StrCat(kTestBootstrapCredential, "\n")));
  }

  absl::StatusOr<ChildProcess> Spawn(const std::string& listen,
                                     std::vector<std::string> extra_flags) {
    std::vector<std::string> argv = {
        TOWNHALLD_PATH,
        absl::StrCat("--listen=", listen),
        SharedRedisFlag(),
        absl::StrCat("--auth_key_file=", keys_file_),
        absl::StrCat("--bootstrap_credential_file=", bootstrap_file_),
        "--shutdown_grace=1s",
        "--access_log=false"};
    argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
    return ChildProcess::Spawn(argv);
  }

  std::string dir_;
  std::string keys_file_;
  std::string bootstrap_file_;
};

TEST_F(TownhalldTlsTest, ServesMutualTlsFromFlags) {
  std::string address = absl::StrCat("127.0.0.1:", PickFreePort());
  ASSERT_OK_AND_ASSIGN(
      ChildProcess townhalld,
      Spawn(address, {absl::StrCat("--tls_cert_file=", certs().server_cert()),
                      absl::StrCat("--tls_key_file=", certs().server_key()),
                      absl::StrCat("--tls_client_ca_file=", certs().ca_cert()),
                      "--tls_require_client_cert"}));
  ClientOptions options = ClientWithGoodCert();
  options.address = address;
  options.token = kTestBootstrapCredential;
  options.default_deadline = kCallDeadline;
  v1::CreateTenantRequest create;
  create.mutable_tenant()->set_id(absl::StrCat("t-", NewId()));
  create.mutable_tenant()->set_display_name("TLS test");
  // Until townhalld listens; a fresh channel each time (a channel whose
  // first connect was refused waits out its reconnect backoff).
  absl::StatusOr<v1::CreateTenantResponse> created;
  absl::Time give_up = absl::Now() + absl::Seconds(10);
  do {
    created = TownhallClient(options).CreateTenant(create);
    if (created.ok()) break;
    absl::SleepFor(absl::Milliseconds(50));
  } while (absl::Now() < give_up);
  ASSERT_TRUE(created.ok()) << created.status();

  ClientOptions without_cert = TrustingClient();
  without_cert.address = address;
  without_cert.token = kTestBootstrapCredential;
  without_cert.default_deadline = kCallDeadline;
  EXPECT_THAT(TownhallClient(without_cert).CreateTenant(create),
              HasCode(absl::StatusCode::kUnavailable));

  townhalld.Signal(SIGTERM);
  std::optional<int> exit_code = townhalld.WaitFor(absl::Seconds(10));
  ASSERT_TRUE(exit_code.has_value()) << "townhalld did not exit";
  EXPECT_EQ(*exit_code, 0);
}

TEST_F(TownhalldTlsTest, ExitsOnBadTlsFlags) {
  std::string address = absl::StrCat("127.0.0.1:", PickFreePort());
  const std::vector<std::vector<std::string>> bad_flags = {
      {absl::StrCat("--tls_cert_file=", certs().server_cert()),
       absl::StrCat("--tls_key_file=", dir_, "/missing.key")},
      {absl::StrCat("--tls_cert_file=", certs().server_cert()),
       absl::StrCat("--tls_key_file=", certs().server_key()),
       "--tls_require_client_cert"},
  };
  for (const std::vector<std::string>& flags : bad_flags) {
    SCOPED_TRACE(flags.back());
    ASSERT_OK_AND_ASSIGN(ChildProcess townhalld, Spawn(address, flags));
    std::optional<int> exit_code = townhalld.WaitFor(absl::Seconds(10));
    ASSERT_TRUE(exit_code.has_value()) << "townhalld kept running";
    EXPECT_NE(*exit_code, 0);
  }
}

TEST_F(TownhalldTlsTest, RefusesPlaintextOnNonLoopbackAddress) {
  int port = PickFreePort();
  std::string address = absl::StrCat("0.0.0.0:", port);
  ASSERT_OK_AND_ASSIGN(ChildProcess refused, Spawn(address, {}));
  std::optional<int> exit_code = refused.WaitFor(absl::Seconds(10));
  ASSERT_TRUE(exit_code.has_value()) << "townhalld kept running";
  EXPECT_NE(*exit_code, 0);

  ASSERT_OK_AND_ASSIGN(ChildProcess allowed,
                       Spawn(address, {"--allow_insecure_non_loopback"}));
  EXPECT_TRUE(WaitForHealth(absl::StrCat("127.0.0.1:", port), kScheduling, true,
                            absl::Seconds(10)));
  allowed.Signal(SIGTERM);
  EXPECT_EQ(allowed.WaitFor(absl::Seconds(10)), std::optional<int>(0));
}

}  // namespace
}  // namespace townhall::testing
