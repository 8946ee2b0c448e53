#include "clients/cpp/console/console_view.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "clients/cpp/console/console_text.h"

namespace townhall::console {
namespace {

// Every key: the help (`?`) lists them all, the footer those with a
// short name.
struct KeyHelp {
  absl::string_view keys;
  absl::string_view footer;  // "" for none
  absl::string_view what;
};
constexpr KeyHelp kKeyHelp[] = {
    {"a", "approve", "approve the selected pending question"},
    {"e", "edit+approve", "edit a pending question's text, Enter approves it"},
    {"r", "reject", "reject, with a reason the author sees"},
    {"p", "pin", "pin an approved question; on the pinned one: unpin"},
    {"m", "answered", "mark answered"},
    {"M", "merge", "merge: on the duplicate, then on the question to keep"},
    {"x", "archive", "archive the selected question"},
    {"u", "undo", "undo the session's last moderator action"},
    {"n", "next speaker", "call the next speaker by the queue's rules"},
    {"f", "finish", "finish the speaker's turn"},
    {"l", "lower hand", "lower the selected raised hand"},
    {"Up/Down j/k", "", "select a row"},
    {"PgUp/PgDn", "", "ten rows up or down"},
    {"Home/End", "", "first or last row"},
    {"Tab", "pane", "pending or open questions"},
    {"Right/Left", "", "to the speakers' queue and back"},
    {"Esc", "", "cancel a prompt or a merge"},
    {"?", "help", "this list"},
    {"q", "quit", "quit"},
};

std::string FooterKeys() {
  std::string out;
  for (const KeyHelp& key : kKeyHelp) {
    if (!key.footer.empty()) {
      absl::StrAppend(&out, " ", key.keys, " ", key.footer, " ");
    }
  }
  return out;
}

std::string PromptKeys(const Prompt& prompt) {
  return absl::StrCat(" Enter ",
                      prompt.command.kind == Command::Kind::kReject
                          ? "reject with this reason"
                          : "approve with this text",
                      "  Esc cancel  Left/Right move  Backspace/Delete delete");
}

// "1:05", "1:02:03".
std::string Clock(absl::Duration d) {
  if (d < absl::ZeroDuration()) d = absl::ZeroDuration();
  int64_t s = absl::ToInt64Seconds(d);
  if (s >= 3600) {
    return absl::StrFormat("%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
  }
  return absl::StrFormat("%d:%02d", s / 60, s % 60);
}

// "12s", "5m", "3h": how long a question has waited.
std::string Age(absl::Duration d) {
  int64_t s = std::max<int64_t>(0, absl::ToInt64Seconds(d));
  if (s < 60) return absl::StrCat(s, "s");
  if (s < 3600) return absl::StrCat(s / 60, "m");
  return absl::StrCat(s / 3600, "h");
}

absl::Duration FromProto(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

std::string StreamText(const StreamStatus& stream, int64_t version) {
  switch (stream.state) {
    case StreamStatus::State::kConnecting:
      return "connecting";
    case StreamStatus::State::kLive:
      return absl::StrCat("live v", version);
    case StreamStatus::State::kReconnecting:
      return absl::StrCat("reconnecting (",
                          absl::StatusCodeToString(stream.error.code()),
                          stream.error.message().empty() ? "" : ": ",
                          stream.error.message(), ")");
  }
  return "";
}

// One pane of questions: a title and the rows that fit in `height` rows.
void LayoutQuestions(const ConsoleState& state, Pane pane, int top, int height,
                     int width, absl::Time now, Canvas& canvas) {
  if (height <= 0) return;
  std::vector<const v1::Question*> rows = state.Rows(pane);
  bool focused = state.focus() == pane;
  int selected = state.selected_index(pane);
  int visible = height - 1;
  int first = selected < visible ? 0 : selected - visible + 1;
  std::string title =
      pane == Pane::kPending
          ? absl::StrCat("Pending questions (", rows.size(), "), oldest first")
          : absl::StrCat("Open questions (", rows.size(),
                         "), pinned first, by votes");
  if (first > 0) absl::StrAppend(&title, "  ^ ", first, " more");
  int below = static_cast<int>(rows.size()) - first - visible;
  if (below > 0) absl::StrAppend(&title, "  v ", below, " more");
  canvas.Put(top, 0, absl::StrCat(" ", title), width,
             focused ? Style::kFocusedHeader : Style::kHeader,
             /*fill=*/focused);
  if (rows.empty()) {
    if (visible > 0) canvas.Put(top + 1, 0, "   (none)", width, Style::kDim);
    return;
  }
  for (int i = 0; i < visible && first + i < static_cast<int>(rows.size());
       ++i) {
    const v1::Question& question = *rows[first + i];
    bool is_selected = first + i == selected;
    bool pinned = question.status() == v1::QUESTION_STATUS_PINNED;
    std::string tags;
    if (pinned) absl::StrAppend(&tags, "[PINNED] ");
    if (question.id() == state.merge_duplicate_id()) {
      absl::StrAppend(&tags, "[duplicate] ");
    }
    std::string number = pane == Pane::kPending
                             ? Age(now - ToTime(question.create_time()))
                             : absl::StrCat(question.votes());
    std::string row =
        absl::StrFormat("%s %5s  %s%s", focused && is_selected ? ">" : " ",
                        number, tags, question.text());
    // Anonymous questions come without an author.
    if (!question.author_participant_id().empty()) {
      absl::StrAppend(&row, "  - ",
                      state.ParticipantName(question.author_participant_id()));
    }
    Style style = focused && is_selected ? Style::kSelected
                  : pinned               ? Style::kPinned
                                         : Style::kNormal;
    canvas.Put(top + 1 + i, 0, row, width, style,
               /*fill=*/style == Style::kSelected);
  }
}

// The speakers' queue of the active item and the agenda, from `top` down.
void LayoutAgenda(const ConsoleState& state, int top, int height, int left,
                  int width, absl::Time server_now, Canvas& canvas) {
  int row = top;
  int bottom = top + height;
  auto put = [&](absl::string_view text, Style style) {
    if (row < bottom) canvas.Put(row++, left, text, width, style);
  };
  const AgendaState& agenda = state.agenda();
  bool focused = state.focus() == Pane::kSpeakers;
  if (row < bottom) {
    canvas.Put(row++, left, " Speakers' queue", width,
               focused ? Style::kFocusedHeader : Style::kHeader,
               /*fill=*/focused);
  }
  // A raised hand's row: selectable (to lower it) when the pane has focus.
  auto put_hand = [&](const v1::Speaker& speaker, absl::string_view text,
                      Style style) {
    bool selected =
        focused && speaker.participant_id() == state.selected_speaker_id();
    if (row < bottom) {
      canvas.Put(row++, left, absl::StrCat(selected ? " > " : "   ", text),
                 width, selected ? Style::kSelected : style,
                 /*fill=*/selected);
    }
  };
  const v1::SpeakersQueue* queue = agenda.active_queue();
  if (agenda.active_item() == nullptr) {
    put("   (no active agenda item)", Style::kDim);
  } else if (queue == nullptr) {
    put("   (loading)", Style::kDim);
  } else {
    absl::Duration limit = FromProto(queue->options().speaking_time_limit());
    int waiting = 0;
    int held = 0;
    int done = 0;
    bool speaking = false;
    for (const v1::Speaker& speaker : queue->speakers()) {
      std::string who = state.ParticipantName(speaker.participant_id());
      switch (speaker.state()) {
        case v1::SPEAKER_STATE_SPEAKING: {
          speaking = true;
          absl::Duration spoken = server_now - ToTime(speaker.start_time());
          std::string time = Clock(spoken);
          if (limit > absl::ZeroDuration()) {
            absl::StrAppend(&time, " of ", Clock(limit));
          }
          Style style = limit > absl::ZeroDuration() && spoken > limit
                            ? Style::kError
                            : Style::kPinned;
          // The time on a row of its own: a long name and organization
          // must not cut it off.
          put(absl::StrCat("   Speaking: ", who), style);
          put(absl::StrCat("     ", time), style);
          break;
        }
        case v1::SPEAKER_STATE_WAITING:
          ++waiting;
          put_hand(speaker,
                   absl::StrCat(waiting, ". ", who,
                                speaker.first_time() ? "  first time" : ""),
                   Style::kNormal);
          break;
        case v1::SPEAKER_STATE_HELD:
          ++held;
          put_hand(speaker,
                   absl::StrCat("held: ", who, "  ", speaker.hold_detail()),
                   Style::kDim);
          break;
        case v1::SPEAKER_STATE_DONE:
          ++done;
          break;
        default:
          break;
      }
    }
    if (waiting == 0 && held > 0) {
      put(absl::StrCat("   ", state.NobodyNextReason(*queue)), Style::kError);
    } else if (!speaking && waiting == 0) {
      put("   (nobody has raised a hand)", Style::kDim);
    }
    put(absl::StrCat("   ", waiting, " waiting, ",
                     held > 0 ? absl::StrCat(held, " held, ") : "", done,
                     " spoke"),
        Style::kDim);
  }
  ++row;
  put(" Agenda", Style::kHeader);
  for (const v1::AgendaItem& item : agenda.items()) {
    absl::string_view mark = "  ";
    switch (item.status()) {
      case v1::AGENDA_ITEM_STATUS_ACTIVE:
        mark = "> ";
        break;
      case v1::AGENDA_ITEM_STATUS_DONE:
        mark = "x ";
        break;
      case v1::AGENDA_ITEM_STATUS_SKIPPED:
        mark = "- ";
        break;
      default:
        break;
    }
    put(absl::StrCat("   ", mark, item.title()),
        item.status() == v1::AGENDA_ITEM_STATUS_ACTIVE    ? Style::kPinned
        : item.status() == v1::AGENDA_ITEM_STATUS_PENDING ? Style::kNormal
                                                          : Style::kDim);
  }
}

// The key list (`?`) in a box over the body.
void LayoutHelp(int top, int height, int width, Canvas& canvas) {
  constexpr int kKeyColumns = 13;
  int box_width = std::min(width - 4, 78);
  int left = (width - box_width) / 2;
  int row = top;
  int bottom = top + height;
  auto put = [&](absl::string_view text, Style style) {
    if (row < bottom) {
      canvas.Put(row++, left, text, box_width, style, /*fill=*/true);
    }
  };
  put(" Keys (any key closes this list)", Style::kTitle);
  for (const KeyHelp& key : kKeyHelp) {
    put(absl::StrFormat("  %-*s %s", kKeyColumns, key.keys, key.what),
        Style::kNormal);
  }
  put("", Style::kNormal);
}

}  // namespace

int Canvas::Put(int row, int column, absl::string_view text, int max_columns,
                Style style, bool fill) {
  if (row < 0 || row >= height_ || column < 0 || column >= width_) return 0;
  int columns = std::min(max_columns, width_ - column);
  std::u32string cut = FitColumns(text, columns);
  int used = DisplayWidth(cut);
  if (fill && used < columns) {
    cut.append(columns - used, U' ');
    used = columns;
  }
  segments_.push_back({row, column, std::move(cut), style});
  return used;
}

std::vector<std::string> Canvas::PlainRows() const {
  // A wide character takes its cell and marks the next one as covered (0).
  std::vector<std::u32string> grid(height_, std::u32string(width_, U' '));
  for (const Segment& segment : segments_) {
    int column = segment.column;
    for (char32_t c : segment.text) {
      int w = DisplayWidth(std::u32string(1, c));
      if (w == 0 || column + w > width_) continue;
      grid[segment.row][column] = c;
      if (w == 2) grid[segment.row][column + 1] = 0;
      column += w;
    }
  }
  std::vector<std::string> rows;
  for (std::u32string& line : grid) {
    std::erase(line, char32_t{0});
    size_t end = line.find_last_not_of(U' ');
    line.resize(end == std::u32string::npos ? 0 : end + 1);
    rows.push_back(ToUtf8(line));
  }
  return rows;
}

Canvas LayoutConsole(const ConsoleState& state, int width, int height,
                     absl::Time now) {
  Canvas canvas(width, height);
  if (width < kMinWidth || height < kMinHeight) {
    canvas.Put(
        0, 0,
        absl::StrCat("terminal too small: needs ", kMinWidth, "x", kMinHeight),
        width, Style::kError);
    return canvas;
  }
  const AgendaState& agenda = state.agenda();
  absl::Time server_now = now + agenda.server_clock_offset();

  canvas.Put(
      0, 0,
      absl::StrCat(
          " townhall moderator | session ", state.session_id(),
          " | questions: ",
          StreamText(state.queue_stream(), state.queue().version()),
          " | agenda: ", StreamText(state.agenda_stream(), agenda.version())),
      width, Style::kTitle, /*fill=*/true);

  std::string now_line = " Now: ";
  if (const v1::AgendaItem* item = agenda.active_item()) {
    absl::StrAppend(&now_line, item->title(), "  [",
                    Clock(server_now - ToTime(item->actual_start_time())));
    if (item->has_planned_duration()) {
      absl::StrAppend(&now_line, " of ",
                      Clock(FromProto(item->planned_duration())));
    }
    absl::StrAppend(&now_line, "]");
  } else {
    absl::StrAppend(&now_line, "no active agenda item");
  }
  canvas.Put(1, 0, now_line, width, Style::kHeader);

  const QueueState& queue = state.queue();
  std::string counts;
  if (const v1::QueueCounts* c = queue.counts()) {
    counts = absl::StrCat(" ", c->answered(), " answered, ", c->rejected(),
                          " rejected, ", c->merged(), " merged, ",
                          c->archived(), " archived");
  }
  if (queue.settings().submissions_closed()) {
    absl::StrAppend(&counts, counts.empty() ? " " : " | ",
                    "submissions closed");
  }
  canvas.Put(2, 0, counts, width, Style::kDim);

  int body_top = 3;
  int body_height = height - body_top - 2;
  int right_width = std::max(30, width / 3);
  int left_width = width - right_width - 1;
  int pending_height = std::max(3, body_height * 2 / 5);
  LayoutQuestions(state, Pane::kPending, body_top, pending_height, left_width,
                  now, canvas);
  LayoutQuestions(state, Pane::kOpen, body_top + pending_height,
                  body_height - pending_height, left_width, now, canvas);
  for (int row = body_top; row < body_top + body_height; ++row) {
    canvas.Put(row, left_width, "|", 1, Style::kDim);
  }
  LayoutAgenda(state, body_top, body_height, left_width + 1, right_width,
               server_now, canvas);

  int status_row = height - 2;
  const std::optional<Prompt>& prompt = state.prompt();
  if (prompt) {
    int used = canvas.Put(status_row, 0, absl::StrCat(" ", prompt->label),
                          width, Style::kHeader);
    // Keep the cursor in view, with a column to spare for it.
    const std::u32string& text = prompt->text;
    int room = width - used - 1;
    size_t first = 0;
    while (first < prompt->cursor &&
           DisplayWidth(text.substr(first, prompt->cursor - first)) >= room) {
      ++first;
    }
    canvas.Put(status_row, used, ToUtf8(text.substr(first)), room,
               Style::kNormal);
    canvas.set_cursor(status_row, used + DisplayWidth(text.substr(
                                             first, prompt->cursor - first)));
  } else if (!state.status().text.empty()) {
    canvas.Put(status_row, 0, absl::StrCat(" ", state.status().text), width,
               state.status().error ? Style::kError : Style::kNormal);
  }
  canvas.Put(height - 1, 0, prompt ? PromptKeys(*prompt) : FooterKeys(), width,
             Style::kTitle, /*fill=*/true);
  if (state.help_visible()) LayoutHelp(body_top, body_height, width, canvas);
  return canvas;
}

}  // namespace townhall::console
