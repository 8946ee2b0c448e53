// townhallctl's tables, YAML and pages on canned answers: the columns per
// resource, -o wide, --columns, the terminal's width, unset fields.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "clients/cpp/console/console_text.h"
#include "clients/cpp/townhallctl/output.h"
#include "clients/cpp/townhallctl/paging.h"
#include "townhall/v1/polls.pb.h"
#include "townhall/v1/questions.pb.h"
#include "townhall/v1/registration.pb.h"
#include "townhall/v1/scheduling.pb.h"

namespace townhall::ctl {
namespace {

OutputOptions Tashkent() {
  OutputOptions options;
  EXPECT_TRUE(absl::LoadTimeZone("Asia/Tashkent", &options.cells.zone));
  options.cells.zone_name = "Asia/Tashkent";
  return options;
}

std::string Format(const google::protobuf::Message& message,
                   const OutputOptions& options) {
  absl::StatusOr<std::string> text = FormatAnswer(message, options);
  EXPECT_TRUE(text.ok()) << text.status();
  return text.value_or("");
}

v1::ListSessionsResponse TwoSessions() {
  v1::ListSessionsResponse response;
  v1::Session* a = response.add_sessions();
  a->set_id("s1");
  a->set_tenant_id("mfa-uz");
  a->set_title("Open Day at the Embassy in Berlin");
  a->set_description(std::string(300, 'd'));
  a->mutable_start_time()->set_seconds(1805533200);  // 2027-03-20 09:00 UTC
  a->mutable_duration()->set_seconds(21600);
  a->set_state(v1::SESSION_STATE_SCHEDULED);
  a->set_format(v1::SESSION_FORMAT_IN_PERSON);
  a->set_etag("e1");
  // A session outside a series carries its original start at the epoch.
  a->mutable_original_start_time();
  v1::Session* b = response.add_sessions();
  b->set_id("s2");
  b->set_title("Ochiq eshiklar kuni, oʻzbeklar");
  b->set_state(v1::SESSION_STATE_LIVE);
  response.set_next_page_token("p2");
  return response;
}

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

TEST(Table, SessionsShowChosenColumnsWithLocalAndUtcTimes) {
  EXPECT_EQ(Format(TwoSessions(), Tashkent()),
            "ID  TITLE                              START (Asia/Tashkent)  "
            "START (UTC)       DURATION  STATE      FORMAT\n"
            "s1  Open Day at the Embassy in Berlin  2027-03-20 14:00       "
            "2027-03-20 09:00  6h        SCHEDULED  IN_PERSON\n"
            "s2  Ochiq eshiklar kuni, oʻzbeklar                            "
            "                            LIVE\n"
            "next_page_token: p2\n");
  // A viewer in UTC gets one START column.
  const std::string utc = Format(TwoSessions(), OutputOptions());
  EXPECT_EQ(
      Lines(utc)[0],
      "ID  TITLE                              START (UTC)       DURATION  "
      "STATE      FORMAT");
  EXPECT_EQ(Format(v1::ListSessionsResponse(), Tashkent()), "(no sessions)\n");
}

TEST(Table, WideAddsEveryFieldSetAndNoEpoch) {
  OutputOptions options = Tashkent();
  options.format = OutputFormat::kWide;
  const std::string text = Format(TwoSessions(), options);
  const std::string header = Lines(text)[0];
  for (const char* column :
       {"ID", "START (UTC)", "TENANT_ID", "DESCRIPTION", "ETAG"}) {
    EXPECT_NE(header.find(column), std::string::npos) << column;
  }
  // The epoch original start is unset: no column, no 1970.
  EXPECT_EQ(header.find("ORIGINAL_START_TIME"), std::string::npos);
  EXPECT_EQ(text.find("1970"), std::string::npos);
  // Not even in --columns, nor in field lines.
  options.format = OutputFormat::kTable;
  options.columns = {"id", "original_start_time"};
  EXPECT_EQ(Format(TwoSessions(), options),
            "ID  ORIGINAL_START_TIME\ns1\ns2\nnext_page_token: p2\n");
  v1::GetSessionResponse one;
  one.mutable_session()->set_id("s1");
  one.mutable_session()->mutable_original_start_time();
  EXPECT_EQ(Format(one, Tashkent()), "session.id: s1\n");
}

TEST(Table, ColumnsPickFieldsByNameAndRefuseUnknownOnes) {
  OutputOptions options = Tashkent();
  options.columns = {"title", "id", "duration"};
  EXPECT_EQ(Format(TwoSessions(), options),
            "TITLE                              ID  DURATION\n"
            "Open Day at the Embassy in Berlin  s1  6h\n"
            "Ochiq eshiklar kuni, oʻzbeklar     s2\n"
            "next_page_token: p2\n");
  absl::Status bad =
      CheckColumns(*v1::ListSessionsResponse::descriptor(), {"id", "titel"});
  EXPECT_TRUE(absl::IsInvalidArgument(bad));
  EXPECT_NE(bad.message().find("Session has no column \"titel\"; there are "
                               "id, tenant_id, title,"),
            std::string::npos)
      << bad;
  EXPECT_TRUE(
      CheckColumns(*v1::ListSessionsResponse::descriptor(), {"title"}).ok());
  // Nested fields are dotted.
  EXPECT_TRUE(CheckColumns(*v1::SubmitQuestionResponse::descriptor(), {"x"})
                  .message()
                  .find("is none") != absl::string_view::npos);
  EXPECT_TRUE(absl::IsInvalidArgument(
      CheckColumns(*v1::GetSessionResponse::descriptor(), {"id"})));
}

TEST(Table, FitsTheTerminalByShorteningTextNotIds) {
  v1::ListSessionsResponse response = TwoSessions();
  response.mutable_sessions(0)->set_id("0b2c6a1e-5d7f-4c1e-9a3b-8f6e2d1c0b9a");
  OutputOptions options = Tashkent();
  options.format = OutputFormat::kWide;
  options.width = 0;  // a pipe: whole rows
  const std::string whole = Format(response, options);
  EXPECT_NE(whole.find(std::string(300, 'd')), std::string::npos);
  options.width = 100;  // COLUMNS=100
  const std::vector<std::string> narrow = Lines(Format(response, options));
  for (const std::string& line : narrow) {
    if (line.rfind("next_page_token", 0) == 0) continue;
    // Ids, times and enums keep their width; the text columns give way.
    EXPECT_LE(console::DisplayWidth(line), 160) << line;
  }
  EXPECT_NE(narrow[1].find("0b2c6a1e-5d7f-4c1e-9a3b-8f6e2d1c0b9a"),
            std::string::npos);
  EXPECT_NE(narrow[1].find("…"), std::string::npos);
  EXPECT_EQ(narrow[1].find(std::string(300, 'd')), std::string::npos);
  // Default columns at 60: the title shrinks to fit, the rest stays.
  options = OutputOptions();
  options.width = 70;
  const std::vector<std::string> fitted = Lines(Format(TwoSessions(), options));
  EXPECT_EQ(fitted[1],
            "s1  Open Day at the…  2027-03-20 09:00  6h        "
            "SCHEDULED  IN_PERSON");
  for (const std::string& line : fitted) {
    EXPECT_LE(console::DisplayWidth(line), 70) << line;
  }
  // A wide terminal changes nothing.
  options.width = 300;
  EXPECT_EQ(Format(TwoSessions(), options), Format(TwoSessions(), [&] {
              OutputOptions o = options;
              o.width = 0;
              return o;
            }()));
}

TEST(Table, ImportErrorsAreNeverCut) {
  v1::ImportDirectoryResponse response;
  response.set_participants_created(2);
  v1::ImportError* error = response.add_errors();
  error->set_file("participants");
  error->set_line(3);
  const std::string reason =
      "column \"organization\": \"Oʻzbek madaniyat markazi\" matches "
      "organizations in several countries (DE, RU); name the country";
  error->set_reason(reason);
  OutputOptions options;
  options.width = 40;
  EXPECT_EQ(Format(response, options),
            "FILE          LINE  REASON\nparticipants  3     " + reason +
                "\nparticipants_created: 2\n");
}

TEST(Table, ParticipantsShowTheirOrganizationByName) {
  v1::ListParticipantsResponse response;
  v1::Participant* a = response.add_participants();
  a->set_id("p1");
  a->set_display_name("Aziz Karimov");
  a->set_organization_id("o1");
  v1::Participant* b = response.add_participants();
  b->set_id("p2");
  b->set_display_name("Dilnoza");
  b->set_organization_id("o2");
  OutputOptions options;
  EXPECT_EQ(OrganizationIdsToName(response, options),
            (std::vector<std::string>{"o1", "o2"}));
  options.cells.organization_names = {{"o1", "Vatandoshlar"}};
  EXPECT_EQ(Format(response, options),
            "ID  NAME          ORGANIZATION\n"
            "p1  Aziz Karimov  Vatandoshlar\n"
            "p2  Dilnoza       o2\n");
  // -o wide has the id beside the name; JSON needs no names.
  options.format = OutputFormat::kWide;
  EXPECT_NE(Lines(Format(response, options))[0].find("ORGANIZATION_ID"),
            std::string::npos);
  options.format = OutputFormat::kJson;
  EXPECT_TRUE(OrganizationIdsToName(response, options).empty());
}

TEST(Table, ColumnsNoRowFillsAreLeftOut) {
  v1::SuggestDuplicatesResponse similar;
  similar.add_similar_questions()->set_question_id("q1");
  similar.mutable_similar_questions(0)->set_similarity(0.5);
  EXPECT_EQ(Format(similar, OutputOptions()), "ID  SIMILARITY\nq1  0.5\n");
  v1::ListOrganizationsResponse organizations;
  organizations.add_organizations()->set_id("o1");
  EXPECT_EQ(Format(organizations, OutputOptions()), "ID\no1\n");
}

TEST(Table, PollsShowQuestionKindStateAndBallots) {
  v1::ListPollsResponse response;
  v1::Poll* cloud = response.add_polls();
  cloud->set_id("p1");
  cloud->set_session_id("s1");
  cloud->set_question("Bir soʻz bilan: nimadan boshlaymiz?");
  cloud->set_kind(v1::POLL_KIND_WORD_CLOUD);
  cloud->set_state(v1::POLL_STATE_OPEN);
  cloud->set_ballot_count(12);
  v1::Poll* motion = response.add_polls();
  motion->set_id("p2");
  motion->set_session_id("s1");
  motion->set_question("Adopt the agreement?");
  motion->set_kind(v1::POLL_KIND_MOTION);
  motion->set_state(v1::POLL_STATE_DRAFT);
  motion->add_options()->set_id("yes");
  EXPECT_EQ(Format(response, OutputOptions()),
            "ID  QUESTION                             KIND        STATE  "
            "BALLOTS\n"
            "p1  Bir soʻz bilan: nimadan boshlaymiz?  WORD_CLOUD  OPEN   12\n"
            "p2  Adopt the agreement?                 MOTION      DRAFT\n");
  // The question gives way on a narrow terminal, the id does not.
  OutputOptions narrow;
  narrow.width = 40;
  EXPECT_EQ(Lines(Format(response, narrow))[1],
            "p1  Bir soʻz …  WORD_CLOUD  OPEN   12");
}

TEST(Output, OthersAreFieldLinesAndJson) {
  v1::GetSessionResponse response;
  response.mutable_session()->set_id("s1");
  response.mutable_session()->mutable_duration()->set_seconds(3600);
  EXPECT_EQ(Format(response, OutputOptions()),
            "session.id: s1\nsession.duration: 1h\n");
  EXPECT_EQ(FormatJson(response, false),
            R"({"session":{"id":"s1","duration":"3600s"}})");
}

TEST(Output, AListBesideAnObjectIsNoTable) {
  v1::SubmitQuestionResponse response;
  response.mutable_question()->set_id("q1");
  response.add_similar_questions()->set_question_id("q0");
  EXPECT_EQ(Format(response, OutputOptions()),
            "question.id: q1\nsimilar_questions[0].question_id: q0\n");
}

TEST(Output, YamlQuotesWhatYamlWouldMisread) {
  v1::ListSessionsResponse response = TwoSessions();
  response.mutable_sessions(0)->clear_description();
  response.mutable_sessions(0)->add_languages("uz");
  response.mutable_sessions(0)->add_languages("no");  // Norwegian, not false
  response.mutable_sessions(1)->set_title("Q&A: 12:30 #1");
  response.mutable_sessions(1)->set_description("line 1\nline 2");
  OutputOptions options;
  options.format = OutputFormat::kYaml;
  EXPECT_EQ(Format(response, options),
            "sessions:\n"
            "  - id: s1\n"
            "    tenant_id: mfa-uz\n"
            "    title: Open Day at the Embassy in Berlin\n"
            "    start_time: \"2027-03-20T09:00:00Z\"\n"
            "    duration: \"21600s\"\n"
            "    format: SESSION_FORMAT_IN_PERSON\n"
            "    languages:\n"
            "      - uz\n"
            "      - \"no\"\n"
            "    state: SESSION_STATE_SCHEDULED\n"
            "    original_start_time: \"1970-01-01T00:00:00Z\"\n"
            "    etag: e1\n"
            "  - id: s2\n"
            "    title: \"Q&A: 12:30 #1\"\n"
            "    description: \"line 1\\nline 2\"\n"
            "    state: SESSION_STATE_LIVE\n"
            "next_page_token: p2\n");
  EXPECT_EQ(FormatYaml(v1::GetSessionResponse()), "{}\n");
  v1::ListRegistrationsResponse counts;
  counts.set_capacity(80);
  counts.add_registrations();
  EXPECT_EQ(FormatYaml(counts), "registrations:\n  - {}\ncapacity: 80\n");
}

// ---- pages ----------------------------------------------------------------

// A server with `total` sessions s0, s1, ... in pages of page_size (3 when
// unset); records the requests.
struct FakePages {
  int total = 7;
  std::vector<v1::ListSessionsRequest> requests;
  bool loop = false;

  absl::Status operator()(const google::protobuf::Message& request,
                          google::protobuf::Message* page) {
    v1::ListSessionsRequest r;
    r.CopyFrom(request);
    requests.push_back(r);
    int start = r.page_token().empty() ? 0 : std::stoi(r.page_token());
    const int size = r.page_size() > 0 ? r.page_size() : 3;
    v1::ListSessionsResponse out;
    for (int i = start; i < std::min(total, start + size); ++i) {
      out.add_sessions()->set_id(absl::StrCat("s", i));
    }
    if (start + size < total) {
      out.set_next_page_token(loop ? "0" : absl::StrCat(start + size));
    }
    page->CopyFrom(out);
    return absl::OkStatus();
  }
};

std::vector<std::string> Ids(const v1::ListSessionsResponse& response) {
  std::vector<std::string> ids;
  for (const v1::Session& s : response.sessions()) ids.push_back(s.id());
  return ids;
}

TEST(Paging, AllFollowsEveryPage) {
  FakePages server;
  v1::ListSessionsResponse answer;
  ASSERT_TRUE(FetchPages(v1::ListSessionsRequest(), std::ref(server),
                         {.all = true}, &answer)
                  .ok());
  EXPECT_EQ(answer.sessions_size(), 7);
  EXPECT_EQ(answer.next_page_token(), "");
  EXPECT_EQ(server.requests.size(), 3u);
  EXPECT_EQ(server.requests[2].page_token(), "6");
}

TEST(Paging, LimitAsksForNoMoreThanItWants) {
  FakePages server;
  v1::ListSessionsRequest request;
  request.set_page_size(2);
  v1::ListSessionsResponse answer;
  ASSERT_TRUE(
      FetchPages(request, std::ref(server), {.limit = 5}, &answer).ok());
  EXPECT_EQ(Ids(answer),
            (std::vector<std::string>{"s0", "s1", "s2", "s3", "s4"}));
  ASSERT_EQ(server.requests.size(), 3u);
  EXPECT_EQ(server.requests[2].page_size(), 1);
  // Where the next rows start, for a later call.
  EXPECT_EQ(answer.next_page_token(), "5");
  // Without a page_size, pages are as large as the rows still wanted.
  FakePages big;
  ASSERT_TRUE(FetchPages(v1::ListSessionsRequest(), std::ref(big),
                         {.all = true, .limit = 4}, &answer)
                  .ok());
  EXPECT_EQ(answer.sessions_size(), 4);
  ASSERT_EQ(big.requests.size(), 1u);
  EXPECT_EQ(big.requests[0].page_size(), 4);
}

TEST(Paging, ErrorsAndLoopsStop) {
  FakePages loop{.loop = true};
  v1::ListSessionsResponse answer;
  absl::Status status = FetchPages(v1::ListSessionsRequest(), std::ref(loop),
                                   {.all = true}, &answer);
  EXPECT_TRUE(absl::IsInternal(status)) << status;
  EXPECT_NE(status.message().find("twice"), std::string::npos);
  int calls = 0;
  status = FetchPages(
      v1::ListSessionsRequest(),
      [&](const google::protobuf::Message&, google::protobuf::Message*) {
        ++calls;
        return absl::UnavailableError("down");
      },
      {.all = true}, &answer);
  EXPECT_TRUE(absl::IsUnavailable(status));
  EXPECT_EQ(calls, 1);
}

TEST(Paging, OnlyListsWithTokensPage) {
  const auto* scheduling = v1::ListSessionsRequest::descriptor()->file();
  EXPECT_TRUE(IsPaged(*scheduling->FindServiceByName("SchedulingService")
                           ->FindMethodByName("ListSessions")));
  EXPECT_FALSE(IsPaged(*scheduling->FindServiceByName("SchedulingService")
                            ->FindMethodByName("GetSession")));
  const auto* registration = v1::ImportDirectoryRequest::descriptor()->file();
  EXPECT_FALSE(IsPaged(*registration->FindServiceByName("RegistrationService")
                            ->FindMethodByName("ImportDirectory")));
}

}  // namespace
}  // namespace townhall::ctl
