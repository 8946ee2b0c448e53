// Services hosted by different processes: RegistrationService alone reaches
// SchedulingService through --peer_address (as `townhall-registration` does
// in production), and fails clearly when it cannot.
#include <gtest/gtest.h>

#include <memory>

#include "services/registration/registration_service.h"
#include "services/scheduling/scheduling_service.h"
#include "services/tenancy/tenant_service.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_server.h"

namespace townhall::testing {
namespace {

class SplitServicesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TestServerOptions scheduling;
    scheduling.redis_address = SharedRedisAddress();
    scheduling.modules = {tenancy::TenantModule(),
                          scheduling::SchedulingModule()};
    ASSERT_OK_AND_ASSIGN(scheduling_, TestServer::Start(scheduling));
    ASSERT_OK_AND_ASSIGN(token_, scheduling_->NewTenantToken());
  }

  absl::StatusOr<std::unique_ptr<TestServer>> StartRegistration(
      const std::string& peer) {
    TestServerOptions options;
    options.redis_address = SharedRedisAddress();
    options.modules = {registration::RegistrationModule()};
    options.peer_address = peer;
    return TestServer::Start(options);
  }

  std::string NewSession() {
    v1::CreateSessionRequest create;
    v1::Session* s = create.mutable_session();
    s->set_title("Videokonferensiya");
    s->set_time_zone("Asia/Tashkent");
    s->set_format(v1::SESSION_FORMAT_ONLINE);
    s->set_capacity(1);
    s->mutable_start_time()->set_seconds(
        absl::ToUnixSeconds(absl::Now() + absl::Hours(48)));
    s->mutable_duration()->set_seconds(3600);
    create.set_publish(true);
    absl::StatusOr<v1::CreateSessionResponse> made =
        scheduling_->Client(token_).CreateSession(create);
    EXPECT_TRUE(made.ok()) << made.status();
    return made.ok() ? made->session().id() : "";
  }

  std::unique_ptr<TestServer> scheduling_;
  std::string token_;
};

TEST_F(SplitServicesTest, RegistrationAsksSchedulingThroughThePeerAddress) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestServer> registration,
                       StartRegistration(scheduling_->address()));
  TownhallClient client = registration->Client(token_);
  v1::CreateParticipantRequest person;
  person.mutable_participant()->set_display_name("Aziza Yoʻldosheva");
  ASSERT_OK_AND_ASSIGN(v1::CreateParticipantResponse a,
                       client.CreateParticipant(person));
  person.mutable_participant()->set_display_name("Bobur Gʻofurov");
  ASSERT_OK_AND_ASSIGN(v1::CreateParticipantResponse b,
                       client.CreateParticipant(person));
  std::string session = NewSession();

  v1::RegisterRequest reg;
  reg.set_session_id(session);
  reg.set_participant_id(a.participant().id());
  ASSERT_OK_AND_ASSIGN(v1::RegisterResponse first, client.Register(reg));
  EXPECT_EQ(first.registration().status(), v1::REGISTRATION_STATUS_CONFIRMED);
  // The capacity (1) came from the scheduling process.
  reg.set_participant_id(b.participant().id());
  ASSERT_OK_AND_ASSIGN(v1::RegisterResponse second, client.Register(reg));
  EXPECT_EQ(second.registration().status(), v1::REGISTRATION_STATUS_WAITLISTED);
  // A session that does not exist over there is NOT_FOUND here.
  reg.set_session_id("nosuchsession");
  EXPECT_THAT(client.Register(reg), HasCode(absl::StatusCode::kNotFound));
}

TEST_F(SplitServicesTest, WithoutAPeerSessionCallsAreUnavailable) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestServer> registration,
                       StartRegistration(""));
  TownhallClient client = registration->Client(token_);
  v1::CreateParticipantRequest person;
  person.mutable_participant()->set_display_name("Aziza Yoʻldosheva");
  ASSERT_OK_AND_ASSIGN(v1::CreateParticipantResponse a,
                       client.CreateParticipant(person));
  v1::RegisterRequest reg;
  reg.set_session_id(NewSession());
  reg.set_participant_id(a.participant().id());
  EXPECT_THAT(client.Register(reg), HasCode(absl::StatusCode::kUnavailable));
  // Directory calls need no peer.
  EXPECT_TRUE(client.ListParticipants(v1::ListParticipantsRequest()).ok());
}

}  // namespace
}  // namespace townhall::testing
