// Fair slots for a single meeting: coverage by local working hours across
// zones and DST changes, and ranking by covered weight.
#include "services/scheduling/fair_slots.h"

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
}  // namespace
}  // namespace townhall::scheduling
