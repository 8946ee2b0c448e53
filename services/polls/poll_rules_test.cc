// The pure poll rules: what a new poll and a ballot may be, the results
// counted from a stored tally, and who sees them.
#include "services/polls/poll_rules.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/proto_json.h"
#include "services/common/proto_time.h"

namespace townhall::polls {
namespace {

using ::testing::HasSubstr;

v1::Poll Choice(std::vector<std::string> options) {
  v1::Poll poll;
  poll.set_kind(v1::POLL_KIND_SINGLE_CHOICE);
  poll.set_question("Which topic should the next dialogue take first?");
  for (std::string& text : options) poll.add_options()->set_text(text);
  return poll;
}

struct BadPoll {
  std::string name;
  v1::Poll poll;
  std::string message;  // part of the INVALID_ARGUMENT message
};

TEST(PollRulesTest, RefusesBadPollsWithAClearMessage) {
  std::vector<std::string> thousand;
  for (int i = 0; i < 1000; ++i) thousand.push_back(absl::StrCat("Topic ", i));
  std::vector<BadPoll> cases = {
      {"no options", Choice({}),
       "poll.options: a POLL_KIND_SINGLE_CHOICE "
       "poll needs at least 2 options (got 0)"},
      {"one option", Choice({"Pensions"}), "at least 2 options (got 1)"},
      {"1,000 options", Choice(thousand),
       "poll.options: at most 100 options (got 1000)"},
      {"same after case folding", Choice({"Pensions", "PENSIONS"}),
       "poll.options[1].text: \"PENSIONS\" is the same option as "
       "poll.options[0]"},
      {"same in another script", Choice({"Ўзбекистон", "O'zbekiston"}),
       "poll.options[1].text"},
      {"look-alike letters", Choice({"Pensions", "Реnsions"}),
       "poll.options[1].text"},
      {"invalid UTF-8", Choice({"Pensions", "Visas \xff"}),
       "poll.options[1].text"},
      {"empty option", Choice({"Pensions", "  "}), "poll.options[1].text"},
  };
  v1::Poll no_question = Choice({"Yes", "No"});
  no_question.clear_question();
  cases.push_back({"no question", no_question, "poll.question"});
  v1::Poll bad_question = Choice({"Yes", "No"});
  bad_question.set_question("Hidden\xe2\x80\x8btext");  // U+200B
  cases.push_back({"invisible character", bad_question, "poll.question"});
  v1::Poll no_kind = Choice({"Yes", "No"});
  no_kind.set_kind(v1::POLL_KIND_UNSPECIFIED);
  cases.push_back({"no kind", no_kind, "poll.kind"});
  v1::Poll motion;
  motion.set_kind(v1::POLL_KIND_MOTION);
  motion.set_question("Adopt agreement 3 on consular hours?");
  cases.push_back({"motion without item", motion, "poll.agenda_item_id"});
  v1::Poll motion_options = motion;
  motion_options.set_agenda_item_id("item1");
  motion_options.add_options()->set_text("Maybe");
  cases.push_back({"motion with options", motion_options, "poll.options"});
  v1::Poll secret_change = Choice({"Yes", "No"});
  secret_change.set_secrecy(v1::BALLOT_SECRECY_SECRET);
  secret_change.set_allow_change(true);
  cases.push_back({"changeable secret ballot", secret_change,
                   "poll.allow_change: only NAMED polls"});
  v1::Poll too_many_choices = Choice({"A", "B", "C"});
  too_many_choices.set_kind(v1::POLL_KIND_MULTIPLE_CHOICE);
  too_many_choices.set_max_choices(4);
  cases.push_back(
      {"k over options", too_many_choices, "poll.max_choices: must be 1 to 3"});
  v1::Poll scale;
  scale.set_kind(v1::POLL_KIND_RATING_SCALE);
  scale.set_question("How useful was this session?");
  scale.set_scale_min(5);
  scale.set_scale_max(3);
  cases.push_back({"inverted scale", scale, "poll.scale_min"});
  v1::Poll past = Choice({"Yes", "No"});
  SetTime(absl::Now() - absl::Minutes(1), past.mutable_closes_at());
  cases.push_back({"closes in the past", past, "poll.closes_at"});
  v1::Poll weighted = Choice({"Yes", "No"});
  (*weighted.mutable_organization_weights())["org1"] = 3;
  cases.push_back({"weights per participant", weighted,
                   "poll.organization_weights: weights need ballot_unit "
                   "ORGANIZATION"});
  v1::Poll heavy = weighted;
  heavy.set_ballot_unit(v1::BALLOT_UNIT_ORGANIZATION);
  (*heavy.mutable_organization_weights())["org1"] = 1001;
  cases.push_back({"weight over 1000", heavy,
                   "poll.organization_weights[org1]: must be 1 to 1000"});
  v1::Poll quorum = Choice({"Yes", "No"});
  quorum.set_quorum_percent(101);
  cases.push_back({"quorum over 100", quorum, "poll.quorum_percent"});
  v1::Poll majority = Choice({"Yes", "No"});
  majority.set_majority_rule(v1::MAJORITY_RULE_TWO_THIRDS);
  cases.push_back(
      {"majority on a choice poll", majority, "only motions take a majority"});

  for (const BadPoll& c : cases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<v1::Poll> prepared = PrepareNewPoll(c.poll, absl::Now());
    ASSERT_FALSE(prepared.ok());
    EXPECT_EQ(prepared.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(prepared.status().message(), HasSubstr(c.message));
  }
}

TEST(PollRulesTest, FillsDefaultsAndNumbersOptions) {
  absl::StatusOr<v1::Poll> choice =
      PrepareNewPoll(Choice({" Pensions ", "Visas"}), absl::Now());
  ASSERT_TRUE(choice.ok()) << choice.status();
  ASSERT_EQ(choice->options_size(), 2);
  EXPECT_EQ(choice->options(0).id(), "1");
  EXPECT_EQ(choice->options(0).text(), "Pensions");
  EXPECT_EQ(choice->secrecy(), v1::BALLOT_SECRECY_NAMED);
  EXPECT_EQ(choice->results_visibility(), v1::RESULTS_VISIBILITY_LIVE);

  v1::Poll multiple = Choice({"A", "B", "C"});
  multiple.set_kind(v1::POLL_KIND_MULTIPLE_CHOICE);
  absl::StatusOr<v1::Poll> k = PrepareNewPoll(multiple, absl::Now());
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(k->max_choices(), 3);

  v1::Poll motion;
  motion.set_kind(v1::POLL_KIND_MOTION);
  motion.set_question("Adopt agreement 3?");
  motion.set_agenda_item_id("item1");
  absl::StatusOr<v1::Poll> m = PrepareNewPoll(motion, absl::Now());
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_EQ(m->options_size(), 3);
  EXPECT_EQ(m->options(0).id(), "yes");
  EXPECT_EQ(m->options(2).id(), "abstain");

  v1::Poll scale;
  scale.set_kind(v1::POLL_KIND_RATING_SCALE);
  scale.set_question("How useful?");
  absl::StatusOr<v1::Poll> s = PrepareNewPoll(scale, absl::Now());
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->scale_min(), 1);
  EXPECT_EQ(s->scale_max(), 5);
}

TEST(PollRulesTest, BallotChecks) {
  v1::Ballot twice;
  twice.add_option_ids("1");
  twice.add_option_ids("1");
  EXPECT_THAT(PrepareBallot(twice).status().message(),
              HasSubstr("ballot.option_ids[1]: option 1 is listed twice"));
  v1::Ballot words;
  words.add_words("Pensions");
  words.add_words("PENSIONS!");
  EXPECT_THAT(PrepareBallot(words).status().message(),
              HasSubstr("ballot.words[1]"));
  v1::Ballot bad_utf8;
  bad_utf8.add_words("\xc3\x28");
  EXPECT_EQ(PrepareBallot(bad_utf8).status().code(),
            absl::StatusCode::kInvalidArgument);
  v1::Ballot cyrillic;
  cyrillic.add_words("Пенсии");
  absl::StatusOr<BallotArgs> args = PrepareBallot(cyrillic);
  ASSERT_TRUE(args.ok());
  ASSERT_EQ(args->words.size(), 1u);
  EXPECT_EQ(args->words[0].first, "pensii");
  EXPECT_EQ(args->words[0].second, "Пенсии");
}

// NAMED polls store the ballot's JSON, written by hand (BallotArgs::json):
// it must read back as the same ballot, with text that needs escaping.
TEST(PollRulesTest, BallotJsonReadsBackAsTheBallot) {
  std::vector<v1::Ballot> ballots(5);
  ballots[0].add_option_ids("2");
  ballots[1].add_option_ids("3");
  ballots[1].add_option_ids("1");
  ballots[2].set_rating(-4);
  ballots[3].add_words("Пенсии \"и\" визы\\");
  ballots[3].add_words("<b>Visa</b> & 中文");
  ballots[4].set_rating(7);  // every field at once (PrepareBallot allows it)
  ballots[4].add_option_ids("yes");
  ballots[4].add_words("Ta'lim");
  for (const v1::Ballot& ballot : ballots) {
    absl::StatusOr<BallotArgs> args = PrepareBallot(ballot);
    ASSERT_TRUE(args.ok()) << args.status();
    v1::Ballot back;
    ASSERT_TRUE(ProtoFromJson(args->json, &back, "ballot").ok()) << args->json;
    EXPECT_EQ(back.SerializeAsString(), ballot.SerializeAsString())
        << args->json;
  }
  EXPECT_EQ(PrepareBallot(ballots[1])->json, R"({"optionIds":["3","1"]})");
  EXPECT_EQ(PrepareBallot(v1::Ballot())->json, "{}");
  EXPECT_EQ(PrepareBallot(ballots[0])->json, *ProtoToJson(ballots[0]));
}

TEST(PollRulesTest, CountsEveryKind) {
  v1::Poll rating;
  rating.set_kind(v1::POLL_KIND_RATING_SCALE);
  rating.set_scale_min(1);
  rating.set_scale_max(3);
  v1::PollResults r = CountResults(rating, {{"r:1", 1}, {"r:3", 3}}, {});
  ASSERT_EQ(r.ratings_size(), 3);
  EXPECT_EQ(r.ratings(1).votes(), 0);
  EXPECT_DOUBLE_EQ(r.mean_rating(), 10.0 / 4);

  v1::Poll cloud;
  cloud.set_kind(v1::POLL_KIND_WORD_CLOUD);
  v1::PollResults w = CountResults(cloud, {{"w:pensii", 3}, {"w:vizy", 5}},
                                   {{"pensii", "Пенсии"}, {"vizy", "визы"}});
  ASSERT_EQ(w.words_size(), 2);
  EXPECT_EQ(w.words(0).text(), "визы");
  EXPECT_EQ(w.words(0).count(), 5);

  v1::Poll ranked = Choice({"A", "B", "C"});
  ranked.set_kind(v1::POLL_KIND_RANKED_CHOICE);
  for (int i = 0; i < 3; ++i) {
    ranked.mutable_options(i)->set_id(absl::StrCat(i + 1));
  }
  v1::PollResults k =
      CountResults(ranked, {{"k:1,2", 4}, {"k:2,3", 3}, {"k:3,2", 2}}, {});
  ASSERT_EQ(k.tallies_size(), 3);
  EXPECT_EQ(k.tallies(0).votes(), 4);
  EXPECT_EQ(k.tallies(2).votes(), 2);
  EXPECT_EQ(k.ranked_choice().winner_option_id(), "2");
  EXPECT_EQ(k.ranked_choice().rounds_size(), 2);
}

TEST(PollRulesTest, WhoSeesTheResults) {
  struct Case {
    v1::BallotSecrecy secrecy;
    v1::ResultsVisibility visibility;
    v1::PollState state;
    bool voted;
    bool privileged;
    bool visible;
  };
  const Case cases[] = {
      {v1::BALLOT_SECRECY_NAMED, v1::RESULTS_VISIBILITY_LIVE,
       v1::POLL_STATE_OPEN, false, false, true},
      {v1::BALLOT_SECRECY_NAMED, v1::RESULTS_VISIBILITY_AFTER_VOTING,
       v1::POLL_STATE_OPEN, false, false, false},
      {v1::BALLOT_SECRECY_NAMED, v1::RESULTS_VISIBILITY_AFTER_VOTING,
       v1::POLL_STATE_OPEN, true, false, true},
      {v1::BALLOT_SECRECY_NAMED, v1::RESULTS_VISIBILITY_AFTER_CLOSE,
       v1::POLL_STATE_OPEN, true, false, false},
      {v1::BALLOT_SECRECY_NAMED, v1::RESULTS_VISIBILITY_AFTER_CLOSE,
       v1::POLL_STATE_OPEN, false, true, true},
      {v1::BALLOT_SECRECY_NAMED, v1::RESULTS_VISIBILITY_AFTER_CLOSE,
       v1::POLL_STATE_CLOSED, false, false, true},
      {v1::BALLOT_SECRECY_SECRET, v1::RESULTS_VISIBILITY_LIVE,
       v1::POLL_STATE_OPEN, true, true, false},
      {v1::BALLOT_SECRECY_SECRET, v1::RESULTS_VISIBILITY_AFTER_CLOSE,
       v1::POLL_STATE_CLOSED, false, true, true},
      {v1::BALLOT_SECRECY_SECRET, v1::RESULTS_VISIBILITY_AFTER_CLOSE,
       v1::POLL_STATE_PUBLISHED, false, false, true},
  };
  for (const Case& c : cases) {
    v1::Poll poll;
    poll.set_secrecy(c.secrecy);
    poll.set_results_visibility(c.visibility);
    poll.set_state(c.state);
    poll.set_voted(c.voted);
    SCOPED_TRACE(poll.ShortDebugString() +
                 (c.privileged ? " privileged" : " member"));
    EXPECT_EQ(ResultsVisible(poll, c.privileged), c.visible);
  }
}

TEST(PollRulesTest, QuorumIsAPercentOfTheEligibleWeightRoundedUp) {
  EXPECT_TRUE(QuorumReached(0, 70, 0));
  EXPECT_TRUE(QuorumReached(0, 0, 50));
  EXPECT_FALSE(QuorumReached(34, 70, 50));
  EXPECT_TRUE(QuorumReached(35, 70, 50));
  EXPECT_FALSE(QuorumReached(23, 70, 33));  // 33 % of 70 is 23.1: 24
  EXPECT_TRUE(QuorumReached(24, 70, 33));
  EXPECT_FALSE(QuorumReached(69, 70, 100));
}

// The majority rules table: every rule against every base, around the
// threshold. 10 eligible, 8 present.
TEST(PollRulesTest, MotionMajorityRules) {
  const Turnout turnout{.eligible_count = 10,
                        .eligible_weight = 10,
                        .present_count = 8,
                        .present_weight = 8};
  struct Case {
    v1::MajorityRule rule;
    v1::MajorityBase base;
    int64_t yes, no, abstain;
    bool quorum;
    int64_t base_weight, required;
    bool adopted;
  };
  using R = v1::MajorityRule;
  using B = v1::MajorityBase;
  const R simple = v1::MAJORITY_RULE_SIMPLE;
  const R two_thirds = v1::MAJORITY_RULE_TWO_THIRDS;
  const B cast = v1::MAJORITY_BASE_VOTES_CAST;
  const B present = v1::MAJORITY_BASE_PRESENT;
  const B eligible = v1::MAJORITY_BASE_ELIGIBLE;
  const std::vector<Case> cases = {
      // Simple majority of the votes cast: abstentions do not count.
      {simple, cast, 3, 2, 3, true, 5, 3, true},
      {simple, cast, 2, 2, 4, true, 4, 3, false},  // a tie fails
      {v1::MAJORITY_RULE_UNSPECIFIED, v1::MAJORITY_BASE_UNSPECIFIED, 3, 2, 3,
       true, 5, 3, true},                          // the defaults
      {simple, cast, 0, 0, 8, true, 0, 1, false},  // all abstain
      // ... of those present: abstentions count against.
      {simple, present, 4, 1, 3, true, 8, 5, false},
      {simple, present, 5, 0, 3, true, 8, 5, true},
      // ... of the eligible: absentees count against.
      {simple, eligible, 5, 0, 3, true, 10, 6, false},
      {simple, eligible, 6, 0, 2, true, 10, 6, true},
      // Two thirds of the votes cast, present, eligible.
      {two_thirds, cast, 4, 2, 2, true, 6, 4, true},
      {two_thirds, cast, 3, 2, 3, true, 5, 4, false},
      {two_thirds, present, 5, 1, 2, true, 8, 6, false},
      {two_thirds, present, 6, 1, 1, true, 8, 6, true},
      {two_thirds, eligible, 6, 0, 2, true, 10, 7, false},
      {two_thirds, eligible, 7, 0, 1, true, 10, 7, true},
      // No quorum, no decision.
      {simple, cast, 3, 0, 0, false, 3, 2, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrCat(v1::MajorityRule_Name(c.rule), " of ",
                              v1::MajorityBase_Name(c.base), ": ", c.yes, "/",
                              c.no, "/", c.abstain));
    const v1::MotionResult motion =
        DecideMotion(c.yes, c.no, c.abstain, turnout, c.quorum, c.rule, c.base);
    EXPECT_EQ(motion.base(), c.base_weight);
    EXPECT_EQ(motion.required(), c.required);
    EXPECT_EQ(motion.adopted(), c.adopted);
  }
}

TEST(PollRulesTest, ResultsCarryTurnoutQuorumAndTheMotion) {
  v1::Poll motion;
  motion.set_kind(v1::POLL_KIND_MOTION);
  motion.set_quorum_percent(50);
  motion.set_majority_rule(v1::MAJORITY_RULE_TWO_THIRDS);
  motion.set_ballot_count(3);
  // Weighted: organizations of weight 3, 2 and 1 voted yes, yes, no.
  const v1::PollResults results =
      CountResults(motion, {{"o:yes", 5}, {"o:no", 1}}, {},
                   Turnout{.eligible_count = 5,
                           .eligible_weight = 10,
                           .present_count = 4,
                           .present_weight = 8,
                           .ballot_weight = 6});
  EXPECT_EQ(results.ballot_weight(), 6);
  EXPECT_DOUBLE_EQ(results.turnout(), 0.6);
  EXPECT_TRUE(results.quorum_reached());
  EXPECT_EQ(results.motion().yes(), 5);
  EXPECT_EQ(results.motion().required(), 4);
  EXPECT_TRUE(results.motion().adopted());
}

}  // namespace
}  // namespace townhall::polls
