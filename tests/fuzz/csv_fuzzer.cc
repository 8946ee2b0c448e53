// Fuzzes the CSV import parser (services/common/csv.h) with whole uploads,
// and checks what csv.h promises: good rows have one field per header
// column and hold valid UTF-8, the header is unique, errors come in line
// order, and a row written back with CsvRecord parses to the same fields.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "services/common/csv.h"
#include "services/common/validation.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using townhall::CsvOptions;
using townhall::CsvTable;

// What CsvRecord writes for `field` reads back as: as csv.h promises, cells
// (and header names) that start with = + - @, a tab, CR or NUL get an
// apostrophe (CSV injection).
std::string Defused(const std::string& field) {
  constexpr absl::string_view kFormulaStarts("=+-@\t\r\0", 7);
  if (!field.empty() &&
      kFormulaStarts.find(field[0]) != absl::string_view::npos) {
    return "'" + field;
  }
  return field;
}

void CheckTable(const CsvTable& table) {
  std::set<std::string> names(table.header.begin(), table.header.end());
  FUZZ_CHECK(names.size() == table.header.size());
  FUZZ_CHECK(names.count("") == 0);
  int last_line = 0;
  for (const townhall::CsvError& error : table.errors) {
    FUZZ_CHECK(error.line >= last_line);
    last_line = error.line;
  }
  for (const townhall::CsvRow& row : table.rows) {
    FUZZ_CHECK(row.fields.size() == table.header.size());
    for (const std::string& field : row.fields) {
      FUZZ_CHECK(townhall::CountCodePoints("field", field).ok());
    }
  }
}

// Writes the header and the first row back and parses them again.
void CheckRoundTrip(const CsvTable& table) {
  if (table.rows.empty()) return;
  // A first name starting with U+FEFF would be written as a byte order
  // mark, which ParseCsv skips, as it should at the start of a file.
  if (absl::StartsWith(table.header.front(), "\xEF\xBB\xBF")) return;
  const std::vector<std::string>& fields = table.rows.front().fields;
  const std::string text =
      townhall::CsvRecord(table.header) + townhall::CsvRecord(fields);
  CsvOptions options;
  options.max_field_chars += 1;  // room for the apostrophe
  absl::StatusOr<CsvTable> again = townhall::ParseCsv(text, options);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->errors.empty());
  FUZZ_CHECK(again->rows.size() == 1);
  for (size_t i = 0; i < fields.size(); ++i) {
    FUZZ_CHECK(again->header[i] == Defused(table.header[i]));
    FUZZ_CHECK(again->rows[0].fields[i] == Defused(fields[i]));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  for (char delimiter : {',', ';'}) {
    CsvOptions options;
    options.delimiter = delimiter;
    absl::StatusOr<CsvTable> table = townhall::ParseCsv(text, options);
    if (!table.ok()) continue;
    CheckTable(*table);
    if (delimiter == ',') CheckRoundTrip(*table);
    (void)townhall::MapColumns(table->header, {"name", "email"}, {"phone"});
  }
  return 0;
}
