// SchedulingService integration tests of ProposeFairSlots
// (services/scheduling/fair_slots_logic.cc; no Redis): slots across four
// time zones, and a series that rotates the inconvenient hour.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/integration/scheduling/scheduling_fixture.h"
#include "tests/testing/status_matchers.h"

namespace townhall::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

v1::ProposeFairSlotsRequest FourRegions(int earliest, int latest) {
  v1::ProposeFairSlotsRequest r;
  const std::pair<const char*, const char*> regions[] = {
      {"berlin", "Europe/Berlin"},
      {"moscow", "Europe/Moscow"},
      {"tashkent", "Asia/Tashkent"},
      {"vladivostok", "Asia/Vladivostok"}};
  for (const auto& [id, zone] : regions) {
    v1::SlotParticipant* p = r.add_participants();
    p->set_id(id);
    p->set_time_zone(zone);
    p->set_earliest_local_hour(earliest);
    p->set_latest_local_hour(latest);
  }
  *r.mutable_window_start() = Ts(Utc(2027, 1, 15));
  *r.mutable_window_end() = Ts(Utc(2027, 1, 16));
  *r.mutable_duration() = Dur(absl::Hours(1));
  *r.mutable_step() = Dur(absl::Minutes(30));
  return r;
}

std::vector<absl::Time> SlotStarts(const v1::ProposeFairSlotsResponse& r) {
  std::vector<absl::Time> out;
  for (const v1::ProposedSlot& s : r.slots())
    out.push_back(FromTs(s.start_time()));
  return out;
}

TEST(SchedulingTest, FairSlotsEightToEightCoverAllFourRegions) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  v1::ProposeFairSlotsRequest request = FourRegions(8, 20);
  request.set_max_slots(6);
  ASSERT_OK_AND_ASSIGN(v1::ProposeFairSlotsResponse response,
                       t.client.ProposeFairSlots(request));
  EXPECT_THAT(SlotStarts(response),
              ElementsAre(Utc(2027, 1, 15, 7), Utc(2027, 1, 15, 7, 30),
                          Utc(2027, 1, 15, 8), Utc(2027, 1, 15, 8, 30),
                          Utc(2027, 1, 15, 9), Utc(2027, 1, 15, 5)));
  ASSERT_EQ(response.slots_size(), 6);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(response.slots(i).covered_weight(), 4) << i;
    EXPECT_EQ(response.slots(i).total_weight(), 4) << i;
    EXPECT_THAT(response.slots(i).inconvenienced_ids(), IsEmpty()) << i;
  }
  EXPECT_EQ(response.slots(5).covered_weight(), 3);
  EXPECT_THAT(response.slots(5).inconvenienced_ids(), ElementsAre("berlin"));
}

TEST(SchedulingTest, FairSlotsNineToSixNeverCoverAllFourRegions) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  v1::ProposeFairSlotsRequest request = FourRegions(9, 18);
  request.set_max_slots(100);
  ASSERT_OK_AND_ASSIGN(v1::ProposeFairSlotsResponse response,
                       t.client.ProposeFairSlots(request));
  ASSERT_EQ(response.slots_size(), 48);
  for (const v1::ProposedSlot& s : response.slots()) {
    EXPECT_LT(s.covered_weight(), s.total_weight())
        << Iso(FromTs(s.start_time()));
  }
  EXPECT_EQ(response.slots(0).covered_weight(), 3);
  EXPECT_EQ(FromTs(response.slots(0).start_time()), Utc(2027, 1, 15, 6));
  EXPECT_THAT(response.slots(0).inconvenienced_ids(), ElementsAre("berlin"));
}

TEST(SchedulingTest, FairSlotsSeriesRotatesTheBadHour) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  v1::ProposeFairSlotsRequest request = FourRegions(9, 18);
  request.set_occurrences(4);
  *request.mutable_occurrence_interval() = Dur(absl::Hours(24 * 7));
  ASSERT_OK_AND_ASSIGN(v1::ProposeFairSlotsResponse response,
                       t.client.ProposeFairSlots(request));
  EXPECT_THAT(SlotStarts(response),
              ElementsAre(Utc(2027, 1, 15, 6), Utc(2027, 1, 22, 8),
                          Utc(2027, 1, 29, 6), Utc(2027, 2, 5, 8)));
  std::map<std::string, int> counts(response.inconvenience_counts().begin(),
                                    response.inconvenience_counts().end());
  EXPECT_EQ(
      counts,
      (std::map<std::string, int>{
          {"berlin", 2}, {"moscow", 0}, {"tashkent", 0}, {"vladivostok", 2}}));
  // Nobody takes the bad hour twice in a row.
  for (int i = 1; i < response.slots_size(); ++i) {
    EXPECT_NE(
        std::vector<std::string>(response.slots(i).inconvenienced_ids().begin(),
                                 response.slots(i).inconvenienced_ids().end()),
        std::vector<std::string>(
            response.slots(i - 1).inconvenienced_ids().begin(),
            response.slots(i - 1).inconvenienced_ids().end()))
        << i;
  }
}

TEST(SchedulingTest, FairSlotsBadInputIsInvalidArgument) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  v1::ProposeFairSlotsRequest request = FourRegions(9, 18);
  request.mutable_participants(2)->set_time_zone("Mars/Olympus");
  EXPECT_THAT(t.client.ProposeFairSlots(request),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("participants[2].time_zone")));
  request = FourRegions(9, 18);
  request.clear_window_end();
  EXPECT_THAT(
      t.client.ProposeFairSlots(request),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("window_end")));
}

}  // namespace
}  // namespace townhall::testing
