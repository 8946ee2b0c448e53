#include "services/common/csv.h"

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "services/common/validation.h"

namespace townhall {
namespace {

constexpr absl::string_view kUtf8Bom = "\xEF\xBB\xBF";

// The cell starts a spreadsheet may run as a formula: OWASP's = + - @, tab
// and CR, plus NUL (ASVS 1.2.10). '-' whatever follows, so "-5" too:
// "-2+3+cmd|' /C calc'!A0" starts like a negative number. CsvRecord puts an
// apostrophe before them; CsvOptions::undo_defusing takes it off.
constexpr absl::string_view kFormulaStarts("=+-@\t\r\0", 7);

bool StartsLikeAFormula(absl::string_view field) {
  return !field.empty() &&
         kFormulaStarts.find(field.front()) != absl::string_view::npos;
}

// One record as split by the tokenizer, before any per-field checks.
struct RawRecord {
  int line = 0;
  std::vector<std::string> fields;
  // The first structural problem (a stray quote), empty if none. The record
  // is still split so that the following records keep their boundaries.
  std::string problem;
  // Set when input ended inside a quoted field opened at `quote_line`.
  bool unterminated = false;
  int quote_line = 0;

  bool AllEmpty() const {
    for (const std::string& field : fields) {
      if (!field.empty()) return false;
    }
    return true;
  }
};

// Splits RFC 4180 records, counting physical lines (LF or CRLF) so that each
// record knows where it starts even after multi-line quoted fields.
class Tokenizer {
 public:
  Tokenizer(absl::string_view text, char delimiter)
      : text_(text), delimiter_(delimiter) {}

  // Reads the next record; false at end of input.
  bool Next(RawRecord* record) {
    if (pos_ >= text_.size()) return false;
    *record = RawRecord();
    record->line = line_;
    enum class State { kFieldStart, kUnquoted, kQuoted, kAfterQuote };
    State state = State::kFieldStart;
    std::string field;
    auto set_problem = [&](absl::string_view problem) {
      if (record->problem.empty()) record->problem = std::string(problem);
    };
    while (pos_ < text_.size()) {
      char c = text_[pos_++];
      if (state == State::kQuoted) {
        if (c == '"') {
          if (pos_ < text_.size() && text_[pos_] == '"') {
            field += '"';
            ++pos_;
          } else {
            state = State::kAfterQuote;
          }
        } else {
          if (c == '\n') ++line_;
          field += c;
        }
        continue;
      }
      if (state == State::kFieldStart && c == '"') {
        state = State::kQuoted;
        record->quote_line = line_;
        continue;
      }
      if (c == delimiter_) {
        record->fields.push_back(std::move(field));
        field.clear();
        state = State::kFieldStart;
        continue;
      }
      // A CR counts as a line end only before LF or at the end of input;
      // elsewhere it is data, like any other byte.
      if (c == '\n' ||
          (c == '\r' && (pos_ == text_.size() || text_[pos_] == '\n'))) {
        if (c == '\r' && pos_ < text_.size()) ++pos_;
        ++line_;
        record->fields.push_back(std::move(field));
        return true;
      }
      // Lenient recovery for malformed quoting: keep the byte, flag the row.
      if (state == State::kAfterQuote) {
        set_problem("unexpected character after a closing quote");
      } else if (c == '"') {
        set_problem(
            "quote inside an unquoted field (enclose the field in quotes and "
            "double the quote)");
      }
      state = State::kUnquoted;
      field += c;
    }
    record->unterminated = state == State::kQuoted;
    record->fields.push_back(std::move(field));
    return true;
  }

 private:
  absl::string_view text_;
  char delimiter_;
  size_t pos_ = 0;
  int line_ = 1;
};

std::string Quoted(absl::string_view name) {
  return absl::StrCat("\"", absl::Utf8SafeCHexEscape(name), "\"");
}

// Returns an error reason for the field ("<label>: <reason>"), or an empty
// string if it is fine.
std::string CheckField(absl::string_view label, absl::string_view value,
                       size_t max_chars) {
  std::string field(label);
  std::string too_long =
      absl::StrCat(field, ": must be at most ", max_chars, " characters");
  // Cheap bound first: a code point takes at most 4 bytes.
  if (value.size() > max_chars * 4) return too_long;
  absl::StatusOr<size_t> chars = CountCodePoints(field, value);
  if (!chars.ok()) return std::string(chars.status().message());
  if (*chars > max_chars) return too_long;
  return "";
}

absl::Status InvalidCsv(int line, absl::string_view reason) {
  return InvalidField("csv", absl::StrCat("line ", line, ": ", reason));
}

absl::StatusOr<std::vector<std::string>> ParseHeader(
    const RawRecord& record, const CsvOptions& options) {
  if (record.unterminated) {
    return InvalidCsv(record.quote_line, "unterminated quote in the header");
  }
  if (!record.problem.empty()) {
    return InvalidCsv(record.line, absl::StrCat("header: ", record.problem));
  }
  std::vector<std::string> header;
  std::set<std::string> seen;
  for (size_t i = 0; i < record.fields.size(); ++i) {
    std::string column = absl::StrCat("header column ", i + 1);
    std::string problem =
        CheckField(column, record.fields[i], options.max_field_chars);
    if (!problem.empty()) return InvalidCsv(record.line, problem);
    std::string name =
        absl::AsciiStrToLower(absl::StripAsciiWhitespace(record.fields[i]));
    if (name.empty()) {
      return InvalidCsv(record.line, absl::StrCat(column, " has no name"));
    }
    if (!seen.insert(name).second) {
      return InvalidCsv(record.line,
                        absl::StrCat("duplicate column ", Quoted(name)));
    }
    header.push_back(std::move(name));
  }
  return header;
}

// Returns the first problem of a data record, or an empty string.
std::string CheckRecord(const RawRecord& record,
                        const std::vector<std::string>& header,
                        const CsvOptions& options) {
  if (!record.problem.empty()) return record.problem;
  if (record.fields.size() != header.size()) {
    return absl::StrCat("expected ", header.size(), " fields, found ",
                        record.fields.size());
  }
  for (size_t i = 0; i < header.size(); ++i) {
    std::string problem = CheckField(absl::StrCat("column ", Quoted(header[i])),
                                     record.fields[i], options.max_field_chars);
    if (!problem.empty()) return problem;
  }
  return "";
}

}  // namespace

absl::StatusOr<CsvTable> ParseCsv(absl::string_view text,
                                  const CsvOptions& options) {
  if (text.size() > options.max_bytes) {
    return InvalidField(
        "csv", absl::StrCat("must be at most ", options.max_bytes, " bytes"));
  }
  char delimiter = options.delimiter;
  if (delimiter == '"' || delimiter == '\r' || delimiter == '\n' ||
      static_cast<unsigned char>(delimiter) >= 0x80) {
    return absl::InvalidArgumentError("csv: unsupported delimiter");
  }
  absl::ConsumePrefix(&text, kUtf8Bom);

  Tokenizer tokenizer(text, delimiter);
  RawRecord record;
  CsvTable table;
  bool have_header = false;
  size_t data_records = 0;
  while (tokenizer.Next(&record)) {
    if (!record.unterminated && record.AllEmpty()) continue;
    if (!have_header) {
      absl::StatusOr<std::vector<std::string>> header =
          ParseHeader(record, options);
      if (!header.ok()) return header.status();
      table.header = *std::move(header);
      have_header = true;
      continue;
    }
    if (++data_records > options.max_rows) {
      return InvalidField(
          "csv", absl::StrCat("must have at most ", options.max_rows, " rows"));
    }
    if (record.unterminated) {
      // Everything after the opening quote is one field: nothing after it
      // can be trusted, so stop here with a single error.
      table.errors.push_back({record.quote_line,
                              "unterminated quote: the closing quote is "
                              "missing"});
      break;
    }
    if (options.undo_defusing) {
      for (std::string& field : record.fields) {
        if (field.size() > 1 && field.front() == '\'' &&
            StartsLikeAFormula(absl::string_view(field).substr(1))) {
          field.erase(0, 1);
        }
      }
    }
    std::string problem = CheckRecord(record, table.header, options);
    if (!problem.empty()) {
      table.errors.push_back({record.line, std::move(problem)});
      continue;
    }
    table.rows.push_back({record.line, std::move(record.fields)});
  }
  if (!have_header) return InvalidField("csv", "has no header line");
  return table;
}

absl::StatusOr<std::vector<int>> MapColumns(
    const std::vector<std::string>& header,
    const std::vector<std::string>& required,
    const std::vector<std::string>& optional) {
  std::map<std::string, int> index;
  for (size_t i = 0; i < header.size(); ++i) {
    index.emplace(header[i], static_cast<int>(i));
  }
  std::vector<int> columns;
  std::vector<std::string> missing;
  std::set<std::string> requested;
  for (const std::string& name : required) {
    requested.insert(name);
    auto it = index.find(name);
    if (it == index.end()) {
      missing.push_back(Quoted(name));
      columns.push_back(-1);
    } else {
      columns.push_back(it->second);
    }
  }
  for (const std::string& name : optional) {
    requested.insert(name);
    auto it = index.find(name);
    columns.push_back(it == index.end() ? -1 : it->second);
  }
  std::vector<std::string> unknown;
  for (const std::string& name : header) {
    if (requested.count(name) == 0) unknown.push_back(Quoted(name));
  }
  // Both lists in one message: a typo usually shows up as one of each.
  std::vector<std::string> problems;
  if (!missing.empty()) {
    problems.push_back(absl::StrCat("missing required column",
                                    missing.size() > 1 ? "s " : " ",
                                    absl::StrJoin(missing, ", ")));
  }
  if (!unknown.empty()) {
    problems.push_back(absl::StrCat("unknown column",
                                    unknown.size() > 1 ? "s " : " ",
                                    absl::StrJoin(unknown, ", ")));
  }
  if (!problems.empty()) {
    return InvalidField("csv header", absl::StrJoin(problems, "; "));
  }
  return columns;
}

std::string CsvRecord(absl::Span<const std::string> fields) {
  // RFC 4180 quotes fields with a comma, quote, CR or LF; ';' and tab are
  // quoted too, so a spreadsheet that splits on them cannot start a new
  // cell (that might start with '=') inside the field.
  constexpr absl::string_view kNeedsQuotes(",;\"\t\r\n");
  std::string out;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out += ',';
    absl::string_view field = fields[i];
    const bool defuse = StartsLikeAFormula(field);
    const bool quote =
        field.find_first_of(kNeedsQuotes) != absl::string_view::npos;
    if (quote) out += '"';
    if (defuse) out += '\'';
    for (char c : field) {
      if (c == '"') out += '"';
      out += c;
    }
    if (quote) out += '"';
  }
  out += "\r\n";
  return out;
}

}  // namespace townhall
