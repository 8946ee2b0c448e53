// Helpers of the directory integration tests (organizations,
// participants, CSV import): builders, calls and matchers. The C++ client
// talks gRPC to the shared in-process server backed by a real Redis.
#pragma once

#include <gmock/gmock.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <latch>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/common/auth/jwt.h"
#include "services/common/auth/principal.h"
#include "services/common/redis/redis_connection.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/shared_server.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_server.h"

namespace townhall::testing::directory_test {

using ::google::protobuf::util::MessageDifferencer;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using ::testing::StartsWith;

// A client holding an API key of `tenant_id` (a registration portal).
inline TownhallClient ApiKeyClient(
    const std::string& tenant_id,
    uint32_t scopes = ScopeBit(ApiScope::kManageRegistrations)) {
  absl::Time now = absl::Now();
  return ServerEnvironment::server().Client(
      SignTestToken(TokenClaims{.tenant_id = tenant_id,
                                .subject = "portal",
                                .role = Role::kApiClient,
                                .issue_time = now,
                                .expire_time = now + absl::Hours(1),
                                .scopes = scopes,
                                .token_id = "key-1"}));
}

// ---- Builders and calls
// ------------------------------------------------------

inline v1::Organization Org(std::string name, std::string country = "RU") {
  v1::Organization org;
  org.set_name(std::move(name));
  org.set_country_code(std::move(country));
  org.set_city("Qozon");
  org.set_contact_name("Dilnoza Karimova");
  org.set_contact_email("dilnoza.karimova@example.org");
  org.set_contact_phone("+7 (843) 210-45-67");
  return org;
}

inline v1::Participant Person(std::string name,
                              std::string organization_id = "",
                              std::string email = "") {
  v1::Participant p;
  p.set_display_name(std::move(name));
  p.set_organization_id(std::move(organization_id));
  p.set_email(std::move(email));
  p.set_phone("+7 912 345-67-89");
  p.set_preferred_language("uz-Latn");
  p.set_time_zone("Europe/Moscow");
  return p;
}

inline absl::StatusOr<v1::Organization> CreateOrg(TownhallClient& client,
                                                  const v1::Organization& org,
                                                  std::string request_id = "") {
  v1::CreateOrganizationRequest request;
  *request.mutable_organization() = org;
  request.set_request_id(std::move(request_id));
  absl::StatusOr<v1::CreateOrganizationResponse> response =
      client.CreateOrganization(request);
  if (!response.ok()) return response.status();
  return response->organization();
}

inline absl::StatusOr<v1::Organization> GetOrg(TownhallClient& client,
                                               const std::string& id) {
  v1::GetOrganizationRequest request;
  request.set_organization_id(id);
  absl::StatusOr<v1::GetOrganizationResponse> response =
      client.GetOrganization(request);
  if (!response.ok()) return response.status();
  return response->organization();
}

inline absl::StatusOr<v1::Participant> CreatePerson(
    TownhallClient& client, const v1::Participant& p,
    std::string request_id = "") {
  v1::CreateParticipantRequest request;
  *request.mutable_participant() = p;
  request.set_request_id(std::move(request_id));
  absl::StatusOr<v1::CreateParticipantResponse> response =
      client.CreateParticipant(request);
  if (!response.ok()) return response.status();
  return response->participant();
}

inline absl::StatusOr<v1::Participant> GetPerson(TownhallClient& client,
                                                 const std::string& id) {
  v1::GetParticipantRequest request;
  request.set_participant_id(id);
  absl::StatusOr<v1::GetParticipantResponse> response =
      client.GetParticipant(request);
  if (!response.ok()) return response.status();
  return response->participant();
}

// Every organization ListOrganizations returns, following page tokens.
inline absl::StatusOr<std::vector<v1::Organization>> ListOrgs(
    TownhallClient& client, std::string country_code = "", int page_size = 0) {
  v1::ListOrganizationsRequest request;
  request.set_country_code(std::move(country_code));
  request.set_page_size(page_size);
  std::vector<v1::Organization> out;
  for (int page = 0; page < 1000; ++page) {
    absl::StatusOr<v1::ListOrganizationsResponse> response =
        client.ListOrganizations(request);
    if (!response.ok()) return response.status();
    if (page_size > 0 && response->organizations_size() > page_size) {
      return absl::InternalError("page larger than page_size");
    }
    out.insert(out.end(), response->organizations().begin(),
               response->organizations().end());
    if (response->next_page_token().empty()) return out;
    request.set_page_token(response->next_page_token());
  }
  return absl::InternalError("ListOrganizations does not end");
}

inline absl::StatusOr<std::vector<v1::Participant>> ListPeople(
    TownhallClient& client, std::string organization_id = "",
    int page_size = 0) {
  v1::ListParticipantsRequest request;
  request.set_organization_id(std::move(organization_id));
  request.set_page_size(page_size);
  std::vector<v1::Participant> out;
  for (int page = 0; page < 1000; ++page) {
    absl::StatusOr<v1::ListParticipantsResponse> response =
        client.ListParticipants(request);
    if (!response.ok()) return response.status();
    if (page_size > 0 && response->participants_size() > page_size) {
      return absl::InternalError("page larger than page_size");
    }
    out.insert(out.end(), response->participants().begin(),
               response->participants().end());
    if (response->next_page_token().empty()) return out;
    request.set_page_token(response->next_page_token());
  }
  return absl::InternalError("ListParticipants does not end");
}

template <typename Message>
inline std::vector<std::string> Ids(const std::vector<Message>& messages) {
  std::vector<std::string> ids;
  for (const Message& m : messages) ids.push_back(m.id());
  return ids;
}

inline absl::StatusOr<v1::ImportDirectoryResponse> Import(
    TownhallClient& client, std::string organizations_csv,
    std::string participants_csv, bool validate_only = false) {
  v1::ImportDirectoryRequest request;
  request.set_organizations_csv(std::move(organizations_csv));
  request.set_participants_csv(std::move(participants_csv));
  request.set_validate_only(validate_only);
  return client.ImportDirectory(request);
}

// "file:line: reason" of every import error, for readable failures.
inline std::vector<std::string> Errors(
    const v1::ImportDirectoryResponse& response) {
  std::vector<std::string> out;
  for (const v1::ImportError& e : response.errors()) {
    out.push_back(absl::StrCat(e.file(), ":", e.line(), ": ", e.reason()));
  }
  return out;
}

MATCHER_P3(ImportErrorIs, file, line, reason_matcher, "") {
  return arg.file() == file && arg.line() == line &&
         ::testing::ExplainMatchResult(reason_matcher, arg.reason(),
                                       result_listener);
}

}  // namespace townhall::testing::directory_test
