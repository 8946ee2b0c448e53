#include "services/registration/directory_logic.h"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "services/common/auth/authorization.h"
#include "services/common/csv.h"
#include "services/common/ids.h"
#include "services/common/proto_time.h"
#include "services/common/redis/idempotency_key.h"
#include "services/common/status.h"
#include "services/common/tenant_keys.h"
#include "services/common/validation.h"
#include "services/registration/directory_store.h"

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

// ImportError.file values.
constexpr char kOrganizationsFile[] = "organizations";
constexpr char kParticipantsFile[] = "participants";

// A client's value quoted in an error: short and escaped, since a bad cell
// may hold anything.
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

// ---- Validation ------------------------------------------------------------

// CSV columns of Organization.localized_names, by language tag.
struct LocalizedColumn {
  absl::string_view column;
  absl::string_view tag;
};
constexpr LocalizedColumn kLocalizedColumns[] = {
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
                          size_t max_chars) {
  TH_RETURN_IF_ERROR(
      ValidateText(field, value, {.min_chars = 1, .max_chars = max_chars}));
  if (MatchKey(value).empty()) {
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

bool AllAlpha(absl::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return absl::ascii_isalpha(c); });
}

// A BCP 47-ish language tag: subtags of 1 to 8 ASCII letters or digits
// joined by '-', the first of 2 to 8 letters, at most 35 characters.
// Returns it in the conventional case ("UZ-latn" -> "uz-Latn", "en-gb" ->
// "en-GB"), so that equal tags compare equal; nullopt when malformed.
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
  return absl::StrJoin(subtags, "-");
}

absl::Status LanguageTagError(absl::string_view field, absl::string_view tag) {
  return InvalidField(
      field, absl::StrCat("must be a BCP 47 language tag such as \"uz-Latn\", "
                          "\"ru\" or \"en\", not ",
                          Shown(tag)));
}

void Trim(std::string* value) { absl::StripAsciiWhitespace(value); }

// Trims, validates and canonicalizes an organization from a client, and
// clears what the server owns. Emails are stored lowercase.
absl::Status CleanOrganization(const Labels& label, v1::Organization* org) {
  org->clear_id();
  org->clear_tenant_id();
  org->clear_create_time();
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
    std::optional<std::string> tag =
        CanonicalLanguageTag(p->preferred_language());
    if (!tag.has_value()) {
      return LanguageTagError(label("preferred_language"),
                              p->preferred_language());
    }
    p->set_preferred_language(*std::move(tag));
  }
  Trim(p->mutable_time_zone());
  if (!p->time_zone().empty()) {
    TH_RETURN_IF_ERROR(
        NormalizeTimeZone(label("time_zone"), p->mutable_time_zone()));
  }
  return absl::OkStatus();
}

void SetServerFields(const Principal& caller, v1::Organization* org) {
  org->set_id(NewId());
  org->set_tenant_id(caller.tenant_id);
  SetTime(absl::Now(), org->mutable_create_time());
}

void SetServerFields(const Principal& caller, v1::Participant* p) {
  p->set_id(NewId());
  p->set_tenant_id(caller.tenant_id);
  SetTime(absl::Now(), p->mutable_create_time());
}

// ALREADY_EXISTS naming the organization a create collided with, and which
// of its names matched.
absl::Status OrganizationExists(DirectoryStore& store,
                                const ScriptOutcome& outcome,
                                absl::string_view country_code) {
  const std::string& id = outcome.values.at(0);
  std::string message = absl::StrCat("organization ", id);
  absl::StatusOr<v1::Organization> other = store.GetOrganization(id);
  if (other.ok()) {
    absl::StrAppend(&message, " \"", other->name(), "\"");
  }
  absl::StrAppend(&message, " already exists in ", country_code);
  if (other.ok() && outcome.values.size() > 1 &&
      MatchKey(other->name()) != outcome.values[1]) {
    for (const auto& [tag, name] : other->localized_names()) {
      if (MatchKey(name) == outcome.values[1]) {
        absl::StrAppend(&message, " (its name \"", name, "\" matches)");
        break;
      }
    }
  }
  return absl::AlreadyExistsError(message);
}

absl::Status ParticipantExists(DirectoryStore& store,
                               const ScriptOutcome& outcome,
                               const v1::Participant& wanted) {
  const std::string& id = outcome.values.at(0);
  if (outcome.values.size() > 1 && outcome.values[1] == "email") {
    return absl::AlreadyExistsError(
        absl::StrCat("participant ", id, " already exists with this email"));
  }
  std::string message = absl::StrCat("participant ", id);
  absl::StatusOr<v1::Participant> other = store.GetParticipant(id);
  if (other.ok()) {
    absl::StrAppend(&message, " \"", other->display_name(), "\"");
  }
  absl::StrAppend(&message, " already exists with the same name ",
                  wanted.organization_id().empty() ? "and no organization"
                                                   : "in the same organization",
                  " (give an email to tell people apart)");
  return absl::AlreadyExistsError(message);
}

absl::Status UnexpectedOutcome(const ScriptOutcome& outcome) {
  return absl::InternalError(
      absl::StrCat("unexpected script outcome ", outcome.kind));
}

// ---- Import ----------------------------------------------------------------

// Columns of the organizations file, in MapColumns order.
enum OrgColumn {
  kOrgName,
  kOrgCountryCode,
  kOrgNameUzLatn,
  kOrgNameRu,
  kOrgNameEn,
  kOrgCity,
  kOrgContactName,
  kOrgContactEmail,
  kOrgContactPhone,
};
const std::vector<std::string>& OrgRequiredColumns() {
  static const auto* kColumns =
      new std::vector<std::string>{"name", "country_code"};
  return *kColumns;
}
const std::vector<std::string>& OrgOptionalColumns() {
  static const auto* kColumns = new std::vector<std::string>{
      "name_uz_latn", "name_ru",       "name_en",      "city",
      "contact_name", "contact_email", "contact_phone"};
  return *kColumns;
}
// name_uz_latn, name_ru, name_en: in kLocalizedColumns order.
constexpr OrgColumn kOrgLocalizedColumns[] = {kOrgNameUzLatn, kOrgNameRu,
                                              kOrgNameEn};

// Columns of the participants file, in MapColumns order.
enum ParticipantColumn {
  kDisplayName,
  kOrganization,
  kEmail,
  kPhone,
  kPreferredLanguage,
  kTimeZone,
};
const std::vector<std::string>& ParticipantRequiredColumns() {
  static const auto* kColumns = new std::vector<std::string>{"display_name"};
  return *kColumns;
}
const std::vector<std::string>& ParticipantOptionalColumns() {
  static const auto* kColumns = new std::vector<std::string>{
      "organization", "email", "phone", "preferred_language", "time_zone"};
  return *kColumns;
}

// A parsed import file whose header has every required and no unknown
// column.
struct ImportFile {
  CsvTable table;
  // Column index per MapColumns name (-1: absent).
  std::vector<int> columns;

  std::string Cell(const CsvRow& row, int column) const {
    int index = columns[column];
    return index < 0 ? "" : row.fields[index];
  }
};

// Parses the file in request field `field`; nullopt when it is empty.
absl::StatusOr<std::optional<ImportFile>> ParseImportFile(
    absl::string_view field, absl::string_view text,
    const std::vector<std::string>& required,
    const std::vector<std::string>& optional) {
  if (absl::StripAsciiWhitespace(text).empty()) return std::nullopt;
  absl::StatusOr<CsvTable> table = ParseCsv(text, CsvOptions{});
  if (!table.ok()) return InvalidField(field, table.status().message());
  absl::StatusOr<std::vector<int>> columns =
      MapColumns(table->header, required, optional);
  if (!columns.ok()) return InvalidField(field, columns.status().message());
  return ImportFile{*std::move(table), *std::move(columns)};
}

// One import: organizations first (so participants can name them), each
// row through the same script as CreateOrganization/CreateParticipant.
class DirectoryImport {
 public:
  DirectoryImport(const Principal& caller, DirectoryStore& store,
                  bool validate_only, v1::ImportDirectoryResponse* response)
      : caller_(caller),
        store_(store),
        validate_only_(validate_only),
        response_(response) {}

  absl::Status Run(const ImportFile* organizations,
                   const ImportFile* participants) {
    // Stored organizations that participants name are looked up in the
    // same round trip as the organizations file's duplicates.
    std::vector<std::string> referenced;
    if (participants != nullptr) {
      absl::flat_hash_map<std::string, bool> seen;
      for (const CsvRow& row : participants->table.rows) {
        std::string key = MatchKey(participants->Cell(row, kOrganization));
        if (!key.empty() && seen.emplace(key, true).second) {
          referenced.push_back(std::move(key));
        }
      }
    }
    TH_RETURN_IF_ERROR(ImportOrganizations(organizations, referenced));
    if (participants != nullptr) {
      TH_RETURN_IF_ERROR(ImportParticipants(*participants));
    }
    for (std::vector<v1::ImportError>* errors :
         {&organization_errors_, &participant_errors_}) {
      std::stable_sort(errors->begin(), errors->end(),
                       [](const v1::ImportError& a, const v1::ImportError& b) {
                         return a.line() < b.line();
                       });
      for (v1::ImportError& e : *errors) {
        *response_->add_errors() = std::move(e);
      }
    }
    return absl::OkStatus();
  }

 private:
  struct OrgRow {
    int line = 0;
    v1::Organization org;
    std::vector<std::string> keys;  // OrganizationMatchKeys
    std::string id;  // the one it was, would be or is created as, or matched
  };

  struct ParticipantRow {
    int line = 0;
    v1::Participant participant;
  };

  static void AddError(std::vector<v1::ImportError>* errors,
                       absl::string_view file, int line,
                       absl::string_view reason) {
    v1::ImportError* error = &errors->emplace_back();
    error->set_file(std::string(file));
    error->set_line(line);
    error->set_reason(std::string(reason));
  }

  void RememberId(const std::string& key, const std::string& id) {
    std::vector<std::string>& ids = ids_by_key_[key];
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  }

  absl::Status ImportOrganizations(const ImportFile* file,
                                   const std::vector<std::string>& referenced) {
    std::vector<OrgRow> rows;
    if (file != nullptr) {
      for (const CsvError& error : file->table.errors) {
        AddError(&organization_errors_, kOrganizationsFile, error.line,
                 error.reason);
      }
      for (const CsvRow& row : file->table.rows) {
        absl::StatusOr<OrgRow> parsed = ParseOrganization(*file, row);
        if (parsed.ok()) {
          rows.push_back(*std::move(parsed));
        } else {
          AddError(&organization_errors_, kOrganizationsFile, row.line,
                   parsed.status().message());
        }
      }
    }

    std::vector<std::string> fields;
    for (const OrgRow& row : rows) {
      for (const std::string& key : row.keys) {
        fields.push_back(OrganizationMatchField(row.org.country_code(), key));
      }
    }
    TH_ASSIGN_OR_RETURN(OrganizationLookup stored,
                        store_.LookupOrganizations(fields, referenced));

    // Decide each row: an earlier row of the file or a stored organization
    // with a matching name in the same country makes it existing.
    absl::flat_hash_map<std::string, std::string> id_by_field;
    std::vector<v1::Organization> creates;
    std::vector<size_t> create_rows;
    size_t next_field = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
      OrgRow& row = rows[i];
      const size_t first_field = next_field;
      next_field += row.keys.size();
      for (size_t f = first_field; f < next_field && row.id.empty(); ++f) {
        auto earlier = id_by_field.find(fields[f]);
        if (earlier != id_by_field.end()) {
          row.id = earlier->second;
        } else if (!stored.by_match_field[f].empty()) {
          row.id = stored.by_match_field[f];
        }
      }
      if (row.id.empty()) {
        SetServerFields(caller_, &row.org);
        row.id = row.org.id();
        creates.push_back(row.org);
        create_rows.push_back(i);
      } else {
        response_->set_organizations_existing(
            response_->organizations_existing() + 1);
      }
      for (size_t f = first_field; f < next_field; ++f) {
        id_by_field.emplace(fields[f], row.id);
      }
    }

    if (validate_only_) {
      response_->set_organizations_created(static_cast<int>(creates.size()));
    } else {
      TH_ASSIGN_OR_RETURN(auto outcomes, store_.CreateOrganizations(creates));
      for (size_t k = 0; k < outcomes.size(); ++k) {
        OrgRow& row = rows[create_rows[k]];
        if (!outcomes[k].ok()) {
          AddError(&organization_errors_, kOrganizationsFile, row.line,
                   outcomes[k].status().message());
          for (const std::string& key : row.keys) {
            refused_lines_.emplace(key, row.line);
          }
          row.id.clear();
        } else if (outcomes[k]->kind == "OK") {
          response_->set_organizations_created(
              response_->organizations_created() + 1);
        } else if (outcomes[k]->kind == "DUPLICATE") {
          // Created by someone else since the lookup.
          row.id = outcomes[k]->values.at(0);
          response_->set_organizations_existing(
              response_->organizations_existing() + 1);
        } else {
          return UnexpectedOutcome(*outcomes[k]);
        }
      }
    }

    // Participants may name an organization by any of its names: this
    // file's rows first, then stored organizations of any country.
    for (const OrgRow& row : rows) {
      if (row.id.empty()) continue;
      for (const std::string& key : row.keys) RememberId(key, row.id);
    }
    for (size_t i = 0; i < referenced.size(); ++i) {
      for (const std::string& id : stored.by_name[i]) {
        RememberId(referenced[i], id);
      }
    }
    return absl::OkStatus();
  }

  absl::StatusOr<OrgRow> ParseOrganization(const ImportFile& file,
                                           const CsvRow& csv) {
    OrgRow row;
    row.line = csv.line;
    v1::Organization& org = row.org;
    org.set_name(file.Cell(csv, kOrgName));
    for (size_t i = 0; i < std::size(kLocalizedColumns); ++i) {
      std::string name = file.Cell(csv, kOrgLocalizedColumns[i]);
      if (!absl::StripAsciiWhitespace(name).empty()) {
        (*org.mutable_localized_names())[std::string(
            kLocalizedColumns[i].tag)] = std::move(name);
      }
    }
    org.set_country_code(file.Cell(csv, kOrgCountryCode));
    org.set_city(file.Cell(csv, kOrgCity));
    org.set_contact_name(file.Cell(csv, kOrgContactName));
    org.set_contact_email(file.Cell(csv, kOrgContactEmail));
    org.set_contact_phone(file.Cell(csv, kOrgContactPhone));
    absl::Status valid = CleanOrganization(Labels::Csv(), &org);
    if (!valid.ok()) {
      // A participant naming this organization learns why it is missing.
      for (OrgColumn column :
           {kOrgName, kOrgNameUzLatn, kOrgNameRu, kOrgNameEn}) {
        std::string key = MatchKey(file.Cell(csv, column));
        if (!key.empty()) refused_lines_.emplace(key, csv.line);
      }
      return valid;
    }
    row.keys = OrganizationMatchKeys(org);
    return row;
  }

  // The id of the organization a participant row names, or an error
  // naming the column.
  absl::StatusOr<std::string> ResolveOrganization(absl::string_view name) {
    std::string key = MatchKey(name);
    auto found = ids_by_key_.find(key);
    if (found == ids_by_key_.end() || found->second.empty()) {
      auto refused = refused_lines_.find(key);
      if (refused != refused_lines_.end()) {
        return InvalidField(
            "organization",
            absl::StrCat(Shown(name),
                         " was not imported (see organizations line ",
                         refused->second, ")"));
      }
      return InvalidField("organization", absl::StrCat("no organization is "
                                                       "named ",
                                                       Shown(name)));
    }
    if (found->second.size() > 1) {
      return InvalidField(
          "organization",
          absl::StrCat(Shown(name), " names ", found->second.size(),
                       " organizations (", absl::StrJoin(found->second, ", "),
                       "); create this participant with CreateParticipant "
                       "and an organization_id"));
    }
    return found->second[0];
  }

  absl::StatusOr<ParticipantRow> ParseParticipant(const ImportFile& file,
                                                  const CsvRow& csv) {
    ParticipantRow row;
    row.line = csv.line;
    v1::Participant& p = row.participant;
    p.set_display_name(file.Cell(csv, kDisplayName));
    p.set_email(file.Cell(csv, kEmail));
    p.set_phone(file.Cell(csv, kPhone));
    p.set_preferred_language(file.Cell(csv, kPreferredLanguage));
    p.set_time_zone(file.Cell(csv, kTimeZone));
    TH_RETURN_IF_ERROR(CleanParticipant(Labels::Csv(), &p));
    std::string organization = file.Cell(csv, kOrganization);
    if (!absl::StripAsciiWhitespace(organization).empty()) {
      TH_ASSIGN_OR_RETURN(std::string id, ResolveOrganization(organization));
      p.set_organization_id(std::move(id));
    }
    return row;
  }

  absl::Status ImportParticipants(const ImportFile& file) {
    for (const CsvError& error : file.table.errors) {
      AddError(&participant_errors_, kParticipantsFile, error.line,
               error.reason);
    }
    std::vector<ParticipantRow> rows;
    for (const CsvRow& csv : file.table.rows) {
      absl::StatusOr<ParticipantRow> row = ParseParticipant(file, csv);
      if (row.ok()) {
        rows.push_back(*std::move(row));
      } else {
        AddError(&participant_errors_, kParticipantsFile, csv.line,
                 row.status().message());
      }
    }

    std::vector<std::string> fields;
    fields.reserve(rows.size());
    for (const ParticipantRow& row : rows) {
      fields.push_back(ParticipantMatchField(row.participant));
    }
    TH_ASSIGN_OR_RETURN(std::vector<std::string> stored,
                        store_.LookupParticipants(fields));

    // The script's rule, also between rows of the file: by email when the
    // row has one, else by name within the organization.
    absl::flat_hash_map<std::string, std::string> id_by_field;
    std::vector<v1::Participant> creates;
    std::vector<size_t> create_rows;
    for (size_t i = 0; i < rows.size(); ++i) {
      v1::Participant& p = rows[i].participant;
      if (id_by_field.contains(fields[i]) || !stored[i].empty()) {
        response_->set_participants_existing(
            response_->participants_existing() + 1);
        continue;
      }
      SetServerFields(caller_, &p);
      if (!p.email().empty()) {
        id_by_field.emplace(ParticipantEmailField(p.email()), p.id());
      }
      id_by_field.emplace(ParticipantNameField(p), p.id());
      creates.push_back(p);
      create_rows.push_back(i);
    }

    if (validate_only_) {
      response_->set_participants_created(static_cast<int>(creates.size()));
      return absl::OkStatus();
    }
    TH_ASSIGN_OR_RETURN(auto outcomes, store_.CreateParticipants(creates));
    for (size_t k = 0; k < outcomes.size(); ++k) {
      const ParticipantRow& row = rows[create_rows[k]];
      if (!outcomes[k].ok()) {
        // NOT_FOUND: the organization is gone.
        AddError(
            &participant_errors_, kParticipantsFile, row.line,
            absl::StrCat("organization: ", outcomes[k].status().message()));
      } else if (outcomes[k]->kind == "OK") {
        response_->set_participants_created(response_->participants_created() +
                                            1);
      } else if (outcomes[k]->kind == "DUPLICATE") {
        response_->set_participants_existing(
            response_->participants_existing() + 1);
      } else {
        return UnexpectedOutcome(*outcomes[k]);
      }
    }
    return absl::OkStatus();
  }

  const Principal& caller_;
  DirectoryStore& store_;
  const bool validate_only_;
  v1::ImportDirectoryResponse* response_;
  std::vector<v1::ImportError> organization_errors_;
  std::vector<v1::ImportError> participant_errors_;
  // Organization ids by match key, in any country: this import's rows and
  // the stored organizations that participants name.
  absl::flat_hash_map<std::string, std::vector<std::string>> ids_by_key_;
  // Lines of refused organization rows by the match keys of their names.
  absl::flat_hash_map<std::string, int> refused_lines_;
};

}  // namespace

absl::StatusOr<v1::Participant> LoadParticipant(RedisConnection& redis,
                                                absl::string_view tenant_id,
                                                absl::string_view id) {
  TH_ASSIGN_OR_RETURN(
      RedisReply reply,
      redis.Command(
          {"GET", absl::StrCat(TenantPrefix(tenant_id), "participant:", id)}));
  if (reply.type == RedisReply::Type::kError) {
    return absl::InternalError(reply.str);
  }
  if (reply.is_nil()) {
    return absl::NotFoundError(absl::StrCat("participant ", id, " not found"));
  }
  v1::Participant participant;
  if (!participant.ParseFromString(reply.str)) {
    return absl::InternalError("corrupt participant");
  }
  return participant;
}

void RedactContacts(const Principal& caller, v1::Organization* organization) {
  if (caller.role == Role::kOrganizer) return;
  organization->clear_contact_name();
  organization->clear_contact_email();
  organization->clear_contact_phone();
}

void RedactContacts(const Principal& caller, v1::Participant* participant) {
  if (caller.role == Role::kOrganizer) return;
  participant->clear_email();
  participant->clear_phone();
}

// ---- Organizations ---------------------------------------------------------

absl::Status DirectoryLogic::CreateOrganization(
    const Principal& caller, Redis& redis,
    const v1::CreateOrganizationRequest& request,
    v1::CreateOrganizationResponse* response) const {
  TH_RETURN_IF_ERROR(ValidateRequestId("request_id", request.request_id()));
  v1::Organization org = request.organization();
  TH_RETURN_IF_ERROR(CleanOrganization(Labels::Request("organization"), &org));
  SetServerFields(caller, &org);
  DirectoryStore store(redis, caller.tenant_id);
  TH_ASSIGN_OR_RETURN(
      ScriptOutcome outcome,
      store.CreateOrganization(
          IdempotencyKey(TH_METHOD(RegistrationService, CreateOrganization),
                         caller, request.request_id()),
          org));
  if (outcome.kind == "DUPLICATE") {
    return OrganizationExists(store, outcome, org.country_code());
  }
  if (outcome.kind == "EXISTING") {
    // A retry: answer with what the first request created.
    TH_ASSIGN_OR_RETURN(org, store.GetOrganization(outcome.values.at(0)));
  } else if (outcome.kind != "OK") {
    return UnexpectedOutcome(outcome);
  }
  RedactContacts(caller, &org);
  *response->mutable_organization() = std::move(org);
  return absl::OkStatus();
}

absl::Status DirectoryLogic::GetOrganization(
    const Principal& caller, Redis& redis,
    const v1::GetOrganizationRequest& request,
    v1::GetOrganizationResponse* response) const {
  TH_RETURN_IF_ERROR(ValidateId("organization_id", request.organization_id()));
  DirectoryStore store(redis, caller.tenant_id);
  TH_ASSIGN_OR_RETURN(v1::Organization org,
                      store.GetOrganization(request.organization_id()));
  RedactContacts(caller, &org);
  *response->mutable_organization() = std::move(org);
  return absl::OkStatus();
}

absl::Status DirectoryLogic::ListOrganizations(
    const Principal& caller, Redis& redis,
    const v1::ListOrganizationsRequest& request,
    v1::ListOrganizationsResponse* response) const {
  TH_ASSIGN_OR_RETURN(int page_size, ValidatePageSize(request.page_size()));
  if (!request.country_code().empty()) {
    TH_RETURN_IF_ERROR(
        ValidateCountryCode("country_code", request.country_code()));
  }
  DirectoryStore store(redis, caller.tenant_id);
  TH_ASSIGN_OR_RETURN(
      IdPage page, store.ListOrganizationIds(request.country_code(),
                                             request.page_token(), page_size));
  TH_ASSIGN_OR_RETURN(std::vector<v1::Organization> orgs,
                      store.GetOrganizations(page.ids));
  for (v1::Organization& org : orgs) {
    RedactContacts(caller, &org);
    *response->add_organizations() = std::move(org);
  }
  response->set_next_page_token(std::move(page.next_page_token));
  return absl::OkStatus();
}

// ---- Participants ----------------------------------------------------------

absl::Status DirectoryLogic::CreateParticipant(
    const Principal& caller, Redis& redis,
    const v1::CreateParticipantRequest& request,
    v1::CreateParticipantResponse* response) const {
  TH_RETURN_IF_ERROR(ValidateRequestId("request_id", request.request_id()));
  v1::Participant participant = request.participant();
  TH_RETURN_IF_ERROR(
      CleanParticipant(Labels::Request("participant"), &participant));
  SetServerFields(caller, &participant);
  DirectoryStore store(redis, caller.tenant_id);
  TH_ASSIGN_OR_RETURN(
      ScriptOutcome outcome,
      store.CreateParticipant(
          IdempotencyKey(TH_METHOD(RegistrationService, CreateParticipant),
                         caller, request.request_id()),
          participant));
  if (outcome.kind == "DUPLICATE") {
    return ParticipantExists(store, outcome, participant);
  }
  if (outcome.kind == "EXISTING") {
    TH_ASSIGN_OR_RETURN(participant,
                        store.GetParticipant(outcome.values.at(0)));
  } else if (outcome.kind != "OK") {
    return UnexpectedOutcome(outcome);
  }
  RedactContacts(caller, &participant);
  *response->mutable_participant() = std::move(participant);
  return absl::OkStatus();
}

absl::Status DirectoryLogic::GetParticipant(
    const Principal& caller, Redis& redis,
    const v1::GetParticipantRequest& request,
    v1::GetParticipantResponse* response) const {
  TH_RETURN_IF_ERROR(ValidateId("participant_id", request.participant_id()));
  TH_ASSIGN_OR_RETURN(
      v1::Participant participant,
      LoadParticipant(redis, caller.tenant_id, request.participant_id()));
  RedactContacts(caller, &participant);
  *response->mutable_participant() = std::move(participant);
  return absl::OkStatus();
}

absl::Status DirectoryLogic::ListParticipants(
    const Principal& caller, Redis& redis,
    const v1::ListParticipantsRequest& request,
    v1::ListParticipantsResponse* response) const {
  TH_ASSIGN_OR_RETURN(int page_size, ValidatePageSize(request.page_size()));
  if (!request.organization_id().empty()) {
    TH_RETURN_IF_ERROR(
        ValidateId("organization_id", request.organization_id()));
  }
  DirectoryStore store(redis, caller.tenant_id);
  TH_ASSIGN_OR_RETURN(
      IdPage page, store.ListParticipantIds(request.organization_id(),
                                            request.page_token(), page_size));
  TH_ASSIGN_OR_RETURN(std::vector<v1::Participant> participants,
                      store.GetParticipants(page.ids));
  for (v1::Participant& p : participants) {
    RedactContacts(caller, &p);
    *response->add_participants() = std::move(p);
  }
  response->set_next_page_token(std::move(page.next_page_token));
  return absl::OkStatus();
}

// ---- Import ----------------------------------------------------------------

absl::Status DirectoryLogic::ImportDirectory(
    const Principal& caller, Redis& redis,
    const v1::ImportDirectoryRequest& request,
    v1::ImportDirectoryResponse* response) const {
  // Both headers are checked before anything is written.
  TH_ASSIGN_OR_RETURN(
      std::optional<ImportFile> organizations,
      ParseImportFile("organizations_csv", request.organizations_csv(),
                      OrgRequiredColumns(), OrgOptionalColumns()));
  TH_ASSIGN_OR_RETURN(
      std::optional<ImportFile> participants,
      ParseImportFile("participants_csv", request.participants_csv(),
                      ParticipantRequiredColumns(),
                      ParticipantOptionalColumns()));
  if (!organizations.has_value() && !participants.has_value()) {
    return InvalidField("organizations_csv",
                        "is empty, and so is participants_csv: nothing to "
                        "import");
  }
  DirectoryStore store(redis, caller.tenant_id);
  DirectoryImport import(caller, store, request.validate_only(), response);
  return import.Run(organizations.has_value() ? &*organizations : nullptr,
                    participants.has_value() ? &*participants : nullptr);
}

}  // namespace townhall::registration
