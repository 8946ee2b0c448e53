#include "services/common/export.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/type.pb.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "services/common/csv.h"

namespace townhall {
namespace {

TEST(ExportTest, RowsUpToTheCapPassAndOneMoreIsResourceExhausted) {
  EXPECT_TRUE(CheckExportRows("organizations", 0).ok());
  EXPECT_TRUE(CheckExportRows("organizations", kMaxExportRows).ok());
  absl::Status over = CheckExportRows("organizations", kMaxExportRows + 1);
  EXPECT_EQ(over.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(
      absl::StrContains(over.message(), "more than 50000 organizations"))
      << over;
  EXPECT_EQ(CheckExportRows("participants", 3, 2).code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(ExportTest, JsonHasProtoFieldNamesAndStaysUnderTheByteCap) {
  google::protobuf::Field field;
  field.set_type_url("type.googleapis.com/townhall.v1.Organization");
  absl::StatusOr<ExportDocument> json = JsonExport(field);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(json->content_type, "application/json");
  EXPECT_TRUE(absl::StrContains(json->content, "\"type_url\""))
      << json->content;
  EXPECT_TRUE(JsonExport(field, json->content.size()).ok());
  absl::StatusOr<ExportDocument> over =
      JsonExport(field, json->content.size() - 1);
  EXPECT_EQ(over.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(absl::StrContains(over.status().message(), "bytes"))
      << over.status();
}

// Map entries in key order, whatever order they were added in: two
// exports of the same data are the same file.
TEST(ExportTest, JsonMapsAreInKeyOrder) {
  std::string first;
  for (int shift = 0; shift < 5; ++shift) {
    google::protobuf::Struct value;
    for (int i = 0; i < 5; ++i) {
      const std::string key(1, static_cast<char>('a' + (i + shift) % 5));
      (*value.mutable_fields())[key].set_string_value(key);
    }
    absl::StatusOr<ExportDocument> json = JsonExport(value);
    ASSERT_TRUE(json.ok()) << json.status();
    if (shift == 0) first = json->content;
    EXPECT_EQ(json->content, first);
  }
  size_t a = first.find("\"a\""), e = first.find("\"e\"");
  ASSERT_NE(a, std::string::npos) << first;
  EXPECT_LT(a, first.find("\"b\"")) << first;
  EXPECT_LT(first.find("\"d\""), e) << first;
}

TEST(ExportTest, CsvIsTheHeaderThenTheRowsDefusedAndCapped) {
  const std::vector<std::string> header = {"name", "phone"};
  const std::vector<std::vector<std::string>> rows = {
      {"=HYPERLINK(\"http://x\")", "+1-555"}, {"Qozon, RU", ""}};
  absl::StatusOr<ExportDocument> csv = CsvExport(header, rows);
  ASSERT_TRUE(csv.ok()) << csv.status();
  EXPECT_EQ(csv->content_type, "text/csv");
  EXPECT_EQ(csv->content,
            CsvRecord(header) + CsvRecord(rows[0]) + CsvRecord(rows[1]));
  EXPECT_TRUE(absl::StrContains(csv->content, "'+1-555")) << csv->content;
  EXPECT_TRUE(CsvExport(header, rows, csv->content.size()).ok());
  EXPECT_EQ(CsvExport(header, rows, csv->content.size() - 1).status().code(),
            absl::StatusCode::kResourceExhausted);
  // A header alone is a valid export of nothing.
  absl::StatusOr<ExportDocument> empty = CsvExport(header, {});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->content, "name,phone\r\n");
}

}  // namespace
}  // namespace townhall
