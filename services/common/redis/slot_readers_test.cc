// XReadArgs: the parsing and per-slot rebuilding of an XREAD. The reads
// themselves run against a real cluster in cluster_stream_read_test.
#include "services/common/redis/slot_readers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace townhall {
namespace {

using ::testing::ElementsAre;

TEST(XReadArgsTest, ParsesAndRebuildsOneSlotsRead) {
  absl::StatusOr<XReadArgs> args = XReadArgs::Parse(
      {"XREAD", "COUNT", "100", "BLOCK", "500", "STREAMS", "a", "b", "c",
       "1-0", "2-0", "$"});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_THAT(args->options, ElementsAre("COUNT", "100"));
  EXPECT_EQ(args->block, absl::Milliseconds(500));
  EXPECT_THAT(args->keys, ElementsAre("a", "b", "c"));
  EXPECT_THAT(args->ids, ElementsAre("1-0", "2-0", "$"));
  EXPECT_THAT(args->Argv({2, 0}, absl::Milliseconds(250)),
              ElementsAre("XREAD", "COUNT", "100", "BLOCK", "250", "STREAMS",
                          "c", "a", "$", "1-0"));
  // Zero or less: no BLOCK (BLOCK 0 would wait forever).
  EXPECT_THAT(args->Argv({1}, absl::ZeroDuration()),
              ElementsAre("XREAD", "COUNT", "100", "STREAMS", "b", "2-0"));
}

TEST(XReadArgsTest, BlockIsOptionalAndZeroMeansNoLimit) {
  absl::StatusOr<XReadArgs> plain =
      XReadArgs::Parse({"xread", "streams", "a", "0"});
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_FALSE(plain->block.has_value());
  absl::StatusOr<XReadArgs> forever =
      XReadArgs::Parse({"XREAD", "BLOCK", "0", "STREAMS", "a", "0"});
  ASSERT_TRUE(forever.ok()) << forever.status();
  EXPECT_EQ(forever->block, absl::ZeroDuration());
}

TEST(XReadArgsTest, RefusesOtherShapes) {
  EXPECT_FALSE(XReadArgs::Parse({"GET", "a"}).ok());
  EXPECT_FALSE(XReadArgs::Parse({"XREAD", "COUNT", "1"}).ok());
  EXPECT_FALSE(XReadArgs::Parse({"XREAD", "STREAMS", "a", "b", "0"}).ok());
  EXPECT_FALSE(XReadArgs::Parse({"XREAD", "BLOCK", "x", "STREAMS", "a", "0"})
                   .ok());
  EXPECT_FALSE(XReadArgs::Parse({"XREAD", "BLOCK"}).ok());
}

}  // namespace
}  // namespace townhall
