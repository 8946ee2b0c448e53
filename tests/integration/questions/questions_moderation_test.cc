// Integration tests of QuestionService against its contract
// (proto/townhall/v1/questions.proto), through gRPC to the shared
// in-process server on a real Redis; every test has a tenant of its own
// and members registered through RegistrationService with real join
// tokens (questions_fixture.h).
//
// Moderator actions and their undo: pre- and post-moderation, edits,
// rejections, the one pinned question, answers, archiving, merges that
// count voters once, refused transitions, who may moderate, carrying
// questions over to the next occurrence, and the audit log.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/common/ids.h"
#include "tests/integration/questions/questions_fixture.h"
#include "tests/testing/status_matchers.h"

namespace townhall::testing {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAre;

TEST_F(QuestionsTest, ModeratorTextFieldsFollowTheSameRules) {
  ASSERT_OK_AND_ASSIGN(v1::SubmitQuestionResponse s,
                       Submit(author_, "Pensiya haqida savol"));
  const std::string id = s.question().id();
  const Stored before = Observe(author_);
  // edited_text: the submission rules.
  for (const std::string& bad :
       {std::string("   "), Repeat("ы", 501), std::string("a\u202Eb"),
        std::string("a\u200Bb"),
        std::string("a\x01"
                    "b")}) {
    EXPECT_THAT(Organizer().Approve(sid(), id, bad),
                StatusIs(Code::kInvalidArgument, HasSubstr("edited_text")));
  }
  {
    v1::ApproveQuestionRequest request;
    request.set_session_id(sid());
    request.set_question_id(id);
    request.set_edited_text("ok \xC3\x28");
    EXPECT_THAT(Organizer().ApproveQuestion(request),
                StatusIs(Code::kInvalidArgument, HasSubstr("edited_text")));
  }
  // reason: required, 1 to 500 code points.
  EXPECT_THAT(Organizer().Reject(sid(), id, ""),
              StatusIs(Code::kInvalidArgument, HasSubstr("reason")));
  EXPECT_THAT(Organizer().Reject(sid(), id, Repeat("я", 501)),
              StatusIs(Code::kInvalidArgument, HasSubstr("reason")));
  // Still PENDING, nothing changed.
  ASSERT_OK_AND_ASSIGN(v1::Question q, Organizer().Get(sid(), id));
  EXPECT_EQ(q.status(), v1::QUESTION_STATUS_PENDING);
  EXPECT_EQ(q.text(), "Pensiya haqida savol");
  EXPECT_EQ(Observe(author_).version, before.version);
  // answer: up to 5000 code points.
  ASSERT_OK(Organizer().Approve(sid(), id).status());
  EXPECT_THAT(Organizer().Answer(sid(), id, Repeat("ж", 5001)),
              StatusIs(Code::kInvalidArgument, HasSubstr("answer")));
  ASSERT_OK_AND_ASSIGN(q, Organizer().Get(sid(), id));
  EXPECT_EQ(q.status(), v1::QUESTION_STATUS_APPROVED);
  ASSERT_OK_AND_ASSIGN(q, Organizer().Answer(sid(), id, Repeat("ж", 5000)));
  EXPECT_EQ(q.status(), v1::QUESTION_STATUS_ANSWERED);
}

TEST_F(QuestionsTest, PreModerationStartsPendingPostStartsApproved) {
  ASSERT_OK_AND_ASSIGN(v1::SubmitQuestionResponse pre,
                       Submit(author_, "Oldindan moderatsiya"));
  EXPECT_EQ(pre.question().status(), v1::QUESTION_STATUS_PENDING);
  // Pending questions are not open: other participants do not see them.
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Question> open,
                       As(other_).ListAll(sid(), View::VIEW_OPEN));
  EXPECT_THAT(open, IsEmpty());
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Question> pending,
                       As(moderator_).ListAll(sid(), View::VIEW_PENDING));
  EXPECT_THAT(IdsOf(pending), ElementsAre(pre.question().id()));

  ASSERT_OK(SetMode(v1::MODERATION_MODE_POST));
  v1::GetQueueSettingsRequest get;
  get.set_session_id(sid());
  ASSERT_OK_AND_ASSIGN(v1::GetQueueSettingsResponse settings,
                       Organizer().GetQueueSettings(get));
  EXPECT_EQ(settings.settings().moderation_mode(), v1::MODERATION_MODE_POST);
  ASSERT_OK_AND_ASSIGN(v1::SubmitQuestionResponse post,
                       Submit(author_, "Keyin moderatsiya"));
  EXPECT_EQ(post.question().status(), v1::QUESTION_STATUS_APPROVED);
  ASSERT_OK_AND_ASSIGN(open, As(other_).ListAll(sid(), View::VIEW_OPEN));
  EXPECT_THAT(IdsOf(open), ElementsAre(post.question().id()));
  // Post-moderation still lets moderators reject.
  ASSERT_OK_AND_ASSIGN(
      v1::Question rejected,
      As(moderator_).Reject(sid(), post.question().id(), "Takror"));
  EXPECT_EQ(rejected.status(), v1::QUESTION_STATUS_REJECTED);
  // The earlier question stays PENDING until approved.
  ASSERT_OK_AND_ASSIGN(v1::Question approved,
                       As(moderator_).Approve(sid(), pre.question().id()));
  EXPECT_EQ(approved.status(), v1::QUESTION_STATUS_APPROVED);
  EXPECT_TRUE(approved.original_text().empty());
  ASSERT_OK_AND_ASSIGN(open, As(other_).ListAll(sid(), View::VIEW_OPEN));
  EXPECT_THAT(IdsOf(open), ElementsAre(pre.question().id()));
}

TEST_F(QuestionsTest, EditThenApproveKeepsTheOriginal) {
  const std::string original = "pensiya qachon beriladi??? javob bering!!!";
  ASSERT_OK_AND_ASSIGN(v1::SubmitQuestionResponse s, Submit(author_, original));
  const std::string edited = "Pensiya qachon beriladi?";
  ASSERT_OK_AND_ASSIGN(
      v1::Question q, As(moderator_).Approve(sid(), s.question().id(), edited));
  EXPECT_EQ(q.status(), v1::QUESTION_STATUS_APPROVED);
  EXPECT_EQ(q.text(), edited);
  EXPECT_EQ(q.original_text(), original);
  for (const Member* m : {&author_, &other_}) {
    ASSERT_OK_AND_ASSIGN(v1::Question seen,
                         As(*m).Get(sid(), s.question().id()));
    EXPECT_EQ(seen.text(), edited);
  }
  ASSERT_OK_AND_ASSIGN(v1::Question mine,
                       As(author_).Get(sid(), s.question().id()));
  EXPECT_EQ(mine.original_text(), original);
}

TEST_F(QuestionsTest, RejectReasonSeenByTheAuthorQuestionHiddenFromOthers) {
  ASSERT_OK_AND_ASSIGN(v1::SubmitQuestionResponse s,
                       Submit(author_, "Reklama: arzon chiptalar"));
  const std::string id = s.question().id();
  const std::string reason = "Reklama taqiqlangan / advertising is not allowed";
  ASSERT_OK_AND_ASSIGN(v1::Question r,
                       As(moderator_).Reject(sid(), id, reason));
  EXPECT_EQ(r.status(), v1::QUESTION_STATUS_REJECTED);
  EXPECT_EQ(r.reject_reason(), reason);
  // The author sees it with the reason.
  ASSERT_OK_AND_ASSIGN(v1::Question seen, As(author_).Get(sid(), id));
  EXPECT_EQ(seen.status(), v1::QUESTION_STATUS_REJECTED);
  EXPECT_EQ(seen.reject_reason(), reason);
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Question> mine,
                       As(author_).ListAll(sid(), View::VIEW_ALL));
  EXPECT_THAT(IdsOf(mine), Contains(id));
  // Other participants do not.
  EXPECT_THAT(As(other_).Get(sid(), id), HasCode(Code::kNotFound));
  for (auto view : {View::VIEW_ALL, View::VIEW_OPEN, View::VIEW_PENDING,
                    View::VIEW_ANSWERED}) {
    ASSERT_OK_AND_ASSIGN(std::vector<v1::Question> list,
                         As(other_).ListAll(sid(), view));
    EXPECT_THAT(IdsOf(list), Not(Contains(id))) << "view " << view;
  }
  // Moderators do.
  ASSERT_OK_AND_ASSIGN(v1::Question mod, As(moderator_).Get(sid(), id));
  EXPECT_EQ(mod.reject_reason(), reason);
}

TEST_F(QuestionsTest, PinningOneUnpinsTheOtherInOneStep) {
  const std::string a = Open(author_, "Birinchi savol A");
  const std::string b = Open(other_, "Ikkinchi savol B");
  QueueWatcher watcher(channel(), tenant_->token, sid());
  ASSERT_THAT(watcher.WaitFor(1), SizeIs(1));
  ASSERT_OK_AND_ASSIGN(v1::PinQuestionResponse pin_a,
                       Organizer().Pin(sid(), a));
  EXPECT_EQ(pin_a.question().status(), v1::QUESTION_STATUS_PINNED);
  EXPECT_TRUE(pin_a.unpinned().id().empty());
  ASSERT_OK_AND_ASSIGN(v1::PinQuestionResponse pin_b,
                       As(moderator_).Pin(sid(), b));
  EXPECT_EQ(pin_b.question().id(), b);
  EXPECT_EQ(pin_b.question().status(), v1::QUESTION_STATUS_PINNED);
  EXPECT_EQ(pin_b.unpinned().id(), a);
  EXPECT_EQ(pin_b.unpinned().status(), v1::QUESTION_STATUS_APPROVED);
  // Exactly one pinned.
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Question> all,
                       Organizer().ListAll(sid()));
  int pinned = 0;
  for (const v1::Question& q : all) {
    if (q.status() == v1::QUESTION_STATUS_PINNED) {
      ++pinned;
      EXPECT_EQ(q.id(), b);
    }
  }
  EXPECT_EQ(pinned, 1);
  ASSERT_OK_AND_ASSIGN(v1::QueueSnapshot snapshot,
                       QueueSnapshotOf(channel(), tenant_->token, sid()));
  EXPECT_EQ(snapshot.pinned_question_id(), b);
  // The watcher saw the second pin as one change carrying both questions.
  std::vector<v1::WatchQueueResponse> seen =
      watcher.WaitForChange("question.pinned", b);
  const v1::QueueChange* second_pin = nullptr;
  for (const auto& m : seen) {
    if (!m.has_change()) continue;
    EXPECT_NE(m.change().kind(), "question.unpinned")
        << "the previous pin was undone in a separate step";
    if (m.change().kind() != "question.pinned") continue;
    for (const auto& q : m.change().questions()) {
      if (q.id() == b) second_pin = &m.change();
    }
  }
  ASSERT_NE(second_pin, nullptr);
  std::map<std::string, v1::QuestionStatus> in_change;
  for (const auto& q : second_pin->questions()) in_change[q.id()] = q.status();
  EXPECT_EQ(in_change[b], v1::QUESTION_STATUS_PINNED);
  EXPECT_EQ(in_change[a], v1::QUESTION_STATUS_APPROVED);
  // Unpin: back to APPROVED, nothing pinned.
  ASSERT_OK_AND_ASSIGN(v1::Question unpinned, Organizer().Unpin(sid(), b));
  EXPECT_EQ(unpinned.status(), v1::QUESTION_STATUS_APPROVED);
  ASSERT_OK_AND_ASSIGN(snapshot,
                       QueueSnapshotOf(channel(), tenant_->token, sid()));
  EXPECT_EQ(snapshot.pinned_question_id(), "");
}

TEST_F(QuestionsTest, MarkAnsweredLiveAndInWriting) {
  const std::string live = Open(author_, "Jonli javob kerak");
  const std::string written = Open(author_, "Yozma javob kerak");
  ASSERT_OK(Organizer().Pin(sid(), live).status());
  ASSERT_OK_AND_ASSIGN(v1::Question l, As(moderator_).Answer(sid(), live));
  EXPECT_EQ(l.status(), v1::QUESTION_STATUS_ANSWERED);
  EXPECT_TRUE(l.answer().empty());
  const std::string answer =
      "Javob: pensiya jamg'armasi 2026-yil 1-yanvardan to'laydi.";
  ASSERT_OK_AND_ASSIGN(v1::Question w,
                       Organizer().Answer(sid(), written, answer));
  EXPECT_EQ(w.status(), v1::QUESTION_STATUS_ANSWERED);
  EXPECT_EQ(w.answer(), answer);
  EXPECT_TRUE(w.has_answer_time());
  // The author sees the answer.
  ASSERT_OK_AND_ASSIGN(v1::Question seen, As(author_).Get(sid(), written));
  EXPECT_EQ(seen.answer(), answer);
  EXPECT_TRUE(seen.has_answer_time());
  // Nothing is pinned any more; both are in the answered view.
  ASSERT_OK_AND_ASSIGN(v1::QueueSnapshot snapshot,
                       QueueSnapshotOf(channel(), tenant_->token, sid()));
  EXPECT_EQ(snapshot.pinned_question_id(), "");
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Question> answered,
                       As(other_).ListAll(sid(), View::VIEW_ANSWERED));
  EXPECT_THAT(IdsOf(answered), UnorderedElementsAre(live, written));
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Question> open,
                       As(other_).ListAll(sid(), View::VIEW_OPEN));
  EXPECT_THAT(open, IsEmpty());
  // A live answer may get its written answer later (also after the
  // session).
  v1::EndSessionRequest end;
  end.set_session_id(sid());
  ASSERT_OK(tenant_->client.EndSession(end).status());
  ASSERT_OK_AND_ASSIGN(l, Organizer().Answer(sid(), live, "Yozma qo'shimcha"));
  EXPECT_EQ(l.status(), v1::QUESTION_STATUS_ANSWERED);
  EXPECT_EQ(l.answer(), "Yozma qo'shimcha");
  ASSERT_OK_AND_ASSIGN(seen, As(author_).Get(sid(), live));
  EXPECT_EQ(seen.answer(), "Yozma qo'shimcha");
}

TEST_F(QuestionsTest, ArchiveHidesFromRankingsKeepsTheRecord) {
  const std::string a = Open(author_, "Arxivga tushadigan savol");
  ASSERT_OK_AND_ASSIGN(v1::SubmitQuestionResponse pending,
                       Submit(author_, "Kutilayotgan savol"));
  ASSERT_OK_AND_ASSIGN(v1::Question archived, Organizer().Archive(sid(), a));
  EXPECT_EQ(archived.status(), v1::QUESTION_STATUS_ARCHIVED);
  ASSERT_OK_AND_ASSIGN(archived,
                       As(moderator_).Archive(sid(), pending.question().id()));
  EXPECT_EQ(archived.status(), v1::QUESTION_STATUS_ARCHIVED);
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Question> open,
                       As(other_).ListAll(sid(), View::VIEW_OPEN));
  EXPECT_THAT(open, IsEmpty());
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Question> all,
                       Organizer().ListAll(sid()));
  EXPECT_THAT(IdsOf(all), UnorderedElementsAre(a, pending.question().id()));
  EXPECT_THAT(As(other_).Vote(sid(), a, other_.participant_id),
              StatusIs(Code::kFailedPrecondition, HasSubstr("ARCHIVED")));
}

TEST_F(QuestionsTest, UndoTheLastActionThenTheOneBefore) {
  // No moderator action yet: nothing to undo.
  EXPECT_THAT(Organizer().Undo(sid()), HasCode(Code::kFailedPrecondition));
  ASSERT_OK_AND_ASSIGN(v1::SubmitQuestionResponse s,
                       Submit(author_, "Bekor qilinadigan savol"));
  const std::string id = s.question().id();
  ASSERT_OK(As(moderator_).Approve(sid(), id, "Tahrirlangan savol").status());
  ASSERT_OK(As(moderator_).Pin(sid(), id).status());
  ASSERT_OK_AND_ASSIGN(std::vector<v1::ModerationAction> log,
                       Organizer().Log(sid()));
  ASSERT_THAT(log, SizeIs(2));

  // Undo the pin.
  ASSERT_OK_AND_ASSIGN(v1::UndoModerationResponse u1, Organizer().Undo(sid()));
  EXPECT_EQ(u1.undone().action(), "pin");
  EXPECT_EQ(u1.undone().sequence(), log[1].sequence());
  ASSERT_THAT(u1.questions(), SizeIs(1));
  EXPECT_EQ(u1.questions(0).status(), v1::QUESTION_STATUS_APPROVED);
  ASSERT_OK_AND_ASSIGN(v1::QueueSnapshot snapshot,
                       QueueSnapshotOf(channel(), tenant_->token, sid()));
  EXPECT_EQ(snapshot.pinned_question_id(), "");
  // Undo the edit-then-approve: PENDING again, the author's text back.
  ASSERT_OK_AND_ASSIGN(v1::UndoModerationResponse u2,
                       As(moderator_).Undo(sid()));
  EXPECT_EQ(u2.undone().action(), "edit_approve");
  EXPECT_EQ(u2.undone().sequence(), log[0].sequence());
  ASSERT_OK_AND_ASSIGN(v1::Question q, Organizer().Get(sid(), id));
  EXPECT_EQ(q.status(), v1::QUESTION_STATUS_PENDING);
  EXPECT_EQ(q.text(), "Bekor qilinadigan savol");
  EXPECT_TRUE(q.original_text().empty());
  // Nothing left.
  EXPECT_THAT(Organizer().Undo(sid()), HasCode(Code::kFailedPrecondition));
  // The log: both actions marked undone, two undo entries naming them.
  ASSERT_OK_AND_ASSIGN(log, Organizer().Log(sid()));
  ASSERT_THAT(log, SizeIs(4));
  EXPECT_TRUE(log[0].undone());
  EXPECT_TRUE(log[1].undone());
  EXPECT_EQ(log[2].action(), "undo");
  EXPECT_EQ(log[3].action(), "undo");
  EXPECT_THAT(log[2].detail(), HasSubstr(absl::StrCat(log[1].sequence())));
  EXPECT_THAT(log[3].detail(), HasSubstr(absl::StrCat(log[0].sequence())));
  EXPECT_EQ(log[2].actor(), "organizer@example.org");
  EXPECT_EQ(log[3].actor(), moderator_.participant_id);
}

TEST_F(QuestionsTest, UndoRejectAndAnswerAndArchive) {
  const std::string a = Open(author_, "Rad etiladimi");
  ASSERT_OK(Organizer().Reject(sid(), a, "sabab").status());
  ASSERT_OK_AND_ASSIGN(v1::UndoModerationResponse u, Organizer().Undo(sid()));
  EXPECT_EQ(u.undone().action(), "reject");
  ASSERT_OK_AND_ASSIGN(v1::Question q, As(other_).Get(sid(), a));
  EXPECT_EQ(q.status(), v1::QUESTION_STATUS_APPROVED);
  EXPECT_TRUE(q.reject_reason().empty());
  ASSERT_OK(Organizer().Answer(sid(), a, "javob").status());
  ASSERT_OK_AND_ASSIGN(u, Organizer().Undo(sid()));
  EXPECT_EQ(u.undone().action(), "answer");
  ASSERT_OK_AND_ASSIGN(q, As(author_).Get(sid(), a));
  EXPECT_EQ(q.status(), v1::QUESTION_STATUS_APPROVED);
  EXPECT_TRUE(q.answer().empty());
  ASSERT_OK(Organizer().Archive(sid(), a).status());
  ASSERT_OK_AND_ASSIGN(u, Organizer().Undo(sid()));
  EXPECT_EQ(u.undone().action(), "archive");
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Question> open,
                       As(other_).ListAll(sid(), View::VIEW_OPEN));
  EXPECT_THAT(IdsOf(open), ElementsAre(a));
}

TEST_F(QuestionsTest, MergePoolsVotersOnceAndUndoRestoresBoth) {
  std::vector<Member> voters;
  for (int i = 0; i < 5; ++i) {
    ASSERT_OK_AND_ASSIGN(Member m, Join(absl::StrCat("Saylovchi ", i)));
    voters.push_back(m);
  }
  const std::string target = Open(author_, "Vatanga qaytish dasturi bormi?");
  const std::string dup1 = Open(other_, "Vatanga qaytish dasturi bormi");
  ASSERT_OK_AND_ASSIGN(v1::SubmitQuestionResponse pending,
                       Submit(moderator_, "Qaytish dasturi haqida"));
  const std::string dup2 = pending.question().id();  // PENDING, no votes
  // target: {0,1,2}; dup1: {1,2,3}; overlapping voter sets.
  for (int i : {0, 1, 2}) {
    ASSERT_OK(
        As(voters[i]).Vote(sid(), target, voters[i].participant_id).status());
  }
  for (int i : {1, 2, 3}) {
    ASSERT_OK(
        As(voters[i]).Vote(sid(), dup1, voters[i].participant_id).status());
  }
  ASSERT_OK_AND_ASSIGN(v1::MergeQuestionsResponse merged,
                       As(moderator_).Merge(sid(), target, {dup1, dup2}));
  EXPECT_EQ(merged.question().id(), target);
  EXPECT_EQ(merged.question().votes(), 4);  // {0,1,2,3}
  EXPECT_THAT(merged.question().merged_question_ids(),
              UnorderedElementsAre(dup1, dup2));
  ASSERT_THAT(merged.merged(), SizeIs(2));
  for (const v1::Question& m : merged.merged()) {
    EXPECT_EQ(m.status(), v1::QUESTION_STATUS_MERGED);
    EXPECT_EQ(m.merged_into_question_id(), target);
  }
  ASSERT_OK_AND_ASSIGN(v1::Question d1, Organizer().Get(sid(), dup1));
  EXPECT_EQ(d1.status(), v1::QUESTION_STATUS_MERGED);
  EXPECT_EQ(d1.merged_into_question_id(), target);
  // Voter 3 (only on the duplicate) now counts on the survivor; voting
  // again there changes nothing; voter 4 adds the fifth.
  ASSERT_OK_AND_ASSIGN(v1::Question t3, As(voters[3]).Get(sid(), target));
  EXPECT_TRUE(t3.voted_by_caller());
  ASSERT_OK_AND_ASSIGN(
      v1::UpvoteQuestionResponse again,
      As(voters[3]).Vote(sid(), target, voters[3].participant_id));
  EXPECT_FALSE(again.changed());
  EXPECT_EQ(again.votes(), 4);
  // Merged questions take no votes and leave the open view.
  EXPECT_THAT(As(voters[4]).Vote(sid(), dup1, voters[4].participant_id),
              StatusIs(Code::kFailedPrecondition, HasSubstr("MERGED")));
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Question> open,
                       As(voters[4]).ListAll(sid(), View::VIEW_OPEN));
  EXPECT_THAT(IdsOf(open), ElementsAre(target));

  // Undo the merge: both back as they were, voter sets included.
  ASSERT_OK_AND_ASSIGN(v1::UndoModerationResponse undone,
                       Organizer().Undo(sid()));
  EXPECT_EQ(undone.undone().action(), "merge");
  ASSERT_OK_AND_ASSIGN(v1::Question t, Organizer().Get(sid(), target));
  EXPECT_EQ(t.votes(), 3);
  EXPECT_THAT(t.merged_question_ids(), IsEmpty());
  EXPECT_EQ(t.status(), v1::QUESTION_STATUS_APPROVED);
  ASSERT_OK_AND_ASSIGN(d1, Organizer().Get(sid(), dup1));
  EXPECT_EQ(d1.status(), v1::QUESTION_STATUS_APPROVED);
  EXPECT_EQ(d1.votes(), 3);
  EXPECT_TRUE(d1.merged_into_question_id().empty());
  ASSERT_OK_AND_ASSIGN(v1::Question d2, Organizer().Get(sid(), dup2));
  EXPECT_EQ(d2.status(), v1::QUESTION_STATUS_PENDING);
  EXPECT_TRUE(d2.merged_into_question_id().empty());
  ASSERT_OK_AND_ASSIGN(t3, As(voters[3]).Get(sid(), target));
  EXPECT_FALSE(t3.voted_by_caller()) << "the pooled vote stayed after undo";
  ASSERT_OK_AND_ASSIGN(v1::Question t1, As(voters[1]).Get(sid(), target));
  EXPECT_TRUE(t1.voted_by_caller());
  ASSERT_OK_AND_ASSIGN(v1::Question d1v3, As(voters[3]).Get(sid(), dup1));
  EXPECT_TRUE(d1v3.voted_by_caller());
}

TEST_F(QuestionsTest, MergeRefusesBadTargetsAndDuplicates) {
  const std::string target = Open(author_, "Asosiy savol");
  const std::string dup = Open(other_, "Takror savol");
  ASSERT_OK_AND_ASSIGN(v1::SubmitQuestionResponse r,
                       Submit(other_, "Rad etilgan savol"));
  const std::string rejected = r.question().id();
  ASSERT_OK(Organizer().Reject(sid(), rejected, "yo'q").status());
  EXPECT_THAT(Organizer().Merge(sid(), target, {}),
              HasCode(Code::kInvalidArgument));
  EXPECT_THAT(Organizer().Merge(sid(), target, {target}),
              HasCode(Code::kInvalidArgument));
  std::vector<std::string> too_many(51, dup);
  EXPECT_THAT(Organizer().Merge(sid(), target, too_many),
              HasCode(Code::kInvalidArgument));
  EXPECT_THAT(Organizer().Merge(sid(), target, {rejected}),
              StatusIs(Code::kFailedPrecondition, HasSubstr("REJECTED")));
  EXPECT_THAT(Organizer().Merge(sid(), rejected, {dup}),
              StatusIs(Code::kFailedPrecondition, HasSubstr("REJECTED")));
  EXPECT_THAT(Organizer().Merge(sid(), target, {"no-such-question"}),
              HasCode(Code::kNotFound));
  // Nothing changed.
  ASSERT_OK_AND_ASSIGN(v1::Question d, Organizer().Get(sid(), dup));
  EXPECT_EQ(d.status(), v1::QUESTION_STATUS_APPROVED);
  ASSERT_OK_AND_ASSIGN(std::vector<v1::ModerationAction> log,
                       Organizer().Log(sid()));
  for (const auto& a : log) EXPECT_NE(a.action(), "merge");
}

TEST_F(QuestionsTest, InvalidTransitionsNameTheStatus) {
  ASSERT_OK_AND_ASSIGN(v1::SubmitQuestionResponse s, Submit(author_, "Holat"));
  const std::string p = s.question().id();  // PENDING
  auto refused = [&](const absl::Status& status, const std::string& state) {
    EXPECT_EQ(status.code(), Code::kFailedPrecondition) << status;
    EXPECT_THAT(std::string(status.message()), HasSubstr(state)) << status;
  };
  refused(Organizer().Pin(sid(), p).status(), "PENDING");
  refused(Organizer().Unpin(sid(), p).status(), "PENDING");
  refused(Organizer().Answer(sid(), p).status(), "PENDING");
  const std::string a = Open(author_, "Holat ikki");  // APPROVED
  refused(Organizer().Approve(sid(), a).status(), "APPROVED");
  refused(Organizer().Unpin(sid(), a).status(), "APPROVED");
  ASSERT_OK(Organizer().Answer(sid(), a).status());  // ANSWERED
  refused(Organizer().Reject(sid(), a, "kech").status(), "ANSWERED");
  refused(Organizer().Pin(sid(), a).status(), "ANSWERED");
  refused(Organizer().Approve(sid(), a).status(), "ANSWERED");
  ASSERT_OK(Organizer().Reject(sid(), p, "sabab").status());  // REJECTED
  refused(Organizer().Approve(sid(), p).status(), "REJECTED");
  refused(Organizer().Reject(sid(), p, "yana").status(), "REJECTED");
  refused(Organizer().Answer(sid(), p).status(), "REJECTED");
  const std::string t = Open(other_, "Holat uch");
  const std::string m = Open(other_, "Holat to'rt");
  ASSERT_OK(Organizer().Merge(sid(), t, {m}).status());  // MERGED
  refused(Organizer().Archive(sid(), m).status(), "MERGED");
  refused(Organizer().Approve(sid(), m).status(), "MERGED");
  refused(Organizer().Pin(sid(), m).status(), "MERGED");
  EXPECT_THAT(Organizer().Approve(sid(), "no-such-question"),
              HasCode(Code::kNotFound));
}

TEST_F(QuestionsTest, ParticipantsCannotModerate) {
  const std::string a = Open(author_, "Ruxsatlar savoli");
  const std::string b = Open(author_, "Ruxsatlar savoli ikki");
  ASSERT_OK_AND_ASSIGN(v1::SubmitQuestionResponse own,
                       Submit(other_, "O'zimning savolim"));
  QuestionsClient p = As(other_);
  const std::string own_id = own.question().id();
  auto denied = [](const absl::Status& s) {
    EXPECT_EQ(s.code(), Code::kPermissionDenied) << s;
  };
  denied(p.Approve(sid(), own_id).status());
  denied(p.Approve(sid(), own_id, "o'zim tahrirladim").status());
  denied(p.Reject(sid(), a, "yoqmadi").status());
  denied(p.Pin(sid(), a).status());
  denied(p.Unpin(sid(), a).status());
  denied(p.Answer(sid(), a, "javob").status());
  denied(p.Archive(sid(), a).status());
  denied(p.Merge(sid(), a, {b}).status());
  denied(p.Undo(sid()).status());
  denied(p.Log(sid()).status());
  v1::ExportModerationLogRequest export_log;
  export_log.set_session_id(sid());
  denied(p.ExportModerationLog(export_log).status());
  v1::QueueSettings settings;
  settings.set_moderation_mode(v1::MODERATION_MODE_POST);
  denied(p.SetSettings(sid(), settings).status());
  v1::UpdateQuestionPolicyRequest policy;
  policy.mutable_policy()->set_organizers_see_anonymous_authors(true);
  denied(p.UpdateQuestionPolicy(policy).status());
  v1::CarryOverQuestionsRequest carry;
  carry.set_session_id(sid());
  denied(p.CarryOverQuestions(carry).status());
  // Observers and speakers neither.
  ASSERT_OK_AND_ASSIGN(Member observer,
                       Join("Kuzatuvchi", v1::SESSION_ROLE_OBSERVER));
  ASSERT_OK_AND_ASSIGN(Member speaker,
                       Join("Ma'ruzachi", v1::SESSION_ROLE_SPEAKER));
  for (const Member* m : {&observer, &speaker}) {
    denied(As(*m).Pin(sid(), a).status());
    denied(As(*m).Approve(sid(), own_id).status());
    denied(As(*m).Undo(sid()).status());
  }
  // Nothing was changed by the refused calls.
  ASSERT_OK_AND_ASSIGN(v1::Question q, Organizer().Get(sid(), own_id));
  EXPECT_EQ(q.status(), v1::QUESTION_STATUS_PENDING);
  ASSERT_OK_AND_ASSIGN(std::vector<v1::ModerationAction> log,
                       Organizer().Log(sid()));
  EXPECT_THAT(log, SizeIs(2));  // the two approvals of Open()
}

TEST_F(QuestionsTest, CarryOverToTheNextOccurrenceKeepsVotes) {
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> occurrences,
                       NewQuestionsSeries(tenant_->client));
  const std::string first = occurrences[0];
  const std::string second = occurrences[1];
  session_.set_id(first);  // sid() is the first occurrence now
  ASSERT_OK_AND_ASSIGN(Member a, Join("Seriya muallifi"));
  ASSERT_OK_AND_ASSIGN(Member b, Join("Seriya saylovchisi"));
  ASSERT_OK_AND_ASSIGN(Member c, Join("Seriya saylovchisi 2"));

  const std::string open = Open(a, "Keyingi oyga qoladigan savol");
  const std::string pinned = Open(a, "Pin qilingan savol");
  ASSERT_OK_AND_ASSIGN(v1::SubmitQuestionResponse p, Submit(a, "Kutilayotgan"));
  const std::string pending = p.question().id();
  const std::string answered = Open(b, "Javob berilgan savol");
  const std::string rejected = Open(b, "Rad etilgan savol");
  for (const Member* m : {&b, &c}) {
    ASSERT_OK(As(*m).Vote(sid(), open, m->participant_id).status());
  }
  ASSERT_OK(As(c).Vote(sid(), pinned, c.participant_id).status());
  ASSERT_OK(Organizer().Pin(sid(), pinned).status());
  ASSERT_OK(Organizer().Answer(sid(), answered, "Javob").status());
  ASSERT_OK(Organizer().Reject(sid(), rejected, "Mavzu emas").status());
  v1::EndSessionRequest end;
  end.set_session_id(first);
  ASSERT_OK(tenant_->client.EndSession(end).status());

  v1::CarryOverQuestionsRequest carry;
  carry.set_session_id(first);
  ASSERT_OK_AND_ASSIGN(v1::CarryOverQuestionsResponse carried,
                       Organizer().CarryOverQuestions(carry));
  EXPECT_EQ(carried.target_session_id(), second);
  EXPECT_THAT(carried.question_ids(),
              UnorderedElementsAre(open, pinned, pending));
  // The originals are CARRIED and point to the copies.
  for (const std::string& id : {open, pinned, pending}) {
    ASSERT_OK_AND_ASSIGN(v1::Question q, Organizer().Get(first, id));
    EXPECT_EQ(q.status(), v1::QUESTION_STATUS_CARRIED) << id;
    EXPECT_EQ(q.carried_to_session_id(), second);
  }
  ASSERT_OK_AND_ASSIGN(v1::Question kept, Organizer().Get(first, answered));
  EXPECT_EQ(kept.status(), v1::QUESTION_STATUS_ANSWERED);
  ASSERT_OK_AND_ASSIGN(kept, Organizer().Get(first, rejected));
  EXPECT_EQ(kept.status(), v1::QUESTION_STATUS_REJECTED);
  // The copies, in the next occurrence, with their votes.
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Question> next,
                       Organizer().ListAll(second));
  EXPECT_THAT(IdsOf(next), UnorderedElementsAre(open, pinned, pending));
  std::map<std::string, v1::Question> by_id;
  for (const auto& q : next) by_id[q.id()] = q;
  EXPECT_EQ(by_id[open].votes(), 2);
  EXPECT_EQ(by_id[pinned].votes(), 1);
  EXPECT_EQ(by_id[open].text(), "Keyingi oyga qoladigan savol");
  for (const auto& [id, q] : by_id) {
    EXPECT_EQ(q.carried_from_session_id(), first) << id;
    EXPECT_EQ(q.session_id(), second) << id;
  }
  // Carried questions are not carried again, and take no more moderation.
  EXPECT_THAT(Organizer().Archive(first, open),
              StatusIs(Code::kFailedPrecondition, HasSubstr("CARRIED")));
  // Idempotent.
  ASSERT_OK(Organizer().CarryOverQuestions(carry).status());
  ASSERT_OK_AND_ASSIGN(next, Organizer().ListAll(second));
  EXPECT_THAT(next, SizeIs(3));
  // Counted once on either side; the pinned copy arrives APPROVED.
  EXPECT_EQ(SnapshotCounts(tenant_->token, first),
            "answered: 1 rejected: 1 carried: 3");
  EXPECT_EQ(SnapshotCounts(tenant_->token, second), "pending: 1 approved: 2");
  // Logged.
  ASSERT_OK_AND_ASSIGN(std::vector<v1::ModerationAction> log,
                       Organizer().Log(first));
  int carries = 0;
  for (const auto& a : log) carries += a.action() == "carry_over";
  EXPECT_EQ(carries, 1);
  // The last occurrence has no next one.
  v1::CarryOverQuestionsRequest last;
  last.set_session_id(second);
  EXPECT_THAT(Organizer().CarryOverQuestions(last),
              HasCode(Code::kFailedPrecondition));
  // A session outside any series neither.
  ASSERT_OK_AND_ASSIGN(v1::Session lone, NewQuestionsSession(tenant_->client));
  last.set_session_id(lone.id());
  EXPECT_THAT(Organizer().CarryOverQuestions(last),
              HasCode(Code::kFailedPrecondition));
}

TEST_F(QuestionsTest, ModerationLogListsEveryActionInOrder) {
  const absl::Time start = absl::Now() - absl::Seconds(1);
  ASSERT_OK_AND_ASSIGN(Member p1, Join("Jurnal 1"));
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) {
    ASSERT_OK_AND_ASSIGN(
        v1::SubmitQuestionResponse s,
        Submit(i % 2 ? author_ : p1,
               absl::StrCat("Jurnal savoli ", i, " ", NewId())));
    ids.push_back(s.question().id());
  }
  QuestionsClient mod = As(moderator_);
  struct Want {
    std::string action;
    std::string actor;
    std::vector<std::string> question_ids;
    std::string detail;  // a part of it
  };
  const std::string organizer = "organizer@example.org";
  const std::string me = moderator_.participant_id;
  std::vector<Want> want;
  ASSERT_OK(mod.Approve(sid(), ids[0]).status());
  want.push_back({"approve", me, {ids[0]}, ""});
  ASSERT_OK(mod.Approve(sid(), ids[1], "Tahrirlangan matn").status());
  want.push_back({"edit_approve", me, {ids[1]}, "Tahrirlangan matn"});
  ASSERT_OK(Organizer().Reject(sid(), ids[2], "Haqoratli so'zlar").status());
  want.push_back({"reject", organizer, {ids[2]}, "Haqoratli so'zlar"});
  ASSERT_OK(mod.Pin(sid(), ids[0]).status());
  want.push_back({"pin", me, {ids[0]}, ""});
  ASSERT_OK(mod.Pin(sid(), ids[1]).status());
  want.push_back({"pin", me, {ids[1]}, ""});
  ASSERT_OK(mod.Unpin(sid(), ids[1]).status());
  want.push_back({"unpin", me, {ids[1]}, ""});
  ASSERT_OK(mod.Answer(sid(), ids[1], "Yozma javob matni").status());
  want.push_back({"answer", me, {ids[1]}, "Yozma javob matni"});
  ASSERT_OK(Organizer().Approve(sid(), ids[3]).status());
  want.push_back({"approve", organizer, {ids[3]}, ""});
  ASSERT_OK(mod.Merge(sid(), ids[0], {ids[3]}).status());
  want.push_back({"merge", me, {}, ""});
  ASSERT_OK(mod.Archive(sid(), ids[4]).status());
  want.push_back({"archive", me, {ids[4]}, ""});
  ASSERT_OK(mod.Undo(sid()).status());
  want.push_back({"undo", me, {}, ""});
  v1::QueueSettings settings;
  settings.set_moderation_mode(v1::MODERATION_MODE_POST);
  ASSERT_OK(Organizer().SetSettings(sid(), settings).status());
  want.push_back({"settings", organizer, {}, ""});
  // Reads and participant actions are not moderator actions.
  ASSERT_OK(As(p1).Vote(sid(), ids[0], p1.participant_id).status());
  ASSERT_OK(Submit(p1, "Yana bir savol").status());

  for (int page_size : {0, 1, 5}) {
    SCOPED_TRACE(absl::StrCat("page_size ", page_size));
    ASSERT_OK_AND_ASSIGN(std::vector<v1::ModerationAction> log,
                         Organizer().Log(sid(), page_size));
    std::vector<std::string> actions;
    for (const auto& a : log) actions.push_back(a.action());
    std::vector<std::string> want_actions;
    for (const Want& w : want) want_actions.push_back(w.action);
    ASSERT_EQ(actions, want_actions);
    absl::Time previous = start;
    for (size_t i = 0; i < log.size(); ++i) {
      const v1::ModerationAction& a = log[i];
      const Want& w = want[i];
      SCOPED_TRACE(absl::StrCat(i, ": ", a.action()));
      EXPECT_EQ(a.sequence(), static_cast<int64_t>(i) + 1);
      EXPECT_EQ(a.actor(), w.actor);
      EXPECT_EQ(a.actor_role(),
                w.actor == organizer ? "organizer" : "moderator");
      absl::Time t = absl::FromUnixSeconds(a.time().seconds()) +
                     absl::Nanoseconds(a.time().nanos());
      EXPECT_GE(t, previous);
      EXPECT_LE(t, absl::Now() + absl::Seconds(1));
      previous = t;
      // The question acted on (a pin also names the one it unpinned).
      if (!w.question_ids.empty()) {
        EXPECT_THAT(a.question_ids(), ::testing::IsSupersetOf(w.question_ids));
      }
      if (!w.detail.empty()) EXPECT_THAT(a.detail(), HasSubstr(w.detail));
    }
    EXPECT_THAT(log[8].question_ids(),
                ::testing::IsSupersetOf({ids[0], ids[3]}));
    // The archive was undone; the undo names its sequence.
    EXPECT_TRUE(log[9].undone());
    EXPECT_THAT(log[10].detail(), HasSubstr(absl::StrCat(log[9].sequence())));
  }
  // Export: JSON and CSV hold every action.
  for (auto format :
       {v1::QUESTION_EXPORT_FORMAT_JSON, v1::QUESTION_EXPORT_FORMAT_CSV}) {
    v1::ExportModerationLogRequest r;
    r.set_session_id(sid());
    r.set_format(format);
    ASSERT_OK_AND_ASSIGN(v1::ExportModerationLogResponse exported,
                         As(moderator_).ExportModerationLog(r));
    if (format == v1::QUESTION_EXPORT_FORMAT_JSON) {
      EXPECT_EQ(exported.content_type(), "application/json");
      ASSERT_OK_AND_ASSIGN(std::vector<std::string> strings,
                           JsonStrings(exported.content()));
      std::vector<std::string> actions;
      for (const std::string& s : strings) {
        for (const Want& w : want) {
          if (s == w.action) {
            actions.push_back(s);
            break;
          }
        }
      }
      std::vector<std::string> want_actions;
      for (const Want& w : want) want_actions.push_back(w.action);
      EXPECT_EQ(actions, want_actions);
      EXPECT_THAT(strings, Contains("Haqoratli so'zlar"));
    } else {
      EXPECT_EQ(exported.content_type(), "text/csv");
      ASSERT_OK_AND_ASSIGN(auto rows, ParseCsv(exported.content()));
      ASSERT_EQ(rows.size(), want.size() + 1) << exported.content();
      auto column = std::find(rows[0].begin(), rows[0].end(), "action");
      ASSERT_NE(column, rows[0].end()) << "no 'action' column";
      size_t c = column - rows[0].begin();
      for (size_t i = 0; i < want.size(); ++i) {
        EXPECT_EQ(rows[i + 1][c], want[i].action);
      }
      EXPECT_TRUE(CsvFields(rows).count("Yozma javob matni"));
    }
  }
  // Participants (and observers) cannot read it.
  v1::ExportModerationLogRequest r;
  r.set_session_id(sid());
  EXPECT_THAT(As(p1).Log(sid()), HasCode(Code::kPermissionDenied));
  EXPECT_THAT(As(p1).ExportModerationLog(r), HasCode(Code::kPermissionDenied));
}

}  // namespace
}  // namespace townhall::testing
