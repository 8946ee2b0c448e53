// The speakers' queue and WatchAgenda, in process: the fairness rules, the
// error codes, and the watch's snapshot, live changes and resume (no gap,
// no duplicate), its authorization and its end at server shutdown.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/agenda/agenda_keys.h"
#include "services/agenda/agenda_service.h"
#include "services/common/change_feed.h"
#include "services/common/ids.h"
#include "services/common/proto_time.h"
#include "services/common/redis/redis_connection.h"
#include "services/registration/registration_service.h"
#include "services/scheduling/scheduling_service.h"
#include "services/tenancy/tenant_service.h"
#include "tests/integration/agenda_test_util.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/shared_server.h"
#include "tests/testing/status_matchers.h"

namespace townhall::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;

class AgendaLiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::string> token =
        ServerEnvironment::server().NewTenantToken(&tenant_);
    ASSERT_TRUE(token.ok()) << token.status();
    token_ = *token;
    organizer_ = std::make_unique<TownhallClient>(
        ServerEnvironment::server().Client(token_));
    absl::StatusOr<v1::Session> session = NewAgendaSession(*organizer_);
    ASSERT_TRUE(session.ok()) << session.status();
    session_ = *session;
    item_ = NewItem("Budget");
    ASSERT_FALSE(item_.empty());
  }

  // An agenda item through the API; "" on failure.
  std::string NewItem(const std::string& title) {
    v1::CreateAgendaItemRequest request;
    request.set_session_id(session_.id());
    request.mutable_item()->set_title(title);
    absl::StatusOr<v1::CreateAgendaItemResponse> created =
        organizer_->CreateAgendaItem(request);
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? created->item().id() : "";
  }

  // A client acting as `participant` (a join token; organization `org`).
  TownhallClient As(const std::string& participant, const std::string& org) {
    return ServerEnvironment::server().Client(
        JoinToken(tenant_, session_.id(), participant, org));
  }

  absl::StatusOr<v1::RaiseHandResponse> Raise(const std::string& participant,
                                              const std::string& org,
                                              const std::string& item) {
    v1::RaiseHandRequest request;
    request.set_session_id(session_.id());
    request.set_agenda_item_id(item);
    request.set_participant_id(participant);
    return As(participant, org).RaiseHand(request);
  }

  absl::StatusOr<v1::CallNextSpeakerResponse> CallNext(
      const std::string& item, const std::string& chosen = "") {
    v1::CallNextSpeakerRequest request;
    request.set_session_id(session_.id());
    request.set_agenda_item_id(item);
    request.set_speaker_participant_id(chosen);
    return organizer_->CallNextSpeaker(request);
  }

  absl::StatusOr<v1::FinishSpeakerResponse> FinishTurn(
      const std::string& item) {
    v1::FinishSpeakerRequest request;
    request.set_session_id(session_.id());
    request.set_agenda_item_id(item);
    return organizer_->FinishSpeaker(request);
  }

  absl::Status SetOptions(const std::string& item,
                          const v1::SpeakersQueueOptions& options) {
    v1::SetSpeakersQueueOptionsRequest request;
    request.set_session_id(session_.id());
    request.set_agenda_item_id(item);
    *request.mutable_options() = options;
    return organizer_->SetSpeakersQueueOptions(request).status();
  }

  std::string tenant_;
  std::string token_;
  std::unique_ptr<TownhallClient> organizer_;
  v1::Session session_;
  std::string item_;
};

std::vector<std::string> Ids(const v1::SpeakersQueue& queue,
                             v1::SpeakerState state) {
  std::vector<std::string> out;
  for (const v1::Speaker& s : queue.speakers()) {
    if (s.state() == state) out.push_back(s.participant_id());
  }
  return out;
}

TEST_F(AgendaLiveTest, FairnessFirstTimersThenArrivalWithOrganizationLimit) {
  // A1 and B1 spoke on an earlier item: they are not first-time speakers.
  std::string earlier = NewItem("Opening");
  for (const auto& [p, org] : std::vector<std::pair<std::string, std::string>>{
           {"a1", "orgA"}, {"b1", "orgB"}}) {
    ASSERT_OK(Raise(p, org, earlier).status());
    ASSERT_OK(CallNext(earlier).status());
  }
  ASSERT_OK(FinishTurn(earlier).status());

  v1::SpeakersQueueOptions options;
  options.set_first_time_speakers_first(true);
  options.set_max_speakers_per_organization(2);
  ASSERT_OK(SetOptions(item_, options));
  // Ten hands from four organizations, in this arrival order.
  const std::vector<std::pair<std::string, std::string>> hands = {
      {"a1", "orgA"}, {"a2", "orgA"}, {"a3", "orgA"}, {"b1", "orgB"},
      {"a4", "orgA"}, {"b2", "orgB"}, {"c1", "orgC"}, {"b3", "orgB"},
      {"c2", "orgC"}, {"d1", "orgD"}};
  v1::SpeakersQueue queue;
  for (const auto& [p, org] : hands) {
    absl::StatusOr<v1::RaiseHandResponse> raised = Raise(p, org, item_);
    ASSERT_OK(raised.status());
    queue = raised->queue();
  }
  // First-timers first in arrival order; an organization with two speakers
  // on this item is skipped; a1, b1 (not first-time, orgs full) and a4
  // (orgA full) can never be called.
  const std::vector<std::string> expected = {"a2", "a3", "b2", "c1",
                                             "b3", "c2", "d1"};
  std::vector<std::string> waiting = Ids(queue, v1::SPEAKER_STATE_WAITING);
  std::vector<std::string> full_order = expected;
  full_order.insert(full_order.end(), {"a1", "b1", "a4"});
  EXPECT_THAT(waiting, ElementsAreArray(full_order));
  for (const v1::Speaker& s : queue.speakers()) {
    EXPECT_EQ(s.first_time(),
              s.participant_id() != "a1" && s.participant_id() != "b1")
        << s.participant_id();
    EXPECT_FALSE(s.organization_id().empty());
  }

  std::vector<std::string> called;
  for (int i = 0; i < 10; ++i) {
    absl::StatusOr<v1::CallNextSpeakerResponse> next = CallNext(item_);
    ASSERT_OK(next.status());
    if (!next->has_speaker()) break;
    called.push_back(next->speaker().participant_id());
    EXPECT_EQ(next->speaker().state(), v1::SPEAKER_STATE_SPEAKING);
    EXPECT_EQ(next->queue().speakers(0).participant_id(), called.back());
  }
  EXPECT_THAT(called, ElementsAreArray(expected));

  v1::GetSpeakersQueueRequest get;
  get.set_session_id(session_.id());
  get.set_agenda_item_id(item_);
  absl::StatusOr<v1::GetSpeakersQueueResponse> got =
      organizer_->GetSpeakersQueue(get);
  ASSERT_OK(got.status());
  // The last one called has been done since no one else could be called.
  EXPECT_THAT(Ids(got->queue(), v1::SPEAKER_STATE_WAITING),
              ElementsAre("a1", "b1", "a4"));
  EXPECT_EQ(Ids(got->queue(), v1::SPEAKER_STATE_DONE).size(), 7u);
}

TEST_F(AgendaLiveTest, OverrunIsReported) {
  v1::SpeakersQueueOptions options;
  options.mutable_speaking_time_limit()->set_nanos(100'000'000);  // 100 ms
  ASSERT_OK(SetOptions(item_, options));
  ASSERT_OK(Raise("p1", "org", item_).status());
  ASSERT_OK(Raise("p2", "org", item_).status());
  absl::StatusOr<v1::CallNextSpeakerResponse> next = CallNext(item_);
  ASSERT_OK(next.status());
  EXPECT_EQ(next->speaker().participant_id(), "p1");
  absl::SleepFor(absl::Milliseconds(350));
  absl::StatusOr<v1::FinishSpeakerResponse> finished = FinishTurn(item_);
  ASSERT_OK(finished.status());
  EXPECT_EQ(finished->speaker().participant_id(), "p1");
  EXPECT_EQ(finished->speaker().state(), v1::SPEAKER_STATE_DONE);
  absl::Duration overrun = ToDuration(finished->overrun());
  EXPECT_GE(overrun, absl::Milliseconds(200));
  EXPECT_LT(overrun, absl::Seconds(5));

  // On time: no overrun.
  ASSERT_OK(CallNext(item_).status());
  options.mutable_speaking_time_limit()->set_seconds(60);
  options.mutable_speaking_time_limit()->set_nanos(0);
  ASSERT_OK(SetOptions(item_, options));
  finished = FinishTurn(item_);
  ASSERT_OK(finished.status());
  EXPECT_EQ(finished->speaker().participant_id(), "p2");
  EXPECT_EQ(ToDuration(finished->overrun()), absl::ZeroDuration());
}

TEST_F(AgendaLiveTest, RaiseLowerAndErrorCodes) {
  // A second raise while waiting changes nothing.
  absl::StatusOr<v1::RaiseHandResponse> first = Raise("p1", "org", item_);
  ASSERT_OK(first.status());
  absl::StatusOr<v1::RaiseHandResponse> again = Raise("p1", "org", item_);
  ASSERT_OK(again.status());
  EXPECT_EQ(again->queue().speakers_size(), 1);
  EXPECT_EQ(again->queue().speakers(0).raise_time().seconds(),
            first->queue().speakers(0).raise_time().seconds());
  EXPECT_EQ(again->queue().speakers(0).raise_time().nanos(),
            first->queue().speakers(0).raise_time().nanos());

  v1::LowerHandRequest lower;
  lower.set_session_id(session_.id());
  lower.set_agenda_item_id(item_);
  lower.set_participant_id("p1");
  absl::StatusOr<v1::LowerHandResponse> lowered =
      As("p1", "org").LowerHand(lower);
  ASSERT_OK(lowered.status());
  EXPECT_EQ(lowered->queue().speakers(0).state(), v1::SPEAKER_STATE_WITHDRAWN);
  EXPECT_EQ(As("p1", "org").LowerHand(lower).status().code(),
            absl::StatusCode::kFailedPrecondition);

  // Speaking, then done, then raising again is allowed.
  ASSERT_OK(Raise("p1", "org", item_).status());
  EXPECT_EQ(CallNext(item_)->speaker().participant_id(), "p1");
  EXPECT_EQ(Raise("p1", "org", item_)->queue().speakers_size(), 1);
  ASSERT_OK(FinishTurn(item_).status());
  absl::StatusOr<v1::RaiseHandResponse> after_done = Raise("p1", "org", item_);
  ASSERT_OK(after_done.status());
  EXPECT_THAT(Ids(after_done->queue(), v1::SPEAKER_STATE_WAITING),
              ElementsAre("p1"));
  EXPECT_FALSE(after_done->queue().speakers(0).first_time());

  // Errors.
  EXPECT_EQ(FinishTurn(item_).status().code(),
            absl::StatusCode::kFailedPrecondition);  // nobody speaking
  EXPECT_EQ(CallNext(item_, "nobody").status().code(),
            absl::StatusCode::kFailedPrecondition);  // not waiting
  EXPECT_EQ(Raise("p2", "org", "no-such-item").status().code(),
            absl::StatusCode::kNotFound);
  v1::RaiseHandRequest raise;
  raise.set_session_id(session_.id());
  raise.set_agenda_item_id(item_);
  EXPECT_EQ(organizer_->RaiseHand(raise).status().code(),
            absl::StatusCode::kInvalidArgument);  // no participant
  raise.set_participant_id("someone-else");
  EXPECT_EQ(As("p2", "org").RaiseHand(raise).status().code(),
            absl::StatusCode::kPermissionDenied);  // not their own hand
  v1::SpeakersQueueOptions options;
  options.mutable_speaking_time_limit()->set_seconds(3601);
  EXPECT_EQ(SetOptions(item_, options).code(),
            absl::StatusCode::kInvalidArgument);
  options.mutable_speaking_time_limit()->set_seconds(-1);
  EXPECT_EQ(SetOptions(item_, options).code(),
            absl::StatusCode::kInvalidArgument);
  options.Clear();
  options.set_max_speakers_per_organization(-1);
  EXPECT_EQ(SetOptions(item_, options).code(),
            absl::StatusCode::kInvalidArgument);
  // A participant may not call speakers.
  v1::CallNextSpeakerRequest call;
  call.set_session_id(session_.id());
  call.set_agenda_item_id(item_);
  EXPECT_EQ(As("p2", "org").CallNextSpeaker(call).status().code(),
            absl::StatusCode::kPermissionDenied);

  // No hands once the session is over.
  v1::CancelSessionRequest cancel;
  cancel.set_session_id(session_.id());
  cancel.set_reason("test");
  ASSERT_OK(organizer_->CancelSession(cancel).status());
  EXPECT_EQ(Raise("p3", "org", item_).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(AgendaLiveTest, WatchSnapshotThenChangesThenResume) {
  // The snapshot carries the agenda and the active item's queue.
  std::string second = NewItem("Any other business");
  ASSERT_OK(StartLive(*organizer_, session_.id()));
  v1::ActivateAgendaItemRequest activate;
  activate.set_session_id(session_.id());
  activate.set_agenda_item_id(item_);
  ASSERT_OK(organizer_->ActivateAgendaItem(activate).status());
  ASSERT_OK(Raise("early", "org", item_).status());
  auto channel = ServerEnvironment::server().Client(token_).channel();
  auto watcher = std::make_unique<WatchReader>(channel, token_, session_.id());
  std::vector<v1::WatchAgendaResponse> got = watcher->WaitFor(1);
  ASSERT_FALSE(got.empty());
  ASSERT_TRUE(got[0].has_snapshot());
  const v1::AgendaSnapshot& snapshot = got[0].snapshot();
  EXPECT_EQ(snapshot.session_id(), session_.id());
  ASSERT_EQ(snapshot.items_size(), 2);
  EXPECT_EQ(snapshot.items(0).id(), item_);
  EXPECT_EQ(snapshot.items(1).id(), second);
  EXPECT_EQ(snapshot.active_item_id(), item_);
  EXPECT_EQ(snapshot.speakers_queue().agenda_item_id(), item_);
  ASSERT_EQ(snapshot.speakers_queue().speakers_size(), 1);
  EXPECT_EQ(snapshot.speakers_queue().speakers(0).participant_id(), "early");
  EXPECT_TRUE(snapshot.has_server_time());
  // Two items created, one activated, one hand raised.
  EXPECT_EQ(snapshot.version(), 4);
  const int64_t start = snapshot.version();

  for (int i = 0; i < 5; ++i) {
    ASSERT_OK(Raise(absl::StrCat("p", i), "org", item_).status());
  }
  got = watcher->WaitFor(6);
  ASSERT_EQ(got.size(), 6u);
  EXPECT_THAT(ChangeVersions(got), ElementsAre(start + 1, start + 2, start + 3,
                                               start + 4, start + 5));
  for (size_t i = 1; i < got.size(); ++i) {
    EXPECT_EQ(got[i].change().kind(), "agenda.speakers.changed");
    EXPECT_EQ(got[i].change().speakers_queue().agenda_item_id(), item_);
    EXPECT_EQ(got[i].change().speakers_queue().speakers_size(),
              static_cast<int>(i) + 1);
    EXPECT_TRUE(got[i].change().has_time());
  }
  watcher.reset();  // disconnects

  // Missed while away: exactly these, then live ones.
  for (int i = 5; i < 9; ++i) {
    ASSERT_OK(Raise(absl::StrCat("p", i), "org", item_).status());
  }
  WatchReader resumed(channel, token_, session_.id(), start + 5);
  got = resumed.WaitFor(4);
  EXPECT_THAT(ChangeVersions(got),
              ElementsAre(start + 6, start + 7, start + 8, start + 9));
  ASSERT_OK(CallNext(item_).status());
  got = resumed.WaitFor(5);
  EXPECT_THAT(ChangeVersions(got), ElementsAre(start + 6, start + 7, start + 8,
                                               start + 9, start + 10));
  EXPECT_EQ(got.back().change().speakers_queue().speakers(0).state(),
            v1::SPEAKER_STATE_SPEAKING);
  // Nothing else arrives (no duplicate).
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(resumed.WaitFor(6, absl::Milliseconds(1)).size(), 5u);

  // A resume from a version the feed never had: a fresh snapshot.
  WatchReader bogus(channel, token_, session_.id(), start + 1000);
  got = bogus.WaitFor(1);
  ASSERT_EQ(got.size(), 1u);
  ASSERT_TRUE(got[0].has_snapshot());
  EXPECT_EQ(got[0].snapshot().version(), start + 10);
}

TEST_F(AgendaLiveTest, MembersWatchOnlyTheirOwnTopicProposals) {
  auto channel = ServerEnvironment::server().Client(token_).channel();
  WatchReader alice(channel, JoinToken(tenant_, session_.id(), "alice"),
                    session_.id());
  WatchReader organizer(channel, token_, session_.id());
  ASSERT_EQ(alice.WaitFor(1).size(), 1u);
  ASSERT_EQ(organizer.WaitFor(1).size(), 1u);
  for (const std::string who : {"bob", "alice"}) {
    v1::ProposeTopicRequest propose;
    propose.set_session_id(session_.id());
    propose.set_participant_id(who);
    propose.set_title(absl::StrCat("Topic of ", who));
    ASSERT_OK(As(who, "org").ProposeTopic(propose).status());
  }
  // The organizer sees both; alice only hers (bob's version is skipped).
  std::vector<v1::WatchAgendaResponse> all = organizer.WaitFor(3);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[1].change().proposal().participant_id(), "bob");
  EXPECT_EQ(all[2].change().proposal().participant_id(), "alice");
  std::vector<v1::WatchAgendaResponse> hers = alice.WaitFor(2);
  ASSERT_EQ(hers.size(), 2u);
  EXPECT_EQ(hers[1].change().proposal().participant_id(), "alice");
  EXPECT_EQ(hers[1].change().version(), all[2].change().version());
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_EQ(alice.WaitFor(3, absl::Milliseconds(1)).size(), 2u);
  // Resuming from before both: still only hers.
  WatchReader resumed(channel, JoinToken(tenant_, session_.id(), "alice"),
                      session_.id(), all[0].snapshot().version());
  std::vector<v1::WatchAgendaResponse> again = resumed.WaitFor(1);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].change().proposal().participant_id(), "alice");
}

TEST_F(AgendaLiveTest, WatchIsAuthorized) {
  auto channel = ServerEnvironment::server().Client(token_).channel();
  // A member of the session may watch it.
  WatchReader member(channel, JoinToken(tenant_, session_.id(), "p1", "org"),
                     session_.id());
  ASSERT_EQ(member.WaitFor(1).size(), 1u);
  // A member of another session does not find it.
  absl::StatusOr<v1::Session> other = NewAgendaSession(*organizer_);
  ASSERT_OK(other.status());
  WatchReader outsider(channel, JoinToken(tenant_, other->id(), "p1", "org"),
                       session_.id());
  absl::StatusOr<grpc::Status> ended = outsider.Ended(absl::Seconds(10));
  ASSERT_OK(ended.status());
  EXPECT_EQ(ended->error_code(), grpc::StatusCode::NOT_FOUND);
  // Another tenant's organizer does not find it.
  std::string other_tenant_token =
      *ServerEnvironment::server().NewTenantToken();
  WatchReader stranger(channel, other_tenant_token, session_.id());
  ended = stranger.Ended(absl::Seconds(10));
  ASSERT_OK(ended.status());
  EXPECT_EQ(ended->error_code(), grpc::StatusCode::NOT_FOUND);
  // No token at all.
  WatchReader anonymous(channel, "", session_.id());
  ended = anonymous.Ended(absl::Seconds(10));
  ASSERT_OK(ended.status());
  EXPECT_EQ(ended->error_code(), grpc::StatusCode::UNAUTHENTICATED);
  // A bad session id.
  WatchReader bad(channel, token_, "not a valid id!");
  ended = bad.Ended(absl::Seconds(10));
  ASSERT_OK(ended.status());
  EXPECT_EQ(ended->error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(AgendaLiveTest, WatcherFallingBehindGetsAFreshSnapshot) {
  // A server whose watchers may have at most 5 messages waiting.
  TestServerOptions options;
  options.redis_address = SharedRedisAddress();
  options.modules = {tenancy::TenantModule(), scheduling::SchedulingModule(),
                     registration::RegistrationModule(),
                     agenda::AgendaModule({.max_backlog = 5})};
  absl::StatusOr<std::unique_ptr<TestServer>> server =
      TestServer::Start(options);
  ASSERT_OK(server.status());
  std::string tenant;
  std::string token = *(*server)->NewTenantToken(&tenant);
  TownhallClient client = (*server)->Client(token);
  absl::StatusOr<v1::Session> session = NewAgendaSession(client);
  ASSERT_OK(session.status());
  v1::CreateAgendaItemRequest create;
  create.set_session_id(session->id());
  create.mutable_item()->set_title("Budget");
  absl::StatusOr<v1::CreateAgendaItemResponse> item =
      client.CreateAgendaItem(create);
  ASSERT_OK(item.status());
  WatchReader watcher(client.channel(), token, session->id());
  std::vector<v1::WatchAgendaResponse> got = watcher.WaitFor(1);
  ASSERT_EQ(got.size(), 1u);
  const int64_t start = got[0].snapshot().version();

  // 50 changes in one step: the hub reads them in one batch, more than the
  // watcher may have waiting. (Synthetic entries, written the way
  // th_feed_append writes them.)
  FeedKeys keys = agenda::AgendaFeedKeys(tenant, session->id());
  std::vector<std::vector<std::string>> commands = {{"MULTI"}};
  for (int i = 1; i <= 50; ++i) {
    commands.push_back({"INCR", keys.version});
    commands.push_back({"XADD", keys.events, absl::StrCat(start + i, "-0"),
                        "kind", "agenda.test", "id", "x", "data",
                        R"({"time":"2026-01-01T00:00:00Z"})"});
  }
  commands.push_back({"EXEC"});
  RedisOptions redis_options;
  redis_options.address = SharedRedisAddress();
  RedisConnection redis(redis_options);
  redis.set_deadline(absl::Now() + absl::Seconds(5));
  ASSERT_OK(redis.Pipeline(commands).status());

  got = watcher.WaitForVersion(start + 50);
  ASSERT_GE(got.size(), 2u);
  ASSERT_TRUE(got.back().has_snapshot()) << got.back().DebugString();
  EXPECT_EQ(got.back().snapshot().version(), start + 50);
  EXPECT_EQ(got.back().snapshot().items_size(), 1);
  // Live again after the fresh snapshot.
  v1::RaiseHandRequest raise;
  raise.set_session_id(session->id());
  raise.set_agenda_item_id(item->item().id());
  raise.set_participant_id("p1");
  ASSERT_OK(client.RaiseHand(raise).status());
  got = watcher.WaitForVersion(start + 51);
  ASSERT_TRUE(got.back().has_change());
  EXPECT_EQ(got.back().change().version(), start + 51);
  std::cout << "messages: " << got.size() << " (snapshot, "
            << ChangeVersions(got).size() - 1
            << " changes before falling behind, fresh snapshot, 1 change)\n";
}

TEST_F(AgendaLiveTest, ShutdownFinishesOpenWatches) {
  TestServerOptions options;
  options.redis_address = SharedRedisAddress();
  options.shutdown_grace = absl::Seconds(30);
  absl::StatusOr<std::unique_ptr<TestServer>> server =
      TestServer::Start(options);
  ASSERT_OK(server.status());
  std::string token = *(*server)->NewTenantToken();
  TownhallClient client = (*server)->Client(token);
  absl::StatusOr<v1::Session> session = NewAgendaSession(client);
  ASSERT_OK(session.status());
  WatchReader watcher(client.channel(), token, session->id());
  ASSERT_EQ(watcher.WaitFor(1).size(), 1u);
  absl::Time start = absl::Now();
  (*server)->server().Shutdown();
  // Well within the 30 s grace: the watch did not hold shutdown.
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  absl::StatusOr<grpc::Status> ended = watcher.Ended(absl::Seconds(5));
  ASSERT_OK(ended.status());
  EXPECT_EQ(ended->error_code(), grpc::StatusCode::UNAVAILABLE);
}

}  // namespace
}  // namespace townhall::testing
