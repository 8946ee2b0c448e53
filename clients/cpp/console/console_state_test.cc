#include "clients/cpp/console/console_state.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "clients/cpp/console/console_test_util.h"

namespace townhall::console {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace ::townhall::console::testing;  // NOLINT: message builders
using Special = KeyEvent::Special;

std::vector<std::string> Ids(const std::vector<const v1::Question*>& rows) {
  std::vector<std::string> ids;
  for (const v1::Question* q : rows) ids.push_back(q->id());
  return ids;
}

std::vector<std::string> ItemIds(const AgendaState& agenda) {
  std::vector<std::string> ids;
  for (const v1::AgendaItem& item : agenda.items()) ids.push_back(item.id());
  return ids;
}

KeyOutcome Press(ConsoleState& state, char32_t c) {
  return state.HandleKey(KeyEvent::Char(c));
}
KeyOutcome Press(ConsoleState& state, Special s) {
  return state.HandleKey(KeyEvent::Of(s));
}

constexpr auto kPending = v1::QUESTION_STATUS_PENDING;
constexpr auto kApproved = v1::QUESTION_STATUS_APPROVED;
constexpr auto kPinned = v1::QUESTION_STATUS_PINNED;

TEST(QueueStateTest, OrdersPendingOldestFirstAndOpenPinnedThenByVotes) {
  QueueState queue;
  queue.Apply(QueueSnapshot(
      7,
      {MakeQuestion("p2", kPending, 0, 20), MakeQuestion("p1", kPending, 0, 10),
       MakeQuestion("a1", kApproved, 3, 10),
       MakeQuestion("a2", kApproved, 9, 30),
       MakeQuestion("a3", kApproved, 3, 5), MakeQuestion("pin", kPinned, 1, 40),
       MakeQuestion("ans", v1::QUESTION_STATUS_ANSWERED, 50, 1)}));
  EXPECT_EQ(queue.version(), 7);
  EXPECT_THAT(Ids(queue.Pending()), ElementsAre("p1", "p2"));
  // Ties on votes: the earlier question first.
  EXPECT_THAT(Ids(queue.Open()), ElementsAre("pin", "a2", "a3", "a1"));
}

TEST(QueueStateTest, CountsAreTheServers) {
  QueueState queue;
  // A snapshot leaves rejected and merged questions out; its counts do not.
  v1::WatchQueueResponse snapshot =
      QueueSnapshot(3, {MakeQuestion("q1", kPending)});
  snapshot.mutable_snapshot()->mutable_counts()->set_rejected(2);
  snapshot.mutable_snapshot()->mutable_counts()->set_merged(1);
  queue.Apply(snapshot);
  ASSERT_NE(queue.counts(), nullptr);
  EXPECT_EQ(queue.counts()->rejected(), 2);
  EXPECT_EQ(queue.counts()->merged(), 1);

  v1::WatchQueueResponse rejected =
      QueueChange(4, "question.rejected",
                  {MakeQuestion("q1", v1::QUESTION_STATUS_REJECTED)});
  rejected.mutable_change()->mutable_counts()->set_rejected(3);
  rejected.mutable_change()->mutable_counts()->set_merged(1);
  queue.Apply(rejected);
  EXPECT_EQ(queue.counts()->rejected(), 3);
  // Votes carry no counts: the last ones stay.
  queue.Apply(VoteChange(5, {{"q1", 1}}));
  ASSERT_NE(queue.counts(), nullptr);
  EXPECT_EQ(queue.counts()->rejected(), 3);
  // A server that sends none: nothing to show rather than a wrong number.
  queue.Apply(QueueSnapshot(9, {}));
  EXPECT_EQ(queue.counts(), nullptr);
}

TEST(QueueStateTest, SnapshotReplacesEverything) {
  QueueState queue;
  queue.Apply(QueueSnapshot(3, {MakeQuestion("q1", kPending)}));
  queue.Apply(QueueSnapshot(9, {MakeQuestion("q2", kApproved)}));
  EXPECT_EQ(queue.Find("q1"), nullptr);
  EXPECT_THAT(Ids(queue.Open()), ElementsAre("q2"));
  EXPECT_EQ(queue.version(), 9);
}

TEST(QueueStateTest, ChangesMoveQuestionsAndUpdateVotes) {
  QueueState queue;
  queue.Apply(QueueSnapshot(
      1, {MakeQuestion("q1", kPending), MakeQuestion("q2", kApproved, 2)}));
  queue.Apply(
      QueueChange(2, "question.approved", {MakeQuestion("q1", kApproved)}));
  EXPECT_TRUE(queue.Pending().empty());
  EXPECT_THAT(Ids(queue.Open()), ElementsAre("q2", "q1"));
  queue.Apply(VoteChange(4, {{"q1", 5}, {"unknown", 1}}));
  EXPECT_THAT(Ids(queue.Open()), ElementsAre("q1", "q2"));
  EXPECT_EQ(queue.Find("q1")->votes(), 5);
  EXPECT_EQ(queue.version(), 4);
  queue.Apply(
      QueueChange(5, "question.submitted", {MakeQuestion("q3", kPending)}));
  EXPECT_THAT(Ids(queue.Pending()), ElementsAre("q3"));
}

TEST(QueueStateTest, PinCarriesBothQuestions) {
  QueueState queue;
  queue.Apply(QueueSnapshot(
      1, {MakeQuestion("old", kPinned, 1), MakeQuestion("new", kApproved, 4)}));
  queue.Apply(QueueChange(
      2, "question.pinned",
      {MakeQuestion("new", kPinned, 4), MakeQuestion("old", kApproved, 1)}));
  EXPECT_THAT(Ids(queue.Open()), ElementsAre("new", "old"));
}

TEST(QueueStateTest, DropsChangesItHasAlreadyApplied) {
  QueueState queue;
  queue.Apply(QueueSnapshot(10, {MakeQuestion("q1", kApproved, 3)}));
  queue.Apply(VoteChange(10, {{"q1", 1}}));
  queue.Apply(VoteChange(8, {{"q1", 1}}));
  EXPECT_EQ(queue.Find("q1")->votes(), 3);
  EXPECT_EQ(queue.version(), 10);
}

TEST(QueueStateTest, SettingsFromSnapshotAndChange) {
  QueueState queue;
  v1::WatchQueueResponse snapshot = QueueSnapshot(1, {});
  snapshot.mutable_snapshot()->mutable_settings()->set_moderation_mode(
      v1::MODERATION_MODE_PRE);
  queue.Apply(snapshot);
  v1::WatchQueueResponse change = QueueChange(2, "queue.settings", {});
  change.mutable_change()->mutable_settings()->set_submissions_closed(true);
  queue.Apply(change);
  EXPECT_TRUE(queue.settings().submissions_closed());
}

TEST(AgendaStateTest, SnapshotThenItemChanges) {
  AgendaState agenda;
  agenda.Apply(
      AgendaSnapshot(5,
                     {MakeItem("i2", v1::AGENDA_ITEM_STATUS_PENDING, 1),
                      MakeItem("i1", v1::AGENDA_ITEM_STATUS_ACTIVE, 0)},
                     "i1", {MakeSpeaker("p1", v1::SPEAKER_STATE_WAITING)}),
      absl::Now());
  EXPECT_THAT(ItemIds(agenda), ElementsAre("i1", "i2"));
  ASSERT_NE(agenda.active_item(), nullptr);
  EXPECT_EQ(agenda.active_item()->id(), "i1");
  ASSERT_NE(agenda.active_queue(), nullptr);
  EXPECT_EQ(agenda.active_queue()->speakers_size(), 1);
  EXPECT_EQ(agenda.TakeQueueToFetch(), std::nullopt);

  agenda.Apply(ItemChange(6, "agenda.item.created",
                          MakeItem("i3", v1::AGENDA_ITEM_STATUS_PENDING, 1)),
               absl::Now());
  EXPECT_THAT(ItemIds(agenda), ElementsAre("i1", "i3", "i2"));

  v1::WatchAgendaResponse moved;
  moved.mutable_change()->set_version(7);
  moved.mutable_change()->set_kind("agenda.item.moved");
  for (const char* id : {"i2", "i1", "i3"})
    moved.mutable_change()->add_order(id);
  agenda.Apply(moved, absl::Now());
  EXPECT_THAT(ItemIds(agenda), ElementsAre("i2", "i1", "i3"));

  agenda.Apply(ItemChange(8, "agenda.item.deleted",
                          MakeItem("i3", v1::AGENDA_ITEM_STATUS_PENDING, 2)),
               absl::Now());
  EXPECT_THAT(ItemIds(agenda), ElementsAre("i2", "i1"));
  EXPECT_EQ(agenda.version(), 8);
}

TEST(AgendaStateTest, ActivationAsksOnceForTheNewItemsQueue) {
  AgendaState agenda;
  agenda.Apply(
      AgendaSnapshot(1,
                     {MakeItem("i1", v1::AGENDA_ITEM_STATUS_ACTIVE, 0),
                      MakeItem("i2", v1::AGENDA_ITEM_STATUS_PENDING, 1)},
                     "i1"),
      absl::Now());
  agenda.Apply(ItemChange(2, "agenda.item.completed",
                          MakeItem("i1", v1::AGENDA_ITEM_STATUS_DONE, 0)),
               absl::Now());
  EXPECT_EQ(agenda.active_item(), nullptr);
  agenda.Apply(ItemChange(3, "agenda.item.activated",
                          MakeItem("i2", v1::AGENDA_ITEM_STATUS_ACTIVE, 1)),
               absl::Now());
  EXPECT_EQ(agenda.active_item_id(), "i2");
  EXPECT_EQ(agenda.active_queue(), nullptr);
  EXPECT_EQ(agenda.TakeQueueToFetch(), "i2");
  EXPECT_EQ(agenda.TakeQueueToFetch(), std::nullopt);

  v1::SpeakersQueue fetched;
  fetched.set_agenda_item_id("i2");
  *fetched.add_speakers() = MakeSpeaker("p1", v1::SPEAKER_STATE_WAITING);
  agenda.ApplyFetchedQueue(fetched);
  ASSERT_NE(agenda.active_queue(), nullptr);
  EXPECT_EQ(agenda.active_queue()->speakers_size(), 1);
}

TEST(AgendaStateTest, StreamedQueueWinsOverAFetchedOne) {
  AgendaState agenda;
  agenda.Apply(
      AgendaSnapshot(1, {MakeItem("i1", v1::AGENDA_ITEM_STATUS_PENDING, 0)}),
      absl::Now());
  agenda.Apply(ItemChange(2, "agenda.item.activated",
                          MakeItem("i1", v1::AGENDA_ITEM_STATUS_ACTIVE, 0)),
               absl::Now());
  agenda.Apply(SpeakersChange(3, "i1",
                              {MakeSpeaker("p1", v1::SPEAKER_STATE_SPEAKING),
                               MakeSpeaker("p2", v1::SPEAKER_STATE_WAITING)}),
               absl::Now());
  v1::SpeakersQueue stale;
  stale.set_agenda_item_id("i1");
  agenda.ApplyFetchedQueue(stale);
  ASSERT_NE(agenda.active_queue(), nullptr);
  EXPECT_EQ(agenda.active_queue()->speakers_size(), 2);
}

TEST(AgendaStateTest, ServerClockOffsetFromSnapshot) {
  AgendaState agenda;
  v1::WatchAgendaResponse snapshot = AgendaSnapshot(1, {});
  snapshot.mutable_snapshot()->mutable_server_time()->set_seconds(1100);
  agenda.Apply(snapshot, absl::FromUnixSeconds(1000));
  EXPECT_EQ(agenda.server_clock_offset(), absl::Seconds(100));
}

class ConsoleStateTest : public ::testing::Test {
 protected:
  ConsoleStateTest() : state_("s1") {
    state_.ApplyQueue(QueueSnapshot(1, {MakeQuestion("p1", kPending, 0, 10),
                                        MakeQuestion("p2", kPending, 0, 20),
                                        MakeQuestion("p3", kPending, 0, 30),
                                        MakeQuestion("a1", kApproved, 5, 10),
                                        MakeQuestion("a2", kApproved, 2, 20)}));
  }

  ConsoleState state_;
};

TEST_F(ConsoleStateTest, SelectsTheFirstRowOfEachPane) {
  EXPECT_EQ(state_.focus(), Pane::kPending);
  ASSERT_NE(state_.Selected(), nullptr);
  EXPECT_EQ(state_.Selected()->id(), "p1");
  Press(state_, Special::kTab);
  EXPECT_EQ(state_.focus(), Pane::kOpen);
  EXPECT_EQ(state_.Selected()->id(), "a1");
  Press(state_, Special::kTab);
  EXPECT_EQ(state_.focus(), Pane::kPolls);
  EXPECT_EQ(state_.Selected(), nullptr);
  Press(state_, Special::kTab);
  EXPECT_EQ(state_.Selected()->id(), "p1");
}

TEST_F(ConsoleStateTest, MovesWithinBounds) {
  Press(state_, Special::kDown);
  Press(state_, U'j');
  EXPECT_EQ(state_.Selected()->id(), "p3");
  Press(state_, Special::kDown);
  EXPECT_EQ(state_.Selected()->id(), "p3");
  Press(state_, U'k');
  EXPECT_EQ(state_.Selected()->id(), "p2");
  Press(state_, Special::kHome);
  EXPECT_EQ(state_.Selected()->id(), "p1");
  Press(state_, Special::kEnd);
  EXPECT_EQ(state_.selected_index(Pane::kPending), 2);
}

TEST_F(ConsoleStateTest, SelectionFollowsItsQuestionWhenVotesReorder) {
  Press(state_, Special::kTab);
  Press(state_, Special::kDown);
  EXPECT_EQ(state_.Selected()->id(), "a2");
  state_.ApplyQueue(VoteChange(2, {{"a2", 9}}));
  EXPECT_EQ(state_.Selected()->id(), "a2");
  EXPECT_EQ(state_.selected_index(Pane::kOpen), 0);
}

TEST_F(ConsoleStateTest, SelectionStaysOnTheRowWhenItsQuestionLeaves) {
  Press(state_, Special::kDown);
  KeyOutcome outcome = Press(state_, U'a');
  ASSERT_TRUE(outcome.command.has_value());
  EXPECT_EQ(outcome.command->kind, Command::Kind::kApprove);
  EXPECT_EQ(outcome.command->question_id, "p2");
  state_.ApplyQueue(QueueChange(2, "question.approved",
                                {MakeQuestion("p2", kApproved, 0, 20)}));
  // The next pending question is under the cursor, ready for the next key.
  EXPECT_EQ(state_.Selected()->id(), "p3");
}

TEST_F(ConsoleStateTest, RefusesCommandsTheQuestionsStatusDoesNotAllow) {
  Press(state_, Special::kTab);  // a1, approved
  KeyOutcome outcome = Press(state_, U'a');
  EXPECT_FALSE(outcome.command.has_value());
  EXPECT_TRUE(state_.status().error);
  EXPECT_THAT(state_.status().text, HasSubstr("approved"));
  Press(state_, Special::kTab);  // p1, pending
  EXPECT_FALSE(Press(state_, U'p').command.has_value());
  EXPECT_FALSE(Press(state_, U'm').command.has_value());
}

TEST_F(ConsoleStateTest, PinTogglesAndMarkAnswered) {
  Press(state_, Special::kTab);
  KeyOutcome pin = Press(state_, U'p');
  ASSERT_TRUE(pin.command.has_value());
  EXPECT_EQ(pin.command->kind, Command::Kind::kPin);
  EXPECT_EQ(pin.command->question_id, "a1");
  state_.ApplyQueue(
      QueueChange(2, "question.pinned", {MakeQuestion("a1", kPinned, 5, 10)}));
  KeyOutcome unpin = Press(state_, U'p');
  ASSERT_TRUE(unpin.command.has_value());
  EXPECT_EQ(unpin.command->kind, Command::Kind::kUnpin);
  KeyOutcome answered = Press(state_, U'm');
  ASSERT_TRUE(answered.command.has_value());
  EXPECT_EQ(answered.command->kind, Command::Kind::kMarkAnswered);
  EXPECT_EQ(answered.command->question_id, "a1");
}

TEST_F(ConsoleStateTest, RejectPromptsForAReason) {
  EXPECT_FALSE(Press(state_, U'r').command.has_value());
  ASSERT_TRUE(state_.prompt().has_value());
  // While the prompt is open, keys are text: 'q' does not quit.
  for (char32_t c : std::u32string(U"Takror savol — дубликатq")) {
    KeyOutcome outcome = Press(state_, c);
    EXPECT_FALSE(outcome.quit);
    EXPECT_FALSE(outcome.command.has_value());
  }
  Press(state_, Special::kBackspace);
  KeyOutcome outcome = Press(state_, Special::kEnter);
  ASSERT_TRUE(outcome.command.has_value());
  EXPECT_EQ(outcome.command->kind, Command::Kind::kReject);
  EXPECT_EQ(outcome.command->question_id, "p1");
  EXPECT_EQ(outcome.command->reason, "Takror savol — дубликат");
  EXPECT_FALSE(state_.prompt().has_value());
}

TEST_F(ConsoleStateTest, PromptsRefuseABlankTextAndEscCancels) {
  // r: the reason; e: the question's text.
  for (char32_t key : {U'r', U'e'}) {
    Press(state_, key);
    ASSERT_TRUE(state_.prompt().has_value());
    Press(state_, Special::kHome);
    for (int i = 0; i < 100 && !state_.prompt()->text.empty(); ++i) {
      Press(state_, Special::kDelete);
    }
    Press(state_, U' ');
    EXPECT_FALSE(Press(state_, Special::kEnter).command.has_value());
    EXPECT_TRUE(state_.prompt().has_value());
    EXPECT_TRUE(state_.status().error);
    Press(state_, Special::kEscape);
    EXPECT_FALSE(state_.prompt().has_value());
  }
  EXPECT_TRUE(Press(state_, U'q').quit);
}

TEST_F(ConsoleStateTest, MergeMarksADuplicateThenTheTarget) {
  EXPECT_FALSE(Press(state_, U'M').command.has_value());
  EXPECT_EQ(state_.merge_duplicate_id(), "p1");
  Press(state_, Special::kTab);  // a1
  KeyOutcome outcome = Press(state_, U'M');
  ASSERT_TRUE(outcome.command.has_value());
  EXPECT_EQ(outcome.command->kind, Command::Kind::kMerge);
  EXPECT_EQ(outcome.command->question_id, "a1");
  EXPECT_THAT(outcome.command->duplicate_ids, ElementsAre("p1"));
  EXPECT_EQ(state_.merge_duplicate_id(), "");
}

TEST_F(ConsoleStateTest, MergeMarkCanBeCancelled) {
  Press(state_, U'M');
  Press(state_, U'M');  // the same question again: unmark
  EXPECT_EQ(state_.merge_duplicate_id(), "");
  Press(state_, U'M');
  Press(state_, Special::kEscape);
  EXPECT_EQ(state_.merge_duplicate_id(), "");
}

TEST_F(ConsoleStateTest, MergeMarkDroppedWhenTheQuestionIsRejected) {
  Press(state_, U'M');
  state_.ApplyQueue(
      QueueChange(2, "question.rejected",
                  {MakeQuestion("p1", v1::QUESTION_STATUS_REJECTED, 0, 10)}));
  EXPECT_EQ(state_.merge_duplicate_id(), "");
  EXPECT_TRUE(state_.status().error);
}

TEST_F(ConsoleStateTest, SpeakerKeysNeedAnActiveItem) {
  EXPECT_FALSE(Press(state_, U'n').command.has_value());
  EXPECT_THAT(state_.status().text, HasSubstr("no agenda item is active"));
  state_.ApplyAgenda(AgendaSnapshot(
      4, {MakeItem("i1", v1::AGENDA_ITEM_STATUS_ACTIVE, 0)}, "i1"));
  KeyOutcome next = Press(state_, U'n');
  ASSERT_TRUE(next.command.has_value());
  EXPECT_EQ(next.command->kind, Command::Kind::kCallNextSpeaker);
  EXPECT_EQ(next.command->agenda_item_id, "i1");
  KeyOutcome finish = Press(state_, U'f');
  ASSERT_TRUE(finish.command.has_value());
  EXPECT_EQ(finish.command->kind, Command::Kind::kFinishSpeaker);
}

TEST_F(ConsoleStateTest, ServerErrorsGoToTheStatusLine) {
  Command command{.kind = Command::Kind::kPin, .question_id = "a1"};
  state_.OnCommandDone(
      command, absl::FailedPreconditionError("question a1 is ANSWERED"));
  EXPECT_TRUE(state_.status().error);
  EXPECT_EQ(state_.status().text,
            "pin a1 failed: FAILED_PRECONDITION: question a1 is ANSWERED");
  state_.OnCommandDone(command, absl::OkStatus());
  EXPECT_FALSE(state_.status().error);
  EXPECT_EQ(state_.status().text, "done: pin a1");
}

TEST_F(ConsoleStateTest, CallingNobodySaysWhy) {
  Command command{.kind = Command::Kind::kCallNextSpeaker,
                  .agenda_item_id = "i1"};
  v1::SpeakersQueue queue;
  *queue.add_speakers() = MakeSpeaker("a1", v1::SPEAKER_STATE_DONE);
  state_.OnCommandDone(command, absl::OkStatus(), &queue);
  EXPECT_TRUE(state_.status().error);
  EXPECT_EQ(state_.status().text, "nobody is next: no hand is raised");
  *queue.add_speakers() = HeldSpeaker("a2");
  *queue.add_speakers() = HeldSpeaker("a3");
  state_.SetParticipantName("a2", "Aziz");
  state_.OnCommandDone(command, absl::OkStatus(), &queue);
  EXPECT_EQ(state_.status().text,
            "nobody is next; held back: Aziz (organization org-a2 is at its "
            "limit of 1 speaker on this item, counting those called before); "
            "a3 (organization org-a3 is at its limit of 1 speaker on this "
            "item, counting those called before)");
  // Someone waiting: calling nobody cannot happen, the usual line.
  *queue.add_speakers() = MakeSpeaker("b1", v1::SPEAKER_STATE_WAITING);
  EXPECT_EQ(state_.NobodyNextReason(queue), "");
  state_.OnCommandDone(command, absl::OkStatus(), &queue);
  EXPECT_FALSE(state_.status().error);
  EXPECT_EQ(state_.status().text, "done: call the next speaker");
  // A failure is a failure, whatever the queue.
  state_.OnCommandDone(command, absl::UnavailableError("down"), &queue);
  EXPECT_THAT(state_.status().text, ::testing::HasSubstr("failed"));
}

TEST_F(ConsoleStateTest, AsksOnceForTheNamesOnScreen) {
  v1::Question authored = MakeQuestion("p9", kPending, 0, 40);
  authored.set_author_participant_id("author-1");
  state_.ApplyQueue(QueueChange(2, "question.submitted", {authored}));
  state_.ApplyAgenda(AgendaSnapshot(
      1, {MakeItem("i1", v1::AGENDA_ITEM_STATUS_ACTIVE, 0)}, "i1",
      {MakeSpeaker("speaker-1", v1::SPEAKER_STATE_WAITING),
       MakeSpeaker("author-1", v1::SPEAKER_STATE_WAITING)}));
  EXPECT_THAT(state_.TakeNamesToFetch(),
              ::testing::UnorderedElementsAre("speaker-1", "author-1"));
  EXPECT_TRUE(state_.TakeNamesToFetch().empty());
  EXPECT_EQ(state_.ParticipantName("speaker-1"), "speaker-1");
  state_.SetParticipantName("speaker-1", "Dilnoza Karimova",
                            "Qozon oʻzbek madaniyat markazi");
  EXPECT_EQ(state_.ParticipantName("speaker-1"),
            "Dilnoza Karimova (Qozon oʻzbek madaniyat markazi)");
  state_.SetParticipantName("author-1", "Aziz Rahimov");
  EXPECT_EQ(state_.ParticipantName("author-1"), "Aziz Rahimov");
  // No name: the id stays.
  state_.SetParticipantName("author-2", "");
  EXPECT_EQ(state_.ParticipantName("author-2"), "author-2");
}

TEST_F(ConsoleStateTest, DoesNotAskForNamesItKnows) {
  // A listing of the registrations brought names nobody asked for yet.
  state_.SetParticipantName("speaker-1", "Dilnoza Karimova");
  state_.ApplyAgenda(AgendaSnapshot(
      1, {MakeItem("i1", v1::AGENDA_ITEM_STATUS_ACTIVE, 0)}, "i1",
      {MakeSpeaker("speaker-1", v1::SPEAKER_STATE_WAITING),
       MakeSpeaker("speaker-2", v1::SPEAKER_STATE_WAITING)}));
  EXPECT_THAT(state_.TakeNamesToFetch(), ElementsAre("speaker-2"));
}

TEST_F(ConsoleStateTest, EditThenApproveSendsTheEditedText) {
  EXPECT_FALSE(Press(state_, U'e').command.has_value());
  ASSERT_TRUE(state_.prompt().has_value());
  EXPECT_EQ(state_.prompt()->text, U"Question p1");
  EXPECT_EQ(state_.prompt()->cursor, 11u);
  // "Question p1" -> "Savol: Question 1?" with the cursor keys.
  Press(state_, Special::kLeft);
  Press(state_, Special::kBackspace);  // the 'p'
  Press(state_, Special::kEnd);
  Press(state_, U'?');  // text, not the help
  Press(state_, Special::kHome);
  for (char32_t c : std::u32string(U"Savol: ")) Press(state_, c);
  Press(state_, Special::kRight);
  Press(state_, Special::kDelete);  // the 'u'
  Press(state_, U'u');
  EXPECT_FALSE(state_.help_visible());
  KeyOutcome outcome = Press(state_, Special::kEnter);
  ASSERT_TRUE(outcome.command.has_value());
  EXPECT_EQ(outcome.command->kind, Command::Kind::kApprove);
  EXPECT_EQ(outcome.command->question_id, "p1");
  EXPECT_EQ(outcome.command->edited_text, "Savol: Question 1?");
  EXPECT_EQ(DescribeCommand(*outcome.command), "edit and approve p1");
  EXPECT_FALSE(state_.prompt().has_value());
}

TEST_F(ConsoleStateTest, EditThenApproveWithTheTextAsItWasIsAPlainApproval) {
  Press(state_, U'e');
  KeyOutcome outcome = Press(state_, Special::kEnter);
  ASSERT_TRUE(outcome.command.has_value());
  EXPECT_EQ(outcome.command->kind, Command::Kind::kApprove);
  EXPECT_EQ(outcome.command->edited_text, "");
}

TEST_F(ConsoleStateTest, EditThenApproveNeedsAPendingQuestion) {
  Press(state_, Special::kTab);  // a1, approved
  EXPECT_FALSE(Press(state_, U'e').command.has_value());
  EXPECT_FALSE(state_.prompt().has_value());
  EXPECT_THAT(state_.status().text,
              HasSubstr("it is approved, this needs a pending question"));
}

TEST_F(ConsoleStateTest, ArchiveAndUndo) {
  KeyOutcome archive = Press(state_, U'x');
  ASSERT_TRUE(archive.command.has_value());
  EXPECT_EQ(DescribeCommand(*archive.command), "archive p1");
  KeyOutcome undo = Press(state_, U'u');
  ASSERT_TRUE(undo.command.has_value());
  EXPECT_EQ(undo.command->kind, Command::Kind::kUndo);
  // The status line says what the undo undid.
  state_.OnCommandDone(*undo.command, absl::OkStatus(), nullptr, "archive p1");
  EXPECT_EQ(state_.status().text, "done: undo (archive p1)");
  state_.OnCommandDone(
      *undo.command,
      absl::FailedPreconditionError("there is no moderator action to undo"));
  EXPECT_EQ(state_.status().text,
            "undo failed: FAILED_PRECONDITION: there is no moderator action "
            "to undo");
}

TEST_F(ConsoleStateTest, LowersTheSelectedHand) {
  state_.ApplyAgenda(AgendaSnapshot(
      1, {MakeItem("i1", v1::AGENDA_ITEM_STATUS_ACTIVE, 0)}, "i1",
      {MakeSpeaker("s0", v1::SPEAKER_STATE_SPEAKING),
       MakeSpeaker("s1", v1::SPEAKER_STATE_WAITING), HeldSpeaker("s2"),
       MakeSpeaker("s3", v1::SPEAKER_STATE_DONE)}));
  // From a question pane, l says where to go.
  EXPECT_FALSE(Press(state_, U'l').command.has_value());
  EXPECT_THAT(state_.status().text, HasSubstr("speakers' queue"));
  Press(state_, Special::kRight);
  EXPECT_EQ(state_.focus(), Pane::kSpeakers);
  EXPECT_EQ(state_.Selected(), nullptr);
  // The raised hands only: neither the speaker nor who is done.
  EXPECT_EQ(state_.selected_speaker_id(), "s1");
  Press(state_, Special::kDown);
  Press(state_, Special::kDown);
  EXPECT_EQ(state_.selected_speaker_id(), "s2");
  state_.SetParticipantName("s2", "Aziz Rahimov", "Qozon markazi");
  KeyOutcome lower = Press(state_, U'l');
  ASSERT_TRUE(lower.command.has_value());
  EXPECT_EQ(lower.command->kind, Command::Kind::kLowerHand);
  EXPECT_EQ(lower.command->agenda_item_id, "i1");
  EXPECT_EQ(lower.command->participant_id, "s2");
  EXPECT_EQ(state_.status().text,
            "lower the hand of Aziz Rahimov (Qozon markazi)...");
  // Question keys need a question pane.
  EXPECT_FALSE(Press(state_, U'a').command.has_value());
  // The hand is down: the selection moves to the row that is left.
  state_.ApplyAgenda(
      SpeakersChange(2, "i1",
                     {MakeSpeaker("s1", v1::SPEAKER_STATE_WAITING),
                      MakeSpeaker("s2", v1::SPEAKER_STATE_WITHDRAWN)}));
  EXPECT_EQ(state_.selected_speaker_id(), "s1");
  Press(state_, Special::kLeft);
  EXPECT_EQ(state_.focus(), Pane::kPending);
  EXPECT_EQ(state_.Selected()->id(), "p1");
}

TEST_F(ConsoleStateTest, HelpClosesOnAnyKeyWithoutActing) {
  Press(state_, U'?');
  EXPECT_TRUE(state_.help_visible());
  KeyOutcome outcome = Press(state_, U'a');
  EXPECT_FALSE(outcome.command.has_value());
  EXPECT_FALSE(state_.help_visible());
  Press(state_, U'?');
  EXPECT_FALSE(Press(state_, U'q').quit);
  EXPECT_FALSE(state_.help_visible());
  // Unknown keys point at it.
  Press(state_, U'Z');
  EXPECT_THAT(state_.status().text, HasSubstr("? lists the keys"));
}

constexpr auto kDraft = v1::POLL_STATE_DRAFT;
constexpr auto kOpenPoll = v1::POLL_STATE_OPEN;
constexpr auto kClosed = v1::POLL_STATE_CLOSED;
constexpr auto kSingle = v1::POLL_KIND_SINGLE_CHOICE;

std::vector<std::string> PollIds(const PollsState& polls) {
  std::vector<std::string> ids;
  for (const v1::Poll& poll : polls.polls()) ids.push_back(poll.id());
  return ids;
}

TEST(PollsStateTest, SnapshotThenChangesCarryingTheWholePoll) {
  PollsState polls;
  EXPECT_FALSE(polls.has_snapshot());
  polls.Apply(PollsSnapshot(
      5, {MakePoll("poll-1", kSingle, kOpenPoll, "Qaysi mavzu?", {"A", "B"}),
          MakePoll("poll-2", v1::POLL_KIND_WORD_CLOUD, kDraft, "Bir soʻz")}));
  EXPECT_TRUE(polls.has_snapshot());
  EXPECT_EQ(polls.version(), 5);
  EXPECT_THAT(PollIds(polls), ElementsAre("poll-1", "poll-2"));

  // A poll created since goes last (polls are listed oldest first).
  polls.Apply(PollChange(
      6, "poll.created",
      MakePoll("poll-3", v1::POLL_KIND_MOTION, kDraft, "Qabul qilinsinmi?")));
  EXPECT_THAT(PollIds(polls), ElementsAre("poll-1", "poll-2", "poll-3"));

  // A ballot: the whole poll, with the newest count and tally.
  v1::Poll voted =
      MakePoll("poll-1", kSingle, kOpenPoll, "Qaysi mavzu?", {"A", "B"});
  SetTallies(voted, {2, 1});
  polls.Apply(PollChange(7, "poll.ballot", voted));
  ASSERT_NE(polls.Find("poll-1"), nullptr);
  EXPECT_EQ(polls.Find("poll-1")->ballot_count(), 3);
  EXPECT_EQ(polls.Find("poll-1")->results().tallies(0).votes(), 2);
  EXPECT_THAT(PollIds(polls), ElementsAre("poll-1", "poll-2", "poll-3"));

  // Already applied: dropped.
  v1::Poll stale = voted;
  SetTallies(stale, {1, 1});
  polls.Apply(PollChange(7, "poll.ballot", stale));
  polls.Apply(PollChange(6, "poll.ballot", stale));
  EXPECT_EQ(polls.Find("poll-1")->ballot_count(), 3);
  EXPECT_EQ(polls.version(), 7);

  // A poll's results can go away (a change as this caller may see it).
  v1::Poll closed = voted;
  closed.set_state(kClosed);
  closed.clear_results();
  polls.Apply(PollChange(8, "poll.closed", closed));
  EXPECT_EQ(polls.Find("poll-1")->state(), kClosed);
  EXPECT_FALSE(polls.Find("poll-1")->has_results());

  // A snapshot replaces everything.
  polls.Apply(PollsSnapshot(
      2, {MakePoll("poll-9", kSingle, kDraft, "Yangi", {"A", "B"})}));
  EXPECT_THAT(PollIds(polls), ElementsAre("poll-9"));
  EXPECT_EQ(polls.Find("poll-1"), nullptr);
  EXPECT_EQ(polls.version(), 2);
}

class ConsolePollsTest : public ConsoleStateTest {
 protected:
  ConsolePollsTest() {
    state_.ApplyPolls(PollsSnapshot(
        3, {MakePoll("poll-1", kSingle, kDraft, "Qaysi mavzu?", {"A", "B"}),
            MakePoll("poll-2", kSingle, kOpenPoll, "Ikkinchi", {"A", "B"})}));
  }

  // Focuses the polls pane (pending -> open -> polls).
  void FocusPolls() {
    Press(state_, Special::kTab);
    Press(state_, Special::kTab);
    ASSERT_EQ(state_.focus(), Pane::kPolls);
  }

  void SetState(const std::string& id, v1::PollState poll_state,
                int64_t version) {
    v1::Poll poll = *state_.polls().Find(id);
    poll.set_state(poll_state);
    state_.ApplyPolls(PollChange(version, "poll.changed", poll));
  }
};

TEST_F(ConsolePollsTest, TabGoesDownTheLeftColumnAndShiftTabUp) {
  Press(state_, Special::kBackTab);
  EXPECT_EQ(state_.focus(), Pane::kPolls);
  EXPECT_EQ(state_.SelectedPoll()->id(), "poll-1");
  Press(state_, Special::kBackTab);
  EXPECT_EQ(state_.focus(), Pane::kOpen);
  Press(state_, Special::kTab);
  EXPECT_EQ(state_.focus(), Pane::kPolls);
  // Right to the speakers' queue, Left back to the polls.
  Press(state_, Special::kRight);
  EXPECT_EQ(state_.focus(), Pane::kSpeakers);
  Press(state_, Special::kLeft);
  EXPECT_EQ(state_.focus(), Pane::kPolls);
  Press(state_, Special::kTab);
  EXPECT_EQ(state_.focus(), Pane::kPending);
}

TEST_F(ConsolePollsTest, OpenCloseAndPublishTheSelectedPoll) {
  FocusPolls();
  KeyOutcome open = Press(state_, U'o');
  ASSERT_TRUE(open.command.has_value());
  EXPECT_EQ(open.command->kind, Command::Kind::kOpenPoll);
  EXPECT_EQ(open.command->poll_id, "poll-1");
  EXPECT_FALSE(open.command->reopen);
  EXPECT_EQ(open.command->reason, "");
  EXPECT_EQ(state_.status().text, "open poll poll-1...");
  // A draft cannot be closed nor published.
  EXPECT_FALSE(Press(state_, U'c').command.has_value());
  EXPECT_EQ(state_.status().text,
            "cannot close poll poll-1: it is draft, this needs an open poll");
  EXPECT_FALSE(Press(state_, U'P').command.has_value());
  EXPECT_TRUE(state_.status().error);

  SetState("poll-1", kOpenPoll, 4);
  EXPECT_FALSE(Press(state_, U'o').command.has_value());
  // Open, without a close timer: closing comes first.
  EXPECT_FALSE(Press(state_, U'P').command.has_value());
  EXPECT_THAT(state_.status().text, HasSubstr("this needs a closed poll"));
  KeyOutcome close = Press(state_, U'c');
  ASSERT_TRUE(close.command.has_value());
  EXPECT_EQ(close.command->kind, Command::Kind::kClosePoll);
  EXPECT_EQ(close.command->poll_id, "poll-1");

  SetState("poll-1", kClosed, 5);
  KeyOutcome publish = Press(state_, U'P');
  ASSERT_TRUE(publish.command.has_value());
  EXPECT_EQ(publish.command->kind, Command::Kind::kPublishPoll);
  EXPECT_EQ(publish.command->poll_id, "poll-1");
  EXPECT_EQ(DescribeCommand(*publish.command), "publish poll poll-1");

  SetState("poll-1", v1::POLL_STATE_PUBLISHED, 6);
  EXPECT_FALSE(Press(state_, U'P').command.has_value());
  EXPECT_FALSE(Press(state_, U'o').command.has_value());
  EXPECT_FALSE(Press(state_, U'c').command.has_value());
  EXPECT_THAT(state_.status().text, HasSubstr("it is published"));
}

TEST_F(ConsolePollsTest, PublishingATimedOpenPollIsTheServersCall) {
  // Past its closes_at the server has closed it, though no change said so.
  v1::Poll timed = *state_.polls().Find("poll-2");
  timed.mutable_closes_at()->set_seconds(1000);
  state_.ApplyPolls(PollChange(4, "poll.ballot", timed));
  FocusPolls();
  Press(state_, Special::kDown);
  KeyOutcome publish = Press(state_, U'P');
  ASSERT_TRUE(publish.command.has_value());
  EXPECT_EQ(publish.command->poll_id, "poll-2");
}

TEST_F(ConsolePollsTest, ReopeningAsksForAReason) {
  SetState("poll-1", kClosed, 4);
  FocusPolls();
  EXPECT_FALSE(Press(state_, U'o').command.has_value());
  ASSERT_TRUE(state_.prompt().has_value());
  EXPECT_EQ(state_.prompt()->label, "Reason for reopening poll-1: ");
  EXPECT_FALSE(Press(state_, Special::kEnter).command.has_value());
  EXPECT_THAT(state_.status().text, HasSubstr("a reason is required"));
  for (char32_t c : std::u32string(U"Ovoz berish uzildi")) Press(state_, c);
  KeyOutcome reopen = Press(state_, Special::kEnter);
  ASSERT_TRUE(reopen.command.has_value());
  EXPECT_EQ(reopen.command->kind, Command::Kind::kOpenPoll);
  EXPECT_TRUE(reopen.command->reopen);
  EXPECT_EQ(reopen.command->poll_id, "poll-1");
  EXPECT_EQ(reopen.command->reason, "Ovoz berish uzildi");
  EXPECT_EQ(state_.status().text, "reopen poll poll-1...");
  state_.OnCommandDone(*reopen.command,
                       absl::FailedPreconditionError("5 polls are open"));
  EXPECT_EQ(state_.status().text,
            "reopen poll poll-1 failed: FAILED_PRECONDITION: 5 polls are open");
}

TEST_F(ConsolePollsTest, PollKeysNeedThePollsPane) {
  for (char32_t key : {U'o', U'c', U'P'}) {
    EXPECT_FALSE(Press(state_, key).command.has_value());
    EXPECT_THAT(state_.status().text,
                HasSubstr("a poll: select it in the polls pane first (Tab)"));
  }
  // And question keys a question pane.
  FocusPolls();
  EXPECT_FALSE(Press(state_, U'a').command.has_value());
  EXPECT_FALSE(Press(state_, U'x').command.has_value());
  EXPECT_THAT(state_.status().text, HasSubstr("no question selected"));
}

TEST_F(ConsolePollsTest, SelectionFollowsItsPoll) {
  FocusPolls();
  Press(state_, Special::kEnd);
  EXPECT_EQ(state_.SelectedPoll()->id(), "poll-2");
  state_.ApplyPolls(
      PollChange(4, "poll.created",
                 MakePoll("poll-3", kSingle, kDraft, "Uch", {"A", "B"})));
  EXPECT_EQ(state_.SelectedPoll()->id(), "poll-2");
  Press(state_, Special::kDown);
  EXPECT_EQ(state_.SelectedPoll()->id(), "poll-3");
  // A fresh snapshot without it: the same row, another poll.
  state_.ApplyPolls(PollsSnapshot(
      9, {MakePoll("poll-1", kSingle, kDraft, "Qaysi mavzu?", {"A", "B"})}));
  EXPECT_EQ(state_.SelectedPoll()->id(), "poll-1");
  state_.ApplyPolls(PollsSnapshot(10, {}));
  EXPECT_EQ(state_.SelectedPoll(), nullptr);
  EXPECT_FALSE(Press(state_, U'o').command.has_value());
}

TEST(ConsoleStateEmptyTest, KeysOnAnEmptyQueueDoNothing) {
  ConsoleState state("s1");
  EXPECT_EQ(state.Selected(), nullptr);
  Press(state, Special::kDown);
  EXPECT_FALSE(Press(state, U'a').command.has_value());
  EXPECT_FALSE(Press(state, U'M').command.has_value());
  EXPECT_FALSE(Press(state, U'x').quit);
  EXPECT_TRUE(state.status().error);
}

}  // namespace
}  // namespace townhall::console
