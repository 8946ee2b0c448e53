// SchedulingService integration tests of double bookings: a venue or a host
// booked twice at overlapping times (bookings.lua, checked by
// create_sessions.lua, update_session.lua and change_occurrence.lua), by a
// session, an update or a whole series, and allow_conflicts.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "tests/integration/scheduling/scheduling_fixture.h"
#include "tests/testing/status_matchers.h"

namespace townhall::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAreArray;

TEST(SchedulingTest, VenueDoubleBookingIsRefused) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Venue venue,
                       CreateVenue(t.client, "Embassy of Uzbekistan"));
  const absl::Time ten = Utc(2027, 4, 10, 10);
  ASSERT_OK_AND_ASSIGN(
      v1::Session a,
      CreateSession(t.client, InPersonSession("Open day", ten, absl::Hours(2),
                                              venue.id())));

  // 11:00-13:00 overlaps 10:00-12:00.
  v1::Session overlapping = InPersonSession("Film night", ten + absl::Hours(1),
                                            absl::Hours(2), venue.id());
  absl::StatusOr<v1::Session> refused = CreateSession(t.client, overlapping);
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kFailedPrecondition,
                                HasSubstr(a.id())));
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kFailedPrecondition,
                                HasSubstr(absl::StrCat("venue:", venue.id()))));
  // A session entirely inside the other one.
  EXPECT_THAT(
      CreateSession(t.client, InPersonSession("Inside", ten + absl::Minutes(30),
                                              absl::Minutes(30), venue.id())),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(a.id())));
  // One that encloses it.
  EXPECT_THAT(
      CreateSession(t.client, InPersonSession("Around", ten - absl::Hours(1),
                                              absl::Hours(4), venue.id())),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(a.id())));

  // Back to back, after and before: no overlap.
  ASSERT_OK_AND_ASSIGN(
      v1::Session after_a,
      CreateSession(t.client, InPersonSession("After", ten + absl::Hours(2),
                                              absl::Hours(1), venue.id())));
  ASSERT_OK_AND_ASSIGN(
      v1::Session before_a,
      CreateSession(t.client, InPersonSession("Before", ten - absl::Hours(1),
                                              absl::Hours(1), venue.id())));

  // allow_conflicts books anyway.
  ASSERT_OK_AND_ASSIGN(v1::Session forced,
                       CreateSession(t.client, overlapping, AllowConflicts()));
  EXPECT_NE(forced.id(), a.id());

  // A cancelled session frees its slot.
  const absl::Time evening = Utc(2027, 4, 10, 18);
  ASSERT_OK_AND_ASSIGN(
      v1::Session e,
      CreateSession(t.client, InPersonSession("Concert", evening,
                                              absl::Hours(2), venue.id())));
  EXPECT_THAT(
      CreateSession(t.client, InPersonSession("Rehearsal", evening,
                                              absl::Hours(1), venue.id())),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(e.id())));
  ASSERT_OK_AND_ASSIGN(v1::Session e_cancelled,
                       Transition(t.client, Rpc::kCancel, e.id()));
  ASSERT_OK_AND_ASSIGN(
      v1::Session rehearsal,
      CreateSession(t.client, InPersonSession("Rehearsal", evening,
                                              absl::Hours(1), venue.id())));

  // Another venue at the same time is fine.
  ASSERT_OK_AND_ASSIGN(v1::Venue consulate, CreateVenue(t.client, "Consulate"));
  ASSERT_OK_AND_ASSIGN(
      v1::Session elsewhere,
      CreateSession(t.client, InPersonSession("Elsewhere", ten, absl::Hours(2),
                                              consulate.id())));

  v1::ListSessionsRequest list;
  list.set_venue_id(venue.id());
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Session> at_venue,
                       ListAll(t.client, list));
  EXPECT_THAT(Ids(at_venue), UnorderedElementsAreArray(std::vector<std::string>{
                                 a.id(), after_a.id(), before_a.id(),
                                 forced.id(), e.id(), rehearsal.id()}));
}

TEST(SchedulingTest, UpdateIntoAVenueConflictIsRefused) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Venue venue, CreateVenue(t.client, "Embassy"));
  const absl::Time ten = Utc(2027, 4, 11, 10);
  ASSERT_OK_AND_ASSIGN(
      v1::Session a,
      CreateSession(t.client,
                    InPersonSession("A", ten, absl::Hours(1), venue.id())));
  ASSERT_OK_AND_ASSIGN(
      v1::Session b,
      CreateSession(t.client, InPersonSession("B", ten + absl::Hours(1),
                                              absl::Hours(1), venue.id())));
  v1::UpdateSessionRequest update;
  update.mutable_session()->set_id(b.id());
  *update.mutable_session()->mutable_start_time() = Ts(ten + absl::Minutes(30));
  update.mutable_update_mask()->add_paths("start_time");
  update.set_etag(b.etag());
  EXPECT_THAT(
      t.client.UpdateSession(update),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(a.id())));
  ASSERT_OK_AND_ASSIGN(v1::Session unchanged, GetSession(t.client, b.id()));
  EXPECT_EQ(FromTs(unchanged.start_time()), ten + absl::Hours(1));
  EXPECT_EQ(unchanged.etag(), b.etag());
  // Updating a session onto its own slot is not a conflict with itself.
  *update.mutable_session()->mutable_start_time() =
      Ts(ten + absl::Hours(1) + absl::Minutes(15));
  EXPECT_TRUE(t.client.UpdateSession(update).ok());
}

TEST(SchedulingTest, HostDoubleBookingIsRefused) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  const absl::Time ten = Utc(2027, 6, 1, 10);
  v1::Session first = OnlineSession("Q&A with the consul", ten);
  first.add_host_ids("consul@example.org");
  ASSERT_OK_AND_ASSIGN(v1::Session a, CreateSession(t.client, first));

  v1::Session second = OnlineSession("Webinar", ten + absl::Minutes(30));
  second.add_host_ids("deputy@example.org");
  second.add_host_ids("consul@example.org");
  EXPECT_THAT(
      CreateSession(t.client, second),
      StatusIs(
          absl::StatusCode::kFailedPrecondition,
          HasSubstr("host:consul@example.org is booked by session " + a.id())));
  // Without the busy host it is fine.
  second.clear_host_ids();
  second.add_host_ids("deputy@example.org");
  EXPECT_TRUE(CreateSession(t.client, second).ok());
  v1::ListSessionsRequest list;
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Session> all, ListAll(t.client, list));
  EXPECT_THAT(all, SizeIs(2));
}

TEST(SchedulingTest, SeriesWithOneConflictingOccurrenceCreatesNothing) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Venue venue, CreateVenue(t.client, "Embassy"));
  // Occupies the third Thursday of the series below.
  const absl::Time first = Local("Europe/Berlin", 2027, 7, 1, 10);
  ASSERT_OK_AND_ASSIGN(
      v1::Session blocker,
      CreateSession(t.client, InPersonSession("Reception",
                                              first + absl::Hours(24 * 14 + 1),
                                              absl::Hours(1), venue.id())));
  v1::ListSessionsRequest list;
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Session> before,
                       ListAll(t.client, list));
  ASSERT_THAT(before, SizeIs(1));

  v1::Session tmpl =
      InPersonSession("Language course", first, absl::Hours(2), venue.id());
  tmpl.add_host_ids("teacher@example.org");
  absl::StatusOr<v1::Series> refused =
      CreateSeries(t.client, tmpl, "FREQ=WEEKLY;COUNT=5");
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kFailedPrecondition,
                                HasSubstr(blocker.id())));
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Session> after, ListAll(t.client, list));
  EXPECT_THAT(Ids(after), ElementsAre(blocker.id()));
  // The host was not booked either: a session with only that host at the
  // first occurrence's time is free.
  v1::Session host_only = OnlineSession("Teacher's call", first);
  host_only.add_host_ids("teacher@example.org");
  EXPECT_TRUE(CreateSession(t.client, host_only).ok());
  // With allow_conflicts the whole series is created.
  ASSERT_OK_AND_ASSIGN(
      v1::Series forced,
      CreateSeries(t.client, tmpl, "FREQ=WEEKLY;COUNT=5", AllowConflicts()));
  EXPECT_THAT(forced.session_ids(), SizeIs(5));
  ASSERT_OK_AND_ASSIGN(after, ListAll(t.client, list));
  EXPECT_THAT(after, SizeIs(7));
}

TEST(SchedulingTest, SeriesWhoseOccurrencesOverlapEachOtherIsRefused) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Venue venue, CreateVenue(t.client, "Embassy"));
  // Daily, 30 hours long: each occurrence overlaps the next at the venue.
  const v1::Session tmpl = InPersonSession("Marathon", Utc(2027, 9, 6, 8),
                                           absl::Hours(30), venue.id());
  EXPECT_THAT(
      CreateSeries(t.client, tmpl, "FREQ=DAILY;COUNT=3"),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("overlap")));
  v1::ListSessionsRequest list;
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Session> all, ListAll(t.client, list));
  EXPECT_THAT(all, IsEmpty());
  // The same for a shared host.
  v1::Session hosted =
      OnlineSession("Telethon", Utc(2027, 9, 6, 8), absl::Hours(25));
  hosted.add_host_ids("anchor@example.org");
  EXPECT_THAT(CreateSeries(t.client, hosted, "FREQ=DAILY;COUNT=2"),
              HasCode(absl::StatusCode::kFailedPrecondition));
  // Exactly back to back is fine, and allow_conflicts books anyway.
  v1::Session back_to_back = tmpl;
  *back_to_back.mutable_duration() = Dur(absl::Hours(24));
  EXPECT_TRUE(CreateSeries(t.client, back_to_back, "FREQ=DAILY;COUNT=2").ok());
  EXPECT_TRUE(
      CreateSeries(t.client, hosted, "FREQ=DAILY;COUNT=2", AllowConflicts())
          .ok());
}

}  // namespace
}  // namespace townhall::testing
