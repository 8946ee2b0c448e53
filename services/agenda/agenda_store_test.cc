// The store's pure part: decoding read_agenda.lua's reply. The scripts
// themselves run in tests/integration/agenda/.
#include "services/agenda/agenda_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "services/common/proto_time.h"
#include "tests/testing/status_matchers.h"

namespace townhall::agenda {
namespace {

using ::townhall::testing::HasCode;
using Code = absl::StatusCode;

const absl::Time kNow = absl::FromUnixSeconds(1800000000);

ScriptOutcome Reply(std::vector<std::string> values) {
  return {.kind = "OK", .values = std::move(values)};
}

TEST(DecodeAgendaReplyTest, ItemsOutcomesAndActionsInOrder) {
  ASSERT_OK_AND_ASSIGN(
      v1::AgendaSnapshot agenda,
      DecodeAgendaReply(
          Reply({"7", "i2", "2", R"({"id":"i1"})", R"({"id":"i2"})", "1",
                 R"({"id":"o1"})", "1", R"({"id":"a1"})"}),
          "s1", kNow));
  EXPECT_EQ(agenda.session_id(), "s1");
  EXPECT_EQ(agenda.version(), 7);
  EXPECT_EQ(agenda.active_item_id(), "i2");
  ASSERT_EQ(agenda.items_size(), 2);
  EXPECT_EQ(agenda.items(0).id(), "i1");
  EXPECT_EQ(agenda.items(1).position(), 1);
  ASSERT_EQ(agenda.outcomes_size(), 1);
  EXPECT_EQ(agenda.outcomes(0).id(), "o1");
  ASSERT_EQ(agenda.action_items_size(), 1);
  EXPECT_EQ(agenda.action_items(0).id(), "a1");
  EXPECT_EQ(ToTime(agenda.server_time()), kNow);
}

TEST(DecodeAgendaReplyTest, AnEmptyAgenda) {
  ASSERT_OK_AND_ASSIGN(
      v1::AgendaSnapshot agenda,
      DecodeAgendaReply(Reply({"0", "", "0", "0", "0"}), "s1", kNow));
  EXPECT_EQ(agenda.items_size(), 0);
  EXPECT_TRUE(agenda.active_item_id().empty());
}

TEST(DecodeAgendaReplyTest, AMalformedReplyIsInternal) {
  for (const std::vector<std::string>& bad :
       std::vector<std::vector<std::string>>{
           {},
           {"x", ""},
           {"1", "", "2", "{}"},  // fewer items than counted
           {"1", "", "0", "0"},   // no action count
           {"1", "", "1", "{broken", "0", "0"}}) {
    EXPECT_THAT(DecodeAgendaReply(Reply(bad), "s1", kNow),
                HasCode(Code::kInternal));
  }
  EXPECT_THAT(
      DecodeAgendaReply({.kind = "BAD_STATE", .values = {"0", ""}}, "s1", kNow),
      HasCode(Code::kInternal));
}

}  // namespace
}  // namespace townhall::agenda
