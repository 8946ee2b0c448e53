// WatchPolls: a snapshot then every change, each carrying the whole poll as
// the watcher may see it; runs of ballots coalesced; one poll's stream;
// resuming; and the visibility table over GetPoll, ListPolls, WatchPolls
// and ExportPollResults for every kind of caller.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/common/auth/principal.h"
#include "tests/integration/polls/polls_fixture.h"

namespace townhall::testing {
namespace {

using ::testing::HasSubstr;

TEST_F(PollsTest, WatchSendsEveryChangeWithLiveTalliesToRunnersOnly) {
  v1::Poll definition =
      ChoicePoll(v1::POLL_KIND_SINGLE_CHOICE, {"Ta'lim", "Madaniyat"});
  definition.set_results_visibility(v1::RESULTS_VISIBILITY_AFTER_CLOSE);
  auto moderator = Watch(moderator_.token);
  auto participant = Watch(voters_[0].token);
  // Both start with an empty snapshot.
  ASSERT_GE(moderator->WaitFor(1).size(), 1u);
  ASSERT_GE(participant->WaitFor(1).size(), 1u);

  ASSERT_OK_AND_ASSIGN(v1::Poll made, Create(definition));
  ASSERT_OK(Open(made.id()).status());
  ASSERT_OK(Cast(voters_[0], made.id(), Options({"1"})).status());
  ASSERT_OK(Cast(voters_[1], made.id(), Options({"1"})).status());
  ASSERT_OK(Cast(voters_[2], made.id(), Options({"2"})).status());

  // The moderator sees the live tally of all three ballots.
  std::vector<v1::PollChange> seen = ChangesOf(
      moderator->WaitForPoll(made.id(), v1::POLL_STATE_OPEN, 3), made.id());
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.front().kind(), "poll.created");
  EXPECT_EQ(seen.back().poll().ballot_count(), 3);
  EXPECT_EQ(TallyText(seen.back().poll().results()), "1:2 2:1");
  EXPECT_EQ(seen.back().poll().question(), definition.question());
  // The participant sees the ballots counted, never the tally while open.
  std::vector<v1::PollChange> theirs = ChangesOf(
      participant->WaitForPoll(made.id(), v1::POLL_STATE_OPEN, 3), made.id());
  ASSERT_FALSE(theirs.empty());
  for (const v1::PollChange& change : theirs) {
    EXPECT_FALSE(change.poll().has_results()) << change.kind();
  }

  ASSERT_OK(Close(made.id()).status());
  theirs = ChangesOf(participant->WaitForPoll(made.id(), v1::POLL_STATE_CLOSED),
                     made.id());
  EXPECT_EQ(theirs.back().kind(), "poll.closed");
  EXPECT_EQ(TallyText(theirs.back().poll().results()), "1:2 2:1");
  ASSERT_OK(Publish(made.id()).status());
  seen = ChangesOf(moderator->WaitForPoll(made.id(), v1::POLL_STATE_PUBLISHED),
                   made.id());
  EXPECT_EQ(seen.back().kind(), "poll.published");

  // Versions strictly increase; a run of ballots may be one message, so at
  // most one message per change.
  int64_t last = 0;
  for (const v1::PollChange& change : seen) {
    EXPECT_GT(change.version(), last);
    last = change.version();
  }
  EXPECT_LE(seen.size(), 7u);  // created, opened, 3 ballots, closed, published
}

TEST_F(PollsTest, WatchShowsNoTallyOfAnOpenSecretPollToAnyone) {
  v1::Poll definition = ChoicePoll(v1::POLL_KIND_SINGLE_CHOICE, {"Ha", "Yo'q"});
  definition.set_secrecy(v1::BALLOT_SECRECY_SECRET);
  auto organizer = Watch(tenant_->token);
  ASSERT_GE(organizer->WaitFor(1).size(), 1u);
  const std::string id = Opened(definition);
  ASSERT_OK(Cast(voters_[0], id, Options({"1"})).status());
  ASSERT_OK(Cast(voters_[1], id, Options({"2"})).status());
  std::vector<v1::PollChange> seen =
      ChangesOf(organizer->WaitForPoll(id, v1::POLL_STATE_OPEN, 2), id);
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back().poll().ballot_count(), 2);
  for (const v1::PollChange& change : seen) {
    EXPECT_FALSE(change.poll().has_results()) << change.kind();
  }
  ASSERT_OK(Close(id).status());
  seen = ChangesOf(organizer->WaitForPoll(id, v1::POLL_STATE_CLOSED), id);
  EXPECT_EQ(TallyText(seen.back().poll().results()), "1:1 2:1");
}

TEST_F(PollsTest, WatchOfOnePollAndResumeAfterAVersion) {
  const std::string first =
      Opened(ChoicePoll(v1::POLL_KIND_SINGLE_CHOICE, {"A", "B"}));
  const std::string second =
      Opened(ChoicePoll(v1::POLL_KIND_SINGLE_CHOICE, {"C", "D"}, "Ikkinchi?"));
  auto one = Watch(moderator_.token, 0, second);
  std::vector<v1::WatchPollsResponse> got = one->WaitFor(1);
  ASSERT_FALSE(got.empty());
  ASSERT_TRUE(got[0].has_snapshot());
  ASSERT_EQ(got[0].snapshot().polls_size(), 1);
  EXPECT_EQ(got[0].snapshot().polls(0).id(), second);
  const int64_t snapshot_version = got[0].snapshot().version();

  ASSERT_OK(Cast(voters_[0], first, Options({"1"})).status());
  ASSERT_OK(Cast(voters_[0], second, Options({"2"})).status());
  got = one->WaitForPoll(second, v1::POLL_STATE_OPEN, 1);
  for (const auto& m : got) {
    if (m.has_change()) EXPECT_EQ(m.change().poll().id(), second);
  }
  EXPECT_EQ(ChangesOf(got, second).size(), 1u);

  // Resuming after the snapshot's version sends the two ballots (maybe as
  // one message per poll), with no snapshot.
  auto resumed = Watch(moderator_.token, snapshot_version);
  got = resumed->WaitForPoll(second, v1::POLL_STATE_OPEN, 1);
  ASSERT_FALSE(got.empty());
  EXPECT_FALSE(got[0].has_snapshot());
  EXPECT_EQ(ChangesOf(got, first).size(), 1u);
  EXPECT_EQ(TallyText(ChangesOf(got, first).back().poll().results()),
            "1:1 2:0");

  // A poll of nobody's: NOT_FOUND; a bad id: INVALID_ARGUMENT.
  auto missing = Watch(moderator_.token, 0, "no-such-poll");
  ASSERT_OK_AND_ASSIGN(grpc::Status ended, missing->Ended(absl::Seconds(10)));
  EXPECT_EQ(ended.error_code(), grpc::StatusCode::NOT_FOUND);
  auto bad = Watch(moderator_.token, 0, "bad id!");
  ASSERT_OK_AND_ASSIGN(ended, bad->Ended(absl::Seconds(10)));
  EXPECT_EQ(ended.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

// Who sees results, by caller kind, visibility rule and state, over
// GetPoll, ListPolls, WatchPolls (a fresh snapshot) and ExportPollResults.
TEST_F(PollsTest, VisibilityTableOverEveryReadForEveryCallerKind) {
  ASSERT_OK_AND_ASSIGN(Member observer,
                       Join("Kuzatuvchi", v1::SESSION_ROLE_OBSERVER));
  struct Caller {
    std::string name;
    std::string token;
    bool privileged;
    bool voted;
  };
  const std::vector<Caller> callers = {
      {"organizer", tenant_->token, true, false},
      {"moderator", moderator_.token, true, false},
      {"participant who voted", voters_[0].token, false, true},
      {"participant who did not", voters_[1].token, false, false},
      {"observer", observer.token, false, false},
      {"api key", ApiKeyToken(tenant_->id, ScopeBit(ApiScope::kReadSchedule)),
       false, false},
  };
  struct Rule {
    v1::ResultsVisibility visibility;
    v1::BallotSecrecy secrecy;
  };
  const std::vector<Rule> rules = {
      {v1::RESULTS_VISIBILITY_LIVE, v1::BALLOT_SECRECY_NAMED},
      {v1::RESULTS_VISIBILITY_AFTER_VOTING, v1::BALLOT_SECRECY_ANONYMOUS},
      {v1::RESULTS_VISIBILITY_AFTER_CLOSE, v1::BALLOT_SECRECY_NAMED},
      {v1::RESULTS_VISIBILITY_LIVE, v1::BALLOT_SECRECY_SECRET},
  };
  for (const Rule& rule : rules) {
    v1::Poll definition =
        ChoicePoll(v1::POLL_KIND_SINGLE_CHOICE, {"Bir", "Ikki"},
                   absl::StrCat("Savol ", rule.visibility, rule.secrecy));
    definition.set_results_visibility(rule.visibility);
    definition.set_secrecy(rule.secrecy);
    const std::string id = Opened(definition);
    ASSERT_OK(Cast(voters_[0], id, Options({"2"})).status());
    for (v1::PollState state : {v1::POLL_STATE_OPEN, v1::POLL_STATE_CLOSED,
                                v1::POLL_STATE_PUBLISHED}) {
      if (state == v1::POLL_STATE_CLOSED) ASSERT_OK(Close(id).status());
      if (state == v1::POLL_STATE_PUBLISHED) ASSERT_OK(Publish(id).status());
      const bool closed = state != v1::POLL_STATE_OPEN;
      for (const Caller& caller : callers) {
        SCOPED_TRACE(absl::StrCat(caller.name, ", ",
                                  v1::ResultsVisibility_Name(rule.visibility),
                                  ", ", v1::BallotSecrecy_Name(rule.secrecy),
                                  ", ", v1::PollState_Name(state)));
        // The rule (poll_rules.h, ResultsVisible), spelled out.
        bool sees = state == v1::POLL_STATE_PUBLISHED;
        if (!sees && !(rule.secrecy == v1::BALLOT_SECRECY_SECRET && !closed)) {
          sees =
              caller.privileged ||
              rule.visibility == v1::RESULTS_VISIBILITY_LIVE ||
              (rule.visibility == v1::RESULTS_VISIBILITY_AFTER_VOTING &&
               (caller.voted || closed)) ||
              (rule.visibility == v1::RESULTS_VISIBILITY_AFTER_CLOSE && closed);
        }
        ASSERT_OK_AND_ASSIGN(v1::GetPollResponse got, Get(caller.token, id));
        EXPECT_EQ(got.poll().has_results(), sees) << "GetPoll";
        if (sees) EXPECT_EQ(TallyText(got.poll().results()), "1:0 2:1");
        v1::ListPollsRequest list;
        list.set_session_id(sid());
        ASSERT_OK_AND_ASSIGN(v1::ListPollsResponse listed,
                             Client(caller.token).ListPolls(list));
        bool listed_sees = false;
        for (const v1::Poll& p : listed.polls()) {
          if (p.id() == id) listed_sees = p.has_results();
        }
        EXPECT_EQ(listed_sees, sees) << "ListPolls";
        // WatchPolls does not know who voted: AFTER_VOTING shows a
        // non-runner the results once the poll is closed.
        const bool watch_sees =
            sees && !(rule.visibility == v1::RESULTS_VISIBILITY_AFTER_VOTING &&
                      !caller.privileged && !closed);
        PollWatcher watcher(ServerEnvironment::server().Client().channel(),
                            caller.token, sid(), 0, id);
        std::vector<v1::WatchPollsResponse> first = watcher.WaitFor(1);
        ASSERT_FALSE(first.empty());
        ASSERT_EQ(first[0].snapshot().polls_size(), 1);
        EXPECT_EQ(first[0].snapshot().polls(0).has_results(), watch_sees)
            << "WatchPolls";
        // Exports: runners once closed, everyone else once published.
        absl::StatusOr<v1::ExportPollResultsResponse> exported =
            Export(caller.token, id, v1::POLL_EXPORT_FORMAT_CSV);
        const bool exports =
            state == v1::POLL_STATE_PUBLISHED || (caller.privileged && closed);
        EXPECT_EQ(exported.ok(), exports) << exported.status();
        if (exports && exported.ok()) {
          EXPECT_THAT(exported->content(), HasSubstr("option,,2,Ikki,,1"));
        } else if (!exported.ok()) {
          EXPECT_EQ(exported.status().code(), PollCode::kFailedPrecondition);
        }
      }
    }
  }
}

}  // namespace
}  // namespace townhall::testing
