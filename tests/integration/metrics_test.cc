// townhalld --metrics_listen: the text Prometheus scrapes moves with real
// calls (a vote, a failing call, a rate-limited vote, a stream, moderation,
// registrations), carries no session, tenant or participant id in any
// label, and passes `promtool check metrics`.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "tests/integration/questions/questions_client.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/townhalld_process.h"

namespace townhall::testing {
namespace {

using Labels = std::map<std::string, std::string>;

struct Sample {
  std::string name;
  Labels labels;
  double value = 0;
};

// GET /metrics over a plain socket (HTTP/1.0: the body ends at close).
absl::StatusOr<std::string> Scrape(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::InternalError("socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) !=
      0) {
    close(fd);
    return absl::UnavailableError(absl::StrCat("connect to ", port));
  }
  const std::string request =
      "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  if (write(fd, request.data(), request.size()) !=
      static_cast<ssize_t>(request.size())) {
    close(fd);
    return absl::UnavailableError("write");
  }
  std::string response;
  char buffer[65536];
  for (ssize_t n; (n = read(fd, buffer, sizeof(buffer))) > 0;) {
    response.append(buffer, n);
  }
  close(fd);
  if (!absl::StartsWith(response, "HTTP/1.1 200") &&
      !absl::StartsWith(response, "HTTP/1.0 200")) {
    return absl::InternalError(response.substr(0, 200));
  }
  size_t body = response.find("\r\n\r\n");
  if (body == std::string::npos) return absl::InternalError("no body");
  return response.substr(body + 4);
}

// The samples of the text format (no escaped quotes in our label values).
std::vector<Sample> Parse(const std::string& text) {
  std::vector<Sample> samples;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    if (absl::StartsWith(line, "#")) continue;
    Sample sample;
    size_t space = line.rfind(' ');
    absl::string_view series = line.substr(0, space);
    absl::string_view value = line.substr(space + 1);
    if (value == "+Inf") {
      sample.value = std::numeric_limits<double>::infinity();
    } else if (value == "Nan") {  // prometheus-cpp's empty summaries
      sample.value = std::numeric_limits<double>::quiet_NaN();
    } else {
      EXPECT_TRUE(absl::SimpleAtod(value, &sample.value)) << line;
    }
    size_t brace = series.find('{');
    sample.name = std::string(series.substr(0, brace));
    if (brace != absl::string_view::npos) {
      absl::string_view labels = series.substr(brace + 1);
      absl::ConsumeSuffix(&labels, "}");
      for (absl::string_view pair :
           absl::StrSplit(labels, "\",", absl::SkipEmpty())) {
        std::pair<std::string, std::string> kv =
            absl::StrSplit(pair, absl::MaxSplits("=\"", 1));
        absl::string_view v = kv.second;
        absl::ConsumeSuffix(&v, "\"");
        sample.labels[kv.first] = std::string(v);
      }
    }
    samples.push_back(std::move(sample));
  }
  return samples;
}

// True when `sample` is of `name` and its labels include `labels`.
bool Matches(const Sample& sample, const std::string& name,
             const Labels& labels) {
  if (sample.name != name) return false;
  for (const auto& [k, v] : labels) {
    auto it = sample.labels.find(k);
    if (it == sample.labels.end() || it->second != v) return false;
  }
  return true;
}

// The sum of the samples of `name` whose labels include `labels`.
double Sum(const std::vector<Sample>& samples, const std::string& name,
           const Labels& labels = {}) {
  double sum = 0;
  for (const Sample& s : samples) {
    if (Matches(s, name, labels)) sum += s.value;
  }
  return sum;
}

bool Has(const std::vector<Sample>& samples, const std::string& name,
         const Labels& labels = {}) {
  for (const Sample& s : samples) {
    if (Matches(s, name, labels)) return true;
  }
  return false;
}

// How much the samples of `name` with `labels` grew from `before` to `after`.
double Delta(const std::vector<Sample>& before,
             const std::vector<Sample>& after, const std::string& name,
             const Labels& labels = {}) {
  return Sum(after, name, labels) - Sum(before, name, labels);
}

constexpr char kQuestions[] = "townhall.v1.QuestionService";
const Labels kVote = {{"service", kQuestions}, {"method", "UpvoteQuestion"}};

class MetricsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    metrics_port_ = PickFreePort();
    fleet_ = new TownhalldFleet();
    ASSERT_OK(fleet_->Start(
        TOWNHALLD_PATH, 1, kQuestions, "",
        {absl::StrCat("--metrics_listen=127.0.0.1:", metrics_port_)}));
    absl::StatusOr<std::string> token =
        fleet_->CreateTenant(absl::StrCat("metrics-", NewId()));
    ASSERT_OK(token.status());
    organizer_token_ = new std::string(*token);
  }
  static void TearDownTestSuite() {
    delete fleet_;
    delete organizer_token_;
  }

  std::vector<Sample> ScrapeSamples() {
    absl::StatusOr<std::string> text = Scrape(metrics_port_);
    EXPECT_TRUE(text.ok()) << text.status();
    last_text_ = text.ok() ? *text : "";
    return Parse(last_text_);
  }

  TownhallClient Organizer() {
    return TownhallClient(
        {.address = fleet_->address(0), .token = *organizer_token_});
  }
  std::shared_ptr<grpc::Channel> Channel() {
    return grpc::CreateChannel(fleet_->address(0),
                               grpc::InsecureChannelCredentials());
  }

  static inline TownhalldFleet* fleet_ = nullptr;
  static inline std::string* organizer_token_ = nullptr;
  static inline int metrics_port_ = 0;
  std::string last_text_;
};

TEST_F(MetricsTest, CallsVotesStreamsAndModerationMoveTheirSeries) {
  TownhallClient organizer = Organizer();
  absl::StatusOr<v1::Session> session = NewQuestionsSession(organizer);
  ASSERT_OK(session.status());
  const std::string session_id = session->id();
  const std::vector<Sample> before = ScrapeSamples();

  absl::StatusOr<Member> member = NewMember(organizer, session_id, "Aziza");
  ASSERT_OK(member.status());
  QuestionsClient participant(Channel(), member->token);
  QuestionsClient moderator(Channel(), *organizer_token_);
  v1::SubmitQuestionRequest submit;
  submit.set_session_id(session_id);
  submit.set_participant_id(member->participant_id);
  submit.set_text("Konsullik xizmatlari qachon kengayadi?");
  submit.set_request_id(NewId());
  absl::StatusOr<v1::SubmitQuestionResponse> submitted =
      participant.SubmitQuestion(submit);
  ASSERT_OK(submitted.status());
  // A retry of the same request is the same question: counted once.
  ASSERT_OK(participant.SubmitQuestion(submit).status());
  const std::string question_id = submitted->question().id();
  ASSERT_OK(moderator.Approve(session_id, question_id).status());

  // A watcher, open while we look.
  QueueWatcher watcher(Channel(), member->token, session_id);
  ASSERT_EQ(watcher.WaitFor(1).size(), 1u);

  absl::StatusOr<v1::UpvoteQuestionResponse> vote =
      participant.Vote(session_id, question_id, member->participant_id);
  ASSERT_OK(vote.status());
  EXPECT_TRUE(vote->changed());
  // Failing: an unknown question.
  EXPECT_EQ(
      participant.Vote(session_id, "no-such-question", member->participant_id)
          .status()
          .code(),
      absl::StatusCode::kNotFound);
  watcher.WaitForChange("question.votes", question_id);

  std::vector<Sample> after = ScrapeSamples();
  EXPECT_EQ(Delta(before, after, "townhall_votes_total", {{"direction", "up"}}),
            1);
  EXPECT_EQ(Delta(before, after, "townhall_questions_submitted_total"), 1);
  EXPECT_EQ(Delta(before, after, "townhall_moderator_actions_total",
                  {{"action", "approve"}}),
            1);
  EXPECT_GE(Delta(before, after, "townhall_registrations_total",
                  {{"status", "CONFIRMED"}}),
            1);
  Labels vote_ok = kVote;
  vote_ok["code"] = "OK";
  Labels vote_not_found = kVote;
  vote_not_found["code"] = "NOT_FOUND";
  EXPECT_EQ(Delta(before, after, "townhall_rpc_calls_total", vote_ok), 1);
  EXPECT_EQ(Delta(before, after, "townhall_rpc_calls_total", vote_not_found),
            1);
  // Both votes are timed; the latency histogram has its buckets.
  EXPECT_EQ(Delta(before, after, "townhall_rpc_duration_seconds_count", kVote),
            2);
  Labels inf = kVote;
  inf["le"] = "+Inf";
  EXPECT_EQ(Sum(after, "townhall_rpc_duration_seconds_bucket", inf),
            Sum(after, "townhall_rpc_duration_seconds_count", kVote));
  EXPECT_EQ(
      Sum(after, "townhall_rpc_in_flight_calls", {{"service", kQuestions}}), 0);
  // vote.lua ran (batched) on a Redis node named by its address.
  EXPECT_GE(Delta(before, after, "townhall_redis_script_duration_seconds_count",
                  {{"script", "vote"}}),
            1);
  EXPECT_GE(
      Sum(after, "townhall_redis_batch_calls_count", {{"script", "vote"}}), 1);
  for (const Sample& s : after) {
    if (s.name == "townhall_redis_script_duration_seconds_count") {
      EXPECT_TRUE(absl::StrContains(s.labels.at("node"), ":"))
          << s.labels.at("node");
    }
  }
  // The open watcher: one participant stream, and its messages.
  EXPECT_EQ(Sum(after, "townhall_streams_open",
                {{"service", "questions"}, {"credential", "participant"}}),
            1);
  EXPECT_GE(Delta(before, after, "townhall_stream_messages_sent_total",
                  {{"service", "questions"}}),
            2);  // the snapshot and at least the vote
  EXPECT_TRUE(
      Has(after, "townhall_feed_hub_lag_seconds", {{"service", "questions"}}));
  EXPECT_LT(
      Sum(after, "townhall_feed_hub_lag_seconds", {{"service", "questions"}}),
      5);

  watcher.Cancel();
  // The stream's end is counted once the server has seen it.
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  double open = 1;
  while (absl::Now() < deadline) {
    open = Sum(ScrapeSamples(), "townhall_streams_open",
               {{"service", "questions"}});
    if (open == 0) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_EQ(open, 0);
  Labels watch = {{"service", kQuestions}, {"method", "WatchQueue"}};
  EXPECT_GE(Sum(ScrapeSamples(), "townhall_rpc_calls_total", watch), 1);

  // No id of this test's tenant, session, participant or question in any
  // label of any series.
  const std::set<std::string> ids = {session_id, member->participant_id,
                                     member->organization_id, question_id};
  for (const Sample& s : ScrapeSamples()) {
    for (const auto& [name, value] : s.labels) {
      for (const std::string& id : ids) {
        EXPECT_FALSE(absl::StrContains(value, id))
            << s.name << " label " << name << "=" << value;
      }
      EXPECT_FALSE(absl::StartsWith(value, "metrics-"))
          << s.name << " carries the tenant id in " << name;
    }
  }
}

TEST_F(MetricsTest, RateLimitRefusalsAreCounted) {
  TownhallClient organizer = Organizer();
  absl::StatusOr<v1::Session> session = NewQuestionsSession(organizer);
  ASSERT_OK(session.status());
  QuestionsClient moderator(Channel(), *organizer_token_);
  v1::GetQueueSettingsRequest get;
  get.set_session_id(session->id());
  absl::StatusOr<v1::GetQueueSettingsResponse> current =
      moderator.GetQueueSettings(get);
  ASSERT_OK(current.status());
  v1::QueueSettings settings = current->settings();
  settings.set_votes_per_minute(1);
  ASSERT_OK(moderator.SetSettings(session->id(), settings).status());
  absl::StatusOr<Member> member = NewMember(organizer, session->id(), "Bobur");
  ASSERT_OK(member.status());
  QuestionsClient participant(Channel(), member->token);
  std::vector<std::string> questions;
  for (int i = 0; i < 2; ++i) {
    v1::SubmitQuestionRequest submit;
    submit.set_session_id(session->id());
    submit.set_participant_id(member->participant_id);
    submit.set_text(absl::StrCat("Savol raqami ", i, ": vizalar haqida"));
    absl::StatusOr<v1::SubmitQuestionResponse> made =
        participant.SubmitQuestion(submit);
    ASSERT_OK(made.status());
    ASSERT_OK(moderator.Approve(session->id(), made->question().id()).status());
    questions.push_back(made->question().id());
  }
  const double before =
      Sum(ScrapeSamples(), "townhall_rate_limited_total", kVote);
  ASSERT_OK(
      participant.Vote(session->id(), questions[0], member->participant_id)
          .status());
  EXPECT_EQ(
      participant.Vote(session->id(), questions[1], member->participant_id)
          .status()
          .code(),
      absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(Sum(ScrapeSamples(), "townhall_rate_limited_total", kVote) - before,
            1);
}

TEST_F(MetricsTest, ProcessAndRedisSeriesExist) {
  std::vector<Sample> samples = ScrapeSamples();
  EXPECT_GT(Sum(samples, "process_resident_memory_bytes"), 1 << 20);
  EXPECT_GT(Sum(samples, "process_open_fds"), 3);
  EXPECT_GT(Sum(samples, "process_max_fds"), 0);
  EXPECT_GT(Sum(samples, "process_cpu_seconds_total"), 0);
  const double start = Sum(samples, "process_start_time_seconds");
  EXPECT_LE(start, absl::ToUnixSeconds(absl::Now()) + 1);
  EXPECT_GT(start, absl::ToUnixSeconds(absl::Now() - absl::Hours(1)));
  EXPECT_EQ(Sum(samples, "townhall_build_info"), 1);
  EXPECT_TRUE(Has(samples, "townhall_redis_pool_queue_length"));
  EXPECT_TRUE(Has(samples, "townhall_redis_pool_wait_seconds_count"));
  EXPECT_TRUE(Has(samples, "townhall_redis_event_loop_queue_depth"));
  EXPECT_TRUE(
      Has(samples, "townhall_redis_errors_total", {{"kind", "timeout"}}));
  EXPECT_EQ(Sum(samples, "townhall_streams_limit"), 20000);
  // Every method of every hosted service has its series from the start.
  EXPECT_TRUE(Has(samples, "townhall_rpc_calls_total",
                  {{"service", "townhall.v1.AgendaService"},
                   {"method", "RaiseHand"},
                   {"code", "OK"}}));
  const double staleness =
      Sum(samples, "townhall_revocation_list_staleness_seconds");
  EXPECT_GE(staleness, 0);
  EXPECT_LT(staleness, 5);
}

TEST_F(MetricsTest, PromtoolAcceptsTheText) {
  // Some traffic first, so that histograms and error series are present.
  TownhallClient organizer = Organizer();
  ASSERT_OK(NewQuestionsSession(organizer).status());
  ScrapeSamples();
  ASSERT_FALSE(last_text_.empty());
  if (system("command -v promtool >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "promtool is missing: deploy/install-deps.sh installs it "
                    "(Debian's prometheus package)";
  }
  std::filesystem::path file = std::filesystem::temp_directory_path() /
                               absl::StrCat("townhall-metrics-", getpid());
  std::ofstream(file) << last_text_;
  const std::string command =
      absl::StrCat("promtool check metrics < ", file.string(), " 2>&1");
  FILE* out = popen(command.c_str(), "r");
  ASSERT_NE(out, nullptr);
  std::string report;
  char buffer[4096];
  for (size_t n; (n = fread(buffer, 1, sizeof(buffer), out)) > 0;) {
    report.append(buffer, n);
  }
  const int status = pclose(out);
  std::filesystem::remove(file);
  EXPECT_EQ(status, 0) << report;
  EXPECT_EQ(report, "") << "promtool's lint findings";
}

}  // namespace
}  // namespace townhall::testing
