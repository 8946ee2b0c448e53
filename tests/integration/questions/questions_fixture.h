// The fixture of the QuestionService integration tests
// (tests/integration/questions/questions_<aggregate>_test.cc): a tenant of
// its own on the shared in-process server, a live session with an author,
// another participant and a moderator registered through
// RegistrationService with real join tokens, and the helpers the tests
// share (JSON and CSV readers, the CSV formula rule). Include it in exactly
// one .cc of a test binary (it includes shared_server.h); binaries with
// servers of their own use questions_client.h.
//
//   TEST_F(QuestionsTest, Something) {
//     const std::string id = Open(author_, "Savol matni");  // approved
//     ASSERT_OK(As(other_).Vote(sid(), id, other_.participant_id).status());
//   }
#pragma once

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "tests/integration/questions/questions_client.h"
#include "tests/testing/shared_server.h"
#include "tests/testing/status_matchers.h"

namespace townhall::testing {

using Code = absl::StatusCode;
using View = v1::ListQuestionsRequest;

// The server's receive limit (--max_receive_bytes, server.cc): 256 KiB.
inline constexpr size_t kOneMegabyte = 1024 * 1024;

inline std::vector<std::string> IdsOf(
    const std::vector<v1::Question>& questions) {
  std::vector<std::string> ids;
  for (const v1::Question& q : questions) ids.push_back(q.id());
  return ids;
}

// `n` copies of the UTF-8 string `unit`.
inline std::string Repeat(const std::string& unit, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += unit;
  return out;
}

// Every string value in a JSON document (parsed as google.protobuf.Value).
inline void CollectStrings(const google::protobuf::Value& value,
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

inline absl::StatusOr<std::vector<std::string>> JsonStrings(
    const std::string& json) {
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
inline absl::StatusOr<std::vector<std::vector<std::string>>> ParseCsv(
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

inline std::set<std::string> CsvFields(
    const std::vector<std::vector<std::string>>& rows) {
  std::set<std::string> out;
  for (const auto& row : rows) out.insert(row.begin(), row.end());
  return out;
}

// What a CSV cell holding `value` must read: OWASP's formula starts (= + - @,
// tab, CR) get a leading apostrophe, so a spreadsheet shows text instead of
// running a formula. '-' is defused before a digit too (docs/api.md).
inline std::string Defused(const std::string& value) {
  if (!value.empty() &&
      absl::string_view("=+-@\t\r").find(value[0]) != absl::string_view::npos) {
    return "'" + value;
  }
  return value;
}

// Every cell of `rows` that a spreadsheet would run as a formula.
inline std::vector<std::string> FormulaCells(
    const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::string> out;
  for (const auto& row : rows) {
    for (const std::string& cell : row) {
      if (Defused(cell) != cell) out.push_back(cell);
    }
  }
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

  // The counts of a fresh WatchQueue snapshot for `token` (the session's
  // by default) as text ("pending: 1 rejected: 2"; statuses at 0 left
  // out), "none" when the snapshot has none.
  std::string SnapshotCounts(const std::string& token,
                             const std::string& session_id = "") {
    absl::StatusOr<v1::QueueSnapshot> snapshot = QueueSnapshotOf(
        channel(), token, session_id.empty() ? sid() : session_id);
    EXPECT_TRUE(snapshot.ok()) << snapshot.status();
    if (!snapshot.ok() || !snapshot->has_counts()) return "none";
    return snapshot->counts().ShortDebugString();
  }

  std::optional<Tenant> tenant_;
  v1::Session session_;
  std::unique_ptr<QuestionsClient> organizer_;
  Member author_;
  Member other_;
  Member moderator_;
};

}  // namespace townhall::testing
