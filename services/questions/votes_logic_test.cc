// The pure parts of a vote: which requests are refused before Redis, the
// arguments of lua/vote.lua, and what each of its replies means.
#include "services/questions/votes_logic.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "services/common/status.h"
#include "services/questions/question_logic.h"
#include "services/questions/question_store.h"
#include "townhall/v1/questions.pb.h"

namespace townhall::questions {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

RedisReply Bulk(const std::string& s) {
  RedisReply r;
  r.type = RedisReply::Type::kString;
  r.str = s;
  return r;
}

RedisReply Array(const std::vector<std::string>& parts) {
  RedisReply r;
  r.type = RedisReply::Type::kArray;
  for (const std::string& p : parts) r.elements.push_back(Bulk(p));
  return r;
}

TEST(VoteTest, ValidationNamesTheFirstBadId) {
  v1::UpvoteQuestionRequest request;
  request.set_session_id("s1");
  request.set_question_id("q1");
  request.set_participant_id("p1");
  EXPECT_TRUE(ValidateVote(VoteTargetOf(request)).ok());
  v1::WithdrawVoteRequest withdraw;
  withdraw.set_session_id("s1");
  withdraw.set_question_id("q 1");
  withdraw.set_participant_id("");
  absl::Status status = ValidateVote(VoteTargetOf(withdraw));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("question_id"));
  withdraw.set_question_id("q1");
  EXPECT_THAT(ValidateVote(VoteTargetOf(withdraw)).message(),
              HasSubstr("participant_id"));
}

TEST(VoteTest, ScriptCallLaysOutKeysAndArguments) {
  Principal participant;
  participant.role = Role::kParticipant;
  participant.tenant_id = "t1";
  v1::UpvoteQuestionRequest request;
  request.set_session_id("s1");
  request.set_question_id("q1");
  request.set_participant_id("p1");
  const absl::Time now = absl::FromUnixMillis(1798000000123);
  VoteScriptCall up =
      MakeVoteScriptCall(participant, VoteTargetOf(request), true, now);
  EXPECT_EQ(up.key_prefix, QueuePrefix("t1", "s1"));
  EXPECT_THAT(up.args, ElementsAre("q1", "p1", "1798000000123", "1", "1",
                                   "2026-12-23T04:26:40.123000Z"));
  // Withdrawals say 0; tenant organizers are not rate-limited.
  Principal organizer;
  organizer.role = Role::kOrganizer;
  organizer.tenant_id = "t1";
  VoteScriptCall down =
      MakeVoteScriptCall(organizer, VoteTargetOf(request), false, now);
  EXPECT_EQ(down.args[3], "0");
  EXPECT_EQ(down.args[4], "0");
}

TEST(VoteTest, DecodesEveryOutcome) {
  absl::StatusOr<VoteResult> ok = DecodeVoteReply(Array({"OK", "7"}), "q1");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->votes, 7);
  EXPECT_TRUE(ok->changed);

  absl::StatusOr<VoteResult> same =
      DecodeVoteReply(Array({"UNCHANGED", "7"}), "q1");
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_FALSE(same->changed);

  absl::StatusOr<VoteResult> limited =
      DecodeVoteReply(Array({"RATE_LIMITED", "1500", "120"}), "q1");
  EXPECT_EQ(limited.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(limited.status().message(), HasSubstr("at most 120 votes"));
  EXPECT_EQ(limited.status().GetPayload(kRetryAfterPayload),
            absl::Cord("1500"));

  absl::StatusOr<VoteResult> missing =
      DecodeVoteReply(Array({"NOT_FOUND"}), "q1");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("question q1"));

  absl::StatusOr<VoteResult> pending =
      DecodeVoteReply(Array({"BAD_STATE", "PENDING"}), "q1");
  EXPECT_EQ(pending.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(pending.status().message(),
              HasSubstr("is QUESTION_STATUS_PENDING: only APPROVED or PINNED"));

  EXPECT_EQ(DecodeVoteReply(Array({"OK", "many"}), "q1").status().code(),
            absl::StatusCode::kInternal);
  EXPECT_EQ(DecodeVoteReply(Bulk("OK"), "q1").status().code(),
            absl::StatusCode::kInternal);
  EXPECT_EQ(
      DecodeVoteReply(absl::UnavailableError("down"), "q1").status().code(),
      absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace townhall::questions
