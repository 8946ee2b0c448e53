#include "services/questions/question_service.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "services/common/server/session_rpc.h"
#include "services/common/server/unary_handler.h"
#include "services/common/status.h"
#include "services/questions/question_logic.h"
#include "services/questions/question_watch.h"
#include "townhall/v1/questions.grpc.pb.h"

namespace townhall::questions {
namespace {

class QuestionServiceImpl final : public v1::QuestionService::CallbackService,
                                  public ServiceModule {
 public:
  QuestionServiceImpl(const ServiceEnv& env, FeedWatchOptions watch_options)
      : rpc_(env.rpc),
        sessions_(env, "questions"),
        logic_(env.metrics != nullptr ? &env.metrics->business() : nullptr),
        watch_(env, QueueWatchSpec(), watch_options) {}

  std::string grpc_name() const override {
    return v1::QuestionService::service_full_name();
  }
  grpc::Service* service() override { return this; }
  void Stop() override { watch_.Stop(); }

  TH_UNARY_RPC(QuestionService, SubmitQuestion, &sessions_, logic_)
  TH_UNARY_RPC(QuestionService, ListQuestions, &sessions_, logic_)
  TH_UNARY_RPC(QuestionService, UpdateQueueSettings, &sessions_, logic_)
  TH_UNARY_RPC(QuestionService, ExportQuestions, &sessions_, logic_)
  TH_UNARY_RPC(QuestionService, UndoModeration, &sessions_, logic_)
  TH_UNARY_RPC(QuestionService, SuggestDuplicates, &sessions_, logic_)
  TH_UNARY_RPC(QuestionService, ListModerationLog, &sessions_, logic_)
  TH_UNARY_RPC(QuestionService, ExportModerationLog, &sessions_, logic_)
  TH_UNARY_RPC(QuestionService, GetQueueSettings, &sessions_, logic_)
  TH_UNARY_RPC(QuestionService, GetQuestion, rpc_, logic_)
  TH_UNARY_RPC(QuestionService, ApproveQuestion, rpc_, logic_)
  TH_UNARY_RPC(QuestionService, RejectQuestion, rpc_, logic_)
  TH_UNARY_RPC(QuestionService, PinQuestion, rpc_, logic_)
  TH_UNARY_RPC(QuestionService, UnpinQuestion, rpc_, logic_)
  TH_UNARY_RPC(QuestionService, MarkAnswered, rpc_, logic_)
  TH_UNARY_RPC(QuestionService, ArchiveQuestion, rpc_, logic_)
  TH_UNARY_RPC(QuestionService, MergeQuestions, rpc_, logic_)
  TH_UNARY_RPC(QuestionService, GetQuestionPolicy, rpc_, logic_)
  TH_UNARY_RPC(QuestionService, UpdateQuestionPolicy, rpc_, logic_)

  // The hot path: one script on the event loop (QuestionLogic::UpvoteQuestion).
  TH_UNARY_RPC(QuestionService, UpvoteQuestion, rpc_, logic_)
  TH_UNARY_RPC(QuestionService, WithdrawVote, rpc_, logic_)

  // Needs every occurrence of the session's series.
  TH_UNARY_RPC(QuestionService, CarryOverQuestions, &sessions_, logic_)

  grpc::ServerWriteReactor<v1::WatchQueueResponse>* WatchQueue(
      grpc::CallbackServerContext* ctx,
      const v1::WatchQueueRequest* request) override {
    return watch_.Watch(ctx, request);
  }

 private:
  RpcRunner* rpc_;
  SessionRpc sessions_;
  QuestionLogic logic_;
  QueueWatch watch_;
};

}  // namespace

ModuleSpec QuestionModule() {
  FeedWatchOptions options;
  options.coalesce_window = kVoteCoalesceWindow;
  return QuestionModule(options);
}

ModuleSpec QuestionModule(FeedWatchOptions watch_options) {
  return {"questions", [watch_options](const ServiceEnv& env) {
            return std::make_unique<QuestionServiceImpl>(env, watch_options);
          }};
}

}  // namespace townhall::questions
