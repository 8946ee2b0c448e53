#include "clients/cpp/console/moderator_console.h"

#include <signal.h>

#include <atomic>
#include <deque>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "clients/cpp/console/console_state.h"
#include "clients/cpp/console/console_view.h"
#include "clients/cpp/console/resuming_watch.h"
#include "clients/cpp/console/terminal.h"
#include "townhall/v1/agenda.grpc.pb.h"
#include "townhall/v1/polls.grpc.pb.h"
#include "townhall/v1/questions.grpc.pb.h"
#include "townhall/v1/registration.grpc.pb.h"

namespace townhall::console {
namespace {

std::atomic<bool> interrupted{false};

void OnSignal(int) { interrupted = true; }

// Installs OnSignal for SIGINT and SIGTERM (so the terminal is given back
// before the process ends) and puts the previous handlers back when done:
// the console runs inside townhallctl.
class SignalGuard {
 public:
  SignalGuard() {
    interrupted = false;
    struct sigaction action = {};
    action.sa_handler = OnSignal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &old_int_);
    sigaction(SIGTERM, &action, &old_term_);
  }
  ~SignalGuard() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }

 private:
  struct sigaction old_int_ = {};
  struct sigaction old_term_ = {};
};

// State updates posted by the watch and command threads, applied on the UI
// thread.
class Inbox {
 public:
  using Update = std::function<void(ConsoleState&)>;

  void Post(Update update) {
    absl::MutexLock lock(&mu_);
    updates_.push_back(std::move(update));
  }
  // Applies everything posted so far, in order; returns whether there was
  // anything.
  bool Drain(ConsoleState& state) {
    std::vector<Update> updates;
    {
      absl::MutexLock lock(&mu_);
      updates.swap(updates_);
    }
    for (Update& update : updates) update(state);
    return !updates.empty();
  }

 private:
  absl::Mutex mu_;
  std::vector<Update> updates_ ABSL_GUARDED_BY(mu_);
};

// The most ListRegistrations answers at once.
constexpr int kRegistrationsPage = 500;

absl::Status FromGrpc(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

// Runs the moderator's server calls one at a time on its own thread, so
// the screen never waits for the server; outcomes go to the inbox. The
// watch streams bring the changes themselves.
class CommandRunner {
 public:
  CommandRunner(const TownhallClient& client, std::string session_id,
                Inbox& inbox)
      : client_(client),
        session_id_(std::move(session_id)),
        inbox_(inbox),
        questions_(v1::QuestionService::NewStub(client.channel())),
        agenda_(v1::AgendaService::NewStub(client.channel())),
        polls_(v1::PollService::NewStub(client.channel())),
        registration_(v1::RegistrationService::NewStub(client.channel())),
        thread_([this] { Loop(); }) {}
  // Cancels the call in flight and drops the rest.
  ~CommandRunner() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
      if (context_ != nullptr) context_->TryCancel();
    }
    thread_.join();
  }

  void Run(Command command) {
    Enqueue([this, command = std::move(command)] {
      std::optional<v1::SpeakersQueue> nobody_called;
      std::string detail;
      absl::Status status = Execute(command, &nobody_called, &detail);
      inbox_.Post([command, status, nobody_called = std::move(nobody_called),
                   detail = std::move(detail)](ConsoleState& state) {
        state.OnCommandDone(command, status,
                            nobody_called ? &*nobody_called : nullptr, detail);
      });
    });
  }

  // Reads an item's speakers' queue into the state (see
  // AgendaState::TakeQueueToFetch).
  void FetchSpeakersQueue(std::string item_id) {
    Enqueue([this, item_id = std::move(item_id)] {
      v1::GetSpeakersQueueRequest request;
      request.set_session_id(session_id_);
      request.set_agenda_item_id(item_id);
      v1::GetSpeakersQueueResponse response;
      absl::Status status = Call(&v1::AgendaService::Stub::GetSpeakersQueue,
                                 *agenda_, request, &response);
      if (!status.ok()) return;  // the stream brings the next change anyway
      inbox_.Post([queue = response.queue()](ConsoleState& state) {
        state.ApplyFetchedQueue(queue);
      });
    });
  }

  // Reads the names and organizations of `participants` into the state,
  // with those of everyone registered for the session (the moderator will
  // see them next): registrations carry them, and a moderator's join token
  // may list them. GetParticipant (organizers only) names the ones not
  // registered; without a name the console shows the id.
  void FetchNames(std::vector<std::string> participants) {
    Enqueue([this, participants = std::move(participants)] {
      absl::flat_hash_set<std::string> missing(participants.begin(),
                                               participants.end());
      v1::ListRegistrationsRequest request;
      request.set_session_id(session_id_);
      request.set_page_size(kRegistrationsPage);
      do {
        v1::ListRegistrationsResponse response;
        if (!Call(&v1::RegistrationService::Stub::ListRegistrations,
                  *registration_, request, &response)
                 .ok()) {
          break;
        }
        for (const v1::Registration& r : response.registrations()) {
          missing.erase(r.participant_id());
        }
        inbox_.Post(
            [registrations = std::move(*response.mutable_registrations())](
                ConsoleState& state) {
              for (const v1::Registration& r : registrations) {
                state.SetParticipantName(r.participant_id(),
                                         r.participant_display_name(),
                                         r.organization_name());
              }
            });
        request.set_page_token(response.next_page_token());
      } while (!request.page_token().empty());
      for (const std::string& participant_id : missing) {
        v1::GetParticipantRequest get;
        get.set_participant_id(participant_id);
        v1::GetParticipantResponse response;
        if (!Call(&v1::RegistrationService::Stub::GetParticipant,
                  *registration_, get, &response)
                 .ok()) {
          continue;
        }
        inbox_.Post(
            [participant_id, name = response.participant().display_name()](
                ConsoleState& state) {
              state.SetParticipantName(participant_id, name);
            });
      }
    });
  }

 private:
  void Enqueue(std::function<void()> work) {
    absl::MutexLock lock(&mu_);
    work_.push_back(std::move(work));
  }

  void Loop() {
    while (true) {
      std::function<void()> work;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(
            +[](CommandRunner* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
              return self->stopping_ || !self->work_.empty();
            },
            this));
        if (stopping_) return;
        work = std::move(work_.front());
        work_.pop_front();
      }
      work();
    }
  }

  // One unary call with the client's deadline and token, cancellable by
  // the destructor.
  template <typename Stub, typename Request, typename Response>
  absl::Status Call(grpc::Status (Stub::*method)(grpc::ClientContext*,
                                                 const Request&, Response*),
                    Stub& stub, const Request& request, Response* response) {
    grpc::ClientContext context;
    client_.PrepareContext({}, &context);
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return absl::CancelledError("quitting");
      context_ = &context;
    }
    grpc::Status status = (stub.*method)(&context, request, response);
    absl::MutexLock lock(&mu_);
    context_ = nullptr;
    return FromGrpc(status);
  }

  template <typename Request, typename Response>
  absl::Status CallQuestions(grpc::Status (v1::QuestionService::Stub::*method)(
                                 grpc::ClientContext*, const Request&,
                                 Response*),
                             Request request) {
    request.set_session_id(session_id_);
    Response response;
    return Call(method, *questions_, request, &response);
  }

  // CallQuestions on the command's question.
  template <typename Request, typename Response>
  absl::Status CallOnQuestion(grpc::Status (v1::QuestionService::Stub::*method)(
                                  grpc::ClientContext*, const Request&,
                                  Response*),
                              const Command& command, Request request = {}) {
    request.set_question_id(command.question_id);
    return CallQuestions(method, std::move(request));
  }

  // Runs `command`; a CallNextSpeaker that called nobody leaves its queue in
  // `nobody_called` (the status line says why), an undo what it undid in
  // `detail`.
  absl::Status Execute(const Command& command,
                       std::optional<v1::SpeakersQueue>* nobody_called,
                       std::string* detail) {
    using Stub = v1::QuestionService::Stub;
    switch (command.kind) {
      case Command::Kind::kApprove: {
        v1::ApproveQuestionRequest request;
        request.set_edited_text(command.edited_text);
        return CallOnQuestion(&Stub::ApproveQuestion, command, request);
      }
      case Command::Kind::kReject: {
        v1::RejectQuestionRequest request;
        request.set_reason(command.reason);
        return CallOnQuestion(&Stub::RejectQuestion, command, request);
      }
      case Command::Kind::kPin:
        return CallOnQuestion(&Stub::PinQuestion, command);
      case Command::Kind::kUnpin:
        return CallOnQuestion(&Stub::UnpinQuestion, command);
      case Command::Kind::kMarkAnswered:
        return CallOnQuestion(&Stub::MarkAnswered, command);
      case Command::Kind::kMerge: {
        v1::MergeQuestionsRequest request;
        request.set_target_question_id(command.question_id);
        for (const std::string& id : command.duplicate_ids) {
          request.add_duplicate_question_ids(id);
        }
        return CallQuestions(&Stub::MergeQuestions, request);
      }
      case Command::Kind::kArchive:
        return CallOnQuestion(&Stub::ArchiveQuestion, command);
      case Command::Kind::kUndo: {
        v1::UndoModerationRequest request;
        request.set_session_id(session_id_);
        v1::UndoModerationResponse response;
        absl::Status status =
            Call(&Stub::UndoModeration, *questions_, request, &response);
        if (status.ok()) {
          *detail = absl::StrCat(
              response.undone().action(), " ",
              absl::StrJoin(response.undone().question_ids(), ", "));
        }
        return status;
      }
      case Command::Kind::kCallNextSpeaker: {
        v1::CallNextSpeakerRequest request;
        request.set_session_id(session_id_);
        request.set_agenda_item_id(command.agenda_item_id);
        v1::CallNextSpeakerResponse response;
        absl::Status status = Call(&v1::AgendaService::Stub::CallNextSpeaker,
                                   *agenda_, request, &response);
        if (status.ok() && !response.has_speaker()) {
          *nobody_called = response.queue();
        }
        return status;
      }
      case Command::Kind::kFinishSpeaker: {
        v1::FinishSpeakerRequest request;
        request.set_session_id(session_id_);
        request.set_agenda_item_id(command.agenda_item_id);
        v1::FinishSpeakerResponse response;
        return Call(&v1::AgendaService::Stub::FinishSpeaker, *agenda_, request,
                    &response);
      }
      case Command::Kind::kLowerHand: {
        v1::LowerHandRequest request;
        request.set_session_id(session_id_);
        request.set_agenda_item_id(command.agenda_item_id);
        request.set_participant_id(command.participant_id);
        v1::LowerHandResponse response;
        return Call(&v1::AgendaService::Stub::LowerHand, *agenda_, request,
                    &response);
      }
      case Command::Kind::kOpenPoll: {
        v1::OpenPollRequest request;
        request.set_session_id(session_id_);
        request.set_poll_id(command.poll_id);
        request.set_reason(command.reason);
        v1::OpenPollResponse response;
        return Call(&v1::PollService::Stub::OpenPoll, *polls_, request,
                    &response);
      }
      case Command::Kind::kClosePoll: {
        v1::ClosePollRequest request;
        request.set_session_id(session_id_);
        request.set_poll_id(command.poll_id);
        v1::ClosePollResponse response;
        return Call(&v1::PollService::Stub::ClosePoll, *polls_, request,
                    &response);
      }
      case Command::Kind::kPublishPoll: {
        // Publishes only: the console does not offer `record_outcome` (a
        // motion's result as its agenda item's outcome); the API does.
        v1::PublishPollRequest request;
        request.set_session_id(session_id_);
        request.set_poll_id(command.poll_id);
        v1::PublishPollResponse response;
        return Call(&v1::PollService::Stub::PublishPoll, *polls_, request,
                    &response);
      }
    }
    return absl::InternalError("unknown command");
  }

  const TownhallClient& client_;
  const std::string session_id_;
  Inbox& inbox_;
  std::unique_ptr<v1::QuestionService::Stub> questions_;
  std::unique_ptr<v1::AgendaService::Stub> agenda_;
  std::unique_ptr<v1::PollService::Stub> polls_;
  std::unique_ptr<v1::RegistrationService::Stub> registration_;
  absl::Mutex mu_;
  std::deque<std::function<void()>> work_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  grpc::ClientContext* context_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::thread thread_;  // last: starts after everything above
};

}  // namespace

int RunModeratorConsole(const ConsoleOptions& options) {
  std::ostream& err = options.err != nullptr ? *options.err : std::cerr;
  if (options.session_id.empty()) {
    err << "moderate: a session id is required\n";
    return 1;
  }
  absl::StatusOr<TownhallClient> client =
      TownhallClient::Create(options.client);
  if (!client.ok()) {
    err << "moderate: " << client.status().message() << "\n";
    return 1;
  }
  absl::StatusOr<std::unique_ptr<Terminal>> opened = Terminal::Open();
  if (!opened.ok()) {
    err << "moderate: " << opened.status().message() << "\n";
    return 1;
  }
  Terminal& terminal = **opened;
  SignalGuard signals;
  ConsoleState state(options.session_id);
  Inbox inbox;
  CommandRunner runner(*client, options.session_id, inbox);
  // Reads for the screen (names, a queue) go on their own thread: they must
  // not hold up the moderator's next command.
  CommandRunner lookups(*client, options.session_id, inbox);

  auto questions = v1::QuestionService::NewStub(client->channel());
  auto agenda = v1::AgendaService::NewStub(client->channel());
  auto polls = v1::PollService::NewStub(client->channel());
  // Streams have no deadline: they last as long as the console.
  auto prepare = [&client](grpc::ClientContext* context) {
    client->PrepareContext({.deadline = absl::InfiniteDuration()}, context);
  };
  WatchOptions watch_options{.max_backoff = options.max_reconnect_backoff};
  ResumingWatch<v1::WatchQueueResponse> queue_watch(
      client->channel(),
      [&](grpc::ClientContext* context, int64_t after_version) {
        v1::WatchQueueRequest request;
        request.set_session_id(options.session_id);
        request.set_after_version(after_version);
        return questions->WatchQueue(context, request);
      },
      {.prepare = prepare,
       .on_message =
           [&inbox](const v1::WatchQueueResponse& message) {
             inbox.Post([message](ConsoleState& s) { s.ApplyQueue(message); });
           },
       .on_status =
           [&inbox](const StreamStatus& status) {
             inbox.Post(
                 [status](ConsoleState& s) { s.SetQueueStream(status); });
           }},
      watch_options);
  ResumingWatch<v1::WatchAgendaResponse> agenda_watch(
      client->channel(),
      [&](grpc::ClientContext* context, int64_t after_version) {
        v1::WatchAgendaRequest request;
        request.set_session_id(options.session_id);
        request.set_after_version(after_version);
        return agenda->WatchAgenda(context, request);
      },
      {.prepare = prepare,
       .on_message =
           [&inbox](const v1::WatchAgendaResponse& message) {
             absl::Time received = absl::Now();
             inbox.Post([message, received](ConsoleState& s) {
               s.ApplyAgenda(message, received);
             });
           },
       .on_status =
           [&inbox](const StreamStatus& status) {
             inbox.Post(
                 [status](ConsoleState& s) { s.SetAgendaStream(status); });
           }},
      watch_options);
  ResumingWatch<v1::WatchPollsResponse> polls_watch(
      client->channel(),
      [&](grpc::ClientContext* context, int64_t after_version) {
        v1::WatchPollsRequest request;
        request.set_session_id(options.session_id);
        request.set_after_version(after_version);
        return polls->WatchPolls(context, request);
      },
      {.prepare = prepare,
       .on_message =
           [&inbox](const v1::WatchPollsResponse& message) {
             inbox.Post([message](ConsoleState& s) { s.ApplyPolls(message); });
           },
       .on_status =
           [&inbox](const StreamStatus& status) {
             inbox.Post(
                 [status](ConsoleState& s) { s.SetPollsStream(status); });
           }},
      watch_options);

  absl::Time last_draw = absl::InfinitePast();
  bool dirty = true;
  while (!interrupted) {
    bool quit = false;
    for (std::optional<KeyEvent> key =
             terminal.ReadKey(options.redraw_interval);
         key.has_value(); key = terminal.ReadKey(absl::ZeroDuration())) {
      dirty = true;
      KeyOutcome outcome = state.HandleKey(*key);
      if (outcome.quit) {
        quit = true;
        break;
      }
      if (outcome.command) runner.Run(*std::move(outcome.command));
    }
    if (quit) break;
    if (terminal.TakeResized()) dirty = true;
    if (inbox.Drain(state)) dirty = true;
    if (std::optional<std::string> item = state.agenda().TakeQueueToFetch()) {
      lookups.FetchSpeakersQueue(*std::move(item));
    }
    if (std::vector<std::string> names = state.TakeNamesToFetch();
        !names.empty()) {
      lookups.FetchNames(std::move(names));
    }
    absl::Time now = absl::Now();
    // The item and speaking times tick once a second.
    if (absl::ToUnixSeconds(now) != absl::ToUnixSeconds(last_draw))
      dirty = true;
    if (dirty && now - last_draw >= options.redraw_interval) {
      terminal.Draw(
          LayoutConsole(state, terminal.width(), terminal.height(), now));
      last_draw = now;
      dirty = false;
    }
  }
  return 0;
}

}  // namespace townhall::console
