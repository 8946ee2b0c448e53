// Integration tests of QuestionService against its contract
// (proto/townhall/v1/questions.proto), through gRPC to the shared
// in-process server on a real Redis; every test has a tenant of its own
// and members registered through RegistrationService with real join
// tokens (questions_fixture.h).
//
// SubmitQuestion and SuggestDuplicates: the text rules (a bad-input table:
// each refusal has the right code, names the field, and stores nothing),
// idempotent submissions, closed queues, the submission rate limit, and
// duplicate suggestions across scripts and apostrophes that never reveal a
// question the caller cannot see.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "tests/integration/questions/questions_fixture.h"
#include "tests/testing/status_matchers.h"

namespace townhall::testing {
namespace {

using ::testing::Contains;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

TEST_F(QuestionsTest, BadInputTableRefusedWithTheRightCodeAndNothingStored) {
  // One question already there, so "unchanged" is not "empty".
  ASSERT_OK(Submit(author_, "Konsullik xizmatlari qachon ochiladi?").status());
  const Stored before = Observe(author_);
  ASSERT_THAT(before.ids, SizeIs(1));

  struct Case {
    std::string name;
    std::string text;
    Code code;
    // Words the message must contain (case-insensitive).
    std::vector<std::string> message_names;
  };
  const std::string letters = "Savol ";
  const std::vector<Case> cases = {
      {"empty", "", Code::kInvalidArgument, {"text"}},
      {"whitespace only", "  \t \n  \r\n ", Code::kInvalidArgument, {"text"}},
      {"501 code points (Cyrillic, 1002 bytes)",
       Repeat("д", 501),
       Code::kInvalidArgument,
       {"text", "500"}},
      {"501 code points (emoji, 2004 bytes)",
       Repeat("\U0001F600", 501),
       Code::kInvalidArgument,
       {"text", "500"}},
      {"invalid UTF-8 (0xC3 0x28)",
       "Savol \xC3\x28 bor",
       Code::kInvalidArgument,
       {"text", "UTF-8"}},
      {"invalid UTF-8 (lone continuation byte)",
       "abc \x80 def",
       Code::kInvalidArgument,
       {"text", "UTF-8"}},
      {"zero-width space U+200B",
       letters + "bir\u200Bikki",
       Code::kInvalidArgument,
       {"text", "U+200B"}},
      {"byte order mark U+FEFF",
       "\uFEFF" + letters + "bor",
       Code::kInvalidArgument,
       {"text", "U+FEFF"}},
      {"word joiner U+2060",
       letters + "bir\u2060ikki",
       Code::kInvalidArgument,
       {"text", "U+2060"}},
      {"soft hyphen U+00AD (invisible)",
       letters + "bir\u00ADikki",
       Code::kInvalidArgument,
       {"text", "U+00AD"}},
      {"right-to-left override U+202E",
       letters + "\u202Etxet\u202C",
       Code::kInvalidArgument,
       {"text", "U+202E"}},
      {"left-to-right embedding U+202A",
       letters + "\u202Abir",
       Code::kInvalidArgument,
       {"text", "U+202A"}},
      {"right-to-left isolate U+2067",
       letters + "\u2067bir\u2069",
       Code::kInvalidArgument,
       {"text", "U+2067"}},
      {"first strong isolate U+2068",
       letters + "\u2068bir",
       Code::kInvalidArgument,
       {"text", "U+2068"}},
      {"left-to-right mark U+200E",
       letters + "bir\u200E",
       Code::kInvalidArgument,
       {"text", "U+200E"}},
      {"right-to-left mark U+200F",
       letters + "bir\u200F",
       Code::kInvalidArgument,
       {"text", "U+200F"}},
      {"Arabic letter mark U+061C",
       letters + "bir\u061C",
       Code::kInvalidArgument,
       {"text", "U+061C"}},
      {"C0 control NUL",
       letters + std::string("a\0b", 3),
       Code::kInvalidArgument,
       {"text", "U+0000"}},
      {"C0 control U+0001",
       letters + "a\x01"
                 "b",
       Code::kInvalidArgument,
       {"text", "U+0001"}},
      {"C0 control ESC U+001B",
       letters + "\x1B[31mred",
       Code::kInvalidArgument,
       {"text", "U+001B"}},
      {"C0 control BEL U+0007",
       letters + "ding\x07",
       Code::kInvalidArgument,
       {"text", "U+0007"}},
      {"C1 control U+0085",
       letters + "a\u0085b",
       Code::kInvalidArgument,
       {"text", "U+0085"}},
      {"C1 control CSI U+009B",
       letters + "a\u009B"
                 "31m",
       Code::kInvalidArgument,
       {"text", "U+009B"}},
      {"1 MB request", Repeat("a", kOneMegabyte), Code::kResourceExhausted, {}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<v1::SubmitQuestionResponse> r = Submit(author_, c.text);
    EXPECT_EQ(r.status().code(), c.code) << r.status();
    for (const std::string& word : c.message_names) {
      EXPECT_TRUE(MentionsIgnoringCase(r.status().message(), word))
          << "message \"" << r.status().message() << "\" does not name "
          << word;
    }
    // The same text as an anonymous question and through the organizer
    // acting for the participant: the same refusal.
    absl::StatusOr<v1::SubmitQuestionResponse> anon =
        Submit(author_, c.text, /*anonymous=*/true);
    EXPECT_EQ(anon.status().code(), c.code) << anon.status();
    absl::StatusOr<v1::SubmitQuestionResponse> by_organizer =
        Organizer().SubmitQuestion(SubmitRequest(author_, c.text));
    EXPECT_EQ(by_organizer.status().code(), c.code) << by_organizer.status();
  }
  // Nothing stored: same questions, same count, same feed version.
  const Stored after = Observe(author_);
  EXPECT_EQ(after.ids, before.ids);
  EXPECT_EQ(after.total_size, before.total_size);
  EXPECT_EQ(after.version, before.version);
  EXPECT_EQ(after.mine, before.mine);
  // And the server still serves (the 1 MB request did not break it).
  EXPECT_OK(Submit(author_, "Yana bir savol").status());
}

TEST_F(QuestionsTest, TextLimitsCountCodePointsAfterTrimming) {
  v1::QueueSettings settings;
  settings.set_submissions_per_minute(100);
  ASSERT_OK(Organizer().SetSettings(sid(), settings).status());
  // 500 code points are accepted, in 1-, 2- and 4-byte characters, also
  // with whitespace around them (trimmed first).
  for (const std::string& unit :
       {std::string("a"), std::string("д"), std::string("\U0001F600")}) {
    SCOPED_TRACE(unit);
    ASSERT_OK_AND_ASSIGN(v1::SubmitQuestionResponse r,
                         Submit(author_, Repeat(unit, 500)));
    EXPECT_EQ(r.question().text(), Repeat(unit, 500));
    ASSERT_OK(Submit(author_, "  " + Repeat(unit, 500) + "\n ").status());
  }
  // Newlines and tabs inside are kept.
  ASSERT_OK_AND_ASSIGN(v1::SubmitQuestionResponse lines,
                       Submit(other_, "Birinchi qator\nIkkinchi\tqator"));
  EXPECT_EQ(lines.question().text(), "Birinchi qator\nIkkinchi\tqator");
}

TEST_F(QuestionsTest, ZeroWidthJoinerAndNonJoinerAllowedBetweenLetters) {
  ASSERT_OK(SetMode(v1::MODERATION_MODE_POST));
  // Persian needs the zero-width non-joiner: "می‌خواهم".
  const std::string persian =
      "من \u0645\u06CC\u200C\u062E\u0648\u0627\u0647\u0645 بپرسم";
  ASSERT_OK_AND_ASSIGN(v1::SubmitQuestionResponse p, Submit(author_, persian));
  EXPECT_EQ(p.question().text(), persian);
  // Emoji sequences need the zero-width joiner (family: man, woman, girl).
  const std::string emoji =
      "Oila \U0001F468\u200D\U0001F469\u200D\U0001F467 vizasi?";
  ASSERT_OK_AND_ASSIGN(v1::SubmitQuestionResponse e, Submit(other_, emoji));
  EXPECT_EQ(e.question().text(), emoji);
}

TEST_F(QuestionsTest, SubmissionWithRequestIdIsStoredOnce) {
  v1::SubmitQuestionRequest request = SubmitRequest(author_, "Takroriy so'rov");
  request.set_request_id("retry-1");
  ASSERT_OK_AND_ASSIGN(v1::SubmitQuestionResponse first,
                       As(author_).SubmitQuestion(request));
  ASSERT_OK_AND_ASSIGN(v1::SubmitQuestionResponse again,
                       As(author_).SubmitQuestion(request));
  EXPECT_EQ(again.question().id(), first.question().id());
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Question> all,
                       Organizer().ListAll(sid()));
  EXPECT_THAT(all, SizeIs(1));
}

TEST_F(QuestionsTest, ClosedSubmissionsAreRefused) {
  v1::QueueSettings settings;
  settings.set_submissions_closed(true);
  ASSERT_OK(Organizer().SetSettings(sid(), settings).status());
  EXPECT_THAT(Submit(author_, "Kech qoldimmi?"),
              HasCode(Code::kFailedPrecondition));
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Question> all,
                       Organizer().ListAll(sid()));
  EXPECT_THAT(all, IsEmpty());
}

TEST_F(QuestionsTest, SubmissionRateLimitWithRetryDelay) {
  v1::QueueSettings settings;
  settings.set_submissions_per_minute(2);
  ASSERT_OK(Organizer().SetSettings(sid(), settings).status());
  ASSERT_OK(Submit(author_, "Birinchi").status());
  ASSERT_OK(Submit(author_, "Ikkinchi").status());
  const Stored before = Observe(author_);
  Trailers trailers;
  absl::StatusOr<v1::SubmitQuestionResponse> third =
      As(author_).SubmitQuestion(SubmitRequest(author_, "Uchinchi"), &trailers);
  EXPECT_THAT(third, HasCode(Code::kResourceExhausted));
  auto retry = trailers.find("retry-after-ms");
  ASSERT_NE(retry, trailers.end()) << "no retry-after-ms trailer";
  int64_t retry_ms = 0;
  ASSERT_TRUE(absl::SimpleAtoi(retry->second, &retry_ms)) << retry->second;
  EXPECT_GT(retry_ms, 0);
  EXPECT_LE(retry_ms, 30000);
  const Stored after = Observe(author_);
  EXPECT_EQ(after.ids, before.ids);
  EXPECT_EQ(after.version, before.version);
  // Another participant still may.
  EXPECT_OK(Submit(other_, "Boshqa odamning savoli").status());
}

TEST_F(QuestionsTest, DuplicatesAcrossScriptsAndApostrophes) {
  ASSERT_OK(SetMode(v1::MODERATION_MODE_POST));
  // Uzbek in Cyrillic; the same in Latin (the official mapping).
  ASSERT_OK_AND_ASSIGN(v1::SubmitQuestionResponse cyr,
                       Submit(author_, "Ўзбек тили курслари қачон очилади?"));
  ASSERT_OK_AND_ASSIGN(
      v1::SubmitQuestionResponse unrelated,
      Submit(moderator_, "When does the consulate open on Saturdays?"));
  ASSERT_OK_AND_ASSIGN(v1::SubmitQuestionResponse lat,
                       Submit(other_, "Oʻzbek tili kurslari qachon ochiladi?"));
  std::vector<std::string> similar;
  for (const auto& s : lat.similar_questions()) {
    similar.push_back(s.question_id());
    EXPECT_GT(s.similarity(), 0);
    EXPECT_LE(s.similarity(), 1);
  }
  EXPECT_THAT(similar, Contains(cyr.question().id()));
  EXPECT_THAT(similar, Not(Contains(unrelated.question().id())));
  EXPECT_THAT(similar, Not(Contains(lat.question().id())));

  // On demand, by question id: the Cyrillic one finds the Latin one.
  v1::SuggestDuplicatesRequest by_id;
  by_id.set_session_id(sid());
  by_id.set_question_id(cyr.question().id());
  ASSERT_OK_AND_ASSIGN(v1::SuggestDuplicatesResponse found,
                       As(other_).SuggestDuplicates(by_id));
  similar.clear();
  for (const auto& s : found.similar_questions())
    similar.push_back(s.question_id());
  EXPECT_THAT(similar, Contains(lat.question().id()));
  EXPECT_THAT(similar, Not(Contains(unrelated.question().id())));
  EXPECT_THAT(similar, Not(Contains(cyr.question().id())));

  // oʻ/gʻ with every apostrophe: U+02BB (ʻ), ', ’ (U+2019), ‘ (U+2018),
  // and in capitals: all the same matching form.
  ASSERT_OK_AND_ASSIGN(
      v1::SubmitQuestionResponse okina,
      Submit(author_, "Oʻgʻil bolalar uchun sport toʻgaraklari bormi?"));
  for (const std::string& variant :
       {std::string("O'g'il bolalar uchun sport to'garaklari bormi?"),
        std::string("O’g’il bolalar uchun sport to’garaklari bormi?"),
        std::string("O‘g‘il bolalar uchun sport to‘garaklari bormi?"),
        std::string("OʻGʻIL BOLALAR UCHUN SPORT TOʻGARAKLARI BORMI?")}) {
    SCOPED_TRACE(variant);
    v1::SuggestDuplicatesRequest by_text;
    by_text.set_session_id(sid());
    by_text.set_text(variant);
    ASSERT_OK_AND_ASSIGN(found, As(other_).SuggestDuplicates(by_text));
    ASSERT_FALSE(found.similar_questions().empty());
    EXPECT_EQ(found.similar_questions(0).question_id(), okina.question().id());
    EXPECT_NEAR(found.similar_questions(0).similarity(), 1.0, 1e-9);
    for (const auto& s : found.similar_questions()) {
      EXPECT_NE(s.question_id(), unrelated.question().id());
      EXPECT_NE(s.question_id(), cyr.question().id());
    }
  }
  // An unrelated text gets no suggestion among these.
  v1::SuggestDuplicatesRequest none;
  none.set_session_id(sid());
  none.set_text("Aviachiptalar narxi nega oshdi?");
  ASSERT_OK_AND_ASSIGN(found, As(other_).SuggestDuplicates(none));
  for (const auto& s : found.similar_questions()) {
    EXPECT_NE(s.question_id(), unrelated.question().id());
    EXPECT_NE(s.question_id(), cyr.question().id());
    EXPECT_NE(s.question_id(), lat.question().id());
    EXPECT_NE(s.question_id(), okina.question().id());
  }
  // Most similar first; at most max_results.
  v1::SuggestDuplicatesRequest limited;
  limited.set_session_id(sid());
  limited.set_text("Oʻzbek tili kurslari qachon ochiladi?");
  limited.set_max_results(1);
  ASSERT_OK_AND_ASSIGN(found, As(other_).SuggestDuplicates(limited));
  EXPECT_LE(found.similar_questions_size(), 1);
  // Too many results asked for: at most 20 (or refused).
  limited.set_max_results(1000);
  absl::StatusOr<v1::SuggestDuplicatesResponse> many =
      As(other_).SuggestDuplicates(limited);
  if (many.ok()) EXPECT_LE(many->similar_questions_size(), 20);
}

TEST_F(QuestionsTest, LookAlikeLettersOfAnotherScriptAreTheSameQuestion) {
  ASSERT_OK(SetMode(v1::MODERATION_MODE_POST));
  ASSERT_OK_AND_ASSIGN(
      v1::SubmitQuestionResponse original,
      Submit(author_, "When will the Kazakh Cultural Center of Miami open?"));
  ASSERT_OK_AND_ASSIGN(
      v1::SubmitQuestionResponse unrelated,
      Submit(moderator_, "Can the consulate extend passports by mail?"));
  // Cyrillic К and С, Greek ο: it looks the same, so it is the same.
  ASSERT_OK_AND_ASSIGN(
      v1::SubmitQuestionResponse spoof,
      Submit(other_, "When will the Кazakh Сultural Сenter οf Miami open?"));
  ASSERT_FALSE(spoof.similar_questions().empty());
  EXPECT_EQ(spoof.similar_questions(0).question_id(), original.question().id());
  EXPECT_NEAR(spoof.similar_questions(0).similarity(), 1.0, 1e-9);
  for (const auto& s : spoof.similar_questions()) {
    EXPECT_NE(s.question_id(), unrelated.question().id());
  }
  // And on demand, from the original.
  v1::SuggestDuplicatesRequest by_id;
  by_id.set_session_id(sid());
  by_id.set_question_id(original.question().id());
  ASSERT_OK_AND_ASSIGN(v1::SuggestDuplicatesResponse found,
                       As(other_).SuggestDuplicates(by_id));
  ASSERT_FALSE(found.similar_questions().empty());
  EXPECT_EQ(found.similar_questions(0).question_id(), spoof.question().id());
}

TEST_F(QuestionsTest, SuggestionsNeverRevealQuestionsTheCallerCannotSee) {
  // A pending question of another participant is no suggestion for a
  // participant (its text would leak).
  ASSERT_OK_AND_ASSIGN(v1::SubmitQuestionResponse pending,
                       Submit(author_, "Maxfiy kutilayotgan savol matni"));
  ASSERT_OK_AND_ASSIGN(v1::SubmitQuestionResponse mine,
                       Submit(other_, "Maxfiy kutilayotgan savol matni"));
  for (const auto& s : mine.similar_questions()) {
    EXPECT_NE(s.question_id(), pending.question().id());
  }
  v1::SuggestDuplicatesRequest r;
  r.set_session_id(sid());
  r.set_text("Maxfiy kutilayotgan savol matni");
  ASSERT_OK_AND_ASSIGN(v1::SuggestDuplicatesResponse found,
                       As(other_).SuggestDuplicates(r));
  for (const auto& s : found.similar_questions()) {
    EXPECT_NE(s.question_id(), pending.question().id());
  }
}

}  // namespace
}  // namespace townhall::testing
