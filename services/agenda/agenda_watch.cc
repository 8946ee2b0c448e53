#include "services/agenda/agenda_watch.h"

namespace townhall::agenda {
namespace {

// Placeholder until the watch is implemented.
class Refusal final : public grpc::ServerWriteReactor<v1::WatchAgendaResponse> {
 public:
  Refusal() { Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "")); }
  void OnDone() override { delete this; }
};

}  // namespace

AgendaWatch::AgendaWatch(const ServiceEnv& env) : env_(env) {}
AgendaWatch::~AgendaWatch() = default;

grpc::ServerWriteReactor<v1::WatchAgendaResponse>* AgendaWatch::Watch(
    grpc::CallbackServerContext* ctx, const v1::WatchAgendaRequest* request) {
  return new Refusal();
}

}  // namespace townhall::agenda
