// Matching forms of names and questions: Unicode folding, Uzbek apostrophe
// variants, Cyrillic transliteration and trigram similarity.
#include "services/common/text_normalization.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace townhall {
namespace {

using Tokens = std::vector<std::string>;

TEST(NormalizeForMatchingTest, UzbekApostropheVariantsAreEqual) {
  const std::string expected = "o'zbekiston";
  for (const char* variant :
       {"Oʻzbekiston", "O'zbekiston", "O‘zbekiston", "O’zbekiston",
        "Oʼzbekiston", "O`zbekiston", "O´zbekiston"}) {
    EXPECT_EQ(NormalizeForMatching(variant), expected) << variant;
  }
}

TEST(NormalizeForMatchingTest, ApostropheKeptOnlyInsideUzbekWords) {
  EXPECT_EQ(NormalizeForMatching("Togʻ va bogʻ"), "tog' va bog'");
  EXPECT_EQ(NormalizeForMatching("d’Artagnan"), "d'artagnan");
  // Quotes and stray apostrophes are punctuation.
  EXPECT_EQ(NormalizeForMatching("'Rock 'n' roll'"), "rock n roll");
  EXPECT_EQ(NormalizeForMatching("Uzbeks' ’ center"), "uzbeks center");
}

TEST(NormalizeForMatchingTest, CaseFoldsCyrillicAndLatin) {
  EXPECT_EQ(NormalizeForMatching("МОСКВА"), NormalizeForMatching("москва"));
  EXPECT_EQ(NormalizeForMatching("МОСКВА"), "москва");
  EXPECT_EQ(NormalizeForMatching("Straße"), "strasse");
}

TEST(NormalizeForMatchingTest, StripsLatinMarksButKeepsCyrillicLetters) {
  EXPECT_EQ(NormalizeForMatching("ÉCOLE Française"), "ecole francaise");
  EXPECT_EQ(NormalizeForMatching("Ünal Çelik"), "unal celik");
  // Precomposed and decomposed input fold the same way.
  EXPECT_EQ(NormalizeForMatching("Cafe\u0301"), "cafe");
  // й/и, ё/е and ў/у are distinct letters, not accented ones.
  EXPECT_EQ(NormalizeForMatching("ЙОД"), "йод");
  EXPECT_NE(NormalizeForMatching("йод"), NormalizeForMatching("иод"));
  EXPECT_EQ(NormalizeForMatching("Ёлка"), "ёлка");
  EXPECT_EQ(NormalizeForMatching("Ўзбек"), "ўзбек");
  // Decomposed Cyrillic comes back composed.
  EXPECT_EQ(NormalizeForMatching("\u0418\u0306\u043E\u0434"), "йод");
}

TEST(NormalizeForMatchingTest, AppliesCompatibilityMappings) {
  EXPECT_EQ(NormalizeForMatching("ＡＢＣ"), "abc");
  EXPECT_EQ(NormalizeForMatching("ﬁnance №１"), "finance no1");
  // Soft hyphen and zero-width space are invisible, so they are dropped.
  EXPECT_EQ(NormalizeForMatching("Tash\u00ADkent\u200B"), "tashkent");
}

TEST(NormalizeForMatchingTest, CollapsesWhitespaceAndPunctuation) {
  EXPECT_EQ(NormalizeForMatching("  Uzbek   --  Center!!\t\nof\u00A0Moscow  "),
            "uzbek center of moscow");
  EXPECT_EQ(NormalizeForMatching("«Ассоциация» (узбеков), Москвы."),
            "ассоциация узбеков москвы");
  EXPECT_EQ(NormalizeForMatching(""), "");
  EXPECT_EQ(NormalizeForMatching(" ... !!! "), "");
}

TEST(NormalizeForMatchingTest, InvalidUtf8IsReturnedUnchanged) {
  const std::string invalid = "Ab\xff\xfe \xc3";
  EXPECT_EQ(NormalizeForMatching(invalid), invalid);
  EXPECT_EQ(TransliterateCyrillicToLatin(invalid), invalid);
}

TEST(TransliterateCyrillicToLatinTest, UzbekAndRussian) {
  EXPECT_EQ(TransliterateCyrillicToLatin(NormalizeForMatching("Ташкент")),
            "tashkent");
  EXPECT_EQ(TransliterateCyrillicToLatin("ўзбекистон"), "o'zbekiston");
  EXPECT_EQ(TransliterateCyrillicToLatin("ғалаба қишлоқ ҳаёт"),
            "g'alaba qishloq hayot");
  EXPECT_EQ(TransliterateCyrillicToLatin("жиззах чорсу щука цех юлдуз"),
            "jizzax chorsu shuka tsex yulduz");
  EXPECT_EQ(TransliterateCyrillicToLatin("маъно объект соль эҳтиёж"),
            "ma'no ob'ekt sol ehtiyoj");
  // Uppercase is lowercased; non-Cyrillic passes through.
  EXPECT_EQ(TransliterateCyrillicToLatin("ТОШКЕНТ 2024 abc"),
            "toshkent 2024 abc");
}

TEST(TransliterateCyrillicToLatinTest, CyrillicMatchesUzbekLatin) {
  EXPECT_EQ(TransliterateCyrillicToLatin(NormalizeForMatching("Ўзбекистон")),
            TransliterateCyrillicToLatin(NormalizeForMatching("Oʻzbekiston")));
  EXPECT_EQ(MatchTokens("Тоғ"), MatchTokens("Tog‘"));
}

TEST(MatchTokensTest, SplitsTransliteratedWords) {
  EXPECT_EQ(MatchTokens("Ассоциация узбеков Москвы"),
            Tokens({"assotsiatsiya", "uzbekov", "moskvy"}));
  EXPECT_EQ(MatchTokens("  O‘zbekiston, Madaniyat-Markazi! "),
            Tokens({"o'zbekiston", "madaniyat", "markazi"}));
  EXPECT_TRUE(MatchTokens("").empty());
  EXPECT_TRUE(MatchTokens(" - ").empty());
  EXPECT_TRUE(MatchTokens("ok \xff").empty());
}

TEST(SimilarityTest, EqualNormalizedFormsAreOne) {
  EXPECT_DOUBLE_EQ(Similarity("Oʻzbekiston", "O'ZBEKISTON"), 1.0);
  EXPECT_DOUBLE_EQ(Similarity("Ўзбекистон", "O’zbekiston"), 1.0);
  EXPECT_DOUBLE_EQ(Similarity("", ""), 1.0);
  EXPECT_DOUBLE_EQ(Similarity("", "!!"), 1.0);
}

TEST(SimilarityTest, NearDuplicatesScoreHigh) {
  EXPECT_GT(Similarity("Uzbek Cultural Center of Moscow",
                       "Uzbek cultural centre, Moscow"),
            0.6);
  EXPECT_GT(
      Similarity("Ассоциация узбеков Москвы", "Associatsiya uzbekov Moskvy"),
      0.6);
  EXPECT_GT(Similarity("When will the new school open?",
                       "When is the new school opening"),
            0.6);
}

TEST(SimilarityTest, UnrelatedNamesScoreLow) {
  EXPECT_LT(Similarity("Uzbek Cultural Center of Moscow", "Kazan Chess Club"),
            0.3);
  EXPECT_LT(
      Similarity("Ташкентский футбольный клуб", "Samarkand Women's Choir"),
      0.3);
  EXPECT_DOUBLE_EQ(Similarity("", "Uzbek Center"), 0.0);
}

TEST(SimilarityTest, IsSymmetricAndInRange) {
  const std::vector<std::string> names = {"Uzbek Cultural Center of Moscow",
                                          "Uzbek cultural centre, Moscow",
                                          "Ассоциация узбеков Москвы",
                                          "Associatsiya uzbekov Moskvy",
                                          "Kazan Chess Club",
                                          "",
                                          "O‘zbekiston",
                                          "\xff invalid"};
  for (const std::string& a : names) {
    for (const std::string& b : names) {
      double ab = Similarity(a, b);
      EXPECT_DOUBLE_EQ(ab, Similarity(b, a)) << a << " | " << b;
      EXPECT_GE(ab, 0.0);
      EXPECT_LE(ab, 1.0);
    }
  }
}

TEST(SimilarityTest, InvalidUtf8DoesNotCrash) {
  EXPECT_DOUBLE_EQ(Similarity("\xff\xfe", "\xff\xfe"), 1.0);
  EXPECT_DOUBLE_EQ(Similarity("\xff\xfe", "abc"), 0.0);
  EXPECT_DOUBLE_EQ(Similarity("abc", "ab\xc3"), 0.0);
}

}  // namespace
}  // namespace townhall
