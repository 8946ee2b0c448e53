#include "services/agenda/agenda_service.h"

#include "services/agenda/agenda_watch.h"
#include "services/agenda/items_logic.h"
#include "services/agenda/outcomes_logic.h"
#include "services/agenda/proposals_logic.h"
#include "services/agenda/speakers_logic.h"
#include "services/common/server/session_rpc.h"
#include "services/common/server/unary_handler.h"
#include "townhall/v1/agenda.grpc.pb.h"

namespace townhall::agenda {
namespace {

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

  TH_UNARY_RPC(AgendaService, CreateAgendaItem, &sessions_, items_)
  TH_UNARY_RPC(AgendaService, UpdateAgendaItem, &sessions_, items_)
  TH_UNARY_RPC(AgendaService, MoveAgendaItem, &sessions_, items_)
  TH_UNARY_RPC(AgendaService, DeleteAgendaItem, &sessions_, items_)
  TH_UNARY_RPC(AgendaService, GetAgenda, &sessions_, items_)
  TH_UNARY_RPC(AgendaService, ActivateAgendaItem, &sessions_, items_)
  TH_UNARY_RPC(AgendaService, CompleteAgendaItem, &sessions_, items_)
  TH_UNARY_RPC(AgendaService, SkipAgendaItem, &sessions_, items_)
  TH_UNARY_RPC(AgendaService, ProposeTopic, &sessions_, proposals_)
  TH_UNARY_RPC(AgendaService, ListTopicProposals, &sessions_, proposals_)
  TH_UNARY_RPC(AgendaService, AcceptTopicProposal, &sessions_, proposals_)
  TH_UNARY_RPC(AgendaService, DeclineTopicProposal, &sessions_, proposals_)
  TH_UNARY_RPC(AgendaService, RecordOutcome, &sessions_, outcomes_)
  TH_UNARY_RPC(AgendaService, CreateActionItem, &sessions_, outcomes_)
  TH_UNARY_RPC(AgendaService, UpdateActionItem, &sessions_, outcomes_)
  TH_UNARY_RPC(AgendaService, ListActionItems, &sessions_, outcomes_)
  TH_UNARY_RPC(AgendaService, PrepareFollowUp, &sessions_, outcomes_)
  TH_UNARY_RPC(AgendaService, ExportMinutes, &sessions_, outcomes_)
  TH_UNARY_RPC(AgendaService, RaiseHand, &sessions_, speakers_)
  TH_UNARY_RPC(AgendaService, LowerHand, &sessions_, speakers_)
  TH_UNARY_RPC(AgendaService, CallNextSpeaker, &sessions_, speakers_)
  TH_UNARY_RPC(AgendaService, FinishSpeaker, &sessions_, speakers_)
  TH_UNARY_RPC(AgendaService, GetSpeakersQueue, &sessions_, speakers_)
  TH_UNARY_RPC(AgendaService, SetSpeakersQueueOptions, &sessions_, speakers_)

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
