// The directory's pure rules, without Redis: how organizations and
// participants from a client (an RPC or an import row) are trimmed,
// validated and canonicalized, how errors name their fields, and the
// folded names the duplicate rule matches on. Unit-tested in
// directory_validation_test.cc.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "townhall/v1/registration.pb.h"

namespace townhall::registration {

// A client's value quoted in an error: in double quotes, escaped, at most
// 40 bytes (cut at a character boundary, then "..."), since a bad cell may
// hold anything.
std::string Shown(absl::string_view value);

// CSV columns of Organization.localized_names, by language tag.
struct LocalizedColumn {
  absl::string_view column;
  absl::string_view tag;
};
inline constexpr LocalizedColumn kLocalizedColumns[] = {
    {"name_uz_latn", "uz-Latn"}, {"name_ru", "ru"}, {"name_en", "en"}};

// How errors name fields: request paths ("organization.city") for RPCs,
// column names ("city") for imports. Import columns are named after their
// fields, except the localized names ("name_ru").
class Labels {
 public:
  static Labels Request(absl::string_view message) {
    return Labels(absl::StrCat(message, "."), false);
  }
  static Labels Csv() { return Labels("", true); }

  std::string operator()(absl::string_view field) const {
    return absl::StrCat(prefix_, field);
  }
  std::string Localized(absl::string_view tag) const {
    if (csv_) {
      for (const LocalizedColumn& c : kLocalizedColumns) {
        if (c.tag == tag) return std::string(c.column);
      }
    }
    return absl::StrCat(prefix_, "localized_names[", Shown(tag), "]");
  }

 private:
  Labels(std::string prefix, bool csv)
      : prefix_(std::move(prefix)), csv_(csv) {}

  std::string prefix_;
  bool csv_;
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
// A BCP 47-ish language tag: subtags of 1 to 8 ASCII letters or digits
// joined by '-', the first of 2 to 8 letters, at most 35 characters.
// Returns it in the conventional case ("UZ-latn" -> "uz-Latn", "en-gb" ->
// "en-GB"), so that equal tags compare equal; nullopt when malformed.
std::optional<std::string> CanonicalLanguageTag(absl::string_view tag);

// Trims, validates and canonicalizes an organization from a client, and
// clears what the server owns. Emails are stored lowercase.
absl::Status CleanOrganization(const Labels& label, v1::Organization* org);
// The same for a participant. The email is stored lowercase, so that the
// duplicate rule ignores case.
absl::Status CleanParticipant(const Labels& label, v1::Participant* p);

// ---- Matching ---------------------------------------------------------------

// The folded form of a name for duplicate detection:
// TransliterateCyrillicToLatin(NormalizeForMatching(text)). Empty for text
// without letters or digits.
std::string MatchKey(absl::string_view text);

// The distinct match keys of an organization: its name, then its localized
// names by language tag.
std::vector<std::string> OrganizationMatchKeys(const v1::Organization& org);

// Fields of th:{t:<tenant>}:orgs:match and :participants:match.
std::string OrganizationMatchField(absl::string_view country_code,
                                   absl::string_view match_key);
std::string ParticipantEmailField(absl::string_view email);
std::string ParticipantNameField(const v1::Participant& participant);
// The field the duplicate rule checks: the email's, else the name's.
std::string ParticipantMatchField(const v1::Participant& participant);

}  // namespace townhall::registration
