// TownhallClient against a fake server that fails on cue: which codes are
// retried, that every attempt carries the same request_id, and that the
// attempts stay within max_attempts and the deadline.
#include "clients/cpp/townhall_client.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"

namespace townhall {
namespace {

// Answers the first `failures` calls with `failure`, later ones with OK, and
// records the request_id of every CreateSession it gets.
class FakeScheduling final : public v1::SchedulingService::Service {
 public:
  void FailNext(int failures, grpc::Status failure) {
    absl::MutexLock lock(&mu_);
    failures_ = failures;
    failure_ = std::move(failure);
  }
  std::vector<std::string> request_ids() {
    absl::MutexLock lock(&mu_);
    return request_ids_;
  }
  int calls() {
    absl::MutexLock lock(&mu_);
    return calls_;
  }

  grpc::Status CreateSession(grpc::ServerContext*,
                             const v1::CreateSessionRequest* request,
                             v1::CreateSessionResponse* response) override {
    absl::MutexLock lock(&mu_);
    request_ids_.push_back(request->request_id());
    if (grpc::Status failed = Answer(); !failed.ok()) return failed;
    response->mutable_session()->set_id("s1");
    response->mutable_session()->set_title(request->session().title());
    return grpc::Status::OK;
  }

  grpc::Status GetSession(grpc::ServerContext*,
                          const v1::GetSessionRequest* request,
                          v1::GetSessionResponse* response) override {
    absl::MutexLock lock(&mu_);
    if (grpc::Status failed = Answer(); !failed.ok()) return failed;
    response->mutable_session()->set_id(request->session_id());
    return grpc::Status::OK;
  }

 private:
  grpc::Status Answer() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    ++calls_;
    if (failures_ == 0) return grpc::Status::OK;
    --failures_;
    return failure_;
  }

  absl::Mutex mu_;
  int failures_ ABSL_GUARDED_BY(mu_) = 0;
  grpc::Status failure_ ABSL_GUARDED_BY(mu_);
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::string> request_ids_ ABSL_GUARDED_BY(mu_);
};

class FakeAgenda final : public v1::AgendaService::Service {
 public:
  grpc::Status WatchAgenda(
      grpc::ServerContext*, const v1::WatchAgendaRequest* request,
      grpc::ServerWriter<v1::WatchAgendaResponse>* writer) override {
    v1::WatchAgendaResponse message;
    message.mutable_snapshot()->set_session_id(request->session_id());
    writer->Write(message);
    message.mutable_change()->set_version(7);
    writer->Write(message);
    return grpc::Status(grpc::StatusCode::ABORTED, "stream over");
  }
};

const grpc::Status kUnavailable(grpc::StatusCode::UNAVAILABLE,
                                "storage unavailable");

class TownhallClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    builder.RegisterService(&scheduling_);
    builder.RegisterService(&agenda_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    address_ = "127.0.0.1:" + std::to_string(port);
  }
  void TearDown() override { server_->Shutdown(); }

  TownhallClient Client(RetryPolicy retry = FastRetries()) {
    return TownhallClient({.address = address_, .retry = retry});
  }
  static RetryPolicy FastRetries() {
    return {.max_attempts = 4,
            .initial_backoff = absl::Milliseconds(1),
            .max_backoff = absl::Milliseconds(5)};
  }

  FakeScheduling scheduling_;
  FakeAgenda agenda_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
};

const google::protobuf::MethodDescriptor* Method(const std::string& name) {
  return google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(
      "townhall.v1." + name);
}

v1::CreateSessionRequest NewSession() {
  v1::CreateSessionRequest request;
  request.mutable_session()->set_title("Open Day");
  return request;
}

TEST_F(TownhallClientTest, RetriesUnavailableWithOneGeneratedRequestId) {
  scheduling_.FailNext(2, kUnavailable);
  absl::StatusOr<v1::CreateSessionResponse> created =
      Client().CreateSession(NewSession());
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->session().title(), "Open Day");
  std::vector<std::string> ids = scheduling_.request_ids();
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_FALSE(ids[0].empty());
  EXPECT_EQ(ids[1], ids[0]);
  EXPECT_EQ(ids[2], ids[0]);
}

TEST_F(TownhallClientTest, KeepsTheCallersRequestId) {
  scheduling_.FailNext(1, kUnavailable);
  v1::CreateSessionRequest request = NewSession();
  request.set_request_id("open-day-2027-03");
  ASSERT_TRUE(Client().CreateSession(request).ok());
  EXPECT_EQ(scheduling_.request_ids(),
            std::vector<std::string>({"open-day-2027-03", "open-day-2027-03"}));
}

TEST_F(TownhallClientTest, EveryCallGetsItsOwnRequestId) {
  TownhallClient client = Client();
  ASSERT_TRUE(client.CreateSession(NewSession()).ok());
  ASSERT_TRUE(client.CreateSession(NewSession()).ok());
  std::vector<std::string> ids = scheduling_.request_ids();
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_NE(ids[0], ids[1]);
}

TEST_F(TownhallClientTest, OtherCodesAreNotRetried) {
  for (grpc::StatusCode code :
       {grpc::StatusCode::NOT_FOUND, grpc::StatusCode::PERMISSION_DENIED,
        grpc::StatusCode::ABORTED, grpc::StatusCode::DEADLINE_EXCEEDED,
        grpc::StatusCode::INTERNAL}) {
    int before = scheduling_.calls();
    scheduling_.FailNext(1, grpc::Status(code, "no"));
    v1::GetSessionRequest get;
    get.set_session_id("x");
    absl::StatusOr<v1::GetSessionResponse> got = Client().GetSession(get);
    EXPECT_EQ(static_cast<int>(got.status().code()), static_cast<int>(code));
    EXPECT_EQ(got.status().message(), "no");
    EXPECT_EQ(scheduling_.calls() - before, 1) << code;
  }
}

TEST_F(TownhallClientTest, GivesUpAfterMaxAttemptsWithTheServersAnswer) {
  scheduling_.FailNext(100, kUnavailable);
  RetryPolicy three = FastRetries();
  three.max_attempts = 3;
  absl::StatusOr<v1::CreateSessionResponse> created =
      Client(three).CreateSession(NewSession());
  EXPECT_EQ(created.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(created.status().message(), "storage unavailable");
  EXPECT_EQ(scheduling_.calls(), 3);
}

TEST_F(TownhallClientTest, CallOptionsCanTurnRetriesOff) {
  scheduling_.FailNext(100, kUnavailable);
  EXPECT_FALSE(Client().CreateSession(NewSession(), {.max_attempts = 1}).ok());
  EXPECT_EQ(scheduling_.calls(), 1);
}

TEST_F(TownhallClientTest, NoWaitBeyondTheDeadline) {
  scheduling_.FailNext(100, kUnavailable);
  RetryPolicy slow = {.max_attempts = 10,
                      .initial_backoff = absl::Seconds(2),
                      .max_backoff = absl::Seconds(2)};
  absl::Time start = absl::Now();
  absl::StatusOr<v1::CreateSessionResponse> created =
      Client(slow).CreateSession(NewSession(),
                                 {.deadline = absl::Milliseconds(500)});
  EXPECT_EQ(created.status().code(), absl::StatusCode::kUnavailable);
  // The first backoff (1 to 2 s) does not fit in 500 ms: one attempt, and
  // the answer comes at once instead of at the deadline.
  EXPECT_EQ(scheduling_.calls(), 1);
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(400));
}

TEST_F(TownhallClientTest, CallMethodRetriesLikeTheTypedMethods) {
  scheduling_.FailNext(2, kUnavailable);
  const google::protobuf::MethodDescriptor* method =
      Method("SchedulingService.CreateSession");
  ASSERT_NE(method, nullptr);
  v1::CreateSessionRequest request = NewSession();
  v1::CreateSessionResponse response;
  ASSERT_TRUE(Client().CallMethod(*method, request, &response).ok());
  EXPECT_EQ(response.session().id(), "s1");
  EXPECT_TRUE(request.request_id().empty()) << "the caller's copy is unchanged";
  std::vector<std::string> ids = scheduling_.request_ids();
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_FALSE(ids[0].empty());
  EXPECT_EQ(ids[2], ids[0]);
}

TEST_F(TownhallClientTest, CallMethodReportsTheServersError) {
  scheduling_.FailNext(
      1, grpc::Status(grpc::StatusCode::NOT_FOUND, "session x not found"));
  const google::protobuf::MethodDescriptor* method =
      Method("SchedulingService.GetSession");
  v1::GetSessionRequest request;
  request.set_session_id("x");
  v1::GetSessionResponse response;
  absl::Status status = Client().CallMethod(*method, request, &response);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(status.message(), "session x not found");
}

TEST_F(TownhallClientTest, WatchDeliversEveryMessageThenTheEnd) {
  const google::protobuf::MethodDescriptor* method =
      Method("AgendaService.WatchAgenda");
  v1::WatchAgendaRequest request;
  request.set_session_id("s1");
  std::vector<std::string> seen;
  absl::Status ended = Client().Watch(
      *method, request, [&](const google::protobuf::Message& message) {
        seen.push_back(message.ShortDebugString());
      });
  EXPECT_EQ(ended.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(ended.message(), "stream over");
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], "snapshot { session_id: \"s1\" }");
  EXPECT_EQ(seen[1], "change { version: 7 }");
}

TEST(FillRequestId, OnlyAnEmptyRequestIdField) {
  v1::CreateSessionRequest empty;
  EXPECT_TRUE(FillRequestId(empty));
  EXPECT_FALSE(empty.request_id().empty());
  EXPECT_LE(empty.request_id().size(), 64u);
  v1::CreateSessionRequest set;
  set.set_request_id("mine");
  EXPECT_FALSE(FillRequestId(set));
  EXPECT_EQ(set.request_id(), "mine");
  v1::GetSessionRequest none;
  EXPECT_FALSE(FillRequestId(none));
}

}  // namespace
}  // namespace townhall
