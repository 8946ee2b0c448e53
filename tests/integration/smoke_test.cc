#include <gtest/gtest.h>

#include "tests/testing/redis_server.h"
#include "tests/testing/test_server.h"

namespace townhall::testing {
namespace {

TEST(Smoke, CreateAndGetSession) {
  auto server = TestServer::Start(SharedRedisAddress());
  ASSERT_TRUE(server.ok()) << server.status();
  absl::StatusOr<std::string> token = (*server)->NewTenantToken();
  ASSERT_TRUE(token.ok()) << token.status();
  TownhallClient client = (*server)->Client(*token);
  v1::CreateSessionRequest create;
  create.mutable_session()->set_title("Dialogue with compatriots");
  create.mutable_session()->mutable_start_time()->set_seconds(1815000000);
  create.mutable_session()->mutable_duration()->set_seconds(7200);
  create.mutable_session()->set_time_zone("Asia/Tashkent");
  auto created = client.CreateSession(create);
  ASSERT_TRUE(created.ok()) << created.status();
  v1::GetSessionRequest get;
  get.set_session_id(created->session().id());
  auto got = client.GetSession(get);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->session().title(), "Dialogue with compatriots");
  EXPECT_EQ(got->session().state(), v1::SESSION_STATE_DRAFT);
  EXPECT_EQ(got->session().etag(), "1");
}

}  // namespace
}  // namespace townhall::testing
