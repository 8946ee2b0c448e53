#include "services/polls/poll_service.h"

#include <memory>
#include <string>

#include "services/common/server/session_rpc.h"
#include "services/common/server/unary_handler.h"
#include "services/polls/poll_logic.h"
#include "townhall/v1/polls.grpc.pb.h"

namespace townhall::polls {
namespace {

class PollServiceImpl final : public v1::PollService::CallbackService,
                              public ServiceModule {
 public:
  explicit PollServiceImpl(const ServiceEnv& env) : sessions_(env, "polls") {}

  std::string grpc_name() const override {
    return v1::PollService::service_full_name();
  }
  grpc::Service* service() override { return this; }

  TH_UNARY_RPC(PollService, CreatePoll, &sessions_, logic_)
  TH_UNARY_RPC(PollService, GetPoll, &sessions_, logic_)
  TH_UNARY_RPC(PollService, ListPolls, &sessions_, logic_)
  TH_UNARY_RPC(PollService, OpenPoll, &sessions_, logic_)
  TH_UNARY_RPC(PollService, ClosePoll, &sessions_, logic_)
  TH_UNARY_RPC(PollService, PublishPoll, &sessions_, logic_)
  TH_UNARY_RPC(PollService, CastBallot, &sessions_, logic_)

 private:
  SessionRpc sessions_;
  PollLogic logic_;
};

}  // namespace

ModuleSpec PollModule() {
  return {"polls", [](const ServiceEnv& env) {
            return std::make_unique<PollServiceImpl>(env);
          }};
}

}  // namespace townhall::polls
