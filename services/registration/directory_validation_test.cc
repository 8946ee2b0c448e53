#include "services/registration/directory_validation.h"

#include <optional>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace townhall::registration {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

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
  EXPECT_EQ(csv.Localized("uz-Latn"), "name_uz_latn");
  EXPECT_EQ(csv.Localized("de"), "localized_names[\"de\"]");
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
}

TEST(CanonicalLanguageTagTest, RefusesMalformedTags) {
  for (const char* bad :
       {"", "e", "1a", "en--gb", "en-", "en_GB", "en-toolongsubtag"}) {
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

TEST(CleanOrganizationTest, NamesTheFieldThatFails) {
  v1::Organization org;
  org.set_name("Acme");
  org.set_country_code("UZ");
  (*org.mutable_localized_names())["ru"] = "!!!";
  absl::Status status = CleanOrganization(Labels::Csv(), &org);
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

TEST(MatchKeyTest, FoldsScriptsAndPunctuation) {
  EXPECT_EQ(MatchKey("O'zbekiston"), MatchKey("Oʻzbekiston"));
  EXPECT_EQ(MatchKey("Ўзбекистон"), MatchKey("O'zbekiston"));
  EXPECT_EQ(MatchKey("!!!"), "");
}

TEST(OrganizationMatchKeysTest, DistinctNameThenLocalizedByTag) {
  v1::Organization org;
  org.set_name("Acme");
  (*org.mutable_localized_names())["ru"] = "Акме";
  (*org.mutable_localized_names())["en"] = "ACME";
  EXPECT_THAT(OrganizationMatchKeys(org),
              ElementsAre(MatchKey("Acme"), MatchKey("Акме")));
}

TEST(MatchFieldsTest, EmailFirstElseNameWithinTheOrganization) {
  v1::Participant p;
  p.set_display_name("Ann");
  p.set_organization_id("org1");
  EXPECT_EQ(ParticipantMatchField(p), "name:org1:" + MatchKey("Ann"));
  p.set_email("ann@example.org");
  EXPECT_EQ(ParticipantMatchField(p), "email:ann@example.org");
  EXPECT_EQ(OrganizationMatchField("UZ", "acme"), "UZ:acme");
}

}  // namespace
}  // namespace townhall::registration
