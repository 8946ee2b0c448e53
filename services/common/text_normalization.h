// Text folding for duplicate detection: organization and participant
// names on create and CSV import, and "similar question" suggestions.
// Everything here is for matching only; never show its output to users or
// store it as display text.
//
//   NormalizeForMatching("  O‘zbekiston  Madaniyat-Markazi! ")
//       == "o'zbekiston madaniyat markazi"
//   LatinMatchKey("Ўзбекистон") == "o'zbekiston"            (ICU transforms)
//   SkeletonMatchKey("Кazakh Сenter") == SkeletonMatchKey("Kazakh Center")
//                                                     (Unicode TS #39)
//   MatchTokens("Ассоциация узбеков Москвы")
//       == {"assotsiatsiya", "uzbekov", "moskvy"}
//   if (Similarity(new_name, existing_name) > 0.6) { /* likely duplicate */ }
//
// Two keys per text, because they catch different things:
//  - the Latin key transliterates every script to Latin with ICU's
//    transforms (BGN/PCGN for Russian, Ukrainian, Belarusian, Kazakh,
//    Kyrgyz, ...; UNGEGN for Greek; Any-Latin for the rest), plus our own
//    ICU rules for Uzbek (the official Uzbek Latin alphabet: ў -> o', ғ -> g',
//    қ -> q, ҳ -> h, х -> x), Tajik (which ICU 72 lacks), and Bulgarian,
//    Macedonian and Mongolian (their official systems, where ICU has older
//    BGN/PCGN tables: "Българско" is "Balgarsko"), so that a name
//    and its usual Latin spelling are one key ("Ассоциация" and
//    "Assotsiatsiya");
//  - the skeleton key maps look-alike letters to one prototype (ICU's
//    spoof checker, confusables.txt), so that a name written with letters
//    of another script that look the same is one key ("Кazakh" with a
//    Cyrillic К, "Sοciety" with a Greek ο), which transliteration misses
//    when the look-alike is a different letter (Cyrillic С is "s", not "c").
// The rules and their reasons are in docs/registration.md.
//
// Thread-safe. The ICU transliterators are built once per process (they are
// expensive) and cloned once per thread that uses them (ICU transliterators
// must not be shared between threads unsynchronized); the spoof checker is
// shared (its const functions are thread-safe).
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

// Transliterates `normalized` (the output of NormalizeForMatching) to
// Latin for matching: the transform of `language` (a BCP 47 tag; its
// primary language subtag picks it: ru, uk, be, kk, ky, uz, tg, bg, sr, mk,
// mn, fa) for Cyrillic (and Persian) letters, or, when `language` is empty
// or has no transform of its own, the one the text's letters suggest
// (ә ұ һ: Kazakh; ў ҳ, or қ ғ without Kazakh letters: Uzbek; ҷ ӣ ӯ: Tajik;
// ї є ґ і: Ukrainian; ө ү ң: Kyrgyz; other Cyrillic: Russian); then Greek
// (UNGEGN), Georgian and Armenian (BGN/PCGN) and every other script
// (Any-Latin), and Latin-ASCII. Deterministic and lossy: for matching only.
// Returns `normalized` unchanged if it is not valid UTF-8.
std::string TransliterateToLatin(absl::string_view normalized,
                                 absl::string_view language = "");

// The languages, besides the one its letters suggest, that an untagged
// `text` is also read as for matching (LatinMatchKey(text, language) for
// each), because its letters cannot tell them apart from Russian:
//  - "uz" always: diaspora files write Uzbek in Cyrillic without ў қ ғ ҳ;
//  - "bg" when Cyrillic read as Russian has ъ before a consonant at a word's
//    start or after a consonant ("Българско", "път"), which only Bulgarian
//    writes (Bulgarian without ъ so, "Христо Ботев", reads only as Russian:
//    щ or е alone do not tell Bulgarian from Russian);
//  - "mk" when it has a Macedonian letter (ѓ ќ ѕ, or ј љ њ џ without the
//    Serbian ђ ћ).
// Mongolian is never guessed: its letters ө ү are Kyrgyz too, and the
// Kyrgyz reading is close to Mongolia's standard (ө ü ы y х kh ж j).
std::vector<std::string> AlsoReadAs(absl::string_view text);

// NormalizeForMatching(TransliterateToLatin(NormalizeForMatching(text))):
// the words of `text` in lowercase ASCII Latin (and apostrophes), one space
// between words. Empty for invalid UTF-8 and for text without letters or
// digits.
std::string LatinMatchKey(absl::string_view text,
                          absl::string_view language = "");

// The confusable skeleton of `text` (Unicode TS #39, uspoof_getSkeleton):
// skeleton, case fold, skeleton again (so that capital look-alikes such as
// Cyrillic "К" and small ones agree), then NormalizeForMatching. Equal for
// texts that look alike whatever their scripts ("Сenter" with a Cyrillic С
// and "Center"); the output is not readable ("m" becomes "rn"). Empty for
// invalid UTF-8 and for text without letters or digits.
std::string SkeletonMatchKey(absl::string_view text);

// The words of LatinMatchKey(text, language). Empty for invalid UTF-8.
std::vector<std::string> MatchTokens(absl::string_view text,
                                     absl::string_view language = "");

// The Dice coefficient over the sets of character trigrams of the words of
// two keys (space-separated words, as LatinMatchKey and SkeletonMatchKey
// make them), padded like PostgreSQL's pg_trgm ("  w", " wo", ..., "rd ").
// 1.0 for equal keys (including both empty), 0.0 when exactly one is empty.
double KeySimilarity(absl::string_view key_a, absl::string_view key_b);

// Similarity in [0, 1] of `a` and `b`: the larger KeySimilarity of their
// Latin keys and of their skeleton keys, so that a spelling in another
// script and a spelling with look-alike letters both score high. Dice rather
// than Jaccard because it is kinder to short names where one differing word
// is a large share of the trigrams. Word order barely matters. Symmetric;
// 1.0 when either pair of keys is equal (including both empty), 0.0 when
// exactly one is empty. If either input is not valid UTF-8, returns 1.0 for
// byte-equal inputs and 0.0 otherwise.
double Similarity(absl::string_view a, absl::string_view b);

}  // namespace townhall
