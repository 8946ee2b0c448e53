#include "clients/cpp/console/console_text.h"

#include <gtest/gtest.h>

namespace townhall::console {
namespace {

TEST(ConsoleTextTest, WidthCountsColumnsNotBytes) {
  EXPECT_EQ(DisplayWidth("Savol"), 5);
  EXPECT_EQ(DisplayWidth("Oʻzbek"), 6);
  EXPECT_EQ(DisplayWidth("Вопрос"), 6);
  EXPECT_EQ(DisplayWidth("会议"), 4);
  EXPECT_EQ(DisplayWidth("e\u0301"), 1);  // combining acute accent
}

TEST(ConsoleTextTest, FitsShortTextUnchanged) {
  EXPECT_EQ(ToUtf8(FitColumns("Mehnat migratsiyasi", 40)),
            "Mehnat migratsiyasi");
  EXPECT_TRUE(FitColumns("anything", 0).empty());
}

TEST(ConsoleTextTest, CutsLongTextWithAnEllipsis) {
  std::u32string cut = FitColumns("Трудовая миграция и занятость", 10);
  EXPECT_EQ(ToUtf8(cut), "Трудовая …");
  EXPECT_EQ(DisplayWidth(cut), 10);
}

TEST(ConsoleTextTest, NeverSplitsAWideCharacter) {
  std::u32string cut = FitColumns("会议会议会议", 6);
  EXPECT_EQ(ToUtf8(cut), "会议…");
  EXPECT_LE(DisplayWidth(cut), 6);
}

TEST(ConsoleTextTest, ControlCharactersBecomeSpaces) {
  EXPECT_EQ(ToUtf8(FitColumns("line one\nline\ttwo", 40)), "line one line two");
}

TEST(ConsoleTextTest, InvalidUtf8IsReplaced) {
  EXPECT_EQ(ToUtf8(FitColumns("ab\xff", 10)), "ab\uFFFD");
}

}  // namespace
}  // namespace townhall::console
