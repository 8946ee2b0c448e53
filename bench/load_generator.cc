// townhall-bench: a closed-loop gRPC load generator for townhalld.
//
// Keeps --concurrency unary RPCs outstanding at all times, spread over
// --channels HTTP/2 connections, with gRPC's callback client API (no thread
// per request: each completion starts the next call of its slot). After
// --warmup it measures for --duration: throughput of successful RPCs,
// latency percentiles (every latency is recorded, in microseconds) and
// errors by status code.
//
//   townhall-bench --server=127.0.0.1:50051 --token=$TOKEN --rpc=ping
//       --duration=10s --warmup=2s --concurrency=64 --channels=4 --json
//
// --setup prepares a tenant instead: it creates --tenant with the bootstrap
// credential (ALREADY_EXISTS is fine), issues an organizer token, creates
// --prefill online sessions and prints two lines: the token and the id of
// the first session created ("" when --prefill=0).
//
//   townhall-bench --setup --server=... --bootstrap_credential_file=F
//       --tenant=bench-read --prefill=200
//
// RPCs: ping (DiagnosticsService/Ping, the no-op baseline), get_session (one
// session, --session_id or one created at start), create_session (venue-less
// online sessions with distinct start times and distinct request ids),
// list_sessions (first page of --page_size sessions), upvote
// (QuestionService/UpvoteQuestion by --participants participants, each with
// its own join token, every call a NEW (participant, question) pair: a real
// write), upvote_unchanged (pairs already voted: the idempotent no-op path),
// upvote_ping (Ping with the voters' tokens: the baseline with the same
// per-call credentials).
//
// --setup --questions=N also creates a session with N APPROVED questions
// (post-moderation, votes_per_minute 10000 so the per-participant rate limit
// never binds) and prints its id as the second line; with --vote_sessions=S
// it creates S such sessions, question i in session i % S, and the second
// line lists their ids, comma-separated. upvote takes such a list as
// --session_id and spreads its votes round-robin over the sessions (on a
// Redis Cluster each session's keys share one slot). upvote signs its
// participants' join tokens with the server's key file (--auth_key_file),
// exactly as RegistrationService.IssueJoinToken would (role participant,
// session and participant claims); the server verifies them like any other.
// --pair_offset_file carries the next unused pair from run to run.
//
// --watch runs the watcher benchmark instead: W WatchQueue streams
// (--watchers, over --watch_channels channels, callback reactors) on a
// fresh pre-moderated session, then --deliveries times: submit a question,
// approve it, and time its "question.approved" change at every watcher.
// With --server_pid it reads townhalld's VmRSS before and after opening the
// streams. --vote_concurrency adds a background upvote load and counts the
// coalesced "question.votes" messages per watcher.
//
//   townhall-bench --watch --server=... --token=$TOKEN --tenant=bench-vote
//       --auth_key_file=F --watchers=5000 --server_pid=$PID --json
//
// Polls (PollService, issue 20). --setup --poll_voters=N also creates a
// session with N registered participants (CONFIRMED) and one OPEN
// single-choice poll of 4 options with allow_change, and prints that
// session's id as the second line. --rpc=ballot then casts ballots in it
// as those participants (join tokens signed with --auth_key_file, as for
// upvote): call n is participant n % N, option (n / N + n % N) % 4 + 1, so
// every call after a participant's first is a real change (changed=true);
// each carries a fresh request_id (the idempotency record is written, as
// for any client). The per-participant limit of 30 ballots a minute binds
// when a run gives a participant more than that: raise --poll_voters.
// --pair_offset_file carries n from run to run. --rpc=ballot_ping: Ping
// with the same voters' tokens.
//
// --watch_polls runs the WatchPolls benchmark: a fresh session with
// --ballot_runs x --ballot_run_size registered voters and an open poll,
// --watchers WatchPolls streams (participants' join tokens, live results),
// then --ballot_runs times: --ballot_run_size first ballots cast at once by
// new voters, each timed from its CastBallot reply (and from the call's
// start) to every watcher's first "poll.ballot" change whose ballot_count
// covers it (the count the ballot's reply showed).
//
//   townhall-bench --watch_polls --server=... --token=$TOKEN
//       --tenant=bench-vote --auth_key_file=F --watchers=1000
#include <grpcpp/grpcpp.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "clients/cpp/townhall_client.h"
#include "services/common/auth/jwt.h"
#include "services/common/auth/principal.h"
#include "townhall/v1/polls.grpc.pb.h"
#include "townhall/v1/questions.grpc.pb.h"

ABSL_FLAG(std::string, server, "127.0.0.1:50051",
          "townhalld address (host:port).");
ABSL_FLAG(std::string, token, "", "Organizer token (bearer JWT) for the load.");
ABSL_FLAG(
    std::string, rpc, "ping",
    "ping | get_session | create_session | list_sessions | upvote | "
    "upvote_unchanged | upvote_ping (Ping with the voters' join tokens) "
    "| ballot | ballot_receipt (ballot, BALLOT_REPLY_RECEIPT) | ballot_ping "
    "(Ping with the poll voters' join tokens)");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(10), "Measured time.");
ABSL_FLAG(absl::Duration, warmup, absl::Seconds(2),
          "Load before measuring (not counted).");
ABSL_FLAG(int, concurrency, 64, "RPCs outstanding at any time.");
ABSL_FLAG(int, channels, 4, "gRPC channels (separate HTTP/2 connections).");
ABSL_FLAG(absl::Duration, deadline, absl::Seconds(10), "Deadline of each RPC.");
ABSL_FLAG(std::string, session_id, "",
          "Session for get_session; when empty one is created at start. "
          "upvote: one or more sessions, comma-separated.");
ABSL_FLAG(int, page_size, 20, "page_size of list_sessions.");
ABSL_FLAG(int, payload_bytes, 0, "Size of the Ping payload.");
ABSL_FLAG(bool, json, false, "Print one JSON line instead of text.");
ABSL_FLAG(bool, setup, false,
          "Create --tenant, print an organizer token and a session id, exit.");
ABSL_FLAG(std::string, bootstrap_credential_file, "",
          "--setup: file with the operator's bootstrap credential.");
ABSL_FLAG(std::string, tenant, "bench", "--setup: tenant id to create.");
ABSL_FLAG(int, prefill, 200,
          "--setup: online sessions to create in the tenant.");
ABSL_FLAG(absl::Duration, wait, absl::Seconds(30),
          "How long to wait for the server to answer Ping at start.");
ABSL_FLAG(int, questions, 0,
          "--setup: also create a session with this many APPROVED questions "
          "(printed as the second line instead of the first prefilled one).");
ABSL_FLAG(int, vote_sessions, 1,
          "--setup --questions: spread the questions over this many sessions "
          "(their ids printed comma-separated).");
ABSL_FLAG(std::string, auth_key_file, "",
          "upvote, watch: the server's key file (signs participants' join "
          "tokens).");
ABSL_FLAG(std::string, auth_audience, "townhall", "Audience of join tokens.");
ABSL_FLAG(std::string, token_issuer, "townhall",
          "Issuer of join tokens (townhalld's --token_issuer).");
ABSL_FLAG(int, participants, 4000,
          "upvote: distinct voters (one join token each).");
ABSL_FLAG(std::string, pair_offset_file, "",
          "upvote: file with the next unused (participant, question) pair; "
          "read at start, advanced at exit. upvote_unchanged reuses the pairs "
          "below it. ballot: the next call's number (see top).");
ABSL_FLAG(bool, watch, false, "Run the WatchQueue benchmark (see top).");
ABSL_FLAG(int, watchers, 1000, "--watch: WatchQueue streams.");
ABSL_FLAG(int, watch_opening, 0,
          "--watch, --watch_polls: streams opened at most before their "
          "snapshots arrive (0: all at once).");
ABSL_FLAG(int, watch_channels, 16,
          "--watch: channels (HTTP/2 connections) the streams share.");
ABSL_FLAG(int, deliveries, 50, "--watch: questions approved and timed.");
ABSL_FLAG(absl::Duration, delivery_interval, absl::Milliseconds(200),
          "--watch: pause after a question reached every watcher.");
ABSL_FLAG(int, server_pid, 0, "--watch: townhalld's pid (for its VmRSS).");
ABSL_FLAG(int, vote_concurrency, 0,
          "--watch: then repeat under a background upvote load with this "
          "many votes outstanding (0: skip).");
ABSL_FLAG(int, loaded_deliveries, 20,
          "--watch: deliveries timed under the vote load.");
ABSL_FLAG(int, poll_voters, 0,
          "--setup: also create a session with this many registered voters "
          "and an open poll (its id printed as the second line).");
ABSL_FLAG(bool, watch_polls, false, "Run the WatchPolls benchmark (see top).");
ABSL_FLAG(int, ballot_runs, 30, "--watch_polls: runs of ballots timed.");
ABSL_FLAG(int, ballot_run_size, 10,
          "--watch_polls: first ballots cast at once per run.");

namespace townhall {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kNumCodes = 17;  // grpc::StatusCode 0..16

enum class RpcKind {
  kPing,
  kGetSession,
  kCreateSession,
  kListSessions,
  kUpvote,
  kUpvoteUnchanged,
  // Ping with the voters' join tokens in turn: the no-op baseline with the
  // same per-call credentials (no HPACK-indexed token) as upvote.
  kPingParticipants,
  // PollService/CastBallot by the poll's registered voters (see top).
  kBallot,
  // The same with BALLOT_REPLY_RECEIPT: `changed` back, not the poll.
  kBallotReceipt,
  // Ping with those voters' join tokens in turn.
  kPingVoters
};

bool IsBallot(RpcKind kind) {
  return kind == RpcKind::kBallot || kind == RpcKind::kBallotReceipt;
}

bool ParseRpcKind(const std::string& name, RpcKind* kind) {
  if (name == "ping")
    *kind = RpcKind::kPing;
  else if (name == "get_session")
    *kind = RpcKind::kGetSession;
  else if (name == "create_session")
    *kind = RpcKind::kCreateSession;
  else if (name == "list_sessions")
    *kind = RpcKind::kListSessions;
  else if (name == "upvote")
    *kind = RpcKind::kUpvote;
  else if (name == "upvote_unchanged")
    *kind = RpcKind::kUpvoteUnchanged;
  else if (name == "upvote_ping")
    *kind = RpcKind::kPingParticipants;
  else if (name == "ballot")
    *kind = RpcKind::kBallot;
  else if (name == "ballot_receipt")
    *kind = RpcKind::kBallotReceipt;
  else if (name == "ballot_ping")
    *kind = RpcKind::kPingVoters;
  else
    return false;
  return true;
}

const char* CodeName(int code) {
  static const char* kNames[kNumCodes] = {"OK",
                                          "CANCELLED",
                                          "UNKNOWN",
                                          "INVALID_ARGUMENT",
                                          "DEADLINE_EXCEEDED",
                                          "NOT_FOUND",
                                          "ALREADY_EXISTS",
                                          "PERMISSION_DENIED",
                                          "RESOURCE_EXHAUSTED",
                                          "FAILED_PRECONDITION",
                                          "ABORTED",
                                          "OUT_OF_RANGE",
                                          "UNIMPLEMENTED",
                                          "INTERNAL",
                                          "UNAVAILABLE",
                                          "DATA_LOSS",
                                          "UNAUTHENTICATED"};
  return code >= 0 && code < kNumCodes ? kNames[code] : "?";
}

// A venue-less online session; distinct `seq` gives a distinct start time.
v1::Session BenchSession(int64_t seq, int64_t base_unix) {
  v1::Session s;
  s.set_title(absl::StrCat("Bench session ", seq));
  s.set_description("Consular questions and answers (benchmark data).");
  s.mutable_start_time()->set_seconds(base_unix + seq * 3600);
  s.mutable_duration()->set_seconds(3600);
  s.set_time_zone("Europe/Berlin");
  s.set_format(v1::SESSION_FORMAT_ONLINE);
  s.set_join_url(absl::StrCat("https://meet.example.org/bench-", seq));
  s.add_languages("en");
  s.add_languages("uz");
  return s;
}

int64_t UnixOf(int year) {
  return absl::ToUnixSeconds(
      absl::FromCivil(absl::CivilDay(year, 1, 1), absl::UTCTimeZone()));
}

std::string RandomHex(int bytes) {
  std::random_device rd;
  std::string out;
  for (int i = 0; i < bytes; ++i)
    absl::StrAppend(&out, absl::Hex(rd() & 0xff, absl::kZeroPad2));
  return out;
}

ClientOptions Options(const std::string& server, const std::string& token) {
  ClientOptions options;
  options.address = server;
  options.token = token;
  return options;
}

CallOptions WithDeadline(absl::Duration deadline) {
  CallOptions call;
  call.deadline = deadline;
  return call;
}

bool WaitForServer(TownhallClient& client, absl::Duration wait) {
  absl::Time give_up = absl::Now() + wait;
  while (true) {
    absl::Status status =
        client.Ping(v1::PingRequest(), WithDeadline(absl::Seconds(1))).status();
    if (status.ok()) return true;
    if (absl::Now() > give_up) {
      std::cerr << "townhall-bench: server not ready: " << status << "\n";
      return false;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
}

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Sync QuestionService calls with the organizer's token and deadline.
template <typename Request, typename Response>
absl::Status QuestionCall(TownhallClient& client,
                          v1::QuestionService::Stub& stub,
                          grpc::Status (v1::QuestionService::Stub::*method)(
                              grpc::ClientContext*, const Request&, Response*),
                          const Request& request, Response* response) {
  grpc::ClientContext context;
  client.PrepareContext(WithDeadline(absl::Seconds(30)), &context);
  grpc::Status status = (stub.*method)(&context, request, response);
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

// A session for questions with the given moderation mode and votes_per_minute
// at its maximum (10000) so the rate limit is never what is measured.
absl::StatusOr<std::string> CreateQuestionSession(
    TownhallClient& client, v1::QuestionService::Stub& stub,
    v1::ModerationMode mode, int64_t seq) {
  v1::CreateSessionRequest request;
  *request.mutable_session() = BenchSession(seq, UnixOf(2040));
  request.set_request_id(absl::StrCat("bench-q-", RandomHex(8)));
  request.set_publish(true);
  auto made = client.CreateSession(request);
  if (!made.ok()) return made.status();
  v1::UpdateQueueSettingsRequest settings;
  settings.set_session_id(made->session().id());
  settings.mutable_settings()->set_moderation_mode(mode);
  settings.mutable_settings()->set_votes_per_minute(10000);
  v1::UpdateQueueSettingsResponse updated;
  absl::Status status = QuestionCall(
      client, stub, &v1::QuestionService::Stub::UpdateQueueSettings, settings,
      &updated);
  if (!status.ok()) return status;
  return made->session().id();
}

std::string QuestionText(int64_t i) {
  static const char* kTopics[] = {"passport renewal",  "consular registration",
                                  "pension transfer",  "diploma recognition",
                                  "visa appointments", "citizenship papers",
                                  "notary services",   "school certificates"};
  return absl::StrCat("Question ", i, " about ", kTopics[i % 8],
                      ": how long does it take in office ", i * 7919 % 100003,
                      "?");
}

// Submits a question as the organizer for `author`; returns its id.
absl::StatusOr<std::string> SubmitAs(TownhallClient& client,
                                     v1::QuestionService::Stub& stub,
                                     const std::string& session_id,
                                     const std::string& author, int64_t i) {
  v1::SubmitQuestionRequest request;
  request.set_session_id(session_id);
  request.set_participant_id(author);
  request.set_text(QuestionText(i));
  request.set_language("en");
  v1::SubmitQuestionResponse response;
  absl::Status status =
      QuestionCall(client, stub, &v1::QuestionService::Stub::SubmitQuestion,
                   request, &response);
  if (!status.ok()) return status;
  return response.question().id();
}

// Join tokens (role participant) for `ids` in `session_id`, signed with the
// server's key, as "Bearer ..." header values.
absl::StatusOr<std::vector<std::string>> ParticipantAuth(
    const std::string& tenant, const std::string& session_id,
    const std::vector<std::string>& ids) {
  absl::StatusOr<KeySet> keys =
      KeySet::Load(absl::GetFlag(FLAGS_auth_key_file));
  if (!keys.ok()) return keys.status();
  const TokenRules rules{.audience = absl::GetFlag(FLAGS_auth_audience),
                         .issuer = absl::GetFlag(FLAGS_token_issuer)};
  absl::Time now = absl::Now();
  std::vector<std::string> out;
  out.reserve(ids.size());
  for (const std::string& id : ids) {
    TokenClaims claims;
    claims.tenant_id = tenant;
    claims.subject = id;
    claims.role = Role::kParticipant;
    claims.issue_time = now - absl::Minutes(1);
    claims.expire_time = now + absl::Hours(24);
    claims.session_id = session_id;
    claims.participant_id = id;
    absl::StatusOr<std::string> token = SignToken(*keys, rules, claims);
    if (!token.ok()) return token.status();
    out.push_back(absl::StrCat("Bearer ", *token));
  }
  return out;
}

std::vector<std::string> ParticipantIds(const std::string& prefix, int n) {
  std::vector<std::string> ids;
  ids.reserve(n);
  for (int i = 0; i < n; ++i) ids.push_back(absl::StrCat(prefix, i));
  return ids;
}

// The open questions of a session, sorted by id (a stable order from run to
// run: the pair numbering depends on it).
absl::StatusOr<std::vector<std::string>> OpenQuestionIds(
    TownhallClient& client, v1::QuestionService::Stub& stub,
    const std::string& session_id) {
  std::vector<std::string> ids;
  v1::ListQuestionsRequest request;
  request.set_session_id(session_id);
  request.set_order(v1::ListQuestionsRequest::ORDER_NEWEST);
  request.set_page_size(500);
  while (true) {
    v1::ListQuestionsResponse response;
    absl::Status status =
        QuestionCall(client, stub, &v1::QuestionService::Stub::ListQuestions,
                     request, &response);
    if (!status.ok()) return status;
    for (const v1::Question& q : response.questions()) ids.push_back(q.id());
    if (response.next_page_token().empty()) break;
    request.set_page_token(response.next_page_token());
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

// A session with `voters` participants registered (CONFIRMED, created
// here in organizations of 100) and one OPEN single-choice poll of 4
// options with allow_change: its id, the session's in `session_id`, and
// the voters' participant ids in `voter_ids`.
absl::StatusOr<std::string> CreatePollSession(
    TownhallClient& client, int voters, int64_t seq, std::string* session_id,
    std::vector<std::string>* voter_ids) {
  v1::CreateSessionRequest request;
  *request.mutable_session() = BenchSession(seq, UnixOf(2045));
  request.mutable_session()->set_title(absl::StrCat("Bench poll ", seq));
  request.set_request_id(absl::StrCat("bench-poll-", RandomHex(8)));
  request.set_publish(true);
  auto made = client.CreateSession(request);
  if (!made.ok()) return made.status();
  *session_id = made->session().id();

  const std::string nonce = RandomHex(4);
  std::vector<std::string> orgs;
  for (int i = 0; i * 100 < voters; ++i) {
    v1::CreateOrganizationRequest org;
    org.mutable_organization()->set_name(
        absl::StrCat("Bench diaspora association ", nonce, " ", i));
    org.mutable_organization()->set_country_code("DE");
    org.mutable_organization()->set_city("Berlin");
    auto created = client.CreateOrganization(org);
    if (!created.ok()) return created.status();
    orgs.push_back(created->organization().id());
  }
  // Registered from 8 threads (two calls each).
  voter_ids->assign(voters, "");
  std::atomic<int> next{0};
  absl::Mutex mu;
  absl::Status failure;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = next++; i < voters; i = next++) {
        v1::CreateParticipantRequest person;
        person.mutable_participant()->set_display_name(
            absl::StrCat("Bench voter ", nonce, " ", i));
        person.mutable_participant()->set_organization_id(orgs[i / 100]);
        auto created = client.CreateParticipant(person);
        absl::Status status = created.status();
        if (status.ok()) {
          v1::RegisterRequest reg;
          reg.set_session_id(*session_id);
          reg.set_participant_id(created->participant().id());
          status = client.Register(reg).status();
          (*voter_ids)[i] = created->participant().id();
        }
        if (!status.ok()) {
          absl::MutexLock lock(&mu);
          failure = status;
          return;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  if (!failure.ok()) return failure;

  v1::CreatePollRequest create;
  create.set_session_id(*session_id);
  v1::Poll* poll = create.mutable_poll();
  poll->set_kind(v1::POLL_KIND_SINGLE_CHOICE);
  poll->set_question("Which consular service should open longer hours?");
  for (const char* text : {"Passports", "Visas", "Notary", "Registration"}) {
    poll->add_options()->set_text(text);
  }
  poll->set_allow_change(true);
  auto poll_made = client.CreatePoll(create);
  if (!poll_made.ok()) return poll_made.status();
  v1::OpenPollRequest open;
  open.set_session_id(*session_id);
  open.set_poll_id(poll_made->poll().id());
  auto opened = client.OpenPoll(open);
  if (!opened.ok()) return opened.status();
  if (opened->poll().results().eligible_count() < voters) {
    return absl::InternalError(absl::StrCat(
        "poll opened with ", opened->poll().results().eligible_count(),
        " eligible voters, not ", voters));
  }
  return poll_made->poll().id();
}

// ---------------------------------------------------------------- --setup

int Setup() {
  std::ifstream in(absl::GetFlag(FLAGS_bootstrap_credential_file));
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string credential(absl::StripAsciiWhitespace(buffer.str()));
  if (credential.empty()) {
    std::cerr
        << "townhall-bench: --bootstrap_credential_file is empty or missing\n";
    return 2;
  }
  const std::string server = absl::GetFlag(FLAGS_server);
  TownhallClient op(Options(server, credential));
  if (!WaitForServer(op, absl::GetFlag(FLAGS_wait))) return 1;

  const std::string tenant = absl::GetFlag(FLAGS_tenant);
  v1::CreateTenantRequest create;
  create.mutable_tenant()->set_id(tenant);
  create.mutable_tenant()->set_display_name("Benchmark tenant");
  absl::Status created = op.CreateTenant(create).status();
  if (!created.ok() && created.code() != absl::StatusCode::kAlreadyExists) {
    std::cerr << "townhall-bench: create tenant: " << created << "\n";
    return 1;
  }
  v1::IssueTokenRequest issue;
  issue.set_tenant_id(tenant);
  issue.set_subject("bench@example.org");
  issue.set_role("organizer");
  issue.mutable_ttl()->set_seconds(24 * 3600);
  auto token = op.IssueToken(issue);
  if (!token.ok()) {
    std::cerr << "townhall-bench: issue token: " << token.status() << "\n";
    return 1;
  }
  TownhallClient client(Options(server, token->token()));
  std::string first_id;
  const std::string nonce = RandomHex(6);
  for (int i = 0; i < absl::GetFlag(FLAGS_prefill); ++i) {
    v1::CreateSessionRequest request;
    *request.mutable_session() = BenchSession(i, UnixOf(2030));
    request.set_request_id(absl::StrCat("bench-prefill-", nonce, "-", i));
    request.set_publish(i % 2 == 0);
    auto made = client.CreateSession(request);
    if (!made.ok()) {
      std::cerr << "townhall-bench: prefill session " << i << ": "
                << made.status() << "\n";
      return 1;
    }
    if (first_id.empty()) first_id = made->session().id();
  }
  const int questions = absl::GetFlag(FLAGS_questions);
  if (questions > 0) {
    auto stub = v1::QuestionService::NewStub(
        grpc::CreateChannel(server, grpc::InsecureChannelCredentials()));
    const int num_sessions =
        std::clamp(absl::GetFlag(FLAGS_vote_sessions), 1, questions);
    std::vector<std::string> session_ids;
    for (int s = 0; s < num_sessions; ++s) {
      auto session_id =
          CreateQuestionSession(client, *stub, v1::MODERATION_MODE_POST, s);
      if (!session_id.ok()) {
        std::cerr << "townhall-bench: question session: " << session_id.status()
                  << "\n";
        return 1;
      }
      session_ids.push_back(*std::move(session_id));
    }
    for (int i = 0; i < questions; ++i) {
      auto id = SubmitAs(client, *stub, session_ids[i % num_sessions],
                         absl::StrCat("author-", i % 50), i);
      if (!id.ok()) {
        std::cerr << "townhall-bench: question " << i << ": " << id.status()
                  << "\n";
        return 1;
      }
    }
    first_id = absl::StrJoin(session_ids, ",");
  }
  const int poll_voters = absl::GetFlag(FLAGS_poll_voters);
  if (poll_voters > 0) {
    std::vector<std::string> voter_ids;
    auto poll_id =
        CreatePollSession(client, poll_voters, 0, &first_id, &voter_ids);
    if (!poll_id.ok()) {
      std::cerr << "townhall-bench: poll session: " << poll_id.status() << "\n";
      return 1;
    }
  }
  std::cout << token->token() << "\n" << first_id << "\n";
  return 0;
}

// ---------------------------------------------------------------- load

class Bench;

// One session of upvote: its open questions and its voters' join tokens
// (a join token names its session).
struct VoteSession {
  std::string session_id;
  std::vector<std::string> question_ids;
  std::vector<std::string> auth;  // "Bearer <join token>" per participant
};

// The (participant, question) pairs of upvote. Pair k is in session k % S,
// and with j = k / S it is participant j % P and question
// (j / P + j % P) % N of that session: a bijection of [0, P*N) per
// session, and consecutive pairs spread over sessions, participants and
// questions.
struct VoteSpace {
  std::vector<VoteSession> sessions;
  std::vector<std::string> participant_ids;  // the same in every session
  int64_t offset = 0;                        // first pair of this run
  bool unchanged = false;                    // reuse pairs [0, offset) instead
  // Pairs before one session runs out.
  int64_t pairs() const {
    size_t fewest = sessions[0].question_ids.size();
    for (const VoteSession& s : sessions)
      fewest = std::min(fewest, s.question_ids.size());
    return static_cast<int64_t>(sessions.size()) * fewest *
           static_cast<int64_t>(participant_ids.size());
  }
};

// The poll of ballot: its session, its options and its voters' join
// tokens. Call n (from `offset`) is voter n % V, option
// (n / V + n % V) % options + 1.
struct PollSpace {
  std::string session_id;
  std::string poll_id;
  int options = 0;
  std::vector<std::string> participant_ids;
  std::vector<std::string> auth;  // "Bearer <join token>" per voter
  int64_t offset = 0;
};

// One outstanding RPC at a time; each completion starts the slot's next
// call. A slot's calls run one after the other, so its data needs no lock.
struct Slot {
  Bench* bench = nullptr;
  int index = 0;
  std::unique_ptr<grpc::ClientContext> context;
  Clock::time_point started;
  v1::PingResponse ping_response;
  v1::GetSessionResponse get_response;
  v1::CreateSessionRequest create_request;
  v1::CreateSessionResponse create_response;
  v1::ListSessionsResponse list_response;
  v1::UpvoteQuestionRequest vote_request;
  v1::UpvoteQuestionResponse vote_response;
  v1::CastBallotRequest ballot_request;
  v1::CastBallotResponse ballot_response;
  // Measured window only.
  std::vector<uint32_t> latencies_us;
  std::array<int64_t, kNumCodes> codes{};
  int64_t unchanged = 0;  // upvotes and ballots answered changed=false
  // Whole run (warm-up included).
  int64_t issued = 0;
};

struct Channel {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<TownhallClient> client;  // for PrepareContext
  std::unique_ptr<v1::DiagnosticsService::Stub> diagnostics;
  std::unique_ptr<v1::SchedulingService::Stub> scheduling;
  std::unique_ptr<v1::QuestionService::Stub> questions;
  std::unique_ptr<v1::PollService::Stub> polls;
};

struct Result {
  double seconds = 0;
  int64_t ok = 0;
  std::array<int64_t, kNumCodes> codes{};
  std::vector<uint32_t> latencies_us;  // sorted
  double client_cpu_seconds = 0;
  int64_t issued = 0;
  int64_t unchanged = 0;
};

double CpuSeconds() {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

class Bench {
 public:
  Bench(RpcKind kind, std::vector<Channel>* channels,
        const VoteSpace* votes = nullptr, const PollSpace* polls = nullptr)
      : kind_(kind), channels_(channels), votes_(votes), polls_(polls) {
    ping_request_.set_payload(
        std::string(absl::GetFlag(FLAGS_payload_bytes), 'x'));
    get_request_.set_session_id(absl::GetFlag(FLAGS_session_id));
    list_request_.set_page_size(absl::GetFlag(FLAGS_page_size));
    deadline_ = absl::GetFlag(FLAGS_deadline);
    nonce_ = RandomHex(6);
    // Far from the prefilled sessions (2030 on) and from earlier runs.
    create_base_ =
        UnixOf(2100) + (absl::ToUnixSeconds(absl::Now()) % 100000) * 3600;
  }

  Result Run(int concurrency, absl::Duration warmup, absl::Duration duration) {
    slots_.resize(concurrency);
    Clock::time_point begin = Clock::now();
    measure_from_ = begin + absl::ToChronoNanoseconds(warmup);
    measure_until_ = measure_from_ + absl::ToChronoNanoseconds(duration);
    active_.store(concurrency);
    for (int i = 0; i < concurrency; ++i) {
      slots_[i].bench = this;
      slots_[i].index = i;
      slots_[i].latencies_us.reserve(1 << 16);
      Issue(&slots_[i]);
    }
    std::this_thread::sleep_until(measure_from_);
    double cpu_from = CpuSeconds();
    std::this_thread::sleep_until(measure_until_);
    double cpu_until = CpuSeconds();
    // Calls in flight at the end finish within their deadline.
    if (!all_done_.WaitForNotificationWithTimeout(deadline_ +
                                                  absl::Seconds(5))) {
      std::cerr
          << "townhall-bench: calls still outstanding after their deadline\n";
    }

    Result result;
    result.seconds = absl::ToDoubleSeconds(duration);
    result.client_cpu_seconds = cpu_until - cpu_from;
    for (Slot& slot : slots_) {
      for (int c = 0; c < kNumCodes; ++c) result.codes[c] += slot.codes[c];
      result.latencies_us.insert(result.latencies_us.end(),
                                 slot.latencies_us.begin(),
                                 slot.latencies_us.end());
      result.issued += slot.issued;
      result.unchanged += slot.unchanged;
    }
    result.ok = result.codes[0];
    std::sort(result.latencies_us.begin(), result.latencies_us.end());
    return result;
  }

 private:
  void Issue(Slot* slot) {
    Channel& ch = (*channels_)[slot->index % channels_->size()];
    slot->context = std::make_unique<grpc::ClientContext>();
    if (kind_ == RpcKind::kUpvote || kind_ == RpcKind::kUpvoteUnchanged) {
      // The participant's own join token, not the organizer's.
      int64_t n = next_seq_.fetch_add(1);
      int64_t k = votes_->unchanged ? n % votes_->offset : votes_->offset + n;
      const int64_t num_sessions =
          static_cast<int64_t>(votes_->sessions.size());
      const VoteSession& session = votes_->sessions[k % num_sessions];
      int64_t j = k / num_sessions;
      int64_t p = j % static_cast<int64_t>(votes_->participant_ids.size());
      int64_t q =
          (j / static_cast<int64_t>(votes_->participant_ids.size()) + p) %
          static_cast<int64_t>(session.question_ids.size());
      slot->context->set_deadline(absl::ToChronoTime(absl::Now() + deadline_));
      slot->context->AddMetadata("authorization", session.auth[p]);
      slot->vote_request.set_session_id(session.session_id);
      slot->vote_request.set_question_id(session.question_ids[q]);
      slot->vote_request.set_participant_id(votes_->participant_ids[p]);
    } else if (kind_ == RpcKind::kPingParticipants) {
      int64_t n = next_seq_.fetch_add(1);
      slot->context->set_deadline(absl::ToChronoTime(absl::Now() + deadline_));
      const std::vector<std::string>& auth = votes_->sessions[0].auth;
      slot->context->AddMetadata("authorization",
                                 auth[n % static_cast<int64_t>(auth.size())]);
    } else if (IsBallot(kind_)) {
      const int64_t n = polls_->offset + next_seq_.fetch_add(1);
      const int64_t voters =
          static_cast<int64_t>(polls_->participant_ids.size());
      const int64_t p = n % voters;
      slot->context->set_deadline(absl::ToChronoTime(absl::Now() + deadline_));
      slot->context->AddMetadata("authorization", polls_->auth[p]);
      v1::CastBallotRequest& request = slot->ballot_request;
      request.set_session_id(polls_->session_id);
      request.set_poll_id(polls_->poll_id);
      request.set_participant_id(polls_->participant_ids[p]);
      request.mutable_ballot()->clear_option_ids();
      request.mutable_ballot()->add_option_ids(
          absl::StrCat((n / voters + p) % polls_->options + 1));
      request.set_request_id(absl::StrCat("bench-ballot-", nonce_, "-", n));
      request.set_reply(kind_ == RpcKind::kBallotReceipt
                            ? v1::BALLOT_REPLY_RECEIPT
                            : v1::BALLOT_REPLY_POLL);
    } else if (kind_ == RpcKind::kPingVoters) {
      const int64_t n = next_seq_.fetch_add(1);
      slot->context->set_deadline(absl::ToChronoTime(absl::Now() + deadline_));
      slot->context->AddMetadata(
          "authorization",
          polls_->auth[n % static_cast<int64_t>(polls_->auth.size())]);
    } else {
      ch.client->PrepareContext(WithDeadline(deadline_), slot->context.get());
    }
    ++slot->issued;
    auto done = [slot](grpc::Status status) {
      slot->bench->Done(slot, status);
    };
    slot->started = Clock::now();
    switch (kind_) {
      case RpcKind::kPing:
      case RpcKind::kPingParticipants:
      case RpcKind::kPingVoters:
        ch.diagnostics->async()->Ping(slot->context.get(), &ping_request_,
                                      &slot->ping_response, std::move(done));
        break;
      case RpcKind::kGetSession:
        ch.scheduling->async()->GetSession(slot->context.get(), &get_request_,
                                           &slot->get_response,
                                           std::move(done));
        break;
      case RpcKind::kCreateSession: {
        int64_t seq = next_seq_.fetch_add(1);
        slot->create_request.Clear();
        *slot->create_request.mutable_session() =
            BenchSession(seq, create_base_);
        slot->create_request.set_request_id(
            absl::StrCat("bench-", nonce_, "-", seq));
        ch.scheduling->async()->CreateSession(
            slot->context.get(), &slot->create_request, &slot->create_response,
            std::move(done));
        break;
      }
      case RpcKind::kListSessions:
        ch.scheduling->async()->ListSessions(
            slot->context.get(), &list_request_, &slot->list_response,
            std::move(done));
        break;
      case RpcKind::kUpvote:
      case RpcKind::kUpvoteUnchanged:
        ch.questions->async()->UpvoteQuestion(
            slot->context.get(), &slot->vote_request, &slot->vote_response,
            std::move(done));
        break;
      case RpcKind::kBallot:
      case RpcKind::kBallotReceipt:
        ch.polls->async()->CastBallot(slot->context.get(),
                                      &slot->ballot_request,
                                      &slot->ballot_response, std::move(done));
        break;
    }
  }

  void Done(Slot* slot, const grpc::Status& status) {
    Clock::time_point now = Clock::now();
    if (now >= measure_from_ && now < measure_until_) {
      int code = static_cast<int>(status.error_code());
      ++slot->codes[code >= 0 && code < kNumCodes ? code : 2];
      if (status.ok()) {
        auto us = std::chrono::duration_cast<std::chrono::microseconds>(
            now - slot->started);
        slot->latencies_us.push_back(static_cast<uint32_t>(us.count()));
        if ((kind_ == RpcKind::kUpvote || kind_ == RpcKind::kUpvoteUnchanged) &&
            !slot->vote_response.changed()) {
          ++slot->unchanged;
        }
        if (IsBallot(kind_) && !slot->ballot_response.changed()) {
          ++slot->unchanged;
        }
      } else if (first_error_.exchange(true) == false) {
        absl::MutexLock lock(&mu_);
        first_error_message_ =
            absl::StrCat(CodeName(code), ": ", status.error_message());
      }
    }
    if (now >= measure_until_) {
      if (active_.fetch_sub(1) == 1) all_done_.Notify();
      return;
    }
    Issue(slot);  // ClientContext of the finished call is released here
  }

 public:
  std::string first_error() {
    absl::MutexLock lock(&mu_);
    return first_error_message_;
  }
  // Calls started (upvote: pairs used), warm-up included.
  int64_t sequence() const { return next_seq_.load(); }

 private:
  const RpcKind kind_;
  std::vector<Channel>* channels_;
  const VoteSpace* votes_;
  const PollSpace* polls_;
  absl::Duration deadline_;
  v1::PingRequest ping_request_;
  v1::GetSessionRequest get_request_;
  v1::ListSessionsRequest list_request_;
  std::string nonce_;
  int64_t create_base_ = 0;
  std::atomic<int64_t> next_seq_{0};
  std::vector<Slot> slots_;
  Clock::time_point measure_from_;
  Clock::time_point measure_until_;
  std::atomic<int> active_{0};
  absl::Notification all_done_;
  std::atomic<bool> first_error_{false};
  absl::Mutex mu_;
  std::string first_error_message_;
};

uint32_t Percentile(const std::vector<uint32_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t rank =
      static_cast<size_t>(p / 100.0 * static_cast<double>(sorted.size()));
  return sorted[std::min(rank, sorted.size() - 1)];
}

// Channels with identical arguments share one subchannel (one TCP
// connection); a local subchannel pool and a distinct argument give each
// channel its own connection.
std::vector<Channel> MakeChannels(const std::string& server,
                                  const std::string& token, int n,
                                  int salt = 0) {
  std::vector<Channel> channels(n);
  for (int i = 0; i < n; ++i) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt("townhall.bench.channel", salt + i);
    args.SetMaxReceiveMessageSize(64 << 20);
    channels[i].channel = grpc::CreateCustomChannel(
        server, grpc::InsecureChannelCredentials(), args);
    channels[i].client = std::make_unique<TownhallClient>(
        Options(server, token), channels[i].channel);
    channels[i].diagnostics =
        v1::DiagnosticsService::NewStub(channels[i].channel);
    channels[i].scheduling =
        v1::SchedulingService::NewStub(channels[i].channel);
    channels[i].questions = v1::QuestionService::NewStub(channels[i].channel);
    channels[i].polls = v1::PollService::NewStub(channels[i].channel);
  }
  return channels;
}

// Reads --pair_offset_file (0 when missing).
int64_t ReadPairOffset() {
  const std::string path = absl::GetFlag(FLAGS_pair_offset_file);
  int64_t offset = 0;
  if (path.empty()) return 0;
  std::string text(absl::StripAsciiWhitespace(ReadFileOrEmpty(path)));
  if (!text.empty() && !absl::SimpleAtoi(text, &offset)) offset = 0;
  return offset;
}

// The vote space of `session_ids` (comma-separated): their open
// questions, --participants voters "bp-<i>" with signed join tokens for
// each session.
absl::StatusOr<VoteSpace> MakeVoteSpace(Channel& control,
                                        const std::string& session_ids,
                                        int participants) {
  VoteSpace space;
  space.participant_ids = ParticipantIds("bp-", participants);
  for (absl::string_view id :
       absl::StrSplit(session_ids, ',', absl::SkipEmpty())) {
    VoteSession session;
    session.session_id = std::string(id);
    auto ids = OpenQuestionIds(*control.client, *control.questions,
                               session.session_id);
    if (!ids.ok()) return ids.status();
    if (ids->empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "session ", id, " has no open questions (see --setup --questions)"));
    }
    session.question_ids = *std::move(ids);
    auto auth = ParticipantAuth(absl::GetFlag(FLAGS_tenant), session.session_id,
                                space.participant_ids);
    if (!auth.ok()) return auth.status();
    session.auth = *std::move(auth);
    space.sessions.push_back(std::move(session));
  }
  if (space.sessions.empty()) {
    return absl::InvalidArgumentError("no session to vote in");
  }
  return space;
}

// The poll space of `session_id`: its first OPEN poll and its CONFIRMED
// registrations (the voters, in a stable order) with signed join tokens.
absl::StatusOr<PollSpace> MakePollSpace(Channel& control,
                                        const std::string& session_id) {
  PollSpace space;
  space.session_id = session_id;
  v1::ListPollsRequest list;
  list.set_session_id(session_id);
  list.set_page_size(500);
  auto polls = control.client->ListPolls(list);
  if (!polls.ok()) return polls.status();
  for (const v1::Poll& poll : polls->polls()) {
    if (poll.state() == v1::POLL_STATE_OPEN) {
      space.poll_id = poll.id();
      space.options = poll.options_size();
      break;
    }
  }
  if (space.poll_id.empty() || space.options < 2) {
    return absl::FailedPreconditionError(
        absl::StrCat("session ", session_id,
                     " has no open poll (see --setup --poll_voters)"));
  }
  v1::ListRegistrationsRequest regs;
  regs.set_session_id(session_id);
  regs.add_statuses(v1::REGISTRATION_STATUS_CONFIRMED);
  regs.set_page_size(500);
  for (int pages = 0; pages < 1000; ++pages) {
    auto page = control.client->ListRegistrations(regs);
    if (!page.ok()) return page.status();
    for (const v1::Registration& r : page->registrations()) {
      if (r.role() == v1::SESSION_ROLE_PARTICIPANT ||
          r.role() == v1::SESSION_ROLE_UNSPECIFIED) {
        space.participant_ids.push_back(r.participant_id());
      }
    }
    if (page->next_page_token().empty()) break;
    regs.set_page_token(page->next_page_token());
  }
  if (space.participant_ids.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("session ", session_id, " has no registered voters"));
  }
  std::sort(space.participant_ids.begin(), space.participant_ids.end());
  auto auth = ParticipantAuth(absl::GetFlag(FLAGS_tenant), session_id,
                              space.participant_ids);
  if (!auth.ok()) return auth.status();
  space.auth = *std::move(auth);
  return space;
}

int Load() {
  RpcKind kind;
  const std::string rpc = absl::GetFlag(FLAGS_rpc);
  if (!ParseRpcKind(rpc, &kind)) {
    std::cerr << "townhall-bench: unknown --rpc=" << rpc << "\n";
    return 2;
  }
  const std::string server = absl::GetFlag(FLAGS_server);
  const std::string token = absl::GetFlag(FLAGS_token);
  if (token.empty()) {
    std::cerr << "townhall-bench: --token is required (see --setup)\n";
    return 2;
  }
  const int concurrency = std::max(1, absl::GetFlag(FLAGS_concurrency));
  const int num_channels =
      std::max(1, std::min(absl::GetFlag(FLAGS_channels), concurrency));

  std::vector<Channel> channels = MakeChannels(server, token, num_channels);
  for (Channel& ch : channels) {
    if (!WaitForServer(*ch.client, absl::GetFlag(FLAGS_wait))) return 1;
  }
  if (kind == RpcKind::kGetSession && absl::GetFlag(FLAGS_session_id).empty()) {
    v1::CreateSessionRequest request;
    *request.mutable_session() = BenchSession(0, UnixOf(2099));
    auto made = channels[0].client->CreateSession(request);
    if (!made.ok()) {
      std::cerr << "townhall-bench: create a session for get_session: "
                << made.status() << "\n";
      return 1;
    }
    absl::SetFlag(&FLAGS_session_id, made->session().id());
  }

  const bool voting = kind == RpcKind::kUpvote ||
                      kind == RpcKind::kUpvoteUnchanged ||
                      kind == RpcKind::kPingParticipants;
  VoteSpace votes;
  if (voting) {
    if (absl::GetFlag(FLAGS_session_id).empty()) {
      std::cerr << "townhall-bench: upvote needs --session_id (a session "
                   "made by --setup --questions)\n";
      return 2;
    }
    auto space = MakeVoteSpace(channels[0], absl::GetFlag(FLAGS_session_id),
                               std::max(1, absl::GetFlag(FLAGS_participants)));
    if (!space.ok()) {
      std::cerr << "townhall-bench: upvote setup: " << space.status() << "\n";
      return 1;
    }
    votes = *std::move(space);
    votes.offset = ReadPairOffset();
    votes.unchanged = kind == RpcKind::kUpvoteUnchanged;
    if (votes.unchanged && votes.offset == 0) {
      std::cerr << "townhall-bench: upvote_unchanged needs pairs voted by an "
                   "earlier upvote run (--pair_offset_file)\n";
      return 2;
    }
  }

  const bool balloting = IsBallot(kind) || kind == RpcKind::kPingVoters;
  PollSpace polls;
  if (balloting) {
    if (absl::GetFlag(FLAGS_session_id).empty()) {
      std::cerr << "townhall-bench: ballot needs --session_id (a session "
                   "made by --setup --poll_voters)\n";
      return 2;
    }
    auto space = MakePollSpace(channels[0], absl::GetFlag(FLAGS_session_id));
    if (!space.ok()) {
      std::cerr << "townhall-bench: ballot setup: " << space.status() << "\n";
      return 1;
    }
    polls = *std::move(space);
    polls.offset = ReadPairOffset();
  }

  Bench bench(kind, &channels, voting ? &votes : nullptr,
              balloting ? &polls : nullptr);
  Result r = bench.Run(concurrency, absl::GetFlag(FLAGS_warmup),
                       absl::GetFlag(FLAGS_duration));
  int64_t pairs_left = 0;
  if (kind == RpcKind::kUpvote) {
    int64_t next = votes.offset + bench.sequence();
    pairs_left = votes.pairs() - next;
    if (pairs_left < 0) {
      std::cerr << "townhall-bench: ran out of new (participant, question) "
                   "pairs: raise --participants or --questions\n";
    }
    const std::string path = absl::GetFlag(FLAGS_pair_offset_file);
    if (!path.empty()) std::ofstream(path, std::ios::trunc) << next << "\n";
  }
  if (IsBallot(kind)) {
    const std::string path = absl::GetFlag(FLAGS_pair_offset_file);
    if (!path.empty()) {
      std::ofstream(path, std::ios::trunc)
          << polls.offset + bench.sequence() << "\n";
    }
  }

  int64_t errors = 0;
  std::vector<std::string> error_parts;
  for (int c = 1; c < kNumCodes; ++c) {
    if (r.codes[c] == 0) continue;
    errors += r.codes[c];
    error_parts.push_back(
        absl::StrFormat("\"%s\":%d", CodeName(c), r.codes[c]));
  }
  double throughput = r.ok / r.seconds;
  double mean = 0;
  for (uint32_t v : r.latencies_us) mean += v;
  if (!r.latencies_us.empty()) mean /= r.latencies_us.size();
  uint32_t p50 = Percentile(r.latencies_us, 50),
           p90 = Percentile(r.latencies_us, 90),
           p99 = Percentile(r.latencies_us, 99);
  uint32_t max = r.latencies_us.empty() ? 0 : r.latencies_us.back();
  double client_cpu_us_per_rpc =
      r.ok > 0 ? r.client_cpu_seconds * 1e6 / r.ok : 0;

  if (absl::GetFlag(FLAGS_json)) {
    std::cout << absl::StrFormat(
        "{\"rpc\":\"%s\",\"seconds\":%.3f,\"concurrency\":%d,\"channels\":%d,"
        "\"ok\":%d,\"errors\":%d,\"error_codes\":{%s},\"throughput\":%.1f,"
        "\"p50_us\":%d,\"p90_us\":%d,\"p99_us\":%d,\"max_us\":%d,\"mean_us\":%."
        "1f,"
        "\"client_cpu_s\":%.3f,\"client_cpu_us_per_rpc\":%.1f,\"calls_total\":%"
        "d,\"unchanged\":%d,\"pairs_left\":%d}\n",
        rpc, r.seconds, concurrency, num_channels, r.ok, errors,
        absl::StrJoin(error_parts, ","), throughput, p50, p90, p99, max, mean,
        r.client_cpu_seconds, client_cpu_us_per_rpc, r.issued, r.unchanged,
        pairs_left);
  } else {
    std::cout << absl::StrFormat(
        "%s: %.0f ok/s over %.1fs (concurrency %d, %d channels)\n"
        "  latency us: p50 %d  p90 %d  p99 %d  max %d  mean %.0f\n"
        "  errors: %d%s%s\n  client CPU: %.2fs (%.1f us per RPC)\n"
        "  unchanged votes: %d\n",
        rpc, throughput, r.seconds, concurrency, num_channels, p50, p90, p99,
        max, mean, errors, error_parts.empty() ? "" : " ",
        absl::StrJoin(error_parts, ","), r.client_cpu_seconds,
        client_cpu_us_per_rpc, r.unchanged);
  }
  if (errors > 0)
    std::cerr << "townhall-bench: first error: " << bench.first_error() << "\n";
  return r.ok > 0 ? 0 : 1;
}

// ---------------------------------------------------------------- --watch

int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             Clock::now().time_since_epoch())
      .count();
}

// townhalld's resident set (kB) from /proc/<pid>/status; -1 if unknown.
int64_t ServerRssKb(int pid) {
  if (pid <= 0) return -1;
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (absl::StartsWith(line, "VmRSS:")) {
      int64_t kb = 0;
      std::string digits;
      for (char c : line)
        if (c >= '0' && c <= '9') digits.push_back(c);
      if (absl::SimpleAtoi(digits, &kb)) return kb;
    }
  }
  return -1;
}

// Before opening stream number `started`: waits while `opening` or more
// streams opened so far have neither their snapshot nor an end (`settled`
// counts those that have), the way an audience joins over seconds. The
// server refuses more than its Redis queue holds (UNAVAILABLE, "server
// overloaded"), which clients would retry.
void WaitForOpeningBelow(int opening, int started,
                         const std::function<int()>& settled) {
  if (opening <= 0) return;
  const absl::Time give_up = absl::Now() + absl::Seconds(60);
  while (started - settled() >= opening && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(1));
  }
}

// townhalld's CPU time (user + system, s) from /proc/<pid>/stat; -1 if
// unknown.
double ServerCpuSeconds(int pid) {
  if (pid <= 0) return -1;
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string stat((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  // Fields after the command name (which may hold spaces): state is 3,
  // utime 14, stime 15.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::vector<std::string> fields =
      absl::StrSplit(stat.substr(close + 2), ' ', absl::SkipEmpty());
  int64_t utime = 0, stime = 0;
  if (fields.size() < 13 || !absl::SimpleAtoi(fields[11], &utime) ||
      !absl::SimpleAtoi(fields[12], &stime)) {
    return -1;
  }
  return static_cast<double>(utime + stime) / sysconf(_SC_CLK_TCK);
}

class WatchBench;

// One WatchQueue stream (a callback reactor: no thread of its own).
class Watcher final : public grpc::ClientReadReactor<v1::WatchQueueResponse> {
 public:
  Watcher(WatchBench* bench, int index) : bench_(bench), index_(index) {}
  void Start(v1::QuestionService::Stub* stub, const std::string& session_id,
             const std::string& auth) {
    request_.set_session_id(session_id);
    context_.AddMetadata("authorization", auth);
    stub->async()->WatchQueue(&context_, &request_, this);
    StartRead(&response_);
    StartCall();
  }
  void Cancel() { context_.TryCancel(); }
  void OnReadDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;

  std::atomic<int64_t> vote_messages{0};
  std::atomic<int64_t> snapshots{0};
  grpc::Status status;

 private:
  WatchBench* bench_;
  const int index_;
  grpc::ClientContext context_;
  v1::WatchQueueRequest request_;
  v1::WatchQueueResponse response_;
};

struct Delivery {
  double p50_ms = 0, p99_ms = 0, max_ms = 0;
  double done_p50_ms = 0, done_p99_ms = 0, done_max_ms = 0;
  double approve_p50_ms = 0, approve_max_ms = 0;
  int64_t delivered = 0, missing = 0, duplicates = 0;
};

class WatchBench {
 public:
  WatchBench(int watchers, int deliveries)
      : watchers_(watchers),
        deliveries_(deliveries),
        received_(static_cast<size_t>(watchers) * deliveries),
        counts_(deliveries),
        started_(deliveries),
        done_(deliveries) {
    for (auto& r : received_) r.store(0, std::memory_order_relaxed);
    for (auto& c : counts_) c.store(0, std::memory_order_relaxed);
  }

  // Reactor callbacks.
  void Received(int watcher, const v1::WatchQueueResponse& response) {
    if (response.has_snapshot()) return;
    const v1::QueueChange& change = response.change();
    if (change.kind() != "question.approved") return;
    int64_t now = NowNanos();
    for (const v1::Question& q : change.questions()) {
      int i = IterationOf(q.id());
      if (i < 0) continue;
      int64_t expected = 0;
      if (received_[static_cast<size_t>(watcher) * deliveries_ + i]
              .compare_exchange_strong(expected, now)) {
        counts_[i].fetch_add(1);
      } else {
        duplicates_.fetch_add(1);
      }
    }
  }
  void SnapshotArrived() { snapshots_.fetch_add(1); }
  void WatcherDone() { finished_.fetch_add(1); }
  int snapshots() const { return snapshots_.load(); }
  int finished() const { return finished_.load(); }

  void Expect(const std::string& question_id, int iteration) {
    absl::MutexLock lock(&mu_);
    iteration_of_[question_id] = iteration;
  }
  void Started(int i, int64_t t) { started_[i] = t; }
  void Finished(int i, int64_t t) { done_[i] = t; }
  // Waits until every watcher has question i or `timeout` passed.
  bool WaitAll(int i, absl::Duration timeout) {
    absl::Time give_up = absl::Now() + timeout;
    while (counts_[i].load() < watchers_) {
      if (absl::Now() > give_up) return false;
      absl::SleepFor(absl::Microseconds(500));
    }
    return true;
  }

  // Latencies of iterations [from, to) over every watcher.
  Delivery Summarize(int from, int to) const {
    Delivery d;
    std::vector<int64_t> from_start, from_done, approve;
    for (int i = from; i < to; ++i) {
      approve.push_back(done_[i] - started_[i]);
      for (int w = 0; w < watchers_; ++w) {
        int64_t t = received_[static_cast<size_t>(w) * deliveries_ + i].load();
        if (t == 0) {
          ++d.missing;
          continue;
        }
        ++d.delivered;
        from_start.push_back(t - started_[i]);
        from_done.push_back(t - done_[i]);
      }
    }
    auto pct = [](std::vector<int64_t>& v, double p) -> double {
      if (v.empty()) return 0;
      size_t rank = static_cast<size_t>(p / 100.0 * v.size());
      return v[std::min(rank, v.size() - 1)] / 1e6;
    };
    std::sort(from_start.begin(), from_start.end());
    std::sort(from_done.begin(), from_done.end());
    std::sort(approve.begin(), approve.end());
    d.p50_ms = pct(from_start, 50);
    d.p99_ms = pct(from_start, 99);
    d.max_ms = pct(from_start, 100);
    d.done_p50_ms = pct(from_done, 50);
    d.done_p99_ms = pct(from_done, 99);
    d.done_max_ms = pct(from_done, 100);
    d.approve_p50_ms = pct(approve, 50);
    d.approve_max_ms = pct(approve, 100);
    d.duplicates = duplicates_.load();
    return d;
  }

 private:
  int IterationOf(const std::string& id) {
    absl::ReaderMutexLock lock(&mu_);
    auto it = iteration_of_.find(id);
    return it == iteration_of_.end() ? -1 : it->second;
  }

  const int watchers_;
  const int deliveries_;
  std::vector<std::atomic<int64_t>> received_;  // [watcher][iteration], ns
  std::vector<std::atomic<int>> counts_;
  std::vector<int64_t> started_, done_;  // ApproveQuestion call start / end
  std::atomic<int> snapshots_{0};
  std::atomic<int> finished_{0};
  std::atomic<int64_t> duplicates_{0};
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, int> iteration_of_ ABSL_GUARDED_BY(mu_);
};

void Watcher::OnReadDone(bool ok) {
  if (!ok) return;  // OnDone follows
  if (response_.has_snapshot()) {
    if (snapshots.fetch_add(1) == 0) bench_->SnapshotArrived();
  } else if (response_.change().kind() == "question.votes") {
    vote_messages.fetch_add(1, std::memory_order_relaxed);
  } else {
    bench_->Received(index_, response_);
  }
  StartRead(&response_);
}

void Watcher::OnDone(const grpc::Status& s) {
  status = s;
  bench_->WatcherDone();
}

std::string DeliveryJson(const Delivery& d) {
  return absl::StrFormat(
      "{\"delivered\":%d,\"missing\":%d,\"duplicates\":%d,"
      "\"from_start_ms\":{\"p50\":%.2f,\"p99\":%.2f,\"max\":%.2f},"
      "\"from_done_ms\":{\"p50\":%.2f,\"p99\":%.2f,\"max\":%.2f},"
      "\"approve_rpc_ms\":{\"p50\":%.2f,\"max\":%.2f}}",
      d.delivered, d.missing, d.duplicates, d.p50_ms, d.p99_ms, d.max_ms,
      d.done_p50_ms, d.done_p99_ms, d.done_max_ms, d.approve_p50_ms,
      d.approve_max_ms);
}

int Watch() {
  const std::string server = absl::GetFlag(FLAGS_server);
  const std::string token = absl::GetFlag(FLAGS_token);
  const std::string tenant = absl::GetFlag(FLAGS_tenant);
  const int num_watchers = std::max(1, absl::GetFlag(FLAGS_watchers));
  const int deliveries = std::max(1, absl::GetFlag(FLAGS_deliveries));
  const int vote_concurrency = absl::GetFlag(FLAGS_vote_concurrency);
  const int loaded = vote_concurrency > 0
                         ? std::max(1, absl::GetFlag(FLAGS_loaded_deliveries))
                         : 0;
  const int server_pid = absl::GetFlag(FLAGS_server_pid);
  const absl::Duration interval = absl::GetFlag(FLAGS_delivery_interval);
  if (token.empty()) {
    std::cerr << "townhall-bench: --token is required (see --setup)\n";
    return 2;
  }
  std::vector<Channel> control = MakeChannels(server, token, 1, 1000);
  if (!WaitForServer(*control[0].client, absl::GetFlag(FLAGS_wait))) return 1;
  TownhallClient& organizer = *control[0].client;
  v1::QuestionService::Stub& questions = *control[0].questions;

  auto session =
      CreateQuestionSession(organizer, questions, v1::MODERATION_MODE_PRE, 1);
  if (!session.ok()) {
    std::cerr << "townhall-bench: watch session: " << session.status() << "\n";
    return 1;
  }
  auto approve = [&](const std::string& id) -> absl::Status {
    v1::ApproveQuestionRequest request;
    request.set_session_id(*session);
    request.set_question_id(id);
    v1::ApproveQuestionResponse response;
    return QuestionCall(organizer, questions,
                        &v1::QuestionService::Stub::ApproveQuestion, request,
                        &response);
  };
  // Questions to vote on (approved before the watchers come: they are in
  // every snapshot).
  int64_t text_seq = 100000;
  if (vote_concurrency > 0) {
    for (int i = 0; i < 20; ++i) {
      auto id =
          SubmitAs(organizer, questions, *session, "author-v", text_seq++);
      absl::Status ok = id.ok() ? approve(*id) : id.status();
      if (!ok.ok()) {
        std::cerr << "townhall-bench: vote question: " << ok << "\n";
        return 1;
      }
    }
  }
  auto auth =
      ParticipantAuth(tenant, *session, ParticipantIds("w-", num_watchers));
  if (!auth.ok()) {
    std::cerr << "townhall-bench: watcher tokens: " << auth.status() << "\n";
    return 1;
  }

  const int num_channels = std::max(1, absl::GetFlag(FLAGS_watch_channels));
  std::vector<Channel> channels = MakeChannels(server, token, num_channels);
  for (Channel& ch : channels) {
    if (!WaitForServer(*ch.client, absl::GetFlag(FLAGS_wait))) return 1;
  }

  WatchBench bench(num_watchers, deliveries + loaded);
  std::vector<std::unique_ptr<Watcher>> watchers;
  watchers.reserve(num_watchers);
  absl::SleepFor(absl::Seconds(1));
  const int64_t rss_before = ServerRssKb(server_pid);
  absl::Time open_start = absl::Now();
  for (int i = 0; i < num_watchers; ++i) {
    WaitForOpeningBelow(absl::GetFlag(FLAGS_watch_opening), i,
                        [&] { return bench.snapshots() + bench.finished(); });
    watchers.push_back(std::make_unique<Watcher>(&bench, i));
    watchers.back()->Start(channels[i % num_channels].questions.get(), *session,
                           (*auth)[i]);
  }
  absl::Time give_up = absl::Now() + absl::Seconds(120);
  while (bench.snapshots() < num_watchers && absl::Now() < give_up &&
         bench.finished() == 0) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  const double open_s = absl::ToDoubleSeconds(absl::Now() - open_start);
  if (bench.snapshots() < num_watchers) {
    std::cerr << "townhall-bench: only " << bench.snapshots() << " of "
              << num_watchers << " snapshots arrived";
    for (auto& w : watchers) {
      if (!w->status.ok()) {
        std::cerr << "; first failure: " << w->status.error_code() << " "
                  << w->status.error_message();
        break;
      }
    }
    std::cerr << "\n";
    for (auto& w : watchers) w->Cancel();
    while (bench.finished() < num_watchers)
      absl::SleepFor(absl::Milliseconds(10));
    return 1;
  }
  absl::SleepFor(absl::Seconds(3));  // idle: let the server settle
  const int64_t rss_after = ServerRssKb(server_pid);

  // One delivery: submit (pending: participants don't see it), then time
  // ApproveQuestion and the "question.approved" change at every watcher.
  int next = 0;
  auto deliver = [&]() -> absl::Status {
    int i = next++;
    auto id = SubmitAs(organizer, questions, *session, "author-w", text_seq++);
    if (!id.ok()) return id.status();
    bench.Expect(*id, i);
    bench.Started(i, NowNanos());
    absl::Status ok = approve(*id);
    bench.Finished(i, NowNanos());
    if (!ok.ok()) return ok;
    if (!bench.WaitAll(i, absl::Seconds(10))) {
      std::cerr << "townhall-bench: question " << i
                << " did not reach every watcher within 10s\n";
    }
    absl::SleepFor(interval);
    return absl::OkStatus();
  };
  double cpu0 = CpuSeconds();
  const double server_cpu0 = ServerCpuSeconds(server_pid);
  for (int i = 0; i < deliveries; ++i) {
    absl::Status ok = deliver();
    if (!ok.ok()) {
      std::cerr << "townhall-bench: delivery " << i << ": " << ok << "\n";
      return 1;
    }
  }
  double idle_cpu = CpuSeconds() - cpu0;
  const double idle_server_cpu =
      server_cpu0 < 0 ? -1 : ServerCpuSeconds(server_pid) - server_cpu0;
  Delivery idle = bench.Summarize(0, deliveries);

  // Under a background vote load.
  std::string loaded_json = "null";
  if (loaded > 0) {
    std::vector<Channel> vote_channels = MakeChannels(server, token, 4, 2000);
    auto space = MakeVoteSpace(vote_channels[0], *session,
                               std::max(1, absl::GetFlag(FLAGS_participants)));
    if (!space.ok()) {
      std::cerr << "townhall-bench: vote load: " << space.status() << "\n";
      return 1;
    }
    absl::Duration run = absl::Seconds(5) +
                         loaded * (interval + absl::Milliseconds(300)) +
                         absl::Seconds(2);
    Bench votes(RpcKind::kUpvote, &vote_channels, &*space);
    Result vote_result;
    std::thread load([&] {
      vote_result = votes.Run(vote_concurrency, absl::Seconds(1), run);
    });
    absl::SleepFor(absl::Seconds(2));
    // First a quiet window (votes only): the coalesced rate alone. Then
    // the deliveries (each approval also ends a held run of votes).
    std::vector<int64_t> before(num_watchers);
    auto vote_rates = [&](double window_s) {
      std::vector<double> rates(num_watchers);
      for (int w = 0; w < num_watchers; ++w) {
        int64_t now = watchers[w]->vote_messages.load();
        rates[w] = (now - before[w]) / window_s;
        before[w] = now;
      }
      std::sort(rates.begin(), rates.end());
      return rates;
    };
    vote_rates(1);
    absl::Time quiet_start = absl::Now();
    absl::SleepFor(absl::Seconds(3));
    std::vector<double> quiet =
        vote_rates(absl::ToDoubleSeconds(absl::Now() - quiet_start));
    absl::Time window_start = absl::Now();
    for (int i = 0; i < loaded; ++i) {
      absl::Status ok = deliver();
      if (!ok.ok()) {
        std::cerr << "townhall-bench: loaded delivery " << i << ": " << ok
                  << "\n";
        break;
      }
    }
    std::vector<double> rates =
        vote_rates(absl::ToDoubleSeconds(absl::Now() - window_start));
    load.join();
    Delivery d = bench.Summarize(deliveries, deliveries + loaded);
    int64_t vote_errors = 0;
    for (int c = 1; c < kNumCodes; ++c) vote_errors += vote_result.codes[c];
    loaded_json = absl::StrFormat(
        "{\"vote_concurrency\":%d,\"votes_ok_per_s\":%.1f,\"vote_errors\":%d,"
        "\"vote_p99_ms\":%.2f,\"vote_msgs_per_watcher_per_s\":{\"min\":%.2f,"
        "\"p50\":%.2f,\"max\":%.2f},\"vote_msgs_per_watcher_per_s_quiet\":{"
        "\"min\":%.2f,\"p50\":%.2f,\"max\":%.2f},\"deliveries\":%s}",
        vote_concurrency, vote_result.ok / vote_result.seconds, vote_errors,
        vote_result.latencies_us.empty()
            ? 0.0
            : vote_result.latencies_us[std::min(
                  vote_result.latencies_us.size() - 1,
                  static_cast<size_t>(0.99 *
                                      vote_result.latencies_us.size()))] /
                  1e3,
        rates.front(), rates[rates.size() / 2], rates.back(), quiet.front(),
        quiet[quiet.size() / 2], quiet.back(), DeliveryJson(d));
  }

  int64_t resnapshots = 0;
  for (auto& w : watchers) resnapshots += w->snapshots.load() - 1;
  for (auto& w : watchers) w->Cancel();
  give_up = absl::Now() + absl::Seconds(30);
  while (bench.finished() < num_watchers && absl::Now() < give_up)
    absl::SleepFor(absl::Milliseconds(10));

  const double per_watcher_bytes =
      rss_before >= 0 && rss_after >= 0
          ? (rss_after - rss_before) * 1024.0 / num_watchers
          : -1;
  std::cout << absl::StrFormat(
      "{\"mode\":\"watch\",\"watchers\":%d,\"channels\":%d,"
      "\"open_all_s\":%.2f,\"server_rss_before_kb\":%d,"
      "\"server_rss_after_kb\":%d,\"server_bytes_per_watcher\":%.0f,"
      "\"deliveries\":%d,\"interval_ms\":%d,\"resnapshots\":%d,"
      "\"client_cpu_s_idle_phase\":%.2f,\"server_cpu_s_idle_phase\":%.2f,"
      "\"server_cpu_us_per_delivered\":%.2f,\"idle\":%s,\"loaded\":%s}\n",
      num_watchers, num_channels, open_s, rss_before, rss_after,
      per_watcher_bytes, deliveries,
      static_cast<int>(absl::ToInt64Milliseconds(interval)), resnapshots,
      idle_cpu, idle_server_cpu,
      idle.delivered > 0 && idle_server_cpu >= 0
          ? idle_server_cpu * 1e6 / idle.delivered
          : -1.0,
      DeliveryJson(idle), loaded_json);
  return idle.missing == 0 ? 0 : 1;
}

// ----------------------------------------------------------------
// --watch_polls

// One WatchPolls stream (a callback reactor): when each "poll.ballot"
// change arrived and the ballot_count it carried.
class PollWatcher final
    : public grpc::ClientReadReactor<v1::WatchPollsResponse> {
 public:
  PollWatcher(std::atomic<int>* snapshots, std::atomic<int>* finished)
      : snapshots_(snapshots), finished_(finished) {}
  void Start(v1::PollService::Stub* stub, const std::string& session_id,
             const std::string& auth) {
    request_.set_session_id(session_id);
    context_.AddMetadata("authorization", auth);
    stub->async()->WatchPolls(&context_, &request_, this);
    StartRead(&response_);
    StartCall();
  }
  void Cancel() { context_.TryCancel(); }
  void OnReadDone(bool ok) override {
    if (!ok) return;  // OnDone follows
    if (response_.has_snapshot()) {
      if (snapshots_seen.fetch_add(1) == 0) snapshots_->fetch_add(1);
    } else if (response_.change().kind() == "poll.ballot") {
      const int64_t count = response_.change().poll().ballot_count();
      arrivals.push_back({NowNanos(), count});
      if (count > covered.load(std::memory_order_relaxed)) {
        covered.store(count, std::memory_order_relaxed);
      }
    }
    StartRead(&response_);
  }
  void OnDone(const grpc::Status& s) override {
    status = s;
    finished_->fetch_add(1);
  }

  // (arrival ns, ballot_count) of each ballot change; read only after
  // OnDone (this reactor's reads are sequential).
  std::vector<std::pair<int64_t, int64_t>> arrivals;
  std::atomic<int64_t> covered{0};
  std::atomic<int> snapshots_seen{0};
  grpc::Status status;

 private:
  std::atomic<int>* snapshots_;
  std::atomic<int>* finished_;
  grpc::ClientContext context_;
  v1::WatchPollsRequest request_;
  v1::WatchPollsResponse response_;
};

// One timed ballot: when its call started and its reply came, and the
// ballot_count the reply showed (its own ballot included).
struct TimedBallot {
  grpc::ClientContext context;
  v1::CastBallotRequest request;
  v1::CastBallotResponse response;
  int64_t start = 0;
  int64_t reply = 0;
  grpc::Status status;
};

std::string PercentilesJson(std::vector<int64_t> ns) {
  std::sort(ns.begin(), ns.end());
  auto pct = [&](double p) -> double {
    if (ns.empty()) return 0;
    size_t rank = static_cast<size_t>(p / 100.0 * ns.size());
    return ns[std::min(rank, ns.size() - 1)] / 1e6;
  };
  return absl::StrFormat("{\"p50\":%.2f,\"p99\":%.2f,\"max\":%.2f}", pct(50),
                         pct(99), pct(100));
}

int WatchPolls() {
  const std::string server = absl::GetFlag(FLAGS_server);
  const std::string token = absl::GetFlag(FLAGS_token);
  const std::string tenant = absl::GetFlag(FLAGS_tenant);
  const int num_watchers = std::max(1, absl::GetFlag(FLAGS_watchers));
  const int runs = std::max(1, absl::GetFlag(FLAGS_ballot_runs));
  const int run_size = std::max(1, absl::GetFlag(FLAGS_ballot_run_size));
  const int server_pid = absl::GetFlag(FLAGS_server_pid);
  const absl::Duration interval = absl::GetFlag(FLAGS_delivery_interval);
  if (token.empty()) {
    std::cerr << "townhall-bench: --token is required (see --setup)\n";
    return 2;
  }
  std::vector<Channel> control = MakeChannels(server, token, 4, 3000);
  if (!WaitForServer(*control[0].client, absl::GetFlag(FLAGS_wait))) return 1;

  // A fresh session: one voter per timed ballot, and the poll.
  std::string session_id;
  std::vector<std::string> voter_ids;
  const absl::Time setup_start = absl::Now();
  auto poll_id = CreatePollSession(*control[0].client, runs * run_size,
                                   absl::ToUnixSeconds(absl::Now()) % 100000,
                                   &session_id, &voter_ids);
  if (!poll_id.ok()) {
    std::cerr << "townhall-bench: poll session: " << poll_id.status() << "\n";
    return 1;
  }
  auto voter_auth = ParticipantAuth(tenant, session_id, voter_ids);
  auto watcher_auth =
      ParticipantAuth(tenant, session_id, ParticipantIds("pw-", num_watchers));
  if (!voter_auth.ok() || !watcher_auth.ok()) {
    std::cerr << "townhall-bench: tokens: "
              << (voter_auth.ok() ? watcher_auth.status() : voter_auth.status())
              << "\n";
    return 1;
  }
  std::cerr << "townhall-bench: " << voter_ids.size()
            << " voters registered in " << absl::Now() - setup_start << "\n";

  const int num_channels = std::max(1, absl::GetFlag(FLAGS_watch_channels));
  std::vector<Channel> channels = MakeChannels(server, token, num_channels);
  for (Channel& ch : channels) {
    if (!WaitForServer(*ch.client, absl::GetFlag(FLAGS_wait))) return 1;
  }
  std::atomic<int> snapshots{0};
  std::atomic<int> finished{0};
  std::vector<std::unique_ptr<PollWatcher>> watchers;
  watchers.reserve(num_watchers);
  absl::SleepFor(absl::Seconds(1));
  const int64_t rss_before = ServerRssKb(server_pid);
  const absl::Time open_start = absl::Now();
  for (int i = 0; i < num_watchers; ++i) {
    WaitForOpeningBelow(absl::GetFlag(FLAGS_watch_opening), i,
                        [&] { return snapshots.load() + finished.load(); });
    watchers.push_back(std::make_unique<PollWatcher>(&snapshots, &finished));
    watchers.back()->Start(channels[i % num_channels].polls.get(), session_id,
                           (*watcher_auth)[i]);
  }
  absl::Time give_up = absl::Now() + absl::Seconds(120);
  while (snapshots.load() < num_watchers && absl::Now() < give_up &&
         finished.load() == 0) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  const double open_s = absl::ToDoubleSeconds(absl::Now() - open_start);
  auto stop_all = [&] {
    for (auto& w : watchers) w->Cancel();
    const absl::Time until = absl::Now() + absl::Seconds(30);
    while (finished.load() < num_watchers && absl::Now() < until) {
      absl::SleepFor(absl::Milliseconds(10));
    }
    return finished.load() == num_watchers;
  };
  if (snapshots.load() < num_watchers) {
    std::cerr << "townhall-bench: only " << snapshots.load() << " of "
              << num_watchers << " snapshots arrived";
    for (auto& w : watchers) {
      if (finished.load() > 0 && !w->status.ok()) {
        std::cerr << "; first failure: " << w->status.error_code() << " "
                  << w->status.error_message();
        break;
      }
    }
    std::cerr << "\n";
    stop_all();
    return 1;
  }
  absl::SleepFor(absl::Seconds(3));  // idle: let the server settle
  const int64_t rss_after = ServerRssKb(server_pid);

  // The runs: run_size first ballots at once, then wait until every
  // watcher's count covers them all, then pause.
  std::vector<std::unique_ptr<TimedBallot>> ballots;
  int64_t ballot_errors = 0;
  std::string first_error;
  int64_t stragglers = 0;
  const absl::Time runs_start = absl::Now();
  for (int r = 0; r < runs; ++r) {
    absl::BlockingCounter pending(run_size);
    const size_t first = ballots.size();
    for (int k = 0; k < run_size; ++k) {
      const int v = r * run_size + k;
      auto b = std::make_unique<TimedBallot>();
      b->context.AddMetadata("authorization", (*voter_auth)[v]);
      b->context.set_deadline(
          absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
      b->request.set_session_id(session_id);
      b->request.set_poll_id(*poll_id);
      b->request.set_participant_id(voter_ids[v]);
      b->request.mutable_ballot()->add_option_ids(absl::StrCat(v % 4 + 1));
      b->request.set_request_id(absl::StrCat("bench-watch-ballot-", v));
      ballots.push_back(std::move(b));
    }
    for (size_t i = first; i < ballots.size(); ++i) {
      TimedBallot* b = ballots[i].get();
      b->start = NowNanos();
      control[i % control.size()].polls->async()->CastBallot(
          &b->context, &b->request, &b->response,
          [b, &pending](grpc::Status status) {
            b->reply = NowNanos();
            b->status = std::move(status);
            pending.DecrementCount();
          });
    }
    pending.Wait();
    int64_t target = 0;
    for (size_t i = first; i < ballots.size(); ++i) {
      const TimedBallot& b = *ballots[i];
      if (!b.status.ok()) {
        if (ballot_errors++ == 0) {
          first_error = absl::StrCat(CodeName(b.status.error_code()), ": ",
                                     b.status.error_message());
        }
        continue;
      }
      target = std::max(target, b.response.poll().ballot_count());
    }
    const absl::Time until = absl::Now() + absl::Seconds(10);
    for (auto& w : watchers) {
      while (w->covered.load(std::memory_order_relaxed) < target &&
             absl::Now() < until) {
        absl::SleepFor(absl::Microseconds(500));
      }
    }
    for (auto& w : watchers) {
      if (w->covered.load() < target) ++stragglers;
    }
    absl::SleepFor(interval);
  }
  const double runs_s = absl::ToDoubleSeconds(absl::Now() - runs_start);
  int64_t resnapshots = 0;
  for (auto& w : watchers) resnapshots += w->snapshots_seen.load() - 1;
  if (!stop_all()) {
    std::cerr << "townhall-bench: streams still open after cancel\n";
    return 1;
  }

  // Each (watcher, ballot): the first ballot change whose count covers the
  // ballot's, from the ballot's reply and from its call's start.
  std::vector<const TimedBallot*> ok;
  std::vector<int64_t> cast_ns;
  for (const auto& b : ballots) {
    if (!b->status.ok()) continue;
    ok.push_back(b.get());
    cast_ns.push_back(b->reply - b->start);
  }
  std::sort(ok.begin(), ok.end(),
            [](const TimedBallot* a, const TimedBallot* b) {
              return a->response.poll().ballot_count() <
                     b->response.poll().ballot_count();
            });
  std::vector<int64_t> from_reply, from_start;
  from_reply.reserve(ok.size() * num_watchers);
  from_start.reserve(ok.size() * num_watchers);
  int64_t missing = 0, before_reply = 0, messages = 0;
  for (const auto& w : watchers) {
    messages += static_cast<int64_t>(w->arrivals.size());
    size_t m = 0;
    int64_t seen = 0;  // the highest count up to arrival m
    for (const TimedBallot* b : ok) {
      const int64_t count = b->response.poll().ballot_count();
      while (seen < count && m < w->arrivals.size()) {
        seen = std::max(seen, w->arrivals[m].second);
        if (seen < count) ++m;
      }
      if (seen < count) {
        ++missing;
        continue;
      }
      const int64_t at = w->arrivals[m].first;
      if (at < b->reply) ++before_reply;
      from_reply.push_back(std::max<int64_t>(0, at - b->reply));
      from_start.push_back(at - b->start);
    }
  }
  std::cout << absl::StrFormat(
      "{\"mode\":\"poll_watch\",\"watchers\":%d,\"channels\":%d,"
      "\"open_all_s\":%.2f,\"server_rss_before_kb\":%d,"
      "\"server_rss_after_kb\":%d,\"server_bytes_per_watcher\":%.0f,"
      "\"runs\":%d,\"run_size\":%d,\"interval_ms\":%d,\"runs_s\":%.2f,"
      "\"ballots_ok\":%d,\"ballot_errors\":%d,\"first_error\":\"%s\","
      "\"delivered\":%d,\"missing\":%d,\"stragglers\":%d,"
      "\"seen_before_reply\":%d,\"from_reply_ms\":%s,\"from_start_ms\":%s,"
      "\"cast_rpc_ms\":%s,\"ballot_messages_per_watcher\":%.1f,"
      "\"resnapshots\":%d}\n",
      num_watchers, num_channels, open_s, rss_before, rss_after,
      rss_before >= 0 && rss_after >= 0
          ? (rss_after - rss_before) * 1024.0 / num_watchers
          : -1.0,
      runs, run_size, static_cast<int>(absl::ToInt64Milliseconds(interval)),
      runs_s, static_cast<int64_t>(ok.size()), ballot_errors,
      absl::CEscape(first_error), static_cast<int64_t>(from_reply.size()),
      missing, stragglers, before_reply, PercentilesJson(from_reply),
      PercentilesJson(from_start), PercentilesJson(cast_ns),
      static_cast<double>(messages) / num_watchers, resnapshots);
  return missing == 0 && ballot_errors == 0 ? 0 : 1;
}
}  // namespace
}  // namespace townhall

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "closed-loop load generator for townhalld; see bench/run_bench.sh");
  absl::ParseCommandLine(argc, argv);
  if (absl::GetFlag(FLAGS_setup)) return townhall::Setup();
  if (absl::GetFlag(FLAGS_watch)) return townhall::Watch();
  if (absl::GetFlag(FLAGS_watch_polls)) return townhall::WatchPolls();
  return townhall::Load();
}
