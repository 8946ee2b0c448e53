// WatchAgenda and the agenda feed: every feed entry parses as an
// AgendaChange; the watch's snapshot, live changes and resume (no gap, no
// duplicate), its views and authorization, a watcher falling behind, and
// its end at server shutdown.
#include <gmock/gmock.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <iostream>

#include "absl/strings/match.h"
#include "services/agenda/agenda_service.h"
#include "services/registration/registration_service.h"
#include "services/scheduling/scheduling_service.h"
#include "services/tenancy/tenant_service.h"
#include "tests/integration/agenda/agenda_fixture.h"

namespace townhall::testing {
namespace {

using ::testing::ElementsAre;

using Code = absl::StatusCode;

// Every feed entry's data is an AgendaChange (without version and kind)
// that the watch can parse, with the entity its kind names.
TEST(AgendaFeedTest, EveryEntryParsesAsAnAgendaChange) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t));
  ASSERT_OK_AND_ASSIGN(v1::AgendaItem a,
                       AddItem(t, s.id(), "Пандемия: ситуация / \"quotes\""));
  ASSERT_OK_AND_ASSIGN(v1::AgendaItem b, AddItem(t, s.id(), "B"));
  v1::MoveAgendaItemRequest move;
  move.set_session_id(s.id());
  move.set_agenda_item_id(b.id());
  move.set_position(0);
  ASSERT_OK(t.client.MoveAgendaItem(move).status());
  ASSERT_OK(Activate(t, s.id(), a.id()));
  ASSERT_OK(Activate(t, s.id(), b.id()));
  v1::ProposeTopicRequest propose;
  propose.set_session_id(s.id());
  propose.set_participant_id("alice");
  propose.set_title("Topic");
  ASSERT_OK_AND_ASSIGN(v1::ProposeTopicResponse proposed,
                       t.client.ProposeTopic(propose));
  v1::DeclineTopicProposalRequest decline;
  decline.set_session_id(s.id());
  decline.set_topic_proposal_id(proposed.proposal().id());
  decline.set_reason("No time");
  ASSERT_OK(t.client.DeclineTopicProposal(decline).status());
  v1::RecordOutcomeRequest outcome;
  outcome.set_session_id(s.id());
  outcome.mutable_outcome()->set_agenda_item_id(a.id());
  outcome.mutable_outcome()->set_kind(v1::OUTCOME_KIND_AGREEMENT);
  outcome.mutable_outcome()->set_text("Агрееd");
  ASSERT_OK(t.client.RecordOutcome(outcome).status());
  ASSERT_OK_AND_ASSIGN(v1::ActionItem action,
                       AddAction(t, s.id(), "Act", "Ministry of Health"));
  ASSERT_OK(SetActionStatus(t, s.id(), action.id(), v1::ACTION_ITEM_STATUS_DONE)
                .status());
  ASSERT_OK(t.client
                .CompleteAgendaItem(
                    For<v1::CompleteAgendaItemRequest>(s.id(), b.id()))
                .status());

  absl::StatusOr<std::vector<Change>> changes =
      ReadChangesSince(Redis(), agenda::AgendaFeedKeys(t.id, s.id()), 0, 100);
  ASSERT_TRUE(changes.ok()) << changes.status();
  std::vector<std::string> kinds;
  for (const Change& c : *changes) {
    kinds.push_back(c.kind);
    v1::AgendaChange change;
    auto parsed = google::protobuf::util::JsonStringToMessage(c.data, &change);
    ASSERT_TRUE(parsed.ok())
        << c.kind << ": " << parsed.ToString() << ": " << c.data;
    EXPECT_TRUE(change.has_time()) << c.data;
    if (c.kind == "agenda.item.moved") {
      EXPECT_THAT(change.order(), ElementsAre(b.id(), a.id()));
    } else if (absl::StartsWith(c.kind, "agenda.item.")) {
      EXPECT_EQ(change.entity_case(), v1::AgendaChange::kItem) << c.data;
      EXPECT_EQ(change.item().id(), c.entity_id);
    } else if (absl::StartsWith(c.kind, "agenda.proposal.")) {
      EXPECT_EQ(change.entity_case(), v1::AgendaChange::kProposal);
    } else if (c.kind == "agenda.outcome.recorded") {
      EXPECT_EQ(change.outcome().text(), "Агрееd");
    } else {
      EXPECT_EQ(change.entity_case(), v1::AgendaChange::kActionItem);
    }
  }
  EXPECT_THAT(kinds,
              ElementsAre("agenda.item.created", "agenda.item.created",
                          "agenda.item.moved", "agenda.item.activated",
                          "agenda.item.completed", "agenda.item.activated",
                          "agenda.proposal.created", "agenda.proposal.declined",
                          "agenda.outcome.recorded", "agenda.action.created",
                          "agenda.action.updated", "agenda.item.completed"));
  ASSERT_OK_AND_ASSIGN(v1::AgendaSnapshot agenda, Agenda(t, s.id()));
  EXPECT_EQ(agenda.version(), static_cast<int64_t>(kinds.size()));
  EXPECT_EQ(agenda.items(1).title(), "Пандемия: ситуация / \"quotes\"");
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
  RedisConnection redis(SharedRedisOptions());
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
