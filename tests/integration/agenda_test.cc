// Integration tests of AgendaService's core (AgendaLogic): items and their
// order, activation with exactly one ACTIVE item, topic proposals,
// outcomes, action items shared by a series, follow-ups and minutes. The
// C++ client talks gRPC to the shared in-process townhall server backed by
// a real Redis; every test works in a tenant of its own.
#include <gmock/gmock.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/agenda/agenda_keys.h"
#include "services/common/auth/jwt.h"
#include "services/common/change_feed.h"
#include "services/common/redis/redis_connection.h"
#include "services/common/tenant_keys.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/shared_server.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_server.h"

namespace townhall::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAreArray;

using Code = absl::StatusCode;

google::protobuf::Timestamp Ts(absl::Time t) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(absl::ToUnixSeconds(t));
  return ts;
}

google::protobuf::Duration Dur(absl::Duration d) {
  google::protobuf::Duration out;
  out.set_seconds(absl::ToInt64Seconds(d));
  return out;
}

RedisConnection& Redis() {
  static RedisConnection* redis = [] {
    RedisOptions options;
    options.address = SharedRedisAddress();
    return new RedisConnection(options);
  }();
  redis->set_deadline(absl::Now() + absl::Seconds(5));
  return *redis;
}

absl::StatusOr<v1::Session> NewSession(
    Tenant& t, bool live = true,
    const std::string& title = "Dialogue with compatriots abroad") {
  v1::CreateSessionRequest request;
  v1::Session* s = request.mutable_session();
  s->set_title(title);
  *s->mutable_start_time() = Ts(absl::Now() + absl::Hours(1));
  *s->mutable_duration() = Dur(absl::Hours(3));
  s->set_time_zone("Asia/Tashkent");
  s->set_format(v1::SESSION_FORMAT_ONLINE);
  s->set_join_url("https://meet.example.org/townhall");
  request.set_publish(true);
  absl::StatusOr<v1::CreateSessionResponse> created =
      t.client.CreateSession(request);
  if (!created.ok()) return created.status();
  if (!live) return created->session();
  v1::StartSessionRequest start;
  start.set_session_id(created->session().id());
  absl::StatusOr<v1::StartSessionResponse> started =
      t.client.StartSession(start);
  if (!started.ok()) return started.status();
  return started->session();
}

absl::StatusOr<v1::AgendaItem> AddItem(
    Tenant& t, const std::string& session, const std::string& title,
    absl::Duration planned = absl::Minutes(15),
    const std::string& request_id = "") {
  v1::CreateAgendaItemRequest request;
  request.set_session_id(session);
  request.mutable_item()->set_title(title);
  *request.mutable_item()->mutable_planned_duration() = Dur(planned);
  request.set_request_id(request_id);
  absl::StatusOr<v1::CreateAgendaItemResponse> response =
      t.client.CreateAgendaItem(request);
  if (!response.ok()) return response.status();
  return response->item();
}

absl::StatusOr<v1::AgendaSnapshot> Agenda(Tenant& t,
                                          const std::string& session) {
  v1::GetAgendaRequest request;
  request.set_session_id(session);
  absl::StatusOr<v1::GetAgendaResponse> response = t.client.GetAgenda(request);
  if (!response.ok()) return response.status();
  return response->agenda();
}

std::vector<std::string> Ids(const v1::AgendaSnapshot& agenda) {
  std::vector<std::string> ids;
  for (const auto& item : agenda.items()) ids.push_back(item.id());
  return ids;
}

std::vector<std::string> Titles(const v1::AgendaSnapshot& agenda) {
  std::vector<std::string> titles;
  for (const auto& item : agenda.items()) titles.push_back(item.title());
  return titles;
}

template <typename Request>
Request For(const std::string& session, const std::string& item) {
  Request request;
  request.set_session_id(session);
  request.set_agenda_item_id(item);
  return request;
}

absl::Status Activate(Tenant& t, const std::string& s, const std::string& id) {
  return t.client.ActivateAgendaItem(For<v1::ActivateAgendaItemRequest>(s, id))
      .status();
}

absl::StatusOr<v1::ActionItem> AddAction(Tenant& t, const std::string& session,
                                         const std::string& title,
                                         const std::string& department,
                                         const std::string& item_id = "",
                                         const std::string& request_id = "") {
  v1::CreateActionItemRequest request;
  request.set_session_id(session);
  v1::ActionItem* a = request.mutable_action_item();
  a->set_title(title);
  a->set_agenda_item_id(item_id);
  a->mutable_executor()->set_department(department);
  *a->mutable_deadline() = Ts(absl::Now() + absl::Hours(24 * 60));
  request.set_request_id(request_id);
  absl::StatusOr<v1::CreateActionItemResponse> response =
      t.client.CreateActionItem(request);
  if (!response.ok()) return response.status();
  return response->action_item();
}

absl::StatusOr<v1::ActionItem> SetActionStatus(Tenant& t,
                                               const std::string& session,
                                               const std::string& id,
                                               v1::ActionItemStatus status,
                                               const std::string& etag = "") {
  v1::UpdateActionItemRequest request;
  request.set_session_id(session);
  request.set_action_item_id(id);
  request.set_status(status);
  request.set_note("progress");
  request.set_etag(etag);
  absl::StatusOr<v1::UpdateActionItemResponse> response =
      t.client.UpdateActionItem(request);
  if (!response.ok()) return response.status();
  return response->action_item();
}

// The kinds on the session's feed, oldest first.
std::vector<std::string> FeedKinds(const Tenant& t, const std::string& s) {
  absl::StatusOr<std::vector<Change>> changes =
      ReadChangesSince(Redis(), agenda::AgendaFeedKeys(t.id, s), 0, 10000);
  std::vector<std::string> kinds;
  if (!changes.ok()) {
    ADD_FAILURE() << changes.status();
    return kinds;
  }
  for (const Change& c : *changes) kinds.push_back(c.kind);
  return kinds;
}

// A join token of a session member.
TownhallClient MemberClient(const Tenant& t, const std::string& session,
                            const std::string& participant,
                            Role role = Role::kParticipant) {
  absl::Time now = absl::Now();
  TokenClaims claims{.tenant_id = t.id,
                     .subject = participant,
                     .role = role,
                     .issue_time = now,
                     .expire_time = now + absl::Hours(1),
                     .session_id = session,
                     .participant_id = participant};
  return ServerEnvironment::server().Client(SignTestToken(claims));
}

// ---- Items --------------------------------------------------------------

TEST(AgendaItemTest, CreateValidatesAndIsIdempotent) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t, /*live=*/false));
  EXPECT_THAT(AddItem(t, s.id(), ""),
              StatusIs(Code::kInvalidArgument, HasSubstr("item.title")));
  EXPECT_THAT(AddItem(t, s.id(), std::string(301, 'x')),
              HasCode(Code::kInvalidArgument));
  EXPECT_THAT(AddItem(t, s.id(), "Zero", absl::ZeroDuration()),
              StatusIs(Code::kInvalidArgument, HasSubstr("planned_duration")));
  EXPECT_THAT(AddItem(t, s.id(), "Long", absl::Hours(25)),
              HasCode(Code::kInvalidArgument));
  v1::CreateAgendaItemRequest bad;
  bad.set_session_id(s.id());
  bad.mutable_item()->set_title("Bad presenter");
  bad.mutable_item()->add_presenter_participant_ids("no spaces!");
  EXPECT_THAT(t.client.CreateAgendaItem(bad), HasCode(Code::kInvalidArgument));
  bad.mutable_item()->clear_presenter_participant_ids();
  bad.mutable_item()->set_description(std::string(5001, 'd'));
  EXPECT_THAT(t.client.CreateAgendaItem(bad), HasCode(Code::kInvalidArgument));
  bad.mutable_item()->clear_description();
  bad.set_position(-1);
  EXPECT_THAT(t.client.CreateAgendaItem(bad), HasCode(Code::kInvalidArgument));

  ASSERT_OK_AND_ASSIGN(v1::AgendaItem a, AddItem(t, s.id(), "A"));
  EXPECT_EQ(a.status(), v1::AGENDA_ITEM_STATUS_PENDING);
  EXPECT_EQ(a.kind(), v1::AGENDA_ITEM_KIND_TOPIC);
  EXPECT_EQ(a.session_id(), s.id());
  EXPECT_EQ(a.position(), 0);
  EXPECT_FALSE(a.etag().empty());
  ASSERT_OK_AND_ASSIGN(v1::AgendaItem b,
                       AddItem(t, s.id(), "B", absl::Minutes(5), "req-b"));
  ASSERT_OK_AND_ASSIGN(v1::AgendaItem again,
                       AddItem(t, s.id(), "B", absl::Minutes(5), "req-b"));
  EXPECT_EQ(again.id(), b.id());
  EXPECT_EQ(b.position(), 1);
  // At a position: the others shift.
  v1::CreateAgendaItemRequest first;
  first.set_session_id(s.id());
  first.mutable_item()->set_title("First");
  first.set_position(0);
  ASSERT_OK_AND_ASSIGN(v1::CreateAgendaItemResponse made,
                       t.client.CreateAgendaItem(first));
  EXPECT_EQ(made.item().position(), 0);
  ASSERT_OK_AND_ASSIGN(v1::AgendaSnapshot agenda, Agenda(t, s.id()));
  EXPECT_THAT(Titles(agenda), ElementsAre("First", "A", "B"));
  EXPECT_EQ(agenda.items(2).position(), 2);
  EXPECT_EQ(agenda.version(), 3);
  EXPECT_THAT(FeedKinds(t, s.id()),
              ElementsAre("agenda.item.created", "agenda.item.created",
                          "agenda.item.created"));
}

TEST(AgendaItemTest, UpdateWithMaskAndEtag) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t, false));
  ASSERT_OK_AND_ASSIGN(v1::AgendaItem a, AddItem(t, s.id(), "Insurance"));
  v1::UpdateAgendaItemRequest request;
  request.set_session_id(s.id());
  request.mutable_item()->set_id(a.id());
  request.mutable_item()->set_title("Insurance of migrants");
  request.mutable_item()->set_description("ignored: not in the mask");
  request.mutable_update_mask()->add_paths("title");
  request.set_etag(a.etag());
  ASSERT_OK_AND_ASSIGN(v1::UpdateAgendaItemResponse updated,
                       t.client.UpdateAgendaItem(request));
  EXPECT_EQ(updated.item().title(), "Insurance of migrants");
  EXPECT_EQ(updated.item().description(), "");
  EXPECT_NE(updated.item().etag(), a.etag());
  // The old etag is stale now.
  EXPECT_THAT(t.client.UpdateAgendaItem(request), HasCode(Code::kAborted));
  request.set_etag("");
  EXPECT_THAT(t.client.UpdateAgendaItem(request),
              HasCode(Code::kInvalidArgument));
  request.set_etag(updated.item().etag());
  request.mutable_update_mask()->add_paths("status");
  EXPECT_THAT(t.client.UpdateAgendaItem(request),
              StatusIs(Code::kInvalidArgument, HasSubstr("status")));
  request.mutable_update_mask()->Clear();
  request.mutable_update_mask()->add_paths("planned_duration");
  *request.mutable_item()->mutable_planned_duration() = Dur(absl::Hours(30));
  EXPECT_THAT(t.client.UpdateAgendaItem(request),
              HasCode(Code::kInvalidArgument));
  *request.mutable_item()->mutable_planned_duration() = Dur(absl::Minutes(20));
  ASSERT_OK_AND_ASSIGN(updated, t.client.UpdateAgendaItem(request));
  EXPECT_EQ(updated.item().planned_duration().seconds(), 1200);
  EXPECT_EQ(updated.item().title(), "Insurance of migrants");
  request.mutable_item()->set_id("nosuchitem");
  EXPECT_THAT(t.client.UpdateAgendaItem(request), HasCode(Code::kNotFound));
}

TEST(AgendaItemTest, MoveAndDelete) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t));
  std::vector<std::string> ids;
  for (const char* title : {"A", "B", "C", "D"}) {
    ASSERT_OK_AND_ASSIGN(v1::AgendaItem item, AddItem(t, s.id(), title));
    ids.push_back(item.id());
  }
  auto move = [&](const std::string& id, int position) {
    v1::MoveAgendaItemRequest request;
    request.set_session_id(s.id());
    request.set_agenda_item_id(id);
    request.set_position(position);
    return t.client.MoveAgendaItem(request);
  };
  ASSERT_OK_AND_ASSIGN(v1::MoveAgendaItemResponse moved, move(ids[0], 2));
  std::vector<std::string> titles;
  for (const auto& item : moved.items()) titles.push_back(item.title());
  EXPECT_THAT(titles, ElementsAre("B", "C", "A", "D"));
  EXPECT_EQ(moved.items(2).position(), 2);
  ASSERT_OK(move(ids[1], 99).status());  // beyond the end: last
  ASSERT_OK_AND_ASSIGN(v1::AgendaSnapshot agenda, Agenda(t, s.id()));
  EXPECT_THAT(Titles(agenda), ElementsAre("C", "A", "D", "B"));
  EXPECT_THAT(move(ids[1], -1), HasCode(Code::kInvalidArgument));
  EXPECT_THAT(move("missing", 0), HasCode(Code::kNotFound));
  EXPECT_THAT(FeedKinds(t, s.id()).back(), "agenda.item.moved");

  // Only PENDING items can be deleted.
  ASSERT_OK(Activate(t, s.id(), ids[2]));
  EXPECT_THAT(t.client.DeleteAgendaItem(
                  For<v1::DeleteAgendaItemRequest>(s.id(), ids[2])),
              HasCode(Code::kFailedPrecondition));
  ASSERT_OK(
      t.client
          .DeleteAgendaItem(For<v1::DeleteAgendaItemRequest>(s.id(), ids[0]))
          .status());
  EXPECT_THAT(t.client.DeleteAgendaItem(
                  For<v1::DeleteAgendaItemRequest>(s.id(), ids[0])),
              HasCode(Code::kNotFound));
  ASSERT_OK_AND_ASSIGN(agenda, Agenda(t, s.id()));
  EXPECT_THAT(Titles(agenda), ElementsAre("C", "D", "B"));
  EXPECT_EQ(FeedKinds(t, s.id()).back(), "agenda.item.deleted");
}

TEST(AgendaItemTest, StateMachine) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session draft, NewSession(t, false));
  ASSERT_OK_AND_ASSIGN(v1::AgendaItem early, AddItem(t, draft.id(), "Early"));
  EXPECT_THAT(Activate(t, draft.id(), early.id()),
              StatusIs(Code::kFailedPrecondition, HasSubstr("LIVE")));

  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t));
  ASSERT_OK_AND_ASSIGN(v1::AgendaItem a, AddItem(t, s.id(), "A"));
  ASSERT_OK_AND_ASSIGN(v1::AgendaItem b, AddItem(t, s.id(), "B"));
  ASSERT_OK_AND_ASSIGN(v1::AgendaItem c, AddItem(t, s.id(), "C"));
  EXPECT_THAT(t.client.CompleteAgendaItem(
                  For<v1::CompleteAgendaItemRequest>(s.id(), a.id())),
              HasCode(Code::kFailedPrecondition));
  ASSERT_OK_AND_ASSIGN(
      v1::SkipAgendaItemResponse skipped,
      t.client.SkipAgendaItem(For<v1::SkipAgendaItemRequest>(s.id(), c.id())));
  EXPECT_EQ(skipped.item().status(), v1::AGENDA_ITEM_STATUS_SKIPPED);
  EXPECT_THAT(
      t.client.SkipAgendaItem(For<v1::SkipAgendaItemRequest>(s.id(), c.id())),
      HasCode(Code::kFailedPrecondition));

  ASSERT_OK_AND_ASSIGN(v1::ActivateAgendaItemResponse first,
                       t.client.ActivateAgendaItem(
                           For<v1::ActivateAgendaItemRequest>(s.id(), a.id())));
  EXPECT_EQ(first.item().status(), v1::AGENDA_ITEM_STATUS_ACTIVE);
  EXPECT_TRUE(first.item().has_actual_start_time());
  EXPECT_FALSE(first.has_previous());
  // A repeat changes nothing.
  ASSERT_OK(Activate(t, s.id(), a.id()));
  ASSERT_OK_AND_ASSIGN(v1::ActivateAgendaItemResponse second,
                       t.client.ActivateAgendaItem(
                           For<v1::ActivateAgendaItemRequest>(s.id(), b.id())));
  EXPECT_EQ(second.previous().id(), a.id());
  EXPECT_EQ(second.previous().status(), v1::AGENDA_ITEM_STATUS_DONE);
  EXPECT_TRUE(second.previous().has_actual_end_time());
  // DONE items stay done; SKIPPED ones can be taken up later.
  EXPECT_THAT(Activate(t, s.id(), a.id()), HasCode(Code::kFailedPrecondition));
  EXPECT_THAT(
      t.client.SkipAgendaItem(For<v1::SkipAgendaItemRequest>(s.id(), b.id())),
      HasCode(Code::kFailedPrecondition));
  ASSERT_OK_AND_ASSIGN(v1::CompleteAgendaItemResponse done,
                       t.client.CompleteAgendaItem(
                           For<v1::CompleteAgendaItemRequest>(s.id(), b.id())));
  EXPECT_EQ(done.item().status(), v1::AGENDA_ITEM_STATUS_DONE);
  ASSERT_OK_AND_ASSIGN(v1::AgendaSnapshot agenda, Agenda(t, s.id()));
  EXPECT_EQ(agenda.active_item_id(), "");
  ASSERT_OK(Activate(t, s.id(), c.id()));
  ASSERT_OK_AND_ASSIGN(agenda, Agenda(t, s.id()));
  EXPECT_EQ(agenda.active_item_id(), c.id());
  EXPECT_EQ(agenda.items(2).status(), v1::AGENDA_ITEM_STATUS_ACTIVE);
  EXPECT_THAT(Activate(t, s.id(), "missing"), HasCode(Code::kNotFound));
  EXPECT_THAT(FeedKinds(t, s.id()),
              ElementsAre("agenda.item.created", "agenda.item.created",
                          "agenda.item.created", "agenda.item.skipped",
                          "agenda.item.activated", "agenda.item.completed",
                          "agenda.item.activated", "agenda.item.completed",
                          "agenda.item.activated"));
}

TEST(AgendaItemTest, EndedSessionsAgendaIsARecord) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t));
  ASSERT_OK_AND_ASSIGN(v1::AgendaItem a, AddItem(t, s.id(), "A"));
  v1::EndSessionRequest end;
  end.set_session_id(s.id());
  ASSERT_OK(t.client.EndSession(end).status());
  EXPECT_THAT(
      AddItem(t, s.id(), "Too late"),
      StatusIs(Code::kFailedPrecondition, HasSubstr("SESSION_STATE_ENDED")));
  EXPECT_THAT(
      t.client.SkipAgendaItem(For<v1::SkipAgendaItemRequest>(s.id(), a.id())),
      HasCode(Code::kFailedPrecondition));
  v1::DeleteAgendaItemRequest remove;
  remove.set_session_id(s.id());
  remove.set_agenda_item_id(a.id());
  EXPECT_THAT(t.client.DeleteAgendaItem(remove),
              HasCode(Code::kFailedPrecondition));
  // Nothing changed; outcomes may still be written up.
  v1::GetAgendaRequest get;
  get.set_session_id(s.id());
  ASSERT_OK_AND_ASSIGN(v1::GetAgendaResponse agenda, t.client.GetAgenda(get));
  ASSERT_EQ(agenda.agenda().items_size(), 1);
  EXPECT_EQ(agenda.agenda().items(0).status(), v1::AGENDA_ITEM_STATUS_PENDING);
  v1::RecordOutcomeRequest outcome;
  outcome.set_session_id(s.id());
  outcome.mutable_outcome()->set_agenda_item_id(a.id());
  outcome.mutable_outcome()->set_kind(v1::OUTCOME_KIND_AGREEMENT);
  outcome.mutable_outcome()->set_text("Written up after the session");
  EXPECT_OK(t.client.RecordOutcome(outcome).status());
}

TEST(AgendaItemTest, OverrunIsComputedAtReadTime) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t));
  ASSERT_OK_AND_ASSIGN(v1::AgendaItem a,
                       AddItem(t, s.id(), "Short", absl::Seconds(1)));
  ASSERT_OK_AND_ASSIGN(v1::AgendaItem b,
                       AddItem(t, s.id(), "Long", absl::Hours(1)));
  ASSERT_OK(Activate(t, s.id(), a.id()));
  absl::SleepFor(absl::Milliseconds(2200));
  ASSERT_OK_AND_ASSIGN(v1::AgendaSnapshot agenda, Agenda(t, s.id()));
  EXPECT_GE(agenda.items(0).overrun().seconds(), 1);
  ASSERT_OK(Activate(t, s.id(), b.id()));
  ASSERT_OK_AND_ASSIGN(agenda, Agenda(t, s.id()));
  EXPECT_GE(agenda.items(0).overrun().seconds(), 1);  // fixed once DONE
  EXPECT_EQ(agenda.items(1).overrun().seconds(), 0);  // within its plan
  EXPECT_TRUE(agenda.has_server_time());
}

TEST(AgendaItemTest, ConcurrentMovesKeepAPermutation) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t, false));
  std::vector<std::string> ids;
  for (int i = 0; i < 8; ++i) {
    ASSERT_OK_AND_ASSIGN(v1::AgendaItem item,
                         AddItem(t, s.id(), absl::StrCat("Item ", i)));
    ids.push_back(item.id());
  }
  std::vector<std::thread> threads;
  std::vector<absl::Status> results(20);
  for (int i = 0; i < 20; ++i) {
    threads.emplace_back([&, i] {
      v1::MoveAgendaItemRequest request;
      request.set_session_id(s.id());
      request.set_agenda_item_id(ids[i % ids.size()]);
      request.set_position((i * 5) % 11);
      results[i] = t.client.MoveAgendaItem(request).status();
    });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& status : results) EXPECT_OK(status);
  ASSERT_OK_AND_ASSIGN(v1::AgendaSnapshot agenda, Agenda(t, s.id()));
  EXPECT_THAT(Ids(agenda), UnorderedElementsAreArray(ids));
  EXPECT_THAT(Ids(agenda), SizeIs(ids.size()));
  for (int i = 0; i < agenda.items_size(); ++i) {
    EXPECT_EQ(agenda.items(i).position(), i);
  }
}

// ---- Proposals ----------------------------------------------------------

TEST(TopicProposalTest, MembersSeeTheirOwn) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t, false));
  TownhallClient alice = MemberClient(t, s.id(), "alice");
  TownhallClient bob = MemberClient(t, s.id(), "bob");
  auto propose = [&](TownhallClient& client, const std::string& who,
                     const std::string& title, const std::string& rid = "") {
    v1::ProposeTopicRequest request;
    request.set_session_id(s.id());
    request.set_participant_id(who);
    request.set_title(title);
    request.set_request_id(rid);
    return client.ProposeTopic(request);
  };
  ASSERT_OK_AND_ASSIGN(v1::ProposeTopicResponse a1,
                       propose(alice, "alice", "Pension transfers", "r1"));
  ASSERT_OK_AND_ASSIGN(v1::ProposeTopicResponse a1again,
                       propose(alice, "alice", "Pension transfers", "r1"));
  EXPECT_EQ(a1again.proposal().id(), a1.proposal().id());
  EXPECT_EQ(a1.proposal().status(), v1::TOPIC_PROPOSAL_STATUS_PENDING);
  ASSERT_OK_AND_ASSIGN(v1::ProposeTopicResponse b1,
                       propose(bob, "bob", "Schools abroad"));
  // For someone else: refused for members, allowed for organizers.
  EXPECT_THAT(propose(bob, "alice", "Forged"),
              HasCode(Code::kPermissionDenied));
  ASSERT_OK_AND_ASSIGN(v1::ProposeTopicResponse o1,
                       propose(t.client, "carol", "Consular fees"));
  EXPECT_THAT(propose(t.client, "", "No proposer"),
              HasCode(Code::kInvalidArgument));
  EXPECT_THAT(propose(t.client, "carol", ""), HasCode(Code::kInvalidArgument));

  v1::ListTopicProposalsRequest list;
  list.set_session_id(s.id());
  ASSERT_OK_AND_ASSIGN(v1::ListTopicProposalsResponse all,
                       t.client.ListTopicProposals(list));
  EXPECT_THAT(all.proposals(), SizeIs(3));
  ASSERT_OK_AND_ASSIGN(v1::ListTopicProposalsResponse own,
                       alice.ListTopicProposals(list));
  ASSERT_THAT(own.proposals(), SizeIs(1));
  EXPECT_EQ(own.proposals(0).participant_id(), "alice");

  // Accept: a new item, linked both ways.
  v1::AcceptTopicProposalRequest accept;
  accept.set_session_id(s.id());
  accept.set_topic_proposal_id(a1.proposal().id());
  *accept.mutable_planned_duration() = Dur(absl::Minutes(10));
  ASSERT_OK_AND_ASSIGN(v1::AcceptTopicProposalResponse accepted,
                       t.client.AcceptTopicProposal(accept));
  EXPECT_EQ(accepted.proposal().status(), v1::TOPIC_PROPOSAL_STATUS_ACCEPTED);
  EXPECT_EQ(accepted.proposal().agenda_item_id(), accepted.item().id());
  EXPECT_EQ(accepted.item().topic_proposal_id(), a1.proposal().id());
  EXPECT_EQ(accepted.item().title(), "Pension transfers");
  EXPECT_THAT(accepted.item().presenter_participant_ids(),
              ElementsAre("alice"));
  EXPECT_THAT(t.client.AcceptTopicProposal(accept),
              HasCode(Code::kFailedPrecondition));
  accept.set_topic_proposal_id("missing");
  EXPECT_THAT(t.client.AcceptTopicProposal(accept), HasCode(Code::kNotFound));

  // Decline: a reason is required; the proposer sees it.
  v1::DeclineTopicProposalRequest decline;
  decline.set_session_id(s.id());
  decline.set_topic_proposal_id(b1.proposal().id());
  EXPECT_THAT(t.client.DeclineTopicProposal(decline),
              HasCode(Code::kInvalidArgument));
  decline.set_reason("Covered at the next session");
  ASSERT_OK(t.client.DeclineTopicProposal(decline).status());
  EXPECT_THAT(t.client.DeclineTopicProposal(decline),
              HasCode(Code::kFailedPrecondition));
  ASSERT_OK_AND_ASSIGN(v1::ListTopicProposalsResponse bobs,
                       bob.ListTopicProposals(list));
  ASSERT_THAT(bobs.proposals(), SizeIs(1));
  EXPECT_EQ(bobs.proposals(0).status(), v1::TOPIC_PROPOSAL_STATUS_DECLINED);
  EXPECT_EQ(bobs.proposals(0).decline_reason(), "Covered at the next session");
  (void)o1;
}

// ---- Outcomes and action items ------------------------------------------

TEST(OutcomeTest, RulesAndIdempotency) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t));
  ASSERT_OK_AND_ASSIGN(v1::AgendaItem a, AddItem(t, s.id(), "A"));
  v1::RecordOutcomeRequest request;
  request.set_session_id(s.id());
  request.mutable_outcome()->set_agenda_item_id(a.id());
  request.mutable_outcome()->set_text("Agreed");
  EXPECT_THAT(t.client.RecordOutcome(request),
              StatusIs(Code::kInvalidArgument, HasSubstr("kind")));
  request.mutable_outcome()->set_kind(v1::OUTCOME_KIND_DECISION);
  request.mutable_outcome()->set_text("");
  EXPECT_THAT(t.client.RecordOutcome(request), HasCode(Code::kInvalidArgument));
  request.mutable_outcome()->set_text(std::string(2001, 'x'));
  EXPECT_THAT(t.client.RecordOutcome(request), HasCode(Code::kInvalidArgument));
  request.mutable_outcome()->set_text("Agreed");
  request.mutable_outcome()->set_agenda_item_id("missing");
  EXPECT_THAT(t.client.RecordOutcome(request), HasCode(Code::kNotFound));
  request.mutable_outcome()->set_agenda_item_id(a.id());
  request.set_request_id("o-1");
  ASSERT_OK_AND_ASSIGN(v1::RecordOutcomeResponse first,
                       t.client.RecordOutcome(request));
  ASSERT_OK_AND_ASSIGN(v1::RecordOutcomeResponse again,
                       t.client.RecordOutcome(request));
  EXPECT_EQ(first.outcome().id(), again.outcome().id());
  ASSERT_OK_AND_ASSIGN(v1::AgendaSnapshot agenda, Agenda(t, s.id()));
  EXPECT_THAT(agenda.outcomes(), SizeIs(1));
}

TEST(ActionItemTest, CreateAndUpdateRules) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t));
  v1::CreateActionItemRequest request;
  request.set_session_id(s.id());
  request.mutable_action_item()->set_title("Draft the agreement");
  *request.mutable_action_item()->mutable_deadline() =
      Ts(absl::Now() + absl::Hours(48));
  EXPECT_THAT(t.client.CreateActionItem(request),
              StatusIs(Code::kInvalidArgument, HasSubstr("executor")));
  request.mutable_action_item()->mutable_executor()->set_organization_id(
      "bad id!");
  EXPECT_THAT(t.client.CreateActionItem(request),
              HasCode(Code::kInvalidArgument));
  request.mutable_action_item()->mutable_executor()->set_participant_id("p1");
  request.mutable_action_item()->clear_deadline();
  EXPECT_THAT(t.client.CreateActionItem(request),
              StatusIs(Code::kInvalidArgument, HasSubstr("deadline")));
  request.mutable_action_item()->mutable_deadline()->set_seconds(-5);
  EXPECT_THAT(t.client.CreateActionItem(request),
              HasCode(Code::kInvalidArgument));
  *request.mutable_action_item()->mutable_deadline() =
      Ts(absl::Now() + absl::Hours(48));
  request.mutable_action_item()->set_title("");
  EXPECT_THAT(t.client.CreateActionItem(request),
              HasCode(Code::kInvalidArgument));
  request.mutable_action_item()->set_title("Draft the agreement");
  request.mutable_action_item()->set_agenda_item_id("missing");
  EXPECT_THAT(t.client.CreateActionItem(request), HasCode(Code::kNotFound));
  request.mutable_action_item()->clear_agenda_item_id();
  request.set_request_id("a-1");
  ASSERT_OK_AND_ASSIGN(v1::CreateActionItemResponse made,
                       t.client.CreateActionItem(request));
  ASSERT_OK_AND_ASSIGN(v1::CreateActionItemResponse again,
                       t.client.CreateActionItem(request));
  EXPECT_EQ(made.action_item().id(), again.action_item().id());
  const v1::ActionItem& a = made.action_item();
  EXPECT_EQ(a.status(), v1::ACTION_ITEM_STATUS_OPEN);
  EXPECT_EQ(a.session_id(), s.id());
  EXPECT_EQ(a.series_id(), "");
  ASSERT_THAT(a.history(), SizeIs(1));
  EXPECT_EQ(a.history(0).status(), v1::ACTION_ITEM_STATUS_OPEN);

  EXPECT_THAT(
      SetActionStatus(t, s.id(), a.id(), v1::ACTION_ITEM_STATUS_UNSPECIFIED),
      HasCode(Code::kInvalidArgument));
  EXPECT_THAT(SetActionStatus(t, s.id(), a.id(),
                              v1::ACTION_ITEM_STATUS_IN_PROGRESS, "stale"),
              HasCode(Code::kAborted));
  ASSERT_OK_AND_ASSIGN(
      v1::ActionItem progress,
      SetActionStatus(t, s.id(), a.id(), v1::ACTION_ITEM_STATUS_IN_PROGRESS,
                      a.etag()));
  ASSERT_THAT(progress.history(), SizeIs(2));
  EXPECT_EQ(progress.history(1).actor(), "organizer@example.org")
      << "actor is the token's subject";
  EXPECT_EQ(progress.history(1).session_id(), s.id());
  EXPECT_EQ(progress.history(1).note(), "progress");
  EXPECT_THAT(SetActionStatus(t, s.id(), a.id(), v1::ACTION_ITEM_STATUS_OPEN),
              HasCode(Code::kFailedPrecondition));
  ASSERT_OK(
      SetActionStatus(t, s.id(), a.id(), v1::ACTION_ITEM_STATUS_DONE).status());
  EXPECT_THAT(
      SetActionStatus(t, s.id(), a.id(), v1::ACTION_ITEM_STATUS_CANCELLED),
      HasCode(Code::kFailedPrecondition));
  // Another session (no series) does not see it.
  ASSERT_OK_AND_ASSIGN(v1::Session other, NewSession(t, false));
  EXPECT_THAT(
      SetActionStatus(t, other.id(), a.id(), v1::ACTION_ITEM_STATUS_CANCELLED),
      HasCode(Code::kNotFound));
  EXPECT_THAT(
      SetActionStatus(t, s.id(), "missing", v1::ACTION_ITEM_STATUS_CANCELLED),
      HasCode(Code::kNotFound));

  ASSERT_OK_AND_ASSIGN(v1::ActionItem second,
                       AddAction(t, s.id(), "Second", "Ministry of Justice"));
  ASSERT_OK(
      SetActionStatus(t, s.id(), second.id(), v1::ACTION_ITEM_STATUS_CANCELLED)
          .status());
  v1::ListActionItemsRequest list;
  list.set_session_id(s.id());
  list.add_statuses(v1::ACTION_ITEM_STATUS_CANCELLED);
  ASSERT_OK_AND_ASSIGN(v1::ListActionItemsResponse cancelled,
                       t.client.ListActionItems(list));
  ASSERT_THAT(cancelled.action_items(), SizeIs(1));
  EXPECT_EQ(cancelled.action_items(0).id(), second.id());
  // Without a series there are no earlier occurrences to follow up.
  v1::PrepareFollowUpRequest follow;
  follow.set_session_id(s.id());
  EXPECT_THAT(t.client.PrepareFollowUp(follow),
              HasCode(Code::kFailedPrecondition));
}

// ---- The reference event --------------------------------------------------

TEST(AgendaScenarioTest, ReferenceEventWithMinutes) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(
      v1::Session s,
      NewSession(t, true, "Dialogue with compatriots living abroad"));
  const std::vector<std::string> topics = {
      "Pandemic situation",
      "Labour migration and employment",
      "Legal protection of migrants",
      "Insurance",
      "Investment and business projects",
      "Education, science and culture",
      "Promotion of language, culture and tourism"};
  std::vector<std::string> ids;
  for (const std::string& topic : topics) {
    ASSERT_OK_AND_ASSIGN(v1::AgendaItem item,
                         AddItem(t, s.id(), topic, absl::Minutes(20)));
    ids.push_back(item.id());
  }
  const std::vector<std::string> departments = {
      "Ministry of Health",
      "Ministry of Employment and Labour Relations",
      "Ministry of Justice",
      "Ministry of Finance",
      "Ministry of Investment and Foreign Trade",
      "Ministry of Higher Education, Science and Innovation",
      "Ministry of Culture and Tourism"};
  for (size_t i = 0; i < ids.size(); ++i) {
    ASSERT_OK(Activate(t, s.id(), ids[i]));
    ASSERT_OK_AND_ASSIGN(v1::AgendaSnapshot agenda, Agenda(t, s.id()));
    int active = 0;
    for (const auto& item : agenda.items()) {
      active += item.status() == v1::AGENDA_ITEM_STATUS_ACTIVE;
    }
    EXPECT_EQ(active, 1);
    EXPECT_EQ(agenda.active_item_id(), ids[i]);
    v1::RecordOutcomeRequest outcome;
    outcome.set_session_id(s.id());
    outcome.mutable_outcome()->set_agenda_item_id(ids[i]);
    outcome.mutable_outcome()->set_kind(v1::OUTCOME_KIND_AGREEMENT);
    outcome.mutable_outcome()->set_text(
        absl::StrCat("Agreement ", i + 1, " on ", topics[i]));
    ASSERT_OK(t.client.RecordOutcome(outcome).status());
    ASSERT_OK(AddAction(t, s.id(), absl::StrCat("Measures: ", topics[i]),
                        departments[i], ids[i])
                  .status());
  }
  ASSERT_OK(t.client
                .CompleteAgendaItem(
                    For<v1::CompleteAgendaItemRequest>(s.id(), ids.back()))
                .status());
  ASSERT_OK_AND_ASSIGN(v1::AgendaSnapshot agenda, Agenda(t, s.id()));
  EXPECT_THAT(Titles(agenda), ElementsAreArray(topics));
  for (const auto& item : agenda.items()) {
    EXPECT_EQ(item.status(), v1::AGENDA_ITEM_STATUS_DONE);
    EXPECT_TRUE(item.has_actual_end_time());
  }
  EXPECT_THAT(agenda.outcomes(), SizeIs(7));
  EXPECT_THAT(agenda.action_items(), SizeIs(7));
  EXPECT_EQ(agenda.version(),
            static_cast<int64_t>(FeedKinds(t, s.id()).size()));

  v1::ExportMinutesRequest export_request;
  export_request.set_session_id(s.id());
  ASSERT_OK_AND_ASSIGN(v1::ExportMinutesResponse md,
                       t.client.ExportMinutes(export_request));
  EXPECT_EQ(md.content_type(), "text/markdown");
  EXPECT_THAT(md.filename(), HasSubstr(".md"));
  EXPECT_THAT(md.content(),
              HasSubstr("# Minutes: Dialogue with compatriots living abroad"));
  EXPECT_THAT(md.content(), HasSubstr("Asia/Tashkent"));
  EXPECT_THAT(md.content(),
              HasSubstr("### 2. Labour migration and employment"));
  EXPECT_THAT(md.content(), HasSubstr("Agreement: Agreement 2 on Labour"));
  EXPECT_THAT(
      md.content(),
      HasSubstr("executor: Ministry of Employment and Labour Relations"));
  EXPECT_THAT(md.content(), HasSubstr("Status: DONE"));
  EXPECT_THAT(md.content(), HasSubstr("status: OPEN"));
  // Items come before their successors.
  EXPECT_LT(md.content().find("Pandemic situation"),
            md.content().find("Promotion of language"));

  export_request.set_format(v1::MINUTES_FORMAT_JSON);
  ASSERT_OK_AND_ASSIGN(v1::ExportMinutesResponse json,
                       t.client.ExportMinutes(export_request));
  EXPECT_EQ(json.content_type(), "application/json");
  EXPECT_THAT(json.filename(), HasSubstr(".json"));
  EXPECT_THAT(json.content(), HasSubstr("\"sessionId\":\"" + s.id()));
  EXPECT_THAT(json.content(),
              HasSubstr("\"department\":\"Ministry of Employment and Labour "
                        "Relations\""));
  EXPECT_THAT(json.content(), HasSubstr("\"outcomes\":[{"));
  // Stable: the same state exports the same document.
  ASSERT_OK_AND_ASSIGN(v1::ExportMinutesResponse json2,
                       t.client.ExportMinutes(export_request));
  EXPECT_EQ(json.content(), json2.content());
}

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

// ---- Series -----------------------------------------------------------

TEST(AgendaSeriesTest, FollowUpCarriesOpenActionItems) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  v1::CreateSeriesRequest create;
  v1::Session* tmpl = create.mutable_series()->mutable_template_();
  tmpl->set_title("Monthly dialogue");
  *tmpl->mutable_start_time() = Ts(absl::Now() + absl::Hours(2));
  *tmpl->mutable_duration() = Dur(absl::Hours(2));
  tmpl->set_time_zone("Asia/Tashkent");
  tmpl->set_format(v1::SESSION_FORMAT_ONLINE);
  tmpl->set_join_url("https://meet.example.org/townhall");
  create.mutable_series()->set_rrule("FREQ=MONTHLY;COUNT=2");
  create.set_publish(true);
  ASSERT_OK_AND_ASSIGN(v1::CreateSeriesResponse series,
                       t.client.CreateSeries(create));
  v1::ListSeriesOccurrencesRequest list_occ;
  list_occ.set_series_id(series.series().id());
  ASSERT_OK_AND_ASSIGN(v1::ListSeriesOccurrencesResponse occ,
                       t.client.ListSeriesOccurrences(list_occ));
  ASSERT_THAT(occ.sessions(), SizeIs(2));
  const std::string first = occ.sessions(0).id();
  const std::string second = occ.sessions(1).id();
  v1::StartSessionRequest start;
  start.set_session_id(first);
  ASSERT_OK(t.client.StartSession(start).status());

  ASSERT_OK_AND_ASSIGN(v1::AgendaItem item, AddItem(t, first, "Employment"));
  ASSERT_OK_AND_ASSIGN(
      v1::ActionItem open,
      AddAction(t, first, "Open job fairs",
                "Ministry of Employment and Labour Relations", item.id()));
  EXPECT_EQ(open.series_id(), series.series().id());
  ASSERT_OK_AND_ASSIGN(
      v1::ActionItem started,
      AddAction(t, first, "Consular days", "Ministry of Foreign Affairs"));
  ASSERT_OK(SetActionStatus(t, first, started.id(),
                            v1::ACTION_ITEM_STATUS_IN_PROGRESS)
                .status());
  ASSERT_OK_AND_ASSIGN(v1::ActionItem closed,
                       AddAction(t, first, "Closed", "Ministry of Finance"));
  ASSERT_OK(
      SetActionStatus(t, first, closed.id(), v1::ACTION_ITEM_STATUS_CANCELLED)
          .status());
  // Created in the second session itself: not carried.
  ASSERT_OK_AND_ASSIGN(v1::ActionItem local,
                       AddAction(t, second, "Local", "Ministry of Justice"));

  ASSERT_OK_AND_ASSIGN(v1::AgendaItem existing, AddItem(t, second, "Other"));
  v1::PrepareFollowUpRequest follow;
  follow.set_session_id(second);
  ASSERT_OK_AND_ASSIGN(v1::PrepareFollowUpResponse prepared,
                       t.client.PrepareFollowUp(follow));
  EXPECT_EQ(prepared.item().kind(), v1::AGENDA_ITEM_KIND_FOLLOW_UP);
  EXPECT_EQ(prepared.item().position(), 0);
  EXPECT_THAT(prepared.item().title(), HasSubstr("Follow-up"));
  EXPECT_THAT(prepared.item().action_item_ids(),
              ElementsAre(open.id(), started.id()));
  ASSERT_THAT(prepared.action_items(), SizeIs(2));
  ASSERT_OK_AND_ASSIGN(v1::PrepareFollowUpResponse repeat,
                       t.client.PrepareFollowUp(follow));
  EXPECT_EQ(repeat.item().id(), prepared.item().id());
  ASSERT_OK_AND_ASSIGN(v1::AgendaSnapshot agenda, Agenda(t, second));
  EXPECT_THAT(Ids(agenda), ElementsAre(prepared.item().id(), existing.id()));

  // Done from the second occurrence, seen done from the first.
  ASSERT_OK_AND_ASSIGN(
      v1::ActionItem done,
      SetActionStatus(t, second, open.id(), v1::ACTION_ITEM_STATUS_DONE));
  EXPECT_EQ(done.history().rbegin()->session_id(), second);
  v1::ListActionItemsRequest list;
  list.set_session_id(first);
  ASSERT_OK_AND_ASSIGN(v1::ListActionItemsResponse from_first,
                       t.client.ListActionItems(list));
  ASSERT_THAT(from_first.action_items(), SizeIs(3));
  EXPECT_EQ(from_first.action_items(0).id(), open.id());
  EXPECT_EQ(from_first.action_items(0).status(), v1::ACTION_ITEM_STATUS_DONE);
  list.set_whole_series(true);
  ASSERT_OK_AND_ASSIGN(v1::ListActionItemsResponse whole,
                       t.client.ListActionItems(list));
  EXPECT_THAT(whole.action_items(), SizeIs(4));
  list.add_statuses(v1::ACTION_ITEM_STATUS_OPEN);
  list.add_statuses(v1::ACTION_ITEM_STATUS_IN_PROGRESS);
  ASSERT_OK_AND_ASSIGN(whole, t.client.ListActionItems(list));
  EXPECT_THAT(whole.action_items(), SizeIs(2));  // started, local
  // Another series does not see it.
  ASSERT_OK_AND_ASSIGN(v1::Session stranger, NewSession(t, false));
  EXPECT_THAT(SetActionStatus(t, stranger.id(), started.id(),
                              v1::ACTION_ITEM_STATUS_DONE),
              HasCode(Code::kNotFound));
  // The change went to the feed of the session it was made from.
  EXPECT_EQ(FeedKinds(t, second).back(), "agenda.action.updated");
  (void)local;
}

}  // namespace
}  // namespace townhall::testing
