// Text for a terminal: UTF-8 in, fixed-width cells out. Question texts are
// Uzbek (Latin and Cyrillic), Russian and English, sometimes with CJK or
// emoji, so a column is not a byte and not always a code point.
//
//   std::u32string cell = FitColumns("Mehnat migratsiyasi", 12);
//   // "Mehnat migr…": 12 columns, never more.
#pragma once

#include <string>

#include "absl/strings/string_view.h"

namespace townhall::console {

// Returns the columns `text` takes on a terminal (0 for combining marks, 2
// for wide characters). Invalid UTF-8 counts as U+FFFD.
int DisplayWidth(absl::string_view text);

// Decodes `text` for display in at most `columns` columns: newlines, tabs
// and other control characters become spaces (questions may contain
// newlines, a row must stay one row), and a text that does not fit ends in
// "…". Never splits a wide character.
std::u32string FitColumns(absl::string_view text, int columns);

// Encodes code points as UTF-8 (for what the moderator types).
std::string ToUtf8(const std::u32string& text);

// Decodes UTF-8 into code points (a question's text to edit); invalid
// bytes become U+FFFD.
std::u32string FromUtf8(absl::string_view text);

// Returns the columns of already decoded code points.
int DisplayWidth(const std::u32string& text);

}  // namespace townhall::console
