// The fixture of the PollService integration tests
// (tests/integration/polls/polls_<aggregate>_test.cc): a tenant of its own
// on the shared in-process server, a live session with a moderator and
// three registered participants holding real join tokens, and helpers to
// create, move and vote in polls. Include it in exactly one .cc of a test
// binary (it includes shared_server.h).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "services/common/redis/redis_connection.h"
#include "tests/integration/questions/questions_client.h"
#include "tests/testing/shared_server.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/stream_reader.h"

namespace townhall::testing {

using PollCode = absl::StatusCode;

inline v1::Poll ChoicePoll(v1::PollKind kind,
                           const std::vector<std::string>& options,
                           const std::string& question = "Qaysi mavzu?") {
  v1::Poll poll;
  poll.set_kind(kind);
  poll.set_question(question);
  for (const std::string& text : options) poll.add_options()->set_text(text);
  return poll;
}

inline v1::Ballot Options(const std::vector<std::string>& ids) {
  v1::Ballot ballot;
  for (const std::string& id : ids) ballot.add_option_ids(id);
  return ballot;
}

// Appends one call of cast_ballot.lua to a batch's ARGV (the script's
// header lists them): a single-option ballot by `who`, rate-limited at
// `per_minute`; `idem` is the idempotency key suffix ('' for none); a
// receipt unless `view`.
inline void AddScriptBallot(std::vector<std::string>& args,
                            const std::string& poll_id, const std::string& who,
                            const std::string& option,
                            const std::string& now_ms,
                            const std::string& idem = "",
                            const std::string& per_minute = "30",
                            bool view = false) {
  args.insert(args.end(),
              {poll_id, who, option, "0",
               absl::StrCat(R"({"optionIds":[")", option, R"("]})"), now_ms,
               idem, "1", per_minute, "", view ? "1" : "0"});
}

// The kind of each call's reply of a batch script ('' for an empty one).
inline std::vector<std::string> ReplyKinds(const RedisReply& reply) {
  std::vector<std::string> kinds;
  for (const RedisReply& each : reply.elements) {
    kinds.push_back(each.elements.empty() ? "" : each.elements[0].str);
  }
  return kinds;
}

// "1:2 2:0 3:1": a results' option tallies.
inline std::string TallyText(const v1::PollResults& results) {
  std::string out;
  for (const v1::OptionTally& t : results.tallies()) {
    if (!out.empty()) out += " ";
    absl::StrAppend(&out, t.option_id(), ":", t.votes());
  }
  return out;
}

// A WatchPolls stream read on a thread of its own.
class PollWatcher : public StreamReader<v1::WatchPollsResponse> {
 public:
  PollWatcher(std::shared_ptr<grpc::Channel> channel, const std::string& token,
              const std::string& session_id, int64_t after_version = 0,
              const std::string& poll_id = "")
      : StreamReader(
            token,
            [stub = std::shared_ptr(v1::PollService::NewStub(channel)),
             session_id, after_version, poll_id](grpc::ClientContext* context) {
              v1::WatchPollsRequest request;
              request.set_session_id(session_id);
              request.set_after_version(after_version);
              request.set_poll_id(poll_id);
              return stub->WatchPolls(context, request);
            }) {}

  // Waits until a change says `poll_id` is in `state` with `ballots`
  // ballots (any count: -1); all messages so far.
  std::vector<v1::WatchPollsResponse> WaitForPoll(
      const std::string& poll_id, v1::PollState state, int64_t ballots = -1,
      absl::Duration timeout = absl::Seconds(10)) {
    return WaitUntil(
        [&](const std::vector<v1::WatchPollsResponse>& got) {
          for (const auto& m : got) {
            if (!m.has_change() || m.change().poll().id() != poll_id) continue;
            const v1::Poll& p = m.change().poll();
            if (p.state() == state &&
                (ballots < 0 || p.ballot_count() == ballots)) {
              return true;
            }
          }
          return false;
        },
        timeout);
  }
};

// The changes of `messages` about `poll_id`, in order.
inline std::vector<v1::PollChange> ChangesOf(
    const std::vector<v1::WatchPollsResponse>& messages,
    const std::string& poll_id) {
  std::vector<v1::PollChange> out;
  for (const auto& m : messages) {
    if (m.has_change() && m.change().poll().id() == poll_id) {
      out.push_back(m.change());
    }
  }
  return out;
}

class PollsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(tenant_, NewTenant());
    ASSERT_OK_AND_ASSIGN(session_, NewQuestionsSession(tenant_->client, true,
                                                       "Muloqot: so'rovlar"));
    ASSERT_OK_AND_ASSIGN(moderator_,
                         Join("Moderator Aziza", v1::SESSION_ROLE_MODERATOR));
    for (const char* name :
         {"Dilshod Karimov", "Ирина Петрова", "Ali Valiyev"}) {
      ASSERT_OK_AND_ASSIGN(Member m, Join(name));
      voters_.push_back(m);
    }
  }

  const std::string& sid() const { return session_.id(); }

  absl::StatusOr<Member> Join(
      const std::string& name,
      v1::SessionRole role = v1::SESSION_ROLE_PARTICIPANT) {
    return NewMember(tenant_->client, sid(), name, role);
  }

  // `n` more participants with CONFIRMED registrations in the session (no
  // join tokens: the organizer casts for them, CastFor); their ids.
  absl::StatusOr<std::vector<std::string>> RegisterVoters(
      int n, const std::string& prefix) {
    TownhallClient organizer = Organizer();
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) {
      absl::StatusOr<Member> m =
          NewParticipant(organizer, absl::StrCat(prefix, " ", i));
      if (!m.ok()) return m.status();
      v1::RegisterRequest reg;
      reg.set_session_id(sid());
      reg.set_participant_id(m->participant_id);
      absl::StatusOr<v1::RegisterResponse> registered = organizer.Register(reg);
      if (!registered.ok()) return registered.status();
      ids.push_back(m->participant_id);
    }
    return ids;
  }

  TownhallClient Client(const std::string& token) const {
    return ServerEnvironment::server().Client(token);
  }
  TownhallClient Organizer() const { return Client(tenant_->token); }
  TownhallClient As(const Member& m) const { return Client(m.token); }

  absl::StatusOr<v1::Poll> Create(const v1::Poll& poll,
                                  const std::string& request_id = "") {
    v1::CreatePollRequest request;
    request.set_session_id(sid());
    *request.mutable_poll() = poll;
    request.set_request_id(request_id);
    absl::StatusOr<v1::CreatePollResponse> made =
        As(moderator_).CreatePoll(request);
    if (!made.ok()) return made.status();
    return made->poll();
  }

  absl::StatusOr<v1::Poll> Open(const std::string& poll_id,
                                const std::string& reason = "") {
    v1::OpenPollRequest request;
    request.set_session_id(sid());
    request.set_poll_id(poll_id);
    request.set_reason(reason);
    absl::StatusOr<v1::OpenPollResponse> opened =
        As(moderator_).OpenPoll(request);
    if (!opened.ok()) return opened.status();
    return opened->poll();
  }

  // Creates and opens; the poll's id ("" on failure).
  std::string Opened(const v1::Poll& poll) {
    absl::StatusOr<v1::Poll> made = Create(poll);
    EXPECT_TRUE(made.ok()) << made.status();
    if (!made.ok()) return "";
    absl::StatusOr<v1::Poll> opened = Open(made->id());
    EXPECT_TRUE(opened.ok()) << opened.status();
    return made->id();
  }

  absl::StatusOr<v1::Poll> Close(const std::string& poll_id) {
    v1::ClosePollRequest request;
    request.set_session_id(sid());
    request.set_poll_id(poll_id);
    absl::StatusOr<v1::ClosePollResponse> closed =
        As(moderator_).ClosePoll(request);
    if (!closed.ok()) return closed.status();
    return closed->poll();
  }

  absl::StatusOr<v1::Poll> Publish(const std::string& poll_id) {
    v1::PublishPollRequest request;
    request.set_session_id(sid());
    request.set_poll_id(poll_id);
    absl::StatusOr<v1::PublishPollResponse> published =
        As(moderator_).PublishPoll(request);
    if (!published.ok()) return published.status();
    return published->poll();
  }

  absl::StatusOr<v1::CastBallotResponse> Cast(
      const Member& m, const std::string& poll_id, const v1::Ballot& ballot,
      const std::string& request_id = "",
      v1::BallotReply reply = v1::BALLOT_REPLY_UNSPECIFIED) {
    v1::CastBallotRequest request;
    request.set_session_id(sid());
    request.set_poll_id(poll_id);
    request.set_participant_id(m.participant_id);
    *request.mutable_ballot() = ballot;
    request.set_request_id(request_id);
    request.set_reply(reply);
    return As(m).CastBallot(request);
  }

  // The organizer casting for `participant_id` (not rate-limited).
  absl::StatusOr<v1::CastBallotResponse> CastFor(
      const std::string& participant_id, const std::string& poll_id,
      const v1::Ballot& ballot) {
    v1::CastBallotRequest request;
    request.set_session_id(sid());
    request.set_poll_id(poll_id);
    request.set_participant_id(participant_id);
    *request.mutable_ballot() = ballot;
    return Organizer().CastBallot(request);
  }

  std::unique_ptr<PollWatcher> Watch(const std::string& token,
                                     int64_t after_version = 0,
                                     const std::string& poll_id = "") {
    return std::make_unique<PollWatcher>(
        ServerEnvironment::server().Client().channel(), token, sid(),
        after_version, poll_id);
  }

  absl::StatusOr<v1::ExportPollResultsResponse> Export(
      const std::string& token, const std::string& poll_id,
      v1::PollExportFormat format) {
    v1::ExportPollResultsRequest request;
    request.set_session_id(sid());
    request.set_poll_id(poll_id);
    request.set_format(format);
    return Client(token).ExportPollResults(request);
  }

  absl::StatusOr<v1::GetPollResponse> Get(const std::string& token,
                                          const std::string& poll_id) {
    v1::GetPollRequest request;
    request.set_session_id(sid());
    request.set_poll_id(poll_id);
    return Client(token).GetPoll(request);
  }

  // The poll as its moderator sees it (live results).
  v1::Poll Moderated(const std::string& poll_id) {
    absl::StatusOr<v1::GetPollResponse> got = Get(moderator_.token, poll_id);
    EXPECT_TRUE(got.ok()) << got.status();
    return got.ok() ? got->poll() : v1::Poll();
  }

  std::optional<Tenant> tenant_;
  v1::Session session_;
  Member moderator_;
  std::vector<Member> voters_;
};

}  // namespace townhall::testing
