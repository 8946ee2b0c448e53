#include "clients/cpp/console/console_view.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "clients/cpp/console/console_test_util.h"
#include "clients/cpp/console/console_text.h"

namespace townhall::console {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using namespace ::townhall::console::testing;  // NOLINT: message builders

const absl::Time kNow = absl::FromUnixSeconds(1000000);

// The index of the first row containing `text`, or -1.
int RowOf(const std::vector<std::string>& rows, const std::string& text) {
  for (size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].find(text) != std::string::npos) return static_cast<int>(i);
  }
  return -1;
}

class ConsoleViewTest : public ::testing::Test {
 protected:
  ConsoleViewTest() : state_("ses-1") {
    state_.ApplyQueue(QueueSnapshot(
        12, {MakeQuestion("q1", v1::QUESTION_STATUS_PENDING, 0, 1000000 - 300,
                          "Vatandoshlar uchun sugʻurta qachon boshlanadi?"),
             MakeQuestion("q2", v1::QUESTION_STATUS_APPROVED, 7, 10,
                          "Когда откроется консульство в Казани?"),
             MakeQuestion("q3", v1::QUESTION_STATUS_PINNED, 3, 20,
                          "Visa-free travel for students?")}));
    state_.SetQueueStream({StreamStatus::State::kLive, absl::OkStatus()});
    v1::AgendaItem active =
        MakeItem("i1", v1::AGENDA_ITEM_STATUS_ACTIVE, 0, "Mehnat migratsiyasi");
    active.mutable_actual_start_time()->set_seconds(1000000 - 125);
    active.mutable_planned_duration()->set_seconds(900);
    v1::Speaker speaking = MakeSpeaker("p-alisher", v1::SPEAKER_STATE_SPEAKING);
    speaking.mutable_start_time()->set_seconds(1000000 - 61);
    v1::WatchAgendaResponse agenda = AgendaSnapshot(
        4,
        {active, MakeItem("i2", v1::AGENDA_ITEM_STATUS_PENDING, 1, "Taʼlim")},
        "i1", {speaking, MakeSpeaker("p-dilnoza", v1::SPEAKER_STATE_WAITING)});
    agenda.mutable_snapshot()->mutable_server_time()->set_seconds(1000000);
    state_.ApplyAgenda(agenda, kNow);
  }

  std::vector<std::string> Rows() {
    return LayoutConsole(state_, 160, 50, kNow).PlainRows();
  }

  ConsoleState state_;
};

TEST_F(ConsoleViewTest, ShowsStreamsAgendaAndQuestions) {
  std::vector<std::string> rows = Rows();
  ASSERT_EQ(rows.size(), 50u);
  EXPECT_THAT(rows[0], HasSubstr("session ses-1"));
  EXPECT_THAT(rows[0], HasSubstr("questions: live v12"));
  EXPECT_THAT(rows[0], HasSubstr("agenda: connecting"));
  EXPECT_THAT(rows[1], HasSubstr("Now: Mehnat migratsiyasi  [2:05 of 15:00]"));

  int pending = RowOf(rows, "Pending questions (1)");
  int open = RowOf(rows, "Open questions (2)");
  int q1 = RowOf(rows, "Vatandoshlar uchun sugʻurta");
  int q2 = RowOf(rows, "Когда откроется");
  int q3 = RowOf(rows, "[PINNED] Visa-free");
  ASSERT_GE(pending, 0);
  EXPECT_LT(pending, q1);
  EXPECT_LT(q1, open);
  EXPECT_LT(open, q3);
  EXPECT_LT(q3, q2);  // pinned first
  EXPECT_THAT(rows[q1], StartsWith(">    5m  Vatandoshlar"));
  EXPECT_THAT(rows[q2], StartsWith("      7  Когда"));

  int speaking = RowOf(rows, "Speaking: p-alisher");
  ASSERT_GE(speaking, 0);
  EXPECT_THAT(rows[speaking + 1], ::testing::EndsWith("|     1:01"));
  EXPECT_GE(RowOf(rows, "1. p-dilnoza"), 0);
  EXPECT_GE(RowOf(rows, "> Mehnat migratsiyasi"), 0);
  EXPECT_THAT(rows[49], HasSubstr("a approve"));
  EXPECT_THAT(rows[49], HasSubstr("q quit"));
}

TEST_F(ConsoleViewTest, SaysWhyNobodyIsNextWhenEveryHandIsHeld) {
  std::vector<std::string> rows = Rows();
  EXPECT_EQ(RowOf(rows, "nobody is next"), -1);  // p-dilnoza is waiting
  state_.ApplyAgenda(
      SpeakersChange(5, "i1",
                     {MakeSpeaker("p-alisher", v1::SPEAKER_STATE_DONE),
                      HeldSpeaker("p-dilnoza")}),
      kNow);
  state_.SetParticipantName("p-dilnoza", "Dilnoza Karimova");
  rows = Rows();
  // The queue pane is narrow: the reasons are cut there (the status line
  // has them whole: ConsoleStateTest.CallingNobodySaysWhy).
  int held = RowOf(rows, "   held: Dilnoza Karimova  organization org-p-");
  int why = RowOf(rows, "nobody is next; held back: Dilnoza");
  ASSERT_GE(held, 0);
  EXPECT_GT(why, held);
  EXPECT_GE(RowOf(rows, "0 waiting, 1 held, 1 spoke"), 0);
  EXPECT_EQ(RowOf(rows, "(nobody has raised a hand)"), -1);
}

TEST_F(ConsoleViewTest, ShowsNamesAndOrganizationsOnceKnown) {
  v1::Question authored = MakeQuestion("q9", v1::QUESTION_STATUS_APPROVED, 1,
                                       30, "Savol muallif bilan");
  authored.set_author_participant_id("p-aziz");
  // The server leaves an anonymous question's author out.
  v1::Question anonymous =
      MakeQuestion("q10", v1::QUESTION_STATUS_APPROVED, 1, 31, "Anonim savol");
  anonymous.set_anonymous(true);
  state_.ApplyQueue(
      QueueChange(13, "question.approved", {authored, anonymous}));
  EXPECT_GE(RowOf(Rows(), "Savol muallif bilan  - p-aziz"), 0);
  state_.SetParticipantName("p-aziz", "Aziz Rahimov", "Qozon markazi");
  state_.SetParticipantName("p-alisher", "Alisher Navoiy");
  std::vector<std::string> rows = Rows();
  EXPECT_GE(RowOf(rows, "Savol muallif bilan  - Aziz Rahimov (Qozon markazi)"),
            0);
  EXPECT_GE(RowOf(rows, "Anonim savol"), 0);
  EXPECT_EQ(RowOf(rows, "Anonim savol  - "), -1);
  EXPECT_GE(RowOf(rows, "Speaking: Alisher Navoiy"), 0);
}

TEST_F(ConsoleViewTest, ALongNameDoesNotHideTheSpeakingTime) {
  state_.SetParticipantName("p-alisher", "Alisher Navoiy",
                            "Sankt-Peterburg oʻzbek madaniyat markazi");
  std::vector<std::string> rows = Rows();
  int speaking = RowOf(rows, "Speaking: Alisher Navoiy (Sankt-Peterburg");
  ASSERT_GE(speaking, 0);
  EXPECT_THAT(rows[speaking + 1], ::testing::EndsWith("|     1:01"));
}

TEST_F(ConsoleViewTest, CountsAreTheServers) {
  // Before the server counted: no numbers rather than wrong ones.
  EXPECT_EQ(RowOf(Rows(), "rejected"), -1);
  v1::WatchQueueResponse change =
      QueueChange(13, "question.rejected",
                  {MakeQuestion("q1", v1::QUESTION_STATUS_REJECTED, 0, 10)});
  v1::QueueCounts* counts = change.mutable_change()->mutable_counts();
  counts->set_answered(4);
  counts->set_rejected(2);
  counts->set_merged(1);
  counts->set_archived(3);
  state_.ApplyQueue(change);
  EXPECT_EQ(Rows()[2], " 4 answered, 2 rejected, 1 merged, 3 archived");
}

TEST_F(ConsoleViewTest, HelpListsTheKeys) {
  std::vector<std::string> rows = Rows();
  for (const char* key : {"a approve", "e edit+approve", "x archive", "u undo",
                          "l lower hand", "? help", "q quit"}) {
    EXPECT_THAT(rows[49], HasSubstr(key));
  }
  state_.HandleKey(KeyEvent::Char(U'?'));
  rows = Rows();
  int title = RowOf(rows, "Keys (any key closes this list)");
  ASSERT_GE(title, 0);
  for (const char* line :
       {"a             approve the selected pending question",
        "e             edit a pending question's text, Enter approves it",
        "x             archive the selected question",
        "u             undo the session's last moderator action",
        "l             lower the selected raised hand",
        "Right/Left    to the speakers' queue and back",
        "?             this list"}) {
    EXPECT_GT(RowOf(rows, line), title) << line;
  }
  state_.HandleKey(KeyEvent::Char(U'x'));
  EXPECT_EQ(RowOf(Rows(), "Keys (any key closes this list)"), -1);
}

TEST_F(ConsoleViewTest, MarksTheSelectedHandWhenTheQueueHasFocus) {
  EXPECT_EQ(RowOf(Rows(), "> 1. p-dilnoza"), -1);
  state_.HandleKey(KeyEvent::Of(KeyEvent::Special::kRight));
  std::vector<std::string> rows = Rows();
  EXPECT_GE(RowOf(rows, "> 1. p-dilnoza"), 0);
  // No question row is marked meanwhile.
  EXPECT_THAT(rows[RowOf(rows, "Vatandoshlar")], StartsWith(" "));
}

TEST_F(ConsoleViewTest, EditPromptKeepsTheCursorInView) {
  state_.HandleKey(KeyEvent::Char(U'e'));
  Canvas canvas = LayoutConsole(state_, 160, 50, kNow);
  std::vector<std::string> rows = canvas.PlainRows();
  const std::string label = " Text of q1: ";
  EXPECT_EQ(rows[48], label + "Vatandoshlar uchun sugʻurta qachon boshlanadi?");
  EXPECT_THAT(rows[49], HasSubstr("Enter approve with this text"));
  ASSERT_TRUE(canvas.cursor().has_value());
  EXPECT_EQ(canvas.cursor()->second,
            DisplayWidth(label) +
                DisplayWidth("Vatandoshlar uchun sugʻurta qachon boshlanadi?"));
  // A text wider than the line: its end, where the cursor is, stays in view.
  for (int i = 0; i < 200; ++i) state_.HandleKey(KeyEvent::Char(U'z'));
  canvas = LayoutConsole(state_, 160, 50, kNow);
  EXPECT_LT(canvas.cursor()->second, 160);
  EXPECT_THAT(canvas.PlainRows()[48], ::testing::EndsWith("zzz"));
  state_.HandleKey(KeyEvent::Of(KeyEvent::Special::kHome));
  canvas = LayoutConsole(state_, 160, 50, kNow);
  EXPECT_EQ(canvas.cursor()->second, DisplayWidth(label));
  EXPECT_THAT(canvas.PlainRows()[48], HasSubstr(label + "Vatandoshlar"));
}

TEST_F(ConsoleViewTest, MarksTheSelectionOfTheFocusedPaneOnly) {
  state_.HandleKey(KeyEvent::Of(KeyEvent::Special::kTab));
  std::vector<std::string> rows = Rows();
  EXPECT_THAT(rows[RowOf(rows, "Visa-free")], StartsWith(">"));
  EXPECT_THAT(rows[RowOf(rows, "Vatandoshlar")], StartsWith(" "));
}

TEST_F(ConsoleViewTest, ShowsThePromptAndErrors) {
  state_.HandleKey(KeyEvent::Char(U'r'));
  for (char32_t c : std::u32string(U"Dublikat")) {
    state_.HandleKey(KeyEvent::Char(c));
  }
  Canvas canvas = LayoutConsole(state_, 160, 50, kNow);
  std::vector<std::string> rows = canvas.PlainRows();
  EXPECT_THAT(rows[48], HasSubstr("Reason for rejecting q1: Dublikat"));
  EXPECT_THAT(rows[49], HasSubstr("Esc cancel"));
  ASSERT_TRUE(canvas.cursor().has_value());
  EXPECT_EQ(canvas.cursor()->first, 48);

  state_.HandleKey(KeyEvent::Of(KeyEvent::Special::kEscape));
  state_.SetAgendaStream({StreamStatus::State::kReconnecting,
                          absl::UnavailableError("connection refused")});
  state_.OnCommandDone({.kind = Command::Kind::kApprove, .question_id = "q1"},
                       absl::PermissionDeniedError("not a moderator"));
  rows = Rows();
  EXPECT_THAT(
      rows[0],
      HasSubstr("agenda: reconnecting (UNAVAILABLE: connection refused)"));
  EXPECT_THAT(rows[48], HasSubstr("approve q1 failed: PERMISSION_DENIED"));
}

TEST_F(ConsoleViewTest, ScrollsToKeepTheSelectionVisible) {
  std::vector<v1::Question> many;
  for (int i = 0; i < 40; ++i) {
    many.push_back(MakeQuestion(absl::StrCat("p", 100 + i),
                                v1::QUESTION_STATUS_PENDING, 0, i,
                                absl::StrCat("pending number ", 100 + i)));
  }
  state_.ApplyQueue(QueueSnapshot(20, many));
  state_.HandleKey(KeyEvent::Of(KeyEvent::Special::kEnd));
  std::vector<std::string> rows = Rows();
  EXPECT_THAT(rows[RowOf(rows, "pending number 139")], StartsWith(">"));
  EXPECT_EQ(RowOf(rows, "pending number 100"), -1);
  EXPECT_GE(RowOf(rows, "more"), 0);
}

TEST(ConsoleViewSmallTest, SaysWhenTheTerminalIsTooSmall) {
  ConsoleState state("s");
  std::vector<std::string> rows =
      LayoutConsole(state, 40, 10, kNow).PlainRows();
  EXPECT_THAT(rows[0], HasSubstr("terminal too small"));
}

}  // namespace
}  // namespace townhall::console
