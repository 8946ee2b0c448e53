// AgendaService's items (ItemsLogic): create, edit, move and delete them,
// their order, and the state machine with exactly one ACTIVE item and
// overruns. Through gRPC to the shared in-process server on a real Redis.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "tests/integration/agenda/agenda_fixture.h"

namespace townhall::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAreArray;

using Code = absl::StatusCode;

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

}  // namespace
}  // namespace townhall::testing
