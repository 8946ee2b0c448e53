// SchedulingService integration test of tenant isolation: every RPC on
// another tenant's session, series or venue is NOT_FOUND and changes nothing.
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

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

TEST(SchedulingTest, AnotherTenantsObjectsAreNotFound) {
  ASSERT_OK_AND_ASSIGN(Tenant a, NewTenant());
  ASSERT_OK_AND_ASSIGN(Tenant b, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Venue venue, CreateVenue(a.client, "A's embassy"));
  ASSERT_OK_AND_ASSIGN(
      v1::Session s,
      CreateSession(a.client, OnlineSession("A's session", Utc(2028, 2, 1, 5)),
                    Publish()));
  const absl::Time first = Utc(2028, 2, 7, 5);
  ASSERT_OK_AND_ASSIGN(
      v1::Series series,
      CreateSeries(a.client, OnlineSession("A's series", first),
                   "FREQ=WEEKLY;COUNT=2"));
  const auto not_found = HasCode(absl::StatusCode::kNotFound);

  EXPECT_THAT(GetSession(b.client, s.id()), not_found);
  v1::UpdateSessionRequest update;
  update.mutable_session()->set_id(s.id());
  update.mutable_session()->set_title("Hijacked");
  update.mutable_update_mask()->add_paths("title");
  EXPECT_THAT(b.client.UpdateSession(update),
              not_found);  // blind write, no etag
  update.set_etag(s.etag());
  EXPECT_THAT(b.client.UpdateSession(update), not_found);
  for (Rpc rpc : {Rpc::kPublish, Rpc::kStart, Rpc::kEnd, Rpc::kCancel}) {
    SCOPED_TRACE(RpcName(rpc));
    EXPECT_THAT(Transition(b.client, rpc, s.id()), not_found);
  }
  v1::ExportCalendarRequest export_session;
  export_session.set_session_id(s.id());
  EXPECT_THAT(b.client.ExportCalendar(export_session), not_found);
  v1::ExportCalendarRequest export_series;
  export_series.set_series_id(series.id());
  EXPECT_THAT(b.client.ExportCalendar(export_series), not_found);
  EXPECT_THAT(GetSeries(b.client, series.id()), not_found);
  EXPECT_THAT(Occurrences(b.client, series.id()), not_found);
  v1::CancelOccurrenceRequest cancel;
  cancel.set_series_id(series.id());
  *cancel.mutable_original_start_time() = Ts(first);
  EXPECT_THAT(b.client.CancelOccurrence(cancel), not_found);
  v1::MoveOccurrenceRequest move;
  move.set_series_id(series.id());
  *move.mutable_original_start_time() = Ts(first);
  *move.mutable_new_start_time() = Ts(first + absl::Hours(1));
  EXPECT_THAT(b.client.MoveOccurrence(move), not_found);
  v1::GetVenueRequest get_venue;
  get_venue.set_venue_id(venue.id());
  EXPECT_THAT(b.client.GetVenue(get_venue), not_found);
  // B cannot book A's venue.
  EXPECT_THAT(CreateSession(b.client, InPersonSession(
                                          "B at A's venue", Utc(2028, 2, 2, 5),
                                          absl::Hours(1), venue.id())),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("session.venue_ids")));
  // B's lists are empty.
  v1::ListSessionsRequest list;
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Session> b_sessions,
                       ListAll(b.client, list));
  EXPECT_THAT(b_sessions, IsEmpty());
  ASSERT_OK_AND_ASSIGN(v1::ListVenuesResponse b_venues,
                       b.client.ListVenues({}));
  EXPECT_THAT(b_venues.venues(), IsEmpty());

  // A's objects are unchanged.
  ASSERT_OK_AND_ASSIGN(v1::Session after, GetSession(a.client, s.id()));
  EXPECT_EQ(after.title(), "A's session");
  EXPECT_EQ(after.state(), v1::SESSION_STATE_SCHEDULED);
  EXPECT_EQ(after.etag(), s.etag());
  EXPECT_EQ(after.tenant_id(), a.id);
  ASSERT_OK_AND_ASSIGN(v1::Series series_after,
                       GetSeries(a.client, series.id()));
  EXPECT_EQ(series_after.etag(), series.etag());
  EXPECT_THAT(series_after.exception_dates(), IsEmpty());
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Session> a_sessions,
                       ListAll(a.client, list));
  EXPECT_THAT(a_sessions, SizeIs(3));
}

}  // namespace
}  // namespace townhall::testing
