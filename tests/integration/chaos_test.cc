// Chaos: for about 25 seconds, clients submit questions, vote, register and
// cancel registrations through two townhalld processes while a monkey kills
// a townhalld with SIGKILL every 4 to 6 seconds (and starts it again) and
// kills their Redis (AOF, appendfsync always) once. Clients send every
// mutation with a request id of its own (votes and cancellations are
// idempotent by nature) and, on UNAVAILABLE or DEADLINE_EXCEEDED, send the
// SAME request again, through either process; some answers are dropped on
// purpose and the request sent again, as if the reply had been lost.
//
// Then a history checker reads everything back through the API (and Redis,
// for what the API does not show) and asserts that every acknowledged
// operation took effect exactly once: each acknowledged question exists
// once with the id the client was given, each acknowledged vote is in its
// question's voter set, each acknowledged registration and cancellation is
// the participant's state; vote counts equal the voter sets; confirmed
// seats never exceed the capacity (sampled during the run, and at the end)
// and nobody waits while a seat is free. An operation that never got an
// answer may or may not have happened, but at most once.
//
// The seed is fixed (the monkey's schedule and each client's choices); the
// interleaving is not, so the checker asserts only what must hold for any.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
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
#include "services/questions/question_store.h"
#include "tests/integration/questions/questions_client.h"
#include "tests/testing/client_retry.h"
#include "tests/testing/health.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/townhalld_process.h"

namespace townhall::testing {
namespace {

constexpr uint32_t kSeed = 20261214;
constexpr char kQuestions[] = "townhall.v1.QuestionService";
constexpr char kRegistration[] = "townhall.v1.RegistrationService";
constexpr int kServers = 2;
// The monkey's plan: townhalld kills, and the one Redis kill after the
// first kRedisKillAfter of them; one every 4 to 6 seconds (about 25 s).
constexpr int kTownhalldKills = 4;
constexpr int kRedisKillAfter = 2;
// A bound on the work should the run be slow; clients stop with the monkey.
constexpr int kOpsPerClient = 1500;
constexpr int kClients = 6;
constexpr int kVotersPerClient = 4;
constexpr int kSeatTakersPerClient = 5;
constexpr int kCapacity = 8;
constexpr int kSeedQuestions = 6;
// Generous: the machine may be loaded; a slow answer is only retried.
constexpr absl::Duration kAttemptDeadline = absl::Seconds(5);
// An operation still unanswered this long after it started is given up
// (its outcome unknown).
constexpr absl::Duration kGiveUp = absl::Seconds(40);
// One answer in this many is dropped on purpose and the request sent again.
constexpr int kLostReplyOneIn = 4;

// How an operation ended, as its client saw it.
enum class Outcome { kAcked, kRefused, kUnknown };

const char* OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kAcked:
      return "acked";
    case Outcome::kRefused:
      return "refused";
    case Outcome::kUnknown:
      return "unknown";
  }
  return "?";
}

template <typename Response>
struct Answer {
  Outcome outcome = Outcome::kUnknown;
  // The answer (acked or refused), or the last transient error.
  absl::StatusOr<Response> last = absl::UnknownError("not sent");
  int attempts = 0;
  // An attempt before the last one failed transiently (it may have been
  // applied all the same).
  bool transient = false;
  // An answer was dropped on purpose and the request sent again.
  bool dropped = false;
};

// Sends one request until it gets an answer that is not transient, or
// `give_up` passes. `send(attempt)` makes one attempt (0, 1, ...): the same
// request every time. With `drop_first_reply`, the first answer that is
// not transient is treated as lost and the request sent once more.
template <typename Response, typename Send>
Answer<Response> SendUntilAnswered(absl::Time give_up, bool drop_first_reply,
                                   Send send) {
  Answer<Response> answer;
  absl::Duration backoff = absl::Milliseconds(50);
  while (true) {
    answer.last = send(answer.attempts++);
    if (!IsTransient(answer.last.status())) {
      if (drop_first_reply) {
        drop_first_reply = false;
        answer.dropped = true;
        continue;
      }
      answer.outcome = answer.last.ok() ? Outcome::kAcked : Outcome::kRefused;
      return answer;
    }
    answer.transient = true;
    if (absl::Now() + backoff >= give_up) return answer;  // kUnknown
    absl::SleepFor(backoff);
    backoff = std::min(backoff * 2, absl::Seconds(1));
  }
}

// One operation of the history.
struct Op {
  enum Kind { kSubmit, kVote, kRegister, kCancel };
  Kind kind;
  int client = 0;
  // Voter index (kSubmit, kVote) or seat-taker index (kRegister, kCancel).
  int who = 0;
  // kSubmit: the text (unique) and, when acked, the question id;
  // kVote: the question.
  std::string text;
  std::string question_id;
  // kRegister: the status it was acknowledged with.
  v1::RegistrationStatus status = v1::REGISTRATION_STATUS_UNSPECIFIED;
  Outcome outcome = Outcome::kUnknown;
  // Sent more than once: after a transient failure, or a dropped answer.
  bool transient = false;
  bool dropped = false;
  absl::Status refusal;
};

const char* KindName(Op::Kind kind) {
  switch (kind) {
    case Op::kSubmit:
      return "submit";
    case Op::kVote:
      return "vote";
    case Op::kRegister:
      return "register";
    case Op::kCancel:
      return "cancel";
  }
  return "?";
}

std::string Describe(const Op& op) {
  return absl::StrCat(
      KindName(op.kind), " by client ", op.client, " for #", op.who, " (",
      OutcomeName(op.outcome), op.transient ? ", transient failure" : "",
      op.dropped ? ", answer dropped" : "", ") ", op.text, " ", op.question_id);
}

class ChaosTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(redis_, RedisServer::Start({.persistent = true}));
    ASSERT_OK(
        fleet_.Start(TOWNHALLD_PATH, kServers, kQuestions, redis_->address()));
    tenant_ = absl::StrCat("t-", NewId());
    ASSERT_OK_AND_ASSIGN(token_, fleet_.CreateTenant(tenant_));
    for (int i = 0; i < kServers; ++i) {
      channels_.push_back(FastReconnectChannel(fleet_.address(i)));
      clients_.push_back(std::make_unique<TownhallClient>(
          ClientOptions{.address = fleet_.address(i), .token = token_},
          channels_.back()));
    }
  }

  // The organizer's client through process `i % kServers`.
  TownhallClient& client(int i) { return *clients_[i % kServers]; }

  // A questions session (live, post-moderated, rate limits out of the way)
  // with kClients * kVotersPerClient members and kSeedQuestions questions.
  void PrepareQuestions() {
    ASSERT_OK_AND_ASSIGN(
        v1::Session session,
        NewQuestionsSession(client(0), /*live=*/true, "Chaos: savol-javob"));
    questions_session_ = session.id();
    v1::QueueSettings settings;
    settings.set_moderation_mode(v1::MODERATION_MODE_POST);
    settings.set_submissions_per_minute(10000);
    settings.set_votes_per_minute(10000);
    ASSERT_OK(QuestionsClient(channels_[0], token_)
                  .SetSettings(questions_session_, settings)
                  .status());
    v1::CreateOrganizationRequest org;
    org.mutable_organization()->set_name("Chaos jamiyati");
    org.mutable_organization()->set_country_code("RU");
    org.mutable_organization()->set_city("Moskva");
    ASSERT_OK_AND_ASSIGN(v1::CreateOrganizationResponse made,
                         client(0).CreateOrganization(org));
    for (int v = 0; v < kClients * kVotersPerClient; ++v) {
      ASSERT_OK_AND_ASSIGN(
          Member m,
          NewMember(client(v), questions_session_, absl::StrCat("Voter ", v),
                    v1::SESSION_ROLE_PARTICIPANT, made.organization().id()));
      voters_.push_back(m);
    }
    for (int i = 0; i < kSeedQuestions; ++i) {
      v1::SubmitQuestionRequest r;
      r.set_session_id(questions_session_);
      r.set_participant_id(voters_[i].participant_id);
      r.set_text(absl::StrCat("Seed question ", i, " about the budget?"));
      ASSERT_OK_AND_ASSIGN(
          v1::SubmitQuestionResponse s,
          client(i).SubmitQuestion(r, {.token = voters_[i].token}));
      texts_.insert(r.text());
      absl::MutexLock lock(&mu_);
      pool_.push_back(s.question().id());
    }
  }

  // A session of kCapacity seats and kClients * kSeatTakersPerClient
  // participants who are not registered yet.
  void PrepareSeats() {
    v1::CreateSessionRequest create;
    v1::Session* s = create.mutable_session();
    s->set_title("Chaos: consular hour");
    s->mutable_start_time()->set_seconds(
        absl::ToUnixSeconds(absl::Now() + absl::Hours(24 * 7)));
    s->mutable_duration()->set_seconds(3600);
    s->set_time_zone("Asia/Tashkent");
    s->set_format(v1::SESSION_FORMAT_ONLINE);
    s->set_join_url("https://meet.example.org/townhall");
    s->set_capacity(kCapacity);
    create.set_publish(true);
    ASSERT_OK_AND_ASSIGN(v1::CreateSessionResponse created,
                         client(0).CreateSession(create));
    seats_session_ = created.session().id();
    for (int i = 0; i < kClients * kSeatTakersPerClient; ++i) {
      v1::CreateParticipantRequest request;
      request.mutable_participant()->set_display_name(
          absl::StrCat("Seat taker ", i));
      ASSERT_OK_AND_ASSIGN(v1::CreateParticipantResponse made,
                           client(i).CreateParticipant(request));
      seat_takers_.push_back(made.participant().id());
    }
  }

  // One client's run: random operations on its own voters and seat takers
  // until the monkey is done or it made kOpsPerClient. Returns its history.
  std::vector<Op> RunClient(int c) {
    std::mt19937 rng(kSeed + c);
    // Seat takers' state as acknowledged: registered or not; nullopt once
    // an operation on one went unanswered (it is left alone afterwards).
    std::vector<std::optional<bool>> registered(kSeatTakersPerClient, false);
    std::vector<Op> history;
    for (int n = 0; n < kOpsPerClient && !monkey_done_; ++n) {
      const absl::Time give_up = absl::Now() + kGiveUp;
      const bool drop_reply = rng() % kLostReplyOneIn == 0;
      const int pick = rng() % 10;
      Op op;
      op.client = c;
      if (pick < 3) {
        op.kind = Op::kSubmit;
        op.who = c * kVotersPerClient + rng() % kVotersPerClient;
        op.text = absl::StrCat("Chaos question ", c, "-", n,
                               ": when will the consulate open?");
        v1::SubmitQuestionRequest r;
        r.set_session_id(questions_session_);
        r.set_participant_id(voters_[op.who].participant_id);
        r.set_text(op.text);
        r.set_request_id(absl::StrCat("chaos-", c, "-", n, "-", NewId()));
        auto answer = SendUntilAnswered<v1::SubmitQuestionResponse>(
            give_up, drop_reply, [&](int attempt) {
              return client(c + attempt)
                  .SubmitQuestion(r, Call(voters_[op.who].token));
            });
        Record(answer, &op);
        if (op.outcome == Outcome::kAcked) {
          op.question_id = answer.last->question().id();
          absl::MutexLock lock(&mu_);
          pool_.push_back(op.question_id);
        }
      } else if (pick < 7) {
        op.kind = Op::kVote;
        op.who = c * kVotersPerClient + rng() % kVotersPerClient;
        {
          absl::MutexLock lock(&mu_);
          op.question_id = pool_[rng() % pool_.size()];
        }
        v1::UpvoteQuestionRequest r;
        r.set_session_id(questions_session_);
        r.set_question_id(op.question_id);
        r.set_participant_id(voters_[op.who].participant_id);
        auto answer = SendUntilAnswered<v1::UpvoteQuestionResponse>(
            give_up, drop_reply, [&](int attempt) {
              return client(c + attempt)
                  .UpvoteQuestion(r, Call(voters_[op.who].token));
            });
        Record(answer, &op);
      } else {
        const int local = rng() % kSeatTakersPerClient;
        if (!registered[local].has_value()) continue;
        op.who = c * kSeatTakersPerClient + local;
        if (!*registered[local]) {
          op.kind = Op::kRegister;
          v1::RegisterRequest r;
          r.set_session_id(seats_session_);
          r.set_participant_id(seat_takers_[op.who]);
          r.set_request_id(absl::StrCat("chaos-", c, "-", n, "-", NewId()));
          auto answer = SendUntilAnswered<v1::RegisterResponse>(
              give_up, drop_reply, [&](int attempt) {
                return client(c + attempt).Register(r, Call(token_));
              });
          Record(answer, &op);
          if (op.outcome == Outcome::kAcked) {
            op.status = answer.last->registration().status();
          }
        } else {
          op.kind = Op::kCancel;
          v1::CancelRegistrationRequest r;
          r.set_session_id(seats_session_);
          r.set_participant_id(seat_takers_[op.who]);
          r.set_reason("chaos");
          auto answer = SendUntilAnswered<v1::CancelRegistrationResponse>(
              give_up, drop_reply, [&](int attempt) {
                return client(c + attempt).CancelRegistration(r, Call(token_));
              });
          Record(answer, &op);
          // Cancelling again what is already cancelled is refused: after
          // an attempt that may have been applied, that is the answer to
          // expect, and it confirms the cancellation.
          if (op.outcome == Outcome::kRefused && (op.transient || op.dropped) &&
              op.refusal.code() == absl::StatusCode::kFailedPrecondition) {
            op.outcome = Outcome::kAcked;
            op.refusal = absl::OkStatus();
          }
        }
        if (op.outcome == Outcome::kAcked) {
          registered[local] = op.kind == Op::kRegister;
        } else {
          // Unanswered, or refused (a bug, below): its state is no longer
          // known for sure.
          registered[local] = std::nullopt;
        }
      }
      // Nothing is refused in this workload: a refusal is a bug (e.g. a
      // retried registration answered "already registered").
      if (op.outcome == Outcome::kRefused) {
        ADD_FAILURE() << Describe(op) << ": " << op.refusal;
      }
      history.push_back(std::move(op));
      // A pause keeps the load modest (the machine may have two cores).
      absl::SleepFor(absl::Milliseconds(20 + rng() % 21));
    }
    return history;
  }

  static CallOptions Call(const std::string& token) {
    return {.token = token, .deadline = kAttemptDeadline, .max_attempts = 1};
  }

  template <typename Response>
  static void Record(const Answer<Response>& answer, Op* op) {
    op->outcome = answer.outcome;
    op->transient = answer.transient;
    op->dropped = answer.dropped;
    if (answer.outcome == Outcome::kRefused) op->refusal = answer.last.status();
  }

  // Kills a townhalld (alternating; down for up to 0.8 s) kTownhalldKills
  // times and, after kRedisKillAfter of them, Redis (down for up to 1 s):
  // one kill every 4 to 6 seconds. Every process is up again when it
  // returns.
  void RunMonkey() {
    std::mt19937 rng(kSeed);
    auto between = [&](int min_ms, int max_ms) {
      return absl::Milliseconds(min_ms + rng() % (max_ms - min_ms + 1));
    };
    while (townhalld_kills_ < kTownhalldKills) {
      absl::SleepFor(between(4000, 6000));
      if (townhalld_kills_ == kRedisKillAfter && redis_kills_ == 0) {
        redis_->Stop();
        ++redis_kills_;
        absl::SleepFor(between(300, 1000));
        absl::Status restarted = redis_->Restart();
        ASSERT_TRUE(restarted.ok()) << restarted;
        continue;
      }
      const int victim = townhalld_kills_ % kServers;
      fleet_.Kill(victim);
      ++townhalld_kills_;
      absl::SleepFor(between(100, 800));
      absl::Status restarted = fleet_.Restart(victim);
      ASSERT_TRUE(restarted.ok()) << restarted;
    }
    // The clients' last operations meet the restarted processes.
    absl::SleepFor(absl::Seconds(1));
  }

  // Samples the confirmed seats while the chaos runs, through the API and
  // Redis, whichever answers.
  void RunSampler(const std::atomic<bool>& stop) {
    RedisConnection redis({.address = redis_->address()});
    const std::string seats =
        absl::StrCat(TenantPrefix(tenant_), "seats:", seats_session_);
    v1::ListRegistrationsRequest list;
    list.set_session_id(seats_session_);
    list.set_page_size(1);
    for (int round = 0; !stop; ++round) {
      redis.set_deadline(absl::Now() + absl::Seconds(1));
      absl::StatusOr<RedisReply> card = redis.Command({"ZCARD", seats});
      if (card.ok() && card->type == RedisReply::Type::kInteger) {
        max_confirmed_seen_ = std::max(max_confirmed_seen_, card->integer);
        ++samples_;
      }
      absl::StatusOr<v1::ListRegistrationsResponse> listed =
          client(round).ListRegistrations(
              list, {.deadline = absl::Seconds(2), .max_attempts = 1});
      if (listed.ok()) {
        max_confirmed_seen_ =
            std::max<int64_t>(max_confirmed_seen_, listed->confirmed_count());
        ++samples_;
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
  }

  // The checker's client through process `i % kServers`: a channel of its
  // own, fresh after the chaos.
  TownhallClient& reader(int i) {
    if (readers_.empty()) {
      for (int k = 0; k < kServers; ++k) {
        readers_.push_back(std::make_unique<TownhallClient>(
            ClientOptions{.address = fleet_.address(k), .token = token_}));
      }
    }
    return *readers_[i % kServers];
  }

  void CheckQuestions(const std::vector<Op>& history);
  void CheckVotes(const std::vector<Op>& history);
  void CheckSeats(const std::vector<Op>& history);

  std::unique_ptr<RedisServer> redis_;
  TownhalldFleet fleet_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::unique_ptr<TownhallClient>> clients_;
  std::vector<std::unique_ptr<TownhallClient>> readers_;
  std::string tenant_;
  std::string token_;
  std::string questions_session_;
  std::string seats_session_;
  std::vector<Member> voters_;
  std::vector<std::string> seat_takers_;
  // Texts of the seed questions.
  std::set<std::string> texts_;

  absl::Mutex mu_;
  // Questions to vote on: the seeds and every acknowledged submission.
  std::vector<std::string> pool_ ABSL_GUARDED_BY(mu_);

  std::atomic<bool> monkey_done_{false};
  int townhalld_kills_ = 0;
  int redis_kills_ = 0;
  int64_t max_confirmed_seen_ = 0;
  int samples_ = 0;
};

// Every acknowledged submission exists once, with the id it was
// acknowledged with; one without an answer at most once; and no question
// exists that nobody asked for.
void ChaosTest::CheckQuestions(const std::vector<Op>& history) {
  ASSERT_OK_AND_ASSIGN(
      std::vector<v1::Question> all,
      QuestionsClient(reader(0).channel(), token_)
          .ListAll(questions_session_, v1::ListQuestionsRequest::VIEW_ALL));
  std::map<std::string, std::vector<std::string>> ids_by_text;
  for (const v1::Question& q : all) ids_by_text[q.text()].push_back(q.id());
  std::set<std::string> asked = texts_;
  for (const Op& op : history) {
    if (op.kind != Op::kSubmit) continue;
    asked.insert(op.text);
    const std::vector<std::string>& ids = ids_by_text[op.text];
    switch (op.outcome) {
      case Outcome::kAcked:
        EXPECT_THAT(ids, ::testing::ElementsAre(op.question_id))
            << Describe(op) << ": must exist exactly once";
        break;
      case Outcome::kUnknown:
        EXPECT_LE(ids.size(), 1u) << Describe(op);
        break;
      case Outcome::kRefused:
        EXPECT_THAT(ids, ::testing::IsEmpty()) << Describe(op);
        break;
    }
  }
  for (const auto& [text, ids] : ids_by_text) {
    EXPECT_TRUE(asked.count(text)) << "nobody asked " << text;
  }
}

// Every question's count equals its voter set, read per voter through the
// API (voted_by_caller) and from Redis; every acknowledged vote is in it;
// nobody is in it who did not try to vote there.
void ChaosTest::CheckVotes(const std::vector<Op>& history) {
  ASSERT_OK_AND_ASSIGN(
      std::vector<v1::Question> all,
      QuestionsClient(reader(1).channel(), token_)
          .ListAll(questions_session_, v1::ListQuestionsRequest::VIEW_ALL));
  std::map<std::string, std::set<std::string>> voters;  // question -> ids
  for (size_t v = 0; v < voters_.size(); ++v) {
    ASSERT_OK_AND_ASSIGN(
        std::vector<v1::Question> seen,
        QuestionsClient(reader(v).channel(), voters_[v].token)
            .ListAll(questions_session_, v1::ListQuestionsRequest::VIEW_ALL));
    for (const v1::Question& q : seen) {
      if (q.voted_by_caller()) voters[q.id()].insert(voters_[v].participant_id);
    }
  }
  RedisConnection redis({.address = redis_->address()});
  const std::string prefix =
      questions::QueuePrefix(tenant_, questions_session_);
  for (const v1::Question& q : all) {
    EXPECT_EQ(q.votes(), static_cast<int64_t>(voters[q.id()].size()))
        << "question " << q.id() << ": count vs voters through the API";
    redis.set_deadline(absl::Now() + absl::Seconds(5));
    ASSERT_OK_AND_ASSIGN(
        RedisReply keys,
        redis.Command(
            {"HKEYS", absl::StrCat(prefix, "q:", q.id(), ":voters")}));
    std::set<std::string> stored;
    for (const RedisReply& k : keys.elements) stored.insert(k.str);
    EXPECT_EQ(stored, voters[q.id()])
        << "question " << q.id() << ": voters in Redis vs the API";
  }
  std::set<std::pair<std::string, std::string>> tried;  // (question, voter)
  for (const Op& op : history) {
    if (op.kind != Op::kVote) continue;
    const std::string& voter = voters_[op.who].participant_id;
    if (op.outcome != Outcome::kRefused) tried.insert({op.question_id, voter});
    if (op.outcome == Outcome::kAcked) {
      EXPECT_TRUE(voters[op.question_id].count(voter))
          << Describe(op) << ": acknowledged vote not counted";
    }
  }
  for (const auto& [question, ids] : voters) {
    for (const std::string& voter : ids) {
      EXPECT_TRUE(tried.count({question, voter}))
          << voter << " never voted on " << question << " but is counted";
    }
  }
}

// Every seat taker's registration is what its acknowledged operations
// left (either way for the one operation that went unanswered); each
// appears once; confirmed never exceed the capacity, and nobody waits while
// a seat is free. Redis' seat and waitlist sets agree with the API.
void ChaosTest::CheckSeats(const std::vector<Op>& history) {
  std::map<std::string, v1::Registration> by_participant;
  v1::ListRegistrationsRequest list;
  list.set_session_id(seats_session_);
  list.set_page_size(500);
  ASSERT_OK_AND_ASSIGN(v1::ListRegistrationsResponse listed,
                       reader(0).ListRegistrations(list));
  ASSERT_THAT(listed.next_page_token(), ::testing::IsEmpty());
  std::set<std::string> confirmed, waitlisted;
  for (const v1::Registration& r : listed.registrations()) {
    EXPECT_TRUE(by_participant.emplace(r.participant_id(), r).second)
        << r.participant_id() << " is listed twice";
    if (r.status() == v1::REGISTRATION_STATUS_CONFIRMED) {
      confirmed.insert(r.participant_id());
    }
    if (r.status() == v1::REGISTRATION_STATUS_WAITLISTED) {
      waitlisted.insert(r.participant_id());
    }
  }
  EXPECT_LE(confirmed.size(), static_cast<size_t>(kCapacity));
  EXPECT_EQ(listed.confirmed_count(), static_cast<int>(confirmed.size()));
  EXPECT_EQ(listed.waitlisted_count(), static_cast<int>(waitlisted.size()));
  if (!waitlisted.empty()) {
    EXPECT_EQ(confirmed.size(), static_cast<size_t>(kCapacity))
        << "someone waits while a seat is free";
  }

  RedisConnection redis({.address = redis_->address()});
  redis.set_deadline(absl::Now() + absl::Seconds(5));
  auto members = [&](const std::string& what) {
    std::set<std::string> out;
    absl::StatusOr<RedisReply> reply = redis.Command(
        {"ZRANGE",
         absl::StrCat(TenantPrefix(tenant_), what, ":", seats_session_), "0",
         "-1"});
    EXPECT_TRUE(reply.ok()) << reply.status();
    if (reply.ok()) {
      for (const RedisReply& m : reply->elements) out.insert(m.str);
    }
    return out;
  };
  EXPECT_EQ(members("seats"), confirmed) << "seats in Redis vs the API";
  EXPECT_EQ(members("waitlist"), waitlisted) << "waitlist in Redis vs the API";

  // What each seat taker's history allows: its last acknowledged state,
  // or, after an unanswered operation, that state or the one it asked for.
  using Status = v1::RegistrationStatus;
  const std::set<Status> active = {v1::REGISTRATION_STATUS_CONFIRMED,
                                   v1::REGISTRATION_STATUS_WAITLISTED};
  const std::set<Status> inactive = {v1::REGISTRATION_STATUS_UNSPECIFIED,
                                     v1::REGISTRATION_STATUS_CANCELLED};
  std::vector<std::set<Status>> allowed(seat_takers_.size(), inactive);
  std::vector<bool> seated(seat_takers_.size(), false);
  for (const Op& op : history) {
    if (op.kind != Op::kRegister && op.kind != Op::kCancel) continue;
    std::set<Status>& can = allowed[op.who];
    const std::set<Status>& wanted =
        op.kind == Op::kRegister ? active : inactive;
    if (op.outcome == Outcome::kAcked) {
      can = wanted;
      seated[op.who] = op.kind == Op::kRegister &&
                       op.status == v1::REGISTRATION_STATUS_CONFIRMED;
    } else if (op.outcome == Outcome::kUnknown) {
      can.insert(wanted.begin(), wanted.end());
      seated[op.who] = false;
    }
  }
  for (size_t p = 0; p < seat_takers_.size(); ++p) {
    auto found = by_participant.find(seat_takers_[p]);
    const Status now = found == by_participant.end()
                           ? v1::REGISTRATION_STATUS_UNSPECIFIED
                           : found->second.status();
    EXPECT_TRUE(allowed[p].count(now))
        << "seat taker #" << p << " (" << seat_takers_[p] << ") is "
        << v1::RegistrationStatus_Name(now);
    // A confirmed seat is kept until its holder cancels.
    if (seated[p]) {
      EXPECT_EQ(now, v1::REGISTRATION_STATUS_CONFIRMED) << "seat taker #" << p;
    }
  }
}

TEST_F(ChaosTest, AcknowledgedOperationsSurviveKilledServersAndRedis) {
  PrepareQuestions();
  PrepareSeats();
  if (HasFatalFailure()) return;

  const absl::Time started = absl::Now();
  std::vector<std::vector<Op>> histories(kClients);
  std::atomic<bool> stop_sampler{false};
  std::thread sampler([&] { RunSampler(stop_sampler); });
  std::thread monkey([&] {
    RunMonkey();
    monkey_done_ = true;
  });
  {
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c) {
      clients.emplace_back([&, c] { histories[c] = RunClient(c); });
    }
    for (std::thread& t : clients) t.join();
  }
  monkey.join();
  stop_sampler = true;
  sampler.join();
  const absl::Duration ran = absl::Now() - started;
  for (int i = 0; i < kServers; ++i) {
    ASSERT_TRUE(WaitForHealth(fleet_.address(i), kRegistration, true,
                              absl::Seconds(15)));
  }

  std::vector<Op> history;
  for (std::vector<Op>& h : histories) {
    history.insert(history.end(), h.begin(), h.end());
  }
  std::map<std::pair<Op::Kind, Outcome>, int> tally;
  int transient_acked = 0;
  int dropped_acked = 0;
  for (const Op& op : history) {
    ++tally[{op.kind, op.outcome}];
    if (op.outcome != Outcome::kAcked) continue;
    if (op.transient) ++transient_acked;
    if (op.dropped) ++dropped_acked;
  }
  std::cout << "[ chaos ] " << history.size() << " operations in "
            << absl::FormatDuration(ran) << "; townhalld killed "
            << townhalld_kills_ << " times, Redis " << redis_kills_
            << " time(s); acknowledged after a transient failure "
            << transient_acked << ", after a dropped answer " << dropped_acked
            << "; confirmed seats sampled " << samples_ << " times, max "
            << max_confirmed_seen_ << "\n";
  for (const auto& [key, count] : tally) {
    std::cout << "[ chaos ]   " << KindName(key.first) << " "
              << OutcomeName(key.second) << ": " << count << "\n";
  }

  // The run did what it is for.
  EXPECT_EQ(townhalld_kills_, kTownhalldKills);
  EXPECT_EQ(redis_kills_, 1);
  for (Op::Kind kind : {Op::kSubmit, Op::kVote, Op::kRegister, Op::kCancel}) {
    EXPECT_GT((tally[{kind, Outcome::kAcked}]), 0) << KindName(kind);
  }
  EXPECT_GT(transient_acked, 0);
  EXPECT_GT(dropped_acked, 0);

  EXPECT_LE(max_confirmed_seen_, kCapacity);
  CheckQuestions(history);
  CheckVotes(history);
  CheckSeats(history);
}

}  // namespace
}  // namespace townhall::testing
