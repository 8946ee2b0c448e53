#include "clients/cpp/console/console_text.h"

#include <utf8proc.h>

namespace townhall::console {
namespace {

constexpr char32_t kEllipsis = U'…';
constexpr char32_t kReplacement = 0xFFFD;

}  // namespace

std::u32string FromUtf8(absl::string_view text) {
  std::u32string out;
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  auto remaining = static_cast<utf8proc_ssize_t>(text.size());
  while (remaining > 0) {
    utf8proc_int32_t cp = 0;
    utf8proc_ssize_t n = utf8proc_iterate(p, remaining, &cp);
    if (n <= 0) {  // skip one byte of invalid input
      out.push_back(kReplacement);
      ++p;
      --remaining;
      continue;
    }
    out.push_back(static_cast<char32_t>(cp));
    p += n;
    remaining -= n;
  }
  return out;
}

namespace {

bool IsControl(char32_t c) { return c < 0x20 || (c >= 0x7F && c < 0xA0); }

int Width(char32_t c) {
  if (IsControl(c)) return 1;  // shown as a space
  int w = utf8proc_charwidth(static_cast<utf8proc_int32_t>(c));
  return w < 0 ? 1 : w;
}

}  // namespace

int DisplayWidth(const std::u32string& text) {
  int width = 0;
  for (char32_t c : text) width += Width(c);
  return width;
}

int DisplayWidth(absl::string_view text) {
  return DisplayWidth(FromUtf8(text));
}

std::u32string FitColumns(absl::string_view text, int columns) {
  if (columns <= 0) return {};
  std::u32string decoded = FromUtf8(text);
  for (char32_t& c : decoded) {
    if (IsControl(c)) c = U' ';
  }
  if (DisplayWidth(decoded) <= columns) return decoded;
  std::u32string out;
  int used = 0;
  for (char32_t c : decoded) {
    int w = Width(c);
    if (used + w > columns - 1) break;  // keep a column for the ellipsis
    out.push_back(c);
    used += w;
  }
  out.push_back(kEllipsis);
  return out;
}

std::string ToUtf8(const std::u32string& text) {
  std::string out;
  for (char32_t c : text) {
    utf8proc_uint8_t buffer[4];
    utf8proc_ssize_t n =
        utf8proc_encode_char(static_cast<utf8proc_int32_t>(c), buffer);
    out.append(reinterpret_cast<const char*>(buffer), n);
  }
  return out;
}

}  // namespace townhall::console
