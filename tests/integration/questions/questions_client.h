// Helpers of the question queue tests: a QuestionService client (a stub of
// its own until the client library has one), registered session members
// with real join tokens, and a WatchQueue reader.
//
//   QuestionsClient q(channel, token);
//   absl::StatusOr<v1::SubmitQuestionResponse> r = q.SubmitQuestion(request);
//   QueueWatcher watch(channel, token, session_id);
//   watch.WaitFor(1);  // the snapshot
#pragma once

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "clients/cpp/townhall_client.h"
#include "services/common/auth/jwt.h"
#include "services/common/ids.h"
#include "services/common/proto_time.h"
#include "tests/testing/stream_reader.h"
#include "tests/testing/test_server.h"
#include "townhall/v1/questions.grpc.pb.h"

namespace townhall::testing {

// Server trailing metadata of one call (e.g. "retry-after-ms").
using Trailers = std::multimap<std::string, std::string>;

// A typed QuestionService client over a shared channel with one token.
class QuestionsClient {
 public:
  QuestionsClient(std::shared_ptr<grpc::Channel> channel, std::string token)
      : channel_(std::move(channel)),
        stub_(v1::QuestionService::NewStub(channel_)),
        token_(std::move(token)) {}

  const std::string& token() const { return token_; }
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }

#define TH_QUESTIONS_RPC(Method)                                          \
  absl::StatusOr<v1::Method##Response> Method(                            \
      const v1::Method##Request& request, Trailers* trailers = nullptr)   \
      const {                                                             \
    return Invoke(&v1::QuestionService::Stub::Method, request, trailers); \
  }

  TH_QUESTIONS_RPC(SubmitQuestion)
  TH_QUESTIONS_RPC(GetQuestion)
  TH_QUESTIONS_RPC(ListQuestions)
  TH_QUESTIONS_RPC(UpvoteQuestion)
  TH_QUESTIONS_RPC(WithdrawVote)
  TH_QUESTIONS_RPC(ApproveQuestion)
  TH_QUESTIONS_RPC(RejectQuestion)
  TH_QUESTIONS_RPC(PinQuestion)
  TH_QUESTIONS_RPC(UnpinQuestion)
  TH_QUESTIONS_RPC(MarkAnswered)
  TH_QUESTIONS_RPC(ArchiveQuestion)
  TH_QUESTIONS_RPC(MergeQuestions)
  TH_QUESTIONS_RPC(UndoModeration)
  TH_QUESTIONS_RPC(SuggestDuplicates)
  TH_QUESTIONS_RPC(ListModerationLog)
  TH_QUESTIONS_RPC(GetQueueSettings)
  TH_QUESTIONS_RPC(UpdateQueueSettings)
  TH_QUESTIONS_RPC(GetQuestionPolicy)
  TH_QUESTIONS_RPC(UpdateQuestionPolicy)
  TH_QUESTIONS_RPC(CarryOverQuestions)
  TH_QUESTIONS_RPC(ExportQuestions)
  TH_QUESTIONS_RPC(ExportModerationLog)
#undef TH_QUESTIONS_RPC

  // The questions of `view` in `order`, every page (page_size `page_size`).
  absl::StatusOr<std::vector<v1::Question>> ListAll(
      const std::string& session_id,
      v1::ListQuestionsRequest::View view = v1::ListQuestionsRequest::VIEW_ALL,
      v1::ListQuestionsRequest::Order order =
          v1::ListQuestionsRequest::ORDER_UNSPECIFIED,
      int page_size = 100) const {
    v1::ListQuestionsRequest request;
    request.set_session_id(session_id);
    request.set_view(view);
    request.set_order(order);
    request.set_page_size(page_size);
    std::vector<v1::Question> out;
    for (int pages = 0; pages < 1000; ++pages) {
      absl::StatusOr<v1::ListQuestionsResponse> page = ListQuestions(request);
      if (!page.ok()) return page.status();
      out.insert(out.end(), page->questions().begin(), page->questions().end());
      if (page->next_page_token().empty()) return out;
      request.set_page_token(page->next_page_token());
    }
    return absl::InternalError("ListQuestions: more than 1000 pages");
  }

  absl::StatusOr<v1::Question> Get(const std::string& session_id,
                                   const std::string& question_id) const {
    v1::GetQuestionRequest request;
    request.set_session_id(session_id);
    request.set_question_id(question_id);
    absl::StatusOr<v1::GetQuestionResponse> got = GetQuestion(request);
    if (!got.ok()) return got.status();
    return got->question();
  }

  absl::StatusOr<v1::UpvoteQuestionResponse> Vote(
      const std::string& session_id, const std::string& question_id,
      const std::string& participant_id, Trailers* trailers = nullptr) const {
    v1::UpvoteQuestionRequest request;
    request.set_session_id(session_id);
    request.set_question_id(question_id);
    request.set_participant_id(participant_id);
    return UpvoteQuestion(request, trailers);
  }

  absl::StatusOr<v1::WithdrawVoteResponse> Withdraw(
      const std::string& session_id, const std::string& question_id,
      const std::string& participant_id) const {
    v1::WithdrawVoteRequest request;
    request.set_session_id(session_id);
    request.set_question_id(question_id);
    request.set_participant_id(participant_id);
    return WithdrawVote(request);
  }

  absl::StatusOr<v1::Question> Approve(
      const std::string& session_id, const std::string& question_id,
      const std::string& edited_text = "") const {
    v1::ApproveQuestionRequest request;
    request.set_session_id(session_id);
    request.set_question_id(question_id);
    request.set_edited_text(edited_text);
    absl::StatusOr<v1::ApproveQuestionResponse> r = ApproveQuestion(request);
    if (!r.ok()) return r.status();
    return r->question();
  }

  absl::StatusOr<v1::Question> Reject(const std::string& session_id,
                                      const std::string& question_id,
                                      const std::string& reason) const {
    v1::RejectQuestionRequest request;
    request.set_session_id(session_id);
    request.set_question_id(question_id);
    request.set_reason(reason);
    absl::StatusOr<v1::RejectQuestionResponse> r = RejectQuestion(request);
    if (!r.ok()) return r.status();
    return r->question();
  }

  absl::StatusOr<v1::PinQuestionResponse> Pin(
      const std::string& session_id, const std::string& question_id) const {
    v1::PinQuestionRequest request;
    request.set_session_id(session_id);
    request.set_question_id(question_id);
    return PinQuestion(request);
  }

  absl::StatusOr<v1::Question> Unpin(const std::string& session_id,
                                     const std::string& question_id) const {
    v1::UnpinQuestionRequest request;
    request.set_session_id(session_id);
    request.set_question_id(question_id);
    absl::StatusOr<v1::UnpinQuestionResponse> r = UnpinQuestion(request);
    if (!r.ok()) return r.status();
    return r->question();
  }

  absl::StatusOr<v1::Question> Answer(const std::string& session_id,
                                      const std::string& question_id,
                                      const std::string& answer = "") const {
    v1::MarkAnsweredRequest request;
    request.set_session_id(session_id);
    request.set_question_id(question_id);
    request.set_answer(answer);
    absl::StatusOr<v1::MarkAnsweredResponse> r = MarkAnswered(request);
    if (!r.ok()) return r.status();
    return r->question();
  }

  absl::StatusOr<v1::Question> Archive(const std::string& session_id,
                                       const std::string& question_id) const {
    v1::ArchiveQuestionRequest request;
    request.set_session_id(session_id);
    request.set_question_id(question_id);
    absl::StatusOr<v1::ArchiveQuestionResponse> r = ArchiveQuestion(request);
    if (!r.ok()) return r.status();
    return r->question();
  }

  absl::StatusOr<v1::MergeQuestionsResponse> Merge(
      const std::string& session_id, const std::string& target,
      const std::vector<std::string>& duplicates) const {
    v1::MergeQuestionsRequest request;
    request.set_session_id(session_id);
    request.set_target_question_id(target);
    for (const std::string& d : duplicates) {
      request.add_duplicate_question_ids(d);
    }
    return MergeQuestions(request);
  }

  absl::StatusOr<v1::UndoModerationResponse> Undo(
      const std::string& session_id) const {
    v1::UndoModerationRequest request;
    request.set_session_id(session_id);
    return UndoModeration(request);
  }

  absl::StatusOr<std::vector<v1::ModerationAction>> Log(
      const std::string& session_id, int page_size = 0) const {
    v1::ListModerationLogRequest request;
    request.set_session_id(session_id);
    request.set_page_size(page_size);
    std::vector<v1::ModerationAction> out;
    for (int pages = 0; pages < 1000; ++pages) {
      absl::StatusOr<v1::ListModerationLogResponse> page =
          ListModerationLog(request);
      if (!page.ok()) return page.status();
      out.insert(out.end(), page->actions().begin(), page->actions().end());
      if (page->next_page_token().empty()) return out;
      request.set_page_token(page->next_page_token());
    }
    return absl::InternalError("ListModerationLog: more than 1000 pages");
  }

  absl::StatusOr<v1::QueueSettings> SetSettings(
      const std::string& session_id, const v1::QueueSettings& settings) const {
    v1::UpdateQueueSettingsRequest request;
    request.set_session_id(session_id);
    *request.mutable_settings() = settings;
    absl::StatusOr<v1::UpdateQueueSettingsResponse> r =
        UpdateQueueSettings(request);
    if (!r.ok()) return r.status();
    return r->settings();
  }

 private:
  template <typename Request, typename Response>
  absl::StatusOr<Response> Invoke(
      grpc::Status (v1::QuestionService::Stub::*method)(grpc::ClientContext*,
                                                        const Request&,
                                                        Response*),
      const Request& request, Trailers* trailers) const {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
    if (!token_.empty()) {
      context.AddMetadata("authorization", absl::StrCat("Bearer ", token_));
    }
    Response response;
    grpc::Status status = (stub_.get()->*method)(&context, request, &response);
    if (trailers != nullptr) {
      trailers->clear();
      for (const auto& [key, value] : context.GetServerTrailingMetadata()) {
        trailers->emplace(std::string(key.data(), key.size()),
                          std::string(value.data(), value.size()));
      }
    }
    if (!status.ok()) {
      return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                          status.error_message());
    }
    return response;
  }

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::QuestionService::Stub> stub_;
  std::string token_;
};

// A participant and its organization; for a registered member of a session
// also its join token (RegistrationService.IssueJoinToken).
struct Member {
  std::string participant_id;
  std::string organization_id;
  std::string token;
};

// Creates a participant (in an organization of its own unless
// `organization_id` is given), registered nowhere; returns its Member
// without a token.
inline absl::StatusOr<Member> NewParticipant(TownhallClient& organizer,
                                             const std::string& name,
                                             std::string organization_id = "") {
  const std::string unique = NewId();
  if (organization_id.empty()) {
    v1::CreateOrganizationRequest org;
    org.mutable_organization()->set_name(
        absl::StrCat(name, " jamiyati ", unique));
    org.mutable_organization()->set_country_code("RU");
    org.mutable_organization()->set_city("Moskva");
    absl::StatusOr<v1::CreateOrganizationResponse> made =
        organizer.CreateOrganization(org);
    if (!made.ok()) return made.status();
    organization_id = made->organization().id();
  }
  v1::CreateParticipantRequest person;
  person.mutable_participant()->set_display_name(
      absl::StrCat(name, " ", unique));
  person.mutable_participant()->set_organization_id(organization_id);
  person.mutable_participant()->set_email(
      absl::StrCat("p-", unique, "@example.org"));
  absl::StatusOr<v1::CreateParticipantResponse> made =
      organizer.CreateParticipant(person);
  if (!made.ok()) return made.status();
  return Member{made->participant().id(), organization_id, ""};
}

// Creates a participant (NewParticipant), registers it in `session_id` with
// `role` and issues its join token.
inline absl::StatusOr<Member> NewMember(
    TownhallClient& organizer, const std::string& session_id,
    const std::string& name,
    v1::SessionRole role = v1::SESSION_ROLE_PARTICIPANT,
    std::string organization_id = "") {
  absl::StatusOr<Member> member =
      NewParticipant(organizer, name, std::move(organization_id));
  if (!member.ok()) return member;
  v1::RegisterRequest reg;
  reg.set_session_id(session_id);
  reg.set_participant_id(member->participant_id);
  reg.set_role(role);
  absl::StatusOr<v1::RegisterResponse> registered = organizer.Register(reg);
  if (!registered.ok()) return registered.status();
  if (registered->registration().status() !=
      v1::REGISTRATION_STATUS_CONFIRMED) {
    return absl::InternalError(
        absl::StrCat("registration of ", name, " is not CONFIRMED"));
  }
  v1::IssueJoinTokenRequest issue;
  issue.set_session_id(session_id);
  issue.set_participant_id(member->participant_id);
  absl::StatusOr<v1::IssueJoinTokenResponse> token =
      organizer.IssueJoinToken(issue);
  if (!token.ok()) return token.status();
  member->token = token->token();
  return member;
}

// An API key token of `tenant_id` with `scopes` (ScopeBit()s), signed with
// the test keys.
inline std::string ApiKeyToken(const std::string& tenant_id, uint32_t scopes) {
  absl::Time now = absl::Now();
  TokenClaims claims{.tenant_id = tenant_id,
                     .subject = "api-key:portal",
                     .role = Role::kApiClient,
                     .issue_time = now,
                     .expire_time = now + absl::Hours(1),
                     .scopes = scopes,
                     .token_id = absl::StrCat("portal-", NewId())};
  return SignTestToken(claims);
}

// A published online session starting in an hour (LIVE when `live`).
inline absl::StatusOr<v1::Session> NewQuestionsSession(
    TownhallClient& organizer, bool live = true,
    const std::string& title = "Muloqot: savol-javob") {
  v1::CreateSessionRequest request;
  v1::Session* s = request.mutable_session();
  s->set_title(title);
  SetTime(absl::Now() + absl::Hours(1), s->mutable_start_time());
  SetDuration(absl::Hours(3), s->mutable_duration());
  s->set_time_zone("Asia/Tashkent");
  s->set_format(v1::SESSION_FORMAT_ONLINE);
  s->set_join_url("https://meet.example.org/townhall");
  request.set_publish(true);
  absl::StatusOr<v1::CreateSessionResponse> created =
      organizer.CreateSession(request);
  if (!created.ok()) return created.status();
  if (!live) return created->session();
  v1::StartSessionRequest start;
  start.set_session_id(created->session().id());
  absl::StatusOr<v1::StartSessionResponse> started =
      organizer.StartSession(start);
  if (!started.ok()) return started.status();
  return started->session();
}

// A published monthly series of two online occurrences starting in an
// hour; the first is LIVE. Returns their ids in order.
inline absl::StatusOr<std::vector<std::string>> NewQuestionsSeries(
    TownhallClient& organizer, const std::string& title = "Oylik muloqot") {
  v1::CreateSeriesRequest series;
  v1::Session* tmpl = series.mutable_series()->mutable_template_();
  tmpl->set_title(title);
  SetTime(absl::Now() + absl::Hours(1), tmpl->mutable_start_time());
  SetDuration(absl::Hours(2), tmpl->mutable_duration());
  tmpl->set_time_zone("Asia/Tashkent");
  tmpl->set_format(v1::SESSION_FORMAT_ONLINE);
  tmpl->set_join_url("https://meet.example.org/townhall");
  series.mutable_series()->set_rrule("FREQ=MONTHLY;COUNT=2");
  series.set_publish(true);
  absl::StatusOr<v1::CreateSeriesResponse> made =
      organizer.CreateSeries(series);
  if (!made.ok()) return made.status();
  std::vector<std::string> ids(made->series().session_ids().begin(),
                               made->series().session_ids().end());
  if (ids.size() != 2) {
    return absl::InternalError(
        absl::StrCat("expected 2 occurrences, got ", ids.size()));
  }
  v1::StartSessionRequest start;
  start.set_session_id(ids[0]);
  absl::Status started = organizer.StartSession(start).status();
  if (!started.ok()) return started;
  return ids;
}

// Reads a WatchQueue stream on its own thread and keeps every message.
class QueueWatcher : public StreamReader<v1::WatchQueueResponse> {
 public:
  QueueWatcher(std::shared_ptr<grpc::Channel> channel, const std::string& token,
               const std::string& session_id, int64_t after_version = 0,
               const std::string& agenda_item_id = "")
      : StreamReader(
            token,
            [stub = std::shared_ptr(v1::QuestionService::NewStub(channel)),
             session_id, after_version,
             agenda_item_id](grpc::ClientContext* context) {
              v1::WatchQueueRequest request;
              request.set_session_id(session_id);
              request.set_after_version(after_version);
              request.set_agenda_item_id(agenda_item_id);
              return stub->WatchQueue(context, request);
            }) {}

  // Waits until a change of `kind` about `question_id` arrived.
  std::vector<v1::WatchQueueResponse> WaitForChange(
      const std::string& kind, const std::string& question_id = "",
      absl::Duration timeout = absl::Seconds(10)) {
    return WaitUntil(
        [&](const std::vector<v1::WatchQueueResponse>& got) {
          for (const auto& m : got) {
            if (!m.has_change() || m.change().kind() != kind) continue;
            if (question_id.empty()) return true;
            for (const auto& q : m.change().questions()) {
              if (q.id() == question_id) return true;
            }
            for (const auto& v : m.change().votes()) {
              if (v.question_id() == question_id) return true;
            }
          }
          return false;
        },
        timeout);
  }
};

// The first message of a fresh WatchQueue: the snapshot (its version is
// the feed position).
inline absl::StatusOr<v1::QueueSnapshot> QueueSnapshotOf(
    const std::shared_ptr<grpc::Channel>& channel, const std::string& token,
    const std::string& session_id) {
  QueueWatcher watcher(channel, token, session_id);
  std::vector<v1::WatchQueueResponse> got = watcher.WaitFor(1);
  if (got.empty()) {
    absl::StatusOr<grpc::Status> ended = watcher.Ended(absl::Seconds(1));
    if (ended.ok() && !ended->ok()) {
      return absl::Status(static_cast<absl::StatusCode>(ended->error_code()),
                          ended->error_message());
    }
    return absl::DeadlineExceededError("WatchQueue sent nothing");
  }
  if (!got[0].has_snapshot()) {
    return absl::InternalError("WatchQueue did not start with a snapshot");
  }
  return got[0].snapshot();
}

// Whether the lower-cased `message` names `word` (lower-cased).
inline bool MentionsIgnoringCase(absl::string_view message,
                                 absl::string_view word) {
  return absl::StrContains(absl::AsciiStrToLower(message),
                           absl::AsciiStrToLower(word));
}

}  // namespace townhall::testing
