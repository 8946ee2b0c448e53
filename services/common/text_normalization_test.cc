// Matching forms of names and questions: Unicode folding, Uzbek apostrophe
// variants, transliteration of every supported script (ICU transforms and
// our Uzbek and Tajik rules), confusable skeletons (UTS #39) and trigram
// similarity. Real names in each script, spoofs with look-alike letters, and
// distinct names that must stay distinct.
#include "services/common/text_normalization.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <utility>
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
  EXPECT_EQ(TransliterateToLatin(invalid), invalid);
  EXPECT_EQ(LatinMatchKey(invalid), "");
  EXPECT_EQ(SkeletonMatchKey(invalid), "");
}

// One row: a name as written, the Latin spelling people use for it, and the
// language the name is tagged with ("" when the letters must tell).
struct Spelling {
  const char* script;
  const char* written;
  const char* latin;
  const char* language;
};

// Real names of organizations, places and people in each supported script,
// each beside its usual Latin spelling: the Latin keys must be equal.
const Spelling kSpellings[] = {
    // Russian (Russian-Latin/BGN).
    {"ru", "Ассоциация узбеков Казани", "Assotsiatsiya uzbekov Kazani", ""},
    {"ru", "Общество узбеков Санкт-Петербурга",
     "Obshchestvo uzbekov Sankt-Peterburga", ""},
    {"ru", "Хабаровский краевой центр", "Khabarovskiy krayevoy tsentr", ""},
    {"ru", "Объединение выходцев из Ферганы",
     "Obyedineniye vykhodtsev iz Fergany", "ru"},
    // Uzbek Cyrillic (our rules: the official Uzbek Latin alphabet).
    {"uz", "Ўзбекистон маданият маркази", "Oʻzbekiston madaniyat markazi", ""},
    {"uz", "Ғалаба қишлоқ ҳаёти", "G‘alaba qishloq hayoti", ""},
    {"uz", "Хоразм вилояти жамияти", "Xorazm viloyati jamiyati", "uz"},
    {"uz", "Тошкент ёшлари маъно", "Toshkent yoshlari ma'no", "uz-Cyrl"},
    // Kazakh (Kazakh-Latin/BGN).
    {"kk", "Қазақ мәдени орталығы", "Qazaq madeni ortalyghy", ""},
    {"kk", "Алматы қазақтарының қауымдастығы",
     "Almaty qazaqtarynyng qauymdastyghy", "kk"},
    // Kyrgyz (Kirghiz-Latin/BGN).
    {"ky", "Кыргыз коому Өзгөн", "Kyrgyz koomu Özgön", ""},
    {"ky", "Бишкек жаштар бирикмеси", "Bishkek jashtar birikmesi", "ky"},
    // Tajik (our rules: BGN/PCGN Tajik, which ICU 72 lacks).
    {"tg", "Ҷамъияти тоҷикони Хуҷанд", "Jamiyati tojikoni Khujand", ""},
    {"tg", "Маркази фарҳангии Душанбе", "Markazi farhangii Dushanbe", "tg"},
    // Ukrainian (Ukrainian-Latin/BGN, the national system).
    {"uk", "Українське товариство Києва", "Ukrayinske tovarystvo Kyyeva", ""},
    {"uk", "Громада Львова", "Hromada Lvova", "uk"},
    // Belarusian (Belarusian-Latin/BGN): by its tag (untagged it reads as
    // Russian: "grodna"), or by its letters ў and і together.
    {"be", "Беларускае таварыства Гродна", "Byelaruskaye tavarystva Hrodna",
     "be"},
    {"be", "Брэсцкі саюз беларусаў", "Brestski sayuz byelarusaw", ""},
    // Bulgarian (our rules: the official system of 2009, not ICU's BGN/PCGN
    // 1952 "bulgarsko", "khristo"; щ is sht, Russian reads shch).
    {"bg", "Читалище Просвета Пловдив", "Chitalishte Prosveta Plovdiv", "bg"},
    {"bg", "Българско културно дружество", "Balgarsko kulturno druzhestvo",
     "bg"},
    {"bg", "Христо Ботев", "Hristo Botev", "bg"},
    {"bg", "Съюз на българите в Германия", "Sayuz na balgarite v Germania",
     "bg"},
    {"bg", "Софийски университет", "Sofiyski universitet", "bg-BG"},
    {"bg", "Щастливец Юлия Живкова", "Shtastlivets Yulia Zhivkova", "bg"},
    // Macedonian (our rules: North Macedonia's official digraphs, not ICU's
    // BGN/PCGN 1981 "drustvo"; џ is dj).
    {"mk", "Македонско културно друштво", "Makedonsko kulturno drushtvo", "mk"},
    {"mk", "Ѓорѓи Ќосевски од Охрид", "Gjorgji Kjosevski od Ohrid", "mk"},
    {"mk", "Ѕвезда Жежовска, Скопје", "Dzvezda Zhezhovska, Skopje", "mk"},
    {"mk", "Џемаил Чаушевски", "Djemail Chaushevski", "mk-MK"},
    // Mongolian (our rules: MNS 5217:2012, not ICU's BGN "ulsin", "hural").
    {"mn", "Монгол улсын их сургууль", "Mongol ulsyn ikh surguuli", "mn"},
    {"mn", "Цахиагийн Элбэгдорж", "Tsakhiagiin Elbegdorj", "mn"},
    {"mn", "Хүрэлбаатар Зүүнхараа", "Khürelbaatar Züünkharaa", "mn-Cyrl"},
    {"mn", "Монголын соёлын төв", "Mongolyn soyolyn töv", "mn"},
    // Serbian (Serbian-Latin/BGN): the Cyrillic and the Latin alphabet of
    // Serbian are one name (untagged, ш reads as Russian sh).
    {"sr", "Српско друштво Београд", "Srpsko društvo Beograd", "sr"},
    {"sr", "Ђорђе Јовановић", "Đorđe Jovanović", "sr-Cyrl"},
    // Greek (Greek-Latin/UNGEGN, ELOT 743).
    {"el", "Κέντρο Ελληνικού Πολιτισμού", "Kentro Ellinikou Politismou", ""},
    // Georgian (Georgian-Latin/BGN, the national system).
    {"ka", "თბილისი", "Tbilisi", ""},
    // Armenian (Armenian-Latin/BGN).
    {"hy", "Հայկական կենտրոն", "Haykakan kentron", ""},
    // Latin with diacritics and letters Latin-ASCII folds.
    {"de", "Straße der Einheit", "Strasse der Einheit", ""},
    {"pl", "Łódź Stowarzyszenie", "Lodz Stowarzyszenie", ""},
};

TEST(LatinMatchKeyTest, EachScriptMatchesItsLatinSpelling) {
  for (const Spelling& s : kSpellings) {
    EXPECT_EQ(LatinMatchKey(s.written, s.language), LatinMatchKey(s.latin))
        << s.script << ": " << s.written;
    EXPECT_FALSE(LatinMatchKey(s.written, s.language).empty()) << s.written;
  }
}

TEST(LatinMatchKeyTest, ArabicScriptIsTransliteratedDeterministically) {
  // Arabic script writes few vowels, so no Latin spelling is expected to
  // match; the same name in Arabic script must.
  EXPECT_EQ(LatinMatchKey("الجمعية الثقافية"),
            LatinMatchKey("الجمعية  الثقافية!"));
  EXPECT_EQ(LatinMatchKey("الجمعية الثقافية"), "aljmʿyt althqafyt");
  EXPECT_EQ(LatinMatchKey("انجمن فرهنگی", "fa"),
            LatinMatchKey("انجمن  فرهنگی", "fa-IR"));
  EXPECT_FALSE(LatinMatchKey("انجمن فرهنگی", "fa").empty());
}

TEST(TransliterateToLatinTest, UzbekOfficialAlphabet) {
  EXPECT_EQ(TransliterateToLatin("ўзбекистон"), "o'zbekiston");
  EXPECT_EQ(TransliterateToLatin("ғалаба қишлоқ ҳаёт"),
            "g'alaba qishloq hayot");
  // х is x in Uzbek, kh in Russian: the tag decides, else the letters.
  EXPECT_EQ(TransliterateToLatin("хоразм", "uz"), "xorazm");
  EXPECT_EQ(TransliterateToLatin("хоразм", "ru"), "khorazm");
  EXPECT_EQ(TransliterateToLatin("хоразм ғалаба"), "xorazm g'alaba");
  // е is ye at a word's start and after a vowel; ц is s at a word's start.
  EXPECT_EQ(TransliterateToLatin("ер оила цех", "uz"), "yer oila sex");
  EXPECT_EQ(TransliterateToLatin("маъно объект", "uz"), "ma'no obyekt");
}

TEST(TransliterateToLatinTest, LanguageSubtagPicksTheTransform) {
  // и is i in Russian, y in Ukrainian.
  EXPECT_EQ(LatinMatchKey("Миколаїв"), "mykolayiv");
  EXPECT_EQ(LatinMatchKey("Никита", "ru"), "nikita");
  EXPECT_EQ(LatinMatchKey("Никита", "uk-UA"), "nykyta");
  // Languages that only their tag tells from Russian.
  EXPECT_EQ(LatinMatchKey("Гродна", "be"), "hrodna");
  EXPECT_EQ(LatinMatchKey("Гродна"), "grodna");
  EXPECT_EQ(LatinMatchKey("Читалище", "bg"), "chitalishte");
  EXPECT_EQ(LatinMatchKey("Читалище"), "chitalishche");
  EXPECT_EQ(LatinMatchKey("Друштво", "sr-Cyrl-RS"), "drustvo");
  EXPECT_EQ(LatinMatchKey("Друштво"), "drushtvo");
  // An unknown or Latin-script tag falls back to the letters.
  EXPECT_EQ(LatinMatchKey("Никита", "de"), "nikita");
  EXPECT_EQ(LatinMatchKey("Ўзбек", "uz-Latn"), "o'zbek");
}

TEST(TransliterateToLatinTest, OfficialSystemsWhereIcuHasOlderBgnTables) {
  // Bulgarian, 2009: ъ a, х h, щ sht; "ия" is "ia" only at a word's end.
  EXPECT_EQ(LatinMatchKey("Българско", "bg"), "balgarsko");
  EXPECT_EQ(LatinMatchKey("Христо", "bg"), "hristo");
  EXPECT_EQ(LatinMatchKey("София, Ямбол", "bg"), "sofia yambol");
  EXPECT_EQ(LatinMatchKey("Ияновска Мариян", "bg"), "iyanovska mariyan");
  EXPECT_EQ(LatinMatchKey("България", "bg"), "bulgaria");
  // Macedonian, official digraphs.
  EXPECT_EQ(LatinMatchKey("Друштво", "mk"), "drushtvo");
  EXPECT_EQ(LatinMatchKey("Ѓорѓе Ќосе", "mk"), "gjorgje kjose");
  EXPECT_EQ(LatinMatchKey("Џамија Цуцулево", "mk"), "djamija cuculevo");
  // Mongolian, MNS 5217:2012: ы y, х kh, з z, е ye, й i.
  EXPECT_EQ(LatinMatchKey("Монгол улсын", "mn"), "mongol ulsyn");
  EXPECT_EQ(LatinMatchKey("Зүүн хойд Европ", "mn"), "zuun khoid yevrop");
  // What ICU's own transforms said (the difference is real):
  EXPECT_NE(LatinMatchKey("Българско Христо", "bg"), "bulgarsko khristo");
  EXPECT_NE(LatinMatchKey("Друштво", "mk"), "drustvo");
  EXPECT_NE(LatinMatchKey("Монгол улсын", "mn"), "mongol ulsin");
}

TEST(AlsoReadAsTest, OnlyLettersThatTellTheLanguage) {
  using Languages = std::vector<std::string>;
  // Uzbek always (diaspora files write Uzbek without its own letters).
  EXPECT_EQ(AlsoReadAs("Тюмен хоразмликлар жамияти"), Languages({"uz"}));
  EXPECT_EQ(AlsoReadAs("Kazakh Center"), Languages({"uz"}));
  // ъ before a consonant, after one or at a word's start: Bulgarian.
  EXPECT_EQ(AlsoReadAs("Българско културно дружество"),
            Languages({"uz", "bg"}));
  EXPECT_EQ(AlsoReadAs("ъгъл"), Languages({"uz", "bg"}));
  // Russian ъ (before е ё ю я) and Uzbek and Tajik tutuq (by a vowel) are
  // not; щ and е alone cannot tell Bulgarian from Russian.
  EXPECT_EQ(AlsoReadAs("Объединение Съезд Подъём"), Languages({"uz"}));
  EXPECT_EQ(AlsoReadAs("Таълим санъат маркази"), Languages({"uz"}));
  EXPECT_EQ(AlsoReadAs("Христо Ботев, Читалище"), Languages({"uz"}));
  // Macedonian letters; Serbian ђ ћ rule it out.
  EXPECT_EQ(AlsoReadAs("Ѓорѓи Ќосевски"), Languages({"uz", "mk"}));
  EXPECT_EQ(AlsoReadAs("Македонија"), Languages({"uz", "mk"}));
  EXPECT_EQ(AlsoReadAs("Ђорђе Јовановић"), Languages({"uz"}));
  // Mongolian is never guessed (ө ү are Kyrgyz letters too).
  EXPECT_EQ(AlsoReadAs("Монголын соёлын төв"), Languages({"uz"}));
}

TEST(TransliterateToLatinTest, BgnMarksAreDropped) {
  // BGN writes ʺ for ъ, ʹ for ь and т·с for тс; people do not.
  EXPECT_EQ(LatinMatchKey("Объединение Детский Пермь", "ru"),
            "obyedineniye detskiy perm");
}

TEST(CyrillicMatchesUzbekLatinTest, ApostropheLetters) {
  EXPECT_EQ(LatinMatchKey("Ўзбекистон"), LatinMatchKey("Oʻzbekiston"));
  EXPECT_EQ(MatchTokens("Тоғ"), MatchTokens("Tog‘"));
}

// Spoofs: a Latin name with look-alike letters of other scripts. Each must
// have the skeleton of its original.
struct Spoof {
  const char* original;
  const char* spoof;
  const char* letters;  // what was swapped in
};
const Spoof kSpoofs[] = {
    {"Kazakh Cultural Center of Miami", "Кazakh Сultural Сenter of Miami",
     "Cyrillic К С"},
    {"Uzbek Society of Kazan", "Uzbek Sоciety оf Kаzаn", "Cyrillic а о"},
    {"Open Day at the Embassy", "Ореn Dау аt thе Еmbаssу",
     "Cyrillic О р е у а Е"},
    {"Ukrainian Choir of Berlin", "Ukrainian Сhоir оf Bеrlin",
     "Cyrillic С о е"},
    {"Hope Foundation", "Норе Fоundаtiоn", "Cyrillic Н о р е а"},
    {"Texas Uzbek Alliance", "Техаs Uzbеk Аlliаnсе", "Cyrillic Т е х А с"},
    {"Kyrgyz Community of Boston", "Kyrgyz Community οf Bοstοn", "Greek ο"},
    {"Tajik Association", "Tаjik Аssоciаtiоn", "Cyrillic а А о"},
    {"Baku Center", "Ваku Сеntеr", "Cyrillic В а С е"},
    {"Pensions: when will they rise?", "Реnsiоns: whеn will thеy risе?",
     "Cyrillic Р е о"},
};

TEST(SkeletonMatchKeyTest, MixedScriptSpoofsHaveTheOriginalsSkeleton) {
  for (const Spoof& s : kSpoofs) {
    EXPECT_EQ(SkeletonMatchKey(s.spoof), SkeletonMatchKey(s.original))
        << s.spoof << " (" << s.letters << ")";
    EXPECT_DOUBLE_EQ(Similarity(s.spoof, s.original), 1.0) << s.spoof;
  }
}

TEST(SkeletonMatchKeyTest, TransliterationAloneMissesTheSpoof) {
  // Why skeletons: Cyrillic С transliterates to "s", not "c".
  EXPECT_NE(LatinMatchKey("Кazakh Сultural Сenter of Miami"),
            LatinMatchKey("Kazakh Cultural Center of Miami"));
  EXPECT_EQ(SkeletonMatchKey("Кazakh Сultural Сenter of Miami"),
            SkeletonMatchKey("Kazakh Cultural Center of Miami"));
}

TEST(SkeletonMatchKeyTest, FoldsCaseAndPunctuation) {
  EXPECT_EQ(SkeletonMatchKey("Uzbek  Center!"),
            SkeletonMatchKey("uzbek center"));
  EXPECT_EQ(SkeletonMatchKey("Oʻzbekiston"), SkeletonMatchKey("O'zbekiston"));
  EXPECT_EQ(SkeletonMatchKey(" !! "), "");
}

// Pairs of real, different organizations that must stay apart under both
// keys: same words but another city, another people, another letter.
const std::pair<const char*, const char*> kDistinct[] = {
    {"Uzbek Society of Kazan", "Uzbek Society of Samara"},
    {"Ассоциация узбеков Казани", "Ассоциация узбеков Самары"},
    {"Kazakh Cultural Center of Miami", "Kyrgyz Cultural Center of Miami"},
    {"Қазақ мәдени орталығы", "Кыргыз маданий борбору"},
    {"Ўзбекистон маданият маркази", "Тоҷикистон маданият маркази"},
    {"Українське товариство Києва", "Українське товариство Львова"},
    {"Κέντρο Ελληνικού Πολιτισμού", "Κέντρο Κυπριακού Πολιτισμού"},
    {"Хоразм", "Харьков"},
    {"Club 7", "Club 1"},
    // The Bulgarian reading (щ sht, е e) would join these Russian names;
    // they are only read as Bulgarian with a Bulgarian ъ.
    {"Иван Щукин", "Иван Штукин"},
    {"Общество поэтов", "Общество поетов"},
    {"Българско дружество", "Сръбско дружество"},
    {"Македонско друштво Ѓорѓија", "Македонско друштво Ќорќија"},
    {"Tashkent Chess Club", "Tashkent Chess Clubs"},
};

TEST(MatchKeysTest, DistinctNamesStayDistinct) {
  for (const auto& [a, b] : kDistinct) {
    EXPECT_NE(LatinMatchKey(a), LatinMatchKey(b)) << a << " | " << b;
    EXPECT_NE(SkeletonMatchKey(a), SkeletonMatchKey(b)) << a << " | " << b;
    EXPECT_LT(Similarity(a, b), 1.0) << a << " | " << b;
  }
}

TEST(MatchKeysTest, SameOnEveryThread) {
  // Each thread uses its own transliterator clones.
  const std::string expected = LatinMatchKey("Ассоциация узбеков Казани");
  std::vector<std::string> results(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&results, i] {
      for (int n = 0; n < 50; ++n) {
        results[i] = LatinMatchKey("Ассоциация узбеков Казани");
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (const std::string& r : results) EXPECT_EQ(r, expected);
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
