// Helpers of the agenda tests and of other tests that watch an agenda:
// sessions, join tokens, a WatchAgenda reader. They need no shared server;
// agenda_fixture.h adds the helpers that do.
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
#include "tests/testing/stream_reader.h"
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
class WatchReader : public StreamReader<v1::WatchAgendaResponse> {
 public:
  WatchReader(std::shared_ptr<grpc::Channel> channel, const std::string& token,
              const std::string& session_id, int64_t after_version = 0)
      : StreamReader(
            token, [stub = std::shared_ptr(v1::AgendaService::NewStub(channel)),
                    session_id, after_version](grpc::ClientContext* context) {
              v1::WatchAgendaRequest request;
              request.set_session_id(session_id);
              request.set_after_version(after_version);
              return stub->WatchAgenda(context, request);
            }) {}
};

}  // namespace townhall::testing
