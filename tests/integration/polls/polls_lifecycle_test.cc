// Polls: creating (the bad-input table), DRAFT -> OPEN -> CLOSED ->
// PUBLISHED, reopening with a reason, the close timer, the cap on open
// polls, and the moderation log.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/proto_time.h"
#include "tests/integration/polls/polls_fixture.h"

namespace townhall::testing {
namespace {

using ::testing::HasSubstr;

TEST_F(PollsTest, CreateRefusesBadInputWithAClearMessage) {
  std::vector<std::string> thousand;
  for (int i = 0; i < 1000; ++i) thousand.push_back(absl::StrCat("Mavzu ", i));
  struct Case {
    std::string name;
    v1::Poll poll;
    std::string message;
  };
  const Case cases[] = {
      {"empty options", ChoicePoll(v1::POLL_KIND_SINGLE_CHOICE, {}),
       "poll.options"},
      {"1,000 options", ChoicePoll(v1::POLL_KIND_SINGLE_CHOICE, thousand),
       "at most 100 options (got 1000)"},
      {"duplicate after normalization",
       ChoicePoll(v1::POLL_KIND_RANKED_CHOICE, {"Pensiya", "PENSIYA "}),
       "poll.options[1].text"},
      {"duplicate across scripts",
       ChoicePoll(v1::POLL_KIND_MULTIPLE_CHOICE, {"Пенсия", "Pensiya"}),
       "poll.options[1].text"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<v1::Poll> made = Create(c.poll);
    ASSERT_FALSE(made.ok());
    EXPECT_EQ(made.status().code(), PollCode::kInvalidArgument);
    EXPECT_THAT(made.status().message(), HasSubstr(c.message));
  }
  // Invalid UTF-8 never reaches the logic: the request does not decode.
  absl::StatusOr<v1::Poll> bad_utf8 =
      Create(ChoicePoll(v1::POLL_KIND_SINGLE_CHOICE, {"Ha", "Yo'q \xff"}));
  EXPECT_EQ(bad_utf8.status().code(), PollCode::kInvalidArgument);
  // Nothing was stored.
  v1::ListPollsRequest list;
  list.set_session_id(sid());
  ASSERT_OK_AND_ASSIGN(v1::ListPollsResponse polls,
                       Organizer().ListPolls(list));
  EXPECT_EQ(polls.polls_size(), 0);
}

TEST_F(PollsTest, LifecycleWithReopenAndModerationLog) {
  ASSERT_OK_AND_ASSIGN(
      v1::Poll poll,
      Create(ChoicePoll(v1::POLL_KIND_SINGLE_CHOICE, {"Ha", "Yo'q"}), "r-1"));
  EXPECT_EQ(poll.state(), v1::POLL_STATE_DRAFT);
  // A retry of the create returns the same poll.
  ASSERT_OK_AND_ASSIGN(
      v1::Poll again,
      Create(ChoicePoll(v1::POLL_KIND_SINGLE_CHOICE, {"Ha", "Yo'q"}), "r-1"));
  EXPECT_EQ(again.id(), poll.id());

  EXPECT_EQ(Publish(poll.id()).status().code(), PollCode::kFailedPrecondition);
  ASSERT_OK_AND_ASSIGN(v1::Poll open, Open(poll.id()));
  EXPECT_EQ(open.state(), v1::POLL_STATE_OPEN);
  EXPECT_TRUE(open.has_open_time());
  ASSERT_OK_AND_ASSIGN(v1::Poll closed, Close(poll.id()));
  EXPECT_EQ(closed.state(), v1::POLL_STATE_CLOSED);
  // Reopening needs a reason.
  EXPECT_EQ(Open(poll.id()).status().code(), PollCode::kInvalidArgument);
  ASSERT_OK_AND_ASSIGN(v1::Poll reopened,
                       Open(poll.id(), "two delegates could not connect"));
  EXPECT_EQ(reopened.state(), v1::POLL_STATE_OPEN);
  EXPECT_EQ(reopened.reopen_count(), 1);
  ASSERT_OK(Close(poll.id()).status());
  ASSERT_OK_AND_ASSIGN(v1::Poll published, Publish(poll.id()));
  EXPECT_EQ(published.state(), v1::POLL_STATE_PUBLISHED);
  EXPECT_EQ(Close(poll.id()).status().code(), PollCode::kFailedPrecondition);

  v1::ListModerationLogRequest log;
  log.set_session_id(sid());
  ASSERT_OK_AND_ASSIGN(v1::ListModerationLogResponse actions,
                       Organizer().ListModerationLog(log));
  std::vector<std::string> seen;
  for (const v1::ModerationAction& a : actions.actions()) {
    ASSERT_EQ(a.poll_ids_size(), 1) << a.ShortDebugString();
    EXPECT_EQ(a.poll_ids(0), poll.id());
    seen.push_back(a.action());
    if (a.action() == "poll.reopen") {
      EXPECT_EQ(a.detail(), "two delegates could not connect");
    }
  }
  EXPECT_THAT(seen, ::testing::UnorderedElementsAre(
                        "poll.create", "poll.open", "poll.close", "poll.reopen",
                        "poll.close", "poll.publish"));
}

TEST_F(PollsTest, TimerClosesWithoutABackgroundJob) {
  v1::Poll poll = ChoicePoll(v1::POLL_KIND_SINGLE_CHOICE, {"Ha", "Yo'q"});
  SetTime(absl::Now() + absl::Milliseconds(1500), poll.mutable_closes_at());
  const std::string id = Opened(poll);
  ASSERT_OK(Cast(voters_[0], id, Options({"1"})).status());
  absl::SleepFor(absl::Milliseconds(1700));
  v1::Poll read = Moderated(id);
  EXPECT_EQ(read.state(), v1::POLL_STATE_CLOSED);
  EXPECT_EQ(read.close_time().seconds(), read.closes_at().seconds());
  absl::StatusOr<v1::CastBallotResponse> late =
      Cast(voters_[1], id, Options({"2"}));
  EXPECT_EQ(late.status().code(), PollCode::kFailedPrecondition);
  EXPECT_EQ(Moderated(id).ballot_count(), 1);
}

TEST_F(PollsTest, AtMostFiveOpenPolls) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(Opened(ChoicePoll(v1::POLL_KIND_SINGLE_CHOICE, {"Ha", "Yo'q"},
                                    absl::StrCat("Savol ", i))));
  }
  ASSERT_OK_AND_ASSIGN(
      v1::Poll sixth,
      Create(ChoicePoll(v1::POLL_KIND_SINGLE_CHOICE, {"Ha", "Yo'q"})));
  absl::StatusOr<v1::Poll> refused = Open(sixth.id());
  EXPECT_EQ(refused.status().code(), PollCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(), HasSubstr("at most 5"));
  ASSERT_OK(Close(ids[0]).status());
  EXPECT_OK(Open(sixth.id()).status());
}

}  // namespace
}  // namespace townhall::testing
