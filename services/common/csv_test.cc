// CSV parsing for bulk imports: RFC 4180 quoting, line numbers, per-row
// errors, whole-input limits and header mapping.
#include "services/common/csv.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace townhall {
namespace {

using Strings = std::vector<std::string>;
using Ints = std::vector<int>;

const CsvOptions kDefaults;

CsvTable ParseOk(absl::string_view text,
                 const CsvOptions& options = kDefaults) {
  absl::StatusOr<CsvTable> table = ParseCsv(text, options);
  EXPECT_TRUE(table.ok()) << table.status();
  return table.ok() ? *std::move(table) : CsvTable();
}

void ExpectInvalid(const absl::Status& status, const std::string& part) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), part)) << status;
}

std::vector<int> Lines(const CsvTable& table) {
  std::vector<int> lines;
  for (const CsvRow& row : table.rows) lines.push_back(row.line);
  return lines;
}

TEST(ParseCsv, SimpleTable) {
  CsvTable table = ParseOk("name,email\nAlice,a@x.uz\nBob,b@x.uz\n");
  EXPECT_EQ(table.header, (Strings{"name", "email"}));
  ASSERT_EQ(table.rows.size(), 2u);
  EXPECT_EQ(table.rows[0].line, 2);
  EXPECT_EQ(table.rows[0].fields, (Strings{"Alice", "a@x.uz"}));
  EXPECT_EQ(table.rows[1].line, 3);
  EXPECT_EQ(table.rows[1].fields, (Strings{"Bob", "b@x.uz"}));
  EXPECT_TRUE(table.errors.empty());
}

TEST(ParseCsv, TrailingNewlineOptional) {
  CsvTable table = ParseOk("a,b\n1,2");
  ASSERT_EQ(table.rows.size(), 1u);
  EXPECT_EQ(table.rows[0].fields, (Strings{"1", "2"}));
}

TEST(ParseCsv, HeaderTrimmedAndLowercased) {
  CsvTable table = ParseOk(" Name , EMAIL\t\nx,y\n");
  EXPECT_EQ(table.header, (Strings{"name", "email"}));
  // Data is byte-exact, not trimmed.
  table = ParseOk("a,b\n x , y \n");
  EXPECT_EQ(table.rows[0].fields, (Strings{" x ", " y "}));
}

TEST(ParseCsv, QuotedFields) {
  CsvTable table = ParseOk(
      "name,note\n"
      "\"Acme, Inc.\",\"say \"\"hi\"\"\"\n"
      "\"multi\nline\",\"a\n\nb\"\n"
      "\"\",plain\n"
      "after,newlines\n");
  EXPECT_TRUE(table.errors.empty());
  ASSERT_EQ(table.rows.size(), 4u);
  EXPECT_EQ(table.rows[0].fields, (Strings{"Acme, Inc.", "say \"hi\""}));
  EXPECT_EQ(table.rows[1].fields, (Strings{"multi\nline", "a\n\nb"}));
  EXPECT_EQ(table.rows[2].fields, (Strings{"", "plain"}));
  // Three embedded newlines: the record spans lines 3-6, so the next records
  // start at lines 7 and 8.
  EXPECT_EQ(Lines(table), (Ints{2, 3, 7, 8}));
}

TEST(ParseCsv, Crlf) {
  CsvTable table = ParseOk(
      "name,note\r\n"
      "a,\"x\r\ny\"\r\n"
      "b,z\r\n");
  EXPECT_EQ(table.header, (Strings{"name", "note"}));
  ASSERT_EQ(table.rows.size(), 2u);
  // The newline inside quotes is kept as written.
  EXPECT_EQ(table.rows[0].fields, (Strings{"a", "x\r\ny"}));
  EXPECT_EQ(table.rows[1].fields, (Strings{"b", "z"}));
  EXPECT_EQ(Lines(table), (Ints{2, 4}));
}

TEST(ParseCsv, BomSkipped) {
  CsvTable table = ParseOk("\xEF\xBB\xBFname,email\nx,y\n");
  EXPECT_EQ(table.header, (Strings{"name", "email"}));
  EXPECT_EQ(table.rows.size(), 1u);
}

TEST(ParseCsv, CyrillicAndUzbekLatinPreserved) {
  const std::string org = "Oʻzbekiston Respublikasi";  // U+02BB okina
  const std::string city = "Ташкент";
  const std::string quoted = "«Ёшлар», ўғил";
  CsvTable table = ParseOk(absl::StrCat("organization,city,note\n", org, ",",
                                        city, ",\"", quoted, "\"\n"));
  ASSERT_EQ(table.rows.size(), 1u);
  EXPECT_EQ(table.rows[0].fields[0], org);
  EXPECT_EQ(table.rows[0].fields[1], city);
  EXPECT_EQ(table.rows[0].fields[2], quoted);
  // The okina stays U+02BB (CA BB), not normalized to an apostrophe.
  EXPECT_EQ(table.rows[0].fields[0], "O\xCA\xBBzbekiston Respublikasi");
}

TEST(ParseCsv, WrongFieldCountReportedOthersKept) {
  CsvTable table = ParseOk(
      "a,b,c,d,e\n"
      "1,2,3,4,5\n"
      "1,2,3,4\n"
      "1,2,3,4,5,6\n"
      "1,2,3,4,5\n");
  EXPECT_EQ(Lines(table), (Ints{2, 5}));
  ASSERT_EQ(table.errors.size(), 2u);
  EXPECT_EQ(table.errors[0].line, 3);
  EXPECT_EQ(table.errors[0].reason, "expected 5 fields, found 4");
  EXPECT_EQ(table.errors[1].line, 4);
  EXPECT_EQ(table.errors[1].reason, "expected 5 fields, found 6");
}

TEST(ParseCsv, InvalidUtf8NamesLineAndColumn) {
  CsvTable table = ParseOk(
      "name,email\n"
      "ok,ok@x.uz\n"
      "bad,\xC3\x28@x.uz\n"
      "ok2,ok2@x.uz\n");
  EXPECT_EQ(Lines(table), (Ints{2, 4}));
  ASSERT_EQ(table.errors.size(), 1u);
  EXPECT_EQ(table.errors[0].line, 3);
  EXPECT_EQ(table.errors[0].reason, "column \"email\": is not valid UTF-8");
}

TEST(ParseCsv, UnterminatedQuoteReportedWhereItOpened) {
  CsvTable table = ParseOk(
      "name,note\n"
      "a,b\n"
      "c,\"never closed\n"
      "d,e\n"
      "f,g\n");
  EXPECT_EQ(Lines(table), (Ints{2}));
  ASSERT_EQ(table.errors.size(), 1u);
  EXPECT_EQ(table.errors[0].line, 3);
  EXPECT_TRUE(absl::StrContains(table.errors[0].reason, "unterminated quote"))
      << table.errors[0].reason;
}

TEST(ParseCsv, UnterminatedQuoteInHeaderIsInvalid) {
  ExpectInvalid(ParseCsv("name,\"note\nx,y\n", kDefaults).status(),
                "unterminated quote");
}

TEST(ParseCsv, StrayQuotesAreRowErrors) {
  CsvTable table = ParseOk(
      "name,note\n"
      "\"a\"b,c\n"
      "a\"b,c\n"
      "ok,ok\n");
  EXPECT_EQ(Lines(table), (Ints{4}));
  ASSERT_EQ(table.errors.size(), 2u);
  EXPECT_EQ(table.errors[0].line, 2);
  EXPECT_TRUE(
      absl::StrContains(table.errors[0].reason, "after a closing quote"))
      << table.errors[0].reason;
  EXPECT_EQ(table.errors[1].line, 3);
  EXPECT_TRUE(
      absl::StrContains(table.errors[1].reason, "quote inside an unquoted"))
      << table.errors[1].reason;
}

TEST(ParseCsv, OverLongFieldCountsCodePoints) {
  CsvOptions options;
  options.max_field_chars = 5;
  // Five Cyrillic letters are ten bytes but five characters: fine.
  CsvTable table =
      ParseOk("name\nАбвгд\nАбвгде\nabcdefghijklmnopqrstuvwxyz\n", options);
  EXPECT_EQ(Lines(table), (Ints{2}));
  ASSERT_EQ(table.errors.size(), 2u);
  EXPECT_EQ(table.errors[0].line, 3);
  EXPECT_EQ(table.errors[0].reason,
            "column \"name\": must be at most 5 characters");
  EXPECT_EQ(table.errors[1].line, 4);
}

TEST(ParseCsv, BlankLinesSkipped) {
  CsvTable table = ParseOk("\n\r\nname,email\n\na,b\n\r\n,\nc,d\n\n\n");
  EXPECT_EQ(table.header, (Strings{"name", "email"}));
  EXPECT_EQ(Lines(table), (Ints{5, 8}));
  EXPECT_TRUE(table.errors.empty());
}

TEST(ParseCsv, MaxRows) {
  CsvOptions options;
  options.max_rows = 2;
  EXPECT_EQ(ParseOk("a\n1\n2\n", options).rows.size(), 2u);
  ExpectInvalid(ParseCsv("a\n1\n2\n3\n", options).status(), "at most 2 rows");
}

TEST(ParseCsv, MaxBytes) {
  CsvOptions options;
  options.max_bytes = 10;
  EXPECT_TRUE(ParseCsv("a\n12345678", options).ok());
  ExpectInvalid(ParseCsv("a\n123456789", options).status(), "at most 10 bytes");
}

TEST(ParseCsv, EmptyInputHasNoHeader) {
  ExpectInvalid(ParseCsv("", kDefaults).status(), "no header");
  ExpectInvalid(ParseCsv("\xEF\xBB\xBF\n\r\n", kDefaults).status(),
                "no header");
}

TEST(ParseCsv, HeaderOnly) {
  CsvTable table = ParseOk("name,email\n");
  EXPECT_EQ(table.header, (Strings{"name", "email"}));
  EXPECT_TRUE(table.rows.empty());
  EXPECT_TRUE(table.errors.empty());
}

TEST(ParseCsv, BadHeaders) {
  ExpectInvalid(ParseCsv("name,Name\n", kDefaults).status(),
                "duplicate column \"name\"");
  ExpectInvalid(ParseCsv("name,\xFF\n", kDefaults).status(),
                "is not valid UTF-8");
  ExpectInvalid(ParseCsv("name, ,email\n", kDefaults).status(),
                "header column 2 has no name");
}

TEST(ParseCsv, OtherDelimiter) {
  CsvOptions options;
  options.delimiter = ';';
  CsvTable table = ParseOk("a;b\n\"1;2\";3,4\n", options);
  ASSERT_EQ(table.rows.size(), 1u);
  EXPECT_EQ(table.rows[0].fields, (Strings{"1;2", "3,4"}));
  options.delimiter = '"';
  EXPECT_FALSE(ParseCsv("a\n", options).ok());
}

TEST(ParseCsv, FiveBadRowsAmongGoodOnes) {
  CsvOptions options;
  options.max_field_chars = 20;
  const std::string text = absl::StrCat(
      "name,organization,city,email,phone\n",                 // 1
      "Alisher,Oʻzbekiston Pochtasi,Toshkent,a@x.uz,+998\n",  // 2
      "Дильноза,\"ООО \"\"Ташкент\"\"\",Ташкент,d@x.uz,\n",   // 3
      "Bekzod,Acme,Samarqand,b@x.uz\n",                       // 4: count
      "\"Gulnora\nKarimova\",Acme,Buxoro,g@x.uz,\n",          // 5-6
      "Rustam,Acme,Xiva\xFF,r@x.uz,\n",                       // 7: UTF-8
      "\n",                                                   // 8
      "Sardor,Acme,Xiva,s@x.uz,+998,extra\n",                 // 9: count
      "Nodira,Acme,Nukus,nodira.very.long.address@x.uz,\n",   // 10: long
      "Jasur,\"Acme\" Ltd,Qarshi,j@x.uz,\n",                  // 11: quote
      "Шахноза,Acme,Андижон,sh@x.uz,+998\n");                 // 12
  CsvTable table = ParseOk(text, options);
  EXPECT_EQ(Lines(table), (Ints{2, 3, 5, 12}));
  EXPECT_EQ(table.rows[1].fields[1], "ООО \"Ташкент\"");
  EXPECT_EQ(table.rows[2].fields[0], "Gulnora\nKarimova");
  ASSERT_EQ(table.errors.size(), 5u);
  std::vector<int> error_lines;
  for (const CsvError& error : table.errors) error_lines.push_back(error.line);
  EXPECT_EQ(error_lines, (Ints{4, 7, 9, 10, 11}));
  EXPECT_EQ(table.errors[0].reason, "expected 5 fields, found 4");
  EXPECT_EQ(table.errors[1].reason, "column \"city\": is not valid UTF-8");
  EXPECT_EQ(table.errors[2].reason, "expected 5 fields, found 6");
  EXPECT_EQ(table.errors[3].reason,
            "column \"email\": must be at most 20 characters");
  EXPECT_TRUE(
      absl::StrContains(table.errors[4].reason, "after a closing quote"))
      << table.errors[4].reason;
}

TEST(MapColumns, RequiredThenOptional) {
  absl::StatusOr<std::vector<int>> columns = MapColumns(
      {"email", "phone", "name"}, {"name", "email"}, {"phone", "city"});
  ASSERT_TRUE(columns.ok()) << columns.status();
  EXPECT_EQ(*columns, (Ints{2, 0, 1, -1}));
}

TEST(MapColumns, MissingRequired) {
  absl::Status status =
      MapColumns({"name"}, {"name", "email"}, {"phone"}).status();
  ExpectInvalid(status, "missing required column \"email\"");
}

TEST(MapColumns, UnknownColumn) {
  absl::Status status =
      MapColumns({"name", "email", "emial"}, {"name", "email"}, {}).status();
  ExpectInvalid(status, "unknown column \"emial\"");
}

TEST(MapColumns, TypoReportsBothSides) {
  absl::Status status =
      MapColumns({"name", "emial"}, {"name", "email"}, {}).status();
  ExpectInvalid(status, "missing required column \"email\"");
  ExpectInvalid(status, "unknown column \"emial\"");
}

}  // namespace
}  // namespace townhall

namespace townhall {
namespace {

TEST(CsvRecordTest, QuotesWhatNeedsItAndDefusesFormulas) {
  EXPECT_EQ(CsvRecord({"plain", "Oʻzbekiston"}), "plain,Oʻzbekiston\r\n");
  EXPECT_EQ(CsvRecord({"a,b", "say \"hi\"", "two\nlines"}),
            "\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\"\r\n");
  EXPECT_EQ(CsvRecord({"=HYPERLINK(\"x\")", "+1", "-2", "@SUM(A1)"}),
            "\"'=HYPERLINK(\"\"x\"\")\",'+1,'-2,'@SUM(A1)\r\n");
  EXPECT_EQ(CsvRecord({"", ""}), ",\r\n");
  // What ParseCsv reads back is what was written.
  absl::StatusOr<CsvTable> table =
      ParseCsv(CsvRecord({"h1", "h2"}) + CsvRecord({"a,b", "c\"d"}), {});
  ASSERT_TRUE(table.ok()) << table.status();
  ASSERT_EQ(table->rows.size(), 1u);
  EXPECT_EQ(table->rows[0].fields[0], "a,b");
  EXPECT_EQ(table->rows[0].fields[1], "c\"d");
}

// OWASP's list of cell starts that a spreadsheet may run as a formula: = + -
// @, tab and CR (ASVS adds NUL). Each gets a leading apostrophe, whatever
// follows; also '-' before a digit: a negative number is defused like
// "-2+3+cmd|' /C calc'!A0" is, since telling them apart takes a parser.
TEST(CsvRecordTest, DefusesEveryFormulaStartIncludingTabCrAndNegativeNumbers) {
  EXPECT_EQ(CsvRecord({"\t=1+2"}), "\"'\t=1+2\"\r\n");
  EXPECT_EQ(CsvRecord({"\r=1+2"}), "\"'\r=1+2\"\r\n");
  EXPECT_EQ(CsvRecord({std::string("\0=1+2", 5)}),
            std::string("'\0=1+2\r\n", 8));
  EXPECT_EQ(CsvRecord({"-5"}), "'-5\r\n");
  EXPECT_EQ(CsvRecord({"-2+3+cmd|' /C calc'!A0"}),
            "'-2+3+cmd|' /C calc'!A0\r\n");
  // Only the first character counts.
  EXPECT_EQ(CsvRecord({"1-2", "a=b", " =1"}), "1-2,a=b, =1\r\n");
}

// A spreadsheet set to ';' (or tab) as the separator would split an unquoted
// "x;=1+2" into a second cell that starts with '='. Fields with ';' or a tab
// are quoted, so any separator keeps them whole (OWASP's second rule).
TEST(CsvRecordTest, QuotesOtherSeparatorsSoNoNewCellStartsInside) {
  EXPECT_EQ(CsvRecord({"x;=1+2", "y\t@SUM(A1)"}),
            "\"x;=1+2\",\"y\t@SUM(A1)\"\r\n");
}

// Everything ParseCsv reads back equals the written value, apart from the
// apostrophe of a defused cell.
TEST(CsvRecordTest, RoundTripsThroughParseCsv) {
  const std::vector<std::string> values = {
      "a,b", "c\"d", "x;y", "tab\there", "two\r\nlines", "=1+2", "\t@x"};
  std::vector<std::string> header;
  for (size_t i = 0; i < values.size(); ++i) {
    header.push_back(absl::StrCat("h", i));
  }
  absl::StatusOr<CsvTable> table =
      ParseCsv(CsvRecord(header) + CsvRecord(values), {});
  ASSERT_TRUE(table.ok()) << table.status();
  ASSERT_EQ(table->rows.size(), 1u);
  std::vector<std::string> expected = values;
  expected[5] = "'=1+2";
  expected[6] = "'\t@x";
  EXPECT_EQ(table->rows[0].fields, expected);
}

// With undo_defusing, what CsvRecord wrote reads back as the values it
// holds, so that an export re-imports unchanged (ImportDirectory).
TEST(CsvRecordTest, UndoDefusingReadsBackTheWrittenValues) {
  const std::vector<std::string> values = {"=HYPERLINK(\"x\")",
                                           "+49 30 5550101",
                                           "-5",
                                           "@SUM(A1)",
                                           "\t=1",
                                           "plain",
                                           "it's",
                                           "'",
                                           "'plain"};
  std::vector<std::string> header;
  for (size_t i = 0; i < values.size(); ++i) {
    header.push_back(absl::StrCat("h", i));
  }
  CsvOptions options;
  options.undo_defusing = true;
  absl::StatusOr<CsvTable> table =
      ParseCsv(CsvRecord(header) + CsvRecord(values), options);
  ASSERT_TRUE(table.ok()) << table.status();
  ASSERT_EQ(table->rows.size(), 1u);
  EXPECT_EQ(table->rows[0].fields, values);
  // Only one apostrophe, and only before a formula start.
  table = ParseCsv("a,b,c\n''=1,'x,'\n", options);
  ASSERT_TRUE(table.ok()) << table.status();
  ASSERT_EQ(table->rows.size(), 1u);
  EXPECT_EQ(table->rows[0].fields,
            (std::vector<std::string>{"''=1", "'x", "'"}));
  // Without the option the apostrophe stays (the default).
  table = ParseCsv("a\n'+1\n", {});
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->rows[0].fields[0], "'+1");
}

}  // namespace
}  // namespace townhall
