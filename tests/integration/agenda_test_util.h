// Helpers of the agenda tests: sessions, join tokens, a WatchAgenda reader.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "clients/cpp/townhall_client.h"
#include "services/common/ids.h"
#include "services/common/proto_time.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_server.h"
#include "townhall/v1/agenda.grpc.pb.h"

namespace townhall::testing {

inline absl::StatusOr<v1::Session> NewAgendaSession(TownhallClient& client) {
  v1::CreateSessionRequest request;
  v1::Session* s = request.mutable_session();
  s->set_title("Public dialogue");
  SetTime(absl::Now() + absl::Hours(24), s->mutable_start_time());
  SetDuration(absl::Hours(2), s->mutable_duration());
  s->set_time_zone("Asia/Tashkent");
  s->set_format(v1::SESSION_FORMAT_ONLINE);
  s->set_join_url("https://meet.example.org/townhall");
  request.set_publish(true);
  absl::StatusOr<v1::CreateSessionResponse> created =
      client.CreateSession(request);
  if (!created.ok()) return created.status();
  return created->session();
}

// SCHEDULED -> LIVE (items are activated only while LIVE).
inline absl::Status StartLive(TownhallClient& client,
                              const std::string& session_id) {
  v1::StartSessionRequest request;
  request.set_session_id(session_id);
  return client.StartSession(request).status();
}

// A join token of `participant_id` for `session_id`.
inline std::string JoinToken(const std::string& tenant_id,
                             const std::string& session_id,
                             const std::string& participant_id,
                             const std::string& organization_id = "",
                             Role role = Role::kParticipant) {
  TokenClaims claims;
  claims.tenant_id = tenant_id;
  claims.subject = participant_id;
  claims.role = role;
  claims.issue_time = absl::Now();
  claims.expire_time = absl::Now() + absl::Hours(1);
  claims.session_id = session_id;
  claims.participant_id = participant_id;
  claims.organization_id = organization_id;
  claims.token_id = NewId();
  return SignTestToken(claims);
}

// Reads a WatchAgenda stream on its own thread and keeps every message.
class WatchReader {
 public:
  WatchReader(std::shared_ptr<grpc::Channel> channel, const std::string& token,
              const std::string& session_id, int64_t after_version = 0)
      : stub_(v1::AgendaService::NewStub(channel)) {
    context_.AddMetadata("authorization", absl::StrCat("Bearer ", token));
    v1::WatchAgendaRequest request;
    request.set_session_id(session_id);
    request.set_after_version(after_version);
    reader_ = stub_->WatchAgenda(&context_, request);
    thread_ = std::thread([this] {
      v1::WatchAgendaResponse message;
      while (reader_->Read(&message)) {
        absl::MutexLock lock(&mu_);
        messages_.push_back(message);
      }
      grpc::Status status = reader_->Finish();
      absl::MutexLock lock(&mu_);
      status_ = status;
      done_ = true;
    });
  }
  ~WatchReader() { Cancel(); }

  void Cancel() {
    context_.TryCancel();
    if (thread_.joinable()) thread_.join();
  }

  // Waits until `n` messages arrived (or the stream ended); all so far.
  std::vector<v1::WatchAgendaResponse> WaitFor(
      size_t n, absl::Duration timeout = absl::Seconds(10)) {
    absl::MutexLock lock(&mu_);
    auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return done_ || messages_.size() >= n;
    };
    mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
    return messages_;
  }
  // Waits until the last change carries `version`.
  std::vector<v1::WatchAgendaResponse> WaitForVersion(
      int64_t version, absl::Duration timeout = absl::Seconds(10)) {
    absl::MutexLock lock(&mu_);
    auto reached = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      if (done_) return true;
      for (const auto& m : messages_) {
        if (m.has_change() && m.change().version() >= version) return true;
        if (m.has_snapshot() && m.snapshot().version() >= version) return true;
      }
      return false;
    };
    mu_.AwaitWithTimeout(absl::Condition(&reached), timeout);
    return messages_;
  }
  // The stream's status once it ended (waits up to `timeout`).
  absl::StatusOr<grpc::Status> Ended(absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto done = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return done_; };
    if (!mu_.AwaitWithTimeout(absl::Condition(&done), timeout)) {
      return absl::DeadlineExceededError("stream still open");
    }
    return status_;
  }

 private:
  std::unique_ptr<v1::AgendaService::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<v1::WatchAgendaResponse>> reader_;
  std::thread thread_;
  absl::Mutex mu_;
  std::vector<v1::WatchAgendaResponse> messages_ ABSL_GUARDED_BY(mu_);
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
  bool done_ ABSL_GUARDED_BY(mu_) = false;
};

// The versions of the changes among `messages` (snapshots give none).
inline std::vector<int64_t> ChangeVersions(
    const std::vector<v1::WatchAgendaResponse>& messages) {
  std::vector<int64_t> out;
  for (const auto& m : messages) {
    if (m.has_change()) out.push_back(m.change().version());
  }
  return out;
}

}  // namespace townhall::testing
