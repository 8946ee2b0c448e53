#include "clients/cpp/console/console_state.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "clients/cpp/console/console_text.h"

namespace townhall::console {
namespace {

using v1::QuestionStatus;

bool Earlier(const v1::Question& a, const v1::Question& b) {
  absl::Time ta = ToTime(a.create_time());
  absl::Time tb = ToTime(b.create_time());
  if (ta != tb) return ta < tb;
  return a.id() < b.id();
}

absl::string_view StatusName(QuestionStatus status) {
  switch (status) {
    case v1::QUESTION_STATUS_PENDING:
      return "pending";
    case v1::QUESTION_STATUS_APPROVED:
      return "approved";
    case v1::QUESTION_STATUS_PINNED:
      return "pinned";
    case v1::QUESTION_STATUS_ANSWERED:
      return "answered";
    case v1::QUESTION_STATUS_REJECTED:
      return "rejected";
    case v1::QUESTION_STATUS_ARCHIVED:
      return "archived";
    case v1::QUESTION_STATUS_MERGED:
      return "merged";
    case v1::QUESTION_STATUS_CARRIED:
      return "carried";
    default:
      return "unknown";
  }
}

// Whether a question can still be moderated (merged, rejected, pinned...).
bool IsOpenForModeration(QuestionStatus status) {
  return status == v1::QUESTION_STATUS_PENDING ||
         status == v1::QUESTION_STATUS_APPROVED ||
         status == v1::QUESTION_STATUS_PINNED;
}

}  // namespace

absl::Time ToTime(const google::protobuf::Timestamp& timestamp) {
  return absl::FromUnixSeconds(timestamp.seconds()) +
         absl::Nanoseconds(timestamp.nanos());
}

absl::string_view PollStateName(v1::PollState state) {
  switch (state) {
    case v1::POLL_STATE_DRAFT:
      return "draft";
    case v1::POLL_STATE_OPEN:
      return "open";
    case v1::POLL_STATE_CLOSED:
      return "closed";
    case v1::POLL_STATE_PUBLISHED:
      return "published";
    default:
      return "unknown";
  }
}

std::string DescribeCommand(const Command& command) {
  switch (command.kind) {
    case Command::Kind::kApprove:
      return absl::StrCat(
          command.edited_text.empty() ? "approve " : "edit and approve ",
          command.question_id);
    case Command::Kind::kReject:
      return absl::StrCat("reject ", command.question_id);
    case Command::Kind::kPin:
      return absl::StrCat("pin ", command.question_id);
    case Command::Kind::kUnpin:
      return absl::StrCat("unpin ", command.question_id);
    case Command::Kind::kMarkAnswered:
      return absl::StrCat("mark ", command.question_id, " answered");
    case Command::Kind::kMerge:
      return absl::StrCat("merge ", absl::StrJoin(command.duplicate_ids, ", "),
                          " into ", command.question_id);
    case Command::Kind::kArchive:
      return absl::StrCat("archive ", command.question_id);
    case Command::Kind::kUndo:
      return "undo";
    case Command::Kind::kCallNextSpeaker:
      return "call the next speaker";
    case Command::Kind::kFinishSpeaker:
      return "finish the speaker's turn";
    case Command::Kind::kLowerHand:
      return absl::StrCat("lower the hand of ", command.participant_id);
    case Command::Kind::kOpenPoll:
      return absl::StrCat(command.reopen ? "reopen poll " : "open poll ",
                          command.poll_id);
    case Command::Kind::kClosePoll:
      return absl::StrCat("close poll ", command.poll_id);
    case Command::Kind::kPublishPoll:
      return absl::StrCat("publish poll ", command.poll_id);
  }
  return "command";
}

// --- QueueState -----------------------------------------------------------

void QueueState::Apply(const v1::WatchQueueResponse& message) {
  if (message.has_snapshot()) {
    const v1::QueueSnapshot& snapshot = message.snapshot();
    questions_.clear();
    for (const v1::Question& question : snapshot.questions()) Upsert(question);
    settings_ = snapshot.settings();
    has_counts_ = snapshot.has_counts();
    counts_ = snapshot.counts();
    version_ = snapshot.version();
    has_snapshot_ = true;
    return;
  }
  if (!message.has_change()) return;
  const v1::QueueChange& change = message.change();
  if (has_snapshot_ && change.version() <= version_) return;
  version_ = std::max(version_, change.version());
  if (change.has_counts()) {
    has_counts_ = true;
    counts_ = change.counts();
  }
  for (const v1::Question& question : change.questions()) Upsert(question);
  for (const v1::VoteCount& count : change.votes()) {
    auto it = questions_.find(count.question_id());
    if (it == questions_.end()) continue;
    it->second.set_votes(count.votes());
    it->second.set_trending_score(count.trending_score());
  }
  if (change.has_settings()) settings_ = change.settings();
}

void QueueState::Upsert(const v1::Question& question) {
  questions_[question.id()] = question;
}

const v1::Question* QueueState::Find(const std::string& id) const {
  auto it = questions_.find(id);
  return it == questions_.end() ? nullptr : &it->second;
}

std::vector<const v1::Question*> QueueState::Pending() const {
  std::vector<const v1::Question*> rows;
  for (const auto& [id, question] : questions_) {
    if (question.status() == v1::QUESTION_STATUS_PENDING) {
      rows.push_back(&question);
    }
  }
  std::sort(rows.begin(), rows.end(),
            [](const v1::Question* a, const v1::Question* b) {
              return Earlier(*a, *b);
            });
  return rows;
}

std::vector<const v1::Question*> QueueState::Open() const {
  std::vector<const v1::Question*> rows;
  for (const auto& [id, question] : questions_) {
    if (question.status() == v1::QUESTION_STATUS_APPROVED ||
        question.status() == v1::QUESTION_STATUS_PINNED) {
      rows.push_back(&question);
    }
  }
  std::sort(rows.begin(), rows.end(),
            [](const v1::Question* a, const v1::Question* b) {
              bool a_pinned = a->status() == v1::QUESTION_STATUS_PINNED;
              bool b_pinned = b->status() == v1::QUESTION_STATUS_PINNED;
              if (a_pinned != b_pinned) return a_pinned;
              if (a->votes() != b->votes()) return a->votes() > b->votes();
              return Earlier(*a, *b);
            });
  return rows;
}

// --- AgendaState ----------------------------------------------------------

void AgendaState::Apply(const v1::WatchAgendaResponse& message,
                        absl::Time received) {
  if (message.has_snapshot()) {
    const v1::AgendaSnapshot& snapshot = message.snapshot();
    items_.assign(snapshot.items().begin(), snapshot.items().end());
    std::stable_sort(items_.begin(), items_.end(),
                     [](const v1::AgendaItem& a, const v1::AgendaItem& b) {
                       return a.position() < b.position();
                     });
    active_item_id_ = snapshot.active_item_id();
    queues_.clear();
    queue_to_fetch_.reset();
    if (!active_item_id_.empty()) {
      v1::SpeakersQueue queue = snapshot.speakers_queue();
      queue.set_agenda_item_id(active_item_id_);
      queues_[active_item_id_] = std::move(queue);
    }
    version_ = snapshot.version();
    has_snapshot_ = true;
    clock_offset_ = snapshot.has_server_time()
                        ? ToTime(snapshot.server_time()) - received
                        : absl::ZeroDuration();
    return;
  }
  if (!message.has_change()) return;
  const v1::AgendaChange& change = message.change();
  if (has_snapshot_ && change.version() <= version_) return;
  version_ = std::max(version_, change.version());
  ApplyChange(change);
}

void AgendaState::ApplyChange(const v1::AgendaChange& change) {
  if (change.kind() == "agenda.item.deleted") {
    const std::string& id = change.item().id();
    std::erase_if(items_,
                  [&](const v1::AgendaItem& item) { return item.id() == id; });
    queues_.erase(id);
    if (active_item_id_ == id) active_item_id_.clear();
    return;
  }
  if (change.has_item()) {
    const v1::AgendaItem& item = change.item();
    UpsertItem(item, change.kind() == "agenda.item.created");
    // The item's own status says whether it is the active one, whatever the
    // kind of change.
    if (item.status() == v1::AGENDA_ITEM_STATUS_ACTIVE) {
      active_item_id_ = item.id();
      if (!queues_.contains(item.id())) queue_to_fetch_ = item.id();
    } else if (active_item_id_ == item.id()) {
      active_item_id_.clear();
    }
  }
  if (change.order_size() > 0) {
    std::vector<v1::AgendaItem> ordered;
    for (const std::string& id : change.order()) {
      auto it = std::find_if(
          items_.begin(), items_.end(),
          [&](const v1::AgendaItem& item) { return item.id() == id; });
      if (it != items_.end()) ordered.push_back(std::move(*it));
    }
    // Items the order does not name (should not happen) stay, at the end.
    for (v1::AgendaItem& item : items_) {
      if (!item.id().empty() &&
          std::find(change.order().begin(), change.order().end(), item.id()) ==
              change.order().end()) {
        ordered.push_back(std::move(item));
      }
    }
    items_ = std::move(ordered);
  }
  if (change.has_speakers_queue()) {
    const v1::SpeakersQueue& queue = change.speakers_queue();
    queues_[queue.agenda_item_id()] = queue;
    if (queue_to_fetch_ == queue.agenda_item_id()) queue_to_fetch_.reset();
  }
}

void AgendaState::UpsertItem(const v1::AgendaItem& item, bool created) {
  auto it = std::find_if(items_.begin(), items_.end(),
                         [&](const v1::AgendaItem& existing) {
                           return existing.id() == item.id();
                         });
  if (it != items_.end()) {
    *it = item;
    return;
  }
  int position = item.position();
  if (created && position >= 0 && position <= static_cast<int>(items_.size())) {
    items_.insert(items_.begin() + position, item);
  } else {
    items_.push_back(item);
  }
}

void AgendaState::ApplyFetchedQueue(const v1::SpeakersQueue& queue) {
  if (!queues_.contains(queue.agenda_item_id())) {
    queues_[queue.agenda_item_id()] = queue;
  }
}

std::optional<std::string> AgendaState::TakeQueueToFetch() {
  return std::exchange(queue_to_fetch_, std::nullopt);
}

const v1::AgendaItem* AgendaState::active_item() const {
  if (active_item_id_.empty()) return nullptr;
  for (const v1::AgendaItem& item : items_) {
    if (item.id() == active_item_id_) return &item;
  }
  return nullptr;
}

const v1::SpeakersQueue* AgendaState::active_queue() const {
  auto it = queues_.find(active_item_id_);
  return it == queues_.end() ? nullptr : &it->second;
}

// --- PollsState -----------------------------------------------------------

void PollsState::Apply(const v1::WatchPollsResponse& message) {
  if (message.has_snapshot()) {
    const v1::PollsSnapshot& snapshot = message.snapshot();
    polls_.assign(snapshot.polls().begin(), snapshot.polls().end());
    version_ = snapshot.version();
    has_snapshot_ = true;
    return;
  }
  if (!message.has_change()) return;
  const v1::PollChange& change = message.change();
  if (has_snapshot_ && change.version() <= version_) return;
  version_ = std::max(version_, change.version());
  if (change.has_poll()) Upsert(change.poll());
}

void PollsState::Upsert(const v1::Poll& poll) {
  auto it = std::find_if(polls_.begin(), polls_.end(), [&](const v1::Poll& p) {
    return p.id() == poll.id();
  });
  if (it != polls_.end()) {
    *it = poll;
  } else {
    polls_.push_back(poll);  // created after every poll we have
  }
}

const v1::Poll* PollsState::Find(const std::string& id) const {
  for (const v1::Poll& poll : polls_) {
    if (poll.id() == id) return &poll;
  }
  return nullptr;
}

// --- ConsoleState ---------------------------------------------------------

ConsoleState::ConsoleState(std::string session_id)
    : session_id_(std::move(session_id)) {}

void ConsoleState::ApplyQueue(const v1::WatchQueueResponse& message) {
  queue_.Apply(message);
  Reconcile();
}

void ConsoleState::ApplyAgenda(const v1::WatchAgendaResponse& message,
                               absl::Time received) {
  agenda_.Apply(message, received);
  Reconcile();
}

void ConsoleState::ApplyPolls(const v1::WatchPollsResponse& message) {
  polls_.Apply(message);
  Reconcile();
}

void ConsoleState::ApplyFetchedQueue(const v1::SpeakersQueue& queue) {
  agenda_.ApplyFetchedQueue(queue);
  Reconcile();
}

void ConsoleState::OnCommandDone(const Command& command,
                                 const absl::Status& status,
                                 const v1::SpeakersQueue* queue,
                                 absl::string_view detail) {
  std::string nobody = queue == nullptr ? "" : NobodyNextReason(*queue);
  if (status.ok() && !nobody.empty()) {
    Tell(nobody, /*error=*/true);
  } else if (status.ok()) {
    Tell(absl::StrCat("done: ", Describe(command),
                      detail.empty() ? "" : absl::StrCat(" (", detail, ")")));
  } else {
    Tell(absl::StrCat(Describe(command),
                      " failed: ", absl::StatusCodeToString(status.code()),
                      ": ", status.message()),
         /*error=*/true);
  }
}

std::string ConsoleState::NobodyNextReason(
    const v1::SpeakersQueue& queue) const {
  std::vector<std::string> held;
  for (const v1::Speaker& speaker : queue.speakers()) {
    if (speaker.state() == v1::SPEAKER_STATE_WAITING) return "";
    if (speaker.state() == v1::SPEAKER_STATE_HELD) {
      held.push_back(absl::StrCat(ParticipantName(speaker.participant_id()),
                                  " (", speaker.hold_detail(), ")"));
    }
  }
  if (held.empty()) return "nobody is next: no hand is raised";
  return absl::StrCat("nobody is next; held back: ", absl::StrJoin(held, "; "));
}

std::vector<std::string> ConsoleState::TakeNamesToFetch() {
  std::vector<std::string> wanted;
  auto want = [&](const std::string& id) {
    if (!id.empty() && !names_.contains(id) && names_asked_.insert(id).second) {
      wanted.push_back(id);
    }
  };
  if (const v1::SpeakersQueue* queue = agenda_.active_queue()) {
    for (const v1::Speaker& speaker : queue->speakers()) {
      want(speaker.participant_id());
    }
  }
  for (Pane pane : {Pane::kPending, Pane::kOpen}) {
    for (const v1::Question* question : Rows(pane)) {
      want(question->author_participant_id());
    }
  }
  return wanted;
}

void ConsoleState::SetParticipantName(const std::string& participant_id,
                                      const std::string& name,
                                      const std::string& organization) {
  if (name.empty()) return;  // the id says more than nothing
  names_[participant_id] =
      organization.empty() ? name : absl::StrCat(name, " (", organization, ")");
}

const std::string& ConsoleState::ParticipantName(
    const std::string& participant_id) const {
  auto it = names_.find(participant_id);
  return it == names_.end() ? participant_id : it->second;
}

std::vector<const v1::Question*> ConsoleState::Rows(Pane pane) const {
  switch (pane) {
    case Pane::kPending:
      return queue_.Pending();
    case Pane::kOpen:
      return queue_.Open();
    case Pane::kPolls:
    case Pane::kSpeakers:
      break;
  }
  return {};
}

std::vector<const v1::Speaker*> ConsoleState::RaisedHands() const {
  std::vector<const v1::Speaker*> rows;
  const v1::SpeakersQueue* queue = agenda_.active_queue();
  if (queue == nullptr) return rows;
  for (const v1::Speaker& speaker : queue->speakers()) {
    if (speaker.state() == v1::SPEAKER_STATE_WAITING ||
        speaker.state() == v1::SPEAKER_STATE_HELD) {
      rows.push_back(&speaker);
    }
  }
  return rows;
}

std::vector<std::string> ConsoleState::RowIds(Pane pane) const {
  std::vector<std::string> ids;
  if (pane == Pane::kSpeakers) {
    for (const v1::Speaker* speaker : RaisedHands()) {
      ids.push_back(speaker->participant_id());
    }
    return ids;
  }
  if (pane == Pane::kPolls) {
    for (const v1::Poll& poll : polls_.polls()) ids.push_back(poll.id());
    return ids;
  }
  for (const v1::Question* question : Rows(pane)) ids.push_back(question->id());
  return ids;
}

const v1::Question* ConsoleState::Selected() const {
  if (focus_ != Pane::kPending && focus_ != Pane::kOpen) return nullptr;
  return queue_.Find(selection(focus_).id);
}

const v1::Poll* ConsoleState::SelectedPoll() const {
  return polls_.Find(selection(Pane::kPolls).id);
}

void ConsoleState::Reconcile() {
  for (Pane pane :
       {Pane::kPending, Pane::kOpen, Pane::kPolls, Pane::kSpeakers}) {
    std::vector<std::string> ids = RowIds(pane);
    Selection& selected = selection(pane);
    auto it = std::find(ids.begin(), ids.end(), selected.id);
    if (it != ids.end()) {
      selected.index = static_cast<int>(it - ids.begin());
    } else if (ids.empty()) {
      selected = {};
    } else {
      selected.index =
          std::clamp(selected.index, 0, static_cast<int>(ids.size()) - 1);
      selected.id = ids[selected.index];
    }
  }
  if (!merge_duplicate_.empty()) {
    const v1::Question* marked = queue_.Find(merge_duplicate_);
    if (marked == nullptr || !IsOpenForModeration(marked->status())) {
      merge_duplicate_.clear();
      Tell("merge cancelled: the marked question left the queue", true);
    }
  }
}

void ConsoleState::Move(int delta) {
  std::vector<std::string> ids = RowIds(focus_);
  if (ids.empty()) return;
  Selection& selected = selection(focus_);
  selected.index = static_cast<int>(
      std::clamp<int64_t>(int64_t{selected.index} + delta, 0,
                          static_cast<int64_t>(ids.size()) - 1));
  selected.id = ids[selected.index];
}

std::string ConsoleState::Describe(const Command& command) const {
  if (command.kind == Command::Kind::kLowerHand) {
    return absl::StrCat("lower the hand of ",
                        ParticipantName(command.participant_id));
  }
  return DescribeCommand(command);
}

void ConsoleState::Tell(std::string text, bool error) {
  status_ = {std::move(text), error};
}

KeyOutcome ConsoleState::HandleKey(const KeyEvent& key) {
  if (help_visible_) {
    // Any key closes the key list and does nothing else: a moderator
    // reading it should not approve something by accident.
    help_visible_ = false;
    return {};
  }
  if (prompt_) return HandlePromptKey(key);
  using Special = KeyEvent::Special;
  constexpr int kPage = 10;
  constexpr int kAll = 1 << 30;
  switch (key.special) {
    case Special::kUp:
      Move(-1);
      return {};
    case Special::kDown:
      Move(1);
      return {};
    case Special::kPageUp:
      Move(-kPage);
      return {};
    case Special::kPageDown:
      Move(kPage);
      return {};
    case Special::kHome:
      Move(-kAll);
      return {};
    case Special::kEnd:
      Move(kAll);
      return {};
    case Special::kTab:
    case Special::kBackTab: {
      // Down (up) the left column, round; from the speakers' pane, on from
      // where Left would return.
      constexpr Pane kColumn[] = {Pane::kPending, Pane::kOpen, Pane::kPolls};
      int at = static_cast<int>(
          std::find(std::begin(kColumn), std::end(kColumn), left_focus_) -
          std::begin(kColumn));
      at = (at + (key.special == Special::kTab ? 1 : 2)) % 3;
      focus_ = left_focus_ = kColumn[at];
      return {};
    }
    case Special::kRight:
      focus_ = Pane::kSpeakers;
      return {};
    case Special::kLeft:
      focus_ = left_focus_;
      return {};
    case Special::kEscape:
      if (!merge_duplicate_.empty()) {
        merge_duplicate_.clear();
        Tell("merge cancelled");
      } else {
        status_ = {};
      }
      return {};
    case Special::kEnter:
    case Special::kBackspace:
    case Special::kDelete:
      return {};
    case Special::kNone:
      break;
  }
  switch (key.ch) {
    case U'q':
      return {.quit = true};
    case U'?':
      help_visible_ = true;
      return {};
    case U'j':
      Move(1);
      return {};
    case U'k':
      Move(-1);
      return {};
    case U'a':
      return QuestionCommand(Command::Kind::kApprove);
    case U'e':
      return EditAndApprove();
    case U'r':
      return QuestionCommand(Command::Kind::kReject);
    case U'p': {
      const v1::Question* selected = Selected();
      bool pinned = selected != nullptr &&
                    selected->status() == v1::QUESTION_STATUS_PINNED;
      return QuestionCommand(pinned ? Command::Kind::kUnpin
                                    : Command::Kind::kPin);
    }
    case U'm':
      return QuestionCommand(Command::Kind::kMarkAnswered);
    case U'M':
      return Merge();
    case U'x':
      return QuestionCommand(Command::Kind::kArchive);
    case U'u': {
      Command command{.kind = Command::Kind::kUndo};
      Tell(absl::StrCat(Describe(command), "..."));
      return {.command = std::move(command)};
    }
    case U'n':
      return SpeakerCommand(Command::Kind::kCallNextSpeaker);
    case U'f':
      return SpeakerCommand(Command::Kind::kFinishSpeaker);
    case U'l':
      return LowerHand();
    case U'o':
      return PollCommand(Command::Kind::kOpenPoll);
    case U'c':
      return PollCommand(Command::Kind::kClosePoll);
    case U'P':
      return PollCommand(Command::Kind::kPublishPoll);
    default:
      Tell("unknown key: ? lists the keys", true);
      return {};
  }
}

KeyOutcome ConsoleState::HandlePromptKey(const KeyEvent& key) {
  using Special = KeyEvent::Special;
  std::u32string& text = prompt_->text;
  size_t& cursor = prompt_->cursor;
  switch (key.special) {
    case Special::kEscape:
      prompt_.reset();
      Tell("cancelled");
      return {};
    case Special::kBackspace:
      if (cursor > 0) text.erase(--cursor, 1);
      return {};
    case Special::kDelete:
      if (cursor < text.size()) text.erase(cursor, 1);
      return {};
    case Special::kLeft:
      if (cursor > 0) --cursor;
      return {};
    case Special::kRight:
      if (cursor < text.size()) ++cursor;
      return {};
    case Special::kHome:
      cursor = 0;
      return {};
    case Special::kEnd:
      cursor = text.size();
      return {};
    case Special::kEnter:
      return SendPrompt();
    case Special::kNone:
      // Control characters are refused by the server; keep them out.
      if (key.ch >= 0x20 && key.ch != 0x7F) text.insert(cursor++, 1, key.ch);
      return {};
    default:
      return {};
  }
}

KeyOutcome ConsoleState::SendPrompt() {
  std::string typed = ToUtf8(prompt_->text);
  bool blank = absl::StripAsciiWhitespace(typed).empty();
  Command command = prompt_->command;
  if (command.kind == Command::Kind::kReject) {
    if (blank) {
      Tell("a reason is required (the author sees it); Esc cancels", true);
      return {};
    }
    command.reason = std::move(typed);
  } else if (command.kind == Command::Kind::kOpenPoll) {
    if (blank) {
      Tell(
          "a reason is required to reopen (the moderation log keeps it); "
          "Esc cancels",
          true);
      return {};
    }
    command.reason = std::move(typed);
  } else {
    if (blank) {
      Tell("a question needs a text; Esc cancels", true);
      return {};
    }
    // The text as it was: a plain approval, not an edit in the log.
    if (typed != prompt_->original) command.edited_text = std::move(typed);
  }
  prompt_.reset();
  Tell(absl::StrCat(Describe(command), "..."));
  return {.command = std::move(command)};
}

const v1::Question* ConsoleState::Allowed(Command::Kind kind) {
  const v1::Question* selected = Selected();
  Command command{.kind = kind};
  if (selected == nullptr) {
    Tell("no question selected", true);
    return nullptr;
  }
  command.question_id = selected->id();
  QuestionStatus status = selected->status();
  bool allowed = false;
  absl::string_view needs;
  switch (kind) {
    case Command::Kind::kApprove:
      allowed = status == v1::QUESTION_STATUS_PENDING;
      needs = "a pending question";
      break;
    case Command::Kind::kReject:
      allowed = status == v1::QUESTION_STATUS_PENDING ||
                status == v1::QUESTION_STATUS_APPROVED;
      needs = "a pending or approved question";
      break;
    case Command::Kind::kPin:
      allowed = status == v1::QUESTION_STATUS_APPROVED;
      needs = "an approved question";
      break;
    case Command::Kind::kUnpin:
      allowed = status == v1::QUESTION_STATUS_PINNED;
      needs = "the pinned question";
      break;
    case Command::Kind::kMarkAnswered:
      allowed = status == v1::QUESTION_STATUS_APPROVED ||
                status == v1::QUESTION_STATUS_PINNED;
      needs = "an approved or pinned question";
      break;
    case Command::Kind::kArchive:
      allowed = status != v1::QUESTION_STATUS_ARCHIVED &&
                status != v1::QUESTION_STATUS_MERGED &&
                status != v1::QUESTION_STATUS_CARRIED;
      needs = "a question that is not archived, merged or carried";
      break;
    default:
      break;
  }
  if (!allowed) {
    Tell(absl::StrCat("cannot ", Describe(command), ": it is ",
                      StatusName(status), ", this needs ", needs),
         true);
    return nullptr;
  }
  return selected;
}

KeyOutcome ConsoleState::QuestionCommand(Command::Kind kind) {
  const v1::Question* selected = Allowed(kind);
  if (selected == nullptr) return {};
  Command command{.kind = kind, .question_id = selected->id()};
  if (kind == Command::Kind::kReject) {
    prompt_ = Prompt{
        .label = absl::StrCat("Reason for rejecting ", selected->id(), ": "),
        .command = std::move(command)};
    Tell("type the reason the author will see; Enter rejects, Esc cancels");
    return {};
  }
  Tell(absl::StrCat(Describe(command), "..."));
  return {.command = std::move(command)};
}

KeyOutcome ConsoleState::EditAndApprove() {
  const v1::Question* selected = Allowed(Command::Kind::kApprove);
  if (selected == nullptr) return {};
  std::u32string text = FromUtf8(selected->text());
  size_t end = text.size();
  prompt_ = Prompt{.label = absl::StrCat("Text of ", selected->id(), ": "),
                   .text = std::move(text),
                   .cursor = end,
                   .command = {.kind = Command::Kind::kApprove,
                               .question_id = selected->id()},
                   .original = selected->text()};
  Tell("edit the text; Enter approves it, Esc cancels");
  return {};
}

KeyOutcome ConsoleState::Merge() {
  const v1::Question* selected = Selected();
  if (selected == nullptr) {
    Tell("merge: no question selected", true);
    return {};
  }
  if (!IsOpenForModeration(selected->status())) {
    Tell(absl::StrCat("cannot merge ", selected->id(), ": it is ",
                      StatusName(selected->status())),
         true);
    return {};
  }
  if (merge_duplicate_.empty()) {
    merge_duplicate_ = selected->id();
    Tell(absl::StrCat(selected->id(),
                      " marked as a duplicate: select the question to keep "
                      "and press M (Esc cancels)"));
    return {};
  }
  if (merge_duplicate_ == selected->id()) {
    merge_duplicate_.clear();
    Tell("merge cancelled");
    return {};
  }
  Command command{.kind = Command::Kind::kMerge,
                  .question_id = selected->id(),
                  .duplicate_ids = {std::exchange(merge_duplicate_, {})}};
  Tell(absl::StrCat(Describe(command), "..."));
  return {.command = std::move(command)};
}

KeyOutcome ConsoleState::SpeakerCommand(Command::Kind kind) {
  Command command{.kind = kind, .agenda_item_id = agenda_.active_item_id()};
  if (command.agenda_item_id.empty()) {
    Tell(absl::StrCat("cannot ", Describe(command),
                      ": no agenda item is active"),
         true);
    return {};
  }
  Tell(absl::StrCat(Describe(command), "..."));
  return {.command = std::move(command)};
}

KeyOutcome ConsoleState::LowerHand() {
  const std::string& participant = selected_speaker_id();
  if (focus_ != Pane::kSpeakers || participant.empty()) {
    Tell(
        "lower a hand: select it in the speakers' queue first (Right, then "
        "Up/Down)",
        true);
    return {};
  }
  Command command{.kind = Command::Kind::kLowerHand,
                  .agenda_item_id = agenda_.active_item_id(),
                  .participant_id = participant};
  Tell(absl::StrCat(Describe(command), "..."));
  return {.command = std::move(command)};
}

KeyOutcome ConsoleState::PollCommand(Command::Kind kind) {
  Command command{.kind = kind};
  const v1::Poll* poll = SelectedPoll();
  if (focus_ != Pane::kPolls || poll == nullptr) {
    absl::string_view verb = kind == Command::Kind::kOpenPoll    ? "open"
                             : kind == Command::Kind::kClosePoll ? "close"
                                                                 : "publish";
    Tell(absl::StrCat(verb, " a poll: select it in the polls pane first (Tab)"),
         true);
    return {};
  }
  command.poll_id = poll->id();
  v1::PollState state = poll->state();
  bool allowed = false;
  absl::string_view needs;
  switch (kind) {
    case Command::Kind::kOpenPoll:
      command.reopen = state == v1::POLL_STATE_CLOSED;
      allowed = state == v1::POLL_STATE_DRAFT || command.reopen;
      needs = "a draft, or a closed poll to reopen";
      break;
    case Command::Kind::kClosePoll:
      allowed = state == v1::POLL_STATE_OPEN;
      needs = "an open poll";
      break;
    case Command::Kind::kPublishPoll:
      // An open poll whose closes_at has passed is closed on the server
      // (the stream says so only at the poll's next change): the server
      // decides.
      allowed = state == v1::POLL_STATE_CLOSED ||
                (state == v1::POLL_STATE_OPEN && poll->has_closes_at());
      needs = "a closed poll";
      break;
    default:
      break;
  }
  if (!allowed) {
    Tell(absl::StrCat("cannot ", Describe(command), ": it is ",
                      PollStateName(state), ", this needs ", needs),
         true);
    return {};
  }
  if (command.reopen) {
    prompt_ =
        Prompt{.label = absl::StrCat("Reason for reopening ", poll->id(), ": "),
               .command = std::move(command)};
    Tell(
        "type why it is reopened (kept in the moderation log); Enter "
        "reopens, Esc cancels");
    return {};
  }
  Tell(absl::StrCat(Describe(command), "..."));
  return {.command = std::move(command)};
}

}  // namespace townhall::console
