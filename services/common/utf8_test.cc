#include "services/common/utf8.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace townhall {
namespace {

std::vector<CodePoint> CodePoints(absl::string_view text, bool* valid) {
  std::vector<CodePoint> out;
  *valid = ForEachCodePoint(text, [&](CodePoint cp) {
    out.push_back(cp);
    return true;
  });
  return out;
}

TEST(ForEachCodePointTest, VisitsEachCodePointInOrder) {
  bool valid = false;
  // a, e-acute (2 bytes), euro sign (3 bytes), grinning face (4 bytes).
  EXPECT_EQ(CodePoints("a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80", &valid),
            (std::vector<CodePoint>{'a', 0xE9, 0x20AC, 0x1F600}));
  EXPECT_TRUE(valid);
}

TEST(ForEachCodePointTest, EmptyTextIsValidAndVisitsNothing) {
  bool valid = false;
  EXPECT_TRUE(CodePoints("", &valid).empty());
  EXPECT_TRUE(valid);
}

TEST(ForEachCodePointTest, StopsWhenTheVisitorSaysSo) {
  int visited = 0;
  EXPECT_TRUE(
      ForEachCodePoint("abc\xFF", [&](CodePoint) { return ++visited < 2; }));
  EXPECT_EQ(visited, 2);
}

TEST(ForEachCodePointTest, RefusesInvalidUtf8AfterTheValidPrefix) {
  bool valid = true;
  EXPECT_EQ(CodePoints("ab\xC3", &valid), (std::vector<CodePoint>{'a', 'b'}));
  EXPECT_FALSE(valid);
}

TEST(IsValidUtf8Test, RefusesBrokenSequences) {
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("\xE2\x82\xAC"));
  EXPECT_FALSE(IsValidUtf8("\xC3"));              // truncated
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate U+D800
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\x80"));              // lone continuation
}

}  // namespace
}  // namespace townhall
