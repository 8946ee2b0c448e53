#include "services/registration/registration_logic.h"

#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "services/common/auth/authorization.h"
#include "services/common/proto_time.h"
#include "services/common/redis/idempotency_key.h"
#include "services/common/status.h"
#include "services/common/validation.h"
#include "services/registration/directory_store.h"
#include "services/registration/registration_rules.h"
#include "services/registration/registration_store.h"

namespace townhall::registration {
namespace {

using v1::Registration;
using v1::Session;

// Without a requested ttl (at most the configured maximum).
constexpr absl::Duration kDefaultTokenTtl = absl::Hours(12);
constexpr size_t kMaxReasonChars = 500;
// A filtered list reads at most this many registrations per page per
// requested one, then answers a short page with a token to go on
// (AIP-158).
constexpr int kScanFactor = 10;

// Runs register.lua for one session (ALREADY_EXISTS when the participant
// is registered there and not cancelled).
absl::Status RegisterOne(RegistrationStore& store, const Session& session,
                         const RegisterCall& call, Registration* out,
                         BusinessMetrics* metrics) {
  TH_ASSIGN_OR_RETURN(ScriptOutcome outcome, store.Register(call));
  if (outcome.kind == "REGISTERED") {
    return absl::AlreadyExistsError(
        absl::StrCat("participant ", call.participant_id,
                     " is already registered for session ", session.id(), " (",
                     StatusName(ToInt(outcome.values.at(0))), ")"));
  }
  TH_RETURN_IF_ERROR(DelegationRefusal(outcome, session.id()));
  if (outcome.kind != "OK" && outcome.kind != "EXISTING") {
    return UnexpectedOutcome(outcome);
  }
  TH_RETURN_IF_ERROR(DecodeFirstRegistration(outcome, session.id(), out));
  // New, not a retry's answer (EXISTING).
  if (metrics != nullptr && outcome.kind == "OK") {
    metrics->Registered(StatusName(out->status()));
  }
  return absl::OkStatus();
}

// Reads one registration (NOT_FOUND when there is none).
absl::Status ReadRegistration(RegistrationStore& store,
                              const std::string& session_id,
                              const std::string& participant_id,
                              Registration* out,
                              int64_t* generation = nullptr) {
  TH_ASSIGN_OR_RETURN(ScriptOutcome outcome,
                      store.ReadRegistration(session_id, participant_id));
  if (outcome.kind == "NONE") {
    return absl::NotFoundError(NotRegistered(session_id, participant_id));
  }
  if (outcome.kind != "OK") return UnexpectedOutcome(outcome);
  return DecodeFirstRegistration(outcome, session_id, out, generation);
}

// Sets the organization_name of `registrations` from the directory (one
// round trip).
absl::Status AddOrganizationNames(
    RegistrationLogic::Redis& redis, const std::string& tenant_id,
    const std::vector<Registration*>& registrations) {
  std::vector<std::string> ids;
  for (const Registration* r : registrations) {
    ids.push_back(r->organization_id());
  }
  TH_ASSIGN_OR_RETURN(
      OrganizationNames names,
      DirectoryStore(redis, tenant_id).GetOrganizationNames(ids));
  for (Registration* r : registrations) {
    auto name = names.find(r->organization_id());
    if (name != names.end()) r->set_organization_name(name->second);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status RegistrationLogic::Register(const Principal& caller, Redis& redis,
                                         const v1::Session& session,
                                         const v1::RegisterRequest& request,
                                         v1::RegisterResponse* response) const {
  TH_RETURN_IF_ERROR(ValidateId("participant_id", request.participant_id()));
  TH_RETURN_IF_ERROR(ValidateRequestId("request_id", request.request_id()));
  TH_RETURN_IF_ERROR(ValidateDelegation(request.delegation()));
  TH_ASSIGN_OR_RETURN(v1::SessionRole role,
                      CheckRegistrar(caller, request.role()));
  RegisterCall call;
  call.session_id = session.id();
  call.participant_id = request.participant_id();
  call.role = role;
  call.delegation = request.delegation() != v1::DELEGATION_UNSPECIFIED
                        ? request.delegation()
                        : v1::DELEGATION_INDIVIDUAL;
  call.self = caller.role == Role::kApiClient;
  call.capacity = session.capacity();
  call.now = absl::Now();
  call.idempotency_key = IdempotencyKey(
      TH_METHOD(RegistrationService, Register), caller, request.request_id(),
      {.session_id = session.id(), .participant_id = request.participant_id()});
  call.refusal = ClosedRefusal(session);
  RegistrationStore store(redis, caller.tenant_id);
  return RegisterOne(store, session, call, response->mutable_registration(),
                     metrics_);
}

absl::Status RegistrationLogic::RegisterForSeries(
    const Principal& caller, Redis& redis,
    absl::Span<const v1::Session> occurrences,
    const v1::RegisterForSeriesRequest& request,
    v1::RegisterForSeriesResponse* response) const {
  TH_RETURN_IF_ERROR(ValidateId("participant_id", request.participant_id()));
  TH_RETURN_IF_ERROR(ValidateRequestId("request_id", request.request_id()));
  TH_ASSIGN_OR_RETURN(v1::SessionRole role,
                      CheckRegistrar(caller, request.role()));
  // NOT_FOUND for an unknown participant, also when no occurrence is left.
  TH_RETURN_IF_ERROR(DirectoryStore(redis, caller.tenant_id)
                         .GetParticipant(request.participant_id())
                         .status());
  RegistrationStore store(redis, caller.tenant_id);
  RegisterCall call;
  call.participant_id = request.participant_id();
  call.role = role;
  call.delegation = v1::DELEGATION_INDIVIDUAL;
  call.self = caller.role == Role::kApiClient;
  call.now = absl::Now();
  for (const Session& occurrence : occurrences) {
    if (IsOver(occurrence) || SessionEnd(occurrence) <= call.now) continue;
    call.session_id = occurrence.id();
    call.capacity = occurrence.capacity();
    // One key per occurrence: a retry skips those done the first time.
    call.idempotency_key =
        IdempotencyKey(TH_METHOD(RegistrationService, RegisterForSeries),
                       caller, request.request_id(),
                       {.session_id = occurrence.id(),
                        .participant_id = request.participant_id()});
    call.refusal = ClosedRefusal(occurrence);
    Registration* registration = response->add_registrations();
    absl::Status registered =
        RegisterOne(store, occurrence, call, registration, metrics_);
    if (registered.code() == absl::StatusCode::kAlreadyExists) {
      registration->Clear();
      registered = ReadRegistration(store, occurrence.id(),
                                    request.participant_id(), registration);
    }
    TH_RETURN_IF_ERROR(registered);
  }
  if (response->registrations().empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("series ", request.series_id(),
                     " has no upcoming occurrence to register for"));
  }
  return absl::OkStatus();
}

absl::Status RegistrationLogic::ApproveRegistration(
    const Principal& caller, Redis& redis, const v1::Session& session,
    const v1::ApproveRegistrationRequest& request,
    v1::ApproveRegistrationResponse* response) const {
  TH_RETURN_IF_ERROR(ValidateId("participant_id", request.participant_id()));
  if (std::string refusal = ClosedRefusal(session); !refusal.empty()) {
    return absl::FailedPreconditionError(refusal);
  }
  RegistrationStore store(redis, caller.tenant_id);
  TH_ASSIGN_OR_RETURN(ScriptOutcome outcome,
                      store.Approve(session.id(), request.participant_id(),
                                    session.capacity(), absl::Now()));
  if (outcome.kind == "BAD_STATUS") {
    return absl::FailedPreconditionError(
        absl::StrCat("registration of participant ", request.participant_id(),
                     " for session ", session.id(), " is ",
                     StatusName(ToInt(outcome.values.at(0))),
                     ": only PENDING registrations can be approved"));
  }
  TH_RETURN_IF_ERROR(DelegationRefusal(outcome, session.id()));
  if (outcome.kind != "OK") return UnexpectedOutcome(outcome);
  return DecodeFirstRegistration(outcome, session.id(),
                                 response->mutable_registration());
}

absl::Status RegistrationLogic::CancelRegistration(
    const Principal& caller, Redis& redis, const v1::Session& session,
    const v1::CancelRegistrationRequest& request,
    v1::CancelRegistrationResponse* response) const {
  TH_RETURN_IF_ERROR(ValidateId("participant_id", request.participant_id()));
  TextLimits reason_limits;
  reason_limits.max_chars = kMaxReasonChars;
  reason_limits.multiline = true;
  TH_RETURN_IF_ERROR(ValidateText("reason", request.reason(), reason_limits));
  RegistrationStore store(redis, caller.tenant_id);
  TH_ASSIGN_OR_RETURN(
      ScriptOutcome outcome,
      store.Cancel(session.id(), request.participant_id(), request.reason(),
                   session.capacity(), absl::Now()));
  if (outcome.kind == "BAD_STATUS") {
    return absl::FailedPreconditionError(
        absl::StrCat("registration of participant ", request.participant_id(),
                     " for session ", session.id(), " is already CANCELLED"));
  }
  if (outcome.kind != "OK") return UnexpectedOutcome(outcome);
  TH_RETURN_IF_ERROR(DecodeFirstRegistration(outcome, session.id(),
                                             response->mutable_registration()));
  if (outcome.values.size() >= 2 * kRecordFields) {
    DecodeRegistration(session.id(), outcome.values, kRecordFields,
                       response->mutable_promoted());
  }
  return absl::OkStatus();
}

absl::Status RegistrationLogic::SetRole(const Principal& caller, Redis& redis,
                                        const v1::Session& session,
                                        const v1::SetRoleRequest& request,
                                        v1::SetRoleResponse* response) const {
  TH_RETURN_IF_ERROR(ValidateId("participant_id", request.participant_id()));
  if (!v1::SessionRole_IsValid(request.role())) {
    return InvalidField("role", absl::StrCat("unknown role ", request.role()));
  }
  if (request.role() == v1::SESSION_ROLE_UNSPECIFIED) {
    return InvalidField("role", "must be set");
  }
  RegistrationStore store(redis, caller.tenant_id);
  TH_ASSIGN_OR_RETURN(
      ScriptOutcome outcome,
      store.SetRole(session.id(), request.participant_id(),
                    static_cast<int>(request.role()), absl::Now()));
  if (outcome.kind == "BAD_STATUS") {
    return absl::FailedPreconditionError(absl::StrCat(
        "registration of participant ", request.participant_id(),
        " for session ", session.id(), " is CANCELLED: register again first"));
  }
  if (outcome.kind != "OK") return UnexpectedOutcome(outcome);
  return DecodeFirstRegistration(outcome, session.id(),
                                 response->mutable_registration());
}

absl::Status RegistrationLogic::GetRegistration(
    const Principal& caller, Redis& redis, const v1::Session& session,
    const v1::GetRegistrationRequest& request,
    v1::GetRegistrationResponse* response) const {
  TH_RETURN_IF_ERROR(ValidateId("participant_id", request.participant_id()));
  RegistrationStore store(redis, caller.tenant_id);
  TH_RETURN_IF_ERROR(ReadRegistration(store, session.id(),
                                      request.participant_id(),
                                      response->mutable_registration()));
  return AddOrganizationNames(redis, caller.tenant_id,
                              {response->mutable_registration()});
}

absl::Status RegistrationLogic::ListRegistrations(
    const Principal& caller, Redis& redis, const v1::Session& session,
    const v1::ListRegistrationsRequest& request,
    v1::ListRegistrationsResponse* response) const {
  TH_ASSIGN_OR_RETURN(int page_size, ValidatePageSize(request.page_size()));
  std::set<int> statuses;
  for (int s : request.statuses()) {
    if (!v1::RegistrationStatus_IsValid(s) ||
        s == v1::REGISTRATION_STATUS_UNSPECIFIED) {
      return InvalidField("statuses", absl::StrCat("unknown status ", s));
    }
    statuses.insert(s);
  }
  int64_t after = 0;
  if (!request.page_token().empty() &&
      (!absl::SimpleAtoi(request.page_token(), &after) || after < 0)) {
    return InvalidField("page_token", "not a token from this list");
  }
  RegistrationStore store(redis, caller.tenant_id);
  TH_ASSIGN_OR_RETURN(
      ScriptOutcome outcome,
      store.ListRegistrations(session.id(), request.page_token(), page_size,
                              absl::StrJoin(statuses, ","),
                              page_size * kScanFactor));
  if (outcome.kind != "OK" || outcome.values.size() < 3 ||
      (outcome.values.size() - 3) % kRecordFields != 0) {
    return UnexpectedOutcome(outcome);
  }
  response->set_next_page_token(outcome.values[0]);
  response->set_capacity(session.capacity());
  response->set_confirmed_count(static_cast<int32_t>(ToInt(outcome.values[1])));
  response->set_waitlisted_count(
      static_cast<int32_t>(ToInt(outcome.values[2])));
  std::vector<Registration*> listed;
  for (size_t i = 3; i < outcome.values.size(); i += kRecordFields) {
    listed.push_back(response->add_registrations());
    DecodeRegistration(session.id(), outcome.values, i, listed.back());
  }
  return AddOrganizationNames(redis, caller.tenant_id, listed);
}

absl::Status RegistrationLogic::IssueJoinToken(
    const Principal& caller, Redis& redis, const v1::Session& session,
    const v1::IssueJoinTokenRequest& request,
    v1::IssueJoinTokenResponse* response) const {
  TH_RETURN_IF_ERROR(ValidateId("participant_id", request.participant_id()));
  // Every session role is a join token: one lifetime limit for all.
  TH_ASSIGN_OR_RETURN(
      absl::Duration ttl,
      auth_->IssueLifetime(Role::kParticipant,
                           ToOptionalDuration(request.has_ttl(), request.ttl()),
                           kDefaultTokenTtl));
  if (IsOver(session)) {
    return absl::FailedPreconditionError(
        absl::StrCat("session ", session.id(), " is ",
                     StateName(session.state()), ": no more join tokens"));
  }
  Registration registration;
  int64_t generation = 0;
  RegistrationStore store(redis, caller.tenant_id);
  TH_RETURN_IF_ERROR(ReadRegistration(store, session.id(),
                                      request.participant_id(), &registration,
                                      &generation));
  if (registration.status() != v1::REGISTRATION_STATUS_CONFIRMED) {
    return absl::FailedPreconditionError(absl::StrCat(
        "registration of participant ", request.participant_id(),
        " for session ", session.id(), " is ",
        StatusName(registration.status()),
        ": join tokens are issued for CONFIRMED registrations only"));
  }
  // JWT times are whole seconds.
  absl::Time now = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()));
  TokenClaims claims;
  claims.tenant_id = caller.tenant_id;
  claims.subject = request.participant_id();
  claims.role = TokenRole(registration.role());
  claims.issue_time = now;
  claims.expire_time = now + ttl;
  claims.session_id = session.id();
  claims.participant_id = request.participant_id();
  // Lets later services apply per-organization rules (speakers' queue)
  // from the token alone.
  claims.organization_id = registration.organization_id();
  // A later cancellation or role change revokes generations below its own.
  claims.generation = generation;
  TH_ASSIGN_OR_RETURN(*response->mutable_token(), auth_->Issue(claims));
  SetTime(claims.expire_time, response->mutable_expire_time());
  response->set_role(registration.role());
  return absl::OkStatus();
}

}  // namespace townhall::registration
