// The one walk over the code points of UTF-8 text (utf8proc's decoder), for
// validation and text normalization alike.
//
// Usage:
//   size_t count = 0;
//   if (!ForEachCodePoint(text, [&](CodePoint) { ++count; return true; })) {
//     ... not valid UTF-8 ...
//   }
#pragma once

#include <utf8proc.h>

#include "absl/strings/string_view.h"

namespace townhall {

using CodePoint = utf8proc_int32_t;

// Calls `visit(code_point)` for each code point of `text` in order until it
// returns false. Returns false if `text` is not valid UTF-8 (as far as the
// walk got; stopping early never reports the rest as valid or not).
template <typename Visit>
bool ForEachCodePoint(absl::string_view text, Visit visit) {
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  auto remaining = static_cast<utf8proc_ssize_t>(text.size());
  while (remaining > 0) {
    CodePoint cp = 0;
    utf8proc_ssize_t n = utf8proc_iterate(p, remaining, &cp);
    if (n < 0) return false;
    if (!visit(cp)) return true;
    p += n;
    remaining -= n;
  }
  return true;
}

// Tells whether `text` is valid UTF-8 (no surrogates, no overlong forms).
inline bool IsValidUtf8(absl::string_view text) {
  return ForEachCodePoint(text, [](CodePoint) { return true; });
}

}  // namespace townhall
