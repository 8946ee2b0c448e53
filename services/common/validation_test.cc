// Input validation: UTF-8, lengths in code points, control characters, time
// zones, URLs, request ids and timestamps.
#include "services/common/validation.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace townhall {
namespace {

std::string Repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

// Expects INVALID_ARGUMENT whose message starts with "<field>: " and
// contains `reason`.
void ExpectInvalid(const absl::Status& status, const std::string& field,
                   const std::string& reason) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_TRUE(absl::StartsWith(status.message(), field + ": ")) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), reason)) << status;
}

constexpr TextLimits kTitle{
    .min_chars = 1, .max_chars = 200, .multiline = false};
constexpr TextLimits kDescription{
    .min_chars = 0, .max_chars = 2000, .multiline = true};

TEST(ValidateText, AcceptsOrdinaryText) {
  EXPECT_TRUE(ValidateText("session.title", "Budget hearing", kTitle).ok());
  EXPECT_TRUE(ValidateText("session.title", "Бюджет на 2025 год", kTitle).ok());
}

TEST(ValidateText, EmptyRejectedWhenRequired) {
  ExpectInvalid(ValidateText("session.title", "", kTitle), "session.title",
                "must not be empty");
  // Optional text may be empty.
  EXPECT_TRUE(ValidateText("session.description", "", kDescription).ok());
}

TEST(ValidateText, WhitespaceOnlyCountsAsEmpty) {
  ExpectInvalid(ValidateText("session.title", "   ", kTitle), "session.title",
                "must not be empty");
  TextLimits multiline_required = kDescription;
  multiline_required.min_chars = 1;
  ExpectInvalid(
      ValidateText("session.description", " \n\t \r\n", multiline_required),
      "session.description", "must not be empty");
  // Unicode spaces (NO-BREAK SPACE, IDEOGRAPHIC SPACE, EM SPACE) are
  // whitespace too: a title of only those is blank on every screen.
  ExpectInvalid(ValidateText("session.title", "\u00a0\u3000\u2003", kTitle),
                "session.title", "must not be empty");
  // Text with surrounding spaces is fine.
  EXPECT_TRUE(ValidateText("session.title", "  x  ", kTitle).ok());
  EXPECT_TRUE(ValidateText("session.title", "\u00a0ж\u00a0", kTitle).ok());
}

TEST(ValidateText, MinCharsCountedInCodePoints) {
  TextLimits limits{.min_chars = 3, .max_chars = 10};
  ExpectInvalid(ValidateText("f", "жж", limits), "f", "at least 3");
  EXPECT_TRUE(ValidateText("f", "жжж", limits).ok());
}

TEST(ValidateText, MaxLengthCountedInCodePoints) {
  // Cyrillic letters take two bytes each: 200 of them are 400 bytes.
  std::string cyrillic_200 = Repeat("ж", 200);
  ASSERT_EQ(cyrillic_200.size(), 400u);
  EXPECT_TRUE(ValidateText("session.title", cyrillic_200, kTitle).ok());
  ExpectInvalid(ValidateText("session.title", cyrillic_200 + "ж", kTitle),
                "session.title", "at most 200");
  // Four-byte characters (emoji): 200 fit, 201 do not.
  std::string emoji_200 = Repeat("\U0001F600", 200);
  ASSERT_EQ(emoji_200.size(), 800u);
  EXPECT_TRUE(ValidateText("session.title", emoji_200, kTitle).ok());
  ExpectInvalid(ValidateText("session.title", emoji_200 + "\U0001F600", kTitle),
                "session.title", "at most 200");
  // ASCII: 201 bytes is 201 characters.
  ExpectInvalid(ValidateText("session.title", std::string(201, 'a'), kTitle),
                "session.title", "at most 200");
  EXPECT_TRUE(
      ValidateText("session.title", std::string(200, 'a'), kTitle).ok());
}

TEST(ValidateText, UzbekLatinWithModifierLetter) {
  // U+02BB MODIFIER LETTER TURNED COMMA, as in official Uzbek Latin.
  const std::string uzbek = "O\u02bbzbekiston";
  ASSERT_EQ(uzbek.size(), 12u);
  absl::StatusOr<size_t> count = CountCodePoints("f", uzbek);
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_EQ(*count, 11u);
  EXPECT_TRUE(ValidateText("session.title", uzbek,
                           TextLimits{.min_chars = 1, .max_chars = 11})
                  .ok());
  ExpectInvalid(ValidateText("session.title", uzbek,
                             TextLimits{.min_chars = 1, .max_chars = 10}),
                "session.title", "at most 10");
  EXPECT_TRUE(ValidateText("session.title",
                           "Toshkent shahar hokimligi: O\u02bbzbekiston",
                           kTitle)
                  .ok());
}

TEST(ValidateText, InvalidUtf8Rejected) {
  const std::string cases[] = {
      std::string("abc\x80"),           // lone continuation byte
      std::string("\xbf"),              // lone continuation byte only
      std::string("\xc0\xaf"),          // overlong '/'
      std::string("\xe0\x80\xaf"),      // overlong '/' in three bytes
      std::string("\xed\xa0\x80"),      // UTF-16 surrogate U+D800
      std::string("\xed\xbf\xbf"),      // UTF-16 surrogate U+DFFF
      std::string("ok \xd0"),           // truncated two-byte sequence
      std::string("\xe2\x82"),          // truncated three-byte sequence
      std::string("\xf0\x9f\x98"),      // truncated four-byte sequence
      std::string("\xf4\x90\x80\x80"),  // beyond U+10FFFF
      std::string("\xff"),              // never valid
      std::string("\xd0\x41"),          // lead byte followed by ASCII
  };
  for (const std::string& value : cases) {
    SCOPED_TRACE(absl::CEscape(value));
    ExpectInvalid(ValidateText("session.title", value, kTitle), "session.title",
                  "not valid UTF-8");
    ExpectInvalid(ValidateText("session.description", value, kDescription),
                  "session.description", "not valid UTF-8");
    EXPECT_EQ(CountCodePoints("x.y", value).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
}

TEST(ValidateText, ControlCharactersRejectedInSingleLine) {
  for (const std::string& value :
       {std::string("a\nb"), std::string("a\tb"), std::string("a\rb"),
        std::string("a\x1b[31mb"), std::string("a\x7f"),
        std::string("a\u0085b"), std::string("a\0b", 3)}) {
    SCOPED_TRACE(absl::CEscape(value));
    ExpectInvalid(ValidateText("session.title", value, kTitle), "session.title",
                  "control character");
  }
  ExpectInvalid(ValidateText("session.title", "a\nb", kTitle), "session.title",
                "U+000A");
}

TEST(ValidateText, NewlinesAllowedInMultiline) {
  EXPECT_TRUE(ValidateText("session.description",
                           "line 1\nline 2\r\n\tindented", kDescription)
                  .ok());
  // Other control characters stay forbidden.
  ExpectInvalid(ValidateText("session.description", "bell\a", kDescription),
                "session.description", "control character");
  ExpectInvalid(ValidateText("session.description", std::string("nul\0", 4),
                             kDescription),
                "session.description", "control character");
}

TEST(ValidateTimeZone, AcceptsIanaNames) {
  absl::StatusOr<absl::TimeZone> zone =
      ValidateTimeZone("session.time_zone", "Asia/Tashkent");
  ASSERT_TRUE(zone.ok()) << zone.status();
  EXPECT_EQ(zone->name(), "Asia/Tashkent");
  // Tashkent is UTC+5 without daylight saving time.
  absl::TimeZone::CivilInfo info = zone->At(absl::FromUnixSeconds(1750000000));
  EXPECT_EQ(info.offset, 5 * 3600);
  EXPECT_TRUE(ValidateTimeZone("f", "Europe/Berlin").ok());
  EXPECT_TRUE(ValidateTimeZone("f", "America/Argentina/Buenos_Aires").ok());
}

TEST(ValidateTimeZone, RejectsUnknownAndFixedAndLong) {
  ExpectInvalid(ValidateTimeZone("session.time_zone", "Mars/Olympus").status(),
                "session.time_zone", "unknown time zone \"Mars/Olympus\"");
  ExpectInvalid(ValidateTimeZone("session.time_zone", "").status(),
                "session.time_zone", "time zone");
  ExpectInvalid(
      ValidateTimeZone("session.time_zone", "Fixed/UTC+05:00").status(),
      "session.time_zone", "unknown time zone");
  std::string long_name = "Asia/" + std::string(200, 'x');
  absl::Status long_status =
      ValidateTimeZone("session.time_zone", long_name).status();
  ExpectInvalid(long_status, "session.time_zone", "unknown time zone");
  // The message does not echo unbounded input.
  EXPECT_LT(long_status.message().size(), 120u) << long_status;
}

TEST(ValidateTimeZone, RejectsNamesThatAreNotCanonicalZones) {
  // Files in the zoneinfo directory that absl loads but that are not IANA
  // zones (issue 14 item 6): the POSIX rule template, the host's zone,
  // duplicate trees, placeholders, fixed offsets and case variants.
  for (const char* name :
       {"posixrules", "posix/Europe/Berlin", "right/Europe/Berlin", "localtime",
        "Factory", "Etc/GMT+5", "EST5EDT", "europe/berlin", "posix/UTC",
        "right/UTC", "Europe", "zone.tab"}) {
    SCOPED_TRACE(name);
    ExpectInvalid(ValidateTimeZone("session.time_zone", name).status(),
                  "session.time_zone",
                  "unknown time zone \"" + std::string(name));
  }
}

TEST(ValidateTimeZone, NormalizesLinksToTheirCanonicalName) {
  for (const auto& [link, canonical] :
       std::vector<std::pair<std::string, std::string>>{
           {"Asia/Calcutta", "Asia/Kolkata"},
           {"Europe/Kiev", "Europe/Kyiv"},
           {"US/Eastern", "America/New_York"},
           {"Etc/UTC", "UTC"},
           {"Zulu", "UTC"},
           {"GMT", "UTC"},
           {"Asia/Kolkata", "Asia/Kolkata"},
           {"UTC", "UTC"},
           {"Europe/Oslo", "Europe/Oslo"},
       }) {
    SCOPED_TRACE(link);
    absl::StatusOr<absl::TimeZone> zone = ValidateTimeZone("f", link);
    ASSERT_TRUE(zone.ok()) << zone.status();
    EXPECT_EQ(zone->name(), canonical);
    std::string name = link;
    ASSERT_TRUE(NormalizeTimeZone("f", &name).ok());
    EXPECT_EQ(name, canonical);
  }
  std::string bad = "posixrules";
  ExpectInvalid(NormalizeTimeZone("venue.time_zone", &bad), "venue.time_zone",
                "unknown time zone \"posixrules\"");
  EXPECT_EQ(bad, "posixrules");
}

TEST(ValidateTimeZone, RejectsFilePaths) {
  // absl loads any TZif file by path; a time zone name is not a path.
  for (const char* name :
       {"/usr/share/zoneinfo/Asia/Tashkent",
        "file:/usr/share/zoneinfo/Asia/Tashkent", "../zoneinfo/Asia/Tashkent",
        "Asia/../Asia/Tashkent", "/etc/passwd", "Asia/Tashkent\n",
        " Asia/Tashkent"}) {
    SCOPED_TRACE(name);
    ExpectInvalid(ValidateTimeZone("session.time_zone", name).status(),
                  "session.time_zone", "unknown time zone");
  }
}

TEST(ValidateUrl, AcceptsHttpAndEmpty) {
  EXPECT_TRUE(ValidateUrl("venue.url", "").ok());
  EXPECT_TRUE(
      ValidateUrl("venue.url", "https://example.org/stream?id=1#t=30").ok());
  EXPECT_TRUE(ValidateUrl("venue.url", "http://127.0.0.1:8080/").ok());
  std::string max = "https://example.org/" + std::string(2048 - 20, 'a');
  ASSERT_EQ(max.size(), 2048u);
  EXPECT_TRUE(ValidateUrl("venue.url", max).ok());
}

TEST(ValidateUrl, RejectsOtherSchemesSpacesAndLongUrls) {
  ExpectInvalid(ValidateUrl("venue.url", "javascript:alert(1)"), "venue.url",
                "http(s)");
  ExpectInvalid(ValidateUrl("venue.url", "ftp://example.org/"), "venue.url",
                "http(s)");
  ExpectInvalid(ValidateUrl("venue.url", "example.org"), "venue.url",
                "http(s)");
  ExpectInvalid(ValidateUrl("venue.url", "https://example.org/a b"),
                "venue.url", "spaces");
  ExpectInvalid(ValidateUrl("venue.url", "https://example.org/\n"), "venue.url",
                "spaces");
  ExpectInvalid(ValidateUrl("venue.url", "https://пример.рф/"), "venue.url",
                "non-ASCII");
  ExpectInvalid(
      ValidateUrl("venue.url", "https://example.org/" + std::string(2048, 'a')),
      "venue.url", "at most 2048");
}

TEST(ValidateUrl, RejectsUrlWithoutHost) {
  for (const char* url :
       {"https://", "http://", "https:///path", "https://?q", "https://#x"}) {
    SCOPED_TRACE(url);
    ExpectInvalid(ValidateUrl("venue.url", url), "venue.url", "host");
  }
}

TEST(ValidateRequestId, EmptyOrPrintableAscii) {
  EXPECT_TRUE(ValidateRequestId("request_id", "").ok());
  EXPECT_TRUE(ValidateRequestId("request_id", "3f2a-9c~!{}").ok());
  EXPECT_TRUE(ValidateRequestId("request_id", std::string(64, 'r')).ok());
  ExpectInvalid(ValidateRequestId("request_id", std::string(65, 'r')),
                "request_id", "at most 64");
  for (const std::string& bad :
       {std::string("a b"), std::string("a\tb"), std::string("a\x7f"),
        std::string("é"), std::string("a\0b", 3)}) {
    SCOPED_TRACE(absl::CEscape(bad));
    ExpectInvalid(ValidateRequestId("request_id", bad), "request_id",
                  "printable ASCII");
  }
}

TEST(ValidateTimestamp, Between2000And2200) {
  constexpr int64_t kYear2000 = 946684800;   // 2000-01-01T00:00:00Z
  constexpr int64_t kYear2200 = 7258118400;  // 2200-01-01T00:00:00Z
  EXPECT_TRUE(ValidateTimestamp("session.start_time", kYear2000, 0).ok());
  EXPECT_TRUE(
      ValidateTimestamp("session.start_time", 1750000000, 999999999).ok());
  EXPECT_TRUE(ValidateTimestamp("session.start_time", kYear2200 - 1, 0).ok());
  ExpectInvalid(ValidateTimestamp("session.start_time", kYear2000 - 1, 0),
                "session.start_time", "between the years 2000 and 2200");
  ExpectInvalid(ValidateTimestamp("session.start_time", kYear2200, 0),
                "session.start_time", "2200");
  ExpectInvalid(ValidateTimestamp("session.start_time", 0, 0),
                "session.start_time", "2000");
  ExpectInvalid(ValidateTimestamp("session.start_time", -1, 0),
                "session.start_time", "2000");
  ExpectInvalid(ValidateTimestamp("session.start_time", 1750000000, -1),
                "session.start_time", "2000");
  ExpectInvalid(ValidateTimestamp("session.start_time", 1750000000, 1000000000),
                "session.start_time", "2000");
}

TEST(InvalidField, FormatsFieldAndReason) {
  absl::Status status = InvalidField("series.rrule", "must not be empty");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "series.rrule: must not be empty");
}

}  // namespace
}  // namespace townhall
