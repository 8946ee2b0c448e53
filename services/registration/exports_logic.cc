#include "services/registration/exports_logic.h"

#include <set>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "services/common/export.h"
#include "services/common/proto_time.h"
#include "services/common/status.h"
#include "services/common/validation.h"
#include "services/registration/directory_store.h"
#include "services/registration/registration_rules.h"

namespace townhall::registration {
namespace {

// The largest page the list reads serve (ValidatePageSize).
constexpr int kPageSize = 500;

// Whether the request asks for CSV (JSON when unset); INVALID_ARGUMENT for
// a format this server does not know.
absl::StatusOr<bool> WantsCsv(v1::ExportFormat format) {
  switch (format) {
    case v1::EXPORT_FORMAT_UNSPECIFIED:
    case v1::EXPORT_FORMAT_JSON:
      return false;
    case v1::EXPORT_FORMAT_CSV:
      return true;
    default:
      return InvalidField(
          "format", absl::StrCat("unknown export format ",
                                 static_cast<int>(format), " (JSON or CSV)"));
  }
}

// Gathers every page of a list read into `all`: `list(request, &page)` runs
// with each page's next_page_token until the last page; repeated fields
// add up, counts are the last page's. RESOURCE_EXHAUSTED once more than
// kMaxExportRows records of `what` are read (`(page.*count)()` per page).
template <typename Request, typename Response>
absl::Status ReadAllPages(
    absl::string_view what, int (Response::*count)() const, Request request,
    std::type_identity_t<
        absl::FunctionRef<absl::Status(const Request&, Response*)>>
        list,
    Response* all) {
  request.set_page_size(kPageSize);
  size_t rows = 0;
  while (true) {
    Response page;
    TH_RETURN_IF_ERROR(list(request, &page));
    rows += (page.*count)();
    TH_RETURN_IF_ERROR(CheckExportRows(what, rows));
    std::string next = std::move(*page.mutable_next_page_token());
    page.clear_next_page_token();
    all->MergeFrom(page);
    if (next.empty()) return absl::OkStatus();
    request.set_page_token(std::move(next));
  }
}

// Every registration of `session`, cancelled ones too, in arrival order.
absl::Status ReadAllRegistrations(const RegistrationLogic& logic,
                                  const Principal& caller,
                                  RedisConnection& redis,
                                  const v1::Session& session,
                                  v1::ListRegistrationsResponse* all) {
  v1::ListRegistrationsRequest request;
  request.set_session_id(session.id());
  return ReadAllPages(
      "registrations", &v1::ListRegistrationsResponse::registrations_size,
      std::move(request),
      [&](const auto& r, auto* page) {
        return logic.ListRegistrations(caller, redis, session, r, page);
      },
      all);
}

// An enum value's name without its prefix, as ExportQuestions writes them:
// "MODERATOR" for SESSION_ROLE_MODERATOR.
std::string Unprefixed(absl::string_view name, absl::string_view prefix) {
  return std::string(absl::StripPrefix(name, prefix));
}

std::string Bool(bool value) { return value ? "true" : "false"; }

// The names of the organizations that `items` name (`org_id(item)`), for
// the CSVs' organization columns: one read.
template <typename Items, typename OrgId>
absl::StatusOr<OrganizationNames> NamesOf(RedisConnection& redis,
                                          const Principal& caller,
                                          const Items& items, OrgId org_id) {
  std::vector<std::string> ids;
  for (const auto& item : items) ids.push_back(org_id(item));
  return DirectoryStore(redis, caller.tenant_id).GetOrganizationNames(ids);
}

const std::string& NameOf(const OrganizationNames& names,
                          const std::string& id) {
  static const std::string* const kNone = new std::string();
  auto it = names.find(id);
  return it == names.end() ? *kNone : it->second;
}

// The columns a registration starts its rows with in the registrations and
// the attendance CSV.
const std::vector<std::string>& RegistrationColumns() {
  static const auto* const kColumns = new std::vector<std::string>{
      "participant_id",    "display_name", "organization_id",
      "organization_name", "role",         "status"};
  return *kColumns;
}

std::vector<std::string> RegistrationCells(const v1::Registration& r,
                                           const OrganizationNames& names) {
  return {r.participant_id(),
          r.participant_display_name(),
          r.organization_id(),
          NameOf(names, r.organization_id()),
          Unprefixed(v1::SessionRole_Name(r.role()), "SESSION_ROLE_"),
          StatusName(r.status())};
}

// RegistrationColumns(), then `more`.
std::vector<std::string> RegistrationColumnsAnd(std::vector<std::string> more) {
  std::vector<std::string> columns = RegistrationColumns();
  columns.insert(columns.end(), more.begin(), more.end());
  return columns;
}

}  // namespace

absl::Status ExportsLogic::ExportOrganizations(
    const Principal& caller, Redis& redis,
    const v1::ExportOrganizationsRequest& request,
    v1::ExportOrganizationsResponse* response) const {
  TH_ASSIGN_OR_RETURN(bool csv, WantsCsv(request.format()));
  v1::ListOrganizationsResponse all;
  TH_RETURN_IF_ERROR(ReadAllPages(
      "organizations", &v1::ListOrganizationsResponse::organizations_size,
      v1::ListOrganizationsRequest(),
      [&](const auto& r, auto* page) {
        return directory_->ListOrganizations(caller, redis, r, page);
      },
      &all));
  if (!csv) return SetExport(JsonExport(all), response);

  // The import's columns (directory_import_logic.cc), with a name:<tag>
  // column for every tag that any organization has.
  std::set<std::string> tags;
  for (const v1::Organization& org : all.organizations()) {
    for (const auto& [tag, name] : org.localized_names()) tags.insert(tag);
  }
  std::vector<std::string> header = {"name"};
  for (const std::string& tag : tags)
    header.push_back(absl::StrCat("name:", tag));
  header.insert(header.end(), {"country_code", "city", "contact_name",
                               "contact_email", "contact_phone"});
  std::vector<std::vector<std::string>> rows;
  for (const v1::Organization& org : all.organizations()) {
    std::vector<std::string>& row = rows.emplace_back();
    row.push_back(org.name());
    for (const std::string& tag : tags) {
      auto name = org.localized_names().find(tag);
      row.push_back(name == org.localized_names().end() ? "" : name->second);
    }
    row.insert(row.end(), {org.country_code(), org.city(), org.contact_name(),
                           org.contact_email(), org.contact_phone()});
  }
  return SetExport(CsvExport(header, rows), response);
}

absl::Status ExportsLogic::ExportParticipants(
    const Principal& caller, Redis& redis,
    const v1::ExportParticipantsRequest& request,
    v1::ExportParticipantsResponse* response) const {
  TH_ASSIGN_OR_RETURN(bool csv, WantsCsv(request.format()));
  v1::ListParticipantsResponse all;
  TH_RETURN_IF_ERROR(ReadAllPages(
      "participants", &v1::ListParticipantsResponse::participants_size,
      v1::ListParticipantsRequest(),
      [&](const auto& r, auto* page) {
        return directory_->ListParticipants(caller, redis, r, page);
      },
      &all));
  if (!csv) return SetExport(JsonExport(all), response);

  // The import's columns; `organization` names the organization as the
  // import finds it (by any of its names).
  TH_ASSIGN_OR_RETURN(
      OrganizationNames names,
      NamesOf(redis, caller, all.participants(),
              [](const v1::Participant& p) { return p.organization_id(); }));
  std::vector<std::vector<std::string>> rows;
  for (const v1::Participant& p : all.participants()) {
    rows.push_back({p.display_name(), NameOf(names, p.organization_id()),
                    p.email(), p.phone(), p.preferred_language(),
                    p.time_zone()});
  }
  return SetExport(CsvExport({"display_name", "organization", "email", "phone",
                              "preferred_language", "time_zone"},
                             rows),
                   response);
}

absl::Status ExportsLogic::ExportRegistrations(
    const Principal& caller, Redis& redis, const v1::Session& session,
    const v1::ExportRegistrationsRequest& request,
    v1::ExportRegistrationsResponse* response) const {
  TH_ASSIGN_OR_RETURN(bool csv, WantsCsv(request.format()));
  v1::ListRegistrationsResponse all;
  TH_RETURN_IF_ERROR(
      ReadAllRegistrations(*registrations_, caller, redis, session, &all));
  if (!csv) return SetExport(JsonExport(all), response);

  TH_ASSIGN_OR_RETURN(
      OrganizationNames names,
      NamesOf(redis, caller, all.registrations(),
              [](const v1::Registration& r) { return r.organization_id(); }));
  std::vector<std::vector<std::string>> rows;
  for (const v1::Registration& r : all.registrations()) {
    std::vector<std::string> row = RegistrationCells(r, names);
    row.insert(row.end(),
               {absl::StrCat(r.waitlist_position()),
                Unprefixed(v1::Delegation_Name(r.delegation()), "DELEGATION_"),
                Bool(r.self_registered()), r.cancel_reason(),
                FormatTimeOrEmpty(r.create_time()),
                FormatTimeOrEmpty(r.update_time())});
    rows.push_back(std::move(row));
  }
  return SetExport(
      CsvExport(RegistrationColumnsAnd({"waitlist_position", "delegation",
                                        "self_registered", "cancel_reason",
                                        "create_time", "update_time"}),
                rows),
      response);
}

absl::Status ExportsLogic::ExportSessionAttendance(
    const Principal& caller, Redis& redis, const v1::Session& session,
    const v1::ExportSessionAttendanceRequest& request,
    v1::ExportSessionAttendanceResponse* response) const {
  TH_ASSIGN_OR_RETURN(bool csv, WantsCsv(request.format()));
  v1::ListRegistrationsResponse registrations;
  TH_RETURN_IF_ERROR(ReadAllRegistrations(*registrations_, caller, redis,
                                          session, &registrations));
  v1::GetAttendanceReportRequest report_request;
  report_request.set_session_id(session.id());
  v1::GetAttendanceReportResponse report;
  TH_RETURN_IF_ERROR(attendance_->GetAttendanceReport(caller, redis, session,
                                                      report_request, &report));

  // Attendance needs a registration (record_attendance.lua) and the
  // registrations list keeps cancelled ones: every record has its row.
  absl::flat_hash_map<std::string, v1::AttendanceRecord*> attended;
  for (v1::AttendanceRecord& record : *report.mutable_records()) {
    attended.emplace(record.participant_id(), &record);
  }
  v1::SessionAttendanceExport doc;
  doc.set_registered_count(report.registered_count());
  doc.set_attended_count(report.attended_count());
  for (v1::Registration& r : *registrations.mutable_registrations()) {
    v1::SessionAttendanceEntry* entry = doc.add_entries();
    if (auto it = attended.find(r.participant_id()); it != attended.end()) {
      *entry->mutable_attendance() = std::move(*it->second);
    }
    *entry->mutable_registration() = std::move(r);
  }
  if (!csv) return SetExport(JsonExport(doc), response);

  TH_ASSIGN_OR_RETURN(OrganizationNames names,
                      NamesOf(redis, caller, doc.entries(),
                              [](const v1::SessionAttendanceEntry& e) {
                                return e.registration().organization_id();
                              }));
  std::vector<std::vector<std::string>> rows;
  for (const v1::SessionAttendanceEntry& entry : doc.entries()) {
    const v1::AttendanceRecord& a = entry.attendance();
    std::vector<std::string> row =
        RegistrationCells(entry.registration(), names);
    row.insert(
        row.end(),
        {Bool(entry.has_attendance()), FormatTimeOrEmpty(a.first_seen_time()),
         FormatTimeOrEmpty(a.check_in_time()),
         absl::StrCat(a.online_duration().seconds()), Bool(a.online_now())});
    rows.push_back(std::move(row));
  }
  return SetExport(
      CsvExport(RegistrationColumnsAnd({"attended", "first_seen_time",
                                        "check_in_time", "online_seconds",
                                        "online_now"}),
                rows),
      response);
}

absl::Status ExportsLogic::ExportSeriesAttendance(
    const Principal& caller, Redis& redis,
    absl::Span<const v1::Session> occurrences,
    const v1::ExportSeriesAttendanceRequest& request,
    v1::ExportSeriesAttendanceResponse* response) const {
  TH_ASSIGN_OR_RETURN(bool csv, WantsCsv(request.format()));
  v1::GetSeriesAttendanceRequest report_request;
  report_request.set_series_id(request.series_id());
  v1::GetSeriesAttendanceResponse report;
  TH_RETURN_IF_ERROR(attendance_->GetSeriesAttendance(
      caller, redis, occurrences, report_request, &report));
  TH_RETURN_IF_ERROR(
      CheckExportRows("organizations", report.organizations_size()));
  if (!csv) return SetExport(JsonExport(report), response);

  std::vector<std::vector<std::string>> rows;
  for (const v1::OrganizationAttendance& org : report.organizations()) {
    rows.push_back({org.organization_id(), org.organization_name(),
                    absl::StrCat(org.occurrences_attended()),
                    absl::StrCat(org.occurrences_total()),
                    absl::StrJoin(org.session_ids(), " ")});
  }
  return SetExport(
      CsvExport({"organization_id", "organization_name", "occurrences_attended",
                 "occurrences_total", "attended_session_ids"},
                rows),
      response);
}

}  // namespace townhall::registration
