// Slot computation against the Redis Cluster specification's examples.
#include "services/common/redis/cluster_slot.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"

namespace townhall {
namespace {

TEST(Crc16Test, SpecTestVector) { EXPECT_EQ(Crc16("123456789"), 0x31C3); }

TEST(Crc16Test, EmptyInputIsZero) { EXPECT_EQ(Crc16(""), 0); }

TEST(HashTagTest, SpecRules) {
  EXPECT_EQ(HashTag("{user1000}.following"), "user1000");
  EXPECT_EQ(HashTag("{user1000}.followers"), "user1000");
  // An empty first tag: the whole key is hashed.
  EXPECT_EQ(HashTag("foo{}{bar}"), "foo{}{bar}");
  // The tag runs to the first '}' after the first '{'.
  EXPECT_EQ(HashTag("foo{{bar}}zap"), "{bar");
  EXPECT_EQ(HashTag("foo{bar}{zap}"), "bar");
  EXPECT_EQ(HashTag("no tag"), "no tag");
  EXPECT_EQ(HashTag("open{only"), "open{only");
}

TEST(KeySlotTest, KnownSlots) {
  // As CLUSTER KEYSLOT answers.
  EXPECT_EQ(KeySlot("foo"), 12182);
  EXPECT_EQ(KeySlot("bar"), 5061);
  EXPECT_EQ(KeySlot("123456789"), 0x31C3);
  EXPECT_EQ(KeySlot(""), 0);
}

TEST(KeySlotTest, HashTagsShareASlot) {
  EXPECT_EQ(KeySlot("{user1000}.following"), KeySlot("{user1000}.followers"));
  EXPECT_EQ(KeySlot("{user1000}.following"), KeySlot("user1000"));
  EXPECT_EQ(KeySlot("foo{}{bar}"), Crc16("foo{}{bar}") % kClusterSlots);
  EXPECT_EQ(KeySlot("foo{{bar}}zap"), KeySlot("{bar"));
  EXPECT_EQ(KeySlot("foo{bar}{zap}"), KeySlot("bar"));
  EXPECT_EQ(KeySlot("th:{t:acme}:sessions"), KeySlot("th:{t:acme}:venues"));
}

TEST(CommonSlotTest, OneSlotForTaggedKeys) {
  std::vector<std::string> keys = {"th:{s:a:b}:questions", "th:{s:a:b}:events"};
  absl::StatusOr<int> slot = CommonSlot(keys);
  ASSERT_TRUE(slot.ok()) << slot.status();
  EXPECT_EQ(*slot, KeySlot("s:a:b"));
}

TEST(CommonSlotTest, RefusesCrossSlot) {
  std::vector<std::string> keys = {"foo", "bar"};
  absl::StatusOr<int> slot = CommonSlot(keys);
  ASSERT_FALSE(slot.ok());
  EXPECT_EQ(slot.status().code(), absl::StatusCode::kInternal);
  EXPECT_TRUE(absl::StartsWith(slot.status().message(), "CROSSSLOT"))
      << slot.status();
}

TEST(CommonSlotTest, RefusesNoKeys) {
  EXPECT_EQ(CommonSlot({}).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace townhall
