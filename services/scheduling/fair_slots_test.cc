#include "services/scheduling/fair_slots.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace townhall::scheduling {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using ::testing::StartsWith;

absl::Time Utc(int year, int month, int day, int hour = 0, int minute = 0) {
  return absl::FromCivil(absl::CivilSecond(year, month, day, hour, minute, 0),
                         absl::UTCTimeZone());
}

SlotParticipant Participant(std::string id, std::string zone, int earliest,
                            int latest, int weight = 1) {
  SlotParticipant p;
  p.id = std::move(id);
  p.time_zone = std::move(zone);
  p.earliest_local_hour = earliest;
  p.latest_local_hour = latest;
  p.weight = weight;
  return p;
}

// One UTC day starting at 00:00, 1-hour meetings every 30 minutes.
FairSlotRequest DayRequest(std::vector<SlotParticipant> participants, int year,
                           int month, int day) {
  FairSlotRequest r;
  r.participants = std::move(participants);
  r.window_start = Utc(year, month, day);
  r.window_end = r.window_start + absl::Hours(24);
  r.duration = absl::Hours(1);
  r.step = absl::Minutes(30);
  return r;
}

// The four regions of the acceptance scenario, all with the same hours.
std::vector<SlotParticipant> FourRegions(int earliest, int latest) {
  return {Participant("berlin", "Europe/Berlin", earliest, latest),
          Participant("moscow", "Europe/Moscow", earliest, latest),
          Participant("tashkent", "Asia/Tashkent", earliest, latest),
          Participant("vladivostok", "Asia/Vladivostok", earliest, latest)};
}

std::vector<absl::Time> Starts(const std::vector<ProposedSlot>& slots) {
  std::vector<absl::Time> starts;
  for (const ProposedSlot& s : slots) starts.push_back(s.start);
  return starts;
}

// Starts of the slots covering everyone (max_slots = 100 returns them all
// first when the window has at most 100 candidates).
std::vector<absl::Time> FullyCoveredStarts(const FairSlotResult& result) {
  std::vector<absl::Time> starts;
  for (const ProposedSlot& s : result.slots) {
    if (s.covered_weight == s.total_weight) starts.push_back(s.start);
  }
  return starts;
}

// --- Single meeting -------------------------------------------------------

// 9..18 local in January, as UTC meeting starts (1-hour meeting):
//   Berlin (+1) 08:00..16:00, Moscow (+3) 06:00..14:00,
//   Tashkent (+5) 04:00..12:00, Vladivostok (+10) 23:00 (day before)..07:00.
// Berlin and Vladivostok never overlap, so at most three are covered:
// 06:00..07:00 leave Berlin out, 08:00..12:00 leave Vladivostok out.
TEST(FairSlotsTest, AcceptanceNineToSixCoversAtMostThree) {
  FairSlotRequest r = DayRequest(FourRegions(9, 18), 2027, 1, 15);
  absl::StatusOr<FairSlotResult> result = ProposeFairSlots(r);
  ASSERT_TRUE(result.ok()) << result.status();

  ASSERT_THAT(result->slots, SizeIs(5));
  EXPECT_THAT(Starts(result->slots),
              ElementsAre(Utc(2027, 1, 15, 6, 0), Utc(2027, 1, 15, 6, 30),
                          Utc(2027, 1, 15, 7, 0), Utc(2027, 1, 15, 8, 0),
                          Utc(2027, 1, 15, 8, 30)));
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(result->slots[i].covered_weight, 3) << i;
    EXPECT_EQ(result->slots[i].total_weight, 4) << i;
  }
  for (int i = 0; i < 3; ++i) {
    EXPECT_THAT(result->slots[i].inconvenienced_ids, ElementsAre("berlin"));
  }
  for (int i = 3; i < 5; ++i) {
    EXPECT_THAT(result->slots[i].inconvenienced_ids,
                ElementsAre("vladivostok"));
  }
  EXPECT_THAT(result->inconvenience_counts, IsEmpty());
}

TEST(FairSlotsTest, AcceptanceNineToSixCoverageEndsWithTheWorkingDay) {
  FairSlotRequest r = DayRequest(FourRegions(9, 18), 2027, 1, 15);
  r.max_slots = 100;
  absl::StatusOr<FairSlotResult> result = ProposeFairSlots(r);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_THAT(result->slots, SizeIs(48));
  // 3 Berlin-less starts + 9 Vladivostok-less starts (08:00..12:00).
  EXPECT_EQ(result->slots[11].start, Utc(2027, 1, 15, 12, 0));
  EXPECT_EQ(result->slots[11].covered_weight, 3);
  EXPECT_LT(result->slots[12].covered_weight, 3);
  EXPECT_THAT(FullyCoveredStarts(*result), IsEmpty());
}

// 8..20 local: Vladivostok accepts 22:00 (day before)..09:00 UTC starts and
// Berlin 07:00..18:00, so 07:00..09:00 UTC cover all four.
TEST(FairSlotsTest, AcceptanceEightToEightCoversEveryone) {
  FairSlotRequest r = DayRequest(FourRegions(8, 20), 2027, 1, 15);
  r.max_slots = 6;
  absl::StatusOr<FairSlotResult> result = ProposeFairSlots(r);
  ASSERT_TRUE(result.ok()) << result.status();

  ASSERT_THAT(result->slots, SizeIs(6));
  EXPECT_THAT(Starts(result->slots),
              ElementsAre(Utc(2027, 1, 15, 7, 0), Utc(2027, 1, 15, 7, 30),
                          Utc(2027, 1, 15, 8, 0), Utc(2027, 1, 15, 8, 30),
                          Utc(2027, 1, 15, 9, 0), Utc(2027, 1, 15, 5, 0)));
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(result->slots[i].covered_weight, 4) << i;
    EXPECT_THAT(result->slots[i].inconvenienced_ids, IsEmpty()) << i;
  }
  // Next best: Moscow 08:00, Tashkent 10:00, Vladivostok 15:00, Berlin 06:00.
  EXPECT_EQ(result->slots[5].covered_weight, 3);
  EXPECT_THAT(result->slots[5].inconvenienced_ids, ElementsAre("berlin"));
}

// Europe/Berlin moves to UTC+2 on 2027-03-28. Its 09:00 becomes 07:00 UTC,
// which still ends at 18:00 in Vladivostok: the four regions now meet.
TEST(FairSlotsTest, AcceptanceAfterBerlinDstCoversEveryoneAtSevenUtc) {
  FairSlotRequest before = DayRequest(FourRegions(9, 18), 2027, 3, 26);
  absl::StatusOr<FairSlotResult> b = ProposeFairSlots(before);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->slots[0].start, Utc(2027, 3, 26, 6, 0));
  EXPECT_EQ(b->slots[0].covered_weight, 3);
  EXPECT_THAT(b->slots[0].inconvenienced_ids, ElementsAre("berlin"));

  FairSlotRequest after = DayRequest(FourRegions(9, 18), 2027, 3, 29);
  after.max_slots = 2;
  absl::StatusOr<FairSlotResult> a = ProposeFairSlots(after);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->slots[0].start, Utc(2027, 3, 29, 7, 0));
  EXPECT_EQ(a->slots[0].covered_weight, 4);
  EXPECT_THAT(a->slots[0].inconvenienced_ids, IsEmpty());
  // Only one slot covers all four.
  EXPECT_EQ(a->slots[1].covered_weight, 3);
}

// A window spanning the change: Berlin's covered UTC starts move an hour
// earlier from Sunday 2027-03-28 on.
TEST(FairSlotsTest, DstChangeInsideWindowShiftsCoveredSlots) {
  FairSlotRequest r;
  r.participants = {Participant("berlin", "Europe/Berlin", 9, 18)};
  r.window_start = Utc(2027, 3, 27);
  r.window_end = Utc(2027, 3, 29);
  r.max_slots = 100;
  absl::StatusOr<FairSlotResult> result = ProposeFairSlots(r);
  ASSERT_TRUE(result.ok()) << result.status();

  std::vector<absl::Time> expected;
  // Saturday, UTC+1: 08:00..16:00 UTC.
  for (absl::Time t = Utc(2027, 3, 27, 8); t <= Utc(2027, 3, 27, 16);
       t += absl::Minutes(30)) {
    expected.push_back(t);
  }
  // Sunday, UTC+2: 07:00..15:00 UTC.
  for (absl::Time t = Utc(2027, 3, 28, 7); t <= Utc(2027, 3, 28, 15);
       t += absl::Minutes(30)) {
    expected.push_back(t);
  }
  ASSERT_THAT(expected, SizeIs(34));
  EXPECT_EQ(FullyCoveredStarts(*result), expected);
}

// On the spring-forward night, 01:30 CET + 1 hour is 03:30 CEST: the meeting
// must be judged by its real local end, not by start + duration on the wall.
TEST(FairSlotsTest, DstGapUsesRealLocalEnd) {
  FairSlotRequest r;
  r.participants = {Participant("berlin", "Europe/Berlin", 0, 3)};
  r.window_start = Utc(2027, 3, 27, 23);  // 00:00 CET on the 28th.
  r.window_end = Utc(2027, 3, 28, 2);
  r.max_slots = 100;
  absl::StatusOr<FairSlotResult> result = ProposeFairSlots(r);
  ASSERT_TRUE(result.ok()) << result.status();
  // 00:00-01:00, 00:30-01:30 and 01:00 CET-03:00 CEST fit; 01:30 CET ends at
  // 03:30 CEST.
  EXPECT_THAT(FullyCoveredStarts(*result),
              ElementsAre(Utc(2027, 3, 27, 23, 0), Utc(2027, 3, 27, 23, 30),
                          Utc(2027, 3, 28, 0, 0)));
}

// Night shift in Tashkent (UTC+5, no DST) accepting 22..6 local, i.e. meeting
// starts 17:00..00:00 UTC. The window is 2027-01-15 UTC = 05:00 local on the
// 15th to 05:00 on the 16th.
TEST(FairSlotsTest, WrapAroundWindowCrossesLocalMidnight) {
  FairSlotRequest r =
      DayRequest({Participant("night", "Asia/Tashkent", 22, 6)}, 2027, 1, 15);
  r.max_slots = 100;
  absl::StatusOr<FairSlotResult> result = ProposeFairSlots(r);
  ASSERT_TRUE(result.ok()) << result.status();

  // 05:00 local (the night of the 14th) ends exactly at 06:00.
  std::vector<absl::Time> expected = {Utc(2027, 1, 15, 0, 0)};
  // 22:00 local .. 04:30 local, including 23:30-00:30 over midnight.
  for (absl::Time t = Utc(2027, 1, 15, 17); t < Utc(2027, 1, 16);
       t += absl::Minutes(30)) {
    expected.push_back(t);
  }
  ASSERT_THAT(expected, SizeIs(15));
  EXPECT_EQ(FullyCoveredStarts(*result), expected);
}

TEST(FairSlotsTest, NonWrappingWindowRejectsMeetingOverMidnight) {
  FairSlotRequest r =
      DayRequest({Participant("late", "UTC", 18, 24)}, 2027, 1, 15);
  r.window_end = Utc(2027, 1, 16, 3);
  r.max_slots = 100;
  absl::StatusOr<FairSlotResult> result = ProposeFairSlots(r);
  ASSERT_TRUE(result.ok()) << result.status();
  std::vector<absl::Time> expected;
  for (absl::Time t = Utc(2027, 1, 15, 18); t <= Utc(2027, 1, 15, 23);
       t += absl::Minutes(30)) {
    expected.push_back(t);
  }
  // 23:00-24:00 fits; 23:30-00:30 does not.
  EXPECT_EQ(FullyCoveredStarts(*result), expected);
}

TEST(FairSlotsTest, EqualHoursMeanA24HourDayFromThatHour) {
  // 9..9: everything except meetings that run over 09:00.
  FairSlotRequest r =
      DayRequest({Participant("any", "UTC", 9, 9)}, 2027, 1, 15);
  r.max_slots = 100;
  absl::StatusOr<FairSlotResult> result = ProposeFairSlots(r);
  ASSERT_TRUE(result.ok()) << result.status();
  std::vector<absl::Time> covered = FullyCoveredStarts(*result);
  EXPECT_THAT(covered, SizeIs(47));
  EXPECT_EQ(std::find(covered.begin(), covered.end(), Utc(2027, 1, 15, 8, 30)),
            covered.end());
}

TEST(FairSlotsTest, HeavyParticipantDominates) {
  std::vector<SlotParticipant> people = FourRegions(9, 18);
  people[0].weight = 10;  // Berlin.
  FairSlotRequest r = DayRequest(people, 2027, 1, 15);
  absl::StatusOr<FairSlotResult> result = ProposeFairSlots(r);
  ASSERT_TRUE(result.ok()) << result.status();
  // Unweighted, 06:00 (without Berlin) would come first.
  EXPECT_EQ(result->slots[0].start, Utc(2027, 1, 15, 8, 0));
  EXPECT_EQ(result->slots[0].covered_weight, 12);
  EXPECT_EQ(result->slots[0].total_weight, 13);
  EXPECT_THAT(result->slots[0].inconvenienced_ids, ElementsAre("vladivostok"));
}

TEST(FairSlotsTest, HeavyParticipantOutweighsManyLightOnes) {
  // Tokyo 9..18 is 00:00..09:00 UTC, New York (EST) 14:00..23:00: disjoint.
  std::vector<SlotParticipant> people = {
      Participant("tokyo", "Asia/Tokyo", 9, 18, 10)};
  for (int i = 0; i < 9; ++i) {
    people.push_back(
        Participant(absl::StrCat("ny", i), "America/New_York", 9, 18));
  }
  absl::StatusOr<FairSlotResult> result =
      ProposeFairSlots(DayRequest(people, 2027, 1, 15));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->slots[0].start, Utc(2027, 1, 15, 0, 0));
  EXPECT_EQ(result->slots[0].covered_weight, 10);
  EXPECT_EQ(result->slots[0].total_weight, 19);
  EXPECT_THAT(result->slots[0].inconvenienced_ids, SizeIs(9));
  EXPECT_EQ(result->slots[0].inconvenienced_ids.front(), "ny0");
}

TEST(FairSlotsTest, InconveniencedIdsAreSorted) {
  FairSlotRequest r = DayRequest(
      {Participant("zulu", "UTC", 9, 10), Participant("alpha", "UTC", 9, 10),
       Participant("mike", "UTC", 12, 13)},
      2027, 1, 15);
  r.max_slots = 100;
  absl::StatusOr<FairSlotResult> result = ProposeFairSlots(r);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->slots[0].start, Utc(2027, 1, 15, 9));
  EXPECT_THAT(result->slots[0].inconvenienced_ids, ElementsAre("mike"));
  // Covering nobody: all three, sorted.
  EXPECT_THAT(result->slots.back().inconvenienced_ids,
              ElementsAre("alpha", "mike", "zulu"));
}

TEST(FairSlotsTest, FewerCandidatesThanMaxSlots) {
  FairSlotRequest r = DayRequest({Participant("a", "UTC", 9, 18)}, 2027, 1, 15);
  r.window_end = r.window_start + absl::Minutes(61);
  r.max_slots = 10;
  absl::StatusOr<FairSlotResult> result = ProposeFairSlots(r);
  ASSERT_TRUE(result.ok()) << result.status();
  // 00:00, 00:30, 01:00 (the last start is inside the window).
  EXPECT_THAT(result->slots, SizeIs(3));
}

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

// --- Validation -----------------------------------------------------------

FairSlotRequest ValidRequest() {
  return DayRequest(FourRegions(9, 18), 2027, 1, 15);
}

struct InvalidCase {
  std::string name;
  std::function<void(FairSlotRequest&)> mutate;
  std::string field;
};

TEST(FairSlotsTest, ValidationErrorsNameTheField) {
  const std::vector<InvalidCase> cases = {
      {"no participants", [](FairSlotRequest& r) { r.participants.clear(); },
       "participants"},
      {"501 participants",
       [](FairSlotRequest& r) {
         r.participants.clear();
         for (int i = 0; i < 501; ++i) {
           r.participants.push_back(
               Participant(absl::StrCat("p", i), "UTC", 9, 18));
         }
       },
       "participants"},
      {"empty id", [](FairSlotRequest& r) { r.participants[1].id = ""; },
       "participants[1].id"},
      {"duplicate id",
       [](FairSlotRequest& r) { r.participants[3].id = "berlin"; },
       "participants[3].id"},
      {"unknown zone",
       [](FairSlotRequest& r) { r.participants[2].time_zone = "Mars/Olympus"; },
       "participants[2].time_zone"},
      {"empty zone",
       [](FairSlotRequest& r) { r.participants[2].time_zone = ""; },
       "participants[2].time_zone"},
      {"fixed zone",
       [](FairSlotRequest& r) {
         r.participants[0].time_zone = "Fixed/UTC+05:00:00";
       },
       "participants[0].time_zone"},
      {"localtime",
       [](FairSlotRequest& r) { r.participants[0].time_zone = "localtime"; },
       "participants[0].time_zone"},
      {"absolute path",
       [](FairSlotRequest& r) {
         r.participants[0].time_zone = "/usr/share/zoneinfo/UTC";
       },
       "participants[0].time_zone"},
      {"dot dot",
       [](FairSlotRequest& r) {
         r.participants[0].time_zone = "Europe/../Europe/Berlin";
       },
       "participants[0].time_zone"},
      {"earliest -1",
       [](FairSlotRequest& r) { r.participants[1].earliest_local_hour = -1; },
       "participants[1].earliest_local_hour"},
      {"earliest 24",
       [](FairSlotRequest& r) { r.participants[1].earliest_local_hour = 24; },
       "participants[1].earliest_local_hour"},
      {"latest 0",
       [](FairSlotRequest& r) { r.participants[3].latest_local_hour = 0; },
       "participants[3].latest_local_hour"},
      {"latest 25",
       [](FairSlotRequest& r) { r.participants[3].latest_local_hour = 25; },
       "participants[3].latest_local_hour"},
      {"weight 0", [](FairSlotRequest& r) { r.participants[2].weight = 0; },
       "participants[2].weight"},
      {"weight negative",
       [](FairSlotRequest& r) { r.participants[2].weight = -5; },
       "participants[2].weight"},
      {"weight huge",
       [](FairSlotRequest& r) { r.participants[2].weight = 1'000'001; },
       "participants[2].weight"},
      {"end equals start",
       [](FairSlotRequest& r) { r.window_end = r.window_start; }, "window_end"},
      {"end before start",
       [](FairSlotRequest& r) {
         r.window_end = r.window_start - absl::Hours(1);
       },
       "window_end"},
      {"window over 31 days",
       [](FairSlotRequest& r) {
         r.window_end =
             r.window_start + absl::Hours(24 * 31) + absl::Seconds(1);
       },
       "window_end"},
      {"infinite window",
       [](FairSlotRequest& r) { r.window_end = absl::InfiniteFuture(); },
       "window_end"},
      {"zero duration",
       [](FairSlotRequest& r) { r.duration = absl::ZeroDuration(); },
       "duration"},
      {"negative duration",
       [](FairSlotRequest& r) { r.duration = -absl::Minutes(30); }, "duration"},
      {"duration over a day",
       [](FairSlotRequest& r) {
         r.duration = absl::Hours(24) + absl::Seconds(1);
       },
       "duration"},
      {"step under 5 minutes",
       [](FairSlotRequest& r) { r.step = absl::Minutes(5) - absl::Seconds(1); },
       "step"},
      {"zero step", [](FairSlotRequest& r) { r.step = absl::ZeroDuration(); },
       "step"},
      {"max_slots 0", [](FairSlotRequest& r) { r.max_slots = 0; }, "max_slots"},
      {"max_slots 101", [](FairSlotRequest& r) { r.max_slots = 101; },
       "max_slots"},
      {"occurrences 0", [](FairSlotRequest& r) { r.occurrences = 0; },
       "occurrences"},
      {"occurrences 53", [](FairSlotRequest& r) { r.occurrences = 53; },
       "occurrences"},
      {"zero interval",
       [](FairSlotRequest& r) {
         r.occurrences = 2;
         r.occurrence_interval = absl::ZeroDuration();
       },
       "occurrence_interval"},
      {"negative interval",
       [](FairSlotRequest& r) {
         r.occurrences = 2;
         r.occurrence_interval = -absl::Hours(24);
       },
       "occurrence_interval"},
      {"interval shorter than window",
       [](FairSlotRequest& r) {
         r.occurrences = 2;
         r.occurrence_interval = absl::Hours(23);
       },
       "occurrence_interval"},
      {"interval over a year",
       [](FairSlotRequest& r) {
         r.occurrences = 2;
         r.occurrence_interval = absl::Hours(24 * 367);
       },
       "occurrence_interval"},
      {"too much work",
       [](FairSlotRequest& r) {
         r.participants.clear();
         for (int i = 0; i < 500; ++i) {
           r.participants.push_back(
               Participant(absl::StrCat("p", i), "UTC", 9, 18));
         }
         r.window_end = r.window_start + absl::Hours(24 * 31);
         r.step = absl::Minutes(5);
         r.occurrences = 3;
         r.occurrence_interval = absl::Hours(24 * 31);
       },
       "step"},
  };
  for (const InvalidCase& c : cases) {
    FairSlotRequest r = ValidRequest();
    c.mutate(r);
    absl::StatusOr<FairSlotResult> result = ProposeFairSlots(r);
    EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument)
        << c.name << ": " << result.status();
    EXPECT_THAT(std::string(result.status().message()),
                StartsWith(c.field + ": "))
        << c.name;
  }
}

TEST(FairSlotsTest, ValidationMessagesAreSpecific) {
  FairSlotRequest r = ValidRequest();
  r.participants.clear();
  EXPECT_EQ(ProposeFairSlots(r).status().message(),
            "participants: must not be empty");

  r = ValidRequest();
  r.window_end = r.window_start;
  EXPECT_EQ(ProposeFairSlots(r).status().message(),
            "window_end: must be after window_start");

  r = ValidRequest();
  r.participants[2].time_zone = "Mars/Olympus";
  EXPECT_EQ(ProposeFairSlots(r).status().message(),
            "participants[2].time_zone: unknown time zone \"Mars/Olympus\"");
}

TEST(FairSlotsTest, BoundaryValuesAreAccepted) {
  const std::vector<std::function<void(FairSlotRequest&)>> mutations = {
      [](FairSlotRequest& r) {
        r.window_end = r.window_start + absl::Hours(24 * 31);
        r.step = absl::Hours(1);
      },
      [](FairSlotRequest& r) { r.duration = absl::Hours(24); },
      [](FairSlotRequest& r) { r.step = absl::Minutes(5); },
      [](FairSlotRequest& r) { r.step = absl::InfiniteDuration(); },
      [](FairSlotRequest& r) { r.max_slots = 1; },
      [](FairSlotRequest& r) { r.max_slots = 100; },
      [](FairSlotRequest& r) {
        r.participants[0].earliest_local_hour = 0;
        r.participants[0].latest_local_hour = 24;
        r.participants[1].earliest_local_hour = 23;
        r.participants[1].latest_local_hour = 1;
        r.participants[2].weight = 1'000'000;
      },
      [](FairSlotRequest& r) {
        r.occurrences = 1;
        r.occurrence_interval = absl::ZeroDuration();  // Unused.
      },
      [](FairSlotRequest& r) {
        r.occurrences = 52;
        r.occurrence_interval = absl::Hours(24);
      },
      [](FairSlotRequest& r) {
        r.occurrences = 2;
        r.occurrence_interval = absl::Hours(24 * 366);
      },
  };
  for (size_t i = 0; i < mutations.size(); ++i) {
    FairSlotRequest r = ValidRequest();
    mutations[i](r);
    absl::StatusOr<FairSlotResult> result = ProposeFairSlots(r);
    EXPECT_TRUE(result.ok()) << i << ": " << result.status();
  }
}

TEST(FairSlotsTest, InfiniteStepGivesOneCandidate) {
  FairSlotRequest r = ValidRequest();
  r.step = absl::InfiniteDuration();
  absl::StatusOr<FairSlotResult> result = ProposeFairSlots(r);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(Starts(result->slots), ElementsAre(r.window_start));
}

// The largest single-meeting request within the work bound.
TEST(FairSlotsTest, LargestSingleRequestRuns) {
  const char* zones[] = {"Europe/Berlin", "Asia/Tashkent", "Asia/Vladivostok",
                         "America/New_York", "Africa/Nairobi"};
  FairSlotRequest r;
  for (int i = 0; i < 500; ++i) {
    r.participants.push_back(
        Participant(absl::StrCat("p", i), zones[i % 5], 9, 18));
  }
  r.window_start = Utc(2027, 3, 1);
  r.window_end = r.window_start + absl::Hours(24 * 31);
  r.step = absl::Minutes(5);
  r.max_slots = 100;
  absl::StatusOr<FairSlotResult> result = ProposeFairSlots(r);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(result->slots, SizeIs(100));
  for (size_t i = 1; i < result->slots.size(); ++i) {
    const ProposedSlot& prev = result->slots[i - 1];
    const ProposedSlot& cur = result->slots[i];
    EXPECT_TRUE(
        prev.covered_weight > cur.covered_weight ||
        (prev.covered_weight == cur.covered_weight && prev.start < cur.start))
        << i;
  }
}

}  // namespace
}  // namespace townhall::scheduling
