// Seats under concurrency, across servers: two real townhalld processes on
// one Redis take 200 registrations for 50 seats at once. A sampler watches
// the confirmed count the whole time; it must never pass the capacity, the
// waitlist must follow the server-assigned arrival order, cancellations
// must promote exactly the first waitlisted, and a join token revoked
// through one process must be refused by the other.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/common/ids.h"
#include "services/common/redis/redis_connection.h"
#include "services/common/tenant_keys.h"
#include "tests/testing/child_process.h"
#include "tests/testing/health.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_server.h"
#include "tests/testing/townhalld_process.h"

namespace townhall::testing {
namespace {

constexpr char kRegistration[] = "townhall.v1.RegistrationService";
constexpr int kCapacity = 50;
constexpr int kParticipants = 200;
constexpr int kCancellations = 10;
constexpr int kThreads = 16;
constexpr absl::Duration kRevocationBound = absl::Seconds(5);

// Largest confirmed count seen while it runs: ZCARD of the seats key on
// every round, and ListRegistrations' confirmed_count on every fourth.
class Sampler {
 public:
  Sampler(std::string seats_key, TownhallClient* client, std::string session_id)
      : seats_key_(std::move(seats_key)),
        client_(client),
        session_id_(std::move(session_id)) {
    thread_ = std::thread([this] { Run(); });
    // Watching before the work starts: the first sample is taken.
    absl::Time give_up = absl::Now() + absl::Seconds(5);
    while (samples_ == 0 && absl::Now() < give_up) {
      absl::SleepFor(absl::Milliseconds(1));
    }
  }
  ~Sampler() { Stop(); }

  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int64_t max_seen() const { return max_seen_; }
  int samples() const { return samples_; }
  int errors() const { return errors_; }

 private:
  void Run() {
    RedisConnection redis(SharedRedisOptions());
    v1::ListRegistrationsRequest list;
    list.set_session_id(session_id_);
    list.set_page_size(1);
    for (int round = 0; !stop_; ++round) {
      redis.set_deadline(absl::Now() + absl::Seconds(2));
      absl::StatusOr<RedisReply> card = redis.Command({"ZCARD", seats_key_});
      if (card.ok() && card->type == RedisReply::Type::kInteger) {
        Record(card->integer);
      } else {
        ++errors_;
      }
      if (round % 4 == 0) {
        absl::StatusOr<v1::ListRegistrationsResponse> listed =
            client_->ListRegistrations(list);
        if (listed.ok()) {
          Record(listed->confirmed_count());
        } else {
          ++errors_;
        }
      }
    }
  }
  void Record(int64_t confirmed) {
    ++samples_;
    max_seen_ = std::max<int64_t>(max_seen_, confirmed);
  }

  std::string seats_key_;
  TownhallClient* client_;
  std::string session_id_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> max_seen_{0};
  std::atomic<int> samples_{0};
  std::atomic<int> errors_{0};
  std::thread thread_;
};

class RegistrationConcurrencyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(fleet_.Start(TOWNHALLD_PATH, 2, kRegistration));
    tenant_ = absl::StrCat("t-", NewId());
    ASSERT_OK_AND_ASSIGN(std::string token, fleet_.CreateTenant(tenant_));
    for (int i = 0; i < fleet_.size(); ++i) {
      clients_.push_back(std::make_unique<TownhallClient>(
          ClientOptions{.address = fleet_.address(i), .token = token}));
    }
  }

  TownhallClient& client(int i) { return *clients_[i % 2]; }

  // Creates `n` participants through the API, alternating servers.
  std::vector<std::string> NewParticipants(int n) {
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) {
      v1::CreateParticipantRequest request;
      request.mutable_participant()->set_display_name(
          absl::StrCat("Person ", i));
      absl::StatusOr<v1::CreateParticipantResponse> created =
          client(i).CreateParticipant(request);
      EXPECT_TRUE(created.ok()) << created.status();
      ids.push_back(created.ok() ? created->participant().id() : "");
    }
    return ids;
  }

  // Every registration of the session, in arrival order.
  std::vector<v1::Registration> ListAll(const std::string& session_id) {
    std::vector<v1::Registration> out;
    v1::ListRegistrationsRequest request;
    request.set_session_id(session_id);
    request.set_page_size(500);
    for (int page = 0; page < 10; ++page) {
      absl::StatusOr<v1::ListRegistrationsResponse> listed =
          client(page).ListRegistrations(request);
      EXPECT_TRUE(listed.ok()) << listed.status();
      if (!listed.ok()) break;
      out.insert(out.end(), listed->registrations().begin(),
                 listed->registrations().end());
      if (listed->next_page_token().empty()) break;
      request.set_page_token(listed->next_page_token());
    }
    return out;
  }

  TownhalldFleet fleet_;
  std::vector<std::unique_ptr<TownhallClient>> clients_;
  std::string tenant_;
};

TEST_F(RegistrationConcurrencyTest,
       TwoServersNeverOverbookAndKeepArrivalOrder) {
  v1::CreateSessionRequest create;
  v1::Session* s = create.mutable_session();
  s->set_title("Consular hour");
  s->mutable_start_time()->set_seconds(
      absl::ToUnixSeconds(absl::Now() + absl::Hours(24 * 7)));
  s->mutable_duration()->set_seconds(3600);
  s->set_time_zone("Asia/Tashkent");
  s->set_format(v1::SESSION_FORMAT_ONLINE);
  s->set_join_url("https://meet.example.org/townhall");
  s->set_capacity(kCapacity);
  create.set_publish(true);
  absl::StatusOr<v1::CreateSessionResponse> created =
      client(0).CreateSession(create);
  ASSERT_TRUE(created.ok()) << created.status();
  const std::string session_id = created->session().id();
  const std::string seats_key =
      absl::StrCat(TenantPrefix(tenant_), "seats:", session_id);
  std::vector<std::string> participants = NewParticipants(kParticipants);

  // 200 registrations from 16 threads, alternating between the servers.
  std::vector<absl::StatusOr<v1::Registration>> results(kParticipants);
  absl::Time started = absl::Now();
  {
    Sampler sampler(seats_key, &client(1), session_id);
    std::atomic<int> next{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([this, &next, &participants, &results, &session_id] {
        for (int i = next++; i < kParticipants; i = next++) {
          v1::RegisterRequest request;
          request.set_session_id(session_id);
          request.set_participant_id(participants[i]);
          request.set_request_id(absl::StrCat("reg-", i));
          absl::StatusOr<v1::RegisterResponse> response =
              client(i).Register(request);
          if (response.ok()) {
            results[i] = response->registration();
          } else {
            results[i] = response.status();
          }
        }
      });
    }
    for (std::thread& th : threads) th.join();
    sampler.Stop();
    absl::Duration wall = absl::Now() - started;
    std::cout << "[ measured ] 200 concurrent registrations over 2 servers: "
              << absl::FormatDuration(wall) << ", confirmed count sampled "
              << sampler.samples() << " times, max " << sampler.max_seen()
              << " (capacity " << kCapacity << "), sampler errors "
              << sampler.errors() << "\n";
    RecordProperty("register_wall_ms",
                   static_cast<int>(absl::ToInt64Milliseconds(wall)));
    RecordProperty("max_confirmed_seen", static_cast<int>(sampler.max_seen()));
    EXPECT_LE(sampler.max_seen(), kCapacity);
    EXPECT_GT(sampler.samples(), 0);
  }

  std::map<std::string, int> position_at_registration;
  int confirmed = 0;
  int waitlisted = 0;
  for (int i = 0; i < kParticipants; ++i) {
    ASSERT_TRUE(results[i].ok())
        << participants[i] << ": " << results[i].status();
    if (results[i]->status() == v1::REGISTRATION_STATUS_CONFIRMED) {
      ++confirmed;
      EXPECT_EQ(results[i]->waitlist_position(), 0);
    } else if (results[i]->status() == v1::REGISTRATION_STATUS_WAITLISTED) {
      ++waitlisted;
      position_at_registration[participants[i]] =
          results[i]->waitlist_position();
    }
  }
  EXPECT_EQ(confirmed, kCapacity);
  EXPECT_EQ(waitlisted, kParticipants - kCapacity);

  // Arrival order (the server's): the first 50 hold the seats, and the
  // rest wait in exactly that order, at the positions they were told.
  std::vector<v1::Registration> all = ListAll(session_id);
  ASSERT_EQ(all.size(), static_cast<size_t>(kParticipants));
  std::vector<std::string> waitlist;  // in order of position
  for (size_t i = 0; i < all.size(); ++i) {
    const v1::Registration& r = all[i];
    if (i < static_cast<size_t>(kCapacity)) {
      EXPECT_EQ(r.status(), v1::REGISTRATION_STATUS_CONFIRMED) << i;
      continue;
    }
    ASSERT_EQ(r.status(), v1::REGISTRATION_STATUS_WAITLISTED) << i;
    EXPECT_EQ(r.waitlist_position(), static_cast<int>(i) - kCapacity + 1);
    EXPECT_EQ(r.waitlist_position(),
              position_at_registration[r.participant_id()])
        << r.participant_id();
    waitlist.push_back(r.participant_id());
  }
  ASSERT_EQ(waitlist.size(), static_cast<size_t>(kParticipants - kCapacity));

  // 10 concurrent cancellations promote exactly the first 10 waitlisted.
  std::vector<std::string> cancelled(kCancellations);
  for (int i = 0; i < kCancellations; ++i) {
    cancelled[i] = all[i * 3].participant_id();
  }
  std::vector<absl::StatusOr<v1::CancelRegistrationResponse>> cancels(
      kCancellations);
  {
    Sampler sampler(seats_key, &client(0), session_id);
    std::vector<std::thread> threads;
    for (int i = 0; i < kCancellations; ++i) {
      threads.emplace_back([this, i, &cancelled, &cancels, &session_id] {
        v1::CancelRegistrationRequest request;
        request.set_session_id(session_id);
        request.set_participant_id(cancelled[i]);
        request.set_reason("concurrency test");
        cancels[i] = client(i).CancelRegistration(request);
      });
    }
    for (std::thread& th : threads) th.join();
    sampler.Stop();
    std::cout << "[ measured ] 10 concurrent cancellations: confirmed count "
              << "sampled " << sampler.samples() << " times, max "
              << sampler.max_seen() << "\n";
    EXPECT_LE(sampler.max_seen(), kCapacity);
  }
  std::set<std::string> promoted;
  for (const auto& c : cancels) {
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_EQ(c->registration().status(), v1::REGISTRATION_STATUS_CANCELLED);
    ASSERT_TRUE(c->has_promoted());
    EXPECT_EQ(c->promoted().status(), v1::REGISTRATION_STATUS_CONFIRMED);
    promoted.insert(c->promoted().participant_id());
  }
  EXPECT_EQ(promoted, std::set<std::string>(waitlist.begin(),
                                            waitlist.begin() + kCancellations));

  std::map<std::string, int> position_now;
  int confirmed_now = 0;
  for (const v1::Registration& r : ListAll(session_id)) {
    if (r.status() == v1::REGISTRATION_STATUS_CONFIRMED) ++confirmed_now;
    if (r.status() == v1::REGISTRATION_STATUS_WAITLISTED) {
      position_now[r.participant_id()] = r.waitlist_position();
    }
  }
  EXPECT_EQ(confirmed_now, kCapacity);
  ASSERT_EQ(position_now.size(),
            static_cast<size_t>(kParticipants - kCapacity - kCancellations));
  for (size_t k = kCancellations; k < waitlist.size(); ++k) {
    EXPECT_EQ(position_now[waitlist[k]],
              static_cast<int>(k) + 1 - kCancellations)
        << waitlist[k];
  }
}

TEST_F(RegistrationConcurrencyTest,
       TokenRevokedThroughOneServerFailsOnTheOther) {
  v1::CreateSessionRequest create;
  v1::Session* s = create.mutable_session();
  s->set_title("Consular hour");
  s->mutable_start_time()->set_seconds(
      absl::ToUnixSeconds(absl::Now() + absl::Hours(24 * 7)));
  s->mutable_duration()->set_seconds(3600);
  s->set_time_zone("Asia/Tashkent");
  s->set_format(v1::SESSION_FORMAT_ONLINE);
  s->set_join_url("https://meet.example.org/townhall");
  create.set_publish(true);
  absl::StatusOr<v1::CreateSessionResponse> created =
      client(0).CreateSession(create);
  ASSERT_TRUE(created.ok()) << created.status();
  const std::string session_id = created->session().id();
  std::string participant = NewParticipants(1)[0];

  v1::RegisterRequest reg;
  reg.set_session_id(session_id);
  reg.set_participant_id(participant);
  ASSERT_TRUE(client(0).Register(reg).ok());
  v1::IssueJoinTokenRequest issue;
  issue.set_session_id(session_id);
  issue.set_participant_id(participant);
  absl::StatusOr<v1::IssueJoinTokenResponse> token =
      client(0).IssueJoinToken(issue);
  ASSERT_TRUE(token.ok()) << token.status();

  v1::GetSessionRequest get;
  get.set_session_id(session_id);
  ASSERT_TRUE(client(1).GetSession(get, {.token = token->token()}).ok());

  v1::CancelRegistrationRequest cancel;
  cancel.set_session_id(session_id);
  cancel.set_participant_id(participant);
  absl::Time cancelled_at = absl::Now();
  ASSERT_TRUE(client(0).CancelRegistration(cancel).ok());
  absl::Status status;
  do {
    status = client(1).GetSession(get, {.token = token->token()}).status();
    if (status.code() == absl::StatusCode::kUnauthenticated) break;
    absl::SleepFor(absl::Milliseconds(20));
  } while (absl::Now() - cancelled_at < kRevocationBound);
  EXPECT_THAT(status, HasCode(absl::StatusCode::kUnauthenticated));
  std::cout << "[ measured ] revocation through A refused by B after "
            << absl::FormatDuration(absl::Now() - cancelled_at) << "\n";
}

}  // namespace
}  // namespace townhall::testing
