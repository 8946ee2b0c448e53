// SchedulingService integration tests of request ids: a retried
// CreateSession, CreateSeries or CreateVenue creates once, also under
// concurrent retries, and leaves one short-lived record in Redis.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <latch>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "services/common/redis/redis_connection.h"
#include "tests/integration/scheduling/scheduling_fixture.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/status_matchers.h"

namespace townhall::testing {
namespace {

using ::testing::SizeIs;
using ::testing::UnorderedElementsAreArray;

TEST(SchedulingTest, CreateSessionWithTheSameRequestIdCreatesOnce) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  v1::Session s = OnlineSession("Retry me", Utc(2027, 9, 1, 5));
  ASSERT_OK_AND_ASSIGN(v1::Session first,
                       CreateSession(t.client, s, WithRequestId("req-1")));
  ASSERT_OK_AND_ASSIGN(v1::Session second,
                       CreateSession(t.client, s, WithRequestId("req-1")));
  EXPECT_EQ(second.id(), first.id());
  EXPECT_EQ(second.etag(), first.etag());
  // Another request id creates another session.
  ASSERT_OK_AND_ASSIGN(v1::Session third,
                       CreateSession(t.client, s, WithRequestId("req-2")));
  EXPECT_NE(third.id(), first.id());
  v1::ListSessionsRequest list;
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Session> all, ListAll(t.client, list));
  EXPECT_THAT(Ids(all), UnorderedElementsAreArray(
                            std::vector<std::string>{first.id(), third.id()}));
}

TEST(SchedulingTest, RequestIdsAreScopedToTheirMethodAndTenant) {
  ASSERT_OK_AND_ASSIGN(Tenant a, NewTenant());
  ASSERT_OK_AND_ASSIGN(Tenant b, NewTenant());
  v1::Session s = OnlineSession("Same id", Utc(2027, 9, 2, 5));
  ASSERT_OK_AND_ASSIGN(v1::Session in_a,
                       CreateSession(a.client, s, WithRequestId("shared")));
  ASSERT_OK_AND_ASSIGN(v1::Session in_b,
                       CreateSession(b.client, s, WithRequestId("shared")));
  EXPECT_NE(in_a.id(), in_b.id());
  EXPECT_EQ(in_b.tenant_id(), b.id);
  ASSERT_OK_AND_ASSIGN(v1::Venue venue,
                       CreateVenue(a.client, "Embassy", "shared"));
  EXPECT_NE(venue.id(), in_a.id());
  ASSERT_OK_AND_ASSIGN(v1::GetVenueResponse got, [&] {
    v1::GetVenueRequest r;
    r.set_venue_id(venue.id());
    return a.client.GetVenue(r);
  }());
  EXPECT_EQ(got.venue().name(), "Embassy");
}

TEST(SchedulingTest, CreateSeriesWithTheSameRequestIdCreatesOnce) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  v1::Session tmpl = OnlineSession("Weekly", Utc(2027, 9, 6, 5));
  ASSERT_OK_AND_ASSIGN(v1::Series first,
                       CreateSeries(t.client, tmpl, "FREQ=WEEKLY;COUNT=3",
                                    WithRequestId("s-1")));
  ASSERT_OK_AND_ASSIGN(v1::Series second,
                       CreateSeries(t.client, tmpl, "FREQ=WEEKLY;COUNT=3",
                                    WithRequestId("s-1")));
  EXPECT_EQ(second.id(), first.id());
  EXPECT_EQ(std::vector<std::string>(second.session_ids().begin(),
                                     second.session_ids().end()),
            std::vector<std::string>(first.session_ids().begin(),
                                     first.session_ids().end()));
  v1::ListSessionsRequest list;
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Session> all, ListAll(t.client, list));
  EXPECT_THAT(all, SizeIs(3));
}

TEST(SchedulingTest, CreateVenueWithTheSameRequestIdCreatesOnce) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Venue first,
                       CreateVenue(t.client, "Embassy", "v-1"));
  ASSERT_OK_AND_ASSIGN(v1::Venue second,
                       CreateVenue(t.client, "Embassy", "v-1"));
  EXPECT_EQ(second.id(), first.id());
  ASSERT_OK_AND_ASSIGN(v1::ListVenuesResponse venues, t.client.ListVenues({}));
  ASSERT_EQ(venues.venues_size(), 1);
  EXPECT_EQ(venues.venues(0).id(), first.id());
  ASSERT_OK_AND_ASSIGN(v1::Venue third,
                       CreateVenue(t.client, "Embassy", "v-2"));
  EXPECT_NE(third.id(), first.id());
  ASSERT_OK_AND_ASSIGN(venues, t.client.ListVenues({}));
  EXPECT_EQ(venues.venues_size(), 2);
}

TEST(SchedulingTest, ConcurrentRetriesWithTheSameRequestIdCreateOneSession) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  constexpr int kThreads = 20;
  std::vector<absl::StatusOr<v1::Session>> results(kThreads);
  std::latch go(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      TownhallClient client = ServerEnvironment::server().Client(t.token);
      v1::Session s = OnlineSession("Flaky network", Utc(2027, 9, 3, 5));
      go.arrive_and_wait();
      results[i] = CreateSession(client, s, WithRequestId("retry-storm"));
    });
  }
  for (std::thread& th : threads) th.join();
  std::set<std::string> ids;
  for (int i = 0; i < kThreads; ++i) {
    ASSERT_TRUE(results[i].ok()) << i << ": " << results[i].status();
    ids.insert(results[i]->id());
  }
  EXPECT_THAT(ids, SizeIs(1));
  v1::ListSessionsRequest list;
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Session> all, ListAll(t.client, list));
  ASSERT_THAT(all, SizeIs(1));
  EXPECT_EQ(all[0].id(), *ids.begin());
}

// White-box check of the idempotency records (key schema in
// services/scheduling/session_store.h): a retry-safe create leaves one
// short-lived record; a create without request_id leaves none (it used to
// SET the bare tenant prefix "th:{t:<tenant>}:").
TEST(SchedulingTest, IdempotencyRecordsExistOnlyForRequestIds) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  // Straight through the stub: TownhallClient gives every create an id.
  auto stub = v1::SchedulingService::NewStub(t.client.channel());
  auto context = [&t](grpc::ClientContext* c) {
    c->AddMetadata("authorization", "Bearer " + t.token);
    return c;
  };
  {
    grpc::ClientContext c;
    v1::CreateSessionRequest request;
    *request.mutable_session() = OnlineSession("No id", Utc(2027, 9, 4, 5));
    v1::CreateSessionResponse response;
    ASSERT_TRUE(stub->CreateSession(context(&c), request, &response).ok());
  }
  {
    grpc::ClientContext c;
    v1::CreateVenueRequest request;
    request.mutable_venue()->set_name("No id");
    request.mutable_venue()->set_time_zone("Europe/Berlin");
    v1::CreateVenueResponse response;
    ASSERT_TRUE(stub->CreateVenue(context(&c), request, &response).ok());
  }
  {
    grpc::ClientContext c;
    v1::CreateSeriesRequest request;
    *request.mutable_series()->mutable_template_() =
        OnlineSession("No id", Utc(2027, 9, 5, 5));
    request.mutable_series()->set_rrule("FREQ=DAILY;COUNT=2");
    v1::CreateSeriesResponse response;
    ASSERT_TRUE(stub->CreateSeries(context(&c), request, &response).ok());
  }
  ASSERT_TRUE(CreateSession(t.client,
                            OnlineSession("With id", Utc(2027, 9, 4, 7)),
                            WithRequestId("r1"))
                  .ok());
  RedisConnection redis(SharedRedisOptions());
  const std::string prefix = absl::StrCat("th:{t:", t.id, "}:");
  ASSERT_OK_AND_ASSIGN(RedisReply bare, redis.Command({"EXISTS", prefix}));
  EXPECT_EQ(bare.integer, 0) << "stray key " << prefix;
  ASSERT_OK_AND_ASSIGN(
      std::vector<RedisReply> keys,
      CommandOnEveryMaster({"KEYS", absl::StrCat("th:{t:", t.id, "}:idem:*")}));
  std::vector<std::string> found;
  for (const RedisReply& node_keys : keys) {
    for (const RedisReply& key : node_keys.elements) found.push_back(key.str);
  }
  ASSERT_EQ(found.size(), 1u);
  // The record of the one request with an id (its caller's, see
  // IdempotencyKey).
  const std::string& key = found[0];
  EXPECT_TRUE(absl::StartsWith(
      key, absl::StrCat(prefix, "idem:SchedulingService/CreateSession:")))
      << key;
  EXPECT_TRUE(absl::EndsWith(key, ":r1")) << key;
  ASSERT_OK_AND_ASSIGN(RedisReply ttl, redis.Command({"TTL", key}));
  EXPECT_GT(ttl.integer, 0);
  EXPECT_LE(ttl.integer, 24 * 3600);
}

}  // namespace
}  // namespace townhall::testing
