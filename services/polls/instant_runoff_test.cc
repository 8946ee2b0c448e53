// Instant runoff against rounds computed by hand (the rule is in
// instant_runoff.h). Options are "1", "2", ... = A, B, C, ...
#include "services/polls/instant_runoff.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace townhall::polls {
namespace {

constexpr int A = 0, B = 1, C = 2, D = 3;

std::vector<std::string> Options(int n) {
  std::vector<std::string> ids;
  for (int i = 1; i <= n; ++i) ids.push_back(std::to_string(i));
  return ids;
}

// "1:4 2:3" for a round's tallies.
std::string Tallies(const v1::InstantRunoffRound& round) {
  std::string out;
  for (const v1::OptionTally& t : round.tallies()) {
    if (!out.empty()) out += " ";
    out += t.option_id() + ":" + std::to_string(t.votes());
  }
  return out;
}

TEST(InstantRunoffTest, MajorityInTheFirstRound) {
  v1::RankedChoiceResult r =
      CountInstantRunoff(Options(3), {{{A}, 5}, {{B}, 3}, {{C}, 1}});
  ASSERT_EQ(r.rounds_size(), 1);
  EXPECT_EQ(Tallies(r.rounds(0)), "1:5 2:3 3:1");
  EXPECT_EQ(r.rounds(0).eliminated_option_id(), "");
  EXPECT_EQ(r.winner_option_id(), "1");
}

TEST(InstantRunoffTest, TransfersDecideTheWinner) {
  // R1: A4 B3 C2 of 9, no majority, C out; R2: A4 B5 (C's two go to B).
  v1::RankedChoiceResult r =
      CountInstantRunoff(Options(3), {{{A, B}, 4}, {{B, C}, 3}, {{C, B}, 2}});
  ASSERT_EQ(r.rounds_size(), 2);
  EXPECT_EQ(Tallies(r.rounds(0)), "1:4 2:3 3:2");
  EXPECT_EQ(r.rounds(0).eliminated_option_id(), "3");
  EXPECT_FALSE(r.rounds(0).tie_broken());
  EXPECT_EQ(Tallies(r.rounds(1)), "1:4 2:5");
  EXPECT_EQ(r.winner_option_id(), "2");
}

TEST(InstantRunoffTest, TieWithoutHistoryEliminatesTheLaterOption) {
  // R1: A3 B2 C2 of 7: B and C tie for fewest, no earlier round: C (later)
  // goes. R2: A3 B2, C's two ballots exhausted: A has 3 of 5 counted.
  v1::RankedChoiceResult r =
      CountInstantRunoff(Options(3), {{{A}, 3}, {{B}, 2}, {{C}, 2}});
  ASSERT_EQ(r.rounds_size(), 2);
  EXPECT_TRUE(r.rounds(0).tie_broken());
  EXPECT_EQ(r.rounds(0).eliminated_option_id(), "3");
  EXPECT_EQ(Tallies(r.rounds(1)), "1:3 2:2");
  EXPECT_EQ(r.rounds(1).exhausted(), 2);
  EXPECT_EQ(r.winner_option_id(), "1");
}

TEST(InstantRunoffTest, TieBrokenByAnEarlierRound) {
  // R1: A7 B4 C5 D1 of 17, D out. R2: A7 B5 C5: B and C tie; in R1 B had
  // 4 < 5, so B goes (not C, the later one). R3: A7 C9, one ballot
  // (D, B) exhausted: C has 9 of 16.
  v1::RankedChoiceResult r = CountInstantRunoff(
      Options(4), {{{A}, 7}, {{B, C}, 4}, {{C}, 5}, {{D, B}, 1}});
  ASSERT_EQ(r.rounds_size(), 3);
  EXPECT_EQ(Tallies(r.rounds(0)), "1:7 2:4 3:5 4:1");
  EXPECT_EQ(r.rounds(0).eliminated_option_id(), "4");
  EXPECT_FALSE(r.rounds(0).tie_broken());
  EXPECT_EQ(Tallies(r.rounds(1)), "1:7 2:5 3:5");
  EXPECT_TRUE(r.rounds(1).tie_broken());
  EXPECT_EQ(r.rounds(1).eliminated_option_id(), "2");
  EXPECT_EQ(Tallies(r.rounds(2)), "1:7 3:9");
  EXPECT_EQ(r.rounds(2).exhausted(), 1);
  EXPECT_EQ(r.winner_option_id(), "3");
}

TEST(InstantRunoffTest, EvenSplitOfTwo) {
  // R1: A2 B2, no majority; B (later) goes by the tie rule; R2: A wins
  // with B's ballots exhausted.
  v1::RankedChoiceResult r =
      CountInstantRunoff(Options(2), {{{A}, 2}, {{B}, 2}});
  ASSERT_EQ(r.rounds_size(), 2);
  EXPECT_TRUE(r.rounds(0).tie_broken());
  EXPECT_EQ(r.rounds(0).eliminated_option_id(), "2");
  EXPECT_EQ(r.winner_option_id(), "1");
}

TEST(InstantRunoffTest, NoBallotsNoRounds) {
  v1::RankedChoiceResult r = CountInstantRunoff(Options(3), {});
  EXPECT_EQ(r.rounds_size(), 0);
  EXPECT_EQ(r.winner_option_id(), "");
}

}  // namespace
}  // namespace townhall::polls
