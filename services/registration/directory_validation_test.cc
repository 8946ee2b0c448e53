#include "services/registration/directory_validation.h"

#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace townhall::registration {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(ShownTest, QuotesEscapesAndCutsAtACharacterBoundary) {
  EXPECT_EQ(Shown("abc"), "\"abc\"");
  EXPECT_EQ(Shown("a\"b"), "\"a\\\"b\"");
  // 39 ASCII bytes, then a two-byte letter across the 40-byte limit.
  std::string value = std::string(39, 'x') + "ж" + "tail";
  EXPECT_EQ(Shown(value), "\"" + std::string(39, 'x') + "...\"");
}

TEST(LabelsTest, NamesRequestPathsAndCsvColumns) {
  Labels request = Labels::Request("organization");
  EXPECT_EQ(request("city"), "organization.city");
  EXPECT_EQ(request.Localized("ru"), "organization.localized_names[\"ru\"]");
  Labels csv = Labels::Csv();
  EXPECT_EQ(csv("city"), "city");
  EXPECT_EQ(csv.Localized("de"), "name:de");
  Labels aliased = Labels::Csv({{"uz-Latn", "name_uz_latn"}});
  EXPECT_EQ(aliased.Localized("uz-Latn"), "name_uz_latn");
  EXPECT_EQ(aliased.Localized("kk"), "name:kk");
}

TEST(ValidateNameTest, NeedsLettersOrDigits) {
  EXPECT_TRUE(ValidateName("name", "Acme 2", 300).ok());
  EXPECT_FALSE(ValidateName("name", "", 300).ok());
  absl::Status punctuation = ValidateName("name", "--- !!!", 300);
  EXPECT_EQ(punctuation.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(punctuation.message(), HasSubstr("letters or digits"));
  EXPECT_FALSE(ValidateName("name", "abcd", 3).ok());
}

TEST(ValidateCountryCodeTest, TwoUppercaseLetters) {
  EXPECT_TRUE(ValidateCountryCode("c", "UZ").ok());
  EXPECT_FALSE(ValidateCountryCode("c", "").ok());
  EXPECT_FALSE(ValidateCountryCode("c", "uz").ok());
  EXPECT_FALSE(ValidateCountryCode("c", "UZB").ok());
  EXPECT_THAT(ValidateCountryCode("c", "u1").message(), HasSubstr("\"u1\""));
}

TEST(ValidateEmailTest, AcceptsPlainAndInternationalAddresses) {
  EXPECT_TRUE(ValidateEmail("e", "name@example.org").ok());
  EXPECT_TRUE(ValidateEmail("e", "a.b+c@sub.example.uz").ok());
  EXPECT_TRUE(ValidateEmail("e", "имя@пример.рф").ok());
}

TEST(ValidateEmailTest, RefusesMalformedAddresses) {
  for (const char* bad :
       {"plain", "a@b", "@example.org", "a@@example.org", "a@b@example.org",
        "a b@example.org", "a@exa_mple.org", ".a@example.org",
        "a..b@example.org", "a@example.org.", "a(b)@example.org"}) {
    EXPECT_FALSE(ValidateEmail("e", bad).ok()) << bad;
  }
  EXPECT_FALSE(ValidateEmail("e", std::string(65, 'a') + "@example.org").ok());
}

TEST(ValidatePhoneTest, DigitsAndPunctuation) {
  EXPECT_TRUE(ValidatePhone("p", "+998 (71) 123-45-67").ok());
  EXPECT_FALSE(ValidatePhone("p", "call me").ok());
  EXPECT_FALSE(ValidatePhone("p", "+ ( )").ok());
  EXPECT_FALSE(ValidatePhone("p", std::string(33, '1')).ok());
}

TEST(CanonicalLanguageTagTest, ConventionalCase) {
  EXPECT_EQ(CanonicalLanguageTag("UZ-latn"), "uz-Latn");
  EXPECT_EQ(CanonicalLanguageTag("en-gb"), "en-GB");
  EXPECT_EQ(CanonicalLanguageTag("ru"), "ru");
  EXPECT_EQ(CanonicalLanguageTag("de-x-Latn"), "de-x-latn");
  EXPECT_EQ(CanonicalLanguageTag("KK-cyrl-kz"), "kk-Cyrl-KZ");
  EXPECT_EQ(CanonicalLanguageTag("sr-latn-rs"), "sr-Latn-RS");
  EXPECT_EQ(CanonicalLanguageTag("en-us-u-ca-gregory"), "en-US-u-ca-gregory");
  EXPECT_EQ(CanonicalLanguageTag("de-1996"), "de-1996");
}

TEST(CanonicalLanguageTagTest, RefusesMalformedTags) {
  for (const char* bad :
       {"", "e", "1a", "en--gb", "en-", "en_GB", "en-toolongsubtag",
        // Well-formed subtags in a place the grammar does not allow (ICU's
        // parser stops there).
        "en-Latn-Latn", "en-GB-GB", "en-a", "ru-x", "en-12"}) {
    EXPECT_EQ(CanonicalLanguageTag(bad), std::nullopt) << bad;
  }
  EXPECT_EQ(CanonicalLanguageTag(std::string(36, 'a')), std::nullopt);
}

TEST(CleanOrganizationTest, TrimsCanonicalizesAndClearsServerFields) {
  v1::Organization org;
  org.set_id("client-chosen");
  org.set_tenant_id("other");
  org.set_name("  Acme  ");
  org.set_country_code(" UZ ");
  org.set_contact_email(" Boss@Example.ORG ");
  (*org.mutable_localized_names())["RU"] = " Акме ";
  ASSERT_TRUE(CleanOrganization(Labels::Request("organization"), &org).ok());
  EXPECT_EQ(org.id(), "");
  EXPECT_EQ(org.tenant_id(), "");
  EXPECT_EQ(org.name(), "Acme");
  EXPECT_EQ(org.country_code(), "UZ");
  EXPECT_EQ(org.contact_email(), "boss@example.org");
  EXPECT_EQ(org.localized_names().at("ru"), "Акме");
}

TEST(LocalizedColumnTagTest, PrefixedColumnsAndAliases) {
  EXPECT_EQ(*LocalizedColumnTag("name:kk-latn"), "kk-Latn");
  EXPECT_EQ(*LocalizedColumnTag("name:ky"), "ky");
  EXPECT_EQ(*LocalizedColumnTag("name_uz_latn"), "uz-Latn");
  EXPECT_EQ(*LocalizedColumnTag("name_ru"), "ru");
  EXPECT_EQ(*LocalizedColumnTag("name_en"), "en");
  EXPECT_EQ(*LocalizedColumnTag("name"), std::nullopt);
  EXPECT_EQ(*LocalizedColumnTag("city"), std::nullopt);
  absl::StatusOr<std::optional<std::string>> bad =
      LocalizedColumnTag("name:en-latn-latn");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("name:en-latn-latn"));
}

TEST(ChooseDisplayNameTest, ExactThenShorterThenSameLanguageThenName) {
  v1::Organization org;
  org.set_name("Qazaq madeni ortalyghy");
  (*org.mutable_localized_names())["kk-Cyrl"] = "Қазақ мәдени орталығы";
  (*org.mutable_localized_names())["ru"] = "Казахский культурный центр";
  (*org.mutable_localized_names())["en"] = "Kazakh Cultural Center";
  (*org.mutable_localized_names())["en-GB"] = "Kazakh Cultural Centre";
  auto chosen = [&](absl::string_view language) {
    DisplayName d = ChooseDisplayName(org, language);
    return d.language + "=" + d.name;
  };
  EXPECT_EQ(chosen("en-GB"), "en-GB=Kazakh Cultural Centre");
  EXPECT_EQ(chosen("en-US"), "en=Kazakh Cultural Center");
  EXPECT_EQ(chosen("kk-Cyrl-KZ"), "kk-Cyrl=Қазақ мәдени орталығы");
  // Only another script of the language: still the language.
  EXPECT_EQ(chosen("kk"), "kk-Cyrl=Қазақ мәдени орталығы");
  EXPECT_EQ(chosen("ru-u-co-phonebk"), "ru=Казахский культурный центр");
  EXPECT_EQ(chosen("de"), "=Qazaq madeni ortalyghy");
  EXPECT_EQ(chosen(""), "=Qazaq madeni ortalyghy");
}

TEST(CleanOrganizationTest, NamesTheFieldThatFails) {
  v1::Organization org;
  org.set_name("Acme");
  org.set_country_code("UZ");
  (*org.mutable_localized_names())["ru"] = "!!!";
  absl::Status status = CleanOrganization(Labels::Csv(), &org);
  EXPECT_THAT(status.message(), HasSubstr("name:ru"));
  // The column the file used, also an old alias.
  status = CleanOrganization(Labels::Csv({{"ru", "name_ru"}}), &org);
  EXPECT_THAT(status.message(), HasSubstr("name_ru"));

  v1::Organization twice;
  twice.set_name("Acme");
  twice.set_country_code("UZ");
  (*twice.mutable_localized_names())["en"] = "Acme";
  (*twice.mutable_localized_names())["EN"] = "Acme Ltd";
  EXPECT_THAT(
      CleanOrganization(Labels::Request("organization"), &twice).message(),
      HasSubstr("two keys for the language \"en\""));
}

TEST(CleanParticipantTest, LowercasesEmailAndCanonicalizesLanguage) {
  v1::Participant p;
  p.set_display_name(" Ann ");
  p.set_email("Ann@Example.org");
  p.set_preferred_language("uz-latn");
  ASSERT_TRUE(CleanParticipant(Labels::Request("participant"), &p).ok());
  EXPECT_EQ(p.display_name(), "Ann");
  EXPECT_EQ(p.email(), "ann@example.org");
  EXPECT_EQ(p.preferred_language(), "uz-Latn");

  v1::Participant bad;
  bad.set_display_name("Ann");
  bad.set_preferred_language("not a tag");
  EXPECT_THAT(CleanParticipant(Labels::Request("participant"), &bad).message(),
              HasSubstr("participant.preferred_language"));
}

TEST(MatchKeysTest, LatinKeyThenSkeletonKey) {
  EXPECT_EQ(MatchKeys("O'zbekiston"), MatchKeys("Oʻzbekiston"));
  // Another script: the Latin keys agree.
  EXPECT_EQ(MatchKeys("Ўзбекистон")[0], MatchKeys("O'zbekiston")[0]);
  EXPECT_EQ(MatchKeys("O'zbekiston")[0], "t:o'zbekiston");
  // Look-alike letters: the skeleton keys agree, the Latin keys do not.
  std::vector<std::string> spoof = MatchKeys("Кazakh Сenter");
  std::vector<std::string> original = MatchKeys("Kazakh Center");
  ASSERT_EQ(spoof.size(), 2);
  EXPECT_NE(spoof[0], original[0]);
  EXPECT_EQ(spoof[1], original[1]);
  EXPECT_TRUE(spoof[1].starts_with("s:"));
  EXPECT_TRUE(MatchKeys("!!!").empty());
}

TEST(MatchKeysTest, LanguageTagPicksTheTransliteration) {
  // х is x in Uzbek Latin and kh in Russian.
  EXPECT_EQ(MatchKeys("Хоразм", "uz-Cyrl")[0], "t:xorazm");
  EXPECT_EQ(MatchKeys("Хоразм", "ru")[0], "t:khorazm");
}

TEST(MatchKeysTest, UntaggedCyrillicAlsoReadAsUzbek) {
  // Uzbek in Cyrillic without ў қ ғ ҳ reads as Russian; its Uzbek reading
  // is a key too, so it finds the organization's Uzbek Latin name.
  std::vector<std::string> keys = MatchKeys("Тюмен хоразмликлар жамияти");
  EXPECT_EQ(keys[0], "t:tyumen khorazmliklar zhamiyati");
  EXPECT_THAT(keys, Contains("t:tyumen xorazmliklar jamiyati"));
  EXPECT_EQ(MatchKeys("Kazakh Center").size(), 2);
  EXPECT_EQ(MatchKeys("Хоразм", "ru").size(), 2);
}

TEST(MatchKeysTest, UntaggedBulgarianAndMacedonianAlsoReadOfficially) {
  // ъ before a consonant: Bulgarian, read as the 2009 system too.
  std::vector<std::string> keys = MatchKeys("Българско културно дружество");
  EXPECT_EQ(keys[0], "t:blgarsko kulturno druzhestvo");
  EXPECT_THAT(keys, Contains("t:balgarsko kulturno druzhestvo"));
  // Macedonian letters: read as North Macedonia's official system too.
  EXPECT_THAT(MatchKeys("Ѓорѓи Ќосевски"), Contains("t:gjorgji kjosevski"));
  // Tagged names get only their language's reading.
  EXPECT_EQ(MatchKeys("Българско", "bg")[0], "t:balgarsko");
  EXPECT_EQ(MatchKeys("Българско", "bg").size(), 2);
}

TEST(MatchKeysTest, UntaggedReadingsKeepDifferentNamesApart) {
  // A Bulgarian reading of every untagged name would make Щукин (sht) and
  // Штукин one name; Russian names are not read as Bulgarian.
  const std::pair<const char*, const char*> distinct[] = {
      {"Иван Щукин", "Иван Штукин"},
      {"Общество поэтов", "Общество поетов"},
      {"Елена Хан", "Элена Хан"},
      {"Българско дружество", "Сръбско дружество"},
      {"Българско дружество", "Болгарское общество"},
      {"Македонско друштво Ѓорѓија", "Македонско друштво Ќорќија"},
  };
  for (const auto& [a, b] : distinct) {
    for (const std::string& key : MatchKeys(a)) {
      EXPECT_THAT(MatchKeys(b), Not(Contains(key))) << a << " | " << b;
    }
  }
}

TEST(OrganizationMatchKeysTest, DistinctNameThenLocalizedByTag) {
  v1::Organization org;
  org.set_name("Acme");
  (*org.mutable_localized_names())["ru"] = "Акме";
  (*org.mutable_localized_names())["en"] = "ACME";
  std::vector<std::string> expected = MatchKeys("Acme");
  for (const std::string& key : MatchKeys("Акме", "ru")) {
    expected.push_back(key);
  }
  EXPECT_EQ(OrganizationMatchKeys(org), expected);
}

TEST(MatchFieldsTest, EmailFirstElseNameWithinTheOrganization) {
  v1::Participant p;
  p.set_display_name("Ann");
  p.set_organization_id("org1");
  std::vector<std::string> keys = MatchKeys("Ann");
  ASSERT_EQ(keys.size(), 2);
  EXPECT_THAT(ParticipantMatchFields(p),
              ElementsAre("name:org1:" + keys[0], "name:org1:" + keys[1]));
  p.set_email("ann@example.org");
  EXPECT_THAT(ParticipantMatchFields(p), ElementsAre("email:ann@example.org"));
  EXPECT_EQ(OrganizationMatchField("UZ", "t:acme"), "UZ:t:acme");
}

}  // namespace
}  // namespace townhall::registration
