// The session cache (services/common/server/session_cache.h) against a real
// server: a scheduling change reaches a cache of another process through the
// feed within the staleness bound, and a caller of this process reads its
// own write at once.
#include "services/common/server/session_cache.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

#include "absl/time/clock.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_server.h"

namespace townhall::testing {
namespace {

constexpr absl::Duration kMaxStaleness = absl::Milliseconds(500);

class SessionCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(server_, TestServer::Start(SharedRedisAddress()));
    ASSERT_OK_AND_ASSIGN(token_, server_->NewTenantToken(&tenant_));
  }

  v1::Session NewSession(int capacity) {
    v1::CreateSessionRequest create;
    v1::Session* s = create.mutable_session();
    s->set_title("Konsul bilan uchrashuv");
    s->set_time_zone("Asia/Tashkent");
    s->set_format(v1::SESSION_FORMAT_ONLINE);
    s->set_capacity(capacity);
    s->mutable_start_time()->set_seconds(
        absl::ToUnixSeconds(absl::Now() + absl::Hours(48)));
    s->mutable_duration()->set_seconds(3600);
    create.set_publish(true);
    absl::StatusOr<v1::CreateSessionResponse> made =
        server_->Client(token_).CreateSession(create);
    EXPECT_TRUE(made.ok()) << made.status();
    return made.ok() ? made->session() : v1::Session();
  }

  std::string NewParticipant(const std::string& name) {
    v1::CreateParticipantRequest create;
    create.mutable_participant()->set_display_name(name);
    absl::StatusOr<v1::CreateParticipantResponse> made =
        server_->Client(token_).CreateParticipant(create);
    EXPECT_TRUE(made.ok()) << made.status();
    return made.ok() ? made->participant().id() : "";
  }

  // A cache as another process has it: only the feed tells it of changes.
  std::unique_ptr<SessionCache> OtherProcessCache() {
    SessionCache::Options options;
    options.max_staleness = kMaxStaleness;
    options.invalidate_in_process = false;
    return std::make_unique<SessionCache>(SharedRedisOptions(), options);
  }

  // Caches the session as SessionDirectory does: ticket, fetch, insert.
  void Fetch(SessionCache& cache, const std::string& id) {
    std::optional<uint64_t> ticket;
    absl::Time give_up = absl::Now() + absl::Seconds(3);
    while (!(ticket = cache.BeginFetch(tenant_)) && absl::Now() < give_up) {
      absl::SleepFor(absl::Milliseconds(5));
    }
    ASSERT_TRUE(ticket.has_value());
    v1::GetSessionRequest get;
    get.set_session_id(id);
    ASSERT_OK_AND_ASSIGN(v1::GetSessionResponse got,
                         server_->Client(token_).GetSession(get));
    cache.Insert(tenant_, got.session(), *ticket);
    ASSERT_TRUE(cache.Get(tenant_, id).has_value());
  }

  // How long until the cache no longer serves the session.
  absl::Duration TimeToForget(SessionCache& cache, const std::string& id,
                              absl::Time since) {
    while (cache.Get(tenant_, id).has_value() &&
           absl::Now() - since < absl::Seconds(5)) {
      absl::SleepFor(absl::Milliseconds(1));
    }
    return absl::Now() - since;
  }

  std::unique_ptr<TestServer> server_;
  std::string tenant_;
  std::string token_;
};

TEST_F(SessionCacheTest, ACancellationReachesAnotherProcessWithinTheBound) {
  std::unique_ptr<SessionCache> cache = OtherProcessCache();
  v1::Session session = NewSession(5);
  Fetch(*cache, session.id());

  absl::Time cancelled = absl::Now();
  v1::CancelSessionRequest cancel;
  cancel.set_session_id(session.id());
  ASSERT_OK(server_->Client(token_).CancelSession(cancel).status());
  EXPECT_LE(TimeToForget(*cache, session.id(), cancelled), kMaxStaleness);

  Fetch(*cache, session.id());
  EXPECT_EQ(cache->Get(tenant_, session.id())->state(),
            v1::SESSION_STATE_CANCELLED);
}

TEST_F(SessionCacheTest, ACapacityChangeReachesAnotherProcessWithinTheBound) {
  std::unique_ptr<SessionCache> cache = OtherProcessCache();
  v1::Session session = NewSession(5);
  Fetch(*cache, session.id());

  absl::Time updated = absl::Now();
  v1::UpdateSessionRequest update;
  update.mutable_session()->set_id(session.id());
  update.mutable_session()->set_capacity(1);
  update.mutable_update_mask()->add_paths("capacity");
  ASSERT_OK(server_->Client(token_).UpdateSession(update).status());
  EXPECT_LE(TimeToForget(*cache, session.id(), updated), kMaxStaleness);

  Fetch(*cache, session.id());
  EXPECT_EQ(cache->Get(tenant_, session.id())->capacity(), 1);
}

TEST_F(SessionCacheTest, RegisterSeesACancellationOfThisProcessAtOnce) {
  v1::Session session = NewSession(5);
  TownhallClient client = server_->Client(token_);
  v1::RegisterRequest reg;
  reg.set_session_id(session.id());
  reg.set_participant_id(NewParticipant("Dilnoza Karimova"));
  ASSERT_OK(client.Register(reg).status());  // caches the session

  v1::CancelSessionRequest cancel;
  cancel.set_session_id(session.id());
  ASSERT_OK(client.CancelSession(cancel).status());
  reg.set_participant_id(NewParticipant("Timur Rashidov"));
  EXPECT_THAT(client.Register(reg),
              HasCode(absl::StatusCode::kFailedPrecondition));
}

}  // namespace
}  // namespace townhall::testing
