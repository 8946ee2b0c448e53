// ClusterMap parsing and the redirection policy, with canned replies (no
// Redis).
#include "services/common/redis/cluster_map.h"
#include "services/common/redis/replica_wait.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

#include "absl/time/clock.h"

namespace townhall {
namespace {

RedisReply Str(std::string s) {
  RedisReply r;
  r.type = RedisReply::Type::kString;
  r.str = std::move(s);
  return r;
}

RedisReply Int(int64_t i) {
  RedisReply r;
  r.type = RedisReply::Type::kInteger;
  r.integer = i;
  return r;
}

RedisReply Arr(std::initializer_list<RedisReply> elements) {
  RedisReply r;
  r.type = RedisReply::Type::kArray;
  r.elements = elements;
  return r;
}

RedisReply Error(std::string s) {
  RedisReply r = Str(std::move(s));
  r.type = RedisReply::Type::kError;
  return r;
}

RedisReply ShardNode(int port, std::string role, std::string health) {
  return Arr({Str("id"), Str("abc"), Str("port"), Int(port), Str("ip"),
              Str("127.0.0.1"), Str("endpoint"), Str("127.0.0.1"), Str("role"),
              Str(role), Str("replication-offset"), Int(42), Str("health"),
              Str(health)});
}

// Three shards as Redis 7.0 answers CLUSTER SHARDS; the third one's master
// has failed and its replica is not promoted yet.
RedisReply ThreeShards() {
  return Arr({
      Arr({Str("slots"), Arr({Int(0), Int(5460)}), Str("nodes"),
           Arr({ShardNode(7100, "master", "online"),
                ShardNode(7104, "replica", "online")})}),
      Arr({Str("slots"), Arr({Int(5461), Int(10922)}), Str("nodes"),
           Arr({ShardNode(7105, "replica", "online"),
                ShardNode(7101, "master", "online")})}),
      Arr({Str("slots"), Arr({Int(10923), Int(12000), Int(12001), Int(16383)}),
           Str("nodes"),
           Arr({ShardNode(7102, "master", "failed"),
                ShardNode(7103, "replica", "online")})}),
  });
}

TEST(ClusterMapTest, ParsesShards) {
  absl::StatusOr<ClusterMap> map = ClusterMap::FromShardsReply(ThreeShards());
  ASSERT_TRUE(map.ok()) << map.status();
  EXPECT_EQ(map->MasterOf(0), "127.0.0.1:7100");
  EXPECT_EQ(map->MasterOf(5460), "127.0.0.1:7100");
  EXPECT_EQ(map->MasterOf(5461), "127.0.0.1:7101");
  EXPECT_EQ(map->MasterOf(10922), "127.0.0.1:7101");
  // A failed master serves nothing: calls fail fast until the failover.
  EXPECT_EQ(map->MasterOf(10923), "");
  EXPECT_EQ(map->MasterOf(16383), "");
  EXPECT_EQ(map->UnservedSlots(), 16384 - 10923);
  EXPECT_EQ(map->Masters(),
            (std::vector<std::string>{"127.0.0.1:7100", "127.0.0.1:7101"}));
  // Every node stays a refresh candidate, masters first.
  EXPECT_EQ(map->Nodes().size(), 6u);
  EXPECT_EQ(map->Nodes()[0], "127.0.0.1:7100");
}

TEST(ClusterMapTest, ParsesSlots) {
  RedisReply slots = Arr({
      Arr({Int(0), Int(8191), Arr({Str("127.0.0.1"), Int(7100), Str("id1")}),
           Arr({Str("127.0.0.1"), Int(7103), Str("id4")})}),
      Arr({Int(8192), Int(16383),
           Arr({Str("127.0.0.1"), Int(7101), Str("id2")})}),
  });
  absl::StatusOr<ClusterMap> map = ClusterMap::FromSlotsReply(slots);
  ASSERT_TRUE(map.ok()) << map.status();
  EXPECT_EQ(map->MasterOf(8191), "127.0.0.1:7100");
  EXPECT_EQ(map->MasterOf(8192), "127.0.0.1:7101");
  EXPECT_EQ(map->UnservedSlots(), 0);
  EXPECT_EQ(map->Nodes(),
            (std::vector<std::string>{"127.0.0.1:7100", "127.0.0.1:7101",
                                      "127.0.0.1:7103"}));
}

TEST(ClusterMapTest, RefusesMalformedReplies) {
  EXPECT_FALSE(ClusterMap::FromShardsReply(Str("nope")).ok());
  EXPECT_FALSE(
      ClusterMap::FromShardsReply(
          Arr({Arr({Str("slots"), Arr({Int(0)}), Str("nodes"), Arr({})})}))
          .ok());
  EXPECT_FALSE(ClusterMap::FromSlotsReply(
                   Arr({Arr({Int(0), Int(20000), Arr({Str("h"), Int(1)})})}))
                   .ok());
}

TEST(ClusterMapTest, SetMasterMovesOneSlot) {
  absl::StatusOr<ClusterMap> map = ClusterMap::FromShardsReply(ThreeShards());
  ASSERT_TRUE(map.ok());
  map->SetMaster(42, "127.0.0.1:7101");
  EXPECT_EQ(map->MasterOf(42), "127.0.0.1:7101");
  EXPECT_EQ(map->MasterOf(41), "127.0.0.1:7100");
}

TEST(ParseRedirectTest, MovedAndAsk) {
  std::optional<Redirect> moved =
      ParseRedirect("MOVED 3999 127.0.0.1:6381", "127.0.0.1:6379");
  ASSERT_TRUE(moved.has_value());
  EXPECT_EQ(moved->kind, Redirect::Kind::kMoved);
  EXPECT_EQ(moved->slot, 3999);
  EXPECT_EQ(moved->address, "127.0.0.1:6381");

  std::optional<Redirect> ask =
      ParseRedirect("ASK 3999 10.0.0.2:6381", "10.0.0.1:6379");
  ASSERT_TRUE(ask.has_value());
  EXPECT_EQ(ask->kind, Redirect::Kind::kAsk);
  EXPECT_EQ(ask->address, "10.0.0.2:6381");
}

TEST(ParseRedirectTest, EmptyHostMeansTheAnsweringHost) {
  std::optional<Redirect> moved =
      ParseRedirect("MOVED 1 :6380", "10.1.2.3:6379");
  ASSERT_TRUE(moved.has_value());
  EXPECT_EQ(moved->address, "10.1.2.3:6380");
}

TEST(ParseRedirectTest, OtherErrorsAreNotRedirects) {
  EXPECT_FALSE(ParseRedirect("ERR unknown command", "a:1").has_value());
  EXPECT_FALSE(ParseRedirect("MOVED x 127.0.0.1:1", "a:1").has_value());
  EXPECT_FALSE(ParseRedirect("MOVED 16384 127.0.0.1:1", "a:1").has_value());
  EXPECT_FALSE(ParseRedirect("TH:NOT_FOUND:MOVED 1 a:1", "a:1").has_value());
}

class DecideRouteTest : public ::testing::Test {
 protected:
  RouteDecision Decide(const absl::StatusOr<RedisReply>& result,
                       int attempt = 1) {
    return DecideRoute(result, "127.0.0.1:7100", attempt, now_, deadline_,
                       policy_);
  }
  RoutePolicy policy_;
  absl::Time now_ = absl::Now();
  absl::Time deadline_ = now_ + absl::Seconds(2);
};

TEST_F(DecideRouteTest, RepliesAndPlainErrorsReturn) {
  EXPECT_EQ(Decide(Str("v")).step, RouteStep::kReturn);
  RouteDecision error = Decide(Error("TH:NOT_FOUND:no session"));
  EXPECT_EQ(error.step, RouteStep::kReturn);
  EXPECT_TRUE(error.give_up.ok());
  EXPECT_EQ(Decide(absl::DeadlineExceededError("late")).step,
            RouteStep::kReturn);
}

TEST_F(DecideRouteTest, MovedIsFollowed) {
  RouteDecision d = Decide(Error("MOVED 3999 127.0.0.1:7101"));
  EXPECT_EQ(d.step, RouteStep::kFollowMoved);
  EXPECT_EQ(d.redirect.slot, 3999);
  EXPECT_EQ(d.redirect.address, "127.0.0.1:7101");
  EXPECT_EQ(d.wait, absl::ZeroDuration());
}

TEST_F(DecideRouteTest, AskIsFollowed) {
  RouteDecision d = Decide(Error("ASK 3999 127.0.0.1:7102"));
  EXPECT_EQ(d.step, RouteStep::kFollowAsk);
  EXPECT_EQ(d.redirect.address, "127.0.0.1:7102");
}

TEST_F(DecideRouteTest, ScriptsBackOffOnAskAndFollowMoved) {
  RouteDecision ask = DecideScriptRoute(Error("ASK 3999 127.0.0.1:7102"),
                                        "127.0.0.1:7100", 1, now_, deadline_,
                                        policy_);
  EXPECT_EQ(ask.step, RouteStep::kRetry);
  EXPECT_EQ(ask.wait, policy_.first_backoff);
  RouteDecision last = DecideScriptRoute(Error("ASK 3999 127.0.0.1:7102"),
                                         "127.0.0.1:7100", policy_.max_attempts,
                                         now_, deadline_, policy_);
  EXPECT_EQ(last.step, RouteStep::kReturn);
  EXPECT_EQ(last.give_up.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(DecideScriptRoute(Error("MOVED 3999 127.0.0.1:7101"),
                              "127.0.0.1:7100", 1, now_, deadline_, policy_)
                .step,
            RouteStep::kFollowMoved);
  EXPECT_TRUE(IsScriptCommand("evalsha"));
  EXPECT_TRUE(IsScriptCommand("EVAL"));
  EXPECT_FALSE(IsScriptCommand("GET"));
}

TEST_F(DecideRouteTest, RedirectLoopsGiveUp) {
  RouteDecision d =
      Decide(Error("MOVED 1 127.0.0.1:7101"), policy_.max_attempts);
  EXPECT_EQ(d.step, RouteStep::kReturn);
  EXPECT_EQ(d.give_up.code(), absl::StatusCode::kUnavailable);
}

TEST_F(DecideRouteTest, TryAgainBacksOffWithoutRefresh) {
  // RedisConnection turns TRYAGAIN into UNAVAILABLE; a raw reply works too.
  RouteDecision d = Decide(absl::UnavailableError(
      "storage unavailable (redis: TRYAGAIN Multiple keys request during "
      "rehashing of slot)"));
  EXPECT_EQ(d.step, RouteStep::kRetry);
  EXPECT_EQ(d.wait, policy_.first_backoff);
  EXPECT_EQ(Decide(Error("TRYAGAIN later")).step, RouteStep::kRetry);
}

TEST_F(DecideRouteTest, ConnectionLossAndClusterDownRefresh) {
  EXPECT_EQ(Decide(absl::UnavailableError("redis connect: refused")).step,
            RouteStep::kRefreshAndRetry);
  EXPECT_EQ(Decide(Error("CLUSTERDOWN The cluster is down")).step,
            RouteStep::kRefreshAndRetry);
  EXPECT_EQ(Decide(Error("READONLY You can't write against a replica")).step,
            RouteStep::kRefreshAndRetry);
}

TEST_F(DecideRouteTest, BackOffGrowsUpToTheCap) {
  policy_.retry_budget = absl::Hours(1);
  absl::Status lost = absl::UnavailableError("redis read: reset");
  EXPECT_EQ(Decide(lost, 2).wait, 2 * policy_.first_backoff);
  EXPECT_EQ(Decide(lost, 3).wait, 4 * policy_.first_backoff);
  EXPECT_EQ(Decide(lost, 15).wait, policy_.max_backoff);
}

TEST_F(DecideRouteTest, DeadlineHoldsAcrossRetries) {
  deadline_ = now_ + absl::Milliseconds(5);
  RouteDecision d = Decide(absl::UnavailableError("redis connect: refused"));
  EXPECT_EQ(d.step, RouteStep::kReturn);
  EXPECT_EQ(d.give_up.code(), absl::StatusCode::kUnavailable);
  d = Decide(Error("CLUSTERDOWN The cluster is down"));
  EXPECT_EQ(d.step, RouteStep::kReturn);
  EXPECT_EQ(d.give_up.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(d.give_up.message().find("CLUSTERDOWN"), std::string::npos);
}

TEST_F(DecideRouteTest, RetryBudgetFailsFast) {
  // 1 s by default: back-offs 10, 20, 40, 80, 160, 320 ms (630 ms), then
  // the next 400 ms would pass it.
  absl::Status lost = absl::UnavailableError("redis connect: refused");
  EXPECT_EQ(Decide(lost, 6).step, RouteStep::kRefreshAndRetry);
  RouteDecision d = Decide(lost, 7);
  EXPECT_EQ(d.step, RouteStep::kReturn);
  EXPECT_EQ(d.give_up.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(d.give_up.message().find("retried for 630ms"), std::string::npos)
      << d.give_up;
  // A migrating slot is not a master down: it waits to the deadline.
  deadline_ = now_ + absl::Seconds(30);
  EXPECT_EQ(Decide(Error("TRYAGAIN later"), 7).step, RouteStep::kRetry);
}

TEST_F(DecideRouteTest, TooFewReplicasIsReturnedAsItIs) {
  RedisReply none;
  none.type = RedisReply::Type::kInteger;
  none.integer = 0;
  absl::Status shortfall = CheckReplicaWait(none, 1);
  RouteDecision d = Decide(shortfall);
  EXPECT_EQ(d.step, RouteStep::kReturn);
  EXPECT_TRUE(d.give_up.ok()) << "the result itself is the answer";
}

TEST_F(DecideRouteTest, AttemptsAreBounded) {
  RouteDecision d = Decide(absl::UnavailableError("redis connect: refused"),
                           policy_.max_attempts);
  EXPECT_EQ(d.step, RouteStep::kReturn);
  EXPECT_EQ(d.give_up.code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace townhall
