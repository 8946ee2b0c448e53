// Fair slots: proposes meeting times for participants spread over many time
// zones, each with the local hours they accept.
//
// A single meeting: every candidate start in the window (spaced by `step`)
// is scored by the weight of participants for whom the whole meeting falls
// inside their acceptable local hours; the best are returned, ties broken by
// the earliest start.
//
// A series: occurrences are planned one after the other. When no slot suits
// everyone, someone must take the bad hour; the planner prefers, among the
// slots that cover the most weight (within a small tolerance), the one whose
// inconvenienced participants have been inconvenienced least so far, so the
// same regions do not always get the bad hour.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace townhall::scheduling {

struct SlotParticipant {
  std::string id;
  // IANA zone.
  std::string time_zone;
  // Acceptable local window [earliest, latest) in hours; latest <= earliest
  // means the window wraps past midnight.
  int earliest_local_hour = 9;
  int latest_local_hour = 18;
  // How many people this entry stands for (>= 1).
  int weight = 1;
};

struct FairSlotRequest {
  std::vector<SlotParticipant> participants;
  absl::Time window_start;
  absl::Time window_end;
  absl::Duration duration = absl::Hours(1);
  absl::Duration step = absl::Minutes(30);
  int max_slots = 5;
  // > 1 plans a series with rotation.
  int occurrences = 1;
  absl::Duration occurrence_interval = absl::Hours(24 * 7);
};

struct ProposedSlot {
  absl::Time start;
  int covered_weight = 0;
  int total_weight = 0;
  std::vector<std::string> inconvenienced_ids;
};

struct FairSlotResult {
  // Best first (single meeting) or in occurrence order (series).
  std::vector<ProposedSlot> slots;
  // Series: how often each participant id was inconvenienced.
  std::map<std::string, int> inconvenience_counts;
};

// Validates the request (INVALID_ARGUMENT naming the field, e.g.
// "participants[2].time_zone") and proposes slots.
absl::StatusOr<FairSlotResult> ProposeFairSlots(const FairSlotRequest& request);

}  // namespace townhall::scheduling
