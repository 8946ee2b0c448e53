// SchedulingLogic: what each SchedulingService RPC does, as plain methods
// that take the caller, a Redis connection and the request. The gRPC
// adapter (scheduling_service.cc) only wires these to the server; tests can
// call them directly.
#pragma once

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "services/common/auth/principal.h"
#include "services/common/redis/redis_connection.h"
#include "services/common/redis/redis_event_loop.h"
#include "townhall/v1/scheduling.pb.h"

namespace townhall::scheduling {

class SchedulingLogic {
 public:
  using Redis = RedisConnection;

  absl::Status CreateVenue(const Principal& caller, Redis& redis,
                           const v1::CreateVenueRequest& request,
                           v1::CreateVenueResponse* response) const;
  absl::Status GetVenue(const Principal& caller, Redis& redis,
                        const v1::GetVenueRequest& request,
                        v1::GetVenueResponse* response) const;
  absl::Status ListVenues(const Principal& caller, Redis& redis,
                          const v1::ListVenuesRequest& request,
                          v1::ListVenuesResponse* response) const;

  absl::Status CreateSession(const Principal& caller, Redis& redis,
                             const v1::CreateSessionRequest& request,
                             v1::CreateSessionResponse* response) const;
  // The hot read path: one command on the RedisEventLoop, no worker
  // hand-off. `finish` runs once, on the loop thread or right here.
  void GetSession(
      const Principal& caller, RedisEventLoop& loop, absl::Time deadline,
      const v1::GetSessionRequest& request, v1::GetSessionResponse* response,
      absl::AnyInvocable<void(const absl::Status&) &&> finish) const;
  absl::Status ListSessions(const Principal& caller, Redis& redis,
                            const v1::ListSessionsRequest& request,
                            v1::ListSessionsResponse* response) const;
  absl::Status UpdateSession(const Principal& caller, Redis& redis,
                             const v1::UpdateSessionRequest& request,
                             v1::UpdateSessionResponse* response) const;
  // Publish, Start, End and Cancel: one state transition each.
  absl::Status PublishSession(const Principal& caller, Redis& redis,
                              const v1::PublishSessionRequest& request,
                              v1::PublishSessionResponse* response) const;
  absl::Status StartSession(const Principal& caller, Redis& redis,
                            const v1::StartSessionRequest& request,
                            v1::StartSessionResponse* response) const;
  absl::Status EndSession(const Principal& caller, Redis& redis,
                          const v1::EndSessionRequest& request,
                          v1::EndSessionResponse* response) const;
  absl::Status CancelSession(const Principal& caller, Redis& redis,
                             const v1::CancelSessionRequest& request,
                             v1::CancelSessionResponse* response) const;

  absl::Status CreateSeries(const Principal& caller, Redis& redis,
                            const v1::CreateSeriesRequest& request,
                            v1::CreateSeriesResponse* response) const;
  absl::Status GetSeries(const Principal& caller, Redis& redis,
                         const v1::GetSeriesRequest& request,
                         v1::GetSeriesResponse* response) const;
  absl::Status ListSeriesOccurrences(
      const Principal& caller, Redis& redis,
      const v1::ListSeriesOccurrencesRequest& request,
      v1::ListSeriesOccurrencesResponse* response) const;
  absl::Status CancelOccurrence(const Principal& caller, Redis& redis,
                                const v1::CancelOccurrenceRequest& request,
                                v1::CancelOccurrenceResponse* response) const;
  absl::Status MoveOccurrence(const Principal& caller, Redis& redis,
                              const v1::MoveOccurrenceRequest& request,
                              v1::MoveOccurrenceResponse* response) const;

  // Pure computation; needs no Redis.
  absl::Status ProposeFairSlots(const Principal& caller,
                                const v1::ProposeFairSlotsRequest& request,
                                v1::ProposeFairSlotsResponse* response) const;

  absl::Status ExportCalendar(const Principal& caller, Redis& redis,
                              const v1::ExportCalendarRequest& request,
                              v1::ExportCalendarResponse* response) const;
};

}  // namespace townhall::scheduling
