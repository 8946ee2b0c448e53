#include "clients/cpp/console/resuming_watch.h"

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "clients/cpp/console/console_test_util.h"
#include "townhall/v1/agenda.grpc.pb.h"

namespace townhall::console {
namespace {

using ::testing::ElementsAre;
using namespace ::townhall::console::testing;  // NOLINT: message builders

// A WatchAgenda that drops its first stream after two messages, as a
// restarting server does, then serves the resume.
class FlakyAgenda final : public v1::AgendaService::Service {
 public:
  grpc::Status WatchAgenda(
      grpc::ServerContext* context, const v1::WatchAgendaRequest* request,
      grpc::ServerWriter<v1::WatchAgendaResponse>* writer) override {
    int call;
    {
      absl::MutexLock lock(&mu_);
      call = static_cast<int>(after_versions_.size());
      after_versions_.push_back(request->after_version());
      auto auth = context->client_metadata().find("authorization");
      if (auth != context->client_metadata().end()) {
        tokens_.emplace_back(auth->second.data(), auth->second.size());
      }
    }
    if (call == 0) {
      writer->Write(AgendaSnapshot(5, {}));
      writer->Write(
          ItemChange(6, "agenda.item.created",
                     MakeItem("i1", v1::AGENDA_ITEM_STATUS_PENDING, 0)));
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "restarting");
    }
    if (call == 1) {
      writer->Write(
          ItemChange(request->after_version() + 1, "agenda.item.activated",
                     MakeItem("i1", v1::AGENDA_ITEM_STATUS_ACTIVE, 0)));
    }
    // Then quiet until the client goes away.
    while (!context->IsCancelled()) absl::SleepFor(absl::Milliseconds(10));
    return grpc::Status::CANCELLED;
  }

  std::vector<int64_t> after_versions() {
    absl::MutexLock lock(&mu_);
    return after_versions_;
  }
  std::vector<std::string> tokens() {
    absl::MutexLock lock(&mu_);
    return tokens_;
  }

 private:
  absl::Mutex mu_;
  std::vector<int64_t> after_versions_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> tokens_ ABSL_GUARDED_BY(mu_);
};

class ResumingWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int port = 0;
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                   grpc::InsecureChannelCredentials());
    stub_ = v1::AgendaService::NewStub(channel_);
  }
  void TearDown() override { server_->Shutdown(); }

  std::unique_ptr<ResumingWatch<v1::WatchAgendaResponse>> Start() {
    return std::make_unique<ResumingWatch<v1::WatchAgendaResponse>>(
        channel_,
        [this](grpc::ClientContext* context, int64_t after_version) {
          v1::WatchAgendaRequest request;
          request.set_session_id("s1");
          request.set_after_version(after_version);
          return stub_->WatchAgenda(context, request);
        },
        ResumingWatch<v1::WatchAgendaResponse>::Callbacks{
            .prepare =
                [](grpc::ClientContext* context) {
                  context->AddMetadata("authorization", "Bearer t0ken");
                },
            .on_message =
                [this](const v1::WatchAgendaResponse& message) {
                  absl::MutexLock lock(&mu_);
                  state_.Apply(message, absl::Now());
                  bool snapshot;
                  versions_.push_back(FeedVersion(message, &snapshot));
                },
            .on_status =
                [this](const StreamStatus& status) {
                  absl::MutexLock lock(&mu_);
                  statuses_.push_back(status);
                }},
        WatchOptions{.initial_backoff = absl::Milliseconds(20),
                     .max_backoff = absl::Milliseconds(100)});
  }

  // Waits until `n` messages arrived (or 10 s passed).
  void WaitForMessages(size_t n) {
    absl::MutexLock lock(&mu_);
    wanted_ = n;
    mu_.AwaitWithTimeout(absl::Condition(this, &ResumingWatchTest::HasWanted),
                         absl::Seconds(10));
  }
  bool HasWanted() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return versions_.size() >= wanted_;
  }

  FlakyAgenda service_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::AgendaService::Stub> stub_;
  absl::Mutex mu_;
  AgendaState state_ ABSL_GUARDED_BY(mu_);
  std::vector<int64_t> versions_ ABSL_GUARDED_BY(mu_);
  std::vector<StreamStatus> statuses_ ABSL_GUARDED_BY(mu_);
  size_t wanted_ ABSL_GUARDED_BY(mu_) = 0;
};

TEST_F(ResumingWatchTest, ResumesAfterTheLastVersionItDelivered) {
  auto watch = Start();
  WaitForMessages(3);
  watch->Stop();
  EXPECT_THAT(service_.after_versions(), ElementsAre(0, 6));
  EXPECT_THAT(service_.tokens(), ElementsAre("Bearer t0ken", "Bearer t0ken"));
  absl::MutexLock lock(&mu_);
  EXPECT_THAT(versions_, ElementsAre(5, 6, 7));
  // Nothing lost: the item created on the first stream is the one the
  // resumed stream activated.
  ASSERT_NE(state_.active_item(), nullptr);
  EXPECT_EQ(state_.active_item()->id(), "i1");
  EXPECT_EQ(state_.version(), 7);
  bool reconnecting = false;
  for (const StreamStatus& status : statuses_) {
    if (status.state == StreamStatus::State::kReconnecting) {
      reconnecting = true;
      EXPECT_EQ(status.error, absl::UnavailableError("restarting"));
    }
  }
  EXPECT_TRUE(reconnecting);
  EXPECT_EQ(statuses_.back().state, StreamStatus::State::kLive);
}

TEST_F(ResumingWatchTest, StopEndsAQuietStreamPromptly) {
  auto watch = Start();
  WaitForMessages(3);
  absl::Time start = absl::Now();
  watch->Stop();
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  size_t seen;
  {
    absl::MutexLock lock(&mu_);
    seen = statuses_.size();
  }
  absl::SleepFor(absl::Milliseconds(100));
  absl::MutexLock lock(&mu_);
  EXPECT_EQ(statuses_.size(), seen);  // no callback after Stop
}

TEST(ResumingWatchDownTest, KeepsRetryingWhileTheServerIsDown) {
  // A port nobody listens on.
  auto channel =
      grpc::CreateChannel("127.0.0.1:1", grpc::InsecureChannelCredentials());
  auto stub = v1::AgendaService::NewStub(channel);
  absl::Mutex mu;
  int failures = 0;
  ResumingWatch<v1::WatchAgendaResponse> watch(
      channel,
      [&](grpc::ClientContext* context, int64_t after_version) {
        v1::WatchAgendaRequest request;
        request.set_after_version(after_version);
        return stub->WatchAgenda(context, request);
      },
      {.on_message = [](const v1::WatchAgendaResponse&) {},
       .on_status =
           [&](const StreamStatus& status) {
             absl::MutexLock lock(&mu);
             if (status.state == StreamStatus::State::kReconnecting) {
               EXPECT_EQ(status.error.code(), absl::StatusCode::kUnavailable);
               ++failures;
             }
           }},
      WatchOptions{.initial_backoff = absl::Milliseconds(10),
                   .max_backoff = absl::Milliseconds(20),
                   .connect_wait = absl::Milliseconds(10)});
  absl::MutexLock lock(&mu);
  EXPECT_TRUE(
      mu.AwaitWithTimeout(absl::Condition(
                              +[](int* n) { return *n >= 3; }, &failures),
                          absl::Seconds(10)));
}

}  // namespace
}  // namespace townhall::console
