// SchedulingService integration tests of single sessions
// (services/scheduling/sessions_logic.cc): create, the state machine
// (transition_session.lua), masked and etag-checked updates
// (update_session.lua) and ListSessions' pages and filters.
#include <gmock/gmock.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <latch>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "tests/integration/scheduling/scheduling_fixture.h"
#include "tests/testing/status_matchers.h"

namespace townhall::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAreArray;

// ---- CreateSession and transitions

TEST(SchedulingTest, LegalTransitionsChangeStateAndGrowEtag) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  struct Case {
    v1::SessionState from;
    Rpc rpc;
    v1::SessionState to;
  } cases[] = {
      {v1::SESSION_STATE_DRAFT, Rpc::kPublish, v1::SESSION_STATE_SCHEDULED},
      {v1::SESSION_STATE_SCHEDULED, Rpc::kStart, v1::SESSION_STATE_LIVE},
      {v1::SESSION_STATE_LIVE, Rpc::kEnd, v1::SESSION_STATE_ENDED},
      {v1::SESSION_STATE_DRAFT, Rpc::kCancel, v1::SESSION_STATE_CANCELLED},
      {v1::SESSION_STATE_SCHEDULED, Rpc::kCancel, v1::SESSION_STATE_CANCELLED},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrCat(v1::SessionState_Name(c.from), " --",
                              RpcName(c.rpc), "-->"));
    ASSERT_OK_AND_ASSIGN(v1::Session before,
                         SessionIn(t.client, c.from, Utc(2027, 5, 3, 9)));
    ASSERT_OK_AND_ASSIGN(v1::Session after,
                         Transition(t.client, c.rpc, before.id()));
    EXPECT_EQ(after.id(), before.id());
    EXPECT_EQ(after.state(), c.to);
    EXPECT_GT(EtagNumber(after.etag()), EtagNumber(before.etag()));
    EXPECT_GT(after.sequence(), before.sequence());
    // What the server stored, not only what it answered.
    ASSERT_OK_AND_ASSIGN(v1::Session stored, GetSession(t.client, before.id()));
    EXPECT_EQ(stored.state(), c.to);
    EXPECT_EQ(stored.etag(), after.etag());
    EXPECT_EQ(stored.title(), before.title());
    EXPECT_EQ(FromTs(stored.start_time()), FromTs(before.start_time()));
  }
}

// CreateSession answers without reading the session back; what it answers
// must be exactly what is stored.
TEST(SchedulingTest, CreateResponseEqualsTheStoredSession) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  v1::Session s = OnlineSession("Dialogue", Utc(2027, 5, 8, 5));
  s.mutable_start_time()->set_nanos(123456789);  // truncated to the second
  s.add_languages("uz");
  s.add_host_ids("mfa-diaspora");
  ASSERT_OK_AND_ASSIGN(v1::Session created,
                       CreateSession(t.client, s, Publish()));
  ASSERT_OK_AND_ASSIGN(v1::Session stored, GetSession(t.client, created.id()));
  EXPECT_TRUE(
      google::protobuf::util::MessageDifferencer::Equals(created, stored))
      << "created: " << created.DebugString()
      << "\nstored: " << stored.DebugString();
  EXPECT_EQ(created.start_time().nanos(), 0);
}

TEST(SchedulingTest, CreateWithPublishStartsScheduled) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(
      v1::Session s,
      CreateSession(t.client, OnlineSession("Open day", Utc(2027, 5, 4, 9)),
                    Publish()));
  EXPECT_EQ(s.state(), v1::SESSION_STATE_SCHEDULED);
  EXPECT_EQ(s.etag(), "1");
  EXPECT_EQ(s.sequence(), 0);
}

TEST(SchedulingTest, EveryIllegalTransitionIsRefusedAndChangesNothing) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  const v1::SessionState states[] = {
      v1::SESSION_STATE_DRAFT, v1::SESSION_STATE_SCHEDULED,
      v1::SESSION_STATE_LIVE, v1::SESSION_STATE_ENDED,
      v1::SESSION_STATE_CANCELLED};
  const Rpc rpcs[] = {Rpc::kPublish, Rpc::kStart, Rpc::kEnd, Rpc::kCancel};
  // The legal (from, rpc) pairs; everything else must be refused.
  const std::set<std::pair<v1::SessionState, Rpc>> legal = {
      {v1::SESSION_STATE_DRAFT, Rpc::kPublish},
      {v1::SESSION_STATE_SCHEDULED, Rpc::kStart},
      {v1::SESSION_STATE_LIVE, Rpc::kEnd},
      {v1::SESSION_STATE_DRAFT, Rpc::kCancel},
      {v1::SESSION_STATE_SCHEDULED, Rpc::kCancel},
  };
  int illegal = 0;
  for (v1::SessionState from : states) {
    for (Rpc rpc : rpcs) {
      const std::string state_name = std::string(
          absl::StripPrefix(v1::SessionState_Name(from), "SESSION_STATE_"));
      SCOPED_TRACE(absl::StrCat(state_name, " + ", RpcName(rpc)));
      ASSERT_OK_AND_ASSIGN(v1::Session before,
                           SessionIn(t.client, from, Utc(2027, 5, 5, 9)));
      absl::StatusOr<v1::Session> result =
          Transition(t.client, rpc, before.id());
      if (legal.contains({from, rpc})) {
        EXPECT_TRUE(result.ok()) << result.status();
        continue;
      }
      ++illegal;
      EXPECT_THAT(result, StatusIs(absl::StatusCode::kFailedPrecondition,
                                   HasSubstr(absl::StrCat("is ", state_name))));
      EXPECT_THAT(result, StatusIs(absl::StatusCode::kFailedPrecondition,
                                   HasSubstr(before.id())));
      ASSERT_OK_AND_ASSIGN(v1::Session after,
                           GetSession(t.client, before.id()));
      EXPECT_EQ(after.state(), from);
      EXPECT_EQ(after.etag(), before.etag());
      EXPECT_EQ(after.sequence(), before.sequence());
    }
  }
  EXPECT_EQ(illegal, 15);
}

TEST(SchedulingTest, TransitionOfUnknownSessionIsNotFound) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  for (Rpc rpc : {Rpc::kPublish, Rpc::kStart, Rpc::kEnd, Rpc::kCancel}) {
    SCOPED_TRACE(RpcName(rpc));
    EXPECT_THAT(Transition(t.client, rpc, "no-such-session"),
                HasCode(absl::StatusCode::kNotFound));
  }
}

// ---- UpdateSession

TEST(SchedulingTest, UpdateSessionChangesOnlyMaskedFields) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  v1::Session original = OnlineSession("Consular hour", Utc(2027, 8, 2, 5));
  original.set_description("Passports and visas.");
  original.set_capacity(50);
  original.add_languages("uz");
  ASSERT_OK_AND_ASSIGN(v1::Session created, CreateSession(t.client, original));

  v1::UpdateSessionRequest update;
  v1::Session* changes = update.mutable_session();
  changes->set_id(created.id());
  changes->set_title("Consular hour (extended)");
  changes->set_description("SHOULD NOT BE STORED");
  changes->set_capacity(999);
  *changes->mutable_duration() = Dur(absl::Hours(2));
  changes->set_state(v1::SESSION_STATE_ENDED);  // server-owned: ignored
  update.mutable_update_mask()->add_paths("title");
  update.mutable_update_mask()->add_paths("duration");
  update.set_etag(created.etag());
  ASSERT_OK_AND_ASSIGN(v1::UpdateSessionResponse updated,
                       t.client.UpdateSession(update));
  EXPECT_GT(EtagNumber(updated.session().etag()), EtagNumber(created.etag()));
  EXPECT_GT(updated.session().sequence(), created.sequence());

  ASSERT_OK_AND_ASSIGN(v1::Session stored, GetSession(t.client, created.id()));
  EXPECT_EQ(stored.title(), "Consular hour (extended)");
  EXPECT_EQ(stored.duration().seconds(), 7200);
  EXPECT_EQ(stored.description(), "Passports and visas.");
  EXPECT_EQ(stored.capacity(), 50);
  EXPECT_THAT(stored.languages(), ElementsAre("uz"));
  EXPECT_EQ(stored.time_zone(), "Asia/Tashkent");
  EXPECT_EQ(FromTs(stored.start_time()), Utc(2027, 8, 2, 5));
  EXPECT_EQ(stored.join_url(), original.join_url());
  EXPECT_EQ(stored.state(), v1::SESSION_STATE_DRAFT);
  EXPECT_EQ(stored.etag(), updated.session().etag());
  // UpdateSession answers without a read-back: the answer is what is stored.
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
      updated.session(), stored))
      << "updated: " << updated.session().DebugString()
      << "\nstored: " << stored.DebugString();

  // The old etag is stale now.
  update.mutable_update_mask()->Clear();
  update.mutable_update_mask()->add_paths("description");
  EXPECT_THAT(t.client.UpdateSession(update),
              HasCode(absl::StatusCode::kAborted));
  ASSERT_OK_AND_ASSIGN(v1::Session unchanged,
                       GetSession(t.client, created.id()));
  EXPECT_EQ(unchanged.description(), "Passports and visas.");
  EXPECT_EQ(unchanged.etag(), stored.etag());

  // Unknown and server-owned paths.
  update.set_etag(stored.etag());
  for (const char* path : {"titel", "state", "id", "etag", "series_id", ""}) {
    SCOPED_TRACE(path);
    update.mutable_update_mask()->Clear();
    update.mutable_update_mask()->add_paths(path);
    EXPECT_THAT(
        t.client.UpdateSession(update),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("update_mask")));
  }
  update.mutable_update_mask()->Clear();
  EXPECT_THAT(
      t.client.UpdateSession(update),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("update_mask")));
  // Masked values are validated.
  update.mutable_update_mask()->add_paths("title");
  changes->set_title("   ");
  EXPECT_THAT(
      t.client.UpdateSession(update),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("session.title")));
  ASSERT_OK_AND_ASSIGN(unchanged, GetSession(t.client, created.id()));
  EXPECT_EQ(unchanged.title(), "Consular hour (extended)");
  EXPECT_EQ(unchanged.etag(), stored.etag());
  // Unknown session.
  changes->set_id("no-such-session");
  changes->set_title("x");
  EXPECT_THAT(t.client.UpdateSession(update),
              HasCode(absl::StatusCode::kNotFound));
}

TEST(SchedulingTest, UpdateOfEndedOrCancelledSessionIsRefused) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  for (v1::SessionState state :
       {v1::SESSION_STATE_ENDED, v1::SESSION_STATE_CANCELLED}) {
    SCOPED_TRACE(v1::SessionState_Name(state));
    ASSERT_OK_AND_ASSIGN(v1::Session s,
                         SessionIn(t.client, state, Utc(2027, 8, 3, 5)));
    v1::UpdateSessionRequest update;
    update.mutable_session()->set_id(s.id());
    update.mutable_session()->set_title("New title");
    update.mutable_update_mask()->add_paths("title");
    update.set_etag(s.etag());
    EXPECT_THAT(t.client.UpdateSession(update),
                HasCode(absl::StatusCode::kFailedPrecondition));
    ASSERT_OK_AND_ASSIGN(v1::Session after, GetSession(t.client, s.id()));
    EXPECT_EQ(after.title(), s.title());
  }
}

TEST(SchedulingTest, ConcurrentUpdatesWithTheSameEtagLetExactlyOneWin) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(
      v1::Session created,
      CreateSession(t.client, OnlineSession("Race", Utc(2027, 8, 4, 5))));
  constexpr int kThreads = 10;
  std::vector<absl::Status> results(kThreads);
  std::latch go(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      TownhallClient client = ServerEnvironment::server().Client(t.token);
      v1::UpdateSessionRequest update;
      update.mutable_session()->set_id(created.id());
      update.mutable_session()->set_title(absl::StrCat("Writer ", i));
      update.mutable_update_mask()->add_paths("title");
      update.set_etag(created.etag());
      go.arrive_and_wait();
      results[i] = client.UpdateSession(update).status();
    });
  }
  for (std::thread& th : threads) th.join();
  int winner = -1;
  int ok = 0;
  for (int i = 0; i < kThreads; ++i) {
    if (results[i].ok()) {
      ++ok;
      winner = i;
    } else {
      EXPECT_THAT(results[i], HasCode(absl::StatusCode::kAborted)) << i;
    }
  }
  ASSERT_EQ(ok, 1);
  ASSERT_OK_AND_ASSIGN(v1::Session stored, GetSession(t.client, created.id()));
  EXPECT_EQ(stored.title(), absl::StrCat("Writer ", winner));
  EXPECT_EQ(EtagNumber(stored.etag()), EtagNumber(created.etag()) + 1);
}

// ---- ListSessions

TEST(SchedulingTest, ListSessionsPagesThroughTiesWithoutGapsOrDuplicates) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  const absl::Time t0 = Utc(2027, 11, 1, 5);
  // Three sessions at t0, two at t0+1h, one at t0+2h and one at t0+3h.
  const absl::Duration offsets[] = {absl::Hours(1),      absl::ZeroDuration(),
                                    absl::Hours(3),      absl::ZeroDuration(),
                                    absl::Hours(2),      absl::Hours(1),
                                    absl::ZeroDuration()};
  std::vector<std::string> created;
  for (absl::Duration offset : offsets) {
    ASSERT_OK_AND_ASSIGN(
        v1::Session s,
        CreateSession(t.client,
                      OnlineSession("Tie", t0 + offset, absl::Minutes(30))));
    created.push_back(s.id());
  }
  for (int page_size : {1, 2, 3, 7, 50}) {
    SCOPED_TRACE(page_size);
    v1::ListSessionsRequest list;
    list.set_page_size(page_size);
    ASSERT_OK_AND_ASSIGN(std::vector<v1::Session> all, ListAll(t.client, list));
    EXPECT_THAT(Ids(all), UnorderedElementsAreArray(created));
    const std::vector<std::string> ids = Ids(all);
    const std::set<std::string> unique(ids.begin(), ids.end());
    EXPECT_EQ(unique.size(), all.size());
    for (size_t i = 1; i < all.size(); ++i) {
      EXPECT_LE(FromTs(all[i - 1].start_time()), FromTs(all[i].start_time()))
          << i;
    }
  }
  // Pages of two: 4 pages, the last holding one session.
  v1::ListSessionsRequest list;
  list.set_page_size(2);
  int pages = 0;
  for (;;) {
    ASSERT_OK_AND_ASSIGN(v1::ListSessionsResponse page,
                         t.client.ListSessions(list));
    ++pages;
    if (page.next_page_token().empty()) {
      EXPECT_EQ(page.sessions_size(), 1);
      break;
    }
    EXPECT_EQ(page.sessions_size(), 2);
    list.set_page_token(page.next_page_token());
    ASSERT_LT(pages, 10);
  }
  EXPECT_EQ(pages, 4);
}

TEST(SchedulingTest, ListSessionsFiltersByTimeStateAndVenue) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Venue venue, CreateVenue(t.client, "Embassy"));
  const absl::Time t0 = Utc(2027, 11, 2, 5);
  ASSERT_OK_AND_ASSIGN(v1::Session a,
                       CreateSession(t.client, OnlineSession("a", t0)));
  ASSERT_OK_AND_ASSIGN(
      v1::Session b,
      CreateSession(t.client, OnlineSession("b", t0), Publish()));
  ASSERT_OK_AND_ASSIGN(
      v1::Session c,
      CreateSession(t.client, InPersonSession("c", t0 + absl::Hours(1),
                                              absl::Hours(1), venue.id())));
  ASSERT_OK_AND_ASSIGN(
      v1::Session d, CreateSession(t.client,
                                   InPersonSession("d", t0 + absl::Hours(2),
                                                   absl::Hours(1), venue.id()),
                                   Publish()));
  ASSERT_OK_AND_ASSIGN(
      v1::Session e,
      CreateSession(t.client, OnlineSession("e", t0 + absl::Hours(3)),
                    Publish()));
  ASSERT_OK_AND_ASSIGN(v1::Session e_live,
                       Transition(t.client, Rpc::kStart, e.id()));

  auto ids_for =
      [&](v1::ListSessionsRequest request) -> std::vector<std::string> {
    request.set_page_size(1);  // filters must work across pages too
    absl::StatusOr<std::vector<v1::Session>> all = ListAll(t.client, request);
    EXPECT_TRUE(all.ok()) << all.status();
    return all.ok() ? Ids(*all) : std::vector<std::string>{};
  };

  v1::ListSessionsRequest range;  // [t0+1h, t0+3h)
  *range.mutable_start_after() = Ts(t0 + absl::Hours(1));
  *range.mutable_start_before() = Ts(t0 + absl::Hours(3));
  EXPECT_THAT(ids_for(range), ElementsAre(c.id(), d.id()));

  v1::ListSessionsRequest after_only;
  *after_only.mutable_start_after() = Ts(t0 + absl::Hours(2));
  EXPECT_THAT(ids_for(after_only), ElementsAre(d.id(), e.id()));

  v1::ListSessionsRequest before_only;
  *before_only.mutable_start_before() = Ts(t0 + absl::Hours(1));
  EXPECT_THAT(ids_for(before_only),
              UnorderedElementsAreArray({a.id(), b.id()}));

  v1::ListSessionsRequest scheduled;
  scheduled.add_states(v1::SESSION_STATE_SCHEDULED);
  EXPECT_THAT(ids_for(scheduled), ElementsAre(b.id(), d.id()));

  v1::ListSessionsRequest draft_or_live;
  draft_or_live.add_states(v1::SESSION_STATE_DRAFT);
  draft_or_live.add_states(v1::SESSION_STATE_LIVE);
  EXPECT_THAT(ids_for(draft_or_live), ElementsAre(a.id(), c.id(), e.id()));

  v1::ListSessionsRequest at_venue;
  at_venue.set_venue_id(venue.id());
  EXPECT_THAT(ids_for(at_venue), ElementsAre(c.id(), d.id()));

  v1::ListSessionsRequest combined = range;
  combined.set_venue_id(venue.id());
  combined.add_states(v1::SESSION_STATE_SCHEDULED);
  EXPECT_THAT(ids_for(combined), ElementsAre(d.id()));

  v1::ListSessionsRequest nothing;
  nothing.set_venue_id("unknown-venue");
  EXPECT_THAT(ids_for(nothing), IsEmpty());
}

TEST(SchedulingTest, ListSessionsRejectsBadTokensAndRanges) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(
      v1::Session s,
      CreateSession(t.client, OnlineSession("x", Utc(2027, 11, 3))));
  for (const char* token :
       {"%%%not-base64%%%", "YWJj" /* "abc" */, "OjE=" /* ":1" */, "!"}) {
    SCOPED_TRACE(token);
    v1::ListSessionsRequest list;
    list.set_page_token(token);
    EXPECT_THAT(
        t.client.ListSessions(list),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")));
  }
  v1::ListSessionsRequest equal;
  *equal.mutable_start_after() = Ts(Utc(2027, 11, 3));
  *equal.mutable_start_before() = Ts(Utc(2027, 11, 3));
  EXPECT_THAT(
      t.client.ListSessions(equal),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("start_before")));
  v1::ListSessionsRequest reversed;
  *reversed.mutable_start_after() = Ts(Utc(2027, 11, 4));
  *reversed.mutable_start_before() = Ts(Utc(2027, 11, 3));
  EXPECT_THAT(
      t.client.ListSessions(reversed),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("start_before")));
  v1::ListSessionsRequest negative;
  negative.set_page_size(-1);
  EXPECT_THAT(
      t.client.ListSessions(negative),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_size")));
  v1::ListSessionsRequest bad_state;
  bad_state.add_states(v1::SESSION_STATE_UNSPECIFIED);
  EXPECT_THAT(
      t.client.ListSessions(bad_state),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("states")));
}

}  // namespace
}  // namespace townhall::testing
