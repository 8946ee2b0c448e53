// Server streams (WatchQueue, WatchAgenda) end when their credential stops
// being valid (registration cancelled or role changed, API key revoked,
// token expired) and when their lifetime is over, and are capped per
// credential and per process (services/common/server/stream_registry.h).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/ids.h"
#include "tests/integration/agenda/agenda_test_util.h"
#include "tests/integration/questions/questions_client.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_server.h"

namespace townhall::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

// The revocation list follows the tenants' revocation streams within a
// round trip, and the registry checks open streams every
// kStreamCheckInterval: 5 s is generous.
constexpr absl::Duration kRevocationBound = absl::Seconds(5);

// The stream kinds every test runs over.
enum class Kind { kQueue, kAgenda };

std::string KindName(Kind kind) {
  return kind == Kind::kQueue ? "WatchQueue" : "WatchAgenda";
}

// One open stream of either kind.
class Watch {
 public:
  virtual ~Watch() = default;
  // True once the first message (the snapshot) arrived.
  virtual bool Opened() = 0;
  // The stream's status once it ended, or DEADLINE_EXCEEDED.
  virtual absl::StatusOr<grpc::Status> Ended(absl::Duration timeout) = 0;
  virtual void Cancel() = 0;
};

template <typename Reader>
class WatchOf final : public Watch {
 public:
  template <typename... Args>
  explicit WatchOf(Args&&... args) : reader_(std::forward<Args>(args)...) {}
  bool Opened() override { return reader_.WaitFor(1).size() == 1; }
  absl::StatusOr<grpc::Status> Ended(absl::Duration timeout) override {
    return reader_.Ended(timeout);
  }
  void Cancel() override { reader_.Cancel(); }

 private:
  Reader reader_;
};

// Waits until `watch` ends: its status, or DEADLINE_EXCEEDED when it stays
// open for `timeout`.
absl::Status EndOf(Watch& watch, absl::Duration timeout) {
  absl::StatusOr<grpc::Status> ended = watch.Ended(timeout);
  if (!ended.ok()) return absl::DeadlineExceededError("still open");
  return absl::Status(static_cast<absl::StatusCode>(ended->error_code()),
                      ended->error_message());
}

class StreamLimitsTest : public ::testing::Test {
 protected:
  // Starts a server with `limits` (no lifetime unless given) and a tenant
  // with a live session on it.
  void Start(StreamLimits limits = {.max_lifetime = absl::ZeroDuration()}) {
    TestServerOptions options;
    options.redis_address = SharedRedisAddress();
    options.streams = limits;
    ASSERT_OK_AND_ASSIGN(server_, TestServer::Start(options));
    ASSERT_OK_AND_ASSIGN(organizer_token_,
                         server_->NewTenantToken(&tenant_id_));
    organizer_ =
        std::make_unique<TownhallClient>(server_->Client(organizer_token_));
    ASSERT_OK_AND_ASSIGN(v1::Session session, NewQuestionsSession(*organizer_));
    session_id_ = session.id();
  }

  // Opens a stream of `kind` on the session with `token`.
  std::unique_ptr<Watch> Open(Kind kind, const std::string& token) {
    if (kind == Kind::kQueue) {
      return std::make_unique<WatchOf<QueueWatcher>>(organizer_->channel(),
                                                     token, session_id_);
    }
    return std::make_unique<WatchOf<WatchReader>>(organizer_->channel(), token,
                                                  session_id_);
  }

  // A registered participant with a join token from IssueJoinToken.
  absl::StatusOr<Member> NewParticipant() {
    return NewMember(*organizer_, session_id_, "Dilnoza");
  }

  // An API key created by the organizer (revocable), able to watch.
  absl::StatusOr<v1::CreateApiKeyResponse> NewApiKey() {
    v1::CreateApiKeyRequest request;
    request.mutable_api_key()->set_display_name(
        absl::StrCat("portal ", NewId()));
    request.mutable_api_key()->add_scopes(v1::API_SCOPE_READ_SCHEDULE);
    return organizer_->CreateApiKey(request);
  }

  // An organizer token of the tenant for `subject`, expiring at `expiry`.
  std::string OrganizerToken(const std::string& subject,
                             absl::Time expiry = absl::Now() +
                                                 absl::Hours(1)) const {
    return SignTestToken({.tenant_id = tenant_id_,
                          .subject = subject,
                          .role = Role::kOrganizer,
                          .issue_time = absl::Now(),
                          .expire_time = expiry});
  }

  std::unique_ptr<TestServer> server_;
  std::string tenant_id_;
  std::string organizer_token_;
  std::unique_ptr<TownhallClient> organizer_;
  std::string session_id_;
};

TEST_F(StreamLimitsTest, StreamsEndWhenTheRegistrationIsCancelled) {
  Start();
  for (Kind kind : {Kind::kQueue, Kind::kAgenda}) {
    SCOPED_TRACE(KindName(kind));
    ASSERT_OK_AND_ASSIGN(Member member, NewParticipant());
    std::unique_ptr<Watch> watch = Open(kind, member.token);
    ASSERT_TRUE(watch->Opened());
    v1::CancelRegistrationRequest cancel;
    cancel.set_session_id(session_id_);
    cancel.set_participant_id(member.participant_id);
    ASSERT_OK(organizer_->CancelRegistration(cancel).status());
    EXPECT_THAT(
        EndOf(*watch, kRevocationBound),
        StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("revoked")));
  }
}

TEST_F(StreamLimitsTest, StreamsEndWhenTheRoleChanges) {
  Start();
  for (Kind kind : {Kind::kQueue, Kind::kAgenda}) {
    SCOPED_TRACE(KindName(kind));
    ASSERT_OK_AND_ASSIGN(Member member, NewParticipant());
    std::unique_ptr<Watch> watch = Open(kind, member.token);
    ASSERT_TRUE(watch->Opened());
    v1::SetRoleRequest set_role;
    set_role.set_session_id(session_id_);
    set_role.set_participant_id(member.participant_id);
    set_role.set_role(v1::SESSION_ROLE_OBSERVER);
    ASSERT_OK(organizer_->SetRole(set_role).status());
    EXPECT_THAT(
        EndOf(*watch, kRevocationBound),
        StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("revoked")));
  }
}

TEST_F(StreamLimitsTest, StreamsEndWhenTheApiKeyIsRevoked) {
  Start();
  for (Kind kind : {Kind::kQueue, Kind::kAgenda}) {
    SCOPED_TRACE(KindName(kind));
    ASSERT_OK_AND_ASSIGN(v1::CreateApiKeyResponse key, NewApiKey());
    std::unique_ptr<Watch> watch = Open(kind, key.key());
    ASSERT_TRUE(watch->Opened());
    v1::RevokeApiKeyRequest revoke;
    revoke.set_api_key_id(key.api_key().id());
    ASSERT_OK(organizer_->RevokeApiKey(revoke).status());
    EXPECT_THAT(
        EndOf(*watch, kRevocationBound),
        StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("revoked")));
  }
}

TEST_F(StreamLimitsTest, StreamsEndWhenTheTokenExpires) {
  Start();
  // A join token on one stream kind, an organizer token on the other.
  const Kind kinds[] = {Kind::kQueue, Kind::kAgenda};
  for (int i = 0; i < 2; ++i) {
    SCOPED_TRACE(KindName(kinds[i]));
    // JWT expiry is in whole seconds.
    const absl::Time expiry =
        absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()) + 3);
    std::string token;
    if (i == 0) {
      token = SignTestToken({.tenant_id = tenant_id_,
                             .subject = "p-expiring",
                             .role = Role::kParticipant,
                             .issue_time = absl::Now(),
                             .expire_time = expiry,
                             .session_id = session_id_,
                             .participant_id = "p-expiring"});
    } else {
      token = OrganizerToken("expiring@example.org", expiry);
    }
    std::unique_ptr<Watch> watch = Open(kinds[i], token);
    ASSERT_TRUE(watch->Opened());
    EXPECT_THAT(
        EndOf(*watch, expiry - absl::Now() + kRevocationBound),
        StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("expired")));
    // Not before its time.
    EXPECT_GE(absl::Now(), expiry);
  }
}

TEST_F(StreamLimitsTest, StreamsEndAtTheirLifetimeAndResume) {
  constexpr absl::Duration kLifetime = absl::Seconds(2);
  Start({.max_lifetime = kLifetime});
  for (Kind kind : {Kind::kQueue, Kind::kAgenda}) {
    SCOPED_TRACE(KindName(kind));
    const absl::Time opened = absl::Now();
    std::unique_ptr<Watch> watch = Open(kind, organizer_token_);
    ASSERT_TRUE(watch->Opened());
    EXPECT_THAT(
        EndOf(*watch, kLifetime + kRevocationBound),
        StatusIs(absl::StatusCode::kUnavailable,
                 AllOf(HasSubstr("lifetime"), HasSubstr("after_version"))));
    // Between 0.9 and 1 times the lifetime, checked every interval.
    const absl::Duration lived = absl::Now() - opened;
    EXPECT_GE(lived, kLifetime * 0.9);
    EXPECT_LT(lived, kLifetime + kStreamCheckInterval + absl::Seconds(1));
  }
  // A resume after the last version gets the change made meanwhile (with
  // one change before, so that after_version is not 0: a fresh start).
  v1::CreateAgendaItemRequest item;
  item.set_session_id(session_id_);
  item.mutable_item()->set_title("Kirish");
  ASSERT_OK(organizer_->CreateAgendaItem(item).status());
  WatchReader first(organizer_->channel(), organizer_token_, session_id_);
  std::vector<v1::WatchAgendaResponse> snapshot = first.WaitFor(1);
  ASSERT_EQ(snapshot.size(), 1u);
  ASSERT_TRUE(snapshot[0].has_snapshot());
  const int64_t version = snapshot[0].snapshot().version();
  ASSERT_OK(first.Ended(kLifetime + kRevocationBound).status());
  ASSERT_GT(version, 0);
  item.mutable_item()->set_title("Savollar");
  ASSERT_OK(organizer_->CreateAgendaItem(item).status());
  WatchReader resumed(organizer_->channel(), organizer_token_, session_id_,
                      version);
  std::vector<v1::WatchAgendaResponse> got =
      resumed.WaitForVersion(version + 1);
  ASSERT_FALSE(got.empty());
  EXPECT_TRUE(got[0].has_change()) << "a resume must not start over";
}

TEST_F(StreamLimitsTest, CapsStreamsPerApiKeyAndPerOrganizer) {
  constexpr int kCap = 3;
  Start({.max_lifetime = absl::ZeroDuration(),
         .max_per_api_key = kCap,
         .max_per_organizer = kCap});
  ASSERT_OK_AND_ASSIGN(v1::CreateApiKeyResponse key, NewApiKey());
  ASSERT_OK_AND_ASSIGN(v1::CreateApiKeyResponse other_key, NewApiKey());
  struct Case {
    std::string name;
    std::string token;
    // Another token of the same credential (counted together) and one of
    // another credential (not counted).
    std::string same;
    std::string other;
    std::string message;
  };
  const Case cases[] = {
      {"API key", key.key(), key.key(), other_key.key(),
       "at most 3 open watch streams per API key"},
      {"organizer", OrganizerToken("ops@example.org"),
       OrganizerToken("ops@example.org"), OrganizerToken("else@example.org"),
       "at most 3 open watch streams per organizer"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    // Both stream kinds count against one cap.
    std::vector<std::unique_ptr<Watch>> open;
    for (int i = 0; i < kCap; ++i) {
      open.push_back(Open(i % 2 == 0 ? Kind::kQueue : Kind::kAgenda,
                          i == 0 ? c.token : c.same));
      ASSERT_TRUE(open.back()->Opened()) << i;
    }
    for (Kind kind : {Kind::kQueue, Kind::kAgenda}) {
      std::unique_ptr<Watch> refused = Open(kind, c.same);
      EXPECT_THAT(EndOf(*refused, absl::Seconds(10)),
                  StatusIs(absl::StatusCode::kResourceExhausted, c.message));
    }
    std::unique_ptr<Watch> other = Open(Kind::kQueue, c.other);
    EXPECT_TRUE(other->Opened());
    // A closed stream frees its place.
    open.front()->Cancel();
    std::unique_ptr<Watch> again;
    const absl::Time give_up = absl::Now() + absl::Seconds(10);
    do {
      again = Open(Kind::kAgenda, c.token);
    } while (!again->Opened() && absl::Now() < give_up);
    EXPECT_TRUE(again->Opened());
  }
}

TEST_F(StreamLimitsTest, CapsStreamsPerProcess) {
  constexpr int kCap = 3;
  Start({.max_lifetime = absl::ZeroDuration(), .max_streams = kCap});
  std::vector<std::unique_ptr<Watch>> open;
  for (int i = 0; i < kCap; ++i) {
    // Distinct callers: no per-credential cap is reached.
    open.push_back(
        Open(i % 2 == 0 ? Kind::kQueue : Kind::kAgenda,
             OrganizerToken(absl::StrCat("organizer-", i, "@example.org"))));
    ASSERT_TRUE(open.back()->Opened()) << i;
  }
  for (Kind kind : {Kind::kQueue, Kind::kAgenda}) {
    SCOPED_TRACE(KindName(kind));
    std::unique_ptr<Watch> refused =
        Open(kind, OrganizerToken("newcomer@example.org"));
    EXPECT_THAT(EndOf(*refused, absl::Seconds(10)),
                StatusIs(absl::StatusCode::kResourceExhausted,
                         "this server has reached its limit of 3 open watch "
                         "streams; retry later"));
  }
  // A closed stream frees its place.
  open.back()->Cancel();
  std::unique_ptr<Watch> again;
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  do {
    again = Open(Kind::kQueue, OrganizerToken("newcomer@example.org"));
  } while (!again->Opened() && absl::Now() < give_up);
  EXPECT_TRUE(again->Opened());
}

}  // namespace
}  // namespace townhall::testing
