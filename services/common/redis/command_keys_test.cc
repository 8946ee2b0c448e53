// CommandKeys over every command shape townhall sends (grep "Command(\|
// Pipeline(" services) and the keyless ones that may go to any master.
#include "services/common/redis/command_keys.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace townhall {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::vector<std::string> Keys(std::vector<std::string> argv) {
  return CommandKeys(argv);
}

TEST(CommandKeysTest, SingleKeyCommandsNameArgvOne) {
  EXPECT_THAT(Keys({"GET", "k"}), ElementsAre("k"));
  EXPECT_THAT(Keys({"SET", "k", "v"}), ElementsAre("k"));
  EXPECT_THAT(Keys({"HMGET", "h", "data", "version"}), ElementsAre("h"));
  EXPECT_THAT(Keys({"HGETALL", "h"}), ElementsAre("h"));
  EXPECT_THAT(Keys({"ZRANGE", "z", "(5", "+", "BYLEX", "LIMIT", "0", "3"}),
              ElementsAre("z"));
  EXPECT_THAT(Keys({"XRANGE", "s", "-", "+", "COUNT", "1"}), ElementsAre("s"));
  EXPECT_THAT(Keys({"ZCARD", "z"}), ElementsAre("z"));
}

TEST(CommandKeysTest, CommandNamesAreCaseInsensitive) {
  EXPECT_THAT(Keys({"mget", "a", "b"}), ElementsAre("a", "b"));
  EXPECT_THAT(Keys({"ping", "x"}), IsEmpty());
  EXPECT_THAT(Keys({"evalsha", "sha", "1", "k", "arg"}), ElementsAre("k"));
}

TEST(CommandKeysTest, ScriptsTakeNumkeysKeys) {
  EXPECT_THAT(Keys({"EVALSHA", "sha", "2", "k1", "k2", "a1"}),
              ElementsAre("k1", "k2"));
  EXPECT_THAT(Keys({"EVAL", "return 1", "1", "k", "a1", "a2"}),
              ElementsAre("k"));
  EXPECT_THAT(Keys({"EVAL", "return 1", "0", "a1"}), IsEmpty());
}

TEST(CommandKeysTest, MalformedScriptCallsHaveNoKeys) {
  EXPECT_THAT(Keys({"EVALSHA", "sha"}), IsEmpty());
  EXPECT_THAT(Keys({"EVALSHA", "sha", "x", "k"}), IsEmpty());
  EXPECT_THAT(Keys({"EVALSHA", "sha", "3", "k1", "k2"}), IsEmpty());
  EXPECT_THAT(Keys({"EVALSHA", "sha", "-1", "k1"}), IsEmpty());
}

TEST(CommandKeysTest, StreamReadsTakeTheStreamsAfterStreams) {
  EXPECT_THAT(Keys({"XREAD", "COUNT", "100", "BLOCK", "500", "STREAMS", "s1",
                    "s2", "1-0", "2-0"}),
              ElementsAre("s1", "s2"));
  EXPECT_THAT(Keys({"XREAD", "STREAMS", "th:revocations", "$"}),
              ElementsAre("th:revocations"));
  EXPECT_THAT(Keys({"XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "streams",
                    "s", ">"}),
              ElementsAre("s"));
  // No STREAMS, or keys without their ids.
  EXPECT_THAT(Keys({"XREAD", "COUNT", "1"}), IsEmpty());
  EXPECT_THAT(Keys({"XREAD", "STREAMS", "s1", "s2", "1-0"}), IsEmpty());
  EXPECT_THAT(Keys({"XREAD", "STREAMS"}), IsEmpty());
}

TEST(CommandKeysTest, MultiKeyCommandsTakeEveryKey) {
  for (const char* name : {"DEL", "EXISTS", "MGET", "UNLINK", "TOUCH"}) {
    EXPECT_THAT(Keys({name, "a", "b", "c"}), ElementsAre("a", "b", "c"))
        << name;
  }
  EXPECT_THAT(Keys({"MSET", "a", "1", "b", "2"}), ElementsAre("a", "b"));
}

TEST(CommandKeysTest, KeylessCommandsGoToAnyMaster) {
  for (std::vector<std::string> argv :
       std::vector<std::vector<std::string>>{{"PING"},
                                             {"INFO", "replication"},
                                             {"CLUSTER", "KEYSLOT", "k"},
                                             {"SCRIPT", "LOAD", "return 1"},
                                             {"WAIT", "1", "100"},
                                             {"TIME"},
                                             {"DBSIZE"},
                                             {"CONFIG", "GET", "maxmemory"},
                                             {"COMMAND", "COUNT"},
                                             {"FLUSHALL"}}) {
    EXPECT_THAT(CommandKeys(argv), IsEmpty()) << argv[0];
  }
  EXPECT_THAT(Keys({}), IsEmpty());
}

}  // namespace
}  // namespace townhall
