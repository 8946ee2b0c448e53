#include "clients/cpp/console/terminal.h"

#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#include <curses.h>
#include <langinfo.h>
#include <unistd.h>

#include <clocale>
#include <cstdio>
#include <cstring>
#include <string>

#include "absl/status/status.h"

namespace townhall::console {
namespace {

static_assert(sizeof(wchar_t) == sizeof(char32_t),
              "code points are passed to ncursesw as wchar_t");

constexpr short kErrorPair = 1;

bool LocaleIsUtf8() {
  const char* codeset = nl_langinfo(CODESET);
  return codeset != nullptr && std::strcmp(codeset, "UTF-8") == 0;
}

attr_t Attributes(Style style, bool colors) {
  switch (style) {
    case Style::kNormal:
      return A_NORMAL;
    case Style::kTitle:
    case Style::kSelected:
      return A_REVERSE;
    case Style::kHeader:
    case Style::kPinned:
      return A_BOLD;
    case Style::kFocusedHeader:
      return A_BOLD | A_REVERSE;
    case Style::kDim:
      return A_DIM;
    case Style::kError:
      return colors ? (COLOR_PAIR(kErrorPair) | A_BOLD) : A_BOLD;
  }
  return A_NORMAL;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Terminal>> Terminal::Open() {
  if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
    return absl::FailedPreconditionError(
        "the moderator console needs a terminal (stdin and stdout)");
  }
  std::setlocale(LC_ALL, "");
  if (!LocaleIsUtf8()) std::setlocale(LC_CTYPE, "C.UTF-8");
  // newterm, unlike initscr, returns null instead of exiting on a bad TERM.
  SCREEN* screen = newterm(nullptr, stdout, stdin);
  if (screen == nullptr) {
    return absl::FailedPreconditionError(
        "cannot use this terminal (is TERM set?)");
  }
  set_term(screen);
  std::unique_ptr<Terminal> terminal(new Terminal(screen));
  cbreak();
  noecho();
  nonl();
  keypad(stdscr, TRUE);
  // Esc cancels a prompt; do not wait a second for an escape sequence.
  set_escdelay(25);
  curs_set(0);
  if (has_colors()) {
    start_color();
    use_default_colors();
    init_pair(kErrorPair, COLOR_RED, -1);
    terminal->colors_ = true;
  }
  return terminal;
}

Terminal::~Terminal() {
  endwin();
  delscreen(screen_);
}

std::optional<KeyEvent> Terminal::ReadKey(absl::Duration timeout) {
  using Special = KeyEvent::Special;
  wtimeout(stdscr, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
  wint_t ch = 0;
  int kind = wget_wch(stdscr, &ch);
  if (kind == ERR) return std::nullopt;
  if (kind == KEY_CODE_YES) {
    switch (ch) {
      case KEY_UP:
        return KeyEvent::Of(Special::kUp);
      case KEY_DOWN:
        return KeyEvent::Of(Special::kDown);
      case KEY_LEFT:
        return KeyEvent::Of(Special::kLeft);
      case KEY_RIGHT:
        return KeyEvent::Of(Special::kRight);
      case KEY_DC:
        return KeyEvent::Of(Special::kDelete);
      case KEY_PPAGE:
        return KeyEvent::Of(Special::kPageUp);
      case KEY_NPAGE:
        return KeyEvent::Of(Special::kPageDown);
      case KEY_HOME:
        return KeyEvent::Of(Special::kHome);
      case KEY_END:
        return KeyEvent::Of(Special::kEnd);
      case KEY_BTAB:
        return KeyEvent::Of(Special::kBackTab);
      case KEY_ENTER:
        return KeyEvent::Of(Special::kEnter);
      case KEY_BACKSPACE:
        return KeyEvent::Of(Special::kBackspace);
      case KEY_RESIZE:
        resized_ = true;
        return std::nullopt;
      default:
        return std::nullopt;
    }
  }
  switch (ch) {
    case L'\t':
      return KeyEvent::Of(Special::kTab);
    case L'\n':
    case L'\r':
      return KeyEvent::Of(Special::kEnter);
    case 27:
      return KeyEvent::Of(Special::kEscape);
    case 8:
    case 127:
      return KeyEvent::Of(Special::kBackspace);
    default:
      return KeyEvent::Char(static_cast<char32_t>(ch));
  }
}

bool Terminal::TakeResized() {
  bool resized = resized_;
  resized_ = false;
  return resized;
}

void Terminal::Draw(const Canvas& canvas) {
  werase(stdscr);
  for (const Canvas::Segment& segment : canvas.segments()) {
    std::wstring text(segment.text.begin(), segment.text.end());
    wattrset(stdscr, Attributes(segment.style, colors_));
    // The bottom-right cell makes ncurses report ERR (it would scroll);
    // the text is drawn all the same.
    mvwaddnwstr(stdscr, segment.row, segment.column, text.c_str(),
                static_cast<int>(text.size()));
  }
  wattrset(stdscr, A_NORMAL);
  if (const auto& cursor = canvas.cursor()) {
    curs_set(1);
    wmove(stdscr, cursor->first, cursor->second);
  } else {
    curs_set(0);
  }
  wnoutrefresh(stdscr);
  doupdate();
}

int Terminal::width() const { return COLS; }
int Terminal::height() const { return LINES; }

}  // namespace townhall::console
