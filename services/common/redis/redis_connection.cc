#include "services/common/redis/redis_connection.h"

#include <hiredis/hiredis.h>
#include <signal.h>
#include <sys/time.h>

#include <algorithm>
#include <memory>

#include "absl/algorithm/container.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/logging.h"
#include "services/common/redis/cluster_router.h"
#include "services/common/redis/command_keys.h"
#include "services/common/redis/replica_wait.h"
#include "services/common/redis/eval_command.h"

namespace townhall {
namespace {

// After a failed connect, fail fast for this long instead of trying to
// connect again on every command (Redis is down; do not pile up).
constexpr absl::Duration kReconnectBackoff = absl::Milliseconds(50);

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

struct timeval TimevalOf(absl::Duration d) {
  return absl::ToTimeval(std::max(d, absl::Milliseconds(1)));
}

// Redis 7 appends where a script raised an error (error() / th_fail):
// "TH:ABORTED:stale script: <sha1>, on @user_script:12." The location is
// for logs, not part of the message a client sees.
absl::string_view StripScriptLocation(absl::string_view error) {
  size_t pos = error.rfind(" script: ");
  if (pos == absl::string_view::npos) return error;
  absl::string_view tail = error.substr(pos);
  if (absl::StrContains(tail, ", on @") && absl::EndsWith(tail, ".")) {
    return error.substr(0, pos);
  }
  return error;
}

}  // namespace

absl::Status ScriptErrorToStatus(absl::string_view error) {
  size_t pos = error.find("TH:");
  if (pos == absl::string_view::npos) {
    return absl::InternalError(absl::StrCat("redis script error: ", error));
  }
  absl::string_view rest = StripScriptLocation(error.substr(pos + 3));
  size_t colon = rest.find(':');
  absl::string_view code_name = rest.substr(0, colon);
  absl::string_view message =
      colon == absl::string_view::npos ? "" : rest.substr(colon + 1);
  static constexpr std::pair<absl::string_view, absl::StatusCode> kCodes[] = {
      {"INVALID_ARGUMENT", absl::StatusCode::kInvalidArgument},
      {"NOT_FOUND", absl::StatusCode::kNotFound},
      {"ALREADY_EXISTS", absl::StatusCode::kAlreadyExists},
      {"FAILED_PRECONDITION", absl::StatusCode::kFailedPrecondition},
      {"ABORTED", absl::StatusCode::kAborted},
      {"PERMISSION_DENIED", absl::StatusCode::kPermissionDenied},
      {"RESOURCE_EXHAUSTED", absl::StatusCode::kResourceExhausted},
      {"OUT_OF_RANGE", absl::StatusCode::kOutOfRange},
  };
  for (const auto& [name, code] : kCodes) {
    if (code_name == name) return absl::Status(code, message);
  }
  return absl::InternalError(absl::StrCat("redis script error: ", error));
}

RedisConnection::RedisConnection(RedisOptions options)
    : options_(std::move(options)),
      instruments_(options_.cluster == nullptr ? options_.metrics : nullptr,
                   options_.address) {
  // hiredis 0.14 writes with write(2): a Redis that dies mid-write must not
  // kill the process with SIGPIPE (servers, tools and tests alike).
  static const bool sigpipe_ignored = [] {
    signal(SIGPIPE, SIG_IGN);
    return true;
  }();
  (void)sigpipe_ignored;
  if (options_.cluster != nullptr) {
    // Its node connections time and count their own calls.
    router_ =
        std::make_unique<ClusterRouter>(options_.cluster, options_.metrics);
  } else if (options_.metrics != nullptr) {
    // The node's series exists before its first reconnect.
    options_.metrics->Reconnects(options_.address);
  }
}

RedisConnection::~RedisConnection() {
  if (context_ != nullptr) redisFree(context_);
}

void RedisConnection::Drop(absl::string_view why) {
  if (context_ == nullptr) return;
  LogWarning("redis connection dropped",
             {{"address", options_.address}, {"reason", std::string(why)}});
  redisFree(context_);
  context_ = nullptr;
}

absl::Status RedisConnection::TransportError(absl::string_view what) {
  std::string detail = context_ != nullptr && context_->errstr[0] != '\0'
                           ? context_->errstr
                           : "connection lost";
  Drop(detail);
  if (absl::Now() >= deadline_) {
    return absl::DeadlineExceededError(
        absl::StrCat("redis ", what, ": deadline exceeded"));
  }
  return absl::UnavailableError(
      absl::StrCat("storage unavailable (redis ", what, ": ", detail, ")"));
}

absl::Status RedisConnection::EnsureConnected() {
  if (context_ != nullptr) return absl::OkStatus();
  absl::Time now = absl::Now();
  if (now - last_connect_failure_ < kReconnectBackoff) {
    return absl::UnavailableError("storage unavailable (redis is down)");
  }
  absl::Duration timeout = std::min(options_.connect_timeout, deadline_ - now);
  struct timeval tv = TimevalOf(timeout);
  redisContext* c = nullptr;
  if (absl::StartsWith(options_.address, "unix:")) {
    c = redisConnectUnixWithTimeout(options_.address.c_str() + 5, tv);
  } else {
    absl::string_view address = options_.address;
    size_t colon = address.rfind(':');
    int port = 6379;
    std::string host(address.substr(0, colon));
    if (colon == absl::string_view::npos ||
        !absl::SimpleAtoi(address.substr(colon + 1), &port)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "redis address must be host:port or unix:/path, got ", address));
    }
    c = redisConnectWithTimeout(host.c_str(), port, tv);
  }
  if (c == nullptr || c->err != 0) {
    std::string detail = c != nullptr ? c->errstr : "out of memory";
    if (c != nullptr) redisFree(c);
    last_connect_failure_ = absl::Now();
    return absl::UnavailableError(
        absl::StrCat("storage unavailable (redis connect: ", detail, ")"));
  }
  context_ = c;
  applied_timeout_ = absl::ZeroDuration();
  if (ever_connected_ && instruments_.metrics() != nullptr) {
    instruments_.metrics()->Reconnects(options_.address).Increment();
  }
  ever_connected_ = true;
  return absl::OkStatus();
}

void RedisConnection::Record(prometheus::Histogram* histogram, absl::Time start,
                             const absl::Status& status) {
  if (histogram == nullptr) return;
  if (status.ok()) {
    histogram->Observe(absl::ToDoubleSeconds(absl::Now() - start));
  } else {
    instruments_.metrics()->Failed(status);
  }
}

absl::Status RedisConnection::ApplyTimeout() {
  absl::Duration remaining = deadline_ - absl::Now();
  if (remaining <= absl::ZeroDuration()) {
    return absl::DeadlineExceededError("deadline exceeded before redis call");
  }
  absl::Duration timeout = std::min(options_.command_timeout, remaining);
  // setsockopt only when the timeout changes noticeably: it is a syscall.
  if (absl::AbsDuration(timeout - applied_timeout_) > absl::Milliseconds(5)) {
    if (redisSetTimeout(context_, TimevalOf(timeout)) != REDIS_OK) {
      return TransportError("set timeout");
    }
    applied_timeout_ = timeout;
  }
  return absl::OkStatus();
}

absl::StatusOr<RedisReply> RedisConnection::Command(
    absl::Span<const std::string> argv) {
  if (router_ != nullptr) {
    router_->set_deadline(deadline_);
    return router_->Command(CommandKeys(argv), argv);
  }
  std::vector<std::vector<std::string>> one = {
      std::vector<std::string>(argv.begin(), argv.end())};
  // A blocking read's time is its BLOCK, not Redis': not timed.
  prometheus::Histogram* timer =
      argv.empty() || absl::EqualsIgnoreCase(argv[0], "XREAD")
          ? nullptr
          : instruments_.Command(argv[0]);
  const absl::Time start = timer != nullptr ? absl::Now() : absl::Time();
  auto replies = SendPipeline(one, CommandWrites(argv));
  Record(timer, start, replies.status());
  if (!replies.ok()) return replies.status();
  return std::move((*replies)[0]);
}

absl::StatusOr<std::vector<RedisReply>> RedisConnection::Pipeline(
    absl::Span<const std::vector<std::string>> commands) {
  if (router_ != nullptr) {
    router_->set_deadline(deadline_);
    return router_->Pipeline(commands);
  }
  prometheus::Histogram* timer = instruments_.Command(
      commands.size() == 1 && !commands[0].empty() ? commands[0][0]
                                                   : "PIPELINE");
  const absl::Time start = timer != nullptr ? absl::Now() : absl::Time();
  absl::StatusOr<std::vector<RedisReply>> replies =
      SendPipeline(commands, absl::c_any_of(commands, [](const auto& argv) {
                     return CommandWrites(argv);
                   }));
  Record(timer, start, replies.status());
  return replies;
}

absl::StatusOr<std::vector<RedisReply>> RedisConnection::SendPipeline(
    absl::Span<const std::vector<std::string>> commands, bool confirm) {
  if (confirm && options_.wait_replicas > 0) {
    std::vector<std::vector<std::string>> confirmed(commands.begin(),
                                                    commands.end());
    confirmed.push_back(WaitCommand(options_.wait_replicas,
                                    options_.wait_timeout, deadline_));
    absl::StatusOr<std::vector<RedisReply>> replies =
        SendPipeline(confirmed, /*confirm=*/false);
    if (!replies.ok()) return replies;
    RedisReply wait = std::move(replies->back());
    replies->pop_back();
    bool wrote = absl::c_none_of(*replies, [](const RedisReply& reply) {
      return reply.type == RedisReply::Type::kError;
    });
    if (wrote) {
      if (absl::Status s = CheckReplicaWait(wait, options_.wait_replicas);
          !s.ok()) {
        return s;
      }
    }
    return replies;
  }
  if (absl::Now() >= deadline_) {
    return absl::DeadlineExceededError("deadline exceeded before redis call");
  }
  if (absl::Status s = EnsureConnected(); !s.ok()) return s;
  if (absl::Status s = ApplyTimeout(); !s.ok()) return s;
  for (const auto& argv : commands) {
    HiredisArgv hiredis(argv);
    if (redisAppendCommandArgv(context_, hiredis.argc(), hiredis.argv(),
                               hiredis.lengths()) != REDIS_OK) {
      return TransportError("write");
    }
  }
  std::vector<RedisReply> replies;
  replies.reserve(commands.size());
  for (size_t i = 0; i < commands.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(context_, &raw) != REDIS_OK || raw == nullptr) {
      return TransportError("read");
    }
    ReplyPtr reply(static_cast<redisReply*>(raw));
    replies.push_back(RedisReply::FromHiredis(*reply));
  }
  for (const RedisReply& reply : replies) {
    if (IsTransientRedisError(reply)) {
      return absl::UnavailableError(
          absl::StrCat("storage unavailable (redis: ", reply.str, ")"));
    }
  }
  return replies;
}

absl::Status RedisConnection::Send(absl::Span<const std::string> argv) {
  if (absl::Status s = EnsureConnected(); !s.ok()) return s;
  if (absl::Status s = ApplyTimeout(); !s.ok()) return s;
  HiredisArgv hiredis(argv);
  if (redisAppendCommandArgv(context_, hiredis.argc(), hiredis.argv(),
                             hiredis.lengths()) != REDIS_OK) {
    return TransportError("write");
  }
  for (int done = 0; !done;) {
    if (redisBufferWrite(context_, &done) != REDIS_OK) {
      return TransportError("write");
    }
  }
  return absl::OkStatus();
}

int RedisConnection::fd() const {
  return context_ == nullptr ? -1 : context_->fd;
}

absl::StatusOr<std::optional<RedisReply>> RedisConnection::Receive() {
  if (context_ == nullptr) {
    return absl::UnavailableError("storage unavailable (redis: not connected)");
  }
  void* raw = nullptr;
  if (redisBufferRead(context_) != REDIS_OK ||
      redisGetReplyFromReader(context_, &raw) != REDIS_OK) {
    return TransportError("read");
  }
  if (raw == nullptr) return std::nullopt;
  ReplyPtr reply(static_cast<redisReply*>(raw));
  return RedisReply::FromHiredis(*reply);
}

absl::StatusOr<RedisReply> RedisConnection::Eval(
    const LuaScript& script, absl::Span<const std::string> keys,
    absl::Span<const std::string> args) {
  absl::StatusOr<RedisReply> reply =
      ScriptReplyToStatus(EvalReply(script, keys, args), script);
  // A script's bug (an error that is no TH:<CODE>); transport failures are
  // counted where they happen.
  if (options_.metrics != nullptr &&
      reply.status().code() == absl::StatusCode::kInternal) {
    options_.metrics->Failed(RedisErrorKind::kScript);
  }
  return reply;
}

absl::StatusOr<RedisReply> RedisConnection::EvalReply(
    const LuaScript& script, absl::Span<const std::string> keys,
    absl::Span<const std::string> args) {
  if (router_ != nullptr) {
    router_->set_deadline(deadline_);
    return router_->EvalReply(script, keys, args);
  }
  std::vector<std::vector<std::string>> command = {
      EvalShaCommand(script, keys, args)};
  prometheus::Histogram* timer = instruments_.Script(script.name());
  const absl::Time start = timer != nullptr ? absl::Now() : absl::Time();
  absl::StatusOr<std::vector<RedisReply>> replies =
      SendPipeline(command, script.writes());
  if (replies.ok() && IsNoScript((*replies)[0])) {
    ToEvalCommand(script, &command[0]);
    replies = SendPipeline(command, script.writes());
  }
  Record(timer, start, replies.status());
  if (!replies.ok()) return replies.status();
  return std::move((*replies)[0]);
}

absl::StatusOr<RedisReply> ScriptReplyToStatus(absl::StatusOr<RedisReply> reply,
                                               const LuaScript& script) {
  if (!reply.ok() || reply->type != RedisReply::Type::kError) return reply;
  absl::Status status = ScriptErrorToStatus(reply->str);
  if (status.code() == absl::StatusCode::kInternal) {
    LogError("lua script failed",
             {{"script", script.name()}, {"error", reply->str}});
  }
  return status;
}

}  // namespace townhall
