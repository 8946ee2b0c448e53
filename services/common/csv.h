// CSV parsing for bulk imports (RFC 4180), e.g. organizations and
// participants exported from a spreadsheet. Problems with the file as a whole
// fail the call; problems with one row are collected with the row's line
// number, so the user can fix every bad row in one pass:
//
//   absl::StatusOr<CsvTable> table = ParseCsv(upload, CsvOptions{});
//   if (!table.ok()) return table.status();
//   absl::StatusOr<std::vector<int>> columns =
//       MapColumns(table->header, {"name", "email"}, {"phone"});
//   if (!columns.ok()) return columns.status();
//   for (const CsvRow& row : table->rows) {
//     const std::string& email = row.fields[(*columns)[1]];
//     int phone = (*columns)[2];  // -1: the file has no "phone" column
//     ...
//   }
//   for (const CsvError& error : table->errors) {
//     // "line 7: expected 5 fields, found 4"
//   }
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace townhall {

struct CsvOptions {
  // Whole-input limits: exceeding them fails the call.
  size_t max_bytes = 4 << 20;
  // Data records after the header, bad ones included.
  size_t max_rows = 10000;
  // Per field, in Unicode code points: a longer field is a row error.
  size_t max_field_chars = 2000;
  // Must be ASCII and not a quote, CR or LF (e.g. ';' for some locales).
  char delimiter = ',';
  // Reads a data cell that CsvRecord defused as the value it holds: one
  // leading apostrophe before = + - @, a tab, CR or NUL is dropped ("'+49 30"
  // reads "+49 30"), so that a file townhall wrote imports as the values it
  // exported. A cell typed with such an apostrophe of its own loses it too.
  bool undo_defusing = false;
};

struct CsvRow {
  int line = 0;  // 1-based physical line where the record starts
  // Byte-exact field values, quotes removed ("" becomes "). A newline inside
  // a quoted field is kept as written (LF or CRLF).
  std::vector<std::string> fields;
};

struct CsvError {
  int line;            // 1-based physical line where the record starts
  std::string reason;  // e.g. "expected 5 fields, found 4"
};

struct CsvTable {
  // Column names, trimmed and ASCII-lowercased; unique and non-empty.
  std::vector<std::string> header;
  // Good records only; each has header.size() fields, valid UTF-8.
  std::vector<CsvRow> rows;
  // One entry per bad record, in line order. A bad record is not in `rows`.
  std::vector<CsvError> errors;
};

// Parses `text` as CSV whose first non-blank record is the header. A UTF-8
// BOM at the start is skipped. Blank lines, and records whose fields are all
// empty (",,," as spreadsheets export trailing rows), are skipped.
//
// INVALID_ARGUMENT for whole-input problems: more than max_bytes or max_rows,
// no header, a malformed header (invalid UTF-8, empty or duplicate names).
// Row problems go to `errors`: a wrong number of fields, a field that is not
// valid UTF-8 or longer than max_field_chars, a stray quote. An unterminated
// quote is reported at the line where it opened and ends parsing, since the
// rest of the input is inside that field.
absl::StatusOr<CsvTable> ParseCsv(absl::string_view text,
                                  const CsvOptions& options);

// Maps the columns the caller needs to their indexes in `header`: the result
// has one entry per name in `required`, then one per name in `optional` (-1
// if the header lacks it). Names are compared exactly, so pass them lowercase.
// INVALID_ARGUMENT names every missing required column and every header
// column that was not requested, so that a typo ("emial") cannot silently
// drop data.
absl::StatusOr<std::vector<int>> MapColumns(
    const std::vector<std::string>& header,
    const std::vector<std::string>& required,
    const std::vector<std::string>& optional);

// Returns one CSV record (RFC 4180), ending with CRLF. Every CSV the server
// writes is made of these records, so that all of it is defused against CSV
// injection (OWASP) in one place:
//  - A field that starts with = + - @, a tab, CR or NUL gets a leading
//    apostrophe, so that a spreadsheet shows it as text instead of running
//    it as a formula. A negative number ("-5") too: it cannot be told from
//    "-2+3+cmd|..." without a formula parser, and the numbers the server
//    writes itself are never negative.
//  - A field with a comma, quote, CR, LF, ';' or tab is quoted, quotes
//    doubled: a spreadsheet that splits on ';' or tab cannot start a new
//    cell inside it.
// Stored values stay as typed; only the output is defused.
std::string CsvRecord(absl::Span<const std::string> fields);

}  // namespace townhall
