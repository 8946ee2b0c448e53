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

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "townhall/v1/agenda.grpc.pb.h"
#include "townhall/v1/diagnostics.grpc.pb.h"
#include "townhall/v1/registration.grpc.pb.h"
#include "townhall/v1/scheduling.grpc.pb.h"
#include "townhall/v1/tenant.grpc.pb.h"

namespace townhall {

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
};

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

#undef TH_CLIENT_RPC

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
    grpc::ClientContext context;
    PrepareContext(call, &context);
    Response response;
    grpc::Status status = (stub->*method)(&context, request, &response);
    if (!status.ok()) {
      return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                          status.error_message());
    }
    return response;
  }

  ClientOptions options_;
  absl::Status channel_status_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::DiagnosticsService::Stub> DiagnosticsService_;
  std::unique_ptr<v1::TenantService::Stub> TenantService_;
  std::unique_ptr<v1::SchedulingService::Stub> SchedulingService_;
  std::unique_ptr<v1::RegistrationService::Stub> RegistrationService_;
  std::unique_ptr<v1::AgendaService::Stub> AgendaService_;
};

}  // namespace townhall
