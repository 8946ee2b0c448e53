#include "services/agenda/agenda_service.h"

#include "services/agenda/agenda_watch.h"
#include "services/agenda/items_logic.h"
#include "services/agenda/outcomes_logic.h"
#include "services/agenda/proposals_logic.h"
#include "services/agenda/speakers_logic.h"
#include "services/common/server/session_rpc.h"
#include "townhall/v1/agenda.grpc.pb.h"

namespace townhall::agenda {
namespace {

// Every unary RPC acts on one session: authenticate and authorize, fetch
// the session from SchedulingService, run `logic.Method` on a Redis worker.
#define TH_AGENDA_RPC(logic, Method)                                          \
  grpc::ServerUnaryReactor* Method(grpc::CallbackServerContext* ctx,          \
                                   const v1::Method##Request* request,        \
                                   v1::Method##Response* response) override { \
    return sessions_.WithSession(                                             \
        ctx, TH_METHOD(AgendaService, Method), *request,                      \
        request->session_id(),                                                \
        [this, request, response](const Principal& caller,                    \
                                  RedisConnection& redis,                     \
                                  const v1::Session& session) {               \
          return logic.Method(caller, redis, session, *request, response);    \
        });                                                                   \
  }

class AgendaServiceImpl final : public v1::AgendaService::CallbackService,
                                public ServiceModule {
 public:
  AgendaServiceImpl(const ServiceEnv& env, FeedWatchOptions watch_options)
      : sessions_(env, "agenda"),
        watch_(env, AgendaWatchSpec(), watch_options) {}

  std::string grpc_name() const override {
    return v1::AgendaService::service_full_name();
  }
  grpc::Service* service() override { return this; }
  void Stop() override { watch_.Stop(); }

  TH_AGENDA_RPC(items_, CreateAgendaItem)
  TH_AGENDA_RPC(items_, UpdateAgendaItem)
  TH_AGENDA_RPC(items_, MoveAgendaItem)
  TH_AGENDA_RPC(items_, DeleteAgendaItem)
  TH_AGENDA_RPC(items_, GetAgenda)
  TH_AGENDA_RPC(items_, ActivateAgendaItem)
  TH_AGENDA_RPC(items_, CompleteAgendaItem)
  TH_AGENDA_RPC(items_, SkipAgendaItem)
  TH_AGENDA_RPC(proposals_, ProposeTopic)
  TH_AGENDA_RPC(proposals_, ListTopicProposals)
  TH_AGENDA_RPC(proposals_, AcceptTopicProposal)
  TH_AGENDA_RPC(proposals_, DeclineTopicProposal)
  TH_AGENDA_RPC(outcomes_, RecordOutcome)
  TH_AGENDA_RPC(outcomes_, CreateActionItem)
  TH_AGENDA_RPC(outcomes_, UpdateActionItem)
  TH_AGENDA_RPC(outcomes_, ListActionItems)
  TH_AGENDA_RPC(outcomes_, PrepareFollowUp)
  TH_AGENDA_RPC(outcomes_, ExportMinutes)
  TH_AGENDA_RPC(speakers_, RaiseHand)
  TH_AGENDA_RPC(speakers_, LowerHand)
  TH_AGENDA_RPC(speakers_, CallNextSpeaker)
  TH_AGENDA_RPC(speakers_, FinishSpeaker)
  TH_AGENDA_RPC(speakers_, GetSpeakersQueue)
  TH_AGENDA_RPC(speakers_, SetSpeakersQueueOptions)

  grpc::ServerWriteReactor<v1::WatchAgendaResponse>* WatchAgenda(
      grpc::CallbackServerContext* ctx,
      const v1::WatchAgendaRequest* request) override {
    return watch_.Watch(ctx, request);
  }

 private:
  SessionRpc sessions_;
  ItemsLogic items_;
  ProposalsLogic proposals_;
  OutcomesLogic outcomes_;
  SpeakersLogic speakers_;
  AgendaWatch watch_;
};

#undef TH_AGENDA_RPC

}  // namespace

ModuleSpec AgendaModule() { return AgendaModule(FeedWatchOptions()); }

ModuleSpec AgendaModule(FeedWatchOptions watch_options) {
  return {"agenda", [watch_options](const ServiceEnv& env) {
            return std::make_unique<AgendaServiceImpl>(env, watch_options);
          }};
}

}  // namespace townhall::agenda
