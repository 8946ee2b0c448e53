// ExportsLogic: RegistrationService's exports for organizers, as JSON or
// CSV (services/common/export.h: the two forms and the caps every export
// shares). Each export reads page by page through the method its list RPC
// runs (DirectoryLogic, RegistrationLogic, AttendanceLogic), so it holds
// what those answer the same caller, contact details included or not by
// their rule (RedactContacts), and runs no script of its own. The CSV
// columns: docs/registration.md, "Exports".
#pragma once

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "services/common/auth/principal.h"
#include "services/common/redis/redis_connection.h"
#include "services/registration/attendance_logic.h"
#include "services/registration/directory_logic.h"
#include "services/registration/registration_logic.h"
#include "townhall/v1/registration.pb.h"
#include "townhall/v1/scheduling.pb.h"

namespace townhall::registration {

class ExportsLogic {
 public:
  using Redis = RedisConnection;

  // The three outlive this.
  ExportsLogic(const DirectoryLogic* directory,
               const RegistrationLogic* registrations,
               const AttendanceLogic* attendance)
      : directory_(directory),
        registrations_(registrations),
        attendance_(attendance) {}

  // ListOrganizations, page by page. The CSV has the columns of the
  // import's organizations file, so that it re-imports unchanged.
  absl::Status ExportOrganizations(
      const Principal& caller, Redis& redis,
      const v1::ExportOrganizationsRequest& request,
      v1::ExportOrganizationsResponse* response) const;
  // ListParticipants, page by page, then the organizations' names
  // (DirectoryStore) for the CSV's `organization` column.
  absl::Status ExportParticipants(
      const Principal& caller, Redis& redis,
      const v1::ExportParticipantsRequest& request,
      v1::ExportParticipantsResponse* response) const;
  // ListRegistrations (read_registrations.lua), page by page, then the
  // organizations' names.
  absl::Status ExportRegistrations(
      const Principal& caller, Redis& redis, const v1::Session& session,
      const v1::ExportRegistrationsRequest& request,
      v1::ExportRegistrationsResponse* response) const;
  // ListRegistrations page by page and GetAttendanceReport
  // (attendance_report.lua), then the organizations' names.
  absl::Status ExportSessionAttendance(
      const Principal& caller, Redis& redis, const v1::Session& session,
      const v1::ExportSessionAttendanceRequest& request,
      v1::ExportSessionAttendanceResponse* response) const;
  // GetSeriesAttendance (series_attendance.lua).
  absl::Status ExportSeriesAttendance(
      const Principal& caller, Redis& redis,
      absl::Span<const v1::Session> occurrences,
      const v1::ExportSeriesAttendanceRequest& request,
      v1::ExportSeriesAttendanceResponse* response) const;

 private:
  const DirectoryLogic* directory_;
  const RegistrationLogic* registrations_;
  const AttendanceLogic* attendance_;
};

}  // namespace townhall::registration
