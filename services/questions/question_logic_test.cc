// Pure logic of the question queue: text rules, duplicate suggestions
// across scripts and apostrophe spellings, what each viewer sees, and the
// WatchQueue codec (redaction, coalescing of vote counts).
#include "services/questions/question_logic.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "services/questions/question_view.h"
#include "services/questions/question_watch.h"

namespace townhall::questions {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

TEST(QuestionTextTest, RefusesWhatNobodyCanSeeOrRead) {
  struct Case {
    const char* name;
    std::string text;
    const char* error;  // nullptr: accepted
  };
  const std::vector<Case> cases = {
      {"plain", "Qachon konsullik xizmati ochiladi?", nullptr},
      {"multiline", "Birinchi qator\nIkkinchi qator", nullptr},
      {"zwj in emoji", "Rahmat \xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x92\xBB",
       nullptr},
      {"500 code points", std::string(500, 'a'), nullptr},
      {"empty", "", "must not be empty"},
      {"whitespace only", " \t\n\xC2\xA0", "must not be empty"},
      {"too long", std::string(501, 'a'), "at most 500"},
      {"invalid UTF-8", "abc\xC3\x28", "not valid UTF-8"},
      {"zero-width space",
       "abc\xE2\x80\x8B"
       "def",
       "U+200B"},
      {"BOM",
       "\xEF\xBB\xBF"
       "abc",
       "U+FEFF"},
      {"word joiner",
       "ab\xE2\x81\xA0"
       "c",
       "U+2060"},
      {"right-to-left override",
       "abc\xE2\x80\xAE"
       "fed",
       "U+202E"},
      {"right-to-left isolate",
       "abc\xE2\x81\xA7"
       "x",
       "U+2067"},
      {"left-to-right mark", "abc\xE2\x80\x8E", "U+200E"},
      {"soft hyphen",
       "ab\xC2\xAD"
       "c",
       "U+00AD"},
      {"bell",
       "ab\x07"
       "c",
       "control character U+0007"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    absl::Status status = ValidateQuestionText("text", c.text);
    if (c.error == nullptr) {
      EXPECT_TRUE(status.ok()) << status;
    } else {
      EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
      EXPECT_THAT(status.message(), HasSubstr("text: "));
      EXPECT_THAT(status.message(), HasSubstr(c.error));
    }
  }
}

std::vector<std::string> Ids(
    const std::vector<std::pair<std::string, double>>& ranked) {
  std::vector<std::string> ids;
  for (const auto& [id, similarity] : ranked) ids.push_back(id);
  return ids;
}

TEST(DuplicatesTest, FindsTheSameQuestionAcrossScriptsAndApostrophes) {
  const std::vector<DuplicateCandidate> candidates = {
      {"latin", MatchingForm("Oʻzbekiston elchixonasi qachon ochiladi?")},
      {"cyrillic", MatchingForm("Ўзбекистон элчихонаси қачон очилади?")},
      {"other", MatchingForm("How do I renew my passport abroad?")},
      {"russian", MatchingForm("Когда откроется консульство в Казани?")},
  };
  // Every apostrophe users type for oʻ.
  for (const char* spelling : {"O'zbekiston elchixonasi qachon ochiladi",
                               "O’zbekiston elchixonasi "
                               "qachon ochiladi",
                               "O‘zbekiston elchixonasi qachon ochiladi",
                               "OʻZBEKISTON ELCHIXONASI QACHON OCHILADI?"}) {
    SCOPED_TRACE(spelling);
    auto ranked = RankDuplicates(spelling, candidates, "", 5);
    // Transliterated, the Cyrillic spelling is the same question.
    EXPECT_THAT(Ids(ranked), UnorderedElementsAre("latin", "cyrillic"));
    EXPECT_DOUBLE_EQ(ranked[0].second, 1.0);
    EXPECT_DOUBLE_EQ(ranked[1].second, 1.0);
  }
  // Cyrillic against the Russian one, and the exclusion of itself.
  auto russian =
      RankDuplicates("когда откроется консульство в казани", candidates, "", 5);
  EXPECT_THAT(Ids(russian), ElementsAre("russian"));
  EXPECT_TRUE(RankDuplicates("Когда откроется консульство в Казани?",
                             candidates, "russian", 5)
                  .empty());
  EXPECT_TRUE(RankDuplicates("Pensiya masalasi", candidates, "", 5).empty());
}

TEST(DuplicatesTest, LimitsAndOrdersBySimilarity) {
  std::vector<DuplicateCandidate> candidates;
  for (int i = 0; i < 30; ++i) {
    candidates.push_back({"q" + std::to_string(i),
                          MatchingForm("vatandoshlar uchun onlayn kurslar")});
  }
  auto ranked =
      RankDuplicates("Vatandoshlar uchun onlayn kurslar", candidates, "", 5);
  EXPECT_EQ(ranked.size(), 5u);
}

TEST(DuplicatesTest, SimilarQuestionsCarryTheCandidatesText) {
  const std::vector<DuplicateCandidate> candidates = DecodeDuplicateCandidates(
      {"ignored", "a", MatchingForm("Pensiya qachon oshadi?"),
       "Pensiya qachon oshadi?", "b", MatchingForm("Visa rules for students"),
       "Visa rules for students", "dangling"},
      1);
  ASSERT_EQ(candidates.size(), 2u);
  EXPECT_EQ(candidates[1].text, "Visa rules for students");
  std::vector<v1::SimilarQuestion> similar =
      SimilarQuestions("pensiya qachon oshadi", candidates, "", 5);
  ASSERT_EQ(similar.size(), 1u);
  EXPECT_EQ(similar[0].question_id(), "a");
  EXPECT_EQ(similar[0].text(), "Pensiya qachon oshadi?");
  EXPECT_DOUBLE_EQ(similar[0].similarity(), 1.0);
  EXPECT_TRUE(
      SimilarQuestions("pensiya qachon oshadi", candidates, "a", 5).empty());
}

TEST(DuplicatesTest, LookAlikeLettersAreTheSameQuestion) {
  // Cyrillic Р, е, о and а in a Latin question: transliterated they differ
  // ("r", "ye"), their skeletons do not.
  const std::vector<DuplicateCandidate> candidates = {
      {"original", MatchingForm("Pension reform: when will payments rise?")},
      {"other", MatchingForm("Passport renewal at the consulate")},
  };
  auto ranked = RankDuplicates("Реnsiоn rеfоrm: whеn will pаymеnts risе?",
                               candidates, "", 5);
  EXPECT_THAT(Ids(ranked), ElementsAre("original"));
  EXPECT_DOUBLE_EQ(ranked[0].second, 1.0);
  // Similar but distinct questions do not reach 1.0.
  auto other = RankDuplicates("Pension reform: when will taxes rise?",
                              candidates, "", 5);
  ASSERT_FALSE(other.empty());
  EXPECT_LT(other[0].second, 1.0);
}

TEST(DuplicatesTest, MatchingFormsOfTheOldVersionAreRecomputedFromTheText) {
  // Stored before skeletons: the Latin words only, no version prefix.
  const std::vector<DuplicateCandidate> candidates = {
      {"old", "kazakh cultural center of miami",
       "Kazakh Cultural Center of Miami"},
  };
  auto ranked =
      RankDuplicates("Кazakh Сultural Сenter of Miami", candidates, "", 5);
  EXPECT_THAT(Ids(ranked), ElementsAre("old"));
  EXPECT_DOUBLE_EQ(ranked[0].second, 1.0);
  EXPECT_TRUE(absl::StartsWith(MatchingForm("Hello"), kMatchingFormPrefix));
}

v1::Question Anonymous(v1::QuestionStatus status) {
  v1::Question q;
  q.set_id("q1");
  q.set_text("Edited");
  q.set_original_text("Original");
  q.set_author_participant_id("author");
  q.set_author_organization_id("org");
  q.set_anonymous(true);
  q.set_status(status);
  q.set_reject_reason("off topic");
  return q;
}

TEST(QuestionViewTest, AnonymousAuthorsReachOnlyTheAuthorAndAllowedOrganizers) {
  v1::QuestionPolicy closed;
  v1::QuestionPolicy open;
  open.set_organizers_see_anonymous_authors(true);
  Principal organizer;
  organizer.role = Role::kOrganizer;
  Principal moderator;
  moderator.role = Role::kModerator;
  moderator.participant_id = "mod";
  Principal author;
  author.role = Role::kParticipant;
  author.participant_id = "author";
  Principal other;
  other.role = Role::kParticipant;
  other.participant_id = "other";

  struct Case {
    const char* name;
    Principal caller;
    v1::QuestionPolicy policy;
    bool sees_author;
    bool sees_reason;
  };
  for (const Case& c : std::vector<Case>{
           {"organizer, closed policy", organizer, closed, false, true},
           {"organizer, open policy", organizer, open, true, true},
           {"moderator, open policy", moderator, open, false, true},
           {"author", author, closed, true, true},
           {"other participant", other, open, false, false},
       }) {
    SCOPED_TRACE(c.name);
    v1::Question q = Anonymous(v1::QUESTION_STATUS_APPROVED);
    QuestionViewer viewer = ViewerOf(c.caller, c.policy);
    ASSERT_TRUE(IsVisibleTo(viewer, q));
    Redact(viewer, &q);
    EXPECT_EQ(!q.author_participant_id().empty(), c.sees_author);
    EXPECT_EQ(!q.author_organization_id().empty(), c.sees_author);
    EXPECT_EQ(!q.reject_reason().empty(), c.sees_reason);
    EXPECT_EQ(!q.original_text().empty(), c.sees_reason);
  }
}

TEST(QuestionViewTest, PendingQuestionsAreTheAuthorsAndTheModerators) {
  v1::Question pending = Anonymous(v1::QUESTION_STATUS_PENDING);
  Principal other;
  other.role = Role::kParticipant;
  other.participant_id = "other";
  Principal author = other;
  author.participant_id = "author";
  Principal moderator;
  moderator.role = Role::kModerator;
  v1::QuestionPolicy policy;
  EXPECT_FALSE(IsVisibleTo(ViewerOf(other, policy), pending));
  EXPECT_TRUE(IsVisibleTo(ViewerOf(author, policy), pending));
  EXPECT_TRUE(IsVisibleTo(ViewerOf(moderator, policy), pending));
}

Change QuestionChange(int64_t version, const std::string& kind,
                      const std::string& data) {
  Change change;
  change.version = version;
  change.kind = kind;
  change.data = data;
  return change;
}

TEST(QueueCodecTest, StripsAnonymousAuthorsAndHidesPendingQuestions) {
  FeedCodec codec = QueueFeedCodec();
  FeedEntry entry = codec.decode(QuestionChange(
      7, "question.submitted",
      R"({"time":"2026-12-02T06:00:00Z","questions":[{"id":"q1",)"
      R"("status":"QUESTION_STATUS_PENDING","anonymous":true,)"
      R"("authorParticipantId":"author","authorOrganizationId":"org",)"
      R"("agendaItemId":"item1","text":"Savol"}]})"));
  EXPECT_EQ(entry.version, 7);
  EXPECT_EQ(entry.owner, "author");
  EXPECT_EQ(entry.scope, "item1");
  EXPECT_FALSE(entry.coalescable);
  EXPECT_EQ(entry.restricted, nullptr);
  const auto& full = static_cast<const v1::QueueChange&>(*entry.full);
  EXPECT_EQ(full.version(), 7);
  EXPECT_EQ(full.kind(), "question.submitted");
  ASSERT_EQ(full.questions_size(), 1);
  EXPECT_EQ(full.questions(0).author_participant_id(), "");
  EXPECT_EQ(full.questions(0).author_organization_id(), "");
  EXPECT_EQ(full.SerializeAsString().find("author"), std::string::npos);

  FeedEntry approved = codec.decode(QuestionChange(
      8, "question.approved",
      R"({"questions":[{"id":"q1","status":"QUESTION_STATUS_APPROVED",)"
      R"("authorParticipantId":"named","originalText":"raw",)"
      R"("text":"Savol"}]})"));
  ASSERT_NE(approved.restricted, nullptr);
  const auto& shown = static_cast<const v1::QueueChange&>(*approved.restricted);
  EXPECT_EQ(shown.questions(0).author_participant_id(), "named");
  EXPECT_EQ(shown.questions(0).original_text(), "");
}

TEST(QueueCodecTest, MergesVoteRunsIntoTheNewestCounts) {
  FeedCodec codec = QueueFeedCodec();
  FeedEntry a = codec.decode(QuestionChange(
      3, "question.votes",
      R"({"votes":[{"questionId":"q1","votes":1,"trendingScore":1}]})"));
  FeedEntry b = codec.decode(QuestionChange(
      4, "question.votes",
      R"({"votes":[{"questionId":"q2","votes":5,"trendingScore":2}]})"));
  FeedEntry c = codec.decode(QuestionChange(
      5, "question.votes",
      R"({"votes":[{"questionId":"q1","votes":2,"trendingScore":3}]})"));
  ASSERT_TRUE(a.coalescable);
  FeedEntry merged = codec.merge(codec.merge(a, b), c);
  EXPECT_EQ(merged.version, 5);
  EXPECT_TRUE(merged.coalescable);
  const auto& change = static_cast<const v1::QueueChange&>(*merged.full);
  EXPECT_EQ(change.version(), 5);
  ASSERT_EQ(change.votes_size(), 2);
  EXPECT_EQ(change.votes(0).question_id(), "q1");
  EXPECT_EQ(change.votes(0).votes(), 2);
  EXPECT_EQ(change.votes(1).question_id(), "q2");
  EXPECT_EQ(change.votes(1).votes(), 5);
  EXPECT_EQ(merged.restricted, merged.full);
}

}  // namespace
}  // namespace townhall::questions
