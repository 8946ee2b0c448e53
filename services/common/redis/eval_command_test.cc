#include "services/common/redis/eval_command.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace townhall {
namespace {

const LuaScript& Script() {
  static const LuaScript* script =
      new LuaScript("echo.lua", "return {KEYS[1], ARGV[1]}");
  return *script;
}

TEST(EvalShaCommandTest, NamesTheShaThenCountsKeysBeforeArgs) {
  std::vector<std::string> keys = {"th:{t:a}:", "th:{t:a}:x"};
  std::vector<std::string> args = {"1", ""};
  EXPECT_EQ(EvalShaCommand(Script(), keys, args),
            (std::vector<std::string>{"EVALSHA", Script().sha1(), "2",
                                      "th:{t:a}:", "th:{t:a}:x", "1", ""}));
}

TEST(EvalShaCommandTest, NoKeysIsZero) {
  EXPECT_EQ(EvalShaCommand(Script(), {}, {}),
            (std::vector<std::string>{"EVALSHA", Script().sha1(), "0"}));
}

TEST(ToEvalCommandTest, SendsTheBodyWithTheSameKeysAndArgs) {
  std::vector<std::string> keys = {"k"};
  std::vector<std::string> args = {"a", "b"};
  std::vector<std::string> command = EvalShaCommand(Script(), keys, args);
  ToEvalCommand(Script(), &command);
  EXPECT_EQ(command, (std::vector<std::string>{"EVAL", Script().body(), "1",
                                               "k", "a", "b"}));
}

TEST(IsNoScriptTest, OnlyTheNoScriptError) {
  RedisReply noscript{.type = RedisReply::Type::kError,
                      .str = "NOSCRIPT No matching script."};
  RedisReply other_error{.type = RedisReply::Type::kError,
                         .str = "ERR TH:ABORTED:stale"};
  RedisReply text{.type = RedisReply::Type::kString, .str = "NOSCRIPT"};
  EXPECT_TRUE(IsNoScript(noscript));
  EXPECT_FALSE(IsNoScript(other_error));
  EXPECT_FALSE(IsNoScript(text));
  EXPECT_FALSE(IsNoScript(absl::UnavailableError("down")));
}

TEST(HiredisArgvTest, PointsAtEachArgumentWithItsLength) {
  std::vector<std::string> argv = {"SET", "k", std::string("a\0b", 3)};
  HiredisArgv hiredis(argv);
  ASSERT_EQ(hiredis.argc(), 3);
  for (int i = 0; i < hiredis.argc(); ++i) {
    EXPECT_EQ(hiredis.argv()[i], argv[i].data());
    EXPECT_EQ(hiredis.lengths()[i], argv[i].size());
  }
}

}  // namespace
}  // namespace townhall
