// Fair slots: scoring candidate starts against participants' local hours, and
// rotating the bad hour through a series.
//
// Coverage. A participant accepts local times [earliest, latest) each day; a
// window with latest <= earliest wraps past midnight (22..6 is a night shift,
// 9..9 is a 24-hour day starting at 09:00). A meeting covers the participant
// when both its local start and its local end (the absolute end converted
// with the zone's rules, so a meeting over a DST change has its real length)
// fall inside one opening of that window. The opening is the one that starts
// on the local day the meeting starts or, for a wrapping window, the one that
// started the evening before (02:00 is still inside yesterday's 22..6). A
// meeting ending exactly at `latest` is covered; one crossing local midnight
// is covered only by a wrapping window that is open past midnight.
//
// Single meeting. Candidates are window_start, window_start + step, ...
// while < window_end. Each is scored by its covered weight; the best
// max_slots are returned by covered weight (descending), then start.
//
// Series. Occurrence k uses the window shifted by k * occurrence_interval,
// and occurrences are planned greedily in order. Within one occurrence:
//   1. best = the highest covered weight of any candidate;
//   2. eligible = candidates with best - covered <= 10% of the total weight
//      (100 * (best - covered) <= 10 * total, exact integer arithmetic);
//   3. each eligible candidate costs the sum over the participants it leaves
//      out of weight * (1 + times inconvenienced so far)^2;
//   4. pick the lowest cost, then the highest coverage, then the earliest.
// A slot covering everyone costs 0, so it always wins. The cost is convex in
// the count, so taking the bad hour a second time costs more than two
// others taking it once: the bad hour rotates. It is linear in weight
// because weight counts people, each with their own convex cost. Everything
// is integer arithmetic with fixed tie-breaks: the output is deterministic.
//
// Work. Local times are computed once per candidate per distinct zone, then
// each participant is a few integer comparisons. Candidates x participants x
// occurrences is bounded by kMaxEvaluations, checked before any scoring.
#include "services/scheduling/fair_slots.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "services/common/validation.h"

namespace townhall::scheduling {
namespace {

constexpr int kMaxParticipants = 500;
// Keeps total weight (<= 5e8) inside int and the cost inside int64.
constexpr int kMaxWeight = 1'000'000;
constexpr absl::Duration kMaxWindow = absl::Hours(24 * 31);
constexpr absl::Duration kMaxMeetingDuration = absl::Hours(24);
constexpr absl::Duration kMinStep = absl::Minutes(5);
constexpr int kMaxSlots = 100;
constexpr int kMaxSeriesOccurrences = 52;
// Keeps every shifted window at a sane, finite time.
constexpr absl::Duration kMaxOccurrenceInterval = absl::Hours(24 * 366);
// candidates x participants x occurrences. A 31-day window at 5-minute steps
// with 500 participants (4.5M) fits for a single meeting.
constexpr int64_t kMaxEvaluations = 10'000'000;
// Series: candidates within this share of the total weight of the best are
// eligible for the fairness choice.
constexpr int64_t kTolerancePercent = 10;
constexpr int kSecondsPerHour = 3600;
constexpr int64_t kSecondsPerDay = 24 * 3600;

// Quotes caller input for an error message, cut short so that a huge value
// does not make a huge message.
std::string Quoted(absl::string_view text) {
  constexpr size_t kMaxQuoted = 64;
  if (text.size() <= kMaxQuoted) {
    return absl::StrCat("\"", absl::CHexEscape(text), "\"");
  }
  return absl::StrCat("\"", absl::CHexEscape(text.substr(0, kMaxQuoted)),
                      "...\"");
}

// A participant, ready for scoring.
struct Entry {
  int zone = 0;              // Index into Plan::zones.
  int64_t open_seconds = 0;  // Opening, seconds after local midnight.
  int64_t span_seconds = 0;  // Length of one opening.
  bool wraps = false;
  int weight = 1;
};

struct Plan {
  std::vector<absl::TimeZone> zones;
  std::vector<Entry> entries;  // Parallel to request.participants.
  int total_weight = 0;
  int64_t candidates = 0;  // Per occurrence.
};

absl::Status ValidateParticipant(const SlotParticipant& p, int index) {
  const std::string field = absl::StrCat("participants[", index, "]");
  if (p.id.empty()) {
    return InvalidField(absl::StrCat(field, ".id"), "must not be empty");
  }
  if (p.earliest_local_hour < 0 || p.earliest_local_hour > 23) {
    return InvalidField(absl::StrCat(field, ".earliest_local_hour"),
                        absl::StrCat("must be between 0 and 23 (got ",
                                     p.earliest_local_hour, ")"));
  }
  if (p.latest_local_hour < 1 || p.latest_local_hour > 24) {
    return InvalidField(absl::StrCat(field, ".latest_local_hour"),
                        absl::StrCat("must be between 1 and 24 (got ",
                                     p.latest_local_hour, ")"));
  }
  if (p.weight < 1 || p.weight > kMaxWeight) {
    return InvalidField(absl::StrCat(field, ".weight"),
                        absl::StrCat("must be between 1 and ", kMaxWeight,
                                     " (got ", p.weight, ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Plan> PreparePlan(const FairSlotRequest& r) {
  if (r.participants.empty()) {
    return InvalidField("participants", "must not be empty");
  }
  if (r.participants.size() > kMaxParticipants) {
    return InvalidField("participants",
                        absl::StrCat("at most ", kMaxParticipants,
                                     " participants allowed (got ",
                                     r.participants.size(), ")"));
  }

  Plan plan;
  std::map<std::string, int> zone_index;
  std::map<absl::string_view, int> first_with_id;
  for (int i = 0; i < static_cast<int>(r.participants.size()); ++i) {
    const SlotParticipant& p = r.participants[i];
    if (absl::Status s = ValidateParticipant(p, i); !s.ok()) return s;
    // Ids key inconvenience_counts, so they must be unique.
    if (auto [it, inserted] = first_with_id.emplace(p.id, i); !inserted) {
      return InvalidField(
          absl::StrCat("participants[", i, "].id"),
          absl::StrCat("duplicate id ", Quoted(p.id), " (also participants[",
                       it->second, "].id)"));
    }

    auto zone_it = zone_index.find(p.time_zone);
    if (zone_it == zone_index.end()) {
      absl::StatusOr<absl::TimeZone> tz = ValidateTimeZone(
          absl::StrCat("participants[", i, "].time_zone"), p.time_zone);
      if (!tz.ok()) return tz.status();
      zone_it =
          zone_index.emplace(p.time_zone, static_cast<int>(plan.zones.size()))
              .first;
      plan.zones.push_back(*tz);
    }

    Entry e;
    e.zone = zone_it->second;
    e.wraps = p.latest_local_hour <= p.earliest_local_hour;
    e.open_seconds = int64_t{p.earliest_local_hour} * kSecondsPerHour;
    e.span_seconds = int64_t{p.latest_local_hour - p.earliest_local_hour +
                             (e.wraps ? 24 : 0)} *
                     kSecondsPerHour;
    e.weight = p.weight;
    plan.entries.push_back(e);
    plan.total_weight += p.weight;
  }

  if (r.window_end <= r.window_start) {
    return InvalidField("window_end", "must be after window_start");
  }
  // Also catches infinite ends: their difference is infinite.
  const absl::Duration window = r.window_end - r.window_start;
  if (window > kMaxWindow) {
    return InvalidField(
        "window_end", absl::StrCat("window must be at most 31 days long (got ",
                                   absl::FormatDuration(window), ")"));
  }
  if (r.duration <= absl::ZeroDuration()) {
    return InvalidField("duration", "must be positive");
  }
  if (r.duration > kMaxMeetingDuration) {
    return InvalidField("duration", "must be at most 24 hours");
  }
  if (r.step < kMinStep) {
    return InvalidField("step", "must be at least 5 minutes");
  }
  if (r.max_slots < 1 || r.max_slots > kMaxSlots) {
    return InvalidField(
        "max_slots", absl::StrCat("must be between 1 and ", kMaxSlots, " (got ",
                                  r.max_slots, ")"));
  }
  if (r.occurrences < 1 || r.occurrences > kMaxSeriesOccurrences) {
    return InvalidField(
        "occurrences",
        absl::StrCat("must be between 1 and ", kMaxSeriesOccurrences, " (got ",
                     r.occurrences, ")"));
  }
  if (r.occurrences > 1) {
    if (r.occurrence_interval <= absl::ZeroDuration()) {
      return InvalidField("occurrence_interval",
                          "must be positive when occurrences > 1");
    }
    // Overlapping windows could give two occurrences the same start.
    if (r.occurrence_interval < window) {
      return InvalidField(
          "occurrence_interval",
          "must be at least the window length (window_end - window_start)");
    }
    if (r.occurrence_interval > kMaxOccurrenceInterval) {
      return InvalidField("occurrence_interval", "must be at most 366 days");
    }
  }

  if (r.step >= window) {
    plan.candidates = 1;
  } else {
    absl::Duration remainder;
    plan.candidates = absl::IDivDuration(window, r.step, &remainder);
    if (remainder > absl::ZeroDuration()) ++plan.candidates;
  }
  // <= 8928 * 500 * 52: no overflow.
  const int64_t evaluations = plan.candidates *
                              static_cast<int64_t>(r.participants.size()) *
                              r.occurrences;
  if (evaluations > kMaxEvaluations) {
    return InvalidField(
        "step",
        absl::StrFormat("%d candidate starts x %d participants x %d "
                        "occurrences is more than %d evaluations; use a "
                        "larger step, a shorter window or fewer occurrences",
                        plan.candidates, r.participants.size(), r.occurrences,
                        kMaxEvaluations));
  }
  return plan;
}

// The meeting in one zone's wall-clock time, in seconds after local
// midnight of the day it starts (civil days always have 86400 seconds).
struct LocalSpan {
  int64_t start = 0;
  int64_t end = 0;
};

LocalSpan ToLocal(absl::Time start, absl::Time end, absl::TimeZone zone) {
  const absl::CivilSecond local_start = absl::ToCivilSecond(start, zone);
  const absl::CivilSecond midnight{absl::CivilDay(local_start)};
  return {local_start - midnight, absl::ToCivilSecond(end, zone) - midnight};
}

bool Covers(const Entry& e, const LocalSpan& meeting) {
  auto fits = [&](int64_t open) {
    return meeting.start >= open && meeting.end <= open + e.span_seconds;
  };
  // A wrapping window opened yesterday evening may still be open.
  return fits(e.open_seconds) ||
         (e.wraps && fits(e.open_seconds - kSecondsPerDay));
}

// Candidate i of a window. Spelled out because 0 * InfiniteDuration() is
// infinite, and an infinite step is valid (one candidate).
absl::Time CandidateStart(absl::Time first, int64_t i, absl::Duration step) {
  return i == 0 ? first : first + i * step;
}

// Computes which participants a candidate covers, reusing its buffers.
class Evaluator {
 public:
  Evaluator(const FairSlotRequest& request, const Plan& plan)
      : request_(request),
        plan_(plan),
        spans_(plan.zones.size()),
        covered_(plan.entries.size()) {}

  // Returns covered_[i] for participant i, valid until the next call.
  const std::vector<char>& Evaluate(absl::Time start) {
    const absl::Time end = start + request_.duration;
    for (size_t z = 0; z < plan_.zones.size(); ++z) {
      spans_[z] = ToLocal(start, end, plan_.zones[z]);
    }
    for (size_t i = 0; i < plan_.entries.size(); ++i) {
      const Entry& e = plan_.entries[i];
      covered_[i] = Covers(e, spans_[e.zone]) ? 1 : 0;
    }
    return covered_;
  }

  int CoveredWeight(const std::vector<char>& covered) const {
    int weight = 0;
    for (size_t i = 0; i < covered.size(); ++i) {
      if (covered[i]) weight += plan_.entries[i].weight;
    }
    return weight;
  }

  ProposedSlot MakeSlot(absl::Time start) {
    const std::vector<char>& covered = Evaluate(start);
    ProposedSlot slot;
    slot.start = start;
    slot.covered_weight = CoveredWeight(covered);
    slot.total_weight = plan_.total_weight;
    for (size_t i = 0; i < covered.size(); ++i) {
      if (!covered[i]) {
        slot.inconvenienced_ids.push_back(request_.participants[i].id);
      }
    }
    std::sort(slot.inconvenienced_ids.begin(), slot.inconvenienced_ids.end());
    return slot;
  }

 private:
  const FairSlotRequest& request_;
  const Plan& plan_;
  std::vector<LocalSpan> spans_;
  std::vector<char> covered_;
};

FairSlotResult ProposeSingle(const FairSlotRequest& r, const Plan& plan) {
  Evaluator evaluator(r, plan);
  std::vector<int> weight(plan.candidates);
  for (int64_t i = 0; i < plan.candidates; ++i) {
    weight[i] = evaluator.CoveredWeight(
        evaluator.Evaluate(CandidateStart(r.window_start, i, r.step)));
  }
  std::vector<int64_t> order(plan.candidates);
  std::iota(order.begin(), order.end(), 0);
  const int64_t keep = std::min<int64_t>(r.max_slots, plan.candidates);
  // Index order is start order, so this is "earliest first" on ties.
  std::partial_sort(order.begin(), order.begin() + keep, order.end(),
                    [&](int64_t a, int64_t b) {
                      if (weight[a] != weight[b]) return weight[a] > weight[b];
                      return a < b;
                    });
  FairSlotResult result;
  for (int64_t k = 0; k < keep; ++k) {
    result.slots.push_back(
        evaluator.MakeSlot(CandidateStart(r.window_start, order[k], r.step)));
  }
  return result;
}

FairSlotResult ProposeSeries(const FairSlotRequest& r, const Plan& plan) {
  Evaluator evaluator(r, plan);
  const size_t n = plan.entries.size();
  std::vector<int> times_inconvenienced(n, 0);
  std::vector<int> weight(plan.candidates);
  std::vector<int64_t> cost(plan.candidates);
  FairSlotResult result;

  for (int k = 0; k < r.occurrences; ++k) {
    const absl::Time first =
        CandidateStart(r.window_start, k, r.occurrence_interval);
    int best = 0;
    for (int64_t c = 0; c < plan.candidates; ++c) {
      const std::vector<char>& covered =
          evaluator.Evaluate(CandidateStart(first, c, r.step));
      weight[c] = 0;
      cost[c] = 0;
      for (size_t i = 0; i < n; ++i) {
        const Entry& e = plan.entries[i];
        if (covered[i]) {
          weight[c] += e.weight;
        } else {
          const int64_t times = 1 + times_inconvenienced[i];
          cost[c] += e.weight * times * times;
        }
      }
      best = std::max(best, weight[c]);
    }

    int64_t chosen = -1;
    for (int64_t c = 0; c < plan.candidates; ++c) {
      if (100 * int64_t{best - weight[c]} >
          kTolerancePercent * plan.total_weight) {
        continue;
      }
      // Strict comparisons keep the earliest among equals.
      if (chosen < 0 || cost[c] < cost[chosen] ||
          (cost[c] == cost[chosen] && weight[c] > weight[chosen])) {
        chosen = c;
      }
    }

    ProposedSlot slot =
        evaluator.MakeSlot(CandidateStart(first, chosen, r.step));
    const std::vector<char>& covered = evaluator.Evaluate(slot.start);
    // Counts change only after the whole occurrence is decided.
    for (size_t i = 0; i < n; ++i) {
      if (!covered[i]) ++times_inconvenienced[i];
    }
    result.slots.push_back(std::move(slot));
  }

  for (size_t i = 0; i < n; ++i) {
    result.inconvenience_counts[r.participants[i].id] = times_inconvenienced[i];
  }
  return result;
}

}  // namespace

absl::StatusOr<FairSlotResult> ProposeFairSlots(
    const FairSlotRequest& request) {
  absl::StatusOr<Plan> plan = PreparePlan(request);
  if (!plan.ok()) return plan.status();
  if (request.occurrences == 1) return ProposeSingle(request, *plan);
  return ProposeSeries(request, *plan);
}

}  // namespace townhall::scheduling
