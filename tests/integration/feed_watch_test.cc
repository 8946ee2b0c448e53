// FeedWatch (services/common/server/feed_watch.h) with a tiny test spec:
// the Outbox's views and per-watcher coalescing, the hub's coalescing over
// a real Redis feed, and whole streams through a real gRPC server (views,
// the per-participant cap). The test service answers AgendaService's
// WatchAgenda, so that the agenda tests' WatchReader reads it.
#include "services/common/server/feed_watch.h"

#include <gmock/gmock.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "services/common/auth/authorization.h"
#include "services/common/change_feed.h"
#include "services/common/ids.h"
#include "services/common/redis/redis_connection.h"
#include "services/common/server/feed_hub.h"
#include "services/common/server/session_cache.h"
#include "services/common/tenant_keys.h"
#include "services/scheduling/scheduling_service.h"
#include "services/tenancy/tenant_service.h"
#include "tests/integration/agenda/agenda_test_util.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/status_matchers.h"
#include "townhall/v1/agenda.grpc.pb.h"

// session_cache.cc's flags: the stall test makes its server's cache.
ABSL_DECLARE_FLAG(absl::Duration, session_cache_max_staleness);
ABSL_DECLARE_FLAG(int, session_cache_size);

namespace townhall::testing {
namespace {

using feed_watch_internal::Delivery;
using feed_watch_internal::FeedHub;
using feed_watch_internal::MakeDelivery;
using feed_watch_internal::Outbox;
using feed_watch_internal::SharedDelivery;
using feed_watch_internal::SharedMessage;
using feed_watch_internal::WrapFn;
using ::testing::ElementsAre;
using Response = v1::WatchAgendaResponse;

// The test codec: feed data is AgendaChange JSON (its `order` names the
// changes, so merges show); kind "vote" is coalescable, "secret" is only
// for its owner (the entry's id), "scoped" concerns the scope in its id,
// "redacted" shows others a copy of kind "redacted.public".
FeedEntry Decode(const Change& change) {
  auto full = std::make_shared<v1::AgendaChange>();
  EXPECT_TRUE(
      google::protobuf::util::JsonStringToMessage(change.data, full.get())
          .ok());
  full->set_version(change.version);
  full->set_kind(change.kind);
  FeedEntry entry;
  entry.version = change.version;
  entry.full = full;
  entry.restricted = full;
  if (change.kind == "vote") entry.coalescable = true;
  if (change.kind == "secret") {
    entry.restricted = nullptr;
    entry.owner = change.entity_id;
  }
  if (change.kind == "scoped") entry.scope = change.entity_id;
  if (change.kind == "redacted") {
    auto open = std::make_shared<v1::AgendaChange>(*full);
    open->set_kind("redacted.public");
    entry.restricted = open;
  }
  return entry;
}

// Both runs' names, in order, with the newer's version.
FeedEntry Merge(const FeedEntry& older, const FeedEntry& newer) {
  auto merged = std::make_shared<v1::AgendaChange>(
      static_cast<const v1::AgendaChange&>(*newer.full));
  merged->clear_order();
  for (const auto* entry : {&older, &newer}) {
    for (const std::string& name :
         static_cast<const v1::AgendaChange&>(*entry->full).order()) {
      merged->add_order(name);
    }
  }
  FeedEntry out = newer;
  out.full = merged;
  out.restricted = merged;
  return out;
}

const FeedCodec& Codec() {
  static const FeedCodec* codec = new FeedCodec{Decode, Merge};
  return *codec;
}

SharedMessage Wrap(const google::protobuf::Message& change) {
  auto response = std::make_shared<Response>();
  response->mutable_change()->CopyFrom(change);
  return response;
}

// The AgendaChange JSON of one entry named `name`.
std::string Data(const std::string& name) {
  return absl::StrCat(R"({"order":[")", name, R"("]})");
}

// One change as the hub would deliver it.
SharedDelivery Entry(int64_t version, const std::string& kind,
                     const std::string& name, const std::string& id = "") {
  Change change{version, kind, id, Data(name)};
  return MakeDelivery(Decode(change), version, WrapFn(Wrap));
}

// "<kind>:<names joined by +>@<version>", or "snapshot@<version>".
std::string Describe(const google::protobuf::Message& message) {
  const auto& response = static_cast<const Response&>(message);
  if (response.has_snapshot()) {
    return absl::StrCat("snapshot@", response.snapshot().version());
  }
  return absl::StrCat(response.change().kind(), ":",
                      absl::StrJoin(response.change().order(), "+"), "@",
                      response.change().version());
}

std::vector<std::string> Drain(Outbox& box) {
  std::vector<std::string> out;
  while (SharedMessage message = box.Pop()) out.push_back(Describe(*message));
  return out;
}

// ---------------------------------------------------------------- Outbox

class OutboxTest : public ::testing::Test {
 protected:
  Outbox Make(WatchView view, size_t max_backlog = 100) {
    return Outbox(std::move(view), &Codec(), &wrap_, max_backlog);
  }
  // Offers the same five changes after version 10.
  std::vector<std::string> Watch(WatchView view) {
    Outbox box = Make(std::move(view));
    box.Restart(10, nullptr);
    for (const SharedDelivery& d :
         {Entry(11, "secret", "s", "p1"), Entry(12, "redacted", "r"),
          Entry(13, "scoped", "a", "a"), Entry(14, "scoped", "b", "b"),
          Entry(15, "item", "i")}) {
      EXPECT_NE(box.Offer(d), Outbox::Offered::kResync);
    }
    EXPECT_EQ(box.version(), 15);
    return Drain(box);
  }

  const WrapFn wrap_ = Wrap;
};

TEST_F(OutboxTest, PrivilegedWatchersSeeEverythingInFull) {
  EXPECT_THAT(Watch({.privileged = true}),
              ElementsAre("secret:s@11", "redacted:r@12", "scoped:a@13",
                          "scoped:b@14", "item:i@15"));
}

TEST_F(OutboxTest, OthersSeeTheRestrictedChangeOrTheirOwnInFull) {
  EXPECT_THAT(Watch({.participant_id = "p1"}),
              ElementsAre("secret:s@11", "redacted.public:r@12", "scoped:a@13",
                          "scoped:b@14", "item:i@15"));
  // Another member's secret is skipped; its version still counts (no
  // resync at 12).
  EXPECT_THAT(Watch({.participant_id = "p2"}),
              ElementsAre("redacted.public:r@12", "scoped:a@13", "scoped:b@14",
                          "item:i@15"));
  // No participant owns nothing, also not entries with no owner.
  EXPECT_THAT(Watch({}), ElementsAre("redacted.public:r@12", "scoped:a@13",
                                     "scoped:b@14", "item:i@15"));
}

TEST_F(OutboxTest, AScopedWatcherSkipsOtherScopes) {
  EXPECT_THAT(
      Watch({.privileged = true, .scope = "a"}),
      ElementsAre("secret:s@11", "redacted:r@12", "scoped:a@13", "item:i@15"));
}

TEST_F(OutboxTest, MergesANewCoalescableChangeIntoTheNewestWaiting) {
  Outbox box = Make({.privileged = true});
  auto snapshot = std::make_shared<Response>();
  snapshot->mutable_snapshot()->set_version(10);
  box.Restart(10, snapshot);
  EXPECT_EQ(box.Offer(Entry(11, "vote", "v11")), Outbox::Offered::kQueued);
  EXPECT_EQ(box.Offer(Entry(12, "vote", "v12")), Outbox::Offered::kMerged);
  EXPECT_EQ(box.size(), 2u);
  // The snapshot is being written: v13 still merges into the waiting run.
  EXPECT_EQ(Describe(*box.Pop()), "snapshot@10");
  EXPECT_EQ(box.Offer(Entry(13, "vote", "v13")), Outbox::Offered::kMerged);
  EXPECT_EQ(Describe(*box.Pop()), "vote:v11+v12+v13@13");
  // v14 is being written: v15 does not merge into it.
  EXPECT_EQ(box.Offer(Entry(14, "vote", "v14")), Outbox::Offered::kQueued);
  EXPECT_EQ(Describe(*box.Pop()), "vote:v14@14");
  box.Offer(Entry(15, "vote", "v15"));
  // A change that does not coalesce ends the run.
  box.Offer(Entry(16, "item", "i16"));
  box.Offer(Entry(17, "vote", "v17"));
  EXPECT_THAT(Drain(box),
              ElementsAre("vote:v15@15", "item:i16@16", "vote:v17@17"));
}

TEST_F(OutboxTest, AGapOrAFullBacklogAsksForAResync) {
  Outbox box = Make({.privileged = true}, /*max_backlog=*/2);
  box.Restart(10, nullptr);
  EXPECT_EQ(box.Offer(Entry(9, "item", "old")), Outbox::Offered::kSkipped);
  EXPECT_EQ(box.Offer(Entry(12, "item", "gap")), Outbox::Offered::kResync);
  EXPECT_EQ(box.Offer(Entry(11, "item", "a")), Outbox::Offered::kQueued);
  EXPECT_EQ(box.Offer(Entry(12, "item", "b")), Outbox::Offered::kQueued);
  EXPECT_EQ(box.Offer(Entry(13, "item", "c")), Outbox::Offered::kResync);
  // A merged run that starts at or before the next version is no gap.
  Outbox merged = Make({.privileged = true});
  merged.Restart(10, nullptr);
  Change change{14, "vote", "", Data("v")};
  EXPECT_EQ(merged.Offer(MakeDelivery(Decode(change), 9, wrap_)),
            Outbox::Offered::kQueued);
}

// ------------------------------------------------------- Redis feed helpers

// Appends changes the way th_feed_append does (INCR the version, XADD with
// id "<version>-0"), all in one atomic step. Each change is {kind, id,
// name}. Returns the newest version.
absl::StatusOr<int64_t> Append(
    const FeedKeys& keys, const std::vector<std::vector<std::string>>& changes,
    const RedisOptions& redis_options = SharedRedisOptions()) {
  static constexpr char kScript[] = R"(
    local v = 0
    for i = 1, #ARGV, 3 do
      v = redis.call('INCR', KEYS[1])
      redis.call('XADD', KEYS[2], v .. '-0', 'kind', ARGV[i], 'id',
                 ARGV[i + 1], 'data', ARGV[i + 2])
    end
    return v)";
  std::vector<std::string> argv = {"EVAL", kScript, "2", keys.version,
                                   keys.events};
  for (const auto& change : changes) {
    argv.insert(argv.end(), {change[0], change[1], Data(change[2])});
  }
  RedisConnection redis(redis_options);
  redis.set_deadline(absl::Now() + absl::Seconds(5));
  absl::StatusOr<RedisReply> reply = redis.Command(argv);
  if (!reply.ok()) return reply.status();
  return reply->AsInteger();
}

FeedKeys NewFeed() {
  return FeedKeys::ForScope(absl::StrCat("th:{s:fwtest-", NewId(), "}"));
}

// ------------------------------------------------------------------ FeedHub

// Collects what the hub delivers, with when each batch came.
class Collector : public feed_watch_internal::FeedSubscriber {
 public:
  struct Batch {
    std::vector<std::string> changes;
    std::vector<int64_t> first_versions;
    absl::Time time;
  };

  void OnDeliveries(const std::vector<SharedDelivery>& deliveries) override {
    Batch batch{.time = absl::Now()};
    for (const SharedDelivery& d : deliveries) {
      batch.changes.push_back(Describe(*d->full_response));
      batch.first_versions.push_back(d->first_version);
    }
    absl::MutexLock lock(&mu_);
    batches_.push_back(std::move(batch));
  }

  // Waits until a change of `version` came; every batch so far.
  std::vector<Batch> WaitFor(int64_t version) {
    const std::string suffix = absl::StrCat("@", version);
    absl::MutexLock lock(&mu_);
    auto arrived = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      for (const Batch& b : batches_) {
        for (const std::string& c : b.changes) {
          if (absl::EndsWith(c, suffix)) return true;
        }
      }
      return false;
    };
    mu_.AwaitWithTimeout(absl::Condition(&arrived), absl::Seconds(10));
    return batches_;
  }

 private:
  absl::Mutex mu_;
  std::vector<Batch> batches_ ABSL_GUARDED_BY(mu_);
};

TEST(FeedHubTest, MergesARunOfOneReadIntoOneEntryWithTheNewestVersion) {
  FeedHub hub(SharedRedisOptions(), Codec(), Wrap, {.name = "test"});
  FeedKeys keys = NewFeed();
  auto collector = std::make_shared<Collector>();
  hub.Subscribe(keys, 0, collector);
  ASSERT_OK(Append(keys, {{"item", "", "i1"},
                          {"vote", "", "v2"},
                          {"vote", "", "v3"},
                          {"vote", "", "v4"},
                          {"item", "", "i5"},
                          {"vote", "", "v6"}})
                .status());
  std::vector<Collector::Batch> got = collector->WaitFor(6);
  ASSERT_EQ(got.size(), 1u);
  // Without a window the run at the end goes out at once.
  EXPECT_THAT(got[0].changes, ElementsAre("item:i1@1", "vote:v2+v3+v4@4",
                                          "item:i5@5", "vote:v6@6"));
  EXPECT_THAT(got[0].first_versions, ElementsAre(1, 2, 5, 6));
  hub.Unsubscribe(keys.events, collector.get());
}

TEST(FeedHubTest, HoldsARunForTheWindowAndFlushesItBeforeOtherChanges) {
  constexpr absl::Duration kWindow = absl::Milliseconds(400);
  FeedHub hub(SharedRedisOptions(), Codec(), Wrap,
              {.name = "test", .coalesce_window = kWindow});
  FeedKeys keys = NewFeed();
  auto collector = std::make_shared<Collector>();
  hub.Subscribe(keys, 0, collector);

  // The first vote in a while goes out at once...
  ASSERT_OK(Append(keys, {{"vote", "", "v1"}}).status());
  std::vector<Collector::Batch> got = collector->WaitFor(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_THAT(got[0].changes, ElementsAre("vote:v1@1"));
  // ...the next ones are held, and a change that does not coalesce sends
  // the held run first.
  ASSERT_OK(Append(keys, {{"vote", "", "v2"}}).status());
  absl::SleepFor(absl::Milliseconds(30));
  ASSERT_OK(Append(keys, {{"vote", "", "v3"}}).status());
  absl::SleepFor(absl::Milliseconds(30));
  const absl::Time item_written = absl::Now();
  ASSERT_OK(Append(keys, {{"item", "", "i4"}}).status());
  got = collector->WaitFor(4);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_THAT(got[1].changes, ElementsAre("vote:v2+v3@3", "item:i4@4"));
  EXPECT_THAT(got[1].first_versions, ElementsAre(2, 4));
  EXPECT_LT(got[1].time - item_written, kWindow / 2);

  // Held again (a run was just sent), then sent when the window passes.
  const absl::Time flushed = got[1].time;
  ASSERT_OK(Append(keys, {{"vote", "", "v5"}}).status());
  absl::SleepFor(absl::Milliseconds(30));
  ASSERT_OK(Append(keys, {{"vote", "", "v6"}}).status());
  got = collector->WaitFor(6);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_THAT(got[2].changes, ElementsAre("vote:v5+v6@6"));
  EXPECT_GE(got[2].time - flushed, kWindow - absl::Milliseconds(5));
  // Not late by more than the poll and a loaded machine's scheduling.
  EXPECT_LT(got[2].time - flushed, kWindow + absl::Milliseconds(150));
  hub.Unsubscribe(keys.events, collector.get());
}

// A codec whose "fresh" entries (coalescable) are read from Redis when
// delivered: the refresh GETs "<events key>:state" and names the change
// after it, and counts its calls.
TEST(FeedHubTest, RefreshesEachDeliveredEntryOnceAfterMerging) {
  std::atomic<int> refreshes{0};
  FeedCodec codec = Codec();
  codec.decode = [](const Change& change) {
    FeedEntry entry = Decode(change);
    if (change.kind == "fresh") {
      entry.coalescable = true;
      entry.refresh = true;
    }
    return entry;
  };
  codec.refresh = [&refreshes](RedisConnection& redis,
                               absl::string_view events_key,
                               FeedEntry& entry) -> absl::Status {
    ++refreshes;
    absl::StatusOr<RedisReply> state =
        redis.Command({"GET", absl::StrCat(events_key, ":state")});
    if (!state.ok()) return state.status();
    auto change = std::make_shared<v1::AgendaChange>(
        static_cast<const v1::AgendaChange&>(*entry.full));
    change->clear_order();
    change->add_order(state->str);
    entry.full = change;
    entry.restricted = change;
    return absl::OkStatus();
  };
  FeedHub hub(SharedRedisOptions(), codec, Wrap, {.name = "test"});
  FeedKeys keys = NewFeed();
  RedisConnection redis(SharedRedisOptions());
  redis.set_deadline(absl::Now() + absl::Seconds(5));
  ASSERT_OK(redis.Command({"SET", absl::StrCat(keys.events, ":state"), "now"})
                .status());
  auto collector = std::make_shared<Collector>();
  hub.Subscribe(keys, 0, collector);
  ASSERT_OK(Append(keys, {{"item", "", "i1"},
                          {"fresh", "", "f2"},
                          {"fresh", "", "f3"},
                          {"item", "", "i4"}})
                .status());
  std::vector<Collector::Batch> got = collector->WaitFor(4);
  ASSERT_EQ(got.size(), 1u);
  // The run of two is one entry, read once; other entries are as decoded.
  EXPECT_THAT(got[0].changes,
              ElementsAre("item:i1@1", "fresh:now@3", "item:i4@4"));
  EXPECT_EQ(refreshes.load(), 1);
  hub.Unsubscribe(keys.events, collector.get());
}

// "svote" entries are coalescable votes of the scope in their id. Runs of
// interleaved scopes merge per scope only when the codec says scopes may
// pass each other, and then go out newest last with no gap.
TEST(FeedHubTest, MergesInterleavedScopesOnlyWhenTheCodecAllows) {
  for (bool across : {false, true}) {
    SCOPED_TRACE(across ? "across scopes" : "neighbours only");
    FeedCodec codec = Codec();
    codec.decode = [](const Change& change) {
      FeedEntry entry = Decode(change);
      if (change.kind == "svote") {
        entry.coalescable = true;
        entry.scope = change.entity_id;
      }
      return entry;
    };
    codec.merge_across_scopes = across;
    FeedHub hub(SharedRedisOptions(), codec, Wrap, {.name = "test"});
    FeedKeys keys = NewFeed();
    auto collector = std::make_shared<Collector>();
    hub.Subscribe(keys, 0, collector);
    ASSERT_OK(Append(keys, {{"svote", "a", "a1"},
                            {"svote", "b", "b2"},
                            {"svote", "a", "a3"},
                            {"svote", "b", "b4"},
                            {"svote", "a", "a5"},
                            {"item", "", "i6"}})
                  .status());
    std::vector<Collector::Batch> got = collector->WaitFor(6);
    ASSERT_EQ(got.size(), 1u);
    if (across) {
      EXPECT_THAT(got[0].changes, ElementsAre("svote:b2+b4@4",
                                              "svote:a1+a3+a5@5", "item:i6@6"));
      EXPECT_THAT(got[0].first_versions, ElementsAre(1, 5, 6));
    } else {
      EXPECT_THAT(got[0].changes,
                  ElementsAre("svote:a1@1", "svote:b2@2", "svote:a3@3",
                              "svote:b4@4", "svote:a5@5", "item:i6@6"));
      EXPECT_THAT(got[0].first_versions, ElementsAre(1, 2, 3, 4, 5, 6));
    }
    hub.Unsubscribe(keys.events, collector.get());
  }
}

TEST(FeedHubTest, StopsPromptlyWhileARunIsHeld) {
  FeedHub hub(SharedRedisOptions(), Codec(), Wrap,
              {.name = "test", .coalesce_window = absl::Seconds(30)});
  FeedKeys keys = NewFeed();
  auto collector = std::make_shared<Collector>();
  hub.Subscribe(keys, 0, collector);
  ASSERT_OK(Append(keys, {{"vote", "", "v1"}}).status());
  collector->WaitFor(1);
  ASSERT_OK(Append(keys, {{"vote", "", "v2"}}).status());
  absl::SleepFor(absl::Milliseconds(50));
  const absl::Time start = absl::Now();
  hub.Stop();
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(300));
}

// With a budget of merged messages a second, many subscribers stretch the
// window: 40 subscribers at 100 messages a second hold a run 400 ms, not
// the configured 50 ms; changes that do not coalesce still go at once.
TEST(FeedHubTest, ManySubscribersStretchTheWindowToTheWriteBudget) {
  constexpr int kSubscribers = 40;
  constexpr absl::Duration kStretched = absl::Milliseconds(400);
  FeedHub hub(SharedRedisOptions(), Codec(), Wrap,
              {.name = "test",
               .coalesce_window = absl::Milliseconds(50),
               .coalesced_writes_per_second = 100});
  FeedKeys keys = NewFeed();
  std::vector<std::shared_ptr<Collector>> collectors;
  for (int i = 0; i < kSubscribers; ++i) {
    collectors.push_back(std::make_shared<Collector>());
    hub.Subscribe(keys, 0, collectors.back());
  }
  Collector& first = *collectors.front();
  ASSERT_OK(Append(keys, {{"vote", "", "v1"}}).status());
  std::vector<Collector::Batch> got = first.WaitFor(1);
  ASSERT_EQ(got.size(), 1u);
  const absl::Time sent = got[0].time;
  ASSERT_OK(Append(keys, {{"vote", "", "v2"}}).status());
  got = first.WaitFor(2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_THAT(got[1].changes, ElementsAre("vote:v2@2"));
  EXPECT_GE(got[1].time - sent, kStretched - absl::Milliseconds(5));
  EXPECT_LT(got[1].time - sent, kStretched + absl::Milliseconds(200));

  // A change that does not coalesce is not held, and takes the held run
  // with it.
  ASSERT_OK(Append(keys, {{"vote", "", "v3"}}).status());
  absl::SleepFor(absl::Milliseconds(30));
  const absl::Time item_written = absl::Now();
  ASSERT_OK(Append(keys, {{"item", "", "i4"}}).status());
  got = first.WaitFor(4);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_THAT(got[2].changes, ElementsAre("vote:v3@3", "item:i4@4"));
  EXPECT_LT(got[2].time - item_written, kStretched / 2);

  // With fewer subscribers the configured window is back.
  for (int i = 1; i < kSubscribers; ++i) {
    hub.Unsubscribe(keys.events, collectors[i].get());
  }
  ASSERT_OK(Append(keys, {{"vote", "", "v5"}}).status());
  got = first.WaitFor(5);  // the first after the item: at once
  ASSERT_EQ(got.size(), 4u);
  ASSERT_OK(Append(keys, {{"vote", "", "v6"}}).status());
  got = first.WaitFor(6);
  ASSERT_EQ(got.size(), 5u);
  EXPECT_LT(got[4].time - got[3].time, kStretched / 2);
  hub.Unsubscribe(keys.events, collectors[0].get());
}

// ------------------------------------------------ streams through gRPC

FeedKeys TestFeedKeys(absl::string_view tenant_id,
                      absl::string_view session_id) {
  return FeedKeys::ForScope(
      absl::StrCat(TenantPrefix(tenant_id), "fwtest:", session_id));
}

constexpr int kMaxStreamsPerParticipant = 2;
// The Redis pool's queue of the streams' test server: small, so that an
// audience joining at once is more than it holds.
constexpr int kPoolQueue = 4;

// AgendaService with only WatchAgenda, served by FeedWatch with the test
// codec. Moderators and organizers are privileged; a member's organization
// is its scope.
class TestWatchModule final : public v1::AgendaService::CallbackService,
                              public ServiceModule {
 public:
  explicit TestWatchModule(const ServiceEnv& env)
      : watch_(env, Spec(), {.coalesce_window = absl::Milliseconds(200)}) {
    instance = this;
  }
  ~TestWatchModule() override { instance = nullptr; }

  std::string grpc_name() const override {
    return v1::AgendaService::service_full_name();
  }
  grpc::Service* service() override { return this; }
  void Stop() override { watch_.Stop(); }

  grpc::ServerWriteReactor<Response>* WatchAgenda(
      grpc::CallbackServerContext* ctx,
      const v1::WatchAgendaRequest* request) override {
    return watch_.Watch(ctx, request);
  }

  size_t open_streams() const { return watch_.open_streams(); }

  static inline TestWatchModule* instance = nullptr;

 private:
  static FeedWatchSpec<v1::WatchAgendaRequest, Response> Spec() {
    return {
        .method = TH_METHOD(AgendaService, WatchAgenda),
        .service = "fwtest",
        .feed_keys = TestFeedKeys,
        .codec = Codec(),
        .view = [](const Principal& caller,
                   const v1::WatchAgendaRequest&) -> absl::StatusOr<WatchView> {
          return WatchView{.privileged = !caller.is_session_scoped() ||
                                         caller.role == Role::kModerator,
                           .participant_id = caller.participant_id,
                           .scope = caller.organization_id};
        },
        .snapshot = [](RedisConnection& redis, const Principal& caller,
                       const v1::Session& session,
                       const WatchView&) -> absl::StatusOr<Response> {
          absl::StatusOr<int64_t> version = ReadFeedVersion(
              redis, TestFeedKeys(caller.tenant_id, session.id()));
          if (!version.ok()) return version.status();
          Response response;
          response.mutable_snapshot()->set_session_id(session.id());
          response.mutable_snapshot()->set_version(*version);
          return response;
        },
    };
  }

  FeedWatch<v1::WatchAgendaRequest, Response> watch_;
};

// The changes of `messages` as Describe says them.
std::vector<std::string> Changes(const std::vector<Response>& messages) {
  std::vector<std::string> out;
  for (const Response& m : messages) {
    if (m.has_change()) out.push_back(Describe(m));
  }
  return out;
}

class FeedWatchStreamTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    TestServerOptions options;
    options.redis_address = SharedRedisAddress();
    options.streams.max_per_participant = kMaxStreamsPerParticipant;
    options.redis_max_queue = kPoolQueue;
    options.modules = {tenancy::TenantModule(),
                       scheduling::SchedulingModule(),
                       {"fwtest", [](const ServiceEnv& env) {
                          return std::make_unique<TestWatchModule>(env);
                        }}};
    absl::StatusOr<std::unique_ptr<TestServer>> server =
        TestServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = server->release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(server_, nullptr);
    absl::StatusOr<std::string> token = server_->NewTenantToken(&tenant_);
    ASSERT_OK(token.status());
    token_ = *token;
    TownhallClient client = server_->Client(token_);
    absl::StatusOr<v1::Session> session = NewAgendaSession(client);
    ASSERT_OK(session.status());
    session_id_ = session->id();
    channel_ = client.channel();
  }

  std::unique_ptr<WatchReader> Watch(const std::string& token) {
    return std::make_unique<WatchReader>(channel_, token, session_id_);
  }
  std::string Member(const std::string& participant,
                     const std::string& organization = "") {
    return JoinToken(tenant_, session_id_, participant, organization);
  }

  static inline TestServer* server_ = nullptr;
  std::string tenant_;
  std::string token_;
  std::string session_id_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(FeedWatchStreamTest, EachWatcherSeesItsView) {
  auto organizer = Watch(token_);
  auto owner = Watch(Member("p1"));
  auto other = Watch(Member("p2"));
  auto scoped = Watch(Member("p3", "a"));
  for (auto* reader : {&organizer, &owner, &other, &scoped}) {
    std::vector<Response> got = (*reader)->WaitFor(1);
    ASSERT_EQ(got.size(), 1u);
    ASSERT_TRUE(got[0].has_snapshot());
    ASSERT_EQ(got[0].snapshot().version(), 0);
  }
  FeedKeys keys = TestFeedKeys(tenant_, session_id_);
  ASSERT_OK(Append(keys, {{"secret", "p1", "s"},
                          {"redacted", "", "r"},
                          {"scoped", "a", "a"},
                          {"scoped", "b", "b"},
                          {"vote", "", "v5"},
                          {"vote", "", "v6"},
                          {"item", "", "i"}})
                .status());
  EXPECT_THAT(Changes(organizer->WaitForVersion(7)),
              ElementsAre("secret:s@1", "redacted:r@2", "scoped:a@3",
                          "scoped:b@4", "vote:v5+v6@6", "item:i@7"));
  EXPECT_THAT(Changes(owner->WaitForVersion(7)),
              ElementsAre("secret:s@1", "redacted.public:r@2", "scoped:a@3",
                          "scoped:b@4", "vote:v5+v6@6", "item:i@7"));
  EXPECT_THAT(Changes(other->WaitForVersion(7)),
              ElementsAre("redacted.public:r@2", "scoped:a@3", "scoped:b@4",
                          "vote:v5+v6@6", "item:i@7"));
  EXPECT_THAT(Changes(scoped->WaitForVersion(7)),
              ElementsAre("redacted.public:r@2", "scoped:a@3", "vote:v5+v6@6",
                          "item:i@7"));

  // A resume sends the changes after its version, through its view (and
  // merges a run it reads at once).
  WatchReader resumed(channel_, Member("p2"), session_id_, 3);
  EXPECT_THAT(Changes(resumed.WaitForVersion(7)),
              ElementsAre("scoped:b@4", "vote:v5+v6@6", "item:i@7"));
}

TEST_F(FeedWatchStreamTest, CapsOpenStreamsPerParticipant) {
  const size_t open_before = TestWatchModule::instance->open_streams();
  std::vector<std::unique_ptr<WatchReader>> p1;
  for (int i = 0; i < kMaxStreamsPerParticipant; ++i) {
    p1.push_back(Watch(Member("p1")));
    ASSERT_EQ(p1.back()->WaitFor(1).size(), 1u);
  }
  EXPECT_EQ(TestWatchModule::instance->open_streams(),
            open_before + kMaxStreamsPerParticipant);
  auto refused = Watch(Member("p1"));
  absl::StatusOr<grpc::Status> ended = refused->Ended(absl::Seconds(10));
  ASSERT_OK(ended.status());
  EXPECT_EQ(ended->error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(ended->error_message(),
            absl::StrCat("at most ", kMaxStreamsPerParticipant,
                         " open watch streams per participant"));
  // Others are not counted against p1, nor organizers (capped apart).
  auto p2 = Watch(Member("p2"));
  EXPECT_EQ(p2->WaitFor(1).size(), 1u);
  std::vector<std::unique_ptr<WatchReader>> organizers;
  for (int i = 0; i <= kMaxStreamsPerParticipant; ++i) {
    organizers.push_back(Watch(token_));
    EXPECT_EQ(organizers.back()->WaitFor(1).size(), 1u);
  }
  // A closed stream frees its place.
  const size_t open_now = TestWatchModule::instance->open_streams();
  p1.front()->Cancel();
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (TestWatchModule::instance->open_streams() >= open_now &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  auto again = Watch(Member("p1"));
  std::vector<Response> got = again->WaitFor(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].has_snapshot());
}

// More watchers open at once than the Redis pool's queue holds: their
// start reads take turns (a tenth of the queue at a time) instead of being
// refused as "server overloaded".
TEST_F(FeedWatchStreamTest, AnAudienceJoiningAtOnceIsServedInTurn) {
  constexpr int kWatchers = 50 * kPoolQueue;
  std::vector<std::unique_ptr<WatchReader>> watchers;
  for (int i = 0; i < kWatchers; ++i) {
    watchers.push_back(Watch(Member(absl::StrCat("audience-", i))));
  }
  int snapshots = 0;
  for (auto& watcher : watchers) {
    std::vector<Response> got = watcher->WaitFor(1);
    if (got.size() == 1 && got[0].has_snapshot()) {
      ++snapshots;
    } else {
      absl::StatusOr<grpc::Status> ended = watcher->Ended(absl::Seconds(1));
      ADD_FAILURE() << "no snapshot; ended: "
                    << (ended.ok() ? ended->error_message()
                                   : ended.status().ToString());
    }
  }
  EXPECT_EQ(snapshots, kWatchers);
}

// Redis stops answering for longer than the command timeout just as a
// stream starts (a failover, a stall): the session lookup and the start
// read are each tried once more, on a new connection, instead of ending the
// stream, which after a stall would have every client reconnect at once.
// A Redis of its own: the shared one must not stall under the other tests.
class FeedWatchStallTest : public ::testing::TestWithParam<bool> {
 protected:
  // Whether the session is in the process's cache when the stream starts
  // (then the stall hits the start read, else the session lookup).
  bool session_cached() const { return GetParam(); }
};

TEST_P(FeedWatchStallTest, AStreamStartOutlastsARedisStall) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<RedisServer> redis,
                       RedisServer::Start());
  TestServerOptions options;
  options.redis_address = redis->address();
  options.redis_timeout = absl::Seconds(1);
  options.modules = {tenancy::TenantModule(),
                     scheduling::SchedulingModule(),
                     {"fwtest", [](const ServiceEnv& env) {
                        return std::make_unique<TestWatchModule>(env);
                      }}};
  // The session cache of this Redis is made when the server starts, as the
  // flags say then: a long staleness keeps the session cached through the
  // stall; size 0 turns the cache off, so the session is looked up.
  const absl::Duration default_staleness =
      absl::GetFlag(FLAGS_session_cache_max_staleness);
  const int default_size = absl::GetFlag(FLAGS_session_cache_size);
  if (session_cached()) {
    absl::SetFlag(&FLAGS_session_cache_max_staleness, absl::Minutes(1));
  } else {
    absl::SetFlag(&FLAGS_session_cache_size, 0);
  }
  absl::StatusOr<std::unique_ptr<TestServer>> started =
      TestServer::Start(options);
  absl::SetFlag(&FLAGS_session_cache_max_staleness, default_staleness);
  absl::SetFlag(&FLAGS_session_cache_size, default_size);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestServer> server, std::move(started));
  std::string tenant;
  ASSERT_OK_AND_ASSIGN(std::string token, server->NewTenantToken(&tenant));
  TownhallClient client = server->Client(token);
  ASSERT_OK_AND_ASSIGN(v1::Session session, NewAgendaSession(client));
  WatchReader first(client.channel(), token, session.id());
  ASSERT_EQ(first.WaitFor(1).size(), 1u);
  if (session_cached()) {
    // The cache keeps what it fetched only once it follows the tenant's
    // feed (session_cache.h): look the session up until it is kept.
    RedisOptions cache_key;
    cache_key.address = redis->address();
    std::shared_ptr<SessionCache> cache = SessionCache::Shared(cache_key);
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (cache->stats().entries == 0 && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(50));
      WatchReader warm(client.channel(), token, session.id());
      ASSERT_EQ(warm.WaitFor(1).size(), 1u);
    }
    ASSERT_EQ(cache->stats().entries, 1);
  }

  redis->Pause();
  WatchReader second(client.channel(), token, session.id());
  // Past the command timeout: the first try fails.
  absl::SleepFor(options.redis_timeout + absl::Milliseconds(300));
  redis->Resume();
  std::vector<Response> got = second.WaitFor(1);
  ASSERT_EQ(got.size(), 1u) << "the stream ended: "
                            << second.Ended(absl::Seconds(1))->error_message();
  EXPECT_TRUE(got[0].has_snapshot());
  // And it is live.
  RedisOptions own_redis;
  own_redis.address = redis->address();
  ASSERT_OK(
      Append(TestFeedKeys(tenant, session.id()), {{"item", "", "i"}}, own_redis)
          .status());
  EXPECT_THAT(Changes(second.WaitForVersion(1)), ElementsAre("item:i@1"));
}

INSTANTIATE_TEST_SUITE_P(SessionCachedOrNot, FeedWatchStallTest,
                         ::testing::Bool(), [](const auto& info) {
                           return info.param ? "DuringTheStartRead"
                                             : "DuringTheSessionLookup";
                         });

}  // namespace
}  // namespace townhall::testing
