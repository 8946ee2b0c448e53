// Terminal: the only code that talks to ncurses (the wide-character
// ncursesw, for Uzbek and Russian text). It reads keys as KeyEvents and
// copies a Canvas to the screen.
//
//   absl::StatusOr<std::unique_ptr<Terminal>> terminal = Terminal::Open();
//   std::optional<KeyEvent> key = (*terminal)->ReadKey(absl::Milliseconds(50));
//   (*terminal)->Draw(LayoutConsole(state, (*terminal)->width(), ...));
#pragma once

#include <memory>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "clients/cpp/console/console_state.h"
#include "clients/cpp/console/console_view.h"

typedef struct screen SCREEN;

namespace townhall::console {

class Terminal {
 public:
  // Takes over the terminal on stdin/stdout (FAILED_PRECONDITION when they
  // are not a terminal). Switches to a UTF-8 locale when the environment's
  // is not one, so that non-Latin text is drawn.
  static absl::StatusOr<std::unique_ptr<Terminal>> Open();
  // Gives the terminal back as it was.
  ~Terminal();
  Terminal(const Terminal&) = delete;
  Terminal& operator=(const Terminal&) = delete;

  // Waits up to `timeout` for a key; nullopt when none came (or on a
  // resize: see TakeResized).
  std::optional<KeyEvent> ReadKey(absl::Duration timeout);
  // Whether the terminal was resized since the last call.
  bool TakeResized();
  void Draw(const Canvas& canvas);
  int width() const;
  int height() const;

 private:
  explicit Terminal(SCREEN* screen) : screen_(screen) {}

  SCREEN* screen_;
  bool colors_ = false;
  bool resized_ = false;
};

}  // namespace townhall::console
