// AttendanceLogic: joining and leaving a session online and checking in at
// its venue, a session's attendance report and a series' attendance by
// organization. Same conventions as RegistrationLogic
// (registration_logic.h); the rules of when attendance is open are in
// registration_rules.h.
#pragma once

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "services/common/auth/principal.h"
#include "services/common/redis/redis_connection.h"
#include "townhall/v1/registration.pb.h"
#include "townhall/v1/scheduling.pb.h"

namespace townhall::registration {

class AttendanceLogic {
 public:
  using Redis = RedisConnection;

  // Runs record_attendance.lua.
  absl::Status RecordAttendance(const Principal& caller, Redis& redis,
                                const v1::Session& session,
                                const v1::RecordAttendanceRequest& request,
                                v1::RecordAttendanceResponse* response) const;
  // Runs attendance_report.lua.
  absl::Status GetAttendanceReport(
      const Principal& caller, Redis& redis, const v1::Session& session,
      const v1::GetAttendanceReportRequest& request,
      v1::GetAttendanceReportResponse* response) const;
  // Runs series_attendance.lua, then reads the organizations' names
  // (DirectoryStore).
  absl::Status GetSeriesAttendance(
      const Principal& caller, Redis& redis,
      absl::Span<const v1::Session> occurrences,
      const v1::GetSeriesAttendanceRequest& request,
      v1::GetSeriesAttendanceResponse* response) const;
};

}  // namespace townhall::registration
