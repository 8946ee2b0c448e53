// rpc-cost: what one call of each busy RPC costs (driven by
// bench/rpc_cost.sh; results in docs/benchmarks.md, "Cost of one call").
//
// 1. Setup on --server: a tenant, an organizer token, participants, a LIVE
//    session (capacity 100000, pre-moderated questions, rate limits at their
//    maximum) with an ACTIVE agenda item.
// 2. For each RPC, --calls calls one after the other (the hot paths in
//    their steady state: distinct participants, so every call is a real
//    write), the members' hot paths once more with their own join tokens
//    ("(participant)"), with a snapshot of --stats_port (bench/redis_count_proxy.py:
//    Redis commands and round trips) and of the server's access log
//    (--access_log_file: calls to SchedulingService) before and after.
//    One JSON line per RPC.
// 3. With --throughput_server: for each of ping, RaiseHand, SubmitQuestion,
//    UpvoteQuestion, Register, ping, --threads synchronous callers for
//    --duration each; one JSON line per run with calls per second.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "clients/cpp/townhall_client.h"

ABSL_FLAG(std::string, server, "127.0.0.1:50051",
          "townhalld whose Redis traffic is counted.");
ABSL_FLAG(std::string, throughput_server, "",
          "townhalld for the throughput runs (empty: none).");
ABSL_FLAG(std::string, bootstrap_credential_file, "", "Operator credential.");
ABSL_FLAG(int, calls, 200, "Calls per RPC in the cost runs.");
ABSL_FLAG(int, stats_port, 0, "Control port of redis_count_proxy.py.");
ABSL_FLAG(std::string, access_log_file, "", "--server's log (access log on).");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(5), "Each throughput run.");
ABSL_FLAG(int, threads, 16, "Synchronous callers in the throughput runs.");

namespace townhall {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void Die(absl::string_view what, const absl::Status& status) {
  std::cerr << "rpc-cost: " << what << ": " << status << "\n";
  std::exit(1);
}

template <typename T>
T Must(absl::string_view what, absl::StatusOr<T> value) {
  if (!value.ok()) Die(what, value.status());
  return *std::move(value);
}

// One JSON line from the proxy's control port.
std::string ProxyStats() {
  int port = absl::GetFlag(FLAGS_stats_port);
  if (port == 0) return "null";
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    Die("stats", absl::UnavailableError("cannot reach the proxy"));
  }
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) out.append(buf, n);
  close(fd);
  return std::string(absl::StripAsciiWhitespace(out));
}

// Access-log lines of SchedulingService calls so far.
int64_t SchedulingCalls() {
  const std::string path = absl::GetFlag(FLAGS_access_log_file);
  if (path.empty()) return 0;
  std::ifstream in(path);
  std::string line;
  int64_t n = 0;
  while (std::getline(in, line)) {
    if (absl::StrContains(line, "SchedulingService/")) ++n;
  }
  return n;
}

struct Fixture {
  std::string tenant;
  std::string token;
  std::string session_id;
  std::string item_id;
  std::vector<std::string> participants;  // in the directory
};

ClientOptions Options(const std::string& server, const std::string& token) {
  ClientOptions options;
  options.address = server;
  options.token = token;
  options.retry.max_attempts = 1;
  return options;
}

std::string Nonce() {
  return absl::StrCat(absl::ToUnixMicros(absl::Now()) % 100000000);
}

Fixture Setup(const std::string& server, int participants) {
  std::string credential(absl::StripAsciiWhitespace(
      ReadFile(absl::GetFlag(FLAGS_bootstrap_credential_file))));
  TownhallClient op(Options(server, credential));
  for (int i = 0; i < 100; ++i) {
    if (op.Ping(v1::PingRequest()).ok()) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  Fixture f;
  f.tenant = absl::StrCat("cost-", Nonce());
  v1::CreateTenantRequest create;
  create.mutable_tenant()->set_id(f.tenant);
  create.mutable_tenant()->set_display_name("RPC cost tenant");
  Must("create tenant", op.CreateTenant(create));
  v1::IssueTokenRequest issue;
  issue.set_tenant_id(f.tenant);
  issue.set_subject("cost@example.org");
  issue.set_role("organizer");
  issue.mutable_ttl()->set_seconds(24 * 3600);
  f.token = Must("issue token", op.IssueToken(issue)).token();
  TownhallClient client(Options(server, f.token));

  v1::CreateSessionRequest session;
  v1::Session& s = *session.mutable_session();
  s.set_title("RPC cost");
  s.mutable_start_time()->set_seconds(absl::ToUnixSeconds(absl::Now()) + 60);
  s.mutable_duration()->set_seconds(4 * 3600);
  s.set_time_zone("Europe/Berlin");
  s.set_format(v1::SESSION_FORMAT_ONLINE);
  s.set_join_url("https://meet.example.org/cost");
  s.set_capacity(100000);
  s.add_languages("en");
  session.set_publish(true);
  f.session_id =
      Must("create session", client.CreateSession(session)).session().id();
  v1::StartSessionRequest start;
  start.set_session_id(f.session_id);
  Must("start session", client.StartSession(start));

  v1::UpdateQueueSettingsRequest settings;
  settings.set_session_id(f.session_id);
  settings.mutable_settings()->set_moderation_mode(v1::MODERATION_MODE_PRE);
  settings.mutable_settings()->set_votes_per_minute(10000);
  settings.mutable_settings()->set_submissions_per_minute(1000);
  Must("queue settings", client.UpdateQueueSettings(settings));

  v1::CreateAgendaItemRequest item;
  item.set_session_id(f.session_id);
  item.mutable_item()->set_title("Open floor");
  item.mutable_item()->mutable_planned_duration()->set_seconds(3600);
  f.item_id = Must("agenda item", client.CreateAgendaItem(item)).item().id();
  v1::ActivateAgendaItemRequest activate;
  activate.set_session_id(f.session_id);
  activate.set_agenda_item_id(f.item_id);
  Must("activate item", client.ActivateAgendaItem(activate));

  for (int i = 0; i < participants; ++i) {
    v1::CreateParticipantRequest p;
    p.mutable_participant()->set_display_name(absl::StrCat("Member ", i));
    p.mutable_participant()->set_email(
        absl::StrCat("m", i, "@", f.tenant, ".example.org"));
    f.participants.push_back(
        Must("participant", client.CreateParticipant(p)).participant().id());
  }
  return f;
}

// --------------------------------------------------------------- cost runs

void CostRun(const std::string& rpc, int calls,
             const std::function<absl::Status(int)>& call,
             int64_t own_scheduling_calls_per_call = 0) {
  std::string before = ProxyStats();
  int64_t scheduling_before = SchedulingCalls();
  absl::Time start = absl::Now();
  int errors = 0;
  std::string first_error;
  for (int i = 0; i < calls; ++i) {
    absl::Status status = call(i);
    if (!status.ok()) {
      if (errors++ == 0) first_error = status.ToString();
    }
  }
  double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  // The access log line is written as the call finishes: let it land.
  absl::SleepFor(absl::Milliseconds(200));
  int64_t cross = SchedulingCalls() - scheduling_before -
                  own_scheduling_calls_per_call * calls;
  std::string after = ProxyStats();
  if (errors > 0)
    std::cerr << rpc << ": " << errors << " errors, first: " << first_error
              << "\n";
  std::cout << absl::StrFormat(
                   R"({"kind":"cost","rpc":"%s","calls":%d,"errors":%d,)"
                   R"("seconds":%.3f,"cross_service":%d,"before":%s,)"
                   R"("after":%s})",
                   rpc, calls, errors, seconds, cross, before, after)
            << std::endl;
}

void CostRuns(const Fixture& f, const std::string& server) {
  const int n = absl::GetFlag(FLAGS_calls);
  TownhallClient client(Options(server, f.token));
  std::vector<std::string> questions;

  CostRun(
      "GetSession", n,
      [&](int) {
        v1::GetSessionRequest r;
        r.set_session_id(f.session_id);
        return client.GetSession(r).status();
      },
      1);
  CostRun("Register", n, [&](int i) {
    v1::RegisterRequest r;
    r.set_session_id(f.session_id);
    r.set_participant_id(f.participants[i]);
    return client.Register(r).status();
  });
  CostRun("RecordAttendance", n, [&](int i) {
    v1::RecordAttendanceRequest r;
    r.set_session_id(f.session_id);
    r.set_participant_id(f.participants[i]);
    r.set_action(v1::ATTENDANCE_ACTION_JOIN);
    return client.RecordAttendance(r).status();
  });
  CostRun("RaiseHand", n, [&](int i) {
    v1::RaiseHandRequest r;
    r.set_session_id(f.session_id);
    r.set_agenda_item_id(f.item_id);
    r.set_participant_id(f.participants[i]);
    return client.RaiseHand(r).status();
  });
  CostRun("CallNextSpeaker", n, [&](int) {
    v1::CallNextSpeakerRequest r;
    r.set_session_id(f.session_id);
    r.set_agenda_item_id(f.item_id);
    return client.CallNextSpeaker(r).status();
  });
  CostRun("SubmitQuestion", n, [&](int i) {
    v1::SubmitQuestionRequest r;
    r.set_session_id(f.session_id);
    r.set_participant_id(f.participants[i]);
    r.set_language("en");
    r.set_text(absl::StrCat("Question ", i, " on consular office ",
                            i * 7919 % 100003, " opening hours?"));
    auto done = client.SubmitQuestion(r);
    if (done.ok()) questions.push_back(done->question().id());
    return done.status();
  });
  CostRun("ApproveQuestion", static_cast<int>(questions.size()), [&](int i) {
    v1::ApproveQuestionRequest r;
    r.set_session_id(f.session_id);
    r.set_question_id(questions[i]);
    return client.ApproveQuestion(r).status();
  });
  CostRun("Vote", n, [&](int i) {
    v1::UpvoteQuestionRequest r;
    r.set_session_id(f.session_id);
    r.set_question_id(questions[(i + 1) % questions.size()]);
    r.set_participant_id(f.participants[i]);
    return client.UpvoteQuestion(r).status();
  });
  CostRun("ListQuestions", n, [&](int) {
    v1::ListQuestionsRequest r;
    r.set_session_id(f.session_id);
    r.set_order(v1::ListQuestionsRequest::ORDER_TOP);
    r.set_page_size(20);
    return client.ListQuestions(r).status();
  });
  // The same hot paths as the session's members call them: each with its
  // own join token (registered outside the measurement), so the
  // participant's steady state is what is counted.
  std::vector<std::string> member_tokens;
  for (int i = 0; i < n; ++i) {
    const std::string& participant = f.participants[n + i];
    v1::RegisterRequest r;
    r.set_session_id(f.session_id);
    r.set_participant_id(participant);
    Must("register member", client.Register(r));
    v1::IssueJoinTokenRequest issue;
    issue.set_session_id(f.session_id);
    issue.set_participant_id(participant);
    member_tokens.push_back(
        Must("join token", client.IssueJoinToken(issue)).token());
  }
  auto as_member = [&](int i) {
    CallOptions call;
    call.token = member_tokens[i];
    return call;
  };
  CostRun("RecordAttendance (participant)", n, [&](int i) {
    v1::RecordAttendanceRequest r;
    r.set_session_id(f.session_id);
    r.set_participant_id(f.participants[n + i]);
    r.set_action(v1::ATTENDANCE_ACTION_JOIN);
    return client.RecordAttendance(r, as_member(i)).status();
  });
  CostRun("RaiseHand (participant)", n, [&](int i) {
    v1::RaiseHandRequest r;
    r.set_session_id(f.session_id);
    r.set_agenda_item_id(f.item_id);
    r.set_participant_id(f.participants[n + i]);
    return client.RaiseHand(r, as_member(i)).status();
  });
  CostRun("SubmitQuestion (participant)", n, [&](int i) {
    v1::SubmitQuestionRequest r;
    r.set_session_id(f.session_id);
    r.set_participant_id(f.participants[n + i]);
    r.set_language("en");
    r.set_text(absl::StrCat("Member question ", i, " on library branch ",
                            i * 7907 % 100019, " closing times?"));
    return client.SubmitQuestion(r, as_member(i)).status();
  });
  CostRun("Vote (participant)", n, [&](int i) {
    v1::UpvoteQuestionRequest r;
    r.set_session_id(f.session_id);
    r.set_question_id(questions[(i + 2) % questions.size()]);
    r.set_participant_id(f.participants[n + i]);
    return client.UpvoteQuestion(r, as_member(i)).status();
  });
  auto stub = v1::QuestionService::NewStub(client.channel());
  CostRun("WatchQueue snapshot", n, [&](int) {
    grpc::ClientContext context;
    client.PrepareContext(CallOptions(), &context);
    v1::WatchQueueRequest r;
    r.set_session_id(f.session_id);
    auto reader = stub->WatchQueue(&context, r);
    v1::WatchQueueResponse first;
    bool got = reader->Read(&first);
    context.TryCancel();
    grpc::Status status = reader->Finish();
    if (!got) {
      return absl::UnavailableError(
          absl::StrCat("no snapshot: ", status.error_message()));
    }
    return absl::OkStatus();
  });
}

// -------------------------------------------------------- throughput runs

void ThroughputRun(
    const std::string& rpc, TownhallClient& client,
    const std::function<absl::Status(TownhallClient&, int64_t)>& call) {
  const int threads = absl::GetFlag(FLAGS_threads);
  const absl::Duration duration = absl::GetFlag(FLAGS_duration);
  std::atomic<int64_t> next{0}, ok{0}, failed{0};
  std::atomic<bool> stop{false};
  std::string first_error;
  std::atomic<bool> have_error{false};
  std::vector<std::thread> workers;
  absl::Time start = absl::Now();
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      while (!stop.load()) {
        absl::Status status = call(client, next.fetch_add(1));
        if (status.ok()) {
          ok.fetch_add(1);
        } else {
          failed.fetch_add(1);
          if (!have_error.exchange(true)) first_error = status.ToString();
        }
      }
    });
  }
  absl::SleepFor(duration);
  stop = true;
  for (auto& w : workers) w.join();
  double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  if (failed > 0)
    std::cerr << rpc << ": " << failed << " errors, first: " << first_error
              << "\n";
  std::cout << absl::StrFormat(
                   R"({"kind":"throughput","rpc":"%s","ok":%d,"errors":%d,)"
                   R"("per_second":%.1f})",
                   rpc, ok.load(), failed.load(), ok / seconds)
            << std::endl;
}

void ThroughputRuns(const std::string& server) {
  // A fresh tenant and session: the cost runs' data does not weigh in.
  const int participants = 4000;
  Fixture f = Setup(server, participants);
  TownhallClient client(Options(server, f.token));
  // Approved questions to vote on (submitted by the organizer for authors).
  std::vector<std::string> questions;
  for (int i = 0; i < 100; ++i) {
    v1::SubmitQuestionRequest r;
    r.set_session_id(f.session_id);
    r.set_participant_id(absl::StrCat("author-", i));
    r.set_language("en");
    r.set_text(absl::StrCat("Seed question ", i, " about office ", i * 31));
    std::string id = Must("seed", client.SubmitQuestion(r)).question().id();
    v1::ApproveQuestionRequest a;
    a.set_session_id(f.session_id);
    a.set_question_id(id);
    Must("approve", client.ApproveQuestion(a));
    questions.push_back(id);
  }
  auto ping = [](TownhallClient& c, int64_t) {
    return c.Ping(v1::PingRequest()).status();
  };
  ThroughputRun("Ping", client, ping);
  ThroughputRun("RaiseHand", client, [&](TownhallClient& c, int64_t k) {
    // Hands of one participant are raised once: repeats answer at once.
    v1::RaiseHandRequest r;
    r.set_session_id(f.session_id);
    r.set_agenda_item_id(f.item_id);
    r.set_participant_id(absl::StrCat("hand-", k % 64));
    return c.RaiseHand(r).status();
  });
  ThroughputRun("SubmitQuestion", client, [&](TownhallClient& c, int64_t k) {
    v1::SubmitQuestionRequest r;
    r.set_session_id(f.session_id);
    r.set_participant_id(absl::StrCat("asker-", k));
    r.set_language("en");
    r.set_text(absl::StrCat("Question ", k, " about office ", k * 7919));
    return c.SubmitQuestion(r).status();
  });
  ThroughputRun("Vote", client, [&](TownhallClient& c, int64_t k) {
    v1::UpvoteQuestionRequest r;
    r.set_session_id(f.session_id);
    r.set_question_id(questions[k % questions.size()]);
    r.set_participant_id(absl::StrCat("voter-", k / questions.size()));
    return c.UpvoteQuestion(r).status();
  });
  // Every participant registers once per session: more sessions than the
  // run can fill.
  std::vector<std::string> sessions = {f.session_id};
  for (int i = 1; i < 8; ++i) {
    v1::CreateSessionRequest more;
    v1::Session& s = *more.mutable_session();
    s.set_title(absl::StrCat("RPC cost ", i));
    s.mutable_start_time()->set_seconds(absl::ToUnixSeconds(absl::Now()) +
                                        86400 * i);
    s.mutable_duration()->set_seconds(3600);
    s.set_time_zone("Europe/Berlin");
    s.set_format(v1::SESSION_FORMAT_ONLINE);
    s.set_join_url("https://meet.example.org/cost");
    s.set_capacity(100000);
    more.set_publish(true);
    sessions.push_back(
        Must("session", client.CreateSession(more)).session().id());
  }
  ThroughputRun("Register", client, [&](TownhallClient& c, int64_t k) {
    v1::RegisterRequest r;
    r.set_session_id(sessions[(k / participants) % sessions.size()]);
    r.set_participant_id(f.participants[k % participants]);
    return c.Register(r).status();
  });
  ThroughputRun("Ping", client, ping);
}

}  // namespace
}  // namespace townhall

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string server = absl::GetFlag(FLAGS_server);
  // Participants 0..calls-1 are registered by the Register cost run, the
  // others before the runs with a join token.
  townhall::Fixture f =
      townhall::Setup(server, 2 * absl::GetFlag(FLAGS_calls));
  townhall::CostRuns(f, server);
  const std::string throughput = absl::GetFlag(FLAGS_throughput_server);
  if (!throughput.empty()) townhall::ThroughputRuns(throughput);
  return 0;
}
