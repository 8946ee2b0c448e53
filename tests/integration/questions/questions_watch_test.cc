// Integration tests of QuestionService against its contract
// (proto/townhall/v1/questions.proto), through gRPC to the shared
// in-process server on a real Redis; every test has a tenant of its own
// and members registered through RegistrationService with real join
// tokens (questions_fixture.h).
//
// WatchQueue in process: snapshot, changes and resume without gap or
// duplicate, narrowing to an agenda item, and the cap on open streams per
// participant.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/common/redis/redis_connection.h"
#include "services/questions/question_keys.h"
#include "tests/integration/questions/questions_fixture.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/status_matchers.h"

namespace townhall::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAre;

TEST_F(QuestionsTest, WatchSnapshotThenChangesThenResumeWithoutGapOrDuplicate) {
  const std::string a = Open(author_, "Kuzatuv savoli A");
  QueueWatcher watcher(channel(), moderator_.token, sid());
  std::vector<v1::WatchQueueResponse> first = watcher.WaitFor(1);
  ASSERT_THAT(first, SizeIs(1));
  ASSERT_TRUE(first[0].has_snapshot());
  const v1::QueueSnapshot& snapshot = first[0].snapshot();
  EXPECT_EQ(snapshot.session_id(), sid());
  EXPECT_GT(snapshot.version(), 0);
  ASSERT_THAT(snapshot.questions(), SizeIs(1));
  EXPECT_EQ(snapshot.questions(0).id(), a);
  EXPECT_TRUE(snapshot.has_server_time());

  ASSERT_OK_AND_ASSIGN(v1::SubmitQuestionResponse s,
                       Submit(other_, "Kuzatuv savoli B"));
  const std::string b = s.question().id();
  ASSERT_OK(Organizer().Approve(sid(), b).status());
  ASSERT_OK(As(other_).Vote(sid(), a, other_.participant_id).status());
  ASSERT_OK(Organizer().Pin(sid(), b).status());
  std::vector<v1::WatchQueueResponse> seen =
      watcher.WaitForChange("question.pinned", b);
  std::vector<std::string> kinds;
  for (const auto& m : seen) {
    if (m.has_change()) kinds.push_back(m.change().kind());
  }
  EXPECT_THAT(kinds, ElementsAre("question.submitted", "question.approved",
                                 "question.votes", "question.pinned"));
  std::vector<int64_t> versions = ChangeVersions(seen);
  ASSERT_FALSE(versions.empty());
  EXPECT_GT(versions[0], snapshot.version());
  for (size_t i = 1; i < versions.size(); ++i) {
    EXPECT_GT(versions[i], versions[i - 1]);
  }
  for (const auto& m : seen) {
    if (m.has_change() && m.change().kind() == "question.votes") {
      ASSERT_THAT(m.change().votes(), SizeIs(1));
      EXPECT_EQ(m.change().votes(0).question_id(), a);
      EXPECT_EQ(m.change().votes(0).votes(), 1);
    }
  }
  watcher.Cancel();
  // Changes while away; resume from the last version seen.
  const int64_t last = versions.back();
  ASSERT_OK(Organizer().Answer(sid(), b, "Javob").status());
  ASSERT_OK(Organizer().Archive(sid(), a).status());
  QueueWatcher resumed(channel(), moderator_.token, sid(), last);
  std::vector<v1::WatchQueueResponse> rest =
      resumed.WaitForChange("question.archived", a);
  kinds.clear();
  for (const auto& m : rest) {
    EXPECT_FALSE(m.has_snapshot()) << "resume started over with a snapshot";
    if (m.has_change()) {
      kinds.push_back(m.change().kind());
      EXPECT_GT(m.change().version(), last);
    }
  }
  EXPECT_THAT(kinds, ElementsAre("question.answered", "question.archived"));
  // A participant's watch does not carry another's pending question.
  QueueWatcher participant(channel(), other_.token, sid());
  ASSERT_THAT(participant.WaitFor(1), SizeIs(1));
  ASSERT_OK_AND_ASSIGN(v1::SubmitQuestionResponse hidden,
                       Submit(author_, "Yashirin kutilayotgan savol"));
  const std::string marker = Open(other_, "Belgi savoli");
  std::vector<v1::WatchQueueResponse> p_seen =
      participant.WaitForChange("question.approved", marker);
  for (const auto& m : p_seen) {
    EXPECT_FALSE(
        absl::StrContains(m.SerializeAsString(), "Yashirin kutilayotgan savol"))
        << "a participant's watch carried another's pending question";
  }
  // A watch of a session the caller is not in does not find it.
  ASSERT_OK_AND_ASSIGN(v1::Session elsewhere,
                       NewQuestionsSession(tenant_->client));
  QueueWatcher wrong(channel(), other_.token, elsewhere.id());
  absl::StatusOr<grpc::Status> ended = wrong.Ended(absl::Seconds(5));
  ASSERT_OK(ended.status());
  EXPECT_EQ(ended->error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(QuestionsTest, WatchCountsTheSessionsQuestionsByStatus) {
  // Under five submissions each: the rate limit is five a minute.
  std::vector<std::string> q;
  for (int i = 0; i < 7; ++i) {
    ASSERT_OK_AND_ASSIGN(
        v1::SubmitQuestionResponse s,
        Submit(i < 4 ? author_ : other_, absl::StrCat("Sanoq savoli ", i)));
    q.push_back(s.question().id());
  }
  ASSERT_OK(Organizer().Reject(sid(), q[0], "Takror").status());
  ASSERT_OK(Organizer().Approve(sid(), q[2]).status());
  ASSERT_OK(Organizer().Merge(sid(), q[2], {q[3]}).status());
  ASSERT_OK(Organizer().Archive(sid(), q[4]).status());
  ASSERT_OK(Organizer().Approve(sid(), q[5]).status());
  ASSERT_OK(Organizer().Answer(sid(), q[5]).status());
  ASSERT_OK(As(moderator_).Reject(sid(), q[1], "Mavzu emas").status());

  // A watcher that connects after all that: the snapshot leaves rejected,
  // merged and archived questions out, its counts do not.
  const std::string expected =
      "pending: 1 approved: 1 answered: 1 rejected: 2 archived: 1 merged: 1";
  EXPECT_EQ(SnapshotCounts(moderator_.token), expected);
  EXPECT_EQ(SnapshotCounts(tenant_->token), expected);
  // The whole session's, also on a stream narrowed to an agenda item.
  QueueWatcher narrowed(channel(), moderator_.token, sid(), 0, "item-none");
  std::vector<v1::WatchQueueResponse> got = narrowed.WaitFor(1);
  ASSERT_THAT(got, SizeIs(1));
  EXPECT_TRUE(got[0].snapshot().questions().empty());
  EXPECT_EQ(got[0].snapshot().counts().ShortDebugString(), expected);
  // Participants get none, authors of the questions included.
  EXPECT_EQ(SnapshotCounts(author_.token), "none");
  EXPECT_EQ(SnapshotCounts(other_.token), "none");

  // Every change of a question carries the counts after it: undo the last
  // rejection.
  QueueWatcher watcher(channel(), moderator_.token, sid());
  QueueWatcher author(channel(), author_.token, sid());
  ASSERT_THAT(watcher.WaitFor(1), SizeIs(1));
  ASSERT_THAT(author.WaitFor(1), SizeIs(1));
  ASSERT_OK(As(moderator_).Undo(sid()).status());
  const std::string undone =
      "pending: 2 approved: 1 answered: 1 rejected: 1 archived: 1 merged: 1";
  auto restored = [&](QueueWatcher& w) -> std::optional<v1::QueueChange> {
    for (const auto& m : w.WaitForChange("question.restored", q[1])) {
      if (m.has_change() && m.change().kind() == "question.restored") {
        return m.change();
      }
    }
    return std::nullopt;
  };
  std::optional<v1::QueueChange> change = restored(watcher);
  ASSERT_TRUE(change.has_value());
  EXPECT_EQ(change->counts().ShortDebugString(), undone);
  EXPECT_EQ(SnapshotCounts(moderator_.token), undone);
  // The author sees the change of their question, not the counts.
  change = restored(author);
  ASSERT_TRUE(change.has_value());
  EXPECT_FALSE(change->has_counts());
  // Votes carry none.
  ASSERT_OK(As(other_).Vote(sid(), q[2], other_.participant_id).status());
  for (const auto& m : watcher.WaitForChange("question.votes", q[2])) {
    if (m.has_change() && m.change().kind() == "question.votes") {
      EXPECT_FALSE(m.change().has_counts());
    }
  }
}

TEST_F(QuestionsTest, SessionsFromBeforeTheCountsAreCountedThenKept) {
  std::vector<std::string> q;
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK_AND_ASSIGN(v1::SubmitQuestionResponse s,
                         Submit(author_, absl::StrCat("Eski savol ", i)));
    q.push_back(s.question().id());
  }
  ASSERT_OK(Organizer().Reject(sid(), q[0], "Takror").status());
  ASSERT_OK(Organizer().Approve(sid(), q[1]).status());
  // What a session written before the counts looks like.
  RedisConnection redis(testing::SharedRedisOptions());
  redis.set_deadline(absl::Now() + absl::Seconds(5));
  const std::string counts_key =
      questions::QueuePrefix(tenant_->id, sid()) + "counts";
  ASSERT_OK(redis.Command({"DEL", counts_key}).status());

  // Read: counted from the questions.
  EXPECT_EQ(SnapshotCounts(moderator_.token),
            "pending: 1 approved: 1 rejected: 1");
  // The next change stores that count and goes on from it.
  ASSERT_OK(Organizer().Reject(sid(), q[2], "Mavzu emas").status());
  EXPECT_EQ(SnapshotCounts(moderator_.token), "approved: 1 rejected: 2");
  ASSERT_OK_AND_ASSIGN(RedisReply stored,
                       redis.Command({"HGETALL", counts_key}));
  std::map<std::string, std::string> fields;
  for (size_t i = 0; i + 1 < stored.elements.size(); i += 2) {
    fields[stored.elements[i].str] = stored.elements[i + 1].str;
  }
  EXPECT_THAT(fields, ::testing::UnorderedElementsAre(
                          ::testing::Pair("PENDING", "0"),
                          ::testing::Pair("APPROVED", "1"),
                          ::testing::Pair("REJECTED", "2")));
}

TEST_F(QuestionsTest, AgendaItemNarrowsListsAndWatches) {
  ASSERT_OK(SetMode(v1::MODERATION_MODE_POST));
  std::vector<std::string> items;
  for (const char* title : {"Mehnat migratsiyasi", "Taʼlim"}) {
    v1::CreateAgendaItemRequest item;
    item.set_session_id(sid());
    item.mutable_item()->set_title(title);
    ASSERT_OK_AND_ASSIGN(v1::CreateAgendaItemResponse made,
                         tenant_->client.CreateAgendaItem(item));
    items.push_back(made.item().id());
  }
  QueueWatcher on_first(channel(), other_.token, sid(), 0, items[0]);
  ASSERT_THAT(on_first.WaitFor(1), SizeIs(1));
  auto submit_on = [&](const Member& m, const std::string& text,
                       const std::string& item) -> std::string {
    v1::SubmitQuestionRequest r = SubmitRequest(m, text);
    r.set_agenda_item_id(item);
    r.set_language("uz-Latn");
    absl::StatusOr<v1::SubmitQuestionResponse> s = As(m).SubmitQuestion(r);
    EXPECT_TRUE(s.ok()) << s.status();
    if (!s.ok()) return "";
    EXPECT_EQ(s->question().agenda_item_id(), item);
    EXPECT_EQ(s->question().language(), "uz-Latn");
    return s->question().id();
  };
  const std::string a1 = submit_on(author_, "Migrantlar sugʻurtasi", items[0]);
  const std::string b1 = submit_on(other_, "Grantlar soni", items[1]);
  const std::string none = submit_on(moderator_, "Umumiy savol", "");
  const std::string a2 = submit_on(other_, "Ish vizalari", items[0]);
  v1::ListQuestionsRequest r;
  r.set_session_id(sid());
  r.set_view(View::VIEW_OPEN);
  r.set_agenda_item_id(items[0]);
  ASSERT_OK_AND_ASSIGN(v1::ListQuestionsResponse listed,
                       As(other_).ListQuestions(r));
  EXPECT_EQ(listed.total_size(), 2);
  EXPECT_THAT(IdsOf({listed.questions().begin(), listed.questions().end()}),
              UnorderedElementsAre(a1, a2));
  for (auto order : {View::ORDER_NEWEST, View::ORDER_TRENDING}) {
    r.set_order(order);
    ASSERT_OK_AND_ASSIGN(listed, As(other_).ListQuestions(r));
    EXPECT_THAT(IdsOf({listed.questions().begin(), listed.questions().end()}),
                UnorderedElementsAre(a1, a2));
  }
  ASSERT_OK(As(author_).Vote(sid(), b1, author_.participant_id).status());
  ASSERT_OK(As(author_).Vote(sid(), a2, author_.participant_id).status());
  ASSERT_OK(Organizer().Pin(sid(), none).status());
  ASSERT_OK(Organizer().Pin(sid(), a1).status());
  // The narrowed watch: only item 1's questions.
  std::vector<v1::WatchQueueResponse> seen =
      on_first.WaitForChange("question.pinned", a1);
  std::set<std::string> ids;
  for (const auto& m : seen) {
    if (m.has_snapshot()) continue;
    for (const auto& q : m.change().questions()) {
      ids.insert(q.id());
      EXPECT_NE(q.id(), b1)
          << m.change().kind() << " of item 2 in item 1's watch";
    }
    for (const auto& v : m.change().votes()) {
      ids.insert(v.question_id());
      EXPECT_NE(v.question_id(), b1)
          << m.change().kind() << " of item 2 in item 1's watch";
    }
  }
  EXPECT_TRUE(ids.count(a1));
  EXPECT_TRUE(ids.count(a2));
  EXPECT_FALSE(ids.count(b1)) << "a watch of item 1 carried item 2";
  // A fresh narrowed snapshot.
  QueueWatcher again(channel(), other_.token, sid(), 0, items[1]);
  std::vector<v1::WatchQueueResponse> first = again.WaitFor(1);
  ASSERT_THAT(first, SizeIs(1));
  ASSERT_TRUE(first[0].has_snapshot());
  std::vector<std::string> in_snapshot;
  for (const auto& q : first[0].snapshot().questions())
    in_snapshot.push_back(q.id());
  EXPECT_THAT(in_snapshot, ElementsAre(b1));
}

TEST_F(QuestionsTest, OpenWatchStreamsPerParticipantAreCapped) {
  // The cap is not in the contract's numbers; the issue asks for one.
  std::vector<std::unique_ptr<QueueWatcher>> watchers;
  int open = 0;
  int refused = 0;
  for (int i = 0; i < 20; ++i) {
    watchers.push_back(
        std::make_unique<QueueWatcher>(channel(), other_.token, sid()));
    std::vector<v1::WatchQueueResponse> got = watchers.back()->WaitFor(1);
    if (!got.empty()) {
      ++open;
      continue;
    }
    absl::StatusOr<grpc::Status> ended =
        watchers.back()->Ended(absl::Seconds(5));
    ASSERT_OK(ended.status());
    EXPECT_EQ(ended->error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
        << ended->error_message();
    ++refused;
  }
  std::cout << open << " streams open, " << refused << " refused\n";
  EXPECT_GE(open, 1);
  EXPECT_GT(refused, 0) << "20 open streams of one participant";
  // Another participant is not affected.
  QueueWatcher someone_else(channel(), author_.token, sid());
  EXPECT_THAT(someone_else.WaitFor(1), SizeIs(1));
  // Closing streams frees their places.
  watchers.clear();
  absl::SleepFor(absl::Milliseconds(300));
  QueueWatcher after(channel(), other_.token, sid());
  EXPECT_THAT(after.WaitFor(1), SizeIs(1));
}

}  // namespace
}  // namespace townhall::testing
