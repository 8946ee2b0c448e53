// ConsoleState: what the moderator console shows and what each key does,
// without a terminal. The watch streams feed it (ApplyQueue, ApplyAgenda,
// ApplyPolls),
// the terminal feeds it keys (HandleKey), and the console view
// (console_view.h) lays it out; the server calls a key asks for come back
// as a Command for the caller to run. Not thread-safe: only the UI thread
// touches it.
//
//   ConsoleState state("session-1");
//   state.ApplyQueue(snapshot_message);
//   KeyOutcome outcome = state.HandleKey(KeyEvent::Char('a'));
//   if (outcome.command) runner.Run(*outcome.command);
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "townhall/v1/agenda.pb.h"
#include "townhall/v1/polls.pb.h"
#include "townhall/v1/questions.pb.h"

namespace townhall::console {

// A key press, decoded from the terminal so that this model needs no
// ncurses.
struct KeyEvent {
  enum class Special {
    kNone,  // a character: `ch`
    kUp,
    kDown,
    kLeft,
    kRight,
    kPageUp,
    kPageDown,
    kHome,
    kEnd,
    kTab,
    kBackTab,
    kEnter,
    kEscape,
    kBackspace,
    kDelete,
  };
  Special special = Special::kNone;
  char32_t ch = 0;

  static KeyEvent Char(char32_t c) { return {Special::kNone, c}; }
  static KeyEvent Of(Special s) { return {s, 0}; }
};

// A server call a key asks for.
struct Command {
  enum class Kind {
    kApprove,
    kReject,
    kPin,
    kUnpin,
    kMarkAnswered,
    kMerge,
    kArchive,
    kUndo,
    kCallNextSpeaker,
    kFinishSpeaker,
    kLowerHand,
    // A DRAFT poll, or a CLOSED one again (`reason` required).
    kOpenPoll,
    kClosePoll,
    kPublishPoll,
  };
  Kind kind = Kind::kApprove;
  // The question (for kMerge: the survivor).
  std::string question_id;
  // kMerge: the duplicates.
  std::vector<std::string> duplicate_ids;
  // kReject; kOpenPoll reopening a CLOSED poll.
  std::string reason;
  // kApprove: the text to show instead ("" keeps the author's).
  std::string edited_text;
  // kCallNextSpeaker, kFinishSpeaker, kLowerHand: the active item.
  std::string agenda_item_id;
  // kLowerHand: whose hand.
  std::string participant_id;
  // kOpenPoll, kClosePoll, kPublishPoll.
  std::string poll_id;
  // kOpenPoll: the poll is CLOSED, this opens it again.
  bool reopen = false;
};

// Returns a short human description ("approve q-12"), for the status line.
std::string DescribeCommand(const Command& command);

// Converts a protobuf timestamp (unset: the Unix epoch).
absl::Time ToTime(const google::protobuf::Timestamp& timestamp);

// "draft", "open", "closed", "published".
absl::string_view PollStateName(v1::PollState state);

// The question queue as last seen on WatchQueue.
class QueueState {
 public:
  // Applies one stream message: a snapshot replaces everything, a change
  // updates the questions it carries. Changes at or below the current
  // version are dropped (already applied).
  void Apply(const v1::WatchQueueResponse& message);

  int64_t version() const { return version_; }
  bool has_snapshot() const { return has_snapshot_; }
  const v1::QueueSettings& settings() const { return settings_; }
  // The question with that id, or null.
  const v1::Question* Find(const std::string& id) const;
  // PENDING questions, oldest first (the order a moderator works them).
  std::vector<const v1::Question*> Pending() const;
  // The PINNED question first, then APPROVED ones by votes (ties: the
  // earlier question first), as ListQuestions' ORDER_TOP.
  std::vector<const v1::Question*> Open() const;
  // The session's questions by status as the server last counted them
  // (the snapshot leaves some statuses out, so they cannot be counted
  // here); null when the server sent none.
  const v1::QueueCounts* counts() const {
    return has_counts_ ? &counts_ : nullptr;
  }

 private:
  void Upsert(const v1::Question& question);

  int64_t version_ = 0;
  bool has_snapshot_ = false;
  v1::QueueSettings settings_;
  bool has_counts_ = false;
  v1::QueueCounts counts_;
  absl::flat_hash_map<std::string, v1::Question> questions_;
};

// The agenda and the speakers' queues as last seen on WatchAgenda.
class AgendaState {
 public:
  // Applies one stream message (see QueueState::Apply). `received` is the
  // local time the message arrived; a snapshot's server_time against it
  // gives the server's clock for timers.
  void Apply(const v1::WatchAgendaResponse& message, absl::Time received);
  // Applies a queue read with GetSpeakersQueue, unless the stream has
  // already brought one for that item (the stream is never older than what
  // it brings later, a read may be).
  void ApplyFetchedQueue(const v1::SpeakersQueue& queue);
  // Returns, once, the id of an item that became active without the stream
  // carrying its queue (activations carry only the item): the caller reads
  // it with GetSpeakersQueue.
  std::optional<std::string> TakeQueueToFetch();

  int64_t version() const { return version_; }
  bool has_snapshot() const { return has_snapshot_; }
  const std::vector<v1::AgendaItem>& items() const { return items_; }
  const std::string& active_item_id() const { return active_item_id_; }
  // The active item, or null.
  const v1::AgendaItem* active_item() const;
  // The active item's speakers' queue, or null when none is known.
  const v1::SpeakersQueue* active_queue() const;
  // Server time minus local time at the last snapshot.
  absl::Duration server_clock_offset() const { return clock_offset_; }

 private:
  void ApplyChange(const v1::AgendaChange& change);
  void UpsertItem(const v1::AgendaItem& item, bool created);

  int64_t version_ = 0;
  bool has_snapshot_ = false;
  std::vector<v1::AgendaItem> items_;
  std::string active_item_id_;
  absl::flat_hash_map<std::string, v1::SpeakersQueue> queues_;
  std::optional<std::string> queue_to_fetch_;
  absl::Duration clock_offset_;
};

// The session's polls as last seen on WatchPolls. Each change carries the
// whole poll as the watcher may see it (live tallies for a session's
// runners, none of a SECRET poll before it closes), so applying one is
// replacing the poll.
class PollsState {
 public:
  // Applies one stream message (see QueueState::Apply).
  void Apply(const v1::WatchPollsResponse& message);

  int64_t version() const { return version_; }
  bool has_snapshot() const { return has_snapshot_; }
  // Oldest first: the snapshot's order, then polls created since.
  const std::vector<v1::Poll>& polls() const { return polls_; }
  // The poll with that id, or null.
  const v1::Poll* Find(const std::string& id) const;

 private:
  void Upsert(const v1::Poll& poll);

  int64_t version_ = 0;
  bool has_snapshot_ = false;
  std::vector<v1::Poll> polls_;
};

// How one watch stream is doing, for the title bar.
struct StreamStatus {
  enum class State { kConnecting, kLive, kReconnecting };
  State state = State::kConnecting;
  // Why the last attempt ended (kReconnecting).
  absl::Status error;
};

// Tab goes down the left column (pending questions, open questions, polls,
// then the pending ones again), Shift-Tab up; Right and Left go to the
// speakers' queue and back.
enum class Pane { kPending, kOpen, kPolls, kSpeakers };

// Something a key did not do, or a server answer, for the status line.
struct StatusLine {
  std::string text;
  bool error = false;
};

// What a key asks the caller to do.
struct KeyOutcome {
  std::optional<Command> command;
  bool quit = false;
};

// A text being typed: a reject reason, a question's text to approve, or
// why a closed poll is reopened.
struct Prompt {
  std::string label;
  std::u32string text;
  // Where typing goes: an index into `text`.
  size_t cursor = 0;
  // Sent on Enter with `text` as its reason (kReject, kOpenPoll) or edited
  // text (kApprove).
  Command command;
  // kApprove: the question's text when the prompt opened.
  std::string original;
};

class ConsoleState {
 public:
  explicit ConsoleState(std::string session_id);

  void ApplyQueue(const v1::WatchQueueResponse& message);
  void ApplyAgenda(const v1::WatchAgendaResponse& message,
                   absl::Time received = absl::Now());
  void SetQueueStream(StreamStatus status) {
    queue_stream_ = std::move(status);
  }
  void SetAgendaStream(StreamStatus status) {
    agenda_stream_ = std::move(status);
  }
  void ApplyPolls(const v1::WatchPollsResponse& message);
  void SetPollsStream(StreamStatus status) {
    polls_stream_ = std::move(status);
  }
  // Reports a command's outcome in the status line. `queue`: the speakers'
  // queue a CallNextSpeaker answered when it called nobody (then the line
  // says why: NobodyNextReason). `detail`: what the server did, when the
  // command does not say (an undo: which action it undid).
  void OnCommandDone(const Command& command, const absl::Status& status,
                     const v1::SpeakersQueue* queue = nullptr,
                     absl::string_view detail = "");
  // Why calling the next speaker of `queue` finds nobody: "" when someone
  // is waiting to be called; else the hands held back (with their reasons)
  // or that no hand is raised.
  std::string NobodyNextReason(const v1::SpeakersQueue& queue) const;
  // Applies a speakers' queue read with GetSpeakersQueue
  // (AgendaState::ApplyFetchedQueue).
  void ApplyFetchedQueue(const v1::SpeakersQueue& queue);
  // Returns, once each, the participants on screen (speakers, authors)
  // whose names are neither known nor asked for yet.
  std::vector<std::string> TakeNamesToFetch();
  // `organization`: the name of whom they represent ("" for none).
  void SetParticipantName(const std::string& participant_id,
                          const std::string& name,
                          const std::string& organization = "");
  // "Name (Organization)", "Name" without one, the id while unknown.
  const std::string& ParticipantName(const std::string& participant_id) const;

  // Handles one key: moves the selection, switches panes, edits the prompt,
  // or returns the command to run.
  KeyOutcome HandleKey(const KeyEvent& key);

  const std::string& session_id() const { return session_id_; }
  const QueueState& queue() const { return queue_; }
  AgendaState& agenda() { return agenda_; }
  const AgendaState& agenda() const { return agenda_; }
  const StreamStatus& queue_stream() const { return queue_stream_; }
  const StreamStatus& agenda_stream() const { return agenda_stream_; }
  const PollsState& polls() const { return polls_; }
  const StreamStatus& polls_stream() const { return polls_stream_; }
  Pane focus() const { return focus_; }
  // The rows of a question pane, in display order (none for kPolls and
  // kSpeakers).
  std::vector<const v1::Question*> Rows(Pane pane) const;
  // The rows of the speakers' pane: the raised hands of the active item
  // (waiting, then held back), in queue order.
  std::vector<const v1::Speaker*> RaisedHands() const;
  // The selected row's index in its pane (0 when the pane is empty).
  int selected_index(Pane pane) const { return selection(pane).index; }
  // The selected question of the focused pane, or null.
  const v1::Question* Selected() const;
  // The selected poll of the polls pane, focused or not (its tallies are
  // shown either way), or null.
  const v1::Poll* SelectedPoll() const;
  // The participant whose raised hand is selected ("" when none).
  const std::string& selected_speaker_id() const {
    return selection(Pane::kSpeakers).id;
  }
  // Whether the key list (`?`) covers the screen.
  bool help_visible() const { return help_visible_; }
  // The question marked as a duplicate with M ("" when none).
  const std::string& merge_duplicate_id() const { return merge_duplicate_; }
  const std::optional<Prompt>& prompt() const { return prompt_; }
  const StatusLine& status() const { return status_; }

 private:
  struct Selection {
    std::string id;
    int index = 0;
  };

  Selection& selection(Pane pane) {
    return selections_[static_cast<int>(pane)];
  }
  const Selection& selection(Pane pane) const {
    return selections_[static_cast<int>(pane)];
  }
  // The ids of a pane's rows (questions, polls, or participants with a
  // raised hand), in display order.
  std::vector<std::string> RowIds(Pane pane) const;
  // Keeps each selection on its row's id when rows move, or on the same
  // row when its id left the pane; drops a stale merge mark.
  void Reconcile();
  void Move(int delta);
  // DescribeCommand, with names for participants.
  std::string Describe(const Command& command) const;
  KeyOutcome HandlePromptKey(const KeyEvent& key);
  KeyOutcome SendPrompt();
  // The selected question when its status allows `kind`; else says why in
  // the status line and returns null.
  const v1::Question* Allowed(Command::Kind kind);
  KeyOutcome QuestionCommand(Command::Kind kind);
  KeyOutcome EditAndApprove();
  KeyOutcome Merge();
  KeyOutcome SpeakerCommand(Command::Kind kind);
  KeyOutcome LowerHand();
  // o, c, P on the selected poll of the focused polls pane.
  KeyOutcome PollCommand(Command::Kind kind);
  void Tell(std::string text, bool error = false);

  std::string session_id_;
  QueueState queue_;
  AgendaState agenda_;
  StreamStatus queue_stream_;
  StreamStatus agenda_stream_;
  PollsState polls_;
  StreamStatus polls_stream_;
  Pane focus_ = Pane::kPending;
  // Where Left goes back to from the speakers' pane.
  Pane left_focus_ = Pane::kPending;
  Selection selections_[4];
  bool help_visible_ = false;
  std::string merge_duplicate_;
  std::optional<Prompt> prompt_;
  StatusLine status_;
  absl::flat_hash_map<std::string, std::string> names_;
  absl::flat_hash_set<std::string> names_asked_;
};

}  // namespace townhall::console
