// RedisEventLoop: WAIT for replicas after writes (RedisOptions::wait_replicas),
// as a group commit per node.
#include <hiredis/async.h>

#include <memory>
#include <utility>

#include "services/common/redis/eval_command.h"
#include "services/common/redis/redis_event_loop.h"
#include "services/common/redis/redis_event_loop_internal.h"
#include "services/common/redis/replica_wait.h"

namespace townhall {

using redis_event_loop_internal::MayHaveWritten;
using redis_event_loop_internal::ReplyOf;
using redis_event_loop_internal::Unavailable;

void RedisEventLoop::SendWaits() {
  // After the loop stopped, the connections are being freed: their
  // callbacks answer every call.
  if (closed_) return;
  for (Node* node : std::exchange(to_confirm_, {})) {
    // OnWaitReply sends this node's next WAIT.
    if (node->wait_in_flight) continue;
    std::vector<Pending*> pendings = std::exchange(node->unconfirmed, {});
    if (pendings.empty()) continue;  // all lost with their connection
    absl::Time deadline = absl::InfinitePast();
    for (Pending* pending : pendings) {
      deadline = std::max(deadline, pending->deadline);
    }
    const std::vector<std::string> wait_argv =
        WaitCommand(options_.wait_replicas, options_.wait_timeout, deadline);
    HiredisArgv wait(wait_argv);
    auto* group = new WaitGroup{pendings};
    if (node->context != nullptr &&
        redisAsyncCommandArgv(node->context, &RedisEventLoop::OnWaitReply,
                              group, wait.argc(), wait.argv(),
                              wait.lengths()) == REDIS_OK) {
      for (Pending* pending : pendings) pending->group = group;
      node->wait_in_flight = true;
      continue;
    }
    // Their replies come (or came) alone: none may count as confirmed.
    for (Pending* pending : pendings) {
      pending->confirm = Pending::Confirm::kUnsent;
    }
    delete group;
  }
}

void RedisEventLoop::OnWaitReply(redisAsyncContext* context, void* reply,
                                 void* privdata) {
  auto* node = static_cast<Node*>(context->data);
  std::unique_ptr<WaitGroup> group(static_cast<WaitGroup*>(privdata));
  RedisEventLoop* loop = node->loop;
  // Writes sent while this WAIT was out get the next one.
  node->wait_in_flight = false;
  if (!node->unconfirmed.empty()) loop->to_confirm_.push_back(node);
  const absl::Status confirmed =
      CheckReplicaWait(ReplyOf(reply), loop->options_.wait_replicas);
  for (Pending* pending : group->pendings) {
    // Replies come in order: the commands' before their WAIT's.
    absl::StatusOr<RedisReply> result = pending->reply.has_value()
                                            ? *std::move(pending->reply)
                                            : Unavailable("connection lost");
    if (MayHaveWritten(result) && !confirmed.ok()) result = confirmed;
    Finish(node, pending, reply != nullptr, std::move(result));
  }
  loop->SendWaits();
}

}  // namespace townhall
