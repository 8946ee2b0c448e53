#include "services/common/text_normalization.h"

#include <unicode/translit.h>
#include <unicode/unistr.h>
#include <unicode/uspoof.h>
#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/common/logging.h"
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

// ---- Transliteration (ICU transforms) ---------------------------------------

// Our own rules, only where ICU has no transform for a country's official
// standard (Uzbek, Tajik) or ICU's differs from it (Bulgarian, Macedonian,
// Mongolian: ICU follows older BGN/PCGN tables).
// They run on lowercase text (after NormalizeForMatching); "::" lines are
// ICU's own transforms, run as later passes.
//
// Uzbek: the official Uzbek Latin alphabet (1995, Cabinet of Ministers
// resolution No. 339) differs from ICU's Uzbek-Latin/BGN (BGN/PCGN 1979:
// ў -> ŭ, ғ -> gh, ҳ -> kh, х -> kh, ж -> zh): ў -> o', ғ -> g', қ -> q,
// ҳ -> h, х -> x, ж -> j, ё -> yo, ъ -> ' (tutuq belgisi); е -> ye at a word's
// start, after a vowel and after ъ; ц -> ts after a vowel, s elsewhere;
// щ (only in Russian loans) -> sh. Russian-Latin/BGN then takes the letters
// both alphabets write alike (ч -> ch, ш -> sh, ю -> yu, я -> ya, й -> y).
constexpr char kUzbekRules[] = R"(
$vowel = [аеёиоуэюяўaeiou] ;
$letter = [[:L:][:M:]\'] ;
ъе > ye ;
ъ > \' ;
$vowel { е > ye ;
$letter { е > e ;
е > ye ;
$vowel { ц > ts ;
ц > s ;
ў > o\' ;
ғ > g\' ;
қ > q ;
ҳ > h ;
х > x ;
ж > j ;
ё > yo ;
щ > sh ;
:: Russian-Latin/BGN ;
)";

// Tajik: ICU 72 has no Tajik transform. BGN/PCGN 1994 for Tajik writes the
// Tajik letters ғ -> gh, ӣ -> ī, қ -> q, ӯ -> ū, ҳ -> h, ҷ -> j and the rest
// like BGN/PCGN Russian (х -> kh, ж -> zh, е -> ye at a word's start).
constexpr char kTajikRules[] = R"(
ғ > gh ;
ӣ > i ;
қ > q ;
ӯ > u ;
ҳ > h ;
ҷ > j ;
:: Russian-Latin/BGN ;
)";

// Bulgarian: ICU's Bulgarian-Latin/BGN is the BGN/PCGN 1952 system
// (ъ -> ŭ, х -> kh: "Българско" -> "bulgarsko", "Христо" -> "khristo").
// Bulgaria's official system since 2009 (Transliteration Act, State Gazette
// No. 19/2009), which Bulgarian passports, signs and organizations' Latin
// names use, writes "Balgarsko", "Hristo": а a, б b, в v, г g, д d, е e,
// ж zh, з z, и i, й y, к k, л l, м m, н n, о o, п p, р r, с s, т t, у u,
// ф f, х h, ц ts, ч ch, ш sh, щ sht, ъ a, ь y, ю yu, я ya; "ия" at the end
// of a word is "ia" ("София" -> "Sofia"); the country's own name is the
// Act's exception, "България" -> "Bulgaria".
// Letters Bulgarian does not write (ё ы э) fall through to Russian.
constexpr char kBulgarianRules[] = R"(
$letter = [[:L:][:M:]\'] ;
$letter { българия } $letter > balgariya ;
$letter { българия > balgaria ;
българия } $letter > balgariya ;
българия > bulgaria ;
ия } $letter > iya ;
ия > ia ;
а > a ; б > b ; в > v ; г > g ; д > d ; е > e ; ж > zh ; з > z ; и > i ;
й > y ; к > k ; л > l ; м > m ; н > n ; о > o ; п > p ; р > r ; с > s ;
т > t ; у > u ; ф > f ; х > h ; ц > ts ; ч > ch ; ш > sh ; щ > sht ;
ъ > a ; ь > y ; ю > yu ; я > ya ;
:: Russian-Latin/BGN ;
)";

// Macedonian: ICU's Macedonian-Latin/BGN writes the diacritic letters of
// BGN/PCGN 1981 (ж ž, ш š, ч č, ѓ ǵ, ќ ḱ, џ dž), which fold to ASCII as
// "z s c g k dz": "друштво" -> "drustvo". North Macedonia's official
// romanization (the Government's 2008 digraph system, used in passports
// and on signs) writes "drushtvo": а a, б b, в v, г g, д d, ѓ gj, е e,
// ж zh, з z, ѕ dz, и i, ј j, к k, л l, љ lj, м m, н n, њ nj, о o, п p, р r,
// с s, т t, ќ kj, у u, ф f, х h, ц c, ч ch, џ dj, ш sh. The 2008 table
// allows dj or dzh for џ; we take dj, its first form ("Џемаил" ->
// "Djemail"); "Dzhemail" then matches only by similarity, not as a key.
constexpr char kMacedonianRules[] = R"(
а > a ; б > b ; в > v ; г > g ; д > d ; ѓ > gj ; е > e ; ж > zh ; з > z ;
ѕ > dz ; и > i ; ј > j ; к > k ; л > l ; љ > lj ; м > m ; н > n ; њ > nj ;
о > o ; п > p ; р > r ; с > s ; т > t ; ќ > kj ; у > u ; ф > f ; х > h ;
ц > c ; ч > ch ; џ > dj ; ш > sh ;
:: Russian-Latin/BGN ;
)";

// Mongolian (Cyrillic): ICU's Mongolian-Latin/BGN reads ы -> i, х -> h,
// з -> dz, е -> yo ("Монгол улсын" -> "mongol ulsin", "Хүрэлбаатар" ->
// "hurelbaatar"). Mongolia's national standard MNS 5217:2012 (the
// romanization of Mongolian passports: "Tsakhiagiin Elbegdorj") writes
// "Mongol ulsyn", "Khürelbaatar": а a, б b, в v, г g, д d, е ye, ё yo, ж j,
// з z, и i, й i, к k, л l, м m, н n, о o, ө ö, п p, р r, с s, т t, у u,
// ү ü, ф f, х kh, ц ts, ч ch, ш sh, щ sh, ъ i, ы y, ь i, э e, ю yu, я ya
// (Latin-ASCII then folds ö ü to o u, as people type them).
constexpr char kMongolianRules[] = R"(
а > a ; б > b ; в > v ; г > g ; д > d ; е > ye ; ё > yo ; ж > j ; з > z ;
и > i ; й > i ; к > k ; л > l ; м > m ; н > n ; о > o ; ө > ö ; п > p ;
р > r ; с > s ; т > t ; у > u ; ү > ü ; ф > f ; х > kh ; ц > ts ; ч > ch ;
ш > sh ; щ > sh ; ъ > i ; ы > y ; ь > i ; э > e ; ю > yu ; я > ya ;
)";

// After the language's transform: BGN's marks for soft and hard signs
// (ʹ ʺ) and its separator of ambiguous digraphs (т·с) are dropped, as people
// drop them; then the other scripts, and Latin-ASCII (ß -> ss, ø -> o,
// ł -> l, ...). The removal comes first: Greek-Latin reads U+00B7 as the
// Greek ano teleia.
constexpr char kOtherScriptsRules[] = R"(
[\u02B9\u02BA\u00B7] > ;
:: Greek-Latin/UNGEGN ;
:: Georgian-Latin/BGN ;
:: Armenian-Latin/BGN ;
:: Any-Latin ;
:: Latin-ASCII ;
)";

// A transform per language that has its own, by primary language subtag;
// kOther ("") is kOtherScriptsRules alone.
struct LanguageTransform {
  absl::string_view language;
  absl::string_view rules;  // run before kOtherScriptsRules
};
constexpr LanguageTransform kTransforms[] = {
    {"", ""},
    {"ru", ":: Russian-Latin/BGN ;"},
    {"uk", ":: Ukrainian-Latin/BGN ;"},
    {"be", ":: Belarusian-Latin/BGN ;"},
    {"kk", ":: Kazakh-Latin/BGN ;"},
    {"ky", ":: Kirghiz-Latin/BGN ;"},
    {"uz", kUzbekRules},
    {"tg", kTajikRules},
    {"bg", kBulgarianRules},
    {"sr", ":: Serbian-Latin/BGN ;"},
    {"mk", kMacedonianRules},
    {"mn", kMongolianRules},
    {"fa", ":: Persian-Latin/BGN ;"},
};
constexpr size_t kTransformCount = std::size(kTransforms);
constexpr size_t kOther = 0;

size_t TransformIndex(absl::string_view language) {
  for (size_t i = 1; i < kTransformCount; ++i) {
    if (kTransforms[i].language == language) return i;
  }
  return kOther;
}

// The built transliterators, one per kTransforms entry: built once, on
// first use, then only read; each thread transliterates with its own clones
// (ThreadTransliterator), since ICU transliterators must not be shared
// between threads unsynchronized.
class Transliterators {
 public:
  static const Transliterators& Get() {
    static const Transliterators* const kInstance = new Transliterators();
    return *kInstance;
  }

  // nullptr if ICU could not build it (no ICU data): then text passes
  // through untransliterated, which only weakens matching.
  const icu::Transliterator* Prototype(size_t index) const {
    return prototypes_[index].get();
  }

 private:
  Transliterators() {
    for (size_t i = 0; i < kTransformCount; ++i) {
      std::string rules =
          absl::StrCat(kTransforms[i].rules, "\n", kOtherScriptsRules);
      UParseError parse_error;
      UErrorCode status = U_ZERO_ERROR;
      std::unique_ptr<icu::Transliterator> built(
          icu::Transliterator::createFromRules(
              icu::UnicodeString::fromUTF8(
                  absl::StrCat("townhall-match-", kTransforms[i].language)),
              icu::UnicodeString::fromUTF8(rules), UTRANS_FORWARD, parse_error,
              status));
      if (U_FAILURE(status)) {
        LogError("ICU transliterator unavailable",
                 {{"language", std::string(kTransforms[i].language)},
                  {"error", u_errorName(status)},
                  {"line", absl::StrCat(parse_error.line)}});
        continue;
      }
      prototypes_[i] = std::move(built);
    }
  }

  std::array<std::unique_ptr<icu::Transliterator>, kTransformCount> prototypes_;
};

// This thread's clone of transform `index` (nullptr when unavailable).
icu::Transliterator* ThreadTransliterator(size_t index) {
  thread_local std::array<std::unique_ptr<icu::Transliterator>, kTransformCount>
      clones;
  if (clones[index] == nullptr) {
    const icu::Transliterator* prototype =
        Transliterators::Get().Prototype(index);
    if (prototype == nullptr) return nullptr;
    clones[index].reset(prototype->clone());
  }
  return clones[index].get();
}

bool HasAny(const std::vector<CodePoint>& cps,
            std::initializer_list<CodePoint> letters) {
  return std::any_of(cps.begin(), cps.end(), [&](CodePoint cp) {
    return std::find(letters.begin(), letters.end(), cp) != letters.end();
  });
}

// The transform the letters of lowercase `cps` suggest (see the header).
size_t DetectTransform(const std::vector<CodePoint>& cps) {
  bool cyrillic = std::any_of(cps.begin(), cps.end(), [](CodePoint cp) {
    return cp >= 0x0400 && cp <= 0x052F;
  });
  if (!cyrillic) return kOther;
  // ҷ ӣ ӯ
  if (HasAny(cps, {0x04B7, 0x04E3, 0x04EF})) return TransformIndex("tg");
  // ї є ґ
  if (HasAny(cps, {0x0457, 0x0454, 0x0491})) return TransformIndex("uk");
  // ә ұ һ
  if (HasAny(cps, {0x04D9, 0x04B1, 0x04BB})) return TransformIndex("kk");
  // ў: Uzbek, or Belarusian when і is there too.
  if (HasAny(cps, {0x045E})) {
    return TransformIndex(HasAny(cps, {0x0456}) ? "be" : "uz");
  }
  // ҳ
  if (HasAny(cps, {0x04B3})) return TransformIndex("uz");
  // қ ғ: Kazakh also writes ы і ө ү ң, Uzbek none of them.
  if (HasAny(cps, {0x049B, 0x0493})) {
    return TransformIndex(
        HasAny(cps, {0x044B, 0x0456, 0x04E9, 0x04AF, 0x04A3}) ? "kk" : "uz");
  }
  // ө ү ң
  if (HasAny(cps, {0x04E9, 0x04AF, 0x04A3})) return TransformIndex("ky");
  // і
  if (HasAny(cps, {0x0456})) return TransformIndex("uk");
  return TransformIndex("ru");
}

bool IsCyrillicConsonant(CodePoint cp) {
  // б в г д ж з й к л м н п р с т ф х ц ч ш щ
  static constexpr CodePoint kConsonants[] = {
      0x0431, 0x0432, 0x0433, 0x0434, 0x0436, 0x0437, 0x0439,
      0x043A, 0x043B, 0x043C, 0x043D, 0x043F, 0x0440, 0x0441,
      0x0442, 0x0444, 0x0445, 0x0446, 0x0447, 0x0448, 0x0449};
  return std::find(std::begin(kConsonants), std::end(kConsonants), cp) !=
         std::end(kConsonants);
}

// ъ as a vowel, before a consonant at a word's start or after a consonant
// ("българ", "път", "ъгъл"): only Bulgarian writes it so. Russian (and
// Kazakh, Kyrgyz, Tajik in Russian loans) writes ъ only between a consonant
// and е ё ю я ("объединение", "съезд"), Uzbek and Tajik's tutuq belgisi
// after a vowel or before one ("таълим", "санъат", "ҷамъият").
bool HasBulgarianHardSign(const std::vector<CodePoint>& cps) {
  for (size_t i = 0; i + 1 < cps.size(); ++i) {
    if (cps[i] != 0x044A || !IsCyrillicConsonant(cps[i + 1])) continue;
    if (i == 0 || !IsLetter(cps[i - 1]) || IsCyrillicConsonant(cps[i - 1])) {
      return true;
    }
  }
  return false;
}

// The primary language subtag of a BCP 47 tag, lowercase ("uz-Cyrl" -> "uz").
std::string PrimaryLanguage(absl::string_view tag) {
  return absl::AsciiStrToLower(tag.substr(0, tag.find_first_of("-_")));
}

// ---- Skeletons (Unicode TS #39) ---------------------------------------------

// The default spoof checker: created once, then only used through const
// functions, which ICU documents as thread-safe. nullptr without ICU data.
const USpoofChecker* SpoofChecker() {
  static const USpoofChecker* const kChecker = [] {
    UErrorCode status = U_ZERO_ERROR;
    USpoofChecker* checker = uspoof_open(&status);
    if (U_FAILURE(status)) {
      LogError("ICU spoof checker unavailable",
               {{"error", u_errorName(status)}});
      return static_cast<USpoofChecker*>(nullptr);
    }
    return checker;
  }();
  return kChecker;
}

icu::UnicodeString Skeleton(const icu::UnicodeString& text) {
  const USpoofChecker* checker = SpoofChecker();
  if (checker == nullptr) return text;
  UErrorCode status = U_ZERO_ERROR;
  icu::UnicodeString skeleton;
  uspoof_getSkeletonUnicodeString(checker, 0, text, skeleton, &status);
  return U_SUCCESS(status) ? skeleton : text;
}

icu::UnicodeString ToUnicode(absl::string_view text) {
  return icu::UnicodeString::fromUTF8(
      icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
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

std::string TransliterateToLatin(absl::string_view normalized,
                                 absl::string_view language) {
  std::vector<CodePoint> cps;
  if (!Decode(normalized, &cps)) return std::string(normalized);
  size_t index = TransformIndex(PrimaryLanguage(language));
  if (index == kOther) index = DetectTransform(cps);
  icu::Transliterator* transliterator = ThreadTransliterator(index);
  if (transliterator == nullptr) return std::string(normalized);
  icu::UnicodeString text = ToUnicode(normalized);
  transliterator->transliterate(text);
  std::string out;
  text.toUTF8String(out);
  return out;
}

std::vector<std::string> AlsoReadAs(absl::string_view text) {
  std::vector<std::string> languages = {"uz"};
  if (!IsValidUtf8(text)) return languages;
  std::vector<CodePoint> cps;
  Decode(NormalizeForMatching(text), &cps);
  if (DetectTransform(cps) != TransformIndex("ru")) return languages;
  if (HasBulgarianHardSign(cps)) languages.push_back("bg");
  // ѓ ќ ѕ are only Macedonian; ј љ њ џ Macedonian or Serbian, whose own
  // letters ђ ћ rule Macedonian out.
  if (HasAny(cps, {0x0453, 0x045C, 0x0455, 0x0458, 0x0459, 0x045A, 0x045F}) &&
      !HasAny(cps, {0x0452, 0x045B})) {
    languages.push_back("mk");
  }
  return languages;
}

std::string LatinMatchKey(absl::string_view text, absl::string_view language) {
  if (!IsValidUtf8(text)) return "";
  return NormalizeForMatching(
      TransliterateToLatin(NormalizeForMatching(text), language));
}

std::string SkeletonMatchKey(absl::string_view text) {
  if (!IsValidUtf8(text)) return "";
  icu::UnicodeString skeleton = Skeleton(ToUnicode(text));
  skeleton.foldCase();
  std::string out;
  Skeleton(skeleton).toUTF8String(out);
  return NormalizeForMatching(out);
}

std::vector<std::string> MatchTokens(absl::string_view text,
                                     absl::string_view language) {
  return absl::StrSplit(LatinMatchKey(text, language), ' ', absl::SkipEmpty());
}

double KeySimilarity(absl::string_view key_a, absl::string_view key_b) {
  if (key_a == key_b) return 1.0;
  std::vector<std::string> trigrams_a = Trigrams(key_a);
  std::vector<std::string> trigrams_b = Trigrams(key_b);
  if (trigrams_a.empty() || trigrams_b.empty()) return 0.0;
  std::vector<std::string> common;
  std::set_intersection(trigrams_a.begin(), trigrams_a.end(),
                        trigrams_b.begin(), trigrams_b.end(),
                        std::back_inserter(common));
  return 2.0 * static_cast<double>(common.size()) /
         static_cast<double>(trigrams_a.size() + trigrams_b.size());
}

double Similarity(absl::string_view a, absl::string_view b) {
  if (!IsValidUtf8(a) || !IsValidUtf8(b)) return a == b ? 1.0 : 0.0;
  return std::max(KeySimilarity(LatinMatchKey(a), LatinMatchKey(b)),
                  KeySimilarity(SkeletonMatchKey(a), SkeletonMatchKey(b)));
}

}  // namespace townhall
