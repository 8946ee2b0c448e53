#include "services/registration/directory_validation.h"

#include <unicode/uloc.h>

#include <algorithm>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "services/common/status.h"
#include "services/common/text_normalization.h"
#include "services/common/validation.h"

namespace townhall::registration {
namespace {

constexpr size_t kMaxOrganizationNameChars = 300;
constexpr size_t kMaxDisplayNameChars = 200;
constexpr size_t kMaxCityChars = 100;
constexpr size_t kMaxContactNameChars = 200;
constexpr size_t kMaxEmailChars = 254;
constexpr size_t kMaxEmailLocalBytes = 64;
constexpr size_t kMaxPhoneChars = 32;
constexpr size_t kMaxLanguageTagChars = 35;
constexpr int kMaxLocalizedNames = 20;

bool AllAlpha(absl::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return absl::ascii_isalpha(c); });
}

absl::Status LanguageTagError(absl::string_view field, absl::string_view tag) {
  return InvalidField(
      field, absl::StrCat("must be a BCP 47 language tag such as \"uz-Latn\", "
                          "\"ru\" or \"en\", not ",
                          Shown(tag)));
}

void Trim(std::string* value) { absl::StripAsciiWhitespace(value); }

}  // namespace

std::string Shown(absl::string_view value) {
  constexpr size_t kMaxShownBytes = 40;
  absl::string_view shown = value;
  if (shown.size() > kMaxShownBytes) {
    size_t end = kMaxShownBytes;
    // Cut at a character boundary, not inside a UTF-8 sequence.
    while (end > 0 && (static_cast<unsigned char>(value[end]) & 0xC0) == 0x80) {
      --end;
    }
    shown = value.substr(0, end);
  }
  return absl::StrCat("\"", absl::Utf8SafeCHexEscape(shown),
                      shown.size() < value.size() ? "..." : "", "\"");
}

// A name: one line of 1..max_chars characters, with something to match on
// (a name of punctuation only would collide with every other such name).
absl::Status ValidateName(absl::string_view field, absl::string_view value,
                          size_t max_chars) {
  TH_RETURN_IF_ERROR(
      ValidateText(field, value, {.min_chars = 1, .max_chars = max_chars}));
  if (LatinMatchKey(value).empty()) {
    return InvalidField(field, "must contain letters or digits");
  }
  return absl::OkStatus();
}

absl::Status ValidateCountryCode(absl::string_view field,
                                 absl::string_view code) {
  if (code.empty()) return InvalidField(field, "is required");
  if (code.size() != 2 || !absl::ascii_isupper(code[0]) ||
      !absl::ascii_isupper(code[1])) {
    return InvalidField(
        field, absl::StrCat("must be an ISO 3166-1 alpha-2 code of two "
                            "uppercase letters such as \"RU\" or \"UZ\", not ",
                            Shown(code)));
  }
  return absl::OkStatus();
}

// Deliberately loose (RFC 5321 allows far more than anyone uses): one '@',
// a local part and a dotted domain, no spaces or characters that need
// quoting. Non-ASCII is allowed (internationalized addresses).
absl::Status ValidateEmail(absl::string_view field, absl::string_view email) {
  TH_RETURN_IF_ERROR(ValidateText(field, email, {.max_chars = kMaxEmailChars}));
  absl::Status bad =
      InvalidField(field, "must be an email address such as name@example.org");
  size_t at = email.find('@');
  if (at == absl::string_view::npos ||
      email.find('@', at + 1) != absl::string_view::npos) {
    return bad;
  }
  absl::string_view local = email.substr(0, at);
  absl::string_view domain = email.substr(at + 1);
  if (local.empty() || local.size() > kMaxEmailLocalBytes || domain.empty() ||
      domain.find('.') == absl::string_view::npos) {
    return bad;
  }
  constexpr absl::string_view kSpecials = "\"(),:;<>[\\]";
  for (char c : email) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f ||
        kSpecials.find(c) != absl::string_view::npos) {
      return bad;
    }
  }
  for (char c : domain) {
    if (static_cast<unsigned char>(c) < 0x80 && !absl::ascii_isalnum(c) &&
        c != '-' && c != '.') {
      return bad;
    }
  }
  for (absl::string_view part : {local, domain}) {
    if (part.front() == '.' || part.back() == '.' ||
        part.find("..") != absl::string_view::npos) {
      return bad;
    }
  }
  return absl::OkStatus();
}

absl::Status ValidatePhone(absl::string_view field, absl::string_view phone) {
  if (phone.size() > kMaxPhoneChars) {
    return InvalidField(
        field, absl::StrCat("must be at most ", kMaxPhoneChars, " characters"));
  }
  bool has_digit = false;
  for (char c : phone) {
    if (absl::ascii_isdigit(c)) {
      has_digit = true;
    } else if (c != ' ' && c != '+' && c != '-' && c != '(' && c != ')') {
      return InvalidField(field,
                          "may contain only digits, spaces, +, -, ( and )");
    }
  }
  if (!has_digit) return InvalidField(field, "must contain digits");
  return absl::OkStatus();
}

std::optional<std::string> CanonicalLanguageTag(absl::string_view tag) {
  if (tag.empty() || tag.size() > kMaxLanguageTagChars) return std::nullopt;
  std::vector<std::string> subtags =
      absl::StrSplit(absl::AsciiStrToLower(tag), '-');
  bool in_extension = false;
  for (size_t i = 0; i < subtags.size(); ++i) {
    std::string& s = subtags[i];
    if (s.empty() || s.size() > 8) return std::nullopt;
    for (char c : s) {
      if (!absl::ascii_isalnum(c)) return std::nullopt;
    }
    if (i == 0) {
      if (s.size() < 2 || !AllAlpha(s)) return std::nullopt;
    } else if (s.size() == 1) {
      // An extension or private use ("-u-", "-x-"): the rest stays lower.
      in_extension = true;
    } else if (!in_extension && s.size() == 4 && AllAlpha(s)) {
      s[0] = absl::ascii_toupper(s[0]);  // script: "Latn"
    } else if (!in_extension && s.size() == 2 && AllAlpha(s)) {
      absl::AsciiStrToUpper(&s);  // region: "GB"
    }
  }
  std::string canonical = absl::StrJoin(subtags, "-");
  // The full BCP 47 grammar (RFC 5646 section 2.1: subtag order, variants,
  // extensions, a singleton followed by a subtag), by ICU's parser: it
  // stops at the first subtag out of place, so a tag it cannot read to the
  // end is malformed ("en-Latn-Latn", "en-a", "ru-x").
  char locale_id[ULOC_FULLNAME_CAPACITY];
  int32_t parsed = 0;
  UErrorCode status = U_ZERO_ERROR;
  uloc_forLanguageTag(canonical.c_str(), locale_id, sizeof(locale_id), &parsed,
                      &status);
  if (U_FAILURE(status) || parsed != static_cast<int32_t>(canonical.size())) {
    return std::nullopt;
  }
  return canonical;
}

absl::StatusOr<std::optional<std::string>> LocalizedColumnTag(
    absl::string_view column) {
  for (const LocalizedColumn& alias : kLocalizedColumnAliases) {
    if (column == alias.column) return std::string(alias.tag);
  }
  if (!absl::ConsumePrefix(&column, kLocalizedColumnPrefix)) {
    return std::nullopt;
  }
  return ValidateLanguageTag(
      absl::StrCat("column ",
                   Shown(absl::StrCat(kLocalizedColumnPrefix, column))),
      column);
}

absl::StatusOr<std::string> ValidateLanguageTag(absl::string_view field,
                                                absl::string_view tag) {
  std::optional<std::string> canonical = CanonicalLanguageTag(tag);
  if (!canonical.has_value()) return LanguageTagError(field, tag);
  return *std::move(canonical);
}

// clears what the server owns. Emails are stored lowercase.
absl::Status CleanOrganization(const Labels& label, v1::Organization* org) {
  org->clear_id();
  org->clear_tenant_id();
  org->clear_create_time();
  org->clear_display_name();
  org->clear_display_name_language();
  Trim(org->mutable_name());
  TH_RETURN_IF_ERROR(
      ValidateName(label("name"), org->name(), kMaxOrganizationNameChars));
  if (org->localized_names_size() > kMaxLocalizedNames) {
    return InvalidField(
        label("localized_names"),
        absl::StrCat("must have at most ", kMaxLocalizedNames, " entries"));
  }
  std::vector<std::pair<std::string, std::string>> entries(
      org->localized_names().begin(), org->localized_names().end());
  std::sort(entries.begin(), entries.end());
  std::map<std::string, std::string> localized;
  for (auto& [tag, name] : entries) {
    std::optional<std::string> canonical = CanonicalLanguageTag(tag);
    if (!canonical.has_value()) {
      return InvalidField(
          label("localized_names"),
          absl::StrCat("key ", Shown(tag),
                       " is not a BCP 47 language tag such as \"uz-Latn\", "
                       "\"ru\" or \"en\""));
    }
    Trim(&name);
    TH_RETURN_IF_ERROR(
        ValidateName(label.Localized(tag), name, kMaxOrganizationNameChars));
    if (!localized.emplace(*canonical, std::move(name)).second) {
      return InvalidField(
          label("localized_names"),
          absl::StrCat("has two keys for the language ", Shown(*canonical)));
    }
  }
  org->mutable_localized_names()->clear();
  for (auto& [tag, name] : localized) {
    (*org->mutable_localized_names())[tag] = std::move(name);
  }
  Trim(org->mutable_country_code());
  TH_RETURN_IF_ERROR(
      ValidateCountryCode(label("country_code"), org->country_code()));
  Trim(org->mutable_city());
  TH_RETURN_IF_ERROR(
      ValidateText(label("city"), org->city(), {.max_chars = kMaxCityChars}));
  Trim(org->mutable_contact_name());
  TH_RETURN_IF_ERROR(ValidateText(label("contact_name"), org->contact_name(),
                                  {.max_chars = kMaxContactNameChars}));
  Trim(org->mutable_contact_email());
  absl::AsciiStrToLower(org->mutable_contact_email());
  if (!org->contact_email().empty()) {
    TH_RETURN_IF_ERROR(
        ValidateEmail(label("contact_email"), org->contact_email()));
  }
  Trim(org->mutable_contact_phone());
  if (!org->contact_phone().empty()) {
    TH_RETURN_IF_ERROR(
        ValidatePhone(label("contact_phone"), org->contact_phone()));
  }
  return absl::OkStatus();
}

// The same for a participant. The email is stored lowercase, so that the
// duplicate rule ignores case.
absl::Status CleanParticipant(const Labels& label, v1::Participant* p) {
  p->clear_id();
  p->clear_tenant_id();
  p->clear_create_time();
  Trim(p->mutable_display_name());
  TH_RETURN_IF_ERROR(ValidateName(label("display_name"), p->display_name(),
                                  kMaxDisplayNameChars));
  if (!p->organization_id().empty()) {
    TH_RETURN_IF_ERROR(
        ValidateId(label("organization_id"), p->organization_id()));
  }
  Trim(p->mutable_email());
  absl::AsciiStrToLower(p->mutable_email());
  if (!p->email().empty()) {
    TH_RETURN_IF_ERROR(ValidateEmail(label("email"), p->email()));
  }
  Trim(p->mutable_phone());
  if (!p->phone().empty()) {
    TH_RETURN_IF_ERROR(ValidatePhone(label("phone"), p->phone()));
  }
  Trim(p->mutable_preferred_language());
  if (!p->preferred_language().empty()) {
    TH_ASSIGN_OR_RETURN(std::string tag,
                        ValidateLanguageTag(label("preferred_language"),
                                            p->preferred_language()));
    p->set_preferred_language(std::move(tag));
  }
  Trim(p->mutable_time_zone());
  if (!p->time_zone().empty()) {
    TH_RETURN_IF_ERROR(
        NormalizeTimeZone(label("time_zone"), p->mutable_time_zone()));
  }
  return absl::OkStatus();
}

// ---- Names for a reader -----------------------------------------------------

DisplayName ChooseDisplayName(const v1::Organization& org,
                              absl::string_view language) {
  if (language.empty() || org.localized_names().empty()) {
    return {org.name(), ""};
  }
  const auto& names = org.localized_names();
  // The tag itself, then with subtags dropped from the end (skipping a
  // singleton left at the end: "de-u-co" -> "de").
  std::string tag(language);
  while (!tag.empty()) {
    auto found = names.find(tag);
    if (found != names.end()) return {found->second, found->first};
    size_t dash = tag.rfind('-');
    if (dash == std::string::npos) break;
    tag.resize(dash);
    size_t last = tag.rfind('-');
    if (last != std::string::npos && tag.size() - last == 2) tag.resize(last);
  }
  // Any tag of the same language, the first in tag order.
  const std::string primary(language.substr(0, language.find('-')));
  std::vector<std::string> same_language;
  for (const auto& [t, name] : names) {
    if (t == primary || absl::StartsWith(t, absl::StrCat(primary, "-"))) {
      same_language.push_back(t);
    }
  }
  if (!same_language.empty()) {
    std::sort(same_language.begin(), same_language.end());
    return {names.at(same_language[0]), same_language[0]};
  }
  return {org.name(), ""};
}

void SetDisplayName(absl::string_view language, v1::Organization* org) {
  DisplayName chosen = ChooseDisplayName(*org, language);
  org->set_display_name(std::move(chosen.name));
  org->set_display_name_language(std::move(chosen.language));
}

// ---- Matching ---------------------------------------------------------------

std::vector<std::string> MatchKeys(absl::string_view name,
                                   absl::string_view language) {
  std::vector<std::string> keys;
  std::string latin = LatinMatchKey(name, language);
  if (latin.empty()) return keys;
  keys.push_back(absl::StrCat("t:", latin));
  std::string skeleton = SkeletonMatchKey(name);
  if (!skeleton.empty()) keys.push_back(absl::StrCat("s:", skeleton));
  if (language.empty()) {
    for (const std::string& also : AlsoReadAs(name)) {
      std::string key = absl::StrCat("t:", LatinMatchKey(name, also));
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
        keys.push_back(std::move(key));
      }
    }
  }
  return keys;
}

std::vector<std::string> OrganizationMatchKeys(const v1::Organization& org) {
  std::vector<std::string> keys = MatchKeys(org.name());
  // Proto maps have no order: sort by tag so scripts get a stable order.
  std::vector<std::pair<std::string, std::string>> localized(
      org.localized_names().begin(), org.localized_names().end());
  std::sort(localized.begin(), localized.end());
  for (const auto& [tag, name] : localized) {
    for (std::string& key : MatchKeys(name, tag)) {
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
        keys.push_back(std::move(key));
      }
    }
  }
  return keys;
}

std::string OrganizationMatchField(absl::string_view country_code,
                                   absl::string_view match_key) {
  return absl::StrCat(country_code, ":", match_key);
}

std::string ParticipantEmailField(absl::string_view email) {
  return absl::StrCat("email:", email);
}

std::vector<std::string> ParticipantNameFields(
    const v1::Participant& participant) {
  std::vector<std::string> fields;
  for (const std::string& key : MatchKeys(participant.display_name())) {
    fields.push_back(
        absl::StrCat("name:", participant.organization_id(), ":", key));
  }
  return fields;
}

std::vector<std::string> ParticipantMatchFields(
    const v1::Participant& participant) {
  if (!participant.email().empty()) {
    return {ParticipantEmailField(participant.email())};
  }
  return ParticipantNameFields(participant);
}

}  // namespace townhall::registration
