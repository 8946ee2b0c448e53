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

// --- The polls pane ---------------------------------------------------------

class PollsViewTest : public ConsoleViewTest {
 protected:
  PollsViewTest() {
    state_.SetPollsStream({StreamStatus::State::kLive, absl::OkStatus()});
  }

  // Shows `poll` alone, selected, in the focused polls pane.
  std::vector<std::string> Show(const v1::Poll& poll) {
    state_.ApplyPolls(PollsSnapshot(3, {poll}));
    while (state_.focus() != Pane::kPolls) {
      state_.HandleKey(KeyEvent::Of(KeyEvent::Special::kTab));
    }
    return Rows();
  }
};

TEST_F(PollsViewTest, ListsThePollsUnderTheQuestions) {
  // Before the first snapshot, and when the server has no WatchPolls.
  state_.SetPollsStream({StreamStatus::State::kReconnecting,
                         absl::UnimplementedError("unknown method")});
  std::vector<std::string> rows = Rows();
  EXPECT_THAT(rows[0], HasSubstr("polls: reconnecting (UNIMPLEMENTED"));
  EXPECT_GE(RowOf(rows, "(unavailable: UNIMPLEMENTED)"), 0);

  state_.SetPollsStream({StreamStatus::State::kLive, absl::OkStatus()});
  state_.ApplyPolls(PollsSnapshot(3, {}));
  rows = Rows();
  EXPECT_THAT(rows[0], HasSubstr("| polls: live v3"));
  int polls = RowOf(rows, "Polls (0), oldest first");
  ASSERT_GE(polls, 0);
  EXPECT_THAT(rows[polls], ::testing::Not(HasSubstr("more")));
  EXPECT_GT(polls, RowOf(rows, "Open questions ("));
  EXPECT_EQ(rows[polls + 1].substr(0, 9), "   (none)");

  v1::Poll open =
      MakePoll("poll-1", v1::POLL_KIND_SINGLE_CHOICE, v1::POLL_STATE_OPEN,
               "Qaysi mavzu muhimroq?", {"Taʼlim", "Mehnat migratsiyasi"});
  SetTallies(open, {7, 5});
  open.mutable_closes_at()->set_seconds(1000000 + 125);
  v1::Poll draft =
      MakePoll("poll-2", v1::POLL_KIND_MOTION, v1::POLL_STATE_DRAFT,
               "Rezolyutsiya qabul qilinsinmi?");
  state_.ApplyPolls(PollsSnapshot(4, {open, draft}));
  rows = Rows();
  polls = RowOf(rows, "Polls (2), oldest first");
  ASSERT_GE(polls, 0);
  // State, ballots, kind, an open poll's close timer, question.
  EXPECT_THAT(rows[polls + 1],
              StartsWith("  OPEN        12 ballots  single choice    closes "
                         "in 2:05  Qaysi mavzu muhimroq?"));
  EXPECT_THAT(rows[polls + 2],
              StartsWith("  DRAFT        0 ballots  motion           "
                         "Rezolyutsiya qabul qilinsinmi?"));
  // The selected poll's tallies below, though the pane has no focus.
  EXPECT_GE(RowOf(rows,
                  "   Qaysi mavzu muhimroq?  (single choice, 12 "
                  "ballots)"),
            polls + 2);
  // The rest of the screen is as before.
  EXPECT_GE(RowOf(rows, "Pending questions (1)"), 0);
  EXPECT_THAT(rows[49], HasSubstr("a approve"));
}

TEST_F(PollsViewTest, BarsPerOptionWithCountsAndShares) {
  v1::Poll poll = MakePoll("poll-1", v1::POLL_KIND_SINGLE_CHOICE,
                           v1::POLL_STATE_OPEN, "Qaysi mavzu muhimroq?",
                           {"Taʼlim", "Mehnat migratsiyasi", "Sogʻliq"});
  SetTallies(poll, {6, 2, 0});
  std::vector<std::string> rows = Show(poll);
  EXPECT_GE(RowOf(rows,
                  "> OPEN         8 ballots  single choice    Qaysi "
                  "mavzu muhimroq?"),
            0);
  // The label column as wide as the longest option (19), bars of 40
  // columns at this width, against the ballots.
  auto bar = [](int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out += "\u2588";  // full block
    return out + std::string(40 - n, ' ');
  };
  EXPECT_GE(RowOf(rows, "   Taʼlim" + std::string(13 + 2, ' ') + bar(30) +
                            "      6  75%"),
            0);
  EXPECT_GE(RowOf(rows, "   Mehnat migratsiyasi  " + bar(10) + "      2  25%"),
            0);
  EXPECT_GE(RowOf(rows, "   Sogʻliq" + std::string(12 + 2, ' ') + bar(0) +
                            "      0   0%"),
            0);
}

TEST_F(PollsViewTest, RankedChoiceShowsTheWinnerAndTheEliminations) {
  v1::Poll poll = MakePoll("poll-1", v1::POLL_KIND_RANKED_CHOICE,
                           v1::POLL_STATE_CLOSED, "Keyingi uchrashuv qayerda?",
                           {"Toshkent", "Samarqand", "Buxoro"});
  SetTallies(poll, {4, 3, 2});
  v1::RankedChoiceResult* ranked =
      poll.mutable_results()->mutable_ranked_choice();
  v1::InstantRunoffRound* first = ranked->add_rounds();
  first->set_round(1);
  first->set_eliminated_option_id("3");
  v1::InstantRunoffRound* second = ranked->add_rounds();
  second->set_round(2);
  for (auto [id, votes] : {std::pair{"1", 4}, std::pair{"2", 5}}) {
    v1::OptionTally* tally = second->add_tallies();
    tally->set_option_id(id);
    tally->set_votes(votes);
  }
  ranked->set_winner_option_id("2");
  std::vector<std::string> rows = Show(poll);
  EXPECT_GE(RowOf(rows, "   winner: Samarqand in round 2 (5 of 9)"), 0);
  EXPECT_GE(RowOf(rows, "   eliminated: Buxoro (round 1)"), 0);
  int first_preferences = RowOf(rows, "   first preferences:");
  ASSERT_GE(first_preferences, 0);
  EXPECT_GT(RowOf(rows, "   Toshkent "), first_preferences);

  // Still open: so far; no ballots: no winner.
  poll.set_state(v1::POLL_STATE_OPEN);
  EXPECT_GE(RowOf(Show(poll), "   winner so far: Samarqand"), 0);
  poll.mutable_results()->clear_ranked_choice();
  EXPECT_GE(RowOf(Show(poll), "   no winner yet: no ballots"), 0);
}

TEST_F(PollsViewTest, WordCloudShowsTheTopWords) {
  v1::Poll poll = MakePoll("poll-1", v1::POLL_KIND_WORD_CLOUD,
                           v1::POLL_STATE_OPEN, "Bir soʻz bilan: muloqot");
  poll.set_ballot_count(12);
  poll.mutable_results()->set_ballot_count(12);
  for (int i = 0; i < 14; ++i) {
    v1::WordCount* word = poll.mutable_results()->add_words();
    word->set_text(i == 0 ? "foydali" : absl::StrCat("soʻz", i));
    word->set_count(i == 0 ? 9 : 1);
  }
  std::vector<std::string> rows = Show(poll);
  EXPECT_GE(RowOf(rows, "   top words (10 of 14):"), 0);
  EXPECT_THAT(rows[RowOf(rows, "   foydali ")], HasSubstr(" 9  75%"));
  EXPECT_GE(RowOf(rows, "   soʻz9 "), 0);
  EXPECT_EQ(RowOf(rows, "   soʻz10 "), -1);
}

TEST_F(PollsViewTest, MotionSaysYesNoAbstainAndWhetherAdopted) {
  v1::Poll poll =
      MakePoll("poll-1", v1::POLL_KIND_MOTION, v1::POLL_STATE_OPEN,
               "Rezolyutsiya qabul qilinsinmi?", {"yes", "no", "abstain"});
  poll.mutable_options(0)->set_id("yes");
  poll.mutable_options(1)->set_id("no");
  poll.mutable_options(2)->set_id("abstain");
  SetTallies(poll, {7, 3, 1});
  poll.set_quorum_percent(50);
  v1::PollResults* results = poll.mutable_results();
  results->set_eligible_count(20);
  results->set_eligible_weight(20);
  results->set_turnout(11.0 / 20);
  results->set_quorum_reached(true);
  v1::MotionResult* motion = results->mutable_motion();
  motion->set_yes(7);
  motion->set_no(3);
  motion->set_abstain(1);
  motion->set_base(10);
  motion->set_required(6);
  motion->set_adopted(true);
  std::vector<std::string> rows = Show(poll);
  EXPECT_GE(RowOf(rows,
                  "   turnout 55% (11 of 20 eligible), quorum 50%: "
                  "reached"),
            0);
  // The verdict first.
  EXPECT_GE(RowOf(rows,
                  "   ADOPTED so far: yes 7, no 3, abstain 1; needs 6 "
                  "yes (simple majority of 10 votes cast)"),
            0);
  EXPECT_THAT(rows[RowOf(rows, "   yes  ")], HasSubstr(" 7  64%"));
  EXPECT_THAT(rows[RowOf(rows, "   abstain  ")], HasSubstr(" 1   9%"));

  poll.set_state(v1::POLL_STATE_CLOSED);
  poll.set_majority_rule(v1::MAJORITY_RULE_TWO_THIRDS);
  poll.set_majority_base(v1::MAJORITY_BASE_ELIGIBLE);
  motion->set_base(20);
  motion->set_required(14);
  motion->set_adopted(false);
  EXPECT_GE(RowOf(Show(poll),
                  "   NOT ADOPTED: yes 7, no 3, abstain 1; needs "
                  "14 yes (two thirds of 20 eligible)"),
            0);
}

TEST_F(PollsViewTest, RatingScaleShowsTheMean) {
  v1::Poll poll = MakePoll("poll-1", v1::POLL_KIND_RATING_SCALE,
                           v1::POLL_STATE_OPEN, "Uchrashuv qanday oʻtdi?");
  poll.set_ballot_count(4);
  poll.mutable_results()->set_ballot_count(4);
  poll.mutable_results()->set_mean_rating(4.5);
  for (int value = 1; value <= 5; ++value) {
    v1::RatingTally* tally = poll.mutable_results()->add_ratings();
    tally->set_value(value);
    tally->set_votes(value >= 4 ? 2 : 0);
  }
  std::vector<std::string> rows = Show(poll);
  EXPECT_GE(RowOf(rows, "   mean 4.5"), 0);
  EXPECT_THAT(rows[RowOf(rows, "   4    ")], HasSubstr(" 2  50%"));
  EXPECT_THAT(rows[RowOf(rows, "   3    ")], HasSubstr(" 0   0%"));
}

TEST_F(PollsViewTest, NoTallyOfASecretBallotBeforeItCloses) {
  v1::Poll poll = MakePoll("poll-1", v1::POLL_KIND_SINGLE_CHOICE,
                           v1::POLL_STATE_OPEN, "Maxfiy ovoz", {"A", "B"});
  poll.set_secrecy(v1::BALLOT_SECRECY_SECRET);
  poll.set_ballot_count(5);
  std::vector<std::string> rows = Show(poll);
  EXPECT_GE(RowOf(rows, "(single choice, 5 ballots)"), 0);
  EXPECT_GE(RowOf(rows, "   secret ballot: no tally until the poll closes"), 0);
  poll.set_state(v1::POLL_STATE_DRAFT);
  poll.set_ballot_count(0);
  EXPECT_GE(RowOf(Show(poll), "   a draft: o opens it"), 0);
}

TEST_F(PollsViewTest, ManyOptionsAreCutWithACount) {
  std::vector<std::string> options;
  for (int i = 1; i <= 30; ++i) options.push_back(absl::StrCat("variant ", i));
  v1::Poll poll = MakePoll("poll-1", v1::POLL_KIND_SINGLE_CHOICE,
                           v1::POLL_STATE_OPEN, "Koʻp variant", options);
  SetTallies(poll, std::vector<int64_t>(30, 1));
  std::vector<std::string> rows = Show(poll);
  // The pane takes at most 2/5 of the body; the questions keep the rest.
  EXPECT_GE(RowOf(rows, "Pending questions (1)"), 0);
  EXPECT_GE(RowOf(rows, "Open questions (2)"), 0);
  int more = RowOf(rows, "more rows");
  ASSERT_GE(more, 0);
  EXPECT_GE(RowOf(rows, "   variant 1 "), 0);
  EXPECT_EQ(RowOf(rows, "   variant 30 "), -1);
  EXPECT_LT(more, 48);
}

TEST_F(PollsViewTest, FooterHasThePollKeysWhenThePaneHasFocus) {
  v1::Poll poll = MakePoll("poll-1", v1::POLL_KIND_SINGLE_CHOICE,
                           v1::POLL_STATE_CLOSED, "Yopiq", {"A", "B"});
  std::vector<std::string> rows = Show(poll);
  for (const char* key : {"o open", "c close", "P publish", "n next speaker",
                          "Tab pane", "? help", "q quit"}) {
    EXPECT_THAT(rows[49], HasSubstr(key));
  }
  EXPECT_THAT(rows[49], ::testing::Not(HasSubstr("a approve")));
  // The reopen prompt says what Enter does.
  state_.HandleKey(KeyEvent::Char(U'o'));
  rows = Rows();
  EXPECT_THAT(rows[48], HasSubstr("Reason for reopening poll-1:"));
  EXPECT_THAT(rows[49], HasSubstr("Enter reopen with this reason"));
  state_.HandleKey(KeyEvent::Of(KeyEvent::Special::kEscape));
  // ? lists them all.
  state_.HandleKey(KeyEvent::Char(U'?'));
  rows = Rows();
  for (const char* line :
       {"o             open the selected poll; a closed one: reopen",
        "c             close the selected poll",
        "P             publish the selected closed poll's results",
        "Tab/Shift-Tab pending questions, open questions, polls"}) {
    EXPECT_GE(RowOf(rows, line), 0) << line;
  }
}

TEST(ConsoleViewSmallTest, SaysWhenTheTerminalIsTooSmall) {
  ConsoleState state("s");
  std::vector<std::string> rows =
      LayoutConsole(state, 40, 10, kNow).PlainRows();
  EXPECT_THAT(rows[0], HasSubstr("terminal too small"));
}

}  // namespace
}  // namespace townhall::console
