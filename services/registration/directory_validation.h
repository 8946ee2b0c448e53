// The directory's pure rules, without Redis: how organizations and
// participants from a client (an RPC or an import row) are trimmed,
// validated and canonicalized, how errors name their fields, and the
// folded names the duplicate rule matches on. Unit-tested in
// directory_validation_test.cc.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "townhall/v1/registration.pb.h"

namespace townhall::registration {

// A client's value quoted in an error: in double quotes, escaped, at most
// 40 bytes (cut at a character boundary, then "..."), since a bad cell may
// hold anything.
std::string Shown(absl::string_view value);

// The CSV column prefix of Organization.localized_names: "name:<tag>".
inline constexpr absl::string_view kLocalizedColumnPrefix = "name:";

// Older CSV columns of Organization.localized_names, still accepted as
// aliases of name:<tag>.
struct LocalizedColumn {
  absl::string_view column;
  absl::string_view tag;
};
inline constexpr LocalizedColumn kLocalizedColumnAliases[] = {
    {"name_uz_latn", "uz-Latn"}, {"name_ru", "ru"}, {"name_en", "en"}};

// The canonical tag of an organizations CSV column that holds a localized
// name ("name:kk-latn" -> "kk-Latn", "name_ru" -> "ru"); nullopt for any
// other column; INVALID_ARGUMENT for "name:" with a malformed tag.
absl::StatusOr<std::optional<std::string>> LocalizedColumnTag(
    absl::string_view column);

// How errors name fields: request paths ("organization.city") for RPCs,
// column names ("city") for imports. Import columns are named after their
// fields, except the localized names ("name:ru", or the alias the file
// used).
class Labels {
 public:
  static Labels Request(absl::string_view message) {
    return Labels(absl::StrCat(message, "."), false, {});
  }
  // `columns`: the file's column of each localized name tag.
  static Labels Csv(std::map<std::string, std::string> columns = {}) {
    return Labels("", true, std::move(columns));
  }

  std::string operator()(absl::string_view field) const {
    return absl::StrCat(prefix_, field);
  }
  std::string Localized(absl::string_view tag) const {
    if (csv_) {
      auto found = columns_.find(std::string(tag));
      if (found != columns_.end()) return found->second;
      return absl::StrCat(kLocalizedColumnPrefix, tag);
    }
    return absl::StrCat(prefix_, "localized_names[", Shown(tag), "]");
  }

 private:
  Labels(std::string prefix, bool csv,
         std::map<std::string, std::string> columns)
      : prefix_(std::move(prefix)), csv_(csv), columns_(std::move(columns)) {}

  std::string prefix_;
  bool csv_;
  std::map<std::string, std::string> columns_;
};

// A name: one line of 1..max_chars characters, with something to match on
// (a name of punctuation only would collide with every other such name).
absl::Status ValidateName(absl::string_view field, absl::string_view value,
                          size_t max_chars);
// Two uppercase ASCII letters (ISO 3166-1 alpha-2).
absl::Status ValidateCountryCode(absl::string_view field,
                                 absl::string_view code);
// Deliberately loose (RFC 5321 allows far more than anyone uses): one '@',
// a local part and a dotted domain, no spaces or characters that need
// quoting. Non-ASCII is allowed (internationalized addresses).
absl::Status ValidateEmail(absl::string_view field, absl::string_view email);
// Digits, spaces, + - ( ), at most 32 characters, at least one digit.
absl::Status ValidatePhone(absl::string_view field, absl::string_view phone);
// A well-formed BCP 47 language tag (RFC 5646), at most 35 characters:
// subtags of 1 to 8 ASCII letters or digits joined by '-', the first (the
// language) of 2 to 8 letters, then in the grammar's order an optional
// script, region, variants, extensions and private use, as ICU's parser
// (uloc_forLanguageTag) reads it to the end. Grandfathered tags ("i-klingon")
// are refused. Returns it in the conventional case ("UZ-latn" -> "uz-Latn",
// "en-gb" -> "en-GB"), so that equal tags compare equal; nullopt when
// malformed.
std::optional<std::string> CanonicalLanguageTag(absl::string_view tag);
// CanonicalLanguageTag, or INVALID_ARGUMENT naming `field`.
absl::StatusOr<std::string> ValidateLanguageTag(absl::string_view field,
                                                absl::string_view tag);

// Trims, validates and canonicalizes an organization from a client, and
// clears what the server owns. Emails are stored lowercase.
absl::Status CleanOrganization(const Labels& label, v1::Organization* org);
// The same for a participant. The email is stored lowercase, so that the
// duplicate rule ignores case.
absl::Status CleanParticipant(const Labels& label, v1::Participant* p);

// ---- Names for a reader -----------------------------------------------------

struct DisplayName {
  std::string name;
  // The localized_names tag it came from; "" for Organization.name.
  std::string language;
};

// The name of `org` to show a reader of `language` (a canonical tag, "" for
// none): the localized name of exactly that tag, else of the tag with
// subtags dropped from the end ("kk-Cyrl-KZ" -> "kk-Cyrl" -> "kk"), else of
// the first tag (in tag order) of the same primary language ("kk" ->
// "kk-Latn"), else the name.
DisplayName ChooseDisplayName(const v1::Organization& org,
                              absl::string_view language);
// Sets org->display_name and display_name_language (reads only).
void SetDisplayName(absl::string_view language, v1::Organization* org);

// ---- Matching ---------------------------------------------------------------

// The version of the match keys below, stored with the indexes they fill
// (DirectoryKeys::MatchVersion). Scripts refuse to check or write keys of a
// version the tenant's indexes do not have yet; DirectoryStore::Reindex
// adds this version's keys of every stored record first. Bump it whenever
// MatchKeys changes what it returns for some name.
inline constexpr absl::string_view kMatchKeyVersion = "4";

// The match keys of one name, distinct and non-empty, each under its own
// prefix so the two kinds never collide: "t:" + LatinMatchKey(name,
// language) (spellings in other scripts) and "s:" + SkeletonMatchKey(name)
// (look-alike letters), text_normalization.h. `language` is the name's BCP
// 47 tag, "" when unknown. A name without a tag gets more "t:" keys, its
// readings in the languages of AlsoReadAs (text_normalization.h): its Uzbek
// reading, since diaspora files write Uzbek in Cyrillic without the letters
// that tell it apart ("Тюмен хоразмликлар жамияти" is "Tyumen xorazmliklar
// jamiyati", not "khorazmliklar"); its Bulgarian reading when it writes ъ
// as only Bulgarian does ("Българско" is "Balgarsko"); its Macedonian one
// when it has Macedonian letters. Empty for a name without letters or
// digits.
std::vector<std::string> MatchKeys(absl::string_view name,
                                   absl::string_view language = "");

// The distinct match keys of an organization: its name's, then its
// localized names' by language tag (each transliterated as its tag says).
std::vector<std::string> OrganizationMatchKeys(const v1::Organization& org);

// Fields of th:{t:<tenant>}:orgs:match and :participants:match.
std::string OrganizationMatchField(absl::string_view country_code,
                                   absl::string_view match_key);
std::string ParticipantEmailField(absl::string_view email);
// "name:<org id>:<key>" for each of MatchKeys(display_name). The display
// name is matched without a language: the same person's name must give the
// same keys whatever language they prefer.
std::vector<std::string> ParticipantNameFields(
    const v1::Participant& participant);
// The fields the duplicate rule checks: the email's, else the name's.
std::vector<std::string> ParticipantMatchFields(
    const v1::Participant& participant);

}  // namespace townhall::registration
