#include "services/polls/instant_runoff.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace townhall::polls {

v1::RankedChoiceResult CountInstantRunoff(
    const std::vector<std::string>& option_ids,
    const std::vector<RankedBallots>& ballots) {
  v1::RankedChoiceResult result;
  const int n = static_cast<int>(option_ids.size());
  int64_t total = 0;
  for (const RankedBallots& b : ballots) total += b.count;
  if (total == 0 || n == 0) return result;

  std::vector<bool> active(n, true);
  int remaining = n;
  // history[r][i]: votes of option i in round r (counted while active).
  std::vector<std::vector<int64_t>> history;
  while (true) {
    std::vector<int64_t> votes(n, 0);
    int64_t exhausted = 0;
    for (const RankedBallots& b : ballots) {
      int choice = -1;
      for (int i : b.ranking) {
        if (i >= 0 && i < n && active[i]) {
          choice = i;
          break;
        }
      }
      if (choice < 0) {
        exhausted += b.count;
      } else {
        votes[choice] += b.count;
      }
    }
    history.push_back(votes);
    v1::InstantRunoffRound* round = result.add_rounds();
    round->set_round(static_cast<int32_t>(history.size()));
    round->set_exhausted(exhausted);
    for (int i = 0; i < n; ++i) {
      if (!active[i]) continue;
      v1::OptionTally* tally = round->add_tallies();
      tally->set_option_id(option_ids[i]);
      tally->set_votes(votes[i]);
    }
    const int64_t counted = total - exhausted;
    for (int i = 0; i < n; ++i) {
      if (active[i] && counted > 0 && votes[i] * 2 > counted) {
        result.set_winner_option_id(option_ids[i]);
        return result;
      }
    }
    if (remaining <= 1 || counted == 0) {
      // Every ballot is exhausted (or one option is left without votes):
      // no majority can form.
      return result;
    }
    // The options tied for fewest votes in this round.
    std::vector<int> tied;
    int64_t fewest = INT64_MAX;
    for (int i = 0; i < n; ++i) {
      if (!active[i]) continue;
      if (votes[i] < fewest) {
        fewest = votes[i];
        tied.clear();
      }
      if (votes[i] == fewest) tied.push_back(i);
    }
    if (tied.size() > 1) {
      round->set_tie_broken(true);
      for (int r = static_cast<int>(history.size()) - 2;
           r >= 0 && tied.size() > 1; --r) {
        int64_t least = INT64_MAX;
        for (int i : tied) least = std::min(least, history[r][i]);
        std::vector<int> still;
        for (int i : tied) {
          if (history[r][i] == least) still.push_back(i);
        }
        tied = still;
      }
    }
    const int out = tied.back();  // the last listed of those still tied
    round->set_eliminated_option_id(option_ids[out]);
    active[out] = false;
    --remaining;
  }
}

}  // namespace townhall::polls
