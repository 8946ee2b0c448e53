// TownhallClient: the typed C++ client of the townhall API, shared by the
// tests, the bench and the tools.
//
//   townhall::TownhallClient client({.address = "127.0.0.1:50051",
//                                    .token = organizer_token});
//   absl::StatusOr<townhall::v1::GetSessionResponse> got =
//       client.GetSession(request);
//
// Every call gets a deadline (default_deadline unless CallOptions says
// otherwise) and the bearer token; results are absl::StatusOr with the
// server's code and message.
//
// A call that fails with UNAVAILABLE (storage down or overloaded, no
// connection) is sent again, with backoff, until it succeeds, fails
// otherwise, runs out of attempts (RetryPolicy) or the deadline is near.
// Every attempt sends the same request: a request with an empty
// `request_id` field gets a fresh one first, so the server applies a create
// or a registration once however many attempts reach it.
//
// TLS: set tls_ca_file (the CA of the server's certificate; system roots when
// empty and `tls` is set), and for mutual TLS tls_cert_file/tls_key_file:
//
//   townhall::TownhallClient client({.address = "townhall.internal:50051",
//                                    .token = token,
//                                    .tls_ca_file = "/etc/townhall/ca.pem"});
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "townhall/v1/agenda.grpc.pb.h"
#include "townhall/v1/diagnostics.grpc.pb.h"
#include "townhall/v1/polls.grpc.pb.h"
#include "townhall/v1/questions.grpc.pb.h"
#include "townhall/v1/registration.grpc.pb.h"
#include "townhall/v1/scheduling.grpc.pb.h"
#include "townhall/v1/tenant.grpc.pb.h"

namespace townhall {

// How a call that fails with UNAVAILABLE is tried again: the n-th retry
// waits a random time between half and all of
// min(initial_backoff * multiplier^(n-1), max_backoff), and only when the
// call's deadline leaves room for the wait. No other code is retried: the
// server has answered, and the answer would be the same.
struct RetryPolicy {
  // Attempts in all, the first included; 1 turns retries off.
  int max_attempts = 4;
  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(2);
  double multiplier = 2.0;
};

struct ClientOptions {
  // host:port of a townhall server.
  std::string address = "127.0.0.1:50051";
  // Bearer token (organizer JWT or the bootstrap credential).
  std::string token;
  absl::Duration default_deadline = absl::Seconds(10);
  // TLS, used when `tls` is true or any tls_* file is set. Files are PEM.
  bool tls = false;
  // CA certificates the server's certificate must chain to; the system
  // roots when empty.
  std::string tls_ca_file = "";
  // Client certificate chain and key, for servers that want mutual TLS.
  std::string tls_cert_file = "";
  std::string tls_key_file = "";
  // Name to verify the server's certificate against, when it differs from
  // the host in `address` (e.g. connecting by IP to "townhall.internal").
  std::string tls_server_name = "";
  // Overrides all of the above when set (plaintext when null and no tls_*
  // option is set).
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  RetryPolicy retry;
};

// The channel credentials `options` asks for: `credentials` when set, else
// TLS (reading the tls_* files) or plaintext. INVALID_ARGUMENT when a file
// cannot be read or tls_cert_file/tls_key_file come without each other.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>>
MakeChannelCredentials(const ClientOptions& options);

// A channel to options.address with those credentials (and
// tls_server_name).
absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(
    const ClientOptions& options);

// Per-call overrides.
struct CallOptions {
  // Replaces the client's token; "" sends no authorization at all.
  std::optional<std::string> token;
  std::optional<absl::Duration> deadline;
  // Sent as x-request-id (correlates server logs).
  std::string request_id;
  // Replaces retry.max_attempts, e.g. 1 for a call the caller would rather
  // see fail than repeat (CallNextSpeaker, UndoModeration: no request_id
  // makes their repetition harmless).
  std::optional<int> max_attempts;
};

// Fills the `request_id` field of `request` with a fresh random id when the
// message has such a string field and it is empty. Returns whether it did.
bool FillRequestId(google::protobuf::Message& request);

class TownhallClient {
 public:
  // Like the constructor, but fails when the channel cannot be made (an
  // unreadable TLS file).
  static absl::StatusOr<TownhallClient> Create(ClientOptions options);
  // When the channel cannot be made (see MakeChannel), every call fails
  // with that error (channel_status()) and channel() refuses every call.
  explicit TownhallClient(ClientOptions options);
  // Shares an existing channel (for many clients over one connection); the
  // connection options of `options` (credentials, tls_*) are not used.
  TownhallClient(ClientOptions options, std::shared_ptr<grpc::Channel> channel);

  void set_token(std::string token) { options_.token = std::move(token); }
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }
  const absl::Status& channel_status() const { return channel_status_; }

#define TH_CLIENT_RPC(Service, Method)                                    \
  absl::StatusOr<v1::Method##Response> Method(                            \
      const v1::Method##Request& request, const CallOptions& call = {}) { \
    return Invoke(&v1::Service::Stub::Method, Service##_.get(), request,  \
                  call);                                                  \
  }

  TH_CLIENT_RPC(DiagnosticsService, Ping)
  TH_CLIENT_RPC(TenantService, CreateTenant)
  TH_CLIENT_RPC(TenantService, GetTenant)
  TH_CLIENT_RPC(TenantService, IssueToken)
  TH_CLIENT_RPC(TenantService, CreateApiKey)
  TH_CLIENT_RPC(TenantService, ListApiKeys)
  TH_CLIENT_RPC(TenantService, RevokeApiKey)
  TH_CLIENT_RPC(SchedulingService, CreateVenue)
  TH_CLIENT_RPC(SchedulingService, GetVenue)
  TH_CLIENT_RPC(SchedulingService, ListVenues)
  TH_CLIENT_RPC(SchedulingService, CreateSession)
  TH_CLIENT_RPC(SchedulingService, GetSession)
  TH_CLIENT_RPC(SchedulingService, ListSessions)
  TH_CLIENT_RPC(SchedulingService, UpdateSession)
  TH_CLIENT_RPC(SchedulingService, PublishSession)
  TH_CLIENT_RPC(SchedulingService, StartSession)
  TH_CLIENT_RPC(SchedulingService, EndSession)
  TH_CLIENT_RPC(SchedulingService, CancelSession)
  TH_CLIENT_RPC(SchedulingService, CreateSeries)
  TH_CLIENT_RPC(SchedulingService, GetSeries)
  TH_CLIENT_RPC(SchedulingService, ListSeriesOccurrences)
  TH_CLIENT_RPC(SchedulingService, CancelOccurrence)
  TH_CLIENT_RPC(SchedulingService, MoveOccurrence)
  TH_CLIENT_RPC(SchedulingService, ProposeFairSlots)
  TH_CLIENT_RPC(SchedulingService, ExportCalendar)
  TH_CLIENT_RPC(RegistrationService, CreateOrganization)
  TH_CLIENT_RPC(RegistrationService, GetOrganization)
  TH_CLIENT_RPC(RegistrationService, ListOrganizations)
  TH_CLIENT_RPC(RegistrationService, CreateParticipant)
  TH_CLIENT_RPC(RegistrationService, GetParticipant)
  TH_CLIENT_RPC(RegistrationService, ListParticipants)
  TH_CLIENT_RPC(RegistrationService, ImportDirectory)
  TH_CLIENT_RPC(RegistrationService, InviteOrganization)
  TH_CLIENT_RPC(RegistrationService, Register)
  TH_CLIENT_RPC(RegistrationService, RegisterForSeries)
  TH_CLIENT_RPC(RegistrationService, ApproveRegistration)
  TH_CLIENT_RPC(RegistrationService, CancelRegistration)
  TH_CLIENT_RPC(RegistrationService, SetRole)
  TH_CLIENT_RPC(RegistrationService, GetRegistration)
  TH_CLIENT_RPC(RegistrationService, ListRegistrations)
  TH_CLIENT_RPC(RegistrationService, IssueJoinToken)
  TH_CLIENT_RPC(RegistrationService, RecordAttendance)
  TH_CLIENT_RPC(RegistrationService, GetAttendanceReport)
  TH_CLIENT_RPC(RegistrationService, GetSeriesAttendance)
  TH_CLIENT_RPC(RegistrationService, ExportOrganizations)
  TH_CLIENT_RPC(RegistrationService, ExportParticipants)
  TH_CLIENT_RPC(RegistrationService, ExportRegistrations)
  TH_CLIENT_RPC(RegistrationService, ExportSessionAttendance)
  TH_CLIENT_RPC(RegistrationService, ExportSeriesAttendance)
  TH_CLIENT_RPC(AgendaService, CreateAgendaItem)
  TH_CLIENT_RPC(AgendaService, UpdateAgendaItem)
  TH_CLIENT_RPC(AgendaService, MoveAgendaItem)
  TH_CLIENT_RPC(AgendaService, DeleteAgendaItem)
  TH_CLIENT_RPC(AgendaService, GetAgenda)
  TH_CLIENT_RPC(AgendaService, ActivateAgendaItem)
  TH_CLIENT_RPC(AgendaService, CompleteAgendaItem)
  TH_CLIENT_RPC(AgendaService, SkipAgendaItem)
  TH_CLIENT_RPC(AgendaService, ProposeTopic)
  TH_CLIENT_RPC(AgendaService, ListTopicProposals)
  TH_CLIENT_RPC(AgendaService, AcceptTopicProposal)
  TH_CLIENT_RPC(AgendaService, DeclineTopicProposal)
  TH_CLIENT_RPC(AgendaService, RaiseHand)
  TH_CLIENT_RPC(AgendaService, LowerHand)
  TH_CLIENT_RPC(AgendaService, CallNextSpeaker)
  TH_CLIENT_RPC(AgendaService, FinishSpeaker)
  TH_CLIENT_RPC(AgendaService, GetSpeakersQueue)
  TH_CLIENT_RPC(AgendaService, SetSpeakersQueueOptions)
  TH_CLIENT_RPC(AgendaService, RecordOutcome)
  TH_CLIENT_RPC(AgendaService, CreateActionItem)
  TH_CLIENT_RPC(AgendaService, UpdateActionItem)
  TH_CLIENT_RPC(AgendaService, ListActionItems)
  TH_CLIENT_RPC(AgendaService, PrepareFollowUp)
  TH_CLIENT_RPC(AgendaService, ExportMinutes)
  TH_CLIENT_RPC(QuestionService, SubmitQuestion)
  TH_CLIENT_RPC(QuestionService, GetQuestion)
  TH_CLIENT_RPC(QuestionService, ListQuestions)
  TH_CLIENT_RPC(QuestionService, UpvoteQuestion)
  TH_CLIENT_RPC(QuestionService, WithdrawVote)
  TH_CLIENT_RPC(QuestionService, ApproveQuestion)
  TH_CLIENT_RPC(QuestionService, RejectQuestion)
  TH_CLIENT_RPC(QuestionService, PinQuestion)
  TH_CLIENT_RPC(QuestionService, UnpinQuestion)
  TH_CLIENT_RPC(QuestionService, MarkAnswered)
  TH_CLIENT_RPC(QuestionService, ArchiveQuestion)
  TH_CLIENT_RPC(QuestionService, MergeQuestions)
  TH_CLIENT_RPC(QuestionService, UndoModeration)
  TH_CLIENT_RPC(QuestionService, SuggestDuplicates)
  TH_CLIENT_RPC(QuestionService, ListModerationLog)
  TH_CLIENT_RPC(QuestionService, GetQueueSettings)
  TH_CLIENT_RPC(QuestionService, UpdateQueueSettings)
  TH_CLIENT_RPC(QuestionService, GetQuestionPolicy)
  TH_CLIENT_RPC(QuestionService, UpdateQuestionPolicy)
  TH_CLIENT_RPC(QuestionService, CarryOverQuestions)
  TH_CLIENT_RPC(QuestionService, ExportQuestions)
  TH_CLIENT_RPC(QuestionService, ExportModerationLog)
  TH_CLIENT_RPC(PollService, CreatePoll)
  TH_CLIENT_RPC(PollService, GetPoll)
  TH_CLIENT_RPC(PollService, ListPolls)
  TH_CLIENT_RPC(PollService, OpenPoll)
  TH_CLIENT_RPC(PollService, ClosePoll)
  TH_CLIENT_RPC(PollService, PublishPoll)
  TH_CLIENT_RPC(PollService, CastBallot)
  TH_CLIENT_RPC(PollService, ExportPollResults)

#undef TH_CLIENT_RPC

  // Calls any unary method of the API by its descriptor (townhallctl builds
  // requests by reflection), with the deadline, token, request_id and
  // retries of the typed methods. `response` must be a message of
  // method.output_type().
  absl::Status CallMethod(const google::protobuf::MethodDescriptor& method,
                          const google::protobuf::Message& request,
                          google::protobuf::Message* response,
                          const CallOptions& call = {});

  // Opens the server stream `method` (WatchAgenda, WatchQueue) and calls
  // `on_message` with each message as it arrives. Returns how the stream
  // ended: OK when the server closed it. The stream has no deadline unless
  // call.deadline sets one, and is not retried: a watcher resumes with
  // after_version, which only it knows.
  absl::Status Watch(
      const google::protobuf::MethodDescriptor& method,
      const google::protobuf::Message& request,
      absl::FunctionRef<void(const google::protobuf::Message&)> on_message,
      const CallOptions& call = {});

  // Prepares a context with deadline and metadata (also for async callers
  // such as the bench).
  void PrepareContext(const CallOptions& call,
                      grpc::ClientContext* context) const;

 private:
  template <typename Stub, typename Request, typename Response>
  absl::StatusOr<Response> Invoke(
      grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&,
                                   Response*),
      Stub* stub, const Request& request, const CallOptions& call) {
    if (!channel_status_.ok()) return channel_status_;
    std::optional<Request> with_id;
    const Request* sent = &request;
    if (NeedsRequestId(request)) {
      with_id.emplace(request);
      FillRequestId(*with_id);
      sent = &*with_id;
    }
    Response response;
    absl::Status status =
        CallWithRetries(call, [&](grpc::ClientContext* context) {
          response.Clear();
          return (stub->*method)(context, *sent, &response);
        });
    if (!status.ok()) return status;
    return response;
  }

  static bool NeedsRequestId(const google::protobuf::Message& request);

  // Runs `attempt` with a fresh context (the same overall deadline) until it
  // returns anything but UNAVAILABLE or the RetryPolicy says stop.
  absl::Status CallWithRetries(
      const CallOptions& call,
      absl::FunctionRef<grpc::Status(grpc::ClientContext*)> attempt) const;

  void PrepareContext(const CallOptions& call, absl::Time deadline,
                      grpc::ClientContext* context) const;

  ClientOptions options_;
  absl::Status channel_status_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::DiagnosticsService::Stub> DiagnosticsService_;
  std::unique_ptr<v1::TenantService::Stub> TenantService_;
  std::unique_ptr<v1::SchedulingService::Stub> SchedulingService_;
  std::unique_ptr<v1::RegistrationService::Stub> RegistrationService_;
  std::unique_ptr<v1::AgendaService::Stub> AgendaService_;
  std::unique_ptr<v1::QuestionService::Stub> QuestionService_;
  std::unique_ptr<v1::PollService::Stub> PollService_;
};

}  // namespace townhall
