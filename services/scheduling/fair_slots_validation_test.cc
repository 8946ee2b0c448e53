// Fair slots requests: every field validated, boundary values accepted and
// the work bounded.
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
