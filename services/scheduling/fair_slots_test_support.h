// Test support for the fair slots tests: participants, a one-day request
// and the starts of proposed slots.
//
//   FairSlotRequest r = DayRequest(FourRegions(9, 18), 2027, 1, 15);
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "services/scheduling/fair_slots.h"
#include "services/scheduling/scheduling_test_support.h"

namespace townhall::scheduling::testing {

inline SlotParticipant Participant(std::string id, std::string zone,
                                   int earliest, int latest, int weight = 1) {
  SlotParticipant p;
  p.id = std::move(id);
  p.time_zone = std::move(zone);
  p.earliest_local_hour = earliest;
  p.latest_local_hour = latest;
  p.weight = weight;
  return p;
}

// One UTC day starting at 00:00, 1-hour meetings every 30 minutes.
inline FairSlotRequest DayRequest(std::vector<SlotParticipant> participants,
                                  int year, int month, int day) {
  FairSlotRequest r;
  r.participants = std::move(participants);
  r.window_start = Utc(year, month, day);
  r.window_end = r.window_start + absl::Hours(24);
  r.duration = absl::Hours(1);
  r.step = absl::Minutes(30);
  return r;
}

// The four regions of the acceptance scenario, all with the same hours.
inline std::vector<SlotParticipant> FourRegions(int earliest, int latest) {
  return {Participant("berlin", "Europe/Berlin", earliest, latest),
          Participant("moscow", "Europe/Moscow", earliest, latest),
          Participant("tashkent", "Asia/Tashkent", earliest, latest),
          Participant("vladivostok", "Asia/Vladivostok", earliest, latest)};
}

inline std::vector<absl::Time> Starts(const std::vector<ProposedSlot>& slots) {
  std::vector<absl::Time> starts;
  for (const ProposedSlot& s : slots) starts.push_back(s.start);
  return starts;
}

}  // namespace townhall::scheduling::testing
