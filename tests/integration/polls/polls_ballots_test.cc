// Ballots: every kind counted exactly, changing a ballot, request ids,
// rate limits, refusals, and concurrent voters.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/integration/polls/polls_fixture.h"

namespace townhall::testing {
namespace {

using ::testing::HasSubstr;

TEST_F(PollsTest, EveryKindCountedExactly) {
  // Single choice and a motion.
  const std::string single = Opened(
      ChoicePoll(v1::POLL_KIND_SINGLE_CHOICE, {"Pensiya", "Viza", "Ta'lim"}));
  ASSERT_OK(Cast(voters_[0], single, Options({"2"})).status());
  ASSERT_OK(Cast(voters_[1], single, Options({"2"})).status());
  ASSERT_OK(Cast(voters_[2], single, Options({"3"})).status());
  EXPECT_EQ(TallyText(Moderated(single).results()), "1:0 2:2 3:1");

  v1::Poll motion;
  motion.set_kind(v1::POLL_KIND_MOTION);
  motion.set_question("Kelishuv 3 qabul qilinsinmi?");
  motion.set_agenda_item_id("item-agreement-3");
  const std::string vote = Opened(motion);
  ASSERT_OK(Cast(voters_[0], vote, Options({"yes"})).status());
  ASSERT_OK(Cast(voters_[1], vote, Options({"abstain"})).status());
  EXPECT_EQ(TallyText(Moderated(vote).results()), "yes:1 no:0 abstain:1");

  // Multiple choice, at most 2.
  v1::Poll multiple =
      ChoicePoll(v1::POLL_KIND_MULTIPLE_CHOICE, {"A", "B", "C"});
  multiple.set_max_choices(2);
  const std::string multi = Opened(multiple);
  ASSERT_OK(Cast(voters_[0], multi, Options({"1", "3"})).status());
  ASSERT_OK(Cast(voters_[1], multi, Options({"3"})).status());
  EXPECT_EQ(Cast(voters_[2], multi, Options({"1", "2", "3"})).status().code(),
            PollCode::kInvalidArgument);
  EXPECT_EQ(TallyText(Moderated(multi).results()), "1:1 2:0 3:2");
  ASSERT_OK(Close(single).status());
  ASSERT_OK(Close(vote).status());

  // Rating scale 1..5.
  v1::Poll scale;
  scale.set_kind(v1::POLL_KIND_RATING_SCALE);
  scale.set_question("Muloqot foydali bo'ldimi?");
  const std::string rating = Opened(scale);
  for (int i = 0; i < 3; ++i) {
    v1::Ballot b;
    b.set_rating(i == 2 ? 2 : 5);
    ASSERT_OK(Cast(voters_[i], rating, b).status());
  }
  v1::Ballot out_of_range;
  out_of_range.set_rating(6);
  EXPECT_THAT(Cast(moderator_, rating, out_of_range).status().message(),
              HasSubstr("ballot.rating: must be 1 to 5"));
  v1::PollResults rated = Moderated(rating).results();
  ASSERT_EQ(rated.ratings_size(), 5);
  EXPECT_EQ(rated.ratings(4).votes(), 2);
  EXPECT_EQ(rated.ratings(1).votes(), 1);
  EXPECT_DOUBLE_EQ(rated.mean_rating(), 4.0);

  // Word cloud: one group across scripts and cases.
  v1::Poll cloud;
  cloud.set_kind(v1::POLL_KIND_WORD_CLOUD);
  cloud.set_question("Bir so'z bilan?");
  cloud.set_max_choices(2);
  const std::string words = Opened(cloud);
  auto entries = [](std::vector<std::string> w) {
    v1::Ballot b;
    for (const std::string& s : w) b.add_words(s);
    return b;
  };
  ASSERT_OK(Cast(voters_[0], words, entries({"Пенсия", "viza"})).status());
  ASSERT_OK(Cast(voters_[1], words, entries({"pensiya"})).status());
  ASSERT_OK(Cast(voters_[2], words, entries({"PENSIYA"})).status());
  v1::PollResults cloud_results = Moderated(words).results();
  ASSERT_EQ(cloud_results.words_size(), 2);
  EXPECT_EQ(cloud_results.words(0).text(), "Пенсия");
  EXPECT_EQ(cloud_results.words(0).count(), 3);
  EXPECT_EQ(cloud_results.words(1).count(), 1);
}

TEST_F(PollsTest, RankedChoiceByInstantRunoff) {
  // The hand-computed case of instant_runoff_test (TransfersDecide...):
  // A,B x4; B,C x3; C,B x2: C out, then B wins 5 to 4.
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> voters,
                       RegisterVoters(9, "Ranked voter"));
  const std::string id =
      Opened(ChoicePoll(v1::POLL_KIND_RANKED_CHOICE, {"A", "B", "C"}));
  int n = 0;
  for (const auto& [ranking, count] :
       std::vector<std::pair<std::vector<std::string>, int>>{
           {{"1", "2"}, 4}, {{"2", "3"}, 3}, {{"3", "2"}, 2}}) {
    for (int i = 0; i < count; ++i) {
      ASSERT_OK(CastFor(voters[n++], id, Options(ranking)).status());
    }
  }
  v1::RankedChoiceResult result = Moderated(id).results().ranked_choice();
  ASSERT_EQ(result.rounds_size(), 2);
  EXPECT_EQ(result.rounds(0).eliminated_option_id(), "3");
  EXPECT_EQ(TallyText([&] {
              v1::PollResults r;
              *r.mutable_tallies() = result.rounds(1).tallies();
              return r;
            }()),
            "1:4 2:5");
  EXPECT_EQ(result.winner_option_id(), "2");
}

TEST_F(PollsTest, ChangesRetriesAndRefusals) {
  v1::Poll changeable = ChoicePoll(v1::POLL_KIND_SINGLE_CHOICE, {"Ha", "Yo'q"});
  changeable.set_allow_change(true);
  const std::string id = Opened(changeable);
  const Member& v = voters_[0];
  ASSERT_OK_AND_ASSIGN(v1::CastBallotResponse first,
                       Cast(v, id, Options({"1"}), "req-1"));
  EXPECT_TRUE(first.changed());
  // A retry with the same request id votes once.
  ASSERT_OK_AND_ASSIGN(v1::CastBallotResponse retry,
                       Cast(v, id, Options({"1"}), "req-1"));
  EXPECT_FALSE(retry.changed());
  // Another participant with the same request id is a new ballot.
  ASSERT_OK(Cast(voters_[1], id, Options({"1"}), "req-1").status());
  ASSERT_OK_AND_ASSIGN(v1::CastBallotResponse changed,
                       Cast(v, id, Options({"2"}), "req-2"));
  EXPECT_TRUE(changed.changed());
  v1::Poll now = Moderated(id);
  EXPECT_EQ(now.ballot_count(), 2);
  EXPECT_EQ(TallyText(now.results()), "1:1 2:1");

  // Not changeable: a different ballot is refused, the same one is a no-op.
  const std::string fixed =
      Opened(ChoicePoll(v1::POLL_KIND_SINGLE_CHOICE, {"Ha", "Yo'q"}));
  ASSERT_OK(Cast(v, fixed, Options({"1"})).status());
  ASSERT_OK_AND_ASSIGN(v1::CastBallotResponse same,
                       Cast(v, fixed, Options({"1"})));
  EXPECT_FALSE(same.changed());
  EXPECT_EQ(Cast(v, fixed, Options({"2"})).status().code(),
            PollCode::kFailedPrecondition);
  // A choice that does not exist, and a closed poll.
  absl::StatusOr<v1::CastBallotResponse> unknown =
      Cast(voters_[2], fixed, Options({"7"}));
  EXPECT_EQ(unknown.status().code(), PollCode::kInvalidArgument);
  EXPECT_THAT(unknown.status().message(), HasSubstr("7 is not an option"));
  ASSERT_OK(Close(fixed).status());
  EXPECT_EQ(Cast(voters_[2], fixed, Options({"1"})).status().code(),
            PollCode::kFailedPrecondition);
  EXPECT_EQ(TallyText(Moderated(fixed).results()), "1:1 2:0");
  // Another member cannot vote for v (the access table: own only).
  v1::CastBallotRequest for_other;
  for_other.set_session_id(sid());
  for_other.set_poll_id(id);
  for_other.set_participant_id(v.participant_id);
  *for_other.mutable_ballot() = Options({"1"});
  EXPECT_EQ(As(voters_[2]).CastBallot(for_other).status().code(),
            PollCode::kPermissionDenied);
}

TEST_F(PollsTest, BallotsAreRateLimited) {
  v1::Poll changeable = ChoicePoll(v1::POLL_KIND_SINGLE_CHOICE, {"Ha", "Yo'q"});
  changeable.set_allow_change(true);
  const std::string id = Opened(changeable);
  absl::Status last;
  int accepted = 0;
  for (int i = 0; i < 40 && last.ok(); ++i) {
    last = Cast(voters_[0], id, Options({i % 2 == 0 ? "1" : "2"})).status();
    if (last.ok()) ++accepted;
  }
  EXPECT_EQ(last.code(), PollCode::kResourceExhausted) << last;
  EXPECT_THAT(last.message(), HasSubstr("at most 30 ballots per minute"));
  EXPECT_GE(accepted, 30);
  EXPECT_EQ(Moderated(id).ballot_count(), 1);
}

TEST_F(PollsTest, ConcurrentVotersAndChangesTallyTheFinalBallots) {
  v1::Poll changeable =
      ChoicePoll(v1::POLL_KIND_SINGLE_CHOICE, {"A", "B", "C"});
  changeable.set_allow_change(true);
  constexpr int kVoters = 200;
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> crowd,
                       RegisterVoters(kVoters, "Crowd"));
  const std::string id = Opened(changeable);
  constexpr int kThreads = 8;
  std::vector<std::thread> threads;
  std::vector<absl::Status> failures(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int v = t; v < kVoters; v += kThreads) {
        const std::string& voter = crowd[v];
        for (const char* choice :
             {"1", v % 3 == 0 ? "1" : "2", v % 3 == 2 ? "3" : "2"}) {
          absl::Status s = CastFor(voter, id, Options({choice})).status();
          if (!s.ok()) failures[t] = s;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (const absl::Status& s : failures) ASSERT_OK(s);
  std::map<std::string, int> expected;
  for (int v = 0; v < kVoters; ++v) expected[v % 3 == 2 ? "3" : "2"]++;
  v1::Poll poll = Moderated(id);
  EXPECT_EQ(poll.ballot_count(), kVoters);
  EXPECT_EQ(TallyText(poll.results()),
            absl::StrCat("1:0 2:", expected["2"], " 3:", expected["3"]));
}

}  // namespace
}  // namespace townhall::testing
