#include "services/registration/directory_logic.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/auth/authorization.h"
#include "services/common/ids.h"
#include "services/common/proto_time.h"
#include "services/common/redis/idempotency_key.h"
#include "services/common/status.h"
#include "services/common/validation.h"
#include "services/registration/directory_store.h"
#include "services/registration/directory_validation.h"
#include "services/registration/registration_rules.h"

namespace townhall::registration {
namespace {

// ALREADY_EXISTS naming the organization a create collided with, and which
// of its names matched.
absl::Status OrganizationExists(DirectoryStore& store,
                                const ScriptOutcome& outcome,
                                absl::string_view country_code) {
  const std::string& id = outcome.values.at(0);
  std::string message = absl::StrCat("organization ", id);
  absl::StatusOr<v1::Organization> other = store.GetOrganization(id);
  if (other.ok()) {
    absl::StrAppend(&message, " \"", other->name(), "\"");
  }
  absl::StrAppend(&message, " already exists in ", country_code);
  if (other.ok() && outcome.values.size() > 1) {
    const std::string& key = outcome.values[1];
    auto has_key = [&key](const std::string& name, absl::string_view tag) {
      std::vector<std::string> keys = MatchKeys(name, tag);
      return std::find(keys.begin(), keys.end(), key) != keys.end();
    };
    if (!has_key(other->name(), "")) {
      for (const auto& [tag, name] : other->localized_names()) {
        if (has_key(name, tag)) {
          absl::StrAppend(&message, " (its name \"", name, "\" matches)");
          break;
        }
      }
    }
    if (absl::StartsWith(key, "s:")) {
      absl::StrAppend(&message,
                      "; the names look alike (letters of other scripts "
                      "that look the same count as the same letter)");
    }
  }
  return absl::AlreadyExistsError(message);
}

// The canonical form of a read's `language` ("" when unset), or
// INVALID_ARGUMENT naming `field`.
absl::StatusOr<std::string> ReaderLanguage(absl::string_view field,
                                           absl::string_view language) {
  if (language.empty()) return std::string();
  return ValidateLanguageTag(field, language);
}

absl::Status ParticipantExists(DirectoryStore& store,
                               const ScriptOutcome& outcome,
                               const v1::Participant& wanted) {
  const std::string& id = outcome.values.at(0);
  if (outcome.values.size() > 1 && outcome.values[1] == "email") {
    return absl::AlreadyExistsError(
        absl::StrCat("participant ", id, " already exists with this email"));
  }
  std::string message = absl::StrCat("participant ", id);
  absl::StatusOr<v1::Participant> other = store.GetParticipant(id);
  if (other.ok()) {
    absl::StrAppend(&message, " \"", other->display_name(), "\"");
  }
  absl::StrAppend(&message, " already exists with the same name ",
                  wanted.organization_id().empty() ? "and no organization"
                                                   : "in the same organization",
                  " (give an email to tell people apart)");
  return absl::AlreadyExistsError(message);
}

}  // namespace

void SetServerFields(const Principal& caller, v1::Organization* org) {
  org->set_id(NewId());
  org->set_tenant_id(caller.tenant_id);
  SetTime(absl::Now(), org->mutable_create_time());
}

void SetServerFields(const Principal& caller, v1::Participant* p) {
  p->set_id(NewId());
  p->set_tenant_id(caller.tenant_id);
  SetTime(absl::Now(), p->mutable_create_time());
}

void RedactContacts(const Principal& caller, v1::Organization* organization) {
  if (caller.role == Role::kOrganizer) return;
  organization->clear_contact_name();
  organization->clear_contact_email();
  organization->clear_contact_phone();
}

void RedactContacts(const Principal& caller, v1::Participant* participant) {
  if (caller.role == Role::kOrganizer) return;
  participant->clear_email();
  participant->clear_phone();
}

// ---- Organizations ---------------------------------------------------------

absl::Status DirectoryLogic::CreateOrganization(
    const Principal& caller, Redis& redis,
    const v1::CreateOrganizationRequest& request,
    v1::CreateOrganizationResponse* response) const {
  TH_RETURN_IF_ERROR(ValidateRequestId("request_id", request.request_id()));
  v1::Organization org = request.organization();
  TH_RETURN_IF_ERROR(CleanOrganization(Labels::Request("organization"), &org));
  SetServerFields(caller, &org);
  DirectoryStore store(redis, caller.tenant_id);
  TH_ASSIGN_OR_RETURN(
      ScriptOutcome outcome,
      store.CreateOrganization(
          IdempotencyKey(TH_METHOD(RegistrationService, CreateOrganization),
                         caller, request.request_id()),
          org));
  if (outcome.kind == "DUPLICATE") {
    return OrganizationExists(store, outcome, org.country_code());
  }
  if (outcome.kind == "EXISTING") {
    // A retry: answer with what the first request created.
    TH_ASSIGN_OR_RETURN(org, store.GetOrganization(outcome.values.at(0)));
  } else if (outcome.kind != "OK") {
    return UnexpectedOutcome(outcome);
  }
  RedactContacts(caller, &org);
  *response->mutable_organization() = std::move(org);
  return absl::OkStatus();
}

absl::Status DirectoryLogic::GetOrganization(
    const Principal& caller, Redis& redis,
    const v1::GetOrganizationRequest& request,
    v1::GetOrganizationResponse* response) const {
  TH_RETURN_IF_ERROR(ValidateId("organization_id", request.organization_id()));
  TH_ASSIGN_OR_RETURN(std::string language,
                      ReaderLanguage("language", request.language()));
  DirectoryStore store(redis, caller.tenant_id);
  TH_ASSIGN_OR_RETURN(v1::Organization org,
                      store.GetOrganization(request.organization_id()));
  RedactContacts(caller, &org);
  SetDisplayName(language, &org);
  *response->mutable_organization() = std::move(org);
  return absl::OkStatus();
}

absl::Status DirectoryLogic::ListOrganizations(
    const Principal& caller, Redis& redis,
    const v1::ListOrganizationsRequest& request,
    v1::ListOrganizationsResponse* response) const {
  TH_ASSIGN_OR_RETURN(int page_size, ValidatePageSize(request.page_size()));
  if (!request.country_code().empty()) {
    TH_RETURN_IF_ERROR(
        ValidateCountryCode("country_code", request.country_code()));
  }
  TH_ASSIGN_OR_RETURN(std::string language,
                      ReaderLanguage("language", request.language()));
  DirectoryStore store(redis, caller.tenant_id);
  TH_ASSIGN_OR_RETURN(
      IdPage page, store.ListOrganizationIds(request.country_code(),
                                             request.page_token(), page_size));
  TH_ASSIGN_OR_RETURN(std::vector<v1::Organization> orgs,
                      store.GetOrganizations(page.ids));
  for (v1::Organization& org : orgs) {
    RedactContacts(caller, &org);
    SetDisplayName(language, &org);
    *response->add_organizations() = std::move(org);
  }
  response->set_next_page_token(std::move(page.next_page_token));
  return absl::OkStatus();
}

// ---- Participants ----------------------------------------------------------

absl::Status DirectoryLogic::CreateParticipant(
    const Principal& caller, Redis& redis,
    const v1::CreateParticipantRequest& request,
    v1::CreateParticipantResponse* response) const {
  TH_RETURN_IF_ERROR(ValidateRequestId("request_id", request.request_id()));
  v1::Participant participant = request.participant();
  TH_RETURN_IF_ERROR(
      CleanParticipant(Labels::Request("participant"), &participant));
  SetServerFields(caller, &participant);
  DirectoryStore store(redis, caller.tenant_id);
  TH_ASSIGN_OR_RETURN(
      ScriptOutcome outcome,
      store.CreateParticipant(
          IdempotencyKey(TH_METHOD(RegistrationService, CreateParticipant),
                         caller, request.request_id()),
          participant));
  if (outcome.kind == "DUPLICATE") {
    return ParticipantExists(store, outcome, participant);
  }
  if (outcome.kind == "EXISTING") {
    TH_ASSIGN_OR_RETURN(participant,
                        store.GetParticipant(outcome.values.at(0)));
  } else if (outcome.kind != "OK") {
    return UnexpectedOutcome(outcome);
  }
  RedactContacts(caller, &participant);
  *response->mutable_participant() = std::move(participant);
  return absl::OkStatus();
}

absl::Status DirectoryLogic::GetParticipant(
    const Principal& caller, Redis& redis,
    const v1::GetParticipantRequest& request,
    v1::GetParticipantResponse* response) const {
  TH_RETURN_IF_ERROR(ValidateId("participant_id", request.participant_id()));
  DirectoryStore store(redis, caller.tenant_id);
  TH_ASSIGN_OR_RETURN(v1::Participant participant,
                      store.GetParticipant(request.participant_id()));
  RedactContacts(caller, &participant);
  *response->mutable_participant() = std::move(participant);
  return absl::OkStatus();
}

absl::Status DirectoryLogic::ListParticipants(
    const Principal& caller, Redis& redis,
    const v1::ListParticipantsRequest& request,
    v1::ListParticipantsResponse* response) const {
  TH_ASSIGN_OR_RETURN(int page_size, ValidatePageSize(request.page_size()));
  if (!request.organization_id().empty()) {
    TH_RETURN_IF_ERROR(
        ValidateId("organization_id", request.organization_id()));
  }
  DirectoryStore store(redis, caller.tenant_id);
  TH_ASSIGN_OR_RETURN(
      IdPage page, store.ListParticipantIds(request.organization_id(),
                                            request.page_token(), page_size));
  TH_ASSIGN_OR_RETURN(std::vector<v1::Participant> participants,
                      store.GetParticipants(page.ids));
  for (v1::Participant& p : participants) {
    RedactContacts(caller, &p);
    *response->add_participants() = std::move(p);
  }
  response->set_next_page_token(std::move(page.next_page_token));
  return absl::OkStatus();
}

}  // namespace townhall::registration
