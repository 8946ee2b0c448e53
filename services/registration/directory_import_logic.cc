#include "services/registration/directory_import_logic.h"

#include <algorithm>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/common/csv.h"
#include "services/common/status.h"
#include "services/common/validation.h"
#include "services/registration/directory_logic.h"
#include "services/registration/directory_store.h"
#include "services/registration/directory_validation.h"
#include "services/registration/registration_rules.h"

namespace townhall::registration {
namespace {

// ImportError.file values.
constexpr char kOrganizationsFile[] = "organizations";
constexpr char kParticipantsFile[] = "participants";

enum OrgColumn {
  kOrgName,
  kOrgCountryCode,
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
  // Besides these, any number of name:<tag> columns (and their aliases,
  // kLocalizedColumnAliases): ImportFile::localized.
  static const auto* kColumns = new std::vector<std::string>{
      "city", "contact_name", "contact_email", "contact_phone"};
  return *kColumns;
}

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
  // Localized name columns (name:<tag> and aliases): header index by
  // canonical tag, and the header's name of each tag's column (for errors).
  std::map<std::string, int> localized;
  std::map<std::string, std::string> localized_columns;

  std::string Cell(const CsvRow& row, int column) const {
    int index = columns[column];
    return index < 0 ? "" : row.fields[index];
  }
};

// Parses the file in request field `field`; nullopt when it is empty.
// With `localized`, name:<tag> columns (and their aliases) are accepted
// besides `optional`: a malformed tag, or two columns of one tag, refuses
// the file.
absl::StatusOr<std::optional<ImportFile>> ParseImportFile(
    absl::string_view field, absl::string_view text,
    const std::vector<std::string>& required,
    const std::vector<std::string>& optional, bool localized = false) {
  if (absl::StripAsciiWhitespace(text).empty()) return std::nullopt;
  // A file townhall exported (ExportOrganizations, ExportParticipants)
  // imports as the values it holds: "'+49 30 ..." is the phone "+49 30 ...".
  absl::StatusOr<CsvTable> table =
      ParseCsv(text, CsvOptions{.undo_defusing = true});
  if (!table.ok()) return InvalidField(field, table.status().message());
  ImportFile file;
  std::vector<std::string> accepted = optional;
  if (localized) {
    for (size_t i = 0; i < table->header.size(); ++i) {
      const std::string& column = table->header[i];
      absl::StatusOr<std::optional<std::string>> tag =
          LocalizedColumnTag(column);
      if (!tag.ok()) return InvalidField(field, tag.status().message());
      if (!tag->has_value()) continue;
      auto [earlier, added] = file.localized_columns.emplace(**tag, column);
      if (!added) {
        return InvalidField(
            field, absl::StrCat("columns ", Shown(earlier->second), " and ",
                                Shown(column), " are both the name in ",
                                Shown(**tag)));
      }
      file.localized.emplace(**tag, static_cast<int>(i));
      accepted.push_back(column);
    }
  }
  absl::StatusOr<std::vector<int>> columns =
      MapColumns(table->header, required, accepted);
  if (!columns.ok()) return InvalidField(field, columns.status().message());
  columns->resize(required.size() + optional.size());
  file.table = *std::move(table);
  file.columns = *std::move(columns);
  return file;
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
        for (std::string& key :
             MatchKeys(participants->Cell(row, kOrganization))) {
          if (seen.emplace(key, true).second) {
            referenced.push_back(std::move(key));
          }
        }
      }
    }
    // The lookups below use this version's match keys.
    TH_RETURN_IF_ERROR(store_.EnsureIndexed());
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
    for (const auto& [tag, index] : file.localized) {
      const std::string& name = csv.fields[index];
      if (!absl::StripAsciiWhitespace(name).empty()) {
        (*org.mutable_localized_names())[tag] = name;
      }
    }
    org.set_country_code(file.Cell(csv, kOrgCountryCode));
    org.set_city(file.Cell(csv, kOrgCity));
    org.set_contact_name(file.Cell(csv, kOrgContactName));
    org.set_contact_email(file.Cell(csv, kOrgContactEmail));
    org.set_contact_phone(file.Cell(csv, kOrgContactPhone));
    absl::Status valid =
        CleanOrganization(Labels::Csv(file.localized_columns), &org);
    if (!valid.ok()) {
      // A participant naming this organization learns why it is missing.
      std::vector<std::string> names = {file.Cell(csv, kOrgName)};
      for (const auto& [tag, index] : file.localized) {
        names.push_back(csv.fields[index]);
      }
      for (const std::string& name : names) {
        for (const std::string& key : MatchKeys(name)) {
          refused_lines_.emplace(key, csv.line);
        }
      }
      return valid;
    }
    row.keys = OrganizationMatchKeys(org);
    return row;
  }

  // The id of the organization a participant row names, or an error
  // naming the column.
  absl::StatusOr<std::string> ResolveOrganization(absl::string_view name) {
    // Any of the name's keys (its Latin spelling or its skeleton) may name
    // the organization.
    std::vector<std::string> ids;
    std::optional<int> refused_line;
    for (const std::string& key : MatchKeys(name)) {
      auto found = ids_by_key_.find(key);
      if (found != ids_by_key_.end()) {
        for (const std::string& id : found->second) {
          if (std::find(ids.begin(), ids.end(), id) == ids.end()) {
            ids.push_back(id);
          }
        }
      }
      auto refused = refused_lines_.find(key);
      if (refused != refused_lines_.end() && !refused_line.has_value()) {
        refused_line = refused->second;
      }
    }
    if (ids.empty()) {
      if (refused_line.has_value()) {
        return InvalidField(
            "organization",
            absl::StrCat(Shown(name),
                         " was not imported (see organizations line ",
                         *refused_line, ")"));
      }
      return InvalidField("organization", absl::StrCat("no organization is "
                                                       "named ",
                                                       Shown(name)));
    }
    if (ids.size() > 1) {
      return InvalidField(
          "organization",
          absl::StrCat(Shown(name), " names ", ids.size(), " organizations (",
                       absl::StrJoin(ids, ", "),
                       "); create this participant with CreateParticipant "
                       "and an organization_id"));
    }
    return ids[0];
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

    // Each row's fields (ParticipantMatchFields), flattened for one lookup.
    std::vector<std::string> fields;
    std::vector<size_t> first_field;
    for (const ParticipantRow& row : rows) {
      first_field.push_back(fields.size());
      for (std::string& field : ParticipantMatchFields(row.participant)) {
        fields.push_back(std::move(field));
      }
    }
    first_field.push_back(fields.size());
    TH_ASSIGN_OR_RETURN(std::vector<std::string> stored,
                        store_.LookupParticipants(fields));

    // The script's rule, also between rows of the file: by email when the
    // row has one, else by name within the organization.
    absl::flat_hash_map<std::string, std::string> id_by_field;
    std::vector<v1::Participant> creates;
    std::vector<size_t> create_rows;
    for (size_t i = 0; i < rows.size(); ++i) {
      v1::Participant& p = rows[i].participant;
      bool existing = false;
      for (size_t f = first_field[i]; f < first_field[i + 1]; ++f) {
        existing =
            existing || id_by_field.contains(fields[f]) || !stored[f].empty();
      }
      if (existing) {
        response_->set_participants_existing(
            response_->participants_existing() + 1);
        continue;
      }
      SetServerFields(caller_, &p);
      if (!p.email().empty()) {
        id_by_field.emplace(ParticipantEmailField(p.email()), p.id());
      }
      for (std::string& field : ParticipantNameFields(p)) {
        id_by_field.emplace(std::move(field), p.id());
      }
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

absl::Status DirectoryImportLogic::ImportDirectory(
    const Principal& caller, Redis& redis,
    const v1::ImportDirectoryRequest& request,
    v1::ImportDirectoryResponse* response) const {
  // Both headers are checked before anything is written.
  TH_ASSIGN_OR_RETURN(
      std::optional<ImportFile> organizations,
      ParseImportFile("organizations_csv", request.organizations_csv(),
                      OrgRequiredColumns(), OrgOptionalColumns(),
                      /*localized=*/true));
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
