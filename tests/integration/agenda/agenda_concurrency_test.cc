// The agenda under concurrency, across servers: two real townhalld
// processes on one Redis take 50 concurrent operations on one session
// (agenda moves and activations, and raised hands of 25 participants, each
// raising twice through different processes). Then: exactly 25 waiting
// speakers, no duplicate; the agenda order is a permutation of the items
// and never more than one item was ACTIVE; a watcher on process A saw
// every change, made through A or B, in version order; and a watcher that
// dropped mid-way and reconnected to B with its last version received
// exactly the changes it missed.
//
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/agenda/agenda_keys.h"
#include "services/common/change_feed.h"
#include "services/common/ids.h"
#include "tests/integration/agenda/agenda_test_util.h"
#include "tests/testing/child_process.h"
#include "tests/testing/health.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/townhalld_process.h"

namespace townhall::testing {
namespace {

constexpr char kAgenda[] = "townhall.v1.AgendaService";
constexpr int kItems = 10;
constexpr int kParticipants = 25;
constexpr int kMoves = 15;
constexpr int kActivations = 10;
constexpr int kThreads = 8;

class AgendaConcurrencyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(fleet_.Start(TOWNHALLD_PATH, 2, kAgenda));
    tenant_ = absl::StrCat("t-", NewId());
    ASSERT_OK_AND_ASSIGN(std::string token, fleet_.CreateTenant(tenant_));
    token_ = token;
    for (int i = 0; i < fleet_.size(); ++i) {
      clients_.push_back(std::make_unique<TownhallClient>(
          ClientOptions{.address = fleet_.address(i), .token = token}));
    }
    redis_ = std::make_unique<RedisConnection>(SharedRedisOptions());
  }

  TownhallClient& client(int i) { return *clients_[i % 2]; }

  std::vector<std::string> NewItems(const std::string& session_id) {
    std::vector<std::string> ids;
    for (int i = 0; i < kItems; ++i) {
      v1::CreateAgendaItemRequest request;
      request.set_session_id(session_id);
      request.mutable_item()->set_title(absl::StrCat("Item ", i));
      absl::StatusOr<v1::CreateAgendaItemResponse> created =
          client(i).CreateAgendaItem(request);
      EXPECT_TRUE(created.ok()) << created.status();
      ids.push_back(created.ok() ? created->item().id() : "");
    }
    return ids;
  }

  int64_t FeedVersion(const std::string& session_id) {
    redis_->set_deadline(absl::Now() + absl::Seconds(2));
    absl::StatusOr<int64_t> version =
        ReadFeedVersion(*redis_, agenda::AgendaFeedKeys(tenant_, session_id));
    EXPECT_TRUE(version.ok()) << version.status();
    return version.ok() ? *version : -1;
  }

  TownhalldFleet fleet_;
  std::vector<std::unique_ptr<TownhallClient>> clients_;
  std::unique_ptr<RedisConnection> redis_;
  std::string tenant_;
  std::string token_;
};

TEST_F(AgendaConcurrencyTest, TwoServersFiftyOperationsOneConsistentAgenda) {
  absl::StatusOr<v1::Session> session = NewAgendaSession(client(0));
  ASSERT_TRUE(session.ok()) << session.status();
  const std::string session_id = session->id();
  ASSERT_OK(StartLive(client(0), session_id));
  const std::vector<std::string> items = NewItems(session_id);
  const int64_t start_version = FeedVersion(session_id);

  // Watchers on process A: one stays, one drops mid-way.
  WatchReader steady(client(0).channel(), token_, session_id);
  auto dropping =
      std::make_unique<WatchReader>(client(0).channel(), token_, session_id);
  ASSERT_EQ(steady.WaitFor(1).size(), 1u);
  ASSERT_EQ(dropping->WaitFor(1).size(), 1u);
  ASSERT_TRUE(steady.WaitFor(1)[0].has_snapshot());
  EXPECT_EQ(steady.WaitFor(1)[0].snapshot().version(), start_version);

  // Samples the number of ACTIVE items while the operations run.
  std::atomic<bool> stop_sampling{false};
  std::atomic<int> max_active{0};
  std::atomic<int> samples{0};
  std::thread sampler([&] {
    v1::GetAgendaRequest request;
    request.set_session_id(session_id);
    while (!stop_sampling) {
      absl::StatusOr<v1::GetAgendaResponse> agenda =
          client(1).GetAgenda(request);
      if (!agenda.ok()) {
        ADD_FAILURE() << "GetAgenda: " << agenda.status();
        return;
      }
      int active = 0;
      for (const v1::AgendaItem& item : agenda->agenda().items()) {
        if (item.status() == v1::AGENDA_ITEM_STATUS_ACTIVE) ++active;
      }
      max_active = std::max(max_active.load(), active);
      ++samples;
    }
  });

  // 50 operations: 25 raised hands, 15 moves, 10 activations, interleaved;
  // each participant also raises a second time through the other process.
  struct Op {
    enum Kind { kRaise, kRaiseAgain, kMove, kActivate } kind;
    int index;
  };
  std::vector<Op> ops;
  for (int i = 0; i < kParticipants; ++i) ops.push_back({Op::kRaise, i});
  for (int i = 0; i < kMoves; ++i) ops.push_back({Op::kMove, i});
  for (int i = 0; i < kActivations; ++i) ops.push_back({Op::kActivate, i});
  for (int i = 0; i < kParticipants; ++i) ops.push_back({Op::kRaiseAgain, i});
  std::mt19937 rng(20261129);
  std::shuffle(ops.begin(), ops.end(), rng);
  const std::string hand_item = items[0];
  std::atomic<int> next{0};
  std::atomic<int> moved{0};
  std::atomic<int> activated{0};
  std::atomic<int> raise_failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int n = next++; n < static_cast<int>(ops.size()); n = next++) {
        const Op& op = ops[n];
        // Alternate processes; a second raise goes to the other one.
        TownhallClient& via = client(n);
        absl::Status status;
        switch (op.kind) {
          case Op::kRaise:
          case Op::kRaiseAgain: {
            std::string participant = absl::StrCat("person-", op.index);
            TownhallClient as(ClientOptions{
                .address = fleet_.address(
                    (op.index + (op.kind == Op::kRaise ? 0 : 1)) % 2),
                .token = JoinToken(tenant_, session_id, participant,
                                   absl::StrCat("org-", op.index % 4))});
            v1::RaiseHandRequest request;
            request.set_session_id(session_id);
            request.set_agenda_item_id(hand_item);
            request.set_participant_id(participant);
            status = as.RaiseHand(request).status();
            if (!status.ok()) {
              ++raise_failures;
              ADD_FAILURE() << "RaiseHand " << participant << ": " << status;
            }
            break;
          }
          case Op::kMove: {
            v1::MoveAgendaItemRequest request;
            request.set_session_id(session_id);
            request.set_agenda_item_id(items[(op.index * 7) % kItems]);
            request.set_position((op.index * 3) % kItems);
            status = via.MoveAgendaItem(request).status();
            break;
          }
          case Op::kActivate: {
            v1::ActivateAgendaItemRequest request;
            request.set_session_id(session_id);
            request.set_agenda_item_id(items[(op.index * 3 + 1) % kItems]);
            status = via.ActivateAgendaItem(request).status();
            break;
          }
        }
        if (op.kind == Op::kMove || op.kind == Op::kActivate) {
          // Activating a DONE item is refused; nothing else may fail.
          if (status.ok()) {
            ++(op.kind == Op::kMove ? moved : activated);
          } else if (op.kind == Op::kMove ||
                     status.code() != absl::StatusCode::kFailedPrecondition) {
            ADD_FAILURE() << "op " << n << ": " << status;
          }
        }
      }
    });
  }
  // Drop the second watcher once it has seen a few live changes.
  dropping->WaitFor(6, absl::Seconds(20));
  dropping->Cancel();
  std::vector<v1::WatchAgendaResponse> before_drop = dropping->WaitFor(0);
  for (std::thread& thread : threads) thread.join();
  stop_sampling = true;
  sampler.join();

  std::cout << "moves " << moved << "/" << kMoves << ", activations "
            << activated << "/" << kActivations << "\n";
  EXPECT_EQ(moved, kMoves);
  EXPECT_GE(activated, 1);
  EXPECT_EQ(raise_failures, 0);

  // Exactly 25 waiting speakers, no duplicate.
  v1::GetSpeakersQueueRequest get;
  get.set_session_id(session_id);
  get.set_agenda_item_id(hand_item);
  absl::StatusOr<v1::GetSpeakersQueueResponse> queue =
      client(1).GetSpeakersQueue(get);
  ASSERT_TRUE(queue.ok()) << queue.status();
  std::set<std::string> waiting;
  int waiting_count = 0;
  for (const v1::Speaker& s : queue->queue().speakers()) {
    if (s.state() == v1::SPEAKER_STATE_WAITING) {
      ++waiting_count;
      waiting.insert(s.participant_id());
    }
  }
  EXPECT_EQ(waiting_count, kParticipants);
  EXPECT_EQ(waiting.size(), static_cast<size_t>(kParticipants));

  // The agenda: a permutation of the items, at most one ACTIVE.
  {
    v1::GetAgendaRequest request;
    request.set_session_id(session_id);
    absl::StatusOr<v1::GetAgendaResponse> agenda = client(0).GetAgenda(request);
    ASSERT_TRUE(agenda.ok()) << agenda.status();
    std::vector<std::string> order;
    for (const v1::AgendaItem& item : agenda->agenda().items()) {
      order.push_back(item.id());
    }
    EXPECT_THAT(order, ::testing::UnorderedElementsAreArray(items));
    int active = 0;
    for (const v1::AgendaItem& item : agenda->agenda().items()) {
      if (item.status() == v1::AGENDA_ITEM_STATUS_ACTIVE) ++active;
    }
    EXPECT_EQ(active, 1);
    EXPECT_LE(max_active, 1);
    EXPECT_GT(samples, 0);
    std::cout << "ACTIVE samples: " << samples << ", max ACTIVE seen "
              << max_active << "\n";
  }

  // The steady watcher on A saw every change (A's and B's) in order.
  const int64_t final_version = FeedVersion(session_id);
  std::cout << "feed versions " << start_version << " -> " << final_version
            << "\n";
  EXPECT_GE(final_version - start_version, kParticipants);
  std::vector<int64_t> expected;
  for (int64_t v = start_version + 1; v <= final_version; ++v) {
    expected.push_back(v);
  }
  std::vector<v1::WatchAgendaResponse> seen =
      steady.WaitForVersion(final_version, absl::Seconds(20));
  EXPECT_THAT(ChangeVersions(seen), ::testing::ElementsAreArray(expected));

  // The dropped watcher resumes on B from its last version: exactly the
  // missed changes.
  std::vector<int64_t> had = ChangeVersions(before_drop);
  const int64_t last = had.empty() ? start_version : had.back();
  std::cout << "dropped watcher had " << had.size() << " changes, last " << last
            << "\n";
  std::vector<int64_t> missed;
  for (int64_t v = last + 1; v <= final_version; ++v) missed.push_back(v);
  WatchReader resumed(client(1).channel(), token_, session_id, last);
  std::vector<v1::WatchAgendaResponse> got =
      missed.empty() ? resumed.WaitFor(0)
                     : resumed.WaitForVersion(final_version);
  absl::SleepFor(absl::Milliseconds(200));
  got = resumed.WaitFor(0);
  EXPECT_THAT(ChangeVersions(got), ::testing::ElementsAreArray(missed));
  for (const auto& m : got) EXPECT_FALSE(m.has_snapshot());
  std::vector<int64_t> combined = had;
  std::vector<int64_t> rest = ChangeVersions(got);
  combined.insert(combined.end(), rest.begin(), rest.end());
  EXPECT_THAT(combined, ::testing::ElementsAreArray(expected));
}

}  // namespace
}  // namespace townhall::testing
