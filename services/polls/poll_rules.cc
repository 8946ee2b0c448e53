#include "services/polls/poll_rules.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "services/common/proto_json.h"
#include "services/common/proto_time.h"
#include "services/common/status.h"
#include "services/common/text_normalization.h"
#include "services/polls/instant_runoff.h"

namespace townhall::polls {
namespace {

bool TakesOptions(v1::PollKind kind) {
  return kind == v1::POLL_KIND_SINGLE_CHOICE ||
         kind == v1::POLL_KIND_MULTIPLE_CHOICE ||
         kind == v1::POLL_KIND_RANKED_CHOICE;
}

// Two options are the same when either match key agrees (the Latin key
// catches case, accents and other scripts; the skeleton look-alike
// letters); options without letters or digits ("👍") compare as typed.
struct OptionKeys {
  std::string latin;
  std::string skeleton;
  std::string text;
};

bool SameOption(const OptionKeys& a, const OptionKeys& b) {
  if (!a.latin.empty() && a.latin == b.latin) return true;
  if (!a.skeleton.empty() && a.skeleton == b.skeleton) return true;
  return a.latin.empty() && b.latin.empty() && a.text == b.text;
}

absl::Status ValidateOptions(const v1::Poll& requested, v1::Poll* poll) {
  const int count = requested.options_size();
  if (count < 2) {
    return InvalidField(
        "poll.options",
        absl::StrCat("a ", v1::PollKind_Name(requested.kind()),
                     " poll needs at least 2 options (got ", count, ")"));
  }
  if (count > kMaxOptions) {
    return InvalidField(
        "poll.options",
        absl::StrCat("at most ", kMaxOptions, " options (got ", count, ")"));
  }
  std::vector<OptionKeys> seen;
  for (int i = 0; i < count; ++i) {
    const std::string field = absl::StrCat("poll.options[", i, "].text");
    std::string text(absl::StripAsciiWhitespace(requested.options(i).text()));
    TH_RETURN_IF_ERROR(ValidateText(field, text, kOptionText));
    OptionKeys keys{LatinMatchKey(text), SkeletonMatchKey(text), text};
    for (size_t j = 0; j < seen.size(); ++j) {
      if (SameOption(seen[j], keys)) {
        return InvalidField(
            field, absl::StrCat("\"", text, "\" is the same option as ",
                                "poll.options[", j, "] (\"", seen[j].text,
                                "\") once case, script and look-alike "
                                "letters are ignored"));
      }
    }
    seen.push_back(keys);
    v1::PollOption* option = poll->add_options();
    option->set_id(absl::StrCat(i + 1));
    option->set_text(text);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::Poll> PrepareNewPoll(const v1::Poll& requested,
                                        absl::Time now) {
  v1::Poll poll;
  const v1::PollKind kind = requested.kind();
  if (kind == v1::POLL_KIND_UNSPECIFIED || !v1::PollKind_IsValid(kind)) {
    return InvalidField("poll.kind", "must be one of the PollKind values");
  }
  poll.set_kind(kind);
  std::string question(absl::StripAsciiWhitespace(requested.question()));
  TH_RETURN_IF_ERROR(
      ValidateText("poll.question", question, kPollQuestionText));
  poll.set_question(question);

  if (TakesOptions(kind)) {
    TH_RETURN_IF_ERROR(ValidateOptions(requested, &poll));
  } else if (requested.options_size() > 0) {
    return InvalidField(
        "poll.options",
        kind == v1::POLL_KIND_MOTION
            ? "a motion's options are yes, no and abstain: leave them empty"
            : "rating scales and word clouds take no options");
  }
  if (kind == v1::POLL_KIND_MOTION) {
    for (const auto& [id, text] :
         {std::pair<const char*, const char*>{"yes", "Yes"},
          {"no", "No"},
          {"abstain", "Abstain"}}) {
      v1::PollOption* option = poll.add_options();
      option->set_id(id);
      option->set_text(text);
    }
    if (requested.agenda_item_id().empty()) {
      return InvalidField("poll.agenda_item_id",
                          "a motion is voted on an agenda item: name it");
    }
  }
  if (!requested.agenda_item_id().empty()) {
    TH_RETURN_IF_ERROR(
        ValidateId("poll.agenda_item_id", requested.agenda_item_id()));
    poll.set_agenda_item_id(requested.agenda_item_id());
  }

  const int max_choices = requested.max_choices();
  if (kind == v1::POLL_KIND_MULTIPLE_CHOICE) {
    const int options = poll.options_size();
    if (max_choices < 0 || max_choices > options) {
      return InvalidField(
          "poll.max_choices",
          absl::StrCat("must be 1 to ", options, " (the number of options)"));
    }
    poll.set_max_choices(max_choices == 0 ? options : max_choices);
  } else if (kind == v1::POLL_KIND_WORD_CLOUD) {
    if (max_choices < 0 || max_choices > kMaxWords) {
      return InvalidField(
          "poll.max_choices",
          absl::StrCat("must be 1 to ", kMaxWords, " entries per ballot"));
    }
    poll.set_max_choices(max_choices == 0 ? 1 : max_choices);
  } else if (max_choices != 0) {
    return InvalidField("poll.max_choices",
                        "only multiple choice polls and word clouds take it");
  }

  if (kind == v1::POLL_KIND_RATING_SCALE) {
    int low = requested.scale_min();
    int high = requested.scale_max();
    if (low == 0 && high == 0) {
      low = 1;
      high = 5;
    }
    if (low < 0 || high > 10 || low >= high) {
      return InvalidField("poll.scale_min",
                          "the scale must be scale_min < scale_max, both 0 "
                          "to 10");
    }
    poll.set_scale_min(low);
    poll.set_scale_max(high);
  } else if (requested.scale_min() != 0 || requested.scale_max() != 0) {
    return InvalidField("poll.scale_min", "only rating scales take a scale");
  }

  const v1::BallotSecrecy secrecy =
      requested.secrecy() == v1::BALLOT_SECRECY_UNSPECIFIED
          ? v1::BALLOT_SECRECY_NAMED
          : requested.secrecy();
  if (!v1::BallotSecrecy_IsValid(secrecy)) {
    return InvalidField("poll.secrecy", "unknown secrecy");
  }
  poll.set_secrecy(secrecy);
  if (requested.allow_change() && secrecy != v1::BALLOT_SECRECY_NAMED) {
    return InvalidField(
        "poll.allow_change",
        "only NAMED polls allow changing a ballot: changing an anonymous or "
        "secret ballot would need the server to keep the link between the "
        "voter and the choice");
  }
  poll.set_allow_change(requested.allow_change());
  const v1::ResultsVisibility visibility =
      requested.results_visibility() == v1::RESULTS_VISIBILITY_UNSPECIFIED
          ? v1::RESULTS_VISIBILITY_LIVE
          : requested.results_visibility();
  if (!v1::ResultsVisibility_IsValid(visibility)) {
    return InvalidField("poll.results_visibility", "unknown visibility");
  }
  poll.set_results_visibility(visibility);

  const v1::BallotUnit unit =
      requested.ballot_unit() == v1::BALLOT_UNIT_UNSPECIFIED
          ? v1::BALLOT_UNIT_PARTICIPANT
          : requested.ballot_unit();
  if (!v1::BallotUnit_IsValid(unit)) {
    return InvalidField("poll.ballot_unit", "unknown ballot unit");
  }
  poll.set_ballot_unit(unit);
  poll.set_present_only(requested.present_only());
  if (!requested.organization_weights().empty()) {
    if (unit != v1::BALLOT_UNIT_ORGANIZATION) {
      return InvalidField("poll.organization_weights",
                          "weights need ballot_unit ORGANIZATION");
    }
    if (requested.organization_weights_size() > kMaxWeights) {
      return InvalidField("poll.organization_weights",
                          absl::StrCat("at most ", kMaxWeights, " entries"));
    }
    for (const auto& [org, weight] : requested.organization_weights()) {
      TH_RETURN_IF_ERROR(ValidateId("poll.organization_weights", org));
      if (weight < 1 || weight > kMaxWeight) {
        return InvalidField(
            absl::StrCat("poll.organization_weights[", org, "]"),
            absl::StrCat("must be 1 to ", kMaxWeight));
      }
    }
    *poll.mutable_organization_weights() = requested.organization_weights();
  }
  if (requested.quorum_percent() < 0 || requested.quorum_percent() > 100) {
    return InvalidField("poll.quorum_percent", "must be 0 to 100");
  }
  poll.set_quorum_percent(requested.quorum_percent());
  if (kind == v1::POLL_KIND_MOTION) {
    const v1::MajorityRule rule =
        requested.majority_rule() == v1::MAJORITY_RULE_UNSPECIFIED
            ? v1::MAJORITY_RULE_SIMPLE
            : requested.majority_rule();
    if (!v1::MajorityRule_IsValid(rule)) {
      return InvalidField("poll.majority_rule", "unknown majority rule");
    }
    const v1::MajorityBase base =
        requested.majority_base() == v1::MAJORITY_BASE_UNSPECIFIED
            ? v1::MAJORITY_BASE_VOTES_CAST
            : requested.majority_base();
    if (!v1::MajorityBase_IsValid(base)) {
      return InvalidField("poll.majority_base", "unknown majority base");
    }
    poll.set_majority_rule(rule);
    poll.set_majority_base(base);
  } else if (requested.majority_rule() != v1::MAJORITY_RULE_UNSPECIFIED ||
             requested.majority_base() != v1::MAJORITY_BASE_UNSPECIFIED) {
    return InvalidField("poll.majority_rule", "only motions take a majority");
  }

  if (requested.has_closes_at()) {
    TH_RETURN_IF_ERROR(ValidateTimestamp("poll.closes_at",
                                         requested.closes_at().seconds(),
                                         requested.closes_at().nanos()));
    if (ToTime(requested.closes_at()) <= now) {
      return InvalidField("poll.closes_at", "must be in the future");
    }
    *poll.mutable_closes_at() = requested.closes_at();
  }
  return poll;
}

absl::StatusOr<BallotArgs> PrepareBallot(const v1::Ballot& ballot) {
  BallotArgs args;
  absl::flat_hash_set<std::string> ids;
  for (int i = 0; i < ballot.option_ids_size(); ++i) {
    const std::string& id = ballot.option_ids(i);
    const std::string field = absl::StrCat("ballot.option_ids[", i, "]");
    TH_RETURN_IF_ERROR(ValidateId(field, id));
    if (!ids.insert(id).second) {
      return InvalidField(field,
                          absl::StrCat("option ", id, " is listed twice"));
    }
  }
  if (ballot.option_ids_size() > kMaxOptions) {
    return InvalidField("ballot.option_ids",
                        absl::StrCat("at most ", kMaxOptions, " options"));
  }
  args.option_ids = absl::StrJoin(ballot.option_ids(), " ");
  args.rating = absl::StrCat(ballot.rating());
  if (ballot.words_size() > kMaxWords) {
    return InvalidField("ballot.words",
                        absl::StrCat("at most ", kMaxWords, " entries"));
  }
  absl::flat_hash_set<std::string> keys;
  for (int i = 0; i < ballot.words_size(); ++i) {
    const std::string field = absl::StrCat("ballot.words[", i, "]");
    std::string text(absl::StripAsciiWhitespace(ballot.words(i)));
    TH_RETURN_IF_ERROR(ValidateText(field, text, kWordText));
    std::string key = LatinMatchKey(text);
    if (key.empty()) key = text;  // no letters or digits: as typed
    if (!keys.insert(key).second) {
      return InvalidField(
          field, absl::StrCat("\"", text, "\" repeats an earlier entry"));
    }
    args.words.emplace_back(std::move(key), std::move(text));
  }
  // Proto3 JSON: fields in number order, defaults left out.
  std::vector<std::string> fields;
  auto add_list = [&](absl::string_view name, const auto& items) {
    if (items.empty()) return;
    std::vector<std::string> quoted;
    for (const std::string& item : items) quoted.push_back(JsonQuote(item));
    fields.push_back(
        absl::StrCat("\"", name, "\":[", absl::StrJoin(quoted, ","), "]"));
  };
  add_list("optionIds", ballot.option_ids());
  if (ballot.rating() != 0) {
    fields.push_back(absl::StrCat("\"rating\":", ballot.rating()));
  }
  add_list("words", ballot.words());
  args.json = absl::StrCat("{", absl::StrJoin(fields, ","), "}");
  return args;
}

bool QuorumReached(int64_t ballot_weight, int64_t eligible_weight,
                   int quorum_percent) {
  const int64_t needed = (quorum_percent * eligible_weight + 99) / 100;
  return ballot_weight >= needed;
}

v1::MotionResult DecideMotion(int64_t yes, int64_t no, int64_t abstain,
                              const Turnout& turnout, bool quorum_reached,
                              v1::MajorityRule rule, v1::MajorityBase base) {
  v1::MotionResult motion;
  motion.set_yes(yes);
  motion.set_no(no);
  motion.set_abstain(abstain);
  int64_t of = yes + no;
  if (base == v1::MAJORITY_BASE_PRESENT) of = turnout.present_weight;
  if (base == v1::MAJORITY_BASE_ELIGIBLE) of = turnout.eligible_weight;
  const int64_t required =
      rule == v1::MAJORITY_RULE_TWO_THIRDS ? (2 * of + 2) / 3 : of / 2 + 1;
  motion.set_base(of);
  motion.set_required(std::max<int64_t>(required, 1));
  motion.set_adopted(quorum_reached && yes >= motion.required());
  return motion;
}

v1::PollResults CountResults(
    const v1::Poll& poll,
    const std::vector<std::pair<std::string, int64_t>>& tally,
    const std::vector<std::pair<std::string, std::string>>& words,
    const Turnout& turnout) {
  v1::PollResults results;
  results.set_ballot_count(poll.ballot_count());
  results.set_eligible_count(turnout.eligible_count);
  results.set_eligible_weight(turnout.eligible_weight);
  results.set_present_count(turnout.present_count);
  results.set_present_weight(turnout.present_weight);
  results.set_ballot_weight(turnout.ballot_weight);
  if (turnout.eligible_weight > 0) {
    results.set_turnout(static_cast<double>(turnout.ballot_weight) /
                        static_cast<double>(turnout.eligible_weight));
  }
  results.set_quorum_reached(QuorumReached(
      turnout.ballot_weight, turnout.eligible_weight, poll.quorum_percent()));
  std::map<std::string, int64_t> counts(tally.begin(), tally.end());
  auto count_of = [&](const std::string& field) -> int64_t {
    auto it = counts.find(field);
    return it == counts.end() ? 0 : it->second;
  };
  switch (poll.kind()) {
    case v1::POLL_KIND_RATING_SCALE: {
      int64_t sum = 0;
      int64_t total = 0;
      for (int v = poll.scale_min(); v <= poll.scale_max(); ++v) {
        const int64_t n = count_of(absl::StrCat("r:", v));
        v1::RatingTally* rating = results.add_ratings();
        rating->set_value(v);
        rating->set_votes(n);
        sum += n * v;
        total += n;
      }
      results.set_mean_rating(total == 0 ? 0.0
                                         : static_cast<double>(sum) / total);
      break;
    }
    case v1::POLL_KIND_WORD_CLOUD: {
      std::map<std::string, std::string> spelling(words.begin(), words.end());
      for (const auto& [field, n] : counts) {
        if (!absl::StartsWith(field, "w:") || n <= 0) continue;
        const std::string key = field.substr(2);
        v1::WordCount* word = results.add_words();
        auto it = spelling.find(key);
        word->set_text(it == spelling.end() ? key : it->second);
        word->set_count(n);
      }
      std::sort(results.mutable_words()->begin(),
                results.mutable_words()->end(),
                [](const v1::WordCount& a, const v1::WordCount& b) {
                  if (a.count() != b.count()) return a.count() > b.count();
                  return a.text() < b.text();
                });
      break;
    }
    case v1::POLL_KIND_RANKED_CHOICE: {
      std::vector<std::string> ids;
      std::map<std::string, int> index;
      for (const v1::PollOption& option : poll.options()) {
        index[option.id()] = static_cast<int>(ids.size());
        ids.push_back(option.id());
      }
      std::vector<int64_t> first(ids.size(), 0);
      std::vector<RankedBallots> ballots;
      for (const auto& [field, n] : counts) {
        if (!absl::StartsWith(field, "k:") || n <= 0) continue;
        RankedBallots ballot;
        ballot.count = n;
        for (absl::string_view id :
             absl::StrSplit(field.substr(2), ',', absl::SkipEmpty())) {
          auto it = index.find(std::string(id));
          if (it != index.end()) ballot.ranking.push_back(it->second);
        }
        if (!ballot.ranking.empty()) first[ballot.ranking[0]] += n;
        ballots.push_back(std::move(ballot));
      }
      for (size_t i = 0; i < ids.size(); ++i) {
        v1::OptionTally* option = results.add_tallies();
        option->set_option_id(ids[i]);
        option->set_votes(first[i]);
      }
      *results.mutable_ranked_choice() = CountInstantRunoff(ids, ballots);
      break;
    }
    default:
      for (const v1::PollOption& option : poll.options()) {
        v1::OptionTally* tally_out = results.add_tallies();
        tally_out->set_option_id(option.id());
        tally_out->set_votes(count_of(absl::StrCat("o:", option.id())));
      }
  }
  if (poll.kind() == v1::POLL_KIND_MOTION) {
    *results.mutable_motion() = DecideMotion(
        count_of("o:yes"), count_of("o:no"), count_of("o:abstain"), turnout,
        results.quorum_reached(), poll.majority_rule(), poll.majority_base());
  }
  return results;
}

bool ResultsVisible(const v1::Poll& poll, bool privileged) {
  const bool closed = poll.state() == v1::POLL_STATE_CLOSED ||
                      poll.state() == v1::POLL_STATE_PUBLISHED;
  if (poll.state() == v1::POLL_STATE_PUBLISHED) return true;
  if (poll.secrecy() == v1::BALLOT_SECRECY_SECRET && !closed) return false;
  if (privileged) return true;
  switch (poll.results_visibility()) {
    case v1::RESULTS_VISIBILITY_AFTER_VOTING:
      return poll.voted() || closed;
    case v1::RESULTS_VISIBILITY_AFTER_CLOSE:
      return closed;
    default:
      return true;
  }
}

void ApplyVisibility(bool privileged, v1::Poll* poll) {
  if (!ResultsVisible(*poll, privileged)) poll->clear_results();
}

}  // namespace townhall::polls
