// Text folding for duplicate detection: organization names on create and
// CSV import, and "similar question" suggestions. Everything here is for
// matching only; never show its output to users or store it as display text.
//
//   NormalizeForMatching("  O‘zbekiston  Madaniyat-Markazi! ")
//       == "o'zbekiston madaniyat markazi"
//   TransliterateCyrillicToLatin("ўзбекистон") == "o'zbekiston"
//   MatchTokens("Ассоциация узбеков Москвы")
//       == {"assotsiatsiya", "uzbekov", "moskvy"}
//   if (Similarity(new_name, existing_name) > 0.6) { /* likely duplicate */ }
//
// Callers validate UTF-8 first (ValidateText); invalid UTF-8 is never an
// error here, it just does not fold (see each function).
#pragma once

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace townhall {

// The one apostrophe every variant folds to. Uzbek Latin writes oʻ/gʻ with
// U+02BB, but users type ', ’, ‘, ʼ or ` interchangeably; ASCII survives
// every pipeline (CSV, logs, Redis keys) and is one byte.
inline constexpr char kCanonicalApostrophe = '\'';

// Folds `text` so that spellings a human would call "the same" compare
// equal:
//  - apostrophe-like characters (' ’ ‘ ʻ ʼ ` ´ ʹ) become
//    kCanonicalApostrophe, which is kept only as part of a word: between
//    letters ("o'zbekiston") or after the Uzbek o/g ("tog'"); elsewhere it
//    is punctuation;
//  - NFKC (full-width "ＡＢＣ" -> "abc", ligatures, ...) and Unicode case
//    folding; default-ignorable characters (soft hyphen, zero-width space)
//    are dropped;
//  - combining marks are stripped from Latin letters only ("École" ->
//    "ecole"). Cyrillic keeps them, so й/и, ё/е and ў/у stay distinct:
//    they are different letters in Uzbek, and transliteration needs them
//    (ў -> o', й -> y);
//  - every run of characters that are not letters, digits or kept marks
//    (whitespace, punctuation, symbols, controls) becomes one space, and
//    the result is trimmed.
// Returns `text` unchanged if it is not valid UTF-8.
std::string NormalizeForMatching(absl::string_view text);

// Transliterates Cyrillic letters in `normalized` (the output of
// NormalizeForMatching) to Latin, following Uzbek Latin orthography where
// Uzbek has the letter (х -> x, ц -> ts, ў -> o', ғ -> g', қ -> q, ҳ -> h,
// ъ -> ') and common Russian practice otherwise (ы -> y, щ -> sh, ь -> "").
// Deterministic and context-free (е is always "e"), so it is lossy and meant
// for matching only, not display. Uppercase Cyrillic is lowercased; other
// characters pass through. Returns `normalized` unchanged if it is not valid
// UTF-8.
std::string TransliterateCyrillicToLatin(absl::string_view normalized);

// The words of TransliterateCyrillicToLatin(NormalizeForMatching(text)).
// Empty for invalid UTF-8.
std::vector<std::string> MatchTokens(absl::string_view text);

// Similarity in [0, 1] of the matching forms (MatchTokens) of `a` and `b`:
// the Dice coefficient over the sets of character trigrams of each word,
// padded like PostgreSQL's pg_trgm ("  w", " wo", ..., "rd "). Dice rather
// than Jaccard because it is kinder to short names where one differing word
// is a large share of the trigrams. Word order barely matters. Symmetric;
// 1.0 when the matching forms are equal (including both empty), 0.0 when
// exactly one is empty. If either input is not valid UTF-8, returns 1.0 for
// byte-equal inputs and 0.0 otherwise.
double Similarity(absl::string_view a, absl::string_view b);

}  // namespace townhall
