#include "services/common/server/session_directory.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/status.h"

namespace townhall {
namespace {

// Refresh well before expiry (kServiceTokenLifetime) so that a call never
// carries a dying token.
constexpr absl::Duration kTokenRefresh = absl::Minutes(5);
constexpr int kMaxOccurrences = 500;

// One call in flight: its context and messages live until the callback.
template <typename Request, typename Response>
struct PendingCall {
  grpc::ClientContext context;
  Request request;
  Response response;
};

template <typename Request, typename Response>
std::shared_ptr<PendingCall<Request, Response>> NewCall(
    const std::string& token, absl::Time deadline) {
  auto call = std::make_shared<PendingCall<Request, Response>>();
  call->context.AddMetadata("authorization", absl::StrCat("Bearer ", token));
  call->context.set_deadline(absl::ToChronoTime(deadline));
  return call;
}

}  // namespace

SessionDirectory::SessionDirectory(const ServiceEnv& env, std::string service)
    : peers_(env.peers),
      cache_(SessionCache::Shared(env.redis->options())),
      auth_(env.auth),
      subject_(absl::StrCat("service:", service)) {}

v1::SchedulingService::Stub* SessionDirectory::Stub() const {
  absl::MutexLock lock(&mu_);
  // Made on first use: the in-process channel exists only once the server
  // has started, after the modules were created.
  if (stub_ == nullptr) {
    stub_ = v1::SchedulingService::NewStub(
        peers_->ChannelTo(v1::SchedulingService::service_full_name()));
  }
  return stub_.get();
}

absl::StatusOr<std::string> SessionDirectory::TokenFor(
    absl::string_view tenant_id) const {
  absl::Time now = absl::Now();
  absl::MutexLock lock(&mu_);
  auto it = tokens_.find(tenant_id);
  if (it != tokens_.end() && now < it->second.refresh_after) {
    return it->second.token;
  }
  TokenClaims claims{.tenant_id = std::string(tenant_id),
                     .subject = subject_,
                     .role = Role::kOrganizer,
                     .issue_time = now,
                     .expire_time = now + kServiceTokenLifetime};
  TH_ASSIGN_OR_RETURN(std::string token, auth_->Issue(claims));
  tokens_[tenant_id] = {token, now + kTokenRefresh};
  return token;
}

void SessionDirectory::GetSession(
    absl::string_view tenant_id, absl::string_view session_id,
    absl::Time deadline,
    absl::AnyInvocable<void(absl::StatusOr<v1::Session>) &&> done) const {
  std::optional<uint64_t> ticket;
  if (cache_ != nullptr) {
    if (std::optional<v1::Session> cached =
            cache_->Get(tenant_id, session_id)) {
      std::move(done)(*std::move(cached));
      return;
    }
    ticket = cache_->BeginFetch(tenant_id);
  }
  absl::StatusOr<std::string> token = TokenFor(tenant_id);
  if (!token.ok()) {
    std::move(done)(token.status());
    return;
  }
  auto call =
      NewCall<v1::GetSessionRequest, v1::GetSessionResponse>(*token, deadline);
  call->request.set_session_id(std::string(session_id));
  // std::function needs a copyable callable: share the one-shot `done`.
  auto shared_done = std::make_shared<decltype(done)>(std::move(done));
  Stub()->async()->GetSession(
      &call->context, &call->request, &call->response,
      [call, shared_done, cache = cache_, ticket,
       tenant = std::string(tenant_id)](grpc::Status status) {
        if (!status.ok()) {
          std::move (*shared_done)(FromGrpcStatus(status));
        } else {
          if (ticket.has_value()) {
            cache->Insert(tenant, call->response.session(), *ticket);
          }
          std::move (*shared_done)(
              std::move(*call->response.mutable_session()));
        }
      });
}

void SessionDirectory::ListOccurrences(
    absl::string_view tenant_id, absl::string_view series_id,
    absl::Time deadline,
    absl::AnyInvocable<void(absl::StatusOr<std::vector<v1::Session>>) &&> done)
    const {
  absl::StatusOr<std::string> token = TokenFor(tenant_id);
  if (!token.ok()) {
    std::move(done)(token.status());
    return;
  }
  auto call = NewCall<v1::ListSeriesOccurrencesRequest,
                      v1::ListSeriesOccurrencesResponse>(*token, deadline);
  call->request.set_series_id(std::string(series_id));
  call->request.set_page_size(kMaxOccurrences);
  auto shared_done = std::make_shared<decltype(done)>(std::move(done));
  Stub()->async()->ListSeriesOccurrences(
      &call->context, &call->request, &call->response,
      [call, shared_done](grpc::Status status) {
        if (!status.ok()) {
          std::move (*shared_done)(FromGrpcStatus(status));
          return;
        }
        if (!call->response.next_page_token().empty()) {
          std::move (*shared_done)(absl::FailedPreconditionError(absl::StrCat(
              "series has more than ", kMaxOccurrences, " occurrences")));
          return;
        }
        std::vector<v1::Session> sessions(
            std::make_move_iterator(call->response.mutable_sessions()->begin()),
            std::make_move_iterator(call->response.mutable_sessions()->end()));
        std::move (*shared_done)(std::move(sessions));
      });
}

}  // namespace townhall
