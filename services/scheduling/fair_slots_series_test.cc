// Fair slots for a series: rotating who is left out, within ten percent of
// the best coverage, weights as headcount.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "services/scheduling/fair_slots.h"
#include "services/scheduling/fair_slots_test_support.h"

namespace townhall::scheduling {
namespace {

using testing::DayRequest;
using ::testing::ElementsAre;
using testing::FourRegions;
using ::testing::IsEmpty;
using testing::Participant;
using ::testing::SizeIs;
using testing::Starts;
using ::testing::StartsWith;
using testing::Utc;

// --- Series ---------------------------------------------------------------

// London (UTC+0), Shanghai (UTC+8) and Los Angeles (UTC-8) in winter, 9..18
// local: each pair shares exactly one 1-hour slot, so each slot leaves one
// region out. 01:00 UTC (without London) is earliest.
std::vector<SlotParticipant> ThreeRegions() {
  return {Participant("london", "Europe/London", 9, 18),
          Participant("shanghai", "Asia/Shanghai", 9, 18),
          Participant("los_angeles", "America/Los_Angeles", 9, 18)};
}

TEST(FairSlotsTest, SingleMeetingWithThreeRegionsLeavesLondonOut) {
  absl::StatusOr<FairSlotResult> result =
      ProposeFairSlots(DayRequest(ThreeRegions(), 2027, 1, 15));
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_THAT(result->slots, SizeIs(5));
  EXPECT_THAT(Starts(result->slots),
              ElementsAre(Utc(2027, 1, 15, 1), Utc(2027, 1, 15, 9),
                          Utc(2027, 1, 15, 17), Utc(2027, 1, 15, 0),
                          Utc(2027, 1, 15, 0, 30)));
  EXPECT_THAT(result->slots[0].inconvenienced_ids, ElementsAre("london"));
}

TEST(FairSlotsTest, SeriesRotatesTheBadHour) {
  FairSlotRequest r = DayRequest(ThreeRegions(), 2027, 1, 15);
  r.occurrences = 4;
  r.occurrence_interval = absl::Hours(24 * 7);
  absl::StatusOr<FairSlotResult> result = ProposeFairSlots(r);
  ASSERT_TRUE(result.ok()) << result.status();

  ASSERT_THAT(result->slots, SizeIs(4));
  EXPECT_THAT(Starts(result->slots),
              ElementsAre(Utc(2027, 1, 15, 1), Utc(2027, 1, 22, 9),
                          Utc(2027, 1, 29, 17), Utc(2027, 2, 5, 1)));
  std::vector<std::vector<std::string>> left_out;
  for (const ProposedSlot& s : result->slots) {
    EXPECT_EQ(s.covered_weight, 2);
    EXPECT_EQ(s.total_weight, 3);
    left_out.push_back(s.inconvenienced_ids);
  }
  EXPECT_THAT(left_out,
              ElementsAre(ElementsAre("london"), ElementsAre("los_angeles"),
                          ElementsAre("shanghai"), ElementsAre("london")));
  EXPECT_THAT(result->inconvenience_counts,
              ElementsAre(std::pair<const std::string, int>("london", 2),
                          std::pair<const std::string, int>("los_angeles", 1),
                          std::pair<const std::string, int>("shanghai", 1)));

  int lowest = 4, highest = 0;
  for (const auto& [id, count] : result->inconvenience_counts) {
    lowest = std::min(lowest, count);
    highest = std::max(highest, count);
  }
  EXPECT_LT(highest, 4);
  EXPECT_LE(highest - lowest, 1);
  for (int k = 1; k < 4; ++k) {
    EXPECT_NE(left_out[k], left_out[k - 1]) << k;
  }

  absl::StatusOr<FairSlotResult> again = ProposeFairSlots(r);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(Starts(again->slots), Starts(result->slots));
  EXPECT_EQ(again->inconvenience_counts, result->inconvenience_counts);
}

TEST(FairSlotsTest, SeriesAlternatesBerlinAndVladivostok) {
  FairSlotRequest r = DayRequest(FourRegions(9, 18), 2027, 1, 15);
  r.occurrences = 4;
  absl::StatusOr<FairSlotResult> result = ProposeFairSlots(r);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(Starts(result->slots),
              ElementsAre(Utc(2027, 1, 15, 6), Utc(2027, 1, 22, 8),
                          Utc(2027, 1, 29, 6), Utc(2027, 2, 5, 8)));
  EXPECT_EQ(
      result->inconvenience_counts,
      (std::map<std::string, int>{
          {"berlin", 2}, {"moscow", 0}, {"tashkent", 0}, {"vladivostok", 2}}));
}

TEST(FairSlotsTest, SeriesKeepsFullCoverageAndReportsZeros) {
  FairSlotRequest r = DayRequest(FourRegions(8, 20), 2027, 1, 15);
  r.occurrences = 3;
  absl::StatusOr<FairSlotResult> result = ProposeFairSlots(r);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(Starts(result->slots),
              ElementsAre(Utc(2027, 1, 15, 7), Utc(2027, 1, 22, 7),
                          Utc(2027, 1, 29, 7)));
  for (const ProposedSlot& s : result->slots) {
    EXPECT_EQ(s.covered_weight, 4);
  }
  EXPECT_THAT(result->inconvenience_counts, SizeIs(4));
  for (const auto& [id, count] : result->inconvenience_counts) {
    EXPECT_EQ(count, 0) << id;
  }
}

// "core" always fits. Slot X (08:00..10:00 UTC) leaves "a" out, slot Y
// (14:00..16:00) leaves "b" and "c" out, covering one weight less than X.
FairSlotRequest ToleranceRequest(int core_weight) {
  FairSlotRequest r = DayRequest(
      {Participant("core", "UTC", 0, 24, core_weight),
       Participant("a", "UTC", 14, 17), Participant("b", "UTC", 8, 11),
       Participant("c", "UTC", 8, 11)},
      2027, 1, 15);
  r.occurrences = 4;
  return r;
}

TEST(FairSlotsTest, SeriesUsesSlotsWithinTenPercentForFairness) {
  // Total 10: Y is exactly 10% below X, so it is eligible.
  absl::StatusOr<FairSlotResult> result = ProposeFairSlots(ToleranceRequest(7));
  ASSERT_TRUE(result.ok()) << result.status();
  // Costs: X 1 vs Y 2; X 4 vs Y 2; X 4 vs Y 8; X 9 vs Y 8.
  EXPECT_THAT(Starts(result->slots),
              ElementsAre(Utc(2027, 1, 15, 8), Utc(2027, 1, 22, 14),
                          Utc(2027, 1, 29, 8), Utc(2027, 2, 5, 14)));
  EXPECT_EQ(result->slots[1].covered_weight, 8);
  EXPECT_THAT(result->slots[1].inconvenienced_ids, ElementsAre("b", "c"));
  EXPECT_EQ(
      result->inconvenience_counts,
      (std::map<std::string, int>{{"a", 2}, {"b", 2}, {"c", 2}, {"core", 0}}));
}

TEST(FairSlotsTest, SeriesIgnoresSlotsBeyondTenPercent) {
  // Total 9: Y is 11% below X, so "a" takes every bad hour.
  absl::StatusOr<FairSlotResult> result = ProposeFairSlots(ToleranceRequest(6));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(Starts(result->slots),
              ElementsAre(Utc(2027, 1, 15, 8), Utc(2027, 1, 22, 8),
                          Utc(2027, 1, 29, 8), Utc(2027, 2, 5, 8)));
  EXPECT_EQ(result->inconvenience_counts.at("a"), 4);
}

TEST(FairSlotsTest, SeriesRotationShieldsHeavyParticipant) {
  // ThreeRegions with London standing for 5 people: a slot without London
  // covers 2 of 7, far outside the 10% tolerance of the best (6 of 7), so
  // Shanghai and Los Angeles share the bad hour.
  std::vector<SlotParticipant> people = ThreeRegions();
  people[0].weight = 5;
  FairSlotRequest r = DayRequest(people, 2027, 1, 15);
  r.occurrences = 4;
  absl::StatusOr<FairSlotResult> result = ProposeFairSlots(r);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(Starts(result->slots),
              ElementsAre(Utc(2027, 1, 15, 9), Utc(2027, 1, 22, 17),
                          Utc(2027, 1, 29, 9), Utc(2027, 2, 5, 17)));
  EXPECT_EQ(result->inconvenience_counts,
            (std::map<std::string, int>{
                {"london", 0}, {"los_angeles", 2}, {"shanghai", 2}}));
}

TEST(FairSlotsTest, SeriesCountsWeightAsHeadcount) {
  // 08:00 leaves out "pair" (2 people), 14:00 leaves out "x" and "y": the
  // same weight. The cost is weight * (1 + n)^2, so each of the four people
  // takes the bad hour equally often: 2, 2, 2.
  FairSlotRequest r = DayRequest(
      {Participant("pair", "UTC", 14, 17, 2), Participant("x", "UTC", 8, 11),
       Participant("y", "UTC", 8, 11)},
      2027, 1, 15);
  r.occurrences = 4;
  absl::StatusOr<FairSlotResult> result = ProposeFairSlots(r);
  ASSERT_TRUE(result.ok()) << result.status();
  // Costs: 2 vs 2 (tie: earlier); 8 vs 2; 8 vs 8 (tie); 18 vs 8.
  EXPECT_THAT(Starts(result->slots),
              ElementsAre(Utc(2027, 1, 15, 8), Utc(2027, 1, 22, 14),
                          Utc(2027, 1, 29, 8), Utc(2027, 2, 5, 14)));
  EXPECT_EQ(result->inconvenience_counts,
            (std::map<std::string, int>{{"pair", 2}, {"x", 2}, {"y", 2}}));
}

TEST(FairSlotsTest, SeriesCostTieGoesToHigherCoverage) {
  // 08:00 leaves b1..b4 out, 14:00 leaves "a" out. Once "a" has taken the
  // bad hour, both cost 4; 14:00 covers more (34 vs 31 of 35) and wins.
  std::vector<SlotParticipant> people = {Participant("core", "UTC", 0, 24, 30),
                                         Participant("a", "UTC", 8, 11)};
  for (int i = 1; i <= 4; ++i) {
    people.push_back(Participant(absl::StrCat("b", i), "UTC", 14, 17));
  }
  FairSlotRequest r = DayRequest(people, 2027, 1, 15);
  r.occurrences = 2;
  absl::StatusOr<FairSlotResult> result = ProposeFairSlots(r);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(Starts(result->slots),
              ElementsAre(Utc(2027, 1, 15, 14), Utc(2027, 1, 22, 14)));
  EXPECT_EQ(result->inconvenience_counts.at("a"), 2);
}
}  // namespace
}  // namespace townhall::scheduling
