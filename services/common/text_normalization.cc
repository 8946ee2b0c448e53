#include "services/common/text_normalization.h"

#include <utf8proc.h>

#include <algorithm>
#include <cstdlib>
#include <iterator>
#include <optional>

#include "absl/strings/str_split.h"
#include "services/common/utf8.h"

namespace townhall {
namespace {

// Runs before decomposition, so a variant with a compatibility mapping
// (U+00B4 ´ is NFKC " \u0301") is caught before it falls apart.
CodePoint FoldApostrophe(CodePoint cp, void* /*data*/) {
  switch (cp) {
    case 0x0027:  // ' APOSTROPHE
    case 0x0060:  // ` GRAVE ACCENT
    case 0x00B4:  // ´ ACUTE ACCENT
    case 0x02B9:  // ʹ MODIFIER LETTER PRIME
    case 0x02BB:  // ʻ MODIFIER LETTER TURNED COMMA (official Uzbek oʻ/gʻ)
    case 0x02BC:  // ʼ MODIFIER LETTER APOSTROPHE
    case 0x2018:  // ‘ LEFT SINGLE QUOTATION MARK
    case 0x2019:  // ’ RIGHT SINGLE QUOTATION MARK
    case 0xFF07:  // ＇ FULLWIDTH APOSTROPHE
      return kCanonicalApostrophe;
    default:
      return cp;
  }
}

// Decodes `text` into `out`; false if it is not valid UTF-8.
bool Decode(absl::string_view text, std::vector<CodePoint>* out) {
  return ForEachCodePoint(text, [out](CodePoint cp) {
    out->push_back(cp);
    return true;
  });
}

void AppendUtf8(CodePoint cp, std::string* out) {
  utf8proc_uint8_t buffer[4];
  utf8proc_ssize_t n = utf8proc_encode_char(cp, buffer);
  out->append(reinterpret_cast<const char*>(buffer), n);
}

// utf8proc_map_custom into a std::string; nullopt on invalid UTF-8.
std::optional<std::string> Map(absl::string_view text, int options,
                               utf8proc_custom_func custom_func) {
  utf8proc_uint8_t* mapped = nullptr;
  utf8proc_ssize_t n = utf8proc_map_custom(
      reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
      static_cast<utf8proc_ssize_t>(text.size()), &mapped,
      static_cast<utf8proc_option_t>(options), custom_func, nullptr);
  if (n < 0) return std::nullopt;
  std::string result(reinterpret_cast<const char*>(mapped), n);
  std::free(mapped);
  return result;
}

bool IsLetter(CodePoint cp) {
  switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
      return true;
    default:
      return false;
  }
}

bool IsLetterOrDigit(CodePoint cp) {
  switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
      return true;
    default:
      return IsLetter(cp);
  }
}

bool IsMark(CodePoint cp) {
  utf8proc_category_t category = utf8proc_category(cp);
  return category == UTF8PROC_CATEGORY_MN || category == UTF8PROC_CATEGORY_MC ||
         category == UTF8PROC_CATEGORY_ME;
}

bool IsLatin(CodePoint cp) {
  return (cp >= 0x0041 && cp <= 0x024F) || (cp >= 0x1E00 && cp <= 0x1EFF) ||
         (cp >= 0x2C60 && cp <= 0x2C7F) || (cp >= 0xA720 && cp <= 0xA7FF);
}

struct Transliteration {
  CodePoint cyrillic;
  const char* latin;
};

// Lowercase Cyrillic -> Latin. Uzbek first, then Russian, plus the few
// Ukrainian and Kazakh letters diaspora names commonly contain.
constexpr Transliteration kCyrillicToLatin[] = {
    {0x0430, "a"},   // а
    {0x0431, "b"},   // б
    {0x0432, "v"},   // в
    {0x0433, "g"},   // г
    {0x0434, "d"},   // д
    {0x0435, "e"},   // е
    {0x0451, "yo"},  // ё
    {0x0436, "j"},   // ж
    {0x0437, "z"},   // з
    {0x0438, "i"},   // и
    {0x0439, "y"},   // й
    {0x043A, "k"},   // к
    {0x043B, "l"},   // л
    {0x043C, "m"},   // м
    {0x043D, "n"},   // н
    {0x043E, "o"},   // о
    {0x043F, "p"},   // п
    {0x0440, "r"},   // р
    {0x0441, "s"},   // с
    {0x0442, "t"},   // т
    {0x0443, "u"},   // у
    {0x0444, "f"},   // ф
    {0x0445, "x"},   // х
    {0x0446, "ts"},  // ц
    {0x0447, "ch"},  // ч
    {0x0448, "sh"},  // ш
    {0x0449, "sh"},  // щ
    {0x044A, "'"},   // ъ: the Uzbek tutuq belgisi (маъно, ma'no)
    {0x044B, "y"},   // ы
    {0x044C, ""},    // ь
    {0x044D, "e"},   // э
    {0x044E, "yu"},  // ю
    {0x044F, "ya"},  // я
    {0x045E, "o'"},  // ў
    {0x0493, "g'"},  // ғ
    {0x049B, "q"},   // қ
    {0x04B3, "h"},   // ҳ
    {0x0456, "i"},   // і
    {0x0457, "yi"},  // ї
    {0x0454, "ye"},  // є
    {0x0491, "g"},   // ґ
    {0x04D9, "a"},   // ә
    {0x04E9, "o"},   // ө
    {0x04AF, "u"},   // ү
    {0x04B1, "u"},   // ұ
    {0x04A3, "ng"},  // ң
    {0x04BB, "h"},   // һ
};

// The Latin for lowercase Cyrillic `cp`, or nullptr to pass it through.
const char* CyrillicToLatin(CodePoint cp) {
  for (const Transliteration& t : kCyrillicToLatin) {
    if (t.cyrillic == cp) return t.latin;
  }
  return nullptr;
}

// TransliterateCyrillicToLatin(NormalizeForMatching(text)), or nullopt for
// invalid UTF-8 (NormalizeForMatching alone cannot tell us).
std::optional<std::string> MatchKey(absl::string_view text) {
  if (!IsValidUtf8(text)) return std::nullopt;
  return TransliterateCyrillicToLatin(NormalizeForMatching(text));
}

// Sorted, deduplicated pg_trgm-style trigrams of each space-separated word.
std::vector<std::string> Trigrams(absl::string_view key) {
  std::vector<std::string> trigrams;
  for (absl::string_view word : absl::StrSplit(key, ' ', absl::SkipEmpty())) {
    std::vector<CodePoint> padded = {' ', ' '};
    Decode(word, &padded);
    padded.push_back(' ');
    for (size_t i = 0; i + 3 <= padded.size(); ++i) {
      std::string trigram;
      for (size_t j = i; j < i + 3; ++j) AppendUtf8(padded[j], &trigram);
      trigrams.push_back(std::move(trigram));
    }
  }
  std::sort(trigrams.begin(), trigrams.end());
  trigrams.erase(std::unique(trigrams.begin(), trigrams.end()), trigrams.end());
  return trigrams;
}

}  // namespace

std::string NormalizeForMatching(absl::string_view text) {
  // Decomposed first so marks can be filtered per script below; composed
  // again at the end.
  std::optional<std::string> folded =
      Map(text,
          UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD |
              UTF8PROC_IGNORE,
          &FoldApostrophe);
  if (!folded.has_value()) return std::string(text);
  std::vector<CodePoint> cps;
  Decode(*folded, &cps);

  std::string out;
  bool pending_space = false;
  // The last code point emitted, or -1 right after a separator.
  CodePoint previous = -1;
  for (size_t i = 0; i < cps.size(); ++i) {
    CodePoint cp = cps[i];
    if (IsMark(cp)) {
      if (previous >= 0 && IsLetter(previous) && !IsLatin(previous)) {
        AppendUtf8(cp, &out);
      }
      continue;
    }
    if (IsLetterOrDigit(cp)) {
      if (pending_space && !out.empty()) out += ' ';
      pending_space = false;
      AppendUtf8(cp, &out);
      previous = cp;
      continue;
    }
    if (cp == kCanonicalApostrophe && previous >= 0 && IsLetter(previous)) {
      bool letter_follows = i + 1 < cps.size() && IsLetter(cps[i + 1]);
      if (letter_follows || previous == 'o' || previous == 'g') {
        out += kCanonicalApostrophe;
        previous = cp;
        continue;
      }
    }
    pending_space = true;
    previous = -1;
  }
  // Only Cyrillic (and other non-Latin) marks are left to compose; the
  // input is valid UTF-8 by now.
  return Map(out, UTF8PROC_COMPOSE, nullptr).value_or(out);
}

std::string TransliterateCyrillicToLatin(absl::string_view normalized) {
  std::vector<CodePoint> cps;
  if (!Decode(normalized, &cps)) return std::string(normalized);
  std::string out;
  out.reserve(normalized.size());
  for (CodePoint cp : cps) {
    if (const char* latin = CyrillicToLatin(utf8proc_tolower(cp))) {
      out += latin;
    } else {
      AppendUtf8(cp, &out);
    }
  }
  return out;
}

std::vector<std::string> MatchTokens(absl::string_view text) {
  std::optional<std::string> key = MatchKey(text);
  if (!key.has_value()) return {};
  return absl::StrSplit(*key, ' ', absl::SkipEmpty());
}

double Similarity(absl::string_view a, absl::string_view b) {
  std::optional<std::string> key_a = MatchKey(a);
  std::optional<std::string> key_b = MatchKey(b);
  if (!key_a.has_value() || !key_b.has_value()) return a == b ? 1.0 : 0.0;
  if (*key_a == *key_b) return 1.0;
  std::vector<std::string> trigrams_a = Trigrams(*key_a);
  std::vector<std::string> trigrams_b = Trigrams(*key_b);
  if (trigrams_a.empty() || trigrams_b.empty()) return 0.0;
  std::vector<std::string> common;
  std::set_intersection(trigrams_a.begin(), trigrams_a.end(),
                        trigrams_b.begin(), trigrams_b.end(),
                        std::back_inserter(common));
  return 2.0 * static_cast<double>(common.size()) /
         static_cast<double>(trigrams_a.size() + trigrams_b.size());
}

}  // namespace townhall
