#include "services/polls/poll_service.h"

#include <memory>
#include <string>

#include "services/common/server/session_rpc.h"
#include "services/common/server/unary_handler.h"
#include "services/polls/poll_logic.h"
#include "services/polls/poll_watch.h"
#include "townhall/v1/polls.grpc.pb.h"

namespace townhall::polls {
namespace {

class PollServiceImpl final : public v1::PollService::CallbackService,
                              public ServiceModule {
 public:
  PollServiceImpl(const ServiceEnv& env, FeedWatchOptions watch_options)
      : sessions_(env, "polls"), watch_(env, PollsWatchSpec(), watch_options) {}

  std::string grpc_name() const override {
    return v1::PollService::service_full_name();
  }
  grpc::Service* service() override { return this; }
  void Stop() override { watch_.Stop(); }

  TH_UNARY_RPC(PollService, CreatePoll, &sessions_, logic_)
  TH_UNARY_RPC(PollService, GetPoll, &sessions_, logic_)
  TH_UNARY_RPC(PollService, ListPolls, &sessions_, logic_)
  TH_UNARY_RPC(PollService, OpenPoll, &sessions_, logic_)
  TH_UNARY_RPC(PollService, ClosePoll, &sessions_, logic_)
  TH_UNARY_RPC(PollService, PublishPoll, &sessions_, logic_)
  TH_UNARY_RPC(PollService, CastBallot, &sessions_, logic_)
  TH_UNARY_RPC(PollService, ExportPollResults, &sessions_, logic_)

  grpc::ServerWriteReactor<v1::WatchPollsResponse>* WatchPolls(
      grpc::CallbackServerContext* ctx,
      const v1::WatchPollsRequest* request) override {
    return watch_.Watch(ctx, request);
  }

 private:
  SessionRpc sessions_;
  PollLogic logic_;
  PollsWatch watch_;
};

}  // namespace

ModuleSpec PollModule() {
  FeedWatchOptions options;
  options.coalesce_window = kBallotCoalesceWindow;
  return PollModule(options);
}

ModuleSpec PollModule(FeedWatchOptions watch_options) {
  return {"polls", [watch_options](const ServiceEnv& env) {
            return std::make_unique<PollServiceImpl>(env, watch_options);
          }};
}

}  // namespace townhall::polls
