// The change feed: a script appends with the prelude's th_feed_append; the
// C++ side reads the version and the changes since a version, and tells a
// reader that fell behind a trimmed stream to take a fresh snapshot.
#include "services/common/change_feed.h"

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/ids.h"
#include "services/common/redis/lua_script.h"
#include "tests/testing/redis_server.h"

#ifndef TH_SOURCE_DIR
#error \
    "TH_SOURCE_DIR must point at the source tree (see services/common/CMakeLists.txt)"
#endif

namespace townhall {
namespace {

using ::townhall::testing::SharedRedisAddress;

std::string ReadPrelude() {
  std::ifstream in(std::string(TH_SOURCE_DIR) +
                   "/services/common/lua/prelude.lua");
  EXPECT_TRUE(in.good()) << "cannot read prelude.lua under " << TH_SOURCE_DIR;
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// KEYS: version, events. ARGV: kind, entity id, data.
const LuaScript& AppendScript() {
  static const LuaScript* script = new LuaScript(
      "test_feed_append", ReadPrelude() +
                              "\nreturn th_feed_append(KEYS[1], KEYS[2], "
                              "ARGV[1], ARGV[2], ARGV[3])\n");
  return *script;
}

RedisOptions Options() {
  RedisOptions options;
  options.address = SharedRedisAddress();
  return options;
}

class ChangeFeedTest : public ::testing::Test {
 protected:
  ChangeFeedTest()
      : redis_(Options()),
        keys_(FeedKeys::ForScope(absl::StrCat("th:{t:feed-", NewId(), "}"))) {}
  ~ChangeFeedTest() override {
    redis_.Command({"DEL", keys_.version, keys_.events}).IgnoreError();
  }

  // Appends one change; returns its version.
  int64_t Append(const std::string& kind, const std::string& id,
                 const std::string& data) {
    absl::StatusOr<RedisReply> reply = redis_.Eval(
        AppendScript(), {keys_.version, keys_.events}, {kind, id, data});
    EXPECT_TRUE(reply.ok()) << reply.status();
    if (!reply.ok()) return -1;
    EXPECT_EQ(reply->type, RedisReply::Type::kInteger);
    return reply->integer;
  }

  void AppendN(int n) {
    for (int i = 1; i <= n; ++i) {
      ASSERT_EQ(Append("session.state", absl::StrCat("s", i),
                       absl::StrCat("state-", i)),
                i);
    }
  }

  std::vector<int64_t> Versions(int64_t after, int limit = 100) {
    absl::StatusOr<std::vector<Change>> changes =
        ReadChangesSince(redis_, keys_, after, limit);
    EXPECT_TRUE(changes.ok()) << changes.status();
    std::vector<int64_t> versions;
    if (changes.ok()) {
      for (const Change& c : *changes) versions.push_back(c.version);
    }
    return versions;
  }

  absl::StatusCode ReadCode(int64_t after) {
    return ReadChangesSince(redis_, keys_, after, 100).status().code();
  }

  RedisConnection redis_;
  FeedKeys keys_;
};

TEST(FeedKeys, ForScope) {
  FeedKeys keys = FeedKeys::ForScope("th:{t:mfa}");
  EXPECT_EQ(keys.version, "th:{t:mfa}:version");
  EXPECT_EQ(keys.events, "th:{t:mfa}:events");
}

TEST_F(ChangeFeedTest, EmptyFeed) {
  absl::StatusOr<int64_t> version = ReadFeedVersion(redis_, keys_);
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_EQ(*version, 0);
  EXPECT_EQ(Versions(0), std::vector<int64_t>{});
}

TEST_F(ChangeFeedTest, AppendsAreReadBackInOrder) {
  ASSERT_EQ(Append("session.state", "s1", "LIVE"), 1);
  ASSERT_EQ(Append("session.title", "s2", std::string("bin\0ary", 7)), 2);
  ASSERT_EQ(Append("series.created", "sr1", "Oʻzbekiston"), 3);
  ASSERT_EQ(Append("session.deleted", "s1", ""), 4);
  ASSERT_EQ(Append("session.state", "s3", "ENDED"), 5);

  absl::StatusOr<int64_t> version = ReadFeedVersion(redis_, keys_);
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_EQ(*version, 5);

  absl::StatusOr<std::vector<Change>> all =
      ReadChangesSince(redis_, keys_, 0, 100);
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ((*all)[i].version, i + 1);
  EXPECT_EQ((*all)[0].kind, "session.state");
  EXPECT_EQ((*all)[0].entity_id, "s1");
  EXPECT_EQ((*all)[0].data, "LIVE");
  EXPECT_EQ((*all)[1].kind, "session.title");
  EXPECT_EQ((*all)[1].data, std::string("bin\0ary", 7));
  EXPECT_EQ((*all)[2].entity_id, "sr1");
  EXPECT_EQ((*all)[2].data, "Oʻzbekiston");
  EXPECT_EQ((*all)[3].kind, "session.deleted");
  EXPECT_EQ((*all)[3].data, "");
  EXPECT_EQ((*all)[4].data, "ENDED");

  // The stream ids are "<version>-0".
  absl::StatusOr<RedisReply> raw =
      redis_.Command({"XRANGE", keys_.events, "-", "+"});
  ASSERT_TRUE(raw.ok());
  ASSERT_EQ(raw->elements.size(), 5u);
  EXPECT_EQ(raw->elements[0].elements[0].str, "1-0");
  EXPECT_EQ(raw->elements[4].elements[0].str, "5-0");
}

TEST_F(ChangeFeedTest, ReadsOnlyChangesAfterAVersion) {
  AppendN(6);
  EXPECT_EQ(Versions(0), (std::vector<int64_t>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(Versions(1), (std::vector<int64_t>{2, 3, 4, 5, 6}));
  EXPECT_EQ(Versions(4), (std::vector<int64_t>{5, 6}));
  EXPECT_EQ(Versions(5), (std::vector<int64_t>{6}));
  EXPECT_EQ(Versions(6), (std::vector<int64_t>{}));
  absl::StatusOr<std::vector<Change>> after4 =
      ReadChangesSince(redis_, keys_, 4, 100);
  ASSERT_TRUE(after4.ok());
  EXPECT_EQ((*after4)[0].entity_id, "s5");
  EXPECT_EQ((*after4)[0].data, "state-5");
}

TEST_F(ChangeFeedTest, LimitReturnsTheOldestFirst) {
  AppendN(6);
  EXPECT_EQ(Versions(0, 2), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(Versions(2, 3), (std::vector<int64_t>{3, 4, 5}));
  EXPECT_EQ(Versions(5, 3), (std::vector<int64_t>{6}));
}

TEST_F(ChangeFeedTest, TrimmedChangesGiveOutOfRange) {
  AppendN(5);
  absl::StatusOr<RedisReply> trimmed =
      redis_.Command({"XTRIM", keys_.events, "MAXLEN", "2"});
  ASSERT_TRUE(trimmed.ok()) << trimmed.status();
  ASSERT_EQ(trimmed->integer, 3);  // versions 4 and 5 remain

  absl::StatusOr<std::vector<Change>> old =
      ReadChangesSince(redis_, keys_, 0, 100);
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.status().code(), absl::StatusCode::kOutOfRange) << old.status();
  EXPECT_EQ(ReadCode(1), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(ReadCode(2), absl::StatusCode::kOutOfRange);
  // A reader that saw version 3 misses nothing: 4 and 5 are still there.
  EXPECT_EQ(Versions(3), (std::vector<int64_t>{4, 5}));
  EXPECT_EQ(Versions(4), (std::vector<int64_t>{5}));
  EXPECT_EQ(Versions(5), (std::vector<int64_t>{}));

  // Appending continues the numbering.
  EXPECT_EQ(Append("session.state", "s6", "x"), 6);
  EXPECT_EQ(Versions(3), (std::vector<int64_t>{4, 5, 6}));
  EXPECT_EQ(*ReadFeedVersion(redis_, keys_), 6);
}

TEST_F(ChangeFeedTest, FullyTrimmedStreamGivesOutOfRange) {
  AppendN(3);
  ASSERT_TRUE(redis_.Command({"XTRIM", keys_.events, "MAXLEN", "0"}).ok());
  // Changes 2 and 3 are gone: an empty answer would lose them silently.
  EXPECT_EQ(ReadCode(0), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(ReadCode(1), absl::StatusCode::kOutOfRange);
  // Up to date: nothing to read, nothing lost.
  EXPECT_EQ(Versions(3), (std::vector<int64_t>{}));
  // The stream key itself gone (e.g. evicted) is the same situation.
  ASSERT_TRUE(redis_.Command({"DEL", keys_.events}).ok());
  EXPECT_EQ(ReadCode(2), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(Versions(3), (std::vector<int64_t>{}));
}

TEST_F(ChangeFeedTest, PositionAheadOfTheFeedGivesOutOfRange) {
  AppendN(2);
  // A reader from before a data loss (the feed restarted at a lower
  // version) would otherwise skip the next changes as "already seen".
  EXPECT_EQ(ReadCode(3), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(ReadCode(1000), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(Versions(2), (std::vector<int64_t>{}));
}

TEST_F(ChangeFeedTest, WrongTypeIsAnErrorNotAnEmptyFeed) {
  ASSERT_TRUE(redis_.Command({"SET", keys_.events, "not a stream"}).ok());
  ASSERT_TRUE(redis_.Command({"SET", keys_.version, "1"}).ok());
  absl::StatusOr<std::vector<Change>> changes =
      ReadChangesSince(redis_, keys_, 0, 10);
  ASSERT_FALSE(changes.ok());
  EXPECT_EQ(changes.status().code(), absl::StatusCode::kInternal)
      << changes.status();
}

TEST_F(ChangeFeedTest, ConcurrentAppendsHaveNoGapsOrDuplicates) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 25;
  std::vector<std::thread> threads;
  std::vector<std::vector<int64_t>> returned(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      RedisConnection redis(Options());
      for (int i = 0; i < kPerThread; ++i) {
        absl::StatusOr<RedisReply> reply = redis.Eval(
            AppendScript(), {keys_.version, keys_.events},
            {"question.vote", absl::StrCat("t", t), absl::StrCat(i)});
        if (reply.ok()) returned[t].push_back(reply->integer);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  std::vector<int64_t> expected;
  for (int v = 1; v <= kThreads * kPerThread; ++v) expected.push_back(v);
  EXPECT_EQ(Versions(0, 1000), expected);
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(returned[t].size(), static_cast<size_t>(kPerThread));
    // Each writer's own changes keep their order.
    absl::StatusOr<std::vector<Change>> all =
        ReadChangesSince(redis_, keys_, 0, 1000);
    ASSERT_TRUE(all.ok());
    int next = 0;
    for (const Change& c : *all) {
      if (c.entity_id != absl::StrCat("t", t)) continue;
      EXPECT_EQ(c.data, absl::StrCat(next));
      EXPECT_EQ(c.version, returned[t][next]);
      ++next;
    }
    EXPECT_EQ(next, kPerThread);
  }
}

TEST_F(ChangeFeedTest, RedisErrorsPropagate) {
  RedisOptions options = Options();
  options.address =
      absl::StrCat("127.0.0.1:", ::townhall::testing::PickFreePort());
  RedisConnection down(options);
  EXPECT_EQ(ReadFeedVersion(down, keys_).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(ReadChangesSince(down, keys_, 0, 10).status().code(),
            absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace townhall
