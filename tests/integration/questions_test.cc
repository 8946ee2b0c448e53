// Integration tests of QuestionService against its contract
// (proto/townhall/v1/questions.proto), through gRPC to the shared
// in-process server on a real Redis; every test has a tenant of its own
// and members registered through RegistrationService with real join
// tokens.
//
// What is held: the text rules (a bad-input table: each refusal has the
// right code, names the field, and stores nothing), votes (idempotent under
// 100 concurrent identical calls, withdrawals, only on open questions, rate
// limits with a retry delay), every moderator action and its undo, merges
// that count voters once, permissions, the anonymity of authors on every
// read path (Get, List in every view and order, Watch, export), duplicate
// suggestions across scripts and apostrophes, the rankings and paging,
// carrying questions over to the next occurrence, exports, and the audit
// log.
#include <gmock/gmock.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/integration/questions_test_util.h"
#include "tests/testing/shared_server.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_server.h"

namespace townhall::testing {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAre;
using ::testing::UnorderedElementsAreArray;

using Code = absl::StatusCode;
using View = v1::ListQuestionsRequest;

// The server's receive limit (--max_receive_bytes, server.cc): 256 KiB.
constexpr size_t kOneMegabyte = 1024 * 1024;

std::vector<std::string> IdsOf(const std::vector<v1::Question>& questions) {
  std::vector<std::string> ids;
  for (const v1::Question& q : questions) ids.push_back(q.id());
  return ids;
}

// `n` copies of the UTF-8 string `unit`.
std::string Repeat(const std::string& unit, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += unit;
  return out;
}

// Every string value in a JSON document (parsed as google.protobuf.Value).
void CollectStrings(const google::protobuf::Value& value,
                    std::vector<std::string>* out) {
  switch (value.kind_case()) {
    case google::protobuf::Value::kStringValue:
      out->push_back(value.string_value());
      break;
    case google::protobuf::Value::kStructValue:
      for (const auto& [key, v] : value.struct_value().fields()) {
        CollectStrings(v, out);
      }
      break;
    case google::protobuf::Value::kListValue:
      for (const auto& v : value.list_value().values()) CollectStrings(v, out);
      break;
    default:
      break;
  }
}

absl::StatusOr<std::vector<std::string>> JsonStrings(const std::string& json) {
  google::protobuf::Value value;
  auto status = google::protobuf::util::JsonStringToMessage(json, &value);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("not JSON: ", status.ToString()));
  }
  std::vector<std::string> out;
  CollectStrings(value, &out);
  return out;
}

// Parses RFC 4180 CSV (quoted fields may hold commas, quotes, newlines).
absl::StatusOr<std::vector<std::vector<std::string>>> ParseCsv(
    const std::string& csv) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false;
  bool field_started = false;
  for (size_t i = 0; i < csv.size(); ++i) {
    char c = csv[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < csv.size() && csv[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        field += c;
      }
      continue;
    }
    if (c == '"' && field.empty() && !field_started) {
      quoted = true;
      field_started = true;
    } else if (c == ',') {
      row.push_back(field);
      field.clear();
      field_started = false;
    } else if (c == '\r' && i + 1 < csv.size() && csv[i + 1] == '\n') {
      continue;
    } else if (c == '\n') {
      row.push_back(field);
      rows.push_back(row);
      row.clear();
      field.clear();
      field_started = false;
    } else {
      field += c;
      field_started = true;
    }
  }
  if (quoted) return absl::InvalidArgumentError("CSV: unterminated quote");
  if (!field.empty() || !row.empty()) {
    row.push_back(field);
    rows.push_back(row);
  }
  return rows;
}

std::set<std::string> CsvFields(
    const std::vector<std::vector<std::string>>& rows) {
  std::set<std::string> out;
  for (const auto& row : rows) out.insert(row.begin(), row.end());
  return out;
}

class QuestionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(tenant_, NewTenant());
    ASSERT_OK_AND_ASSIGN(session_, NewQuestionsSession(tenant_->client));
    organizer_ = std::make_unique<QuestionsClient>(channel(), tenant_->token);
    ASSERT_OK_AND_ASSIGN(author_, Join("Dilshod Karimov"));
    ASSERT_OK_AND_ASSIGN(other_, Join("Ирина Петрова"));
    ASSERT_OK_AND_ASSIGN(moderator_,
                         Join("Moderator Aziza", v1::SESSION_ROLE_MODERATOR));
  }

  std::shared_ptr<grpc::Channel> channel() const {
    return ServerEnvironment::server().Client().channel();
  }
  const std::string& sid() const { return session_.id(); }

  absl::StatusOr<Member> Join(
      const std::string& name,
      v1::SessionRole role = v1::SESSION_ROLE_PARTICIPANT,
      const std::string& session_id = "") {
    return NewMember(tenant_->client, session_id.empty() ? sid() : session_id,
                     name, role);
  }

  QuestionsClient As(const Member& m) const {
    return QuestionsClient(channel(), m.token);
  }
  QuestionsClient& Organizer() { return *organizer_; }

  v1::SubmitQuestionRequest SubmitRequest(const Member& m,
                                          const std::string& text,
                                          bool anonymous = false) const {
    v1::SubmitQuestionRequest request;
    request.set_session_id(sid());
    request.set_participant_id(m.participant_id);
    request.set_text(text);
    request.set_anonymous(anonymous);
    return request;
  }

  absl::StatusOr<v1::SubmitQuestionResponse> Submit(const Member& m,
                                                    const std::string& text,
                                                    bool anonymous = false) {
    return As(m).SubmitQuestion(SubmitRequest(m, text, anonymous));
  }

  // Submits and approves; the question id ("" on failure).
  std::string Open(const Member& m, const std::string& text,
                   bool anonymous = false) {
    absl::StatusOr<v1::SubmitQuestionResponse> submitted =
        Submit(m, text, anonymous);
    EXPECT_TRUE(submitted.ok()) << submitted.status();
    if (!submitted.ok()) return "";
    if (submitted->question().status() == v1::QUESTION_STATUS_PENDING) {
      absl::StatusOr<v1::Question> approved =
          Organizer().Approve(sid(), submitted->question().id());
      EXPECT_TRUE(approved.ok()) << approved.status();
    }
    return submitted->question().id();
  }

  absl::Status SetMode(v1::ModerationMode mode) {
    v1::QueueSettings settings;
    settings.set_moderation_mode(mode);
    return Organizer().SetSettings(sid(), settings).status();
  }

  // Everything that must not change when a request is refused.
  struct Stored {
    std::vector<std::string> ids;
    int64_t total_size = 0;
    int64_t version = 0;
    std::vector<std::string> mine;
  };
  Stored Observe(const Member& m) {
    Stored out;
    absl::StatusOr<std::vector<v1::Question>> all = Organizer().ListAll(sid());
    EXPECT_TRUE(all.ok()) << all.status();
    if (all.ok()) out.ids = IdsOf(*all);
    v1::ListQuestionsRequest list;
    list.set_session_id(sid());
    list.set_view(View::VIEW_ALL);
    absl::StatusOr<v1::ListQuestionsResponse> page =
        Organizer().ListQuestions(list);
    EXPECT_TRUE(page.ok()) << page.status();
    if (page.ok()) out.total_size = page->total_size();
    absl::StatusOr<v1::QueueSnapshot> snapshot =
        QueueSnapshotOf(channel(), tenant_->token, sid());
    EXPECT_TRUE(snapshot.ok()) << snapshot.status();
    if (snapshot.ok()) out.version = snapshot->version();
    list.set_only_mine(true);
    absl::StatusOr<v1::ListQuestionsResponse> mine = As(m).ListQuestions(list);
    EXPECT_TRUE(mine.ok()) << mine.status();
    if (mine.ok()) {
      out.mine = IdsOf({mine->questions().begin(), mine->questions().end()});
    }
    return out;
  }

  std::optional<Tenant> tenant_;
  v1::Session session_;
  std::unique_ptr<QuestionsClient> organizer_;
  Member author_;
  Member other_;
  Member moderator_;
};

// ---- Text rules --------------------------------------------------------

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
      {"501 code points (Cyrillic, 1002 bytes)", Repeat("д", 501),
       Code::kInvalidArgument, {"text", "500"}},
      {"501 code points (emoji, 2004 bytes)", Repeat("\U0001F600", 501),
       Code::kInvalidArgument, {"text", "500"}},
      {"invalid UTF-8 (0xC3 0x28)", "Savol \xC3\x28 bor", Code::kInvalidArgument,
       {"text", "UTF-8"}},
      {"invalid UTF-8 (lone continuation byte)", "abc \x80 def",
       Code::kInvalidArgument, {"text", "UTF-8"}},
      {"zero-width space U+200B", letters + "bir\u200Bikki",
       Code::kInvalidArgument, {"text", "U+200B"}},
      {"byte order mark U+FEFF", "\uFEFF" + letters + "bor",
       Code::kInvalidArgument, {"text", "U+FEFF"}},
      {"word joiner U+2060", letters + "bir\u2060ikki", Code::kInvalidArgument,
       {"text", "U+2060"}},
      {"soft hyphen U+00AD (invisible)", letters + "bir\u00ADikki",
       Code::kInvalidArgument, {"text", "U+00AD"}},
      {"right-to-left override U+202E", letters + "\u202Etxet\u202C",
       Code::kInvalidArgument, {"text", "U+202E"}},
      {"left-to-right embedding U+202A", letters + "\u202Abir",
       Code::kInvalidArgument, {"text", "U+202A"}},
      {"right-to-left isolate U+2067", letters + "\u2067bir\u2069",
       Code::kInvalidArgument, {"text", "U+2067"}},
      {"first strong isolate U+2068", letters + "\u2068bir",
       Code::kInvalidArgument, {"text", "U+2068"}},
      {"left-to-right mark U+200E", letters + "bir\u200E",
       Code::kInvalidArgument, {"text", "U+200E"}},
      {"right-to-left mark U+200F", letters + "bir\u200F",
       Code::kInvalidArgument, {"text", "U+200F"}},
      {"Arabic letter mark U+061C", letters + "bir\u061C",
       Code::kInvalidArgument, {"text", "U+061C"}},
      {"C0 control NUL", letters + std::string("a\0b", 3),
       Code::kInvalidArgument, {"text", "U+0000"}},
      {"C0 control U+0001", letters + "a\x01" "b", Code::kInvalidArgument,
       {"text", "U+0001"}},
      {"C0 control ESC U+001B", letters + "\x1B[31mred",
       Code::kInvalidArgument, {"text", "U+001B"}},
      {"C0 control BEL U+0007", letters + "ding\x07", Code::kInvalidArgument,
       {"text", "U+0007"}},
      {"C1 control U+0085", letters + "a\u0085b", Code::kInvalidArgument,
       {"text", "U+0085"}},
      {"C1 control CSI U+009B", letters + "a\u009B" "31m",
       Code::kInvalidArgument, {"text", "U+009B"}},
      {"1 MB request", Repeat("a", kOneMegabyte), Code::kResourceExhausted,
       {}},
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
  for (const std::string& unit : {std::string("a"), std::string("д"),
                                  std::string("\U0001F600")}) {
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
  const std::string persian = "من \u0645\u06CC\u200C\u062E\u0648\u0627\u0647\u0645 بپرسم";
  ASSERT_OK_AND_ASSIGN(v1::SubmitQuestionResponse p, Submit(author_, persian));
  EXPECT_EQ(p.question().text(), persian);
  // Emoji sequences need the zero-width joiner (family: man, woman, girl).
  const std::string emoji =
      "Oila \U0001F468\u200D\U0001F469\u200D\U0001F467 vizasi?";
  ASSERT_OK_AND_ASSIGN(v1::SubmitQuestionResponse e, Submit(other_, emoji));
  EXPECT_EQ(e.question().text(), emoji);
}

TEST_F(QuestionsTest, ModeratorTextFieldsFollowTheSameRules) {
  ASSERT_OK_AND_ASSIGN(v1::SubmitQuestionResponse s,
                       Submit(author_, "Pensiya haqida savol"));
  const std::string id = s.question().id();
  const Stored before = Observe(author_);
  // edited_text: the submission rules.
  for (const std::string& bad :
       {std::string("   "), Repeat("ы", 501), std::string("a\u202Eb"),
        std::string("a\u200Bb"), std::string("a\x01" "b")}) {
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

// ---- Votes -----------------------------------------------------------

TEST_F(QuestionsTest, HundredConcurrentIdenticalVotesCountOnce) {
  const std::string id = Open(author_, "Ikki fuqarolik mumkinmi?");
  ASSERT_FALSE(id.empty());
  QuestionsClient voter = As(other_);
  std::atomic<int> changed{0};
  std::atomic<int> failed{0};
  std::vector<int64_t> counts(100);
  std::vector<std::thread> threads;
  for (int i = 0; i < 100; ++i) {
    threads.emplace_back([&, i] {
      absl::StatusOr<v1::UpvoteQuestionResponse> r =
          voter.Vote(sid(), id, other_.participant_id);
      if (!r.ok()) {
        ++failed;
        ADD_FAILURE() << "vote " << i << ": " << r.status();
        return;
      }
      counts[i] = r->votes();
      if (r->changed()) ++changed;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(changed, 1);
  for (int64_t c : counts) EXPECT_EQ(c, 1);
  ASSERT_OK_AND_ASSIGN(v1::Question q, voter.Get(sid(), id));
  EXPECT_EQ(q.votes(), 1);
  EXPECT_TRUE(q.voted_by_caller());
  ASSERT_OK_AND_ASSIGN(q, Organizer().Get(sid(), id));
  EXPECT_EQ(q.votes(), 1);
}

TEST_F(QuestionsTest, WithdrawRemovesOnlyAVoteThatIsThere) {
  const std::string id = Open(author_, "Vizalar narxi?");
  QuestionsClient voter = As(other_);
  ASSERT_OK_AND_ASSIGN(v1::UpvoteQuestionResponse up,
                       voter.Vote(sid(), id, other_.participant_id));
  EXPECT_TRUE(up.changed());
  EXPECT_EQ(up.votes(), 1);
  ASSERT_OK_AND_ASSIGN(v1::WithdrawVoteResponse down,
                       voter.Withdraw(sid(), id, other_.participant_id));
  EXPECT_TRUE(down.changed());
  EXPECT_EQ(down.votes(), 0);
  ASSERT_OK_AND_ASSIGN(down, voter.Withdraw(sid(), id, other_.participant_id));
  EXPECT_FALSE(down.changed());
  EXPECT_EQ(down.votes(), 0);
  ASSERT_OK_AND_ASSIGN(v1::Question q, voter.Get(sid(), id));
  EXPECT_EQ(q.votes(), 0);
  EXPECT_FALSE(q.voted_by_caller());
  // Withdrawing someone else's vote changes nothing.
  ASSERT_OK(As(moderator_).Vote(sid(), id, moderator_.participant_id).status());
  ASSERT_OK_AND_ASSIGN(down, voter.Withdraw(sid(), id, other_.participant_id));
  EXPECT_FALSE(down.changed());
  EXPECT_EQ(down.votes(), 1);
  // Vote again after a withdrawal: counted.
  ASSERT_OK_AND_ASSIGN(up, voter.Vote(sid(), id, other_.participant_id));
  EXPECT_TRUE(up.changed());
  EXPECT_EQ(up.votes(), 2);
}

TEST_F(QuestionsTest, VotesOnlyOnApprovedOrPinnedQuestions) {
  // PENDING: the author sees it, but may not vote on it.
  ASSERT_OK_AND_ASSIGN(v1::SubmitQuestionResponse pending,
                       Submit(author_, "Hali tasdiqlanmagan savol"));
  const std::string p = pending.question().id();
  EXPECT_THAT(As(author_).Vote(sid(), p, author_.participant_id),
              StatusIs(Code::kFailedPrecondition, HasSubstr("PENDING")));
  EXPECT_THAT(Organizer().Vote(sid(), p, other_.participant_id),
              StatusIs(Code::kFailedPrecondition, HasSubstr("PENDING")));
  // REJECTED.
  ASSERT_OK(Organizer().Reject(sid(), p, "Mavzudan tashqari").status());
  EXPECT_THAT(As(author_).Vote(sid(), p, author_.participant_id),
              StatusIs(Code::kFailedPrecondition, HasSubstr("REJECTED")));
  EXPECT_THAT(Organizer().Vote(sid(), p, other_.participant_id),
              StatusIs(Code::kFailedPrecondition, HasSubstr("REJECTED")));
  // PINNED: allowed; ANSWERED: refused.
  const std::string q = Open(author_, "Qachon javob berasiz?");
  ASSERT_OK(Organizer().Pin(sid(), q).status());
  ASSERT_OK_AND_ASSIGN(v1::UpvoteQuestionResponse up,
                       As(other_).Vote(sid(), q, other_.participant_id));
  EXPECT_TRUE(up.changed());
  ASSERT_OK(Organizer().Answer(sid(), q).status());
  EXPECT_THAT(As(moderator_).Vote(sid(), q, moderator_.participant_id),
              StatusIs(Code::kFailedPrecondition, HasSubstr("ANSWERED")));
  ASSERT_OK_AND_ASSIGN(v1::Question rejected, Organizer().Get(sid(), p));
  EXPECT_EQ(rejected.votes(), 0);
  ASSERT_OK_AND_ASSIGN(v1::Question answered, Organizer().Get(sid(), q));
  EXPECT_EQ(answered.votes(), 1);
  // A question that does not exist.
  EXPECT_THAT(As(other_).Vote(sid(), "no-such-question", other_.participant_id),
              HasCode(Code::kNotFound));
}

TEST_F(QuestionsTest, VoteRateLimitWithRetryDelayAndRepeatsAreFree) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(Open(author_, absl::StrCat("Savol raqami ", i, " ", NewId())));
  }
  v1::QueueSettings settings;
  settings.set_votes_per_minute(3);
  ASSERT_OK_AND_ASSIGN(v1::QueueSettings set,
                       Organizer().SetSettings(sid(), settings));
  EXPECT_EQ(set.votes_per_minute(), 3);
  QuestionsClient voter = As(other_);
  const std::string me = other_.participant_id;
  ASSERT_OK_AND_ASSIGN(v1::UpvoteQuestionResponse r, voter.Vote(sid(), ids[0], me));
  EXPECT_TRUE(r.changed());
  // Repeats of a vote already cast change nothing and cost nothing.
  for (int i = 0; i < 10; ++i) {
    ASSERT_OK_AND_ASSIGN(r, voter.Vote(sid(), ids[0], me));
    EXPECT_FALSE(r.changed());
  }
  ASSERT_OK_AND_ASSIGN(r, voter.Vote(sid(), ids[1], me));
  EXPECT_TRUE(r.changed());
  ASSERT_OK_AND_ASSIGN(r, voter.Vote(sid(), ids[2], me));
  EXPECT_TRUE(r.changed());
  // The fourth new vote in the minute: refused with a retry delay.
  Trailers trailers;
  absl::StatusOr<v1::UpvoteQuestionResponse> limited =
      voter.Vote(sid(), ids[3], me, &trailers);
  EXPECT_THAT(limited, HasCode(Code::kResourceExhausted));
  auto retry = trailers.find("retry-after-ms");
  ASSERT_NE(retry, trailers.end()) << "no retry-after-ms trailer";
  int64_t retry_ms = 0;
  ASSERT_TRUE(absl::SimpleAtoi(retry->second, &retry_ms)) << retry->second;
  EXPECT_GT(retry_ms, 0);
  // 3 per minute: a token every 20 s.
  EXPECT_LE(retry_ms, 20000);
  // The delay is in the message too.
  EXPECT_TRUE(absl::StrContains(limited.status().message(),
                                absl::StrCat(retry_ms)) ||
              MentionsIgnoringCase(limited.status().message(), "retry"))
      << limited.status();
  // Nothing counted.
  ASSERT_OK_AND_ASSIGN(v1::Question q, Organizer().Get(sid(), ids[3]));
  EXPECT_EQ(q.votes(), 0);
  // Others are not limited by this participant's bucket.
  ASSERT_OK_AND_ASSIGN(r, As(moderator_).Vote(sid(), ids[3],
                                              moderator_.participant_id));
  EXPECT_TRUE(r.changed());
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

// ---- Moderation --------------------------------------------------------

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
  ASSERT_OK_AND_ASSIGN(v1::Question rejected,
                       As(moderator_).Reject(sid(), post.question().id(),
                                             "Takror"));
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
  ASSERT_OK_AND_ASSIGN(v1::Question q,
                       As(moderator_).Approve(sid(), s.question().id(), edited));
  EXPECT_EQ(q.status(), v1::QUESTION_STATUS_APPROVED);
  EXPECT_EQ(q.text(), edited);
  EXPECT_EQ(q.original_text(), original);
  for (const Member* m : {&author_, &other_}) {
    ASSERT_OK_AND_ASSIGN(v1::Question seen, As(*m).Get(sid(), s.question().id()));
    EXPECT_EQ(seen.text(), edited);
  }
  ASSERT_OK_AND_ASSIGN(v1::Question mine, As(author_).Get(sid(), s.question().id()));
  EXPECT_EQ(mine.original_text(), original);
}

TEST_F(QuestionsTest, RejectReasonSeenByTheAuthorQuestionHiddenFromOthers) {
  ASSERT_OK_AND_ASSIGN(v1::SubmitQuestionResponse s,
                       Submit(author_, "Reklama: arzon chiptalar"));
  const std::string id = s.question().id();
  const std::string reason = "Reklama taqiqlangan / advertising is not allowed";
  ASSERT_OK_AND_ASSIGN(v1::Question r, As(moderator_).Reject(sid(), id, reason));
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
  ASSERT_OK_AND_ASSIGN(v1::PinQuestionResponse pin_a, Organizer().Pin(sid(), a));
  EXPECT_EQ(pin_a.question().status(), v1::QUESTION_STATUS_PINNED);
  EXPECT_TRUE(pin_a.unpinned().id().empty());
  ASSERT_OK_AND_ASSIGN(v1::PinQuestionResponse pin_b,
                       As(moderator_).Pin(sid(), b));
  EXPECT_EQ(pin_b.question().id(), b);
  EXPECT_EQ(pin_b.question().status(), v1::QUESTION_STATUS_PINNED);
  EXPECT_EQ(pin_b.unpinned().id(), a);
  EXPECT_EQ(pin_b.unpinned().status(), v1::QUESTION_STATUS_APPROVED);
  // Exactly one pinned.
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Question> all, Organizer().ListAll(sid()));
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
  ASSERT_OK_AND_ASSIGN(snapshot, QueueSnapshotOf(channel(), tenant_->token, sid()));
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
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Question> all, Organizer().ListAll(sid()));
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
    ASSERT_OK(As(voters[i]).Vote(sid(), target, voters[i].participant_id).status());
  }
  for (int i : {1, 2, 3}) {
    ASSERT_OK(As(voters[i]).Vote(sid(), dup1, voters[i].participant_id).status());
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
  ASSERT_OK_AND_ASSIGN(v1::UpvoteQuestionResponse again,
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

// ---- Permissions -------------------------------------------------------

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
  ASSERT_OK_AND_ASSIGN(Member speaker, Join("Ma'ruzachi", v1::SESSION_ROLE_SPEAKER));
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

TEST_F(QuestionsTest, ParticipantsCannotReadAnothersPendingQuestion) {
  ASSERT_OK_AND_ASSIGN(v1::SubmitQuestionResponse s,
                       Submit(author_, "Mening kutilayotgan savolim"));
  const std::string id = s.question().id();
  // The author can; others get NOT_FOUND (the contract: a question the
  // caller may not see), never the text.
  ASSERT_OK_AND_ASSIGN(v1::Question own, As(author_).Get(sid(), id));
  EXPECT_EQ(own.status(), v1::QUESTION_STATUS_PENDING);
  ASSERT_OK_AND_ASSIGN(Member observer,
                       Join("Kuzatuvchi", v1::SESSION_ROLE_OBSERVER));
  for (const Member* m : {&other_, &observer}) {
    EXPECT_THAT(As(*m).Get(sid(), id), HasCode(Code::kNotFound));
    for (auto view : {View::VIEW_PENDING, View::VIEW_ALL, View::VIEW_OPEN}) {
      ASSERT_OK_AND_ASSIGN(std::vector<v1::Question> list,
                           As(*m).ListAll(sid(), view));
      EXPECT_THAT(IdsOf(list), Not(Contains(id)));
    }
  }
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Question> mine,
                       As(author_).ListAll(sid(), View::VIEW_PENDING));
  EXPECT_THAT(IdsOf(mine), ElementsAre(id));
}

TEST_F(QuestionsTest, JoinTokensActOnlyForThemselves) {
  const std::string a = Open(author_, "Kimning nomidan?");
  // Vote, withdraw, submit in another participant's name.
  EXPECT_THAT(As(other_).Vote(sid(), a, author_.participant_id),
              HasCode(Code::kPermissionDenied));
  ASSERT_OK(As(author_).Vote(sid(), a, author_.participant_id).status());
  EXPECT_THAT(As(other_).Withdraw(sid(), a, author_.participant_id),
              HasCode(Code::kPermissionDenied));
  v1::SubmitQuestionRequest forged = SubmitRequest(author_, "Soxta savol");
  EXPECT_THAT(As(other_).SubmitQuestion(forged),
              HasCode(Code::kPermissionDenied));
  ASSERT_OK_AND_ASSIGN(v1::Question q, Organizer().Get(sid(), a));
  EXPECT_EQ(q.votes(), 1);
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Question> all, Organizer().ListAll(sid()));
  EXPECT_THAT(all, SizeIs(1));
  // A join token of another session is refused for this one.
  ASSERT_OK_AND_ASSIGN(v1::Session elsewhere,
                       NewQuestionsSession(tenant_->client));
  ASSERT_OK_AND_ASSIGN(Member stranger,
                       Join("Begona", v1::SESSION_ROLE_PARTICIPANT,
                            elsewhere.id()));
  EXPECT_THAT(As(stranger).Vote(sid(), a, stranger.participant_id),
              HasCode(Code::kPermissionDenied));
  // The organizer acts for a participant.
  ASSERT_OK_AND_ASSIGN(v1::UpvoteQuestionResponse up,
                       Organizer().Vote(sid(), a, other_.participant_id));
  EXPECT_TRUE(up.changed());
  ASSERT_OK_AND_ASSIGN(q, As(other_).Get(sid(), a));
  EXPECT_TRUE(q.voted_by_caller());
}

// ---- Anonymity -----------------------------------------------------------

// Every read path, as every kind of non-organizer: the anonymous author's
// participant id and organization id never occur in the bytes.
class AnonymityTest : public QuestionsTest {
 protected:
  struct Reader {
    std::string name;
    std::string token;
    // Whether this reader must get Get/List/Watch answers (not refusals).
    bool must_read = true;
  };

  void SetUp() override {
    QuestionsTest::SetUp();
    ASSERT_OK_AND_ASSIGN(observer_, Join("Kuzatuvchi", v1::SESSION_ROLE_OBSERVER));
    ASSERT_OK_AND_ASSIGN(speaker_, Join("Ma'ruzachi", v1::SESSION_ROLE_SPEAKER));
    ASSERT_OK_AND_ASSIGN(session_organizer_,
                         Join("Sessiya tashkilotchisi",
                              v1::SESSION_ROLE_ORGANIZER));
    readers_ = {
        {"participant", other_.token},
        {"observer", observer_.token},
        {"speaker", speaker_.token},
        {"moderator", moderator_.token},
        {"session organizer", session_organizer_.token},
        {"API key (every scope)",
         ApiKeyToken(tenant_->id, ScopeBit(ApiScope::kReadSchedule) |
                                     ScopeBit(ApiScope::kManageRegistrations) |
                                     ScopeBit(ApiScope::kSubmitQuestions)),
         /*must_read=*/false},
    };
  }

  // The secrets: the anonymous author's ids.
  std::vector<std::string> Secrets() const {
    return {author_.participant_id, author_.organization_id};
  }

  void ExpectNoSecret(const std::string& bytes, const std::string& where) {
    for (const std::string& secret : Secrets()) {
      EXPECT_FALSE(absl::StrContains(bytes, secret))
          << where << " carries the anonymous author's id " << secret;
    }
  }

  // Every unary read path as `reader`; returns how many answered OK.
  int WalkUnary(const Reader& reader, const std::string& stage) {
    QuestionsClient c(channel(), reader.token);
    int ok = 0;
    const std::string who = absl::StrCat(reader.name, " at ", stage);
    {
      absl::StatusOr<v1::GetQuestionResponse> got = c.GetQuestion([&] {
        v1::GetQuestionRequest r;
        r.set_session_id(sid());
        r.set_question_id(anonymous_id_);
        return r;
      }());
      if (got.ok()) {
        ++ok;
        EXPECT_TRUE(got->question().anonymous());
        ExpectNoSecret(got->SerializeAsString(),
                       absl::StrCat("GetQuestion for ", who));
      } else {
        EXPECT_THAT(got.status().code(),
                    ::testing::AnyOf(Code::kNotFound, Code::kPermissionDenied))
            << who << ": " << got.status();
      }
    }
    for (auto view : {View::VIEW_UNSPECIFIED, View::VIEW_OPEN,
                      View::VIEW_PENDING, View::VIEW_ANSWERED, View::VIEW_ALL}) {
      for (auto order : {View::ORDER_UNSPECIFIED, View::ORDER_TOP,
                         View::ORDER_NEWEST, View::ORDER_TRENDING}) {
        for (bool only_mine : {false, true}) {
          v1::ListQuestionsRequest r;
          r.set_session_id(sid());
          r.set_view(view);
          r.set_order(order);
          r.set_only_mine(only_mine);
          r.set_page_size(1);  // every page, one question at a time
          for (int page = 0; page < 50; ++page) {
            absl::StatusOr<v1::ListQuestionsResponse> list =
                c.ListQuestions(r);
            if (!list.ok()) {
              if (reader.must_read && !only_mine) {
                ADD_FAILURE() << "ListQuestions view " << view << " order "
                              << order << " for " << who << ": "
                              << list.status();
              }
              break;
            }
            ++ok;
            ExpectNoSecret(list->SerializeAsString(),
                           absl::StrCat("ListQuestions view ", view, " order ",
                                        order, " page ", page, " for ", who));
            if (list->next_page_token().empty()) break;
            r.set_page_token(list->next_page_token());
          }
        }
      }
    }
    for (auto format : {v1::QUESTION_EXPORT_FORMAT_UNSPECIFIED,
                        v1::QUESTION_EXPORT_FORMAT_JSON,
                        v1::QUESTION_EXPORT_FORMAT_CSV}) {
      v1::ExportQuestionsRequest r;
      r.set_session_id(sid());
      r.set_format(format);
      absl::StatusOr<v1::ExportQuestionsResponse> exported =
          c.ExportQuestions(r);
      if (exported.ok()) {
        ++ok;
        ExpectNoSecret(exported->SerializeAsString(),
                       absl::StrCat("ExportQuestions format ", format, " for ",
                                    who));
      } else {
        EXPECT_EQ(exported.status().code(), Code::kPermissionDenied)
            << who << ": " << exported.status();
      }
    }
    v1::SuggestDuplicatesRequest suggest;
    suggest.set_session_id(sid());
    suggest.set_text(kAnonymousText);
    absl::StatusOr<v1::SuggestDuplicatesResponse> similar =
        c.SuggestDuplicates(suggest);
    if (similar.ok()) {
      ExpectNoSecret(similar->SerializeAsString(),
                     absl::StrCat("SuggestDuplicates for ", who));
    }
    // A fresh watch: its snapshot.
    QueueWatcher watch(channel(), reader.token, sid());
    std::vector<v1::WatchQueueResponse> first = watch.WaitFor(1);
    if (!first.empty()) {
      ++ok;
      ExpectNoSecret(first[0].SerializeAsString(),
                     absl::StrCat("WatchQueue snapshot for ", who));
    } else if (reader.must_read) {
      ADD_FAILURE() << "no WatchQueue snapshot for " << who;
    }
    return ok;
  }

  static constexpr char kAnonymousText[] =
      "Konsullik hisobiga turish uchun qanday hujjatlar kerak?";

  Member observer_;
  Member speaker_;
  Member session_organizer_;
  std::vector<Reader> readers_;
  std::string anonymous_id_;
};

TEST_F(AnonymityTest, AnonymousAuthorNeverReachesANonOrganizer) {
  // Watchers from the start, one per reader, and one for the organizer
  // (WatchQueue never carries the author, whatever the policy).
  std::vector<std::unique_ptr<QueueWatcher>> watchers;
  for (const Reader& r : readers_) {
    watchers.push_back(std::make_unique<QueueWatcher>(channel(), r.token, sid()));
  }
  watchers.push_back(
      std::make_unique<QueueWatcher>(channel(), tenant_->token, sid()));
  for (auto& w : watchers) w->WaitFor(1);

  // A plain question by someone else, so lists are not trivially empty.
  const std::string plain = Open(other_, "Ochiq savol: viza muddati");
  ASSERT_OK_AND_ASSIGN(v1::SubmitQuestionResponse submitted,
                       Submit(author_, kAnonymousText, /*anonymous=*/true));
  anonymous_id_ = submitted.question().id();
  EXPECT_TRUE(submitted.question().anonymous());
  // The author sees themself.
  EXPECT_EQ(submitted.question().author_participant_id(),
            author_.participant_id);
  ASSERT_OK_AND_ASSIGN(v1::Question own, As(author_).Get(sid(), anonymous_id_));
  EXPECT_EQ(own.author_participant_id(), author_.participant_id);
  EXPECT_EQ(own.author_organization_id(), author_.organization_id);

  // The policy is off: the tenant organizer is a non-author too.
  std::vector<Reader> everyone = readers_;
  everyone.push_back({"organizer (policy off)", tenant_->token});

  auto walk = [&](const std::string& stage) {
    for (const Reader& r : everyone) {
      int ok = WalkUnary(r, stage);
      if (r.must_read) EXPECT_GT(ok, 0) << r.name << " read nothing";
    }
  };
  walk("PENDING");
  ASSERT_OK(As(moderator_).Approve(sid(), anonymous_id_).status());
  walk("APPROVED");
  for (const Member* m : {&other_, &moderator_, &speaker_}) {
    ASSERT_OK(As(*m).Vote(sid(), anonymous_id_, m->participant_id).status());
  }
  // The author's own vote, too: voters never show.
  ASSERT_OK(As(author_).Vote(sid(), anonymous_id_, author_.participant_id).status());
  ASSERT_OK(As(moderator_).Pin(sid(), anonymous_id_).status());
  walk("PINNED");
  ASSERT_OK(Organizer().Pin(sid(), plain).status());  // unpins it, one step
  ASSERT_OK(As(moderator_)
                .Answer(sid(), anonymous_id_,
                        "Pasport va yashash joyi haqida ma'lumotnoma")
                .status());
  walk("ANSWERED");
  ASSERT_OK(Organizer().Archive(sid(), anonymous_id_).status());
  walk("ARCHIVED");
  // A last visible change: every watcher must have seen everything before.
  const std::string marker = Open(other_, "Oxirgi belgi savoli");

  // Every watcher got every change, and none carried the author.
  for (size_t i = 0; i < watchers.size(); ++i) {
    const std::string name =
        i < readers_.size() ? readers_[i].name : "organizer";
    std::vector<v1::WatchQueueResponse> seen =
        watchers[i]->WaitForChange("question.approved", marker);
    watchers[i]->Cancel();
    if (i < readers_.size() && !readers_[i].must_read && seen.empty()) {
      continue;  // the API key may not watch
    }
    std::set<std::string> kinds;
    for (const auto& m : seen) {
      ExpectNoSecret(m.SerializeAsString(),
                     absl::StrCat("WatchQueue ",
                                  m.has_snapshot() ? "snapshot" : m.change().kind(),
                                  " for ", name));
      if (m.has_change()) kinds.insert(m.change().kind());
    }
    for (const char* kind : {"question.approved", "question.pinned",
                             "question.answered", "question.votes"}) {
      EXPECT_TRUE(kinds.count(kind)) << name << " did not see " << kind;
    }
  }
}

TEST_F(AnonymityTest, OrganizersSeeAnonymousAuthorsOnlyWhenThePolicySaysSo) {
  v1::GetQuestionPolicyRequest get;
  ASSERT_OK_AND_ASSIGN(v1::GetQuestionPolicyResponse policy,
                       Organizer().GetQuestionPolicy(get));
  EXPECT_FALSE(policy.policy().organizers_see_anonymous_authors());
  ASSERT_OK_AND_ASSIGN(v1::SubmitQuestionResponse submitted,
                       Submit(author_, kAnonymousText, /*anonymous=*/true));
  anonymous_id_ = submitted.question().id();
  ASSERT_OK(Organizer().Approve(sid(), anonymous_id_).status());
  ASSERT_OK_AND_ASSIGN(v1::Question hidden, Organizer().Get(sid(), anonymous_id_));
  EXPECT_TRUE(hidden.author_participant_id().empty());
  EXPECT_TRUE(hidden.author_organization_id().empty());

  // Session roles may not change the tenant's policy.
  v1::UpdateQuestionPolicyRequest update;
  update.mutable_policy()->set_organizers_see_anonymous_authors(true);
  EXPECT_THAT(As(moderator_).UpdateQuestionPolicy(update),
              HasCode(Code::kPermissionDenied));
  EXPECT_THAT(As(session_organizer_).UpdateQuestionPolicy(update),
              HasCode(Code::kPermissionDenied));
  ASSERT_OK_AND_ASSIGN(v1::UpdateQuestionPolicyResponse updated,
                       Organizer().UpdateQuestionPolicy(update));
  EXPECT_TRUE(updated.policy().organizers_see_anonymous_authors());

  // Now the tenant organizer sees the author in Get, List and export...
  ASSERT_OK_AND_ASSIGN(v1::Question seen, Organizer().Get(sid(), anonymous_id_));
  EXPECT_EQ(seen.author_participant_id(), author_.participant_id);
  EXPECT_EQ(seen.author_organization_id(), author_.organization_id);
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Question> listed,
                       Organizer().ListAll(sid(), View::VIEW_OPEN));
  ASSERT_THAT(listed, SizeIs(1));
  EXPECT_EQ(listed[0].author_participant_id(), author_.participant_id);
  for (auto format :
       {v1::QUESTION_EXPORT_FORMAT_JSON, v1::QUESTION_EXPORT_FORMAT_CSV}) {
    v1::ExportQuestionsRequest r;
    r.set_session_id(sid());
    r.set_format(format);
    ASSERT_OK_AND_ASSIGN(v1::ExportQuestionsResponse exported,
                         Organizer().ExportQuestions(r));
    EXPECT_THAT(exported.content(), HasSubstr(author_.participant_id));
  }
  // ...but WatchQueue never carries it, and nobody else sees it.
  QueueWatcher watch(channel(), tenant_->token, sid());
  std::vector<v1::WatchQueueResponse> first = watch.WaitFor(1);
  ASSERT_THAT(first, SizeIs(1));
  ExpectNoSecret(first[0].SerializeAsString(), "organizer's snapshot");
  ASSERT_OK(Organizer().Pin(sid(), anonymous_id_).status());
  std::vector<v1::WatchQueueResponse> changes =
      watch.WaitForChange("question.pinned", anonymous_id_);
  for (const auto& m : changes) {
    ExpectNoSecret(m.SerializeAsString(), "organizer's watch");
  }
  for (const Reader& r : readers_) {
    WalkUnary(r, "policy on");
  }
}

// ---- Duplicates --------------------------------------------------------

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
  for (const auto& s : found.similar_questions()) similar.push_back(s.question_id());
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

// ---- Rankings ----------------------------------------------------------

TEST_F(QuestionsTest, RankingsTopNewestTrendingAndPaging) {
  ASSERT_OK(SetMode(v1::MODERATION_MODE_POST));
  std::vector<Member> voters;
  for (int i = 0; i < 4; ++i) {
    ASSERT_OK_AND_ASSIGN(Member m, Join(absl::StrCat("Ovoz beruvchi ", i)));
    voters.push_back(m);
  }
  std::vector<std::string> q;  // q[0] oldest
  for (int i = 0; i < 7; ++i) {
    const Member& author = i % 2 ? other_ : author_;
    ASSERT_OK_AND_ASSIGN(
        v1::SubmitQuestionResponse s,
        Submit(author, absl::StrCat("Reyting savoli ", i, " ", NewId())));
    q.push_back(s.question().id());
    absl::SleepFor(absl::Milliseconds(20));
  }
  // Votes: q1: 3, q4: 2, q0: 1, q3: 1 (q0 earlier), q6: 1 (voted last).
  auto vote = [&](int question, int voter) {
    ASSERT_OK(As(voters[voter]).Vote(sid(), q[question],
                                     voters[voter].participant_id).status());
    absl::SleepFor(absl::Milliseconds(20));
  };
  vote(0, 0);
  vote(3, 0);
  vote(1, 0);
  vote(1, 1);
  vote(1, 2);
  vote(4, 1);
  vote(4, 2);
  vote(6, 3);

  ASSERT_OK_AND_ASSIGN(std::vector<v1::Question> top,
                       As(other_).ListAll(sid(), View::VIEW_OPEN,
                                          View::ORDER_TOP));
  EXPECT_THAT(IdsOf(top),
              ElementsAre(q[1], q[4], q[0], q[3], q[6], q[2], q[5]));
  // The default order is top.
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Question> by_default,
                       As(other_).ListAll(sid(), View::VIEW_UNSPECIFIED,
                                          View::ORDER_UNSPECIFIED));
  EXPECT_EQ(IdsOf(by_default), IdsOf(top));
  std::vector<int64_t> votes;
  for (const auto& x : top) votes.push_back(x.votes());
  EXPECT_THAT(votes, ElementsAre(3, 2, 1, 1, 1, 0, 0));
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Question> newest,
                       As(other_).ListAll(sid(), View::VIEW_OPEN,
                                          View::ORDER_NEWEST));
  EXPECT_THAT(IdsOf(newest),
              ElementsAre(q[6], q[5], q[4], q[3], q[2], q[1], q[0]));
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Question> trending,
                       As(other_).ListAll(sid(), View::VIEW_OPEN,
                                          View::ORDER_TRENDING));
  EXPECT_THAT(IdsOf(trending), UnorderedElementsAreArray(q));
  for (size_t i = 1; i < trending.size(); ++i) {
    EXPECT_GE(trending[i - 1].trending_score(), trending[i].trending_score())
        << "trending not by trending_score descending at " << i;
  }
  std::map<std::string, double> score;
  for (const auto& x : trending) score[x.id()] = x.trending_score();
  // Same votes (one each): the later submitted and later voted ones trend
  // higher; more recent votes beat fewer... q1 (3 votes) beats q2 (none).
  EXPECT_GT(score[q[6]], score[q[3]]);
  EXPECT_GT(score[q[3]], score[q[0]]);
  EXPECT_GT(score[q[1]], score[q[2]]);
  EXPECT_GT(score[q[4]], score[q[5]]);

  // Paging: every order visits every question exactly once, with the same
  // order as one page, and total_size counts the view.
  for (auto order : {View::ORDER_TOP, View::ORDER_NEWEST, View::ORDER_TRENDING}) {
    for (int page_size : {1, 2, 3, 7, 100}) {
      SCOPED_TRACE(absl::StrCat("order ", order, " page_size ", page_size));
      v1::ListQuestionsRequest r;
      r.set_session_id(sid());
      r.set_view(View::VIEW_OPEN);
      r.set_order(order);
      r.set_page_size(page_size);
      std::vector<std::string> visited;
      int pages = 0;
      while (true) {
        ASSERT_OK_AND_ASSIGN(v1::ListQuestionsResponse page,
                             As(other_).ListQuestions(r));
        EXPECT_EQ(page.total_size(), 7);
        EXPECT_LE(page.questions_size(), page_size);
        for (const auto& x : page.questions()) visited.push_back(x.id());
        ++pages;
        if (page.next_page_token().empty()) break;
        ASSERT_LT(pages, 20);
        r.set_page_token(page.next_page_token());
      }
      std::vector<std::string> expected =
          order == View::ORDER_TOP      ? IdsOf(top)
          : order == View::ORDER_NEWEST ? IdsOf(newest)
                                        : IdsOf(trending);
      EXPECT_EQ(visited, expected);
    }
  }
  // A bad page token is INVALID_ARGUMENT.
  v1::ListQuestionsRequest bad;
  bad.set_session_id(sid());
  bad.set_page_token("not-a-token");
  EXPECT_THAT(As(other_).ListQuestions(bad), HasCode(Code::kInvalidArgument));
}

TEST_F(QuestionsTest, PagingStaysExactWhileVotesMoveQuestions) {
  // Votes arriving between pages may reorder: no question is lost or
  // repeated in NEWEST (stable) order.
  ASSERT_OK(SetMode(v1::MODERATION_MODE_POST));
  std::vector<std::string> ids;
  for (int i = 0; i < 10; ++i) {
    ASSERT_OK_AND_ASSIGN(v1::SubmitQuestionResponse s,
                         Submit(i % 2 ? author_ : other_,
                                absl::StrCat("Sahifa ", i, " ", NewId())));
    ids.push_back(s.question().id());
  }
  v1::ListQuestionsRequest r;
  r.set_session_id(sid());
  r.set_order(View::ORDER_NEWEST);
  r.set_page_size(3);
  std::vector<std::string> visited;
  for (int page = 0; page < 10; ++page) {
    ASSERT_OK_AND_ASSIGN(v1::ListQuestionsResponse got,
                         As(moderator_).ListQuestions(r));
    for (const auto& x : got.questions()) visited.push_back(x.id());
    ASSERT_OK(As(moderator_)
                  .Vote(sid(), ids[page], moderator_.participant_id)
                  .status());
    if (got.next_page_token().empty()) break;
    r.set_page_token(got.next_page_token());
  }
  std::vector<std::string> expected(ids.rbegin(), ids.rend());
  EXPECT_EQ(visited, expected);
}

// ---- After the session ---------------------------------------------------

TEST_F(QuestionsTest, CarryOverToTheNextOccurrenceKeepsVotes) {
  v1::CreateSeriesRequest series;
  v1::Session* tmpl = series.mutable_series()->mutable_template_();
  tmpl->set_title("Oylik muloqot");
  SetTime(absl::Now() + absl::Hours(1), tmpl->mutable_start_time());
  SetDuration(absl::Hours(2), tmpl->mutable_duration());
  tmpl->set_time_zone("Asia/Tashkent");
  tmpl->set_format(v1::SESSION_FORMAT_ONLINE);
  tmpl->set_join_url("https://meet.example.org/townhall");
  series.mutable_series()->set_rrule("FREQ=MONTHLY;COUNT=2");
  series.set_publish(true);
  ASSERT_OK_AND_ASSIGN(v1::CreateSeriesResponse made,
                       tenant_->client.CreateSeries(series));
  ASSERT_THAT(made.series().session_ids(), SizeIs(2));
  const std::string first = made.series().session_ids(0);
  const std::string second = made.series().session_ids(1);
  v1::StartSessionRequest start;
  start.set_session_id(first);
  ASSERT_OK(tenant_->client.StartSession(start).status());
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
  ASSERT_OK(Organizer().Answer(sid(), expected[1].id, "Да, в консульстве.").status());
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

// ---- The audit log -------------------------------------------------------

TEST_F(QuestionsTest, ModerationLogListsEveryActionInOrder) {
  const absl::Time start = absl::Now() - absl::Seconds(1);
  ASSERT_OK_AND_ASSIGN(Member p1, Join("Jurnal 1"));
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) {
    ASSERT_OK_AND_ASSIGN(v1::SubmitQuestionResponse s,
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
      EXPECT_EQ(a.actor_role(), w.actor == organizer ? "organizer" : "moderator");
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
    EXPECT_THAT(log[8].question_ids(), ::testing::IsSupersetOf({ids[0], ids[3]}));
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

// ---- WatchQueue in process -------------------------------------------------

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
    EXPECT_FALSE(absl::StrContains(m.SerializeAsString(),
                                   "Yashirin kutilayotgan savol"))
        << "a participant's watch carried another's pending question";
  }
  // A watch of a session the caller is not in is refused.
  ASSERT_OK_AND_ASSIGN(v1::Session elsewhere, NewQuestionsSession(tenant_->client));
  QueueWatcher wrong(channel(), other_.token, elsewhere.id());
  absl::StatusOr<grpc::Status> ended = wrong.Ended(absl::Seconds(5));
  ASSERT_OK(ended.status());
  EXPECT_EQ(ended->error_code(), grpc::StatusCode::PERMISSION_DENIED);
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
      EXPECT_NE(q.id(), b1) << m.change().kind() << " of item 2 in item 1's watch";
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
  for (const auto& q : first[0].snapshot().questions()) in_snapshot.push_back(q.id());
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

TEST_F(QuestionsTest, UnknownSessionAndOtherTenantAreNotFound) {
  const std::string a = Open(author_, "Boshqa tenant ko'rmasligi kerak");
  ASSERT_OK_AND_ASSIGN(Tenant other_tenant, NewTenant());
  QuestionsClient stranger(channel(), other_tenant.token);
  EXPECT_THAT(stranger.Get(sid(), a), HasCode(Code::kNotFound));
  absl::StatusOr<std::vector<v1::Question>> listed = stranger.ListAll(sid());
  if (listed.ok()) {
    EXPECT_THAT(*listed, IsEmpty());
  } else {
    EXPECT_THAT(listed, HasCode(Code::kNotFound));
  }
  EXPECT_THAT(stranger.Approve(sid(), a), HasCode(Code::kNotFound));
  EXPECT_THAT(stranger.Vote(sid(), a, author_.participant_id),
              HasCode(Code::kNotFound));
}

}  // namespace
}  // namespace townhall::testing
