// townhalld's health on a Redis Cluster (its own 3+3, ports 7900-7999):
// every master is PINGed, one master down leaves the process SERVING (the
// other shards still work; calls to the dead one fail fast until its
// replica is promoted), and only no master answering is NOT_SERVING.
// Before, health PINGed the master of slot 0 alone: killing that one
// master turned every townhalld NOT_SERVING.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "tests/testing/health.h"
#include "tests/testing/redis_cluster.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/townhalld_process.h"

namespace townhall::testing {
namespace {

constexpr char kQuestions[] = "townhall.v1.QuestionService";

TEST(ClusterHealth, OneMasterDownStaysServingNoMasterIsNotServing) {
  RedisClusterOptions options;
  options.first_port = 7900;
  options.last_port = 7999;
  // Long enough that no replica is promoted while the test looks: the
  // dead masters stay dead.
  options.node_timeout = absl::Seconds(30);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<RedisCluster> cluster,
                       RedisCluster::Start(options));
  TownhalldFleet fleet;
  ASSERT_OK(fleet.Start(
      TOWNHALLD_PATH, 1, kQuestions,
      absl::StrCat("--redis_cluster=",
                   absl::StrJoin(cluster->addresses(), ","))));
  const std::string& server = fleet.address(0);
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<ClusterTopology> topology,
                       cluster->DiscoverTopology());
  std::vector<std::string> masters = topology->Snapshot().Masters();
  ASSERT_EQ(masters.size(), 3u);

  // The master of slot 0 first: the one the old health check PINGed.
  const std::string slot0 = topology->MasterOf(0);
  cluster->Kill(slot0);
  // Health polls every 0.2 s: a second is five polls that saw it down.
  absl::SleepFor(absl::Seconds(1));
  for (const std::string& service : {std::string(""), std::string(kQuestions)}) {
    ASSERT_OK_AND_ASSIGN(bool serving, CheckServing(server, service));
    EXPECT_TRUE(serving) << "service '" << service
                         << "' with the master of slot 0 down";
  }

  // A second master down: still one answers.
  for (const std::string& master : masters) {
    if (master == slot0) continue;
    cluster->Kill(master);
    break;
  }
  absl::SleepFor(absl::Seconds(1));
  ASSERT_OK_AND_ASSIGN(bool serving, CheckServing(server, ""));
  EXPECT_TRUE(serving) << "one master of three still answers";

  // All down: NOT_SERVING.
  for (const std::string& master : masters) cluster->Kill(master);
  EXPECT_TRUE(WaitForHealth(server, "", /*serving=*/false, absl::Seconds(10)));
  EXPECT_TRUE(
      WaitForHealth(server, kQuestions, /*serving=*/false, absl::Seconds(10)));

  // One back: SERVING again.
  ASSERT_OK(cluster->Restart(slot0));
  EXPECT_TRUE(WaitForHealth(server, "", /*serving=*/true, absl::Seconds(10)));
}

}  // namespace
}  // namespace townhall::testing
