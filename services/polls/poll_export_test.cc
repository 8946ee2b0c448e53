#include "services/polls/poll_export.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace townhall::polls {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;

v1::Poll ChoicePollWithResults() {
  v1::Poll poll;
  poll.set_kind(v1::POLL_KIND_SINGLE_CHOICE);
  poll.set_state(v1::POLL_STATE_CLOSED);
  for (const char* text : {"Maktablar", "Pensiyalar"}) {
    v1::PollOption* option = poll.add_options();
    option->set_id(std::to_string(poll.options_size()));
    option->set_text(text);
  }
  v1::PollResults& results = *poll.mutable_results();
  results.set_ballot_count(3);
  v1::OptionTally* a = results.add_tallies();
  a->set_option_id("1");
  a->set_votes(2);
  v1::OptionTally* b = results.add_tallies();
  b->set_option_id("2");
  b->set_votes(1);
  return poll;
}

TEST(PollResultSummaryTest, EveryKind) {
  EXPECT_EQ(PollResultSummary(ChoicePollWithResults()),
            "Maktablar 2, Pensiyalar 1 (3 ballots)");

  v1::Poll rating;
  rating.set_kind(v1::POLL_KIND_RATING_SCALE);
  rating.set_state(v1::POLL_STATE_CLOSED);
  rating.set_scale_min(1);
  rating.set_scale_max(5);
  rating.mutable_results()->set_ballot_count(1);
  rating.mutable_results()->set_mean_rating(4);
  EXPECT_EQ(PollResultSummary(rating), "mean 4.00 on 1 to 5 (1 ballot)");

  v1::Poll ranked = ChoicePollWithResults();
  ranked.set_kind(v1::POLL_KIND_RANKED_CHOICE);
  ranked.mutable_results()->clear_tallies();
  ranked.mutable_results()->mutable_ranked_choice()->add_rounds();
  ranked.mutable_results()->mutable_ranked_choice()->add_rounds();
  ranked.mutable_results()->mutable_ranked_choice()->set_winner_option_id("2");
  EXPECT_EQ(PollResultSummary(ranked),
            "winner: Pensiyalar after 2 rounds (3 ballots)");

  v1::Poll cloud;
  cloud.set_kind(v1::POLL_KIND_WORD_CLOUD);
  cloud.set_state(v1::POLL_STATE_PUBLISHED);
  cloud.mutable_results()->set_ballot_count(9);
  for (int i = 0; i < 7; ++i) {
    v1::WordCount* word = cloud.mutable_results()->add_words();
    word->set_text(std::string(1, static_cast<char>('a' + i)));
    word->set_count(7 - i);
  }
  EXPECT_EQ(PollResultSummary(cloud), "a 7, b 6, c 5, d 4, e 3 (9 ballots)");

  v1::Poll motion;
  motion.set_kind(v1::POLL_KIND_MOTION);
  motion.set_state(v1::POLL_STATE_CLOSED);
  v1::PollResults& r = *motion.mutable_results();
  r.set_ballot_count(10);
  r.set_eligible_count(20);
  r.set_turnout(0.5);
  r.set_quorum_reached(false);
  r.mutable_motion()->set_yes(6);
  r.mutable_motion()->set_no(3);
  r.mutable_motion()->set_abstain(1);
  r.mutable_motion()->set_base(9);
  r.mutable_motion()->set_required(5);
  EXPECT_EQ(PollResultSummary(motion),
            "not adopted: yes 6, no 3, abstain 1 (5 of 9 required) (10 "
            "ballots; turnout 50%, quorum not reached)");

  // Results the reader may not see.
  v1::Poll hidden = ChoicePollWithResults();
  hidden.clear_results();
  EXPECT_EQ(PollResultSummary(hidden), "results not published");
}

TEST(PollResultRowsTest, OneRowPerCountedItem) {
  EXPECT_THAT(PollResultHeader(), ElementsAre("section", "round", "option_id",
                                              "option", "value", "votes"));
  std::vector<std::vector<std::string>> rows =
      PollResultRows(ChoicePollWithResults());
  EXPECT_THAT(rows,
              ElementsAre(ElementsAre("option", "", "1", "Maktablar", "", "2"),
                          ElementsAre("option", "", "2", "Pensiyalar", "", "1"),
                          ElementsAre("ballots", "", "", "", "", "3")));

  v1::Poll ranked = ChoicePollWithResults();
  ranked.set_kind(v1::POLL_KIND_RANKED_CHOICE);
  ranked.mutable_results()->clear_tallies();
  v1::InstantRunoffRound* round =
      ranked.mutable_results()->mutable_ranked_choice()->add_rounds();
  round->set_round(1);
  *round->add_tallies() = ChoicePollWithResults().results().tallies(0);
  round->set_exhausted(0);
  round->set_eliminated_option_id("2");
  round->set_tie_broken(true);
  ranked.mutable_results()->mutable_ranked_choice()->set_winner_option_id("1");
  rows = PollResultRows(ranked);
  EXPECT_THAT(rows,
              Contains(ElementsAre("round", "1", "1", "Maktablar", "", "2")));
  EXPECT_THAT(rows, Contains(ElementsAre("round_eliminated", "1", "2",
                                         "Pensiyalar", "tie broken", "")));
  EXPECT_THAT(rows,
              Contains(ElementsAre("winner", "", "1", "Maktablar", "", "")));
  // No results, no rows.
  v1::Poll hidden = ChoicePollWithResults();
  hidden.clear_results();
  EXPECT_TRUE(PollResultRows(hidden).empty());
}

}  // namespace
}  // namespace townhall::polls
