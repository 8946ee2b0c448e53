#include "services/registration/attendance_logic.h"

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/auth/authorization.h"
#include "services/common/redis/idempotency_key.h"
#include "services/common/status.h"
#include "services/common/validation.h"
#include "services/registration/directory_store.h"
#include "services/registration/registration_rules.h"
#include "services/registration/registration_store.h"

namespace townhall::registration {

absl::Status AttendanceLogic::RecordAttendance(
    const Principal& caller, Redis& redis, const v1::Session& session,
    const v1::RecordAttendanceRequest& request,
    v1::RecordAttendanceResponse* response) const {
  TH_RETURN_IF_ERROR(ValidateId("participant_id", request.participant_id()));
  TH_RETURN_IF_ERROR(ValidateRequestId("request_id", request.request_id()));
  v1::AttendanceAction action = request.action();
  if (action != v1::ATTENDANCE_ACTION_JOIN &&
      action != v1::ATTENDANCE_ACTION_LEAVE &&
      action != v1::ATTENDANCE_ACTION_CHECK_IN) {
    return InvalidField("action", "must be JOIN, LEAVE or CHECK_IN");
  }
  absl::Time now = absl::Now();
  RegistrationStore store(redis, caller.tenant_id);
  // Refusals go to the script, which answers a retry before checking them.
  TH_ASSIGN_OR_RETURN(
      ScriptOutcome outcome,
      store.RecordAttendance(
          session.id(), request.participant_id(), static_cast<int>(action), now,
          IdempotencyKey(TH_METHOD(RegistrationService, RecordAttendance),
                         caller, request.request_id(),
                         {.session_id = session.id(),
                          .participant_id = request.participant_id()}),
          AttendanceRefusal(session, action, now)));
  if (outcome.kind == "BAD_STATUS") {
    return absl::FailedPreconditionError(
        absl::StrCat("registration of participant ", request.participant_id(),
                     " for session ", session.id(), " is ",
                     StatusName(ToInt(outcome.values.at(0))),
                     ": only CONFIRMED registrations record attendance"));
  }
  if (outcome.kind == "NOT_JOINED") {
    return absl::FailedPreconditionError(absl::StrCat(
        "participant ", request.participant_id(), " has not joined session ",
        session.id(), ": LEAVE needs an earlier JOIN"));
  }
  if ((outcome.kind != "OK" && outcome.kind != "EXISTING") ||
      outcome.values.size() < kAttendanceFields) {
    return UnexpectedOutcome(outcome);
  }
  DecodeAttendance(outcome.values, 0, absl::ToUnixMicros(now),
                   response->mutable_record());
  return absl::OkStatus();
}

absl::Status AttendanceLogic::GetAttendanceReport(
    const Principal& caller, Redis& redis, const v1::Session& session,
    const v1::GetAttendanceReportRequest& request,
    v1::GetAttendanceReportResponse* response) const {
  int64_t now_us = absl::ToUnixMicros(absl::Now());
  RegistrationStore store(redis, caller.tenant_id);
  TH_ASSIGN_OR_RETURN(ScriptOutcome outcome,
                      store.AttendanceReport(session.id()));
  if (outcome.kind != "OK" || outcome.values.empty() ||
      (outcome.values.size() - 1) % kAttendanceFields != 0) {
    return UnexpectedOutcome(outcome);
  }
  response->set_registered_count(
      static_cast<int32_t>(ToInt(outcome.values[0])));
  for (size_t i = 1; i < outcome.values.size(); i += kAttendanceFields) {
    DecodeAttendance(outcome.values, i, now_us, response->add_records());
  }
  response->set_attended_count(response->records_size());
  return absl::OkStatus();
}

absl::Status AttendanceLogic::GetSeriesAttendance(
    const Principal& caller, Redis& redis,
    absl::Span<const v1::Session> occurrences,
    const v1::GetSeriesAttendanceRequest& request,
    v1::GetSeriesAttendanceResponse* response) const {
  absl::Time now = absl::Now();
  std::vector<std::string> ids;
  for (const v1::Session& s : occurrences) ids.push_back(s.id());
  if (ids.empty()) return absl::OkStatus();
  RegistrationStore store(redis, caller.tenant_id);
  TH_ASSIGN_OR_RETURN(ScriptOutcome outcome, store.SeriesAttendance(ids));
  if (outcome.kind != "OK") return UnexpectedOutcome(outcome);

  // Organization id -> attended session ids, in start order.
  std::map<std::string, std::vector<std::string>> attended;
  int32_t total = 0;
  size_t pos = 0;
  auto read_list = [&outcome, &pos](std::vector<std::string>* out) {
    if (pos >= outcome.values.size()) return false;
    int64_t n = ToInt(outcome.values[pos++]);
    if (n < 0 || pos + n > outcome.values.size()) return false;
    out->assign(outcome.values.begin() + pos, outcome.values.begin() + pos + n);
    pos += n;
    return true;
  };
  for (const v1::Session& s : occurrences) {
    std::vector<std::string> registered_orgs, attending_orgs;
    if (!read_list(&registered_orgs) || !read_list(&attending_orgs)) {
      return UnexpectedOutcome(outcome);
    }
    for (const std::string& org : registered_orgs) attended[org];
    if (!OccurrenceCounts(s, now)) continue;
    ++total;
    for (const std::string& org : attending_orgs) {
      attended[org].push_back(s.id());
    }
  }
  response->set_occurrences_total(total);
  if (attended.empty()) return absl::OkStatus();

  std::vector<std::string> org_ids;
  for (const auto& [org, unused] : attended) org_ids.push_back(org);
  TH_ASSIGN_OR_RETURN(
      OrganizationNames names,
      DirectoryStore(redis, caller.tenant_id).GetOrganizationNames(org_ids));
  for (auto& [org, sessions] : attended) {
    v1::OrganizationAttendance* row = response->add_organizations();
    row->set_organization_id(org);
    if (auto name = names.find(org); name != names.end()) {
      row->set_organization_name(name->second);
    }
    row->set_occurrences_attended(static_cast<int32_t>(sessions.size()));
    row->set_occurrences_total(total);
    for (std::string& id : sessions) row->add_session_ids(std::move(id));
  }
  std::stable_sort(response->mutable_organizations()->begin(),
                   response->mutable_organizations()->end(),
                   [](const v1::OrganizationAttendance& a,
                      const v1::OrganizationAttendance& b) {
                     if (a.occurrences_attended() != b.occurrences_attended()) {
                       return a.occurrences_attended() >
                              b.occurrences_attended();
                     }
                     return a.organization_name() < b.organization_name();
                   });
  return absl::OkStatus();
}

}  // namespace townhall::registration
