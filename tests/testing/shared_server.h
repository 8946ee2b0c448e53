// Test support: one in-process TestServer for a whole test binary, on the
// shared Redis (tests isolate themselves by tenant), stopped before gtest
// exits. Include it in exactly one .cc of a test binary.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "tests/testing/redis_server.h"
#include "tests/testing/test_server.h"

namespace townhall::testing {

class ServerEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<TestServer>> server =
        TestServer::Start(SharedRedisAddress());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }
  void TearDown() override { server_.reset(); }

  static TestServer& server() { return *server_; }

 private:
  static inline std::unique_ptr<TestServer> server_;
};

[[maybe_unused]] inline ::testing::Environment* const kServerEnvironment =
    ::testing::AddGlobalTestEnvironment(new ServerEnvironment);

// A fresh tenant on the shared server, with an organizer client.
struct Tenant {
  std::string id;
  std::string token;
  TownhallClient client;
};

inline absl::StatusOr<Tenant> NewTenant() {
  std::string id;
  absl::StatusOr<std::string> token =
      ServerEnvironment::server().NewTenantToken(&id);
  if (!token.ok()) return token.status();
  return Tenant{id, *token, ServerEnvironment::server().Client(*token)};
}

}  // namespace townhall::testing
