#include "clients/cpp/console/console_view.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "clients/cpp/console/console_text.h"

namespace townhall::console {
namespace {

// Which footer shows a key: the question keys do not all fit next to the
// poll keys, so the footer follows the focused pane.
enum class Footer {
  kNone,
  kQuestions,  // a question pane or the speakers' queue has focus
  kPolls,      // the polls pane has focus
  kBoth,
};

// Every key: the help (`?`) lists them all, the footer those with a
// short name that belong to the focused pane.
struct KeyHelp {
  absl::string_view keys;
  absl::string_view footer;  // "" for none
  absl::string_view what;
  Footer where = Footer::kNone;
};
constexpr KeyHelp kKeyHelp[] = {
    {"a", "approve", "approve the selected pending question",
     Footer::kQuestions},
    {"e", "edit+approve", "edit a pending question's text, Enter approves it",
     Footer::kQuestions},
    {"r", "reject", "reject, with a reason the author sees",
     Footer::kQuestions},
    {"p", "pin", "pin an approved question; on the pinned one: unpin",
     Footer::kQuestions},
    {"m", "answered", "mark answered", Footer::kQuestions},
    {"M", "merge", "merge: on the duplicate, then on the question to keep",
     Footer::kQuestions},
    {"x", "archive", "archive the selected question", Footer::kQuestions},
    {"u", "undo", "undo the session's last moderator action",
     Footer::kQuestions},
    {"o", "open", "open the selected poll; a closed one: reopen, with a reason",
     Footer::kPolls},
    {"c", "close", "close the selected poll", Footer::kPolls},
    {"P", "publish", "publish the selected closed poll's results to everyone",
     Footer::kPolls},
    {"n", "next speaker", "call the next speaker by the queue's rules",
     Footer::kBoth},
    {"f", "finish", "finish the speaker's turn", Footer::kBoth},
    {"l", "lower hand", "lower the selected raised hand", Footer::kQuestions},
    {"Up/Down j/k", "", "select a row"},
    {"PgUp/PgDn", "", "ten rows up or down"},
    {"Home/End", "", "first or last row"},
    {"Tab/Shift-Tab", "pane", "pending questions, open questions, polls",
     Footer::kBoth},
    {"Right/Left", "", "to the speakers' queue and back"},
    {"Esc", "", "cancel a prompt or a merge"},
    {"?", "help", "this list", Footer::kBoth},
    {"q", "quit", "quit", Footer::kBoth},
};

std::string FooterKeys(Pane focus) {
  Footer wanted = focus == Pane::kPolls ? Footer::kPolls : Footer::kQuestions;
  std::string out;
  for (const KeyHelp& key : kKeyHelp) {
    if (key.where == wanted || key.where == Footer::kBoth) {
      // "Tab/Shift-Tab" is long for the footer.
      absl::string_view keys = key.keys.substr(0, key.keys.find('/'));
      absl::StrAppend(&out, " ", keys, " ", key.footer, " ");
    }
  }
  return out;
}

std::string PromptKeys(const Prompt& prompt) {
  absl::string_view enter = "approve with this text";
  if (prompt.command.kind == Command::Kind::kReject) {
    enter = "reject with this reason";
  } else if (prompt.command.kind == Command::Kind::kOpenPoll) {
    enter = "reopen with this reason";
  }
  return absl::StrCat(" Enter ", enter,
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

// --- The polls pane ---------------------------------------------------------

// The most poll rows listed at once (the rest scroll): the selected poll's
// tallies below them need the room.
constexpr int kMaxPollRows = 5;
// The most word-cloud groups shown.
constexpr int kMaxWords = 10;

struct Line {
  std::string text;
  Style style = Style::kNormal;
};

absl::string_view PollKindName(v1::PollKind kind) {
  switch (kind) {
    case v1::POLL_KIND_SINGLE_CHOICE:
      return "single choice";
    case v1::POLL_KIND_MULTIPLE_CHOICE:
      return "multiple choice";
    case v1::POLL_KIND_RATING_SCALE:
      return "rating scale";
    case v1::POLL_KIND_RANKED_CHOICE:
      return "ranked choice";
    case v1::POLL_KIND_WORD_CLOUD:
      return "word cloud";
    case v1::POLL_KIND_MOTION:
      return "motion";
    default:
      return "poll";
  }
}

std::string Plural(int64_t n, absl::string_view one, absl::string_view many) {
  return absl::StrCat(n, " ", n == 1 ? one : many);
}

int Percent(int64_t part, int64_t whole) {
  if (whole <= 0) return 0;
  return static_cast<int>(std::lround(100.0 * static_cast<double>(part) /
                                      static_cast<double>(whole)));
}

// `text` cut or padded to exactly `columns` columns.
std::string PadColumns(absl::string_view text, int columns) {
  std::u32string cut = FitColumns(text, columns);
  int used = DisplayWidth(cut);
  if (used < columns) cut.append(columns - used, U' ');
  return ToUtf8(cut);
}

// The text of a poll's option (an unknown id shows as itself).
std::string OptionText(const v1::Poll& poll, const std::string& id) {
  for (const v1::PollOption& option : poll.options()) {
    if (option.id() == id) return option.text();
  }
  return id;
}

// Bars for (label, votes) rows against `total`: "label  ████      7  58%".
void AddBars(const std::vector<std::pair<std::string, int64_t>>& rows,
             int64_t total, int width, std::vector<Line>& out) {
  int label_columns = 3;
  for (const auto& [label, votes] : rows) {
    label_columns = std::max(label_columns, DisplayWidth(label));
  }
  label_columns = std::min(label_columns, 28);
  // "   " label "  " bar " " votes(6) " " percent(4)
  int bar_columns = std::clamp(width - 3 - label_columns - 2 - 12, 5, 40);
  for (const auto& [label, votes] : rows) {
    int filled = 0;
    if (total > 0) {
      filled = static_cast<int>(std::lround(
          bar_columns * static_cast<double>(std::min(votes, total)) /
          static_cast<double>(total)));
    }
    if (votes > 0) filled = std::max(filled, 1);
    std::string bar;
    for (int i = 0; i < filled; ++i) bar += "\u2588";  // full block
    bar.append(bar_columns - filled, ' ');
    out.push_back({absl::StrFormat("   %s  %s %6d %3d%%",
                                   PadColumns(label, label_columns), bar, votes,
                                   Percent(votes, total))});
  }
}

// The selected poll's results, most telling first (the winner, a motion's
// outcome, turnout), then the bars; the pane cuts what does not fit.
std::vector<Line> PollDetail(const v1::Poll& poll, int width) {
  std::vector<Line> out;
  bool open = poll.state() == v1::POLL_STATE_OPEN;
  out.push_back(
      {absl::StrCat("   ", poll.question(), "  (", PollKindName(poll.kind()),
                    ", ", Plural(poll.ballot_count(), "ballot", "ballots"),
                    ")"),
       Style::kHeader});
  if (!poll.has_results()) {
    if (poll.state() == v1::POLL_STATE_DRAFT) {
      out.push_back({"   a draft: o opens it", Style::kDim});
    } else if (poll.secrecy() == v1::BALLOT_SECRECY_SECRET && open) {
      out.push_back(
          {"   secret ballot: no tally until the poll closes", Style::kDim});
    } else {
      out.push_back({"   no tally to show", Style::kDim});
    }
    return out;
  }
  const v1::PollResults& results = poll.results();
  // Tallies are weighted (ORGANIZATION polls): against the ballots' weight.
  int64_t total = results.ballot_weight() > 0 ? results.ballot_weight()
                                              : results.ballot_count();
  if (results.eligible_count() > 0 || poll.quorum_percent() > 0) {
    bool weighted = results.eligible_weight() != results.eligible_count() ||
                    results.ballot_weight() != results.ballot_count();
    std::string line = absl::StrCat(
        "   turnout ", std::lround(results.turnout() * 100), "% (",
        weighted ? absl::StrCat("weight ", results.ballot_weight(), " of ",
                                results.eligible_weight())
                 : absl::StrCat(results.ballot_count(), " of ",
                                results.eligible_count(), " eligible"),
        ")");
    Style style = Style::kDim;
    if (poll.quorum_percent() > 0) {
      absl::StrAppend(&line, ", quorum ", poll.quorum_percent(), "%: ",
                      results.quorum_reached() ? "reached" : "not reached");
      if (!results.quorum_reached() && !open) style = Style::kError;
    }
    out.push_back({std::move(line), style});
  }
  std::vector<std::pair<std::string, int64_t>> bars;
  switch (poll.kind()) {
    case v1::POLL_KIND_MOTION: {
      if (results.has_motion()) {
        const v1::MotionResult& m = results.motion();
        absl::string_view base = "votes cast";
        if (poll.majority_base() == v1::MAJORITY_BASE_PRESENT) {
          base = "present";
        } else if (poll.majority_base() == v1::MAJORITY_BASE_ELIGIBLE) {
          base = "eligible";
        }
        out.push_back(
            // The verdict first: a narrow pane cuts the figures.
            {absl::StrCat("   ", m.adopted() ? "ADOPTED" : "NOT ADOPTED",
                          open ? " so far" : "", ": yes ", m.yes(), ", no ",
                          m.no(), ", abstain ", m.abstain(), "; needs ",
                          m.required(), " yes (",
                          poll.majority_rule() == v1::MAJORITY_RULE_TWO_THIRDS
                              ? "two thirds"
                              : "simple majority",
                          " of ", m.base(), " ", base, ")"),
             m.adopted() ? Style::kPinned : Style::kNormal});
      }
      for (const v1::OptionTally& tally : results.tallies()) {
        bars.emplace_back(OptionText(poll, tally.option_id()), tally.votes());
      }
      break;
    }
    case v1::POLL_KIND_RANKED_CHOICE: {
      const v1::RankedChoiceResult& ranked = results.ranked_choice();
      if (!ranked.winner_option_id().empty() && ranked.rounds_size() > 0) {
        const v1::InstantRunoffRound& last =
            ranked.rounds(ranked.rounds_size() - 1);
        int64_t counted = 0;
        int64_t winner_votes = 0;
        for (const v1::OptionTally& tally : last.tallies()) {
          counted += tally.votes();
          if (tally.option_id() == ranked.winner_option_id()) {
            winner_votes = tally.votes();
          }
        }
        out.push_back(
            {absl::StrCat("   ", open ? "winner so far: " : "winner: ",
                          OptionText(poll, ranked.winner_option_id()),
                          " in round ", last.round(), " (", winner_votes,
                          " of ", counted, ")"),
             Style::kPinned});
      } else {
        out.push_back({"   no winner yet: no ballots", Style::kDim});
      }
      std::string eliminated;
      for (const v1::InstantRunoffRound& round : ranked.rounds()) {
        if (round.eliminated_option_id().empty()) continue;
        absl::StrAppend(&eliminated, eliminated.empty() ? "" : ", ",
                        OptionText(poll, round.eliminated_option_id()),
                        " (round ", round.round(),
                        round.tie_broken() ? ", tie broken)" : ")");
      }
      if (!eliminated.empty()) {
        out.push_back(
            {absl::StrCat("   eliminated: ", eliminated), Style::kDim});
      }
      out.push_back({"   first preferences:", Style::kDim});
      for (const v1::OptionTally& tally : results.tallies()) {
        bars.emplace_back(OptionText(poll, tally.option_id()), tally.votes());
      }
      break;
    }
    case v1::POLL_KIND_RATING_SCALE:
      out.push_back({absl::StrFormat("   mean %.1f", results.mean_rating()),
                     Style::kPinned});
      for (const v1::RatingTally& tally : results.ratings()) {
        bars.emplace_back(absl::StrCat(tally.value()), tally.votes());
      }
      break;
    case v1::POLL_KIND_WORD_CLOUD: {
      int shown = std::min(results.words_size(), kMaxWords);
      out.push_back({results.words_size() == 0
                         ? "   no words yet"
                         : absl::StrCat("   top words (", shown, " of ",
                                        results.words_size(), "):"),
                     Style::kDim});
      for (int i = 0; i < shown; ++i) {
        bars.emplace_back(results.words(i).text(), results.words(i).count());
      }
      break;
    }
    default:
      for (const v1::OptionTally& tally : results.tallies()) {
        bars.emplace_back(OptionText(poll, tally.option_id()), tally.votes());
      }
      break;
  }
  AddBars(bars, total, width, out);
  return out;
}

// A poll's row: state, ballots, kind, its close timer and reopens (before
// the question: a long question is cut, they must not be), the question.
std::string PollRow(const v1::Poll& poll, bool marked, absl::Time server_now) {
  std::string row = absl::StrFormat(
      "%s %-9s %4d %-7s  %-15s  ", marked ? ">" : " ",
      absl::AsciiStrToUpper(PollStateName(poll.state())), poll.ballot_count(),
      poll.ballot_count() == 1 ? "ballot" : "ballots",
      PollKindName(poll.kind()));
  if (poll.state() == v1::POLL_STATE_OPEN && poll.has_closes_at()) {
    absl::Duration left = ToTime(poll.closes_at()) - server_now;
    absl::StrAppend(&row, left > absl::ZeroDuration()
                              ? absl::StrCat("closes in ", Clock(left), "  ")
                              : "time is up  ");
  }
  if (poll.reopen_count() > 0) {
    absl::StrAppend(&row, "reopened ", poll.reopen_count(), "x  ");
  }
  absl::StrAppend(&row, poll.question());
  return row;
}

// The rows the polls pane would like: its title, the list, the selected
// poll's detail.
int WantedPollsHeight(const ConsoleState& state,
                      const std::vector<Line>& detail) {
  int polls = static_cast<int>(state.polls().polls().size());
  return 1 + std::clamp(polls, 1, kMaxPollRows) +
         static_cast<int>(detail.size());
}

void LayoutPolls(const ConsoleState& state, int top, int height, int width,
                 absl::Time server_now, const std::vector<Line>& detail,
                 Canvas& canvas) {
  if (height <= 0) return;
  const PollsState& polls = state.polls();
  int count = static_cast<int>(polls.polls().size());
  bool focused = state.focus() == Pane::kPolls;
  int selected = state.selected_index(Pane::kPolls);
  int visible = std::min({count, kMaxPollRows, height - 1});
  int first = selected < visible || visible == 0 ? 0 : selected - visible + 1;
  std::string title = absl::StrCat("Polls (", count, "), oldest first");
  if (first > 0) absl::StrAppend(&title, "  ^ ", first, " more");
  int below = count - first - visible;
  if (below > 0) absl::StrAppend(&title, "  v ", below, " more");
  canvas.Put(top, 0, absl::StrCat(" ", title), width,
             focused ? Style::kFocusedHeader : Style::kHeader,
             /*fill=*/focused);
  int row = top + 1;
  int bottom = top + height;
  if (count == 0) {
    std::string empty = "   (none)";
    if (!polls.has_snapshot()) {
      const StreamStatus& stream = state.polls_stream();
      empty =
          stream.state == StreamStatus::State::kReconnecting
              ? absl::StrCat("   (unavailable: ",
                             absl::StatusCodeToString(stream.error.code()), ")")
              : "   (loading)";
    }
    if (row < bottom) canvas.Put(row++, 0, empty, width, Style::kDim);
    return;
  }
  for (int i = 0; i < visible; ++i) {
    const v1::Poll& poll = polls.polls()[first + i];
    bool is_selected = focused && first + i == selected;
    Style style = is_selected                            ? Style::kSelected
                  : poll.state() == v1::POLL_STATE_OPEN  ? Style::kPinned
                  : poll.state() == v1::POLL_STATE_DRAFT ? Style::kDim
                                                         : Style::kNormal;
    canvas.Put(row++, 0, PollRow(poll, is_selected, server_now), width, style,
               /*fill=*/is_selected);
  }
  int room = bottom - row;
  for (int i = 0; i < static_cast<int>(detail.size()) && i < room; ++i) {
    // The last row that fits says how much is cut.
    int cut = static_cast<int>(detail.size()) - i - 1;
    if (i == room - 1 && cut > 0) {
      canvas.Put(row++, 0, absl::StrCat("   ... ", cut + 1, " more rows"),
                 width, Style::kDim);
      break;
    }
    canvas.Put(row++, 0, detail[i].text, width, detail[i].style);
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
          " | agenda: ", StreamText(state.agenda_stream(), agenda.version()),
          " | polls: ",
          StreamText(state.polls_stream(), state.polls().version())),
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
  // The left column: pending and open questions, the polls at the bottom
  // (as much as the selected poll's tallies need, up to 2/5).
  std::vector<Line> detail;
  if (const v1::Poll* poll = state.SelectedPoll()) {
    detail = PollDetail(*poll, left_width);
  }
  int polls_height = std::clamp(WantedPollsHeight(state, detail), 2,
                                std::max(2, body_height * 2 / 5));
  int questions_height = body_height - polls_height;
  int pending_height = std::max(3, questions_height * 2 / 5);
  LayoutQuestions(state, Pane::kPending, body_top, pending_height, left_width,
                  now, canvas);
  LayoutQuestions(state, Pane::kOpen, body_top + pending_height,
                  questions_height - pending_height, left_width, now, canvas);
  LayoutPolls(state, body_top + questions_height, polls_height, left_width,
              server_now, detail, canvas);
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
  canvas.Put(height - 1, 0,
             prompt ? PromptKeys(*prompt) : FooterKeys(state.focus()), width,
             Style::kTitle, /*fill=*/true);
  if (state.help_visible()) LayoutHelp(body_top, body_height, width, canvas);
  return canvas;
}

}  // namespace townhall::console
