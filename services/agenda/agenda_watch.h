// AgendaWatch: the server-streaming WatchAgenda. A snapshot with its feed
// version first, then every change of the session's agenda feed in order;
// a resume after a version sends exactly the changes after it (or a fresh
// snapshot when the feed no longer has them).
#pragma once

#include <grpcpp/grpcpp.h>

#include "services/common/server/service_module.h"
#include "townhall/v1/agenda.pb.h"

namespace townhall::agenda {

class AgendaWatch {
 public:
  explicit AgendaWatch(const ServiceEnv& env);
  ~AgendaWatch();

  grpc::ServerWriteReactor<v1::WatchAgendaResponse>* Watch(
      grpc::CallbackServerContext* ctx, const v1::WatchAgendaRequest* request);

 private:
  const ServiceEnv env_;
};

}  // namespace townhall::agenda
