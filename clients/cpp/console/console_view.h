// The console's screen as data: LayoutConsole places the texts of a
// ConsoleState on a width x height grid, the terminal (terminal.h) only
// copies them to ncurses. Tests read the grid as plain rows, the way tmux's
// capture-pane shows it.
//
//   Canvas canvas = LayoutConsole(state, 160, 50, absl::Now());
//   terminal.Draw(canvas);
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "clients/cpp/console/console_state.h"

namespace townhall::console {

enum class Style {
  kNormal,
  kTitle,          // title bar and footer (reverse video)
  kHeader,         // a pane's title (bold)
  kFocusedHeader,  // the focused pane's title (bold, reverse)
  kSelected,       // the selected row of the focused pane (reverse)
  kPinned,         // the pinned question (bold)
  kDim,            // hints, empty panes
  kError,          // failed commands, lost streams (red)
};

// Texts placed on a grid; each segment is already cut to its width.
class Canvas {
 public:
  struct Segment {
    int row;
    int column;
    std::u32string text;
    Style style;
  };

  Canvas(int width, int height) : width_(width), height_(height) {}

  // Places `text` at (row, column), cut to `max_columns` and to the grid;
  // with `fill`, pads it with spaces to max_columns (for bars). Returns the
  // columns used.
  int Put(int row, int column, absl::string_view text, int max_columns,
          Style style, bool fill = false);
  void set_cursor(int row, int column) { cursor_ = {row, column}; }

  int width() const { return width_; }
  int height() const { return height_; }
  const std::vector<Segment>& segments() const { return segments_; }
  // Where the terminal's cursor goes (shown only when set: the prompt).
  const std::optional<std::pair<int, int>>& cursor() const { return cursor_; }
  // The grid as UTF-8 text rows without trailing spaces.
  std::vector<std::string> PlainRows() const;

 private:
  int width_;
  int height_;
  std::vector<Segment> segments_;
  std::optional<std::pair<int, int>> cursor_;
};

// The smallest terminal the layout fits.
inline constexpr int kMinWidth = 60;
inline constexpr int kMinHeight = 12;

// Lays out the console for a width x height terminal at local time `now`:
// title bar with the streams' health, the active agenda item, the pending
// and open questions and the polls (with the selected poll's tallies) on
// the left, the speakers' queue and the agenda on the right, the status
// line (or a prompt) and the keys of the focused pane.
Canvas LayoutConsole(const ConsoleState& state, int width, int height,
                     absl::Time now);

}  // namespace townhall::console
