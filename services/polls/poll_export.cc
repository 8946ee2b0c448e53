#include "services/polls/poll_export.h"

#include <cmath>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace townhall::polls {
namespace {

// At most this many words in a word cloud's summary.
constexpr int kSummaryWords = 5;

absl::flat_hash_map<std::string, std::string> OptionTexts(
    const v1::Poll& poll) {
  absl::flat_hash_map<std::string, std::string> texts;
  for (const v1::PollOption& option : poll.options()) {
    texts[option.id()] = option.text();
  }
  return texts;
}

bool HasResults(const v1::Poll& poll) {
  return poll.has_results() && (poll.results().ballot_count() > 0 ||
                                poll.state() == v1::POLL_STATE_CLOSED ||
                                poll.state() == v1::POLL_STATE_PUBLISHED);
}

std::string Percent(double fraction) {
  return absl::StrCat(std::lround(fraction * 100), "%");
}

}  // namespace

std::string PollResultSummary(const v1::Poll& poll) {
  if (!HasResults(poll)) return "results not published";
  const v1::PollResults& r = poll.results();
  const auto texts = OptionTexts(poll);
  std::string text;
  switch (poll.kind()) {
    case v1::POLL_KIND_RATING_SCALE:
      text = absl::StrFormat("mean %.2f on %d to %d", r.mean_rating(),
                             poll.scale_min(), poll.scale_max());
      break;
    case v1::POLL_KIND_RANKED_CHOICE: {
      const v1::RankedChoiceResult& ranked = r.ranked_choice();
      auto winner = texts.find(ranked.winner_option_id());
      text =
          winner == texts.end()
              ? std::string("no winner")
              : absl::StrCat("winner: ", winner->second, " after ",
                             ranked.rounds_size(),
                             ranked.rounds_size() == 1 ? " round" : " rounds");
      break;
    }
    case v1::POLL_KIND_WORD_CLOUD: {
      std::vector<std::string> words;
      for (const v1::WordCount& word : r.words()) {
        if (static_cast<int>(words.size()) == kSummaryWords) break;
        words.push_back(absl::StrCat(word.text(), " ", word.count()));
      }
      text = words.empty() ? "no words" : absl::StrJoin(words, ", ");
      break;
    }
    case v1::POLL_KIND_MOTION: {
      const v1::MotionResult& m = r.motion();
      text = absl::StrCat(m.adopted() ? "adopted" : "not adopted", ": yes ",
                          m.yes(), ", no ", m.no(), ", abstain ", m.abstain(),
                          " (", m.required(), " of ", m.base(), " required)");
      break;
    }
    default: {
      std::vector<std::string> counts;
      for (const v1::OptionTally& tally : r.tallies()) {
        auto it = texts.find(tally.option_id());
        counts.push_back(
            absl::StrCat(it == texts.end() ? tally.option_id() : it->second,
                         " ", tally.votes()));
      }
      text = absl::StrJoin(counts, ", ");
    }
  }
  absl::StrAppend(&text, " (", r.ballot_count(),
                  r.ballot_count() == 1 ? " ballot" : " ballots");
  if (r.eligible_count() > 0) {
    absl::StrAppend(&text, "; turnout ", Percent(r.turnout()), ", quorum ",
                    r.quorum_reached() ? "reached" : "not reached");
  }
  absl::StrAppend(&text, ")");
  return text;
}

const std::vector<std::string>& PollResultHeader() {
  static const auto* const kHeader = new std::vector<std::string>{
      "section", "round", "option_id", "option", "value", "votes"};
  return *kHeader;
}

std::vector<std::vector<std::string>> PollResultRows(const v1::Poll& poll) {
  std::vector<std::vector<std::string>> rows;
  if (!poll.has_results()) return rows;
  const v1::PollResults& r = poll.results();
  const auto texts = OptionTexts(poll);
  auto text_of = [&](const std::string& id) {
    auto it = texts.find(id);
    return it == texts.end() ? std::string() : it->second;
  };
  for (const v1::OptionTally& tally : r.tallies()) {
    rows.push_back({"option", "", tally.option_id(), text_of(tally.option_id()),
                    "", absl::StrCat(tally.votes())});
  }
  for (const v1::RatingTally& rating : r.ratings()) {
    rows.push_back({"rating", "", "", "", absl::StrCat(rating.value()),
                    absl::StrCat(rating.votes())});
  }
  if (poll.kind() == v1::POLL_KIND_RATING_SCALE) {
    rows.push_back({"mean_rating", "", "", "",
                    absl::StrFormat("%.4f", r.mean_rating()), ""});
  }
  for (const v1::InstantRunoffRound& round : r.ranked_choice().rounds()) {
    const std::string number = absl::StrCat(round.round());
    for (const v1::OptionTally& tally : round.tallies()) {
      rows.push_back({"round", number, tally.option_id(),
                      text_of(tally.option_id()), "",
                      absl::StrCat(tally.votes())});
    }
    rows.push_back({"round_exhausted", number, "", "", "",
                    absl::StrCat(round.exhausted())});
    if (!round.eliminated_option_id().empty()) {
      rows.push_back({"round_eliminated", number, round.eliminated_option_id(),
                      text_of(round.eliminated_option_id()),
                      round.tie_broken() ? "tie broken" : "", ""});
    }
  }
  if (!r.ranked_choice().winner_option_id().empty()) {
    const std::string& winner = r.ranked_choice().winner_option_id();
    rows.push_back({"winner", "", winner, text_of(winner), "", ""});
  }
  for (const v1::WordCount& word : r.words()) {
    rows.push_back(
        {"word", "", "", word.text(), "", absl::StrCat(word.count())});
  }
  if (r.has_motion()) {
    const v1::MotionResult& m = r.motion();
    rows.push_back({"motion", "", "yes", "", "", absl::StrCat(m.yes())});
    rows.push_back({"motion", "", "no", "", "", absl::StrCat(m.no())});
    rows.push_back(
        {"motion", "", "abstain", "", "", absl::StrCat(m.abstain())});
    rows.push_back({"motion_base", "", "", "", "", absl::StrCat(m.base())});
    rows.push_back(
        {"motion_required", "", "", "", "", absl::StrCat(m.required())});
    rows.push_back(
        {"motion_adopted", "", "", "", m.adopted() ? "yes" : "no", ""});
  }
  rows.push_back({"ballots", "", "", "", "", absl::StrCat(r.ballot_count())});
  if (r.eligible_count() > 0) {
    rows.push_back(
        {"eligible", "", "", "", "", absl::StrCat(r.eligible_count())});
    rows.push_back(
        {"turnout", "", "", "", absl::StrFormat("%.4f", r.turnout()), ""});
    rows.push_back(
        {"quorum_reached", "", "", "", r.quorum_reached() ? "yes" : "no", ""});
  }
  return rows;
}

}  // namespace townhall::polls
