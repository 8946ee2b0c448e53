// Instant-runoff counting of ranked-choice ballots: a pure function, so
// that the rounds can be checked against hand-computed ones
// (instant_runoff_test.cc).
//
//   std::vector<RankedBallots> ballots = {{{0, 1}, 4}, {{1, 0}, 3}};
//   v1::RankedChoiceResult result = CountInstantRunoff({"1", "2"}, ballots);
//   // one round: "1" has 4 of 7 ballots, more than half: it wins.
//
// The rule (also in polls.proto, InstantRunoffRound):
//   - each round counts every ballot for its highest-ranked option still in
//     the race; a ballot that ranks none of them is exhausted;
//   - an option with more than half of the round's counted (not exhausted)
//     ballots wins;
//   - otherwise the option with the fewest votes is eliminated. A tie for
//     fewest is broken by the earlier rounds, latest first: of the tied
//     options, those with the fewest votes in that round stay tied, the
//     others are safe; if the tie survives every round, the tied option
//     listed last in the poll is eliminated (`tie_broken` marks the round).
//   Without ballots there are no rounds and no winner.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "townhall/v1/polls.pb.h"

namespace townhall::polls {

// `count` identical ballots ranking `ranking` (indexes into the options,
// most preferred first, each at most once).
struct RankedBallots {
  std::vector<int> ranking;
  int64_t count = 0;
};

// Counts `ballots` for `option_ids` (the poll's order) by instant runoff.
v1::RankedChoiceResult CountInstantRunoff(
    const std::vector<std::string>& option_ids,
    const std::vector<RankedBallots>& ballots);

}  // namespace townhall::polls
