// The pure rules of a poll: what a new poll and a ballot may be, how the
// scripts' replies decode, how the results are counted from the stored
// tally, and who sees them. No Redis; unit-tested in poll_rules_test.cc.
// poll_rules.cc: new polls, ballots, counting, visibility; poll_decode.cc:
// the scripts' poll views (DecodePollView).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/common/validation.h"
#include "townhall/v1/polls.pb.h"

namespace townhall::polls {

// At most this many polls are OPEN in one session at a time.
inline constexpr int kMaxOpenPolls = 5;
// Choice polls take 2 to kMaxOptions options.
inline constexpr int kMaxOptions = 100;
// Word clouds take 1 to kMaxWords entries per ballot.
inline constexpr int kMaxWords = 3;
// Ballots (casts and changes) per participant per minute.
inline constexpr int kBallotsPerMinute = 30;
// Organization weights: 1 to kMaxWeight, at most kMaxWeights entries.
inline constexpr int kMaxWeight = 1000;
inline constexpr int kMaxWeights = 500;

inline constexpr TextLimits kPollQuestionText{
    .min_chars = 1, .max_chars = 300, .visible_only = true};
inline constexpr TextLimits kOptionText{
    .min_chars = 1, .max_chars = 200, .visible_only = true};
inline constexpr TextLimits kWordText{
    .min_chars = 1, .max_chars = 40, .visible_only = true};

// Checks a poll to create and returns it as stored: defaults filled in
// (secrecy NAMED, visibility LIVE, max_choices, the 1 to 5 scale), options
// numbered "1", "2", ... (motions get "yes", "no", "abstain"), every
// output-only field cleared. INVALID_ARGUMENT names the field and why:
// empty or too many options, options that are the same after
// normalization (text_normalization.h: case, script, look-alike letters),
// invalid UTF-8, a closes_at that is not in the future after `now`, ...
absl::StatusOr<v1::Poll> PrepareNewPoll(const v1::Poll& requested,
                                        absl::Time now);

// A ballot as cast_ballot.lua takes it. The script checks it against the
// poll's kind; these are the checks that need no poll.
struct BallotArgs {
  // Option ids, space-separated, in the ballot's order.
  std::string option_ids;
  std::string rating;
  // Word cloud: (group key, spelling) per entry; the key is the entry's
  // LatinMatchKey, so that spellings across scripts and cases group.
  std::vector<std::pair<std::string, std::string>> words;
  // The ballot as proto3 JSON, as NAMED polls store it (ProtoFromJson
  // reads it back). Written field by field: ProtoToJson resolves the
  // message's type on every call, a cost on the hot path of ballots.
  std::string json;
};
absl::StatusOr<BallotArgs> PrepareBallot(const v1::Ballot& ballot);

// The eligibility snapshot of a poll (taken when it first opened) and the
// weight of the ballots cast: what turnout, quorum and majorities are
// counted from.
struct Turnout {
  int64_t eligible_count = 0;
  int64_t eligible_weight = 0;
  int64_t present_count = 0;
  int64_t present_weight = 0;
  int64_t ballot_weight = 0;
};

// Whether `ballot_weight` is at least `quorum_percent` of `eligible_weight`
// (rounded up). A quorum of 0 is always reached.
bool QuorumReached(int64_t ballot_weight, int64_t eligible_weight,
                   int quorum_percent);

// A motion's outcome from its weighted yes / no / abstain: the base by
// `base` (votes cast = yes + no; present; eligible), the yes weight
// `required` by `rule` (SIMPLE: more than half of the base; TWO_THIRDS: at
// least two thirds; at least 1 either way), adopted when yes reaches it
// and the quorum is reached. UNSPECIFIED means SIMPLE / VOTES_CAST.
v1::MotionResult DecideMotion(int64_t yes, int64_t no, int64_t abstain,
                              const Turnout& turnout, bool quorum_reached,
                              v1::MajorityRule rule, v1::MajorityBase base);

// One poll as a read or write script returned it (append_view in
// lua/polls.lua).
struct PollRecord {
  // With the results counted (all of them: ApplyVisibility trims).
  v1::Poll poll;
  // NAMED polls when asked for: every ballot.
  std::vector<v1::NamedBallot> ballots;
};

// Decodes the view that starts at `values[*pos]` and advances `*pos` past
// it. An OPEN poll whose closes_at is not after `now` is CLOSED at
// closes_at (the next script stores that).
absl::StatusOr<PollRecord> DecodePollView(
    const std::vector<std::string>& values, size_t* pos, absl::Time now);

// A reply of read_polls.lua 'page' or 'watch': its first value (the number
// of polls, or the feed version) into `*head`, then every view into
// `polls`, each as ApplyVisibility(privileged) leaves it.
absl::Status DecodePollList(
    const std::vector<std::string>& values, absl::Time now, bool privileged,
    int64_t* head, google::protobuf::RepeatedPtrField<v1::Poll>* polls);

// The results of `poll` from its stored tally: `tally` is the script's
// field -> weight (o:<option>, r:<value>, k:<ranking>, w:<key>), `words`
// key -> spelling; turnout, quorum and (motions) the majority from
// `turnout`.
v1::PollResults CountResults(
    const v1::Poll& poll,
    const std::vector<std::pair<std::string, int64_t>>& tally,
    const std::vector<std::pair<std::string, std::string>>& words,
    const Turnout& turnout = {});

// Whether a caller sees the results of `poll` (its `voted` is the
// caller's): PUBLISHED polls to everyone; SECRET polls to no one before
// they close; else session runners and organizers (`privileged`) always,
// others by the poll's ResultsVisibility.
bool ResultsVisible(const v1::Poll& poll, bool privileged);

// Clears the results when ResultsVisible says no.
void ApplyVisibility(bool privileged, v1::Poll* poll);

}  // namespace townhall::polls
