// The agenda integration tests' fixture: helpers on the shared in-process
// server (shared_server.h: include this header in exactly one .cc of a test
// binary), each test in a tenant of its own, and AgendaLiveTest, a fixture
// with a session and one item for the speakers' queue and watch tests.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/agenda/agenda_keys.h"
#include "services/common/auth/jwt.h"
#include "services/common/change_feed.h"
#include "services/common/redis/redis_connection.h"
#include "tests/integration/agenda/agenda_test_util.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/shared_server.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_server.h"

namespace townhall::testing {

inline google::protobuf::Timestamp Ts(absl::Time t) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(absl::ToUnixSeconds(t));
  return ts;
}

inline google::protobuf::Duration Dur(absl::Duration d) {
  google::protobuf::Duration out;
  out.set_seconds(absl::ToInt64Seconds(d));
  return out;
}

inline RedisConnection& Redis() {
  static RedisConnection* redis = [] {
    return new RedisConnection(SharedRedisOptions());
  }();
  redis->set_deadline(absl::Now() + absl::Seconds(5));
  return *redis;
}

inline absl::StatusOr<v1::Session> NewSession(
    Tenant& t, bool live = true,
    const std::string& title = "Dialogue with compatriots abroad") {
  v1::CreateSessionRequest request;
  v1::Session* s = request.mutable_session();
  s->set_title(title);
  *s->mutable_start_time() = Ts(absl::Now() + absl::Hours(1));
  *s->mutable_duration() = Dur(absl::Hours(3));
  s->set_time_zone("Asia/Tashkent");
  s->set_format(v1::SESSION_FORMAT_ONLINE);
  s->set_join_url("https://meet.example.org/townhall");
  request.set_publish(true);
  absl::StatusOr<v1::CreateSessionResponse> created =
      t.client.CreateSession(request);
  if (!created.ok()) return created.status();
  if (!live) return created->session();
  v1::StartSessionRequest start;
  start.set_session_id(created->session().id());
  absl::StatusOr<v1::StartSessionResponse> started =
      t.client.StartSession(start);
  if (!started.ok()) return started.status();
  return started->session();
}

inline absl::StatusOr<v1::AgendaItem> AddItem(
    Tenant& t, const std::string& session, const std::string& title,
    absl::Duration planned = absl::Minutes(15),
    const std::string& request_id = "") {
  v1::CreateAgendaItemRequest request;
  request.set_session_id(session);
  request.mutable_item()->set_title(title);
  *request.mutable_item()->mutable_planned_duration() = Dur(planned);
  request.set_request_id(request_id);
  absl::StatusOr<v1::CreateAgendaItemResponse> response =
      t.client.CreateAgendaItem(request);
  if (!response.ok()) return response.status();
  return response->item();
}

inline absl::StatusOr<v1::AgendaSnapshot> Agenda(Tenant& t,
                                                 const std::string& session) {
  v1::GetAgendaRequest request;
  request.set_session_id(session);
  absl::StatusOr<v1::GetAgendaResponse> response = t.client.GetAgenda(request);
  if (!response.ok()) return response.status();
  return response->agenda();
}

inline std::vector<std::string> Ids(const v1::AgendaSnapshot& agenda) {
  std::vector<std::string> ids;
  for (const auto& item : agenda.items()) ids.push_back(item.id());
  return ids;
}

inline std::vector<std::string> Titles(const v1::AgendaSnapshot& agenda) {
  std::vector<std::string> titles;
  for (const auto& item : agenda.items()) titles.push_back(item.title());
  return titles;
}

template <typename Request>
Request For(const std::string& session, const std::string& item) {
  Request request;
  request.set_session_id(session);
  request.set_agenda_item_id(item);
  return request;
}

inline absl::Status Activate(Tenant& t, const std::string& s,
                             const std::string& id) {
  return t.client.ActivateAgendaItem(For<v1::ActivateAgendaItemRequest>(s, id))
      .status();
}

inline absl::StatusOr<v1::ActionItem> AddAction(
    Tenant& t, const std::string& session, const std::string& title,
    const std::string& department, const std::string& item_id = "",
    const std::string& request_id = "") {
  v1::CreateActionItemRequest request;
  request.set_session_id(session);
  v1::ActionItem* a = request.mutable_action_item();
  a->set_title(title);
  a->set_agenda_item_id(item_id);
  a->mutable_executor()->set_department(department);
  *a->mutable_deadline() = Ts(absl::Now() + absl::Hours(24 * 60));
  request.set_request_id(request_id);
  absl::StatusOr<v1::CreateActionItemResponse> response =
      t.client.CreateActionItem(request);
  if (!response.ok()) return response.status();
  return response->action_item();
}

inline absl::StatusOr<v1::ActionItem> SetActionStatus(
    Tenant& t, const std::string& session, const std::string& id,
    v1::ActionItemStatus status, const std::string& etag = "") {
  v1::UpdateActionItemRequest request;
  request.set_session_id(session);
  request.set_action_item_id(id);
  request.set_status(status);
  request.set_note("progress");
  request.set_etag(etag);
  absl::StatusOr<v1::UpdateActionItemResponse> response =
      t.client.UpdateActionItem(request);
  if (!response.ok()) return response.status();
  return response->action_item();
}

// The kinds on the session's feed, oldest first.
inline std::vector<std::string> FeedKinds(const Tenant& t,
                                          const std::string& s) {
  absl::StatusOr<std::vector<Change>> changes =
      ReadChangesSince(Redis(), agenda::AgendaFeedKeys(t.id, s), 0, 10000);
  std::vector<std::string> kinds;
  if (!changes.ok()) {
    ADD_FAILURE() << changes.status();
    return kinds;
  }
  for (const Change& c : *changes) kinds.push_back(c.kind);
  return kinds;
}

// A join token of a session member.
inline TownhallClient MemberClient(const Tenant& t, const std::string& session,
                                   const std::string& participant,
                                   Role role = Role::kParticipant) {
  absl::Time now = absl::Now();
  TokenClaims claims{.tenant_id = t.id,
                     .subject = participant,
                     .role = role,
                     .issue_time = now,
                     .expire_time = now + absl::Hours(1),
                     .session_id = session,
                     .participant_id = participant};
  return ServerEnvironment::server().Client(SignTestToken(claims));
}

class AgendaLiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::string> token =
        ServerEnvironment::server().NewTenantToken(&tenant_);
    ASSERT_TRUE(token.ok()) << token.status();
    token_ = *token;
    organizer_ = std::make_unique<TownhallClient>(
        ServerEnvironment::server().Client(token_));
    absl::StatusOr<v1::Session> session = NewAgendaSession(*organizer_);
    ASSERT_TRUE(session.ok()) << session.status();
    session_ = *session;
    item_ = NewItem("Budget");
    ASSERT_FALSE(item_.empty());
  }

  // An agenda item through the API; "" on failure.
  std::string NewItem(const std::string& title) {
    v1::CreateAgendaItemRequest request;
    request.set_session_id(session_.id());
    request.mutable_item()->set_title(title);
    absl::StatusOr<v1::CreateAgendaItemResponse> created =
        organizer_->CreateAgendaItem(request);
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? created->item().id() : "";
  }

  // A client acting as `participant` (a join token; organization `org`).
  TownhallClient As(const std::string& participant, const std::string& org,
                    Role role = Role::kParticipant) {
    return ServerEnvironment::server().Client(
        JoinToken(tenant_, session_.id(), participant, org, role));
  }

  absl::StatusOr<v1::RaiseHandResponse> Raise(const std::string& participant,
                                              const std::string& org,
                                              const std::string& item) {
    v1::RaiseHandRequest request;
    request.set_session_id(session_.id());
    request.set_agenda_item_id(item);
    request.set_participant_id(participant);
    return As(participant, org).RaiseHand(request);
  }

  absl::StatusOr<v1::CallNextSpeakerResponse> CallNext(
      const std::string& item, const std::string& chosen = "") {
    v1::CallNextSpeakerRequest request;
    request.set_session_id(session_.id());
    request.set_agenda_item_id(item);
    request.set_speaker_participant_id(chosen);
    return organizer_->CallNextSpeaker(request);
  }

  absl::StatusOr<v1::FinishSpeakerResponse> FinishTurn(
      const std::string& item) {
    v1::FinishSpeakerRequest request;
    request.set_session_id(session_.id());
    request.set_agenda_item_id(item);
    return organizer_->FinishSpeaker(request);
  }

  absl::Status SetOptions(const std::string& item,
                          const v1::SpeakersQueueOptions& options) {
    v1::SetSpeakersQueueOptionsRequest request;
    request.set_session_id(session_.id());
    request.set_agenda_item_id(item);
    *request.mutable_options() = options;
    return organizer_->SetSpeakersQueueOptions(request).status();
  }

  std::string tenant_;
  std::string token_;
  std::unique_ptr<TownhallClient> organizer_;
  v1::Session session_;
  std::string item_;
};

inline std::vector<std::string> Ids(const v1::SpeakersQueue& queue,
                                    v1::SpeakerState state) {
  std::vector<std::string> out;
  for (const v1::Speaker& s : queue.speakers()) {
    if (s.state() == state) out.push_back(s.participant_id());
  }
  return out;
}

}  // namespace townhall::testing
