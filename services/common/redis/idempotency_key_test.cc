// Idempotency keys: one per caller, scope and request id, never shared.
#include "services/common/redis/idempotency_key.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "absl/strings/match.h"
#include "services/common/auth/authorization.h"

namespace townhall {
namespace {

constexpr char kSubmit[] = TH_METHOD(QuestionService, SubmitQuestion);

Principal Organizer(const std::string& subject, const std::string& tenant) {
  Principal p;
  p.role = Role::kOrganizer;
  p.tenant_id = tenant;
  p.subject = subject;
  return p;
}

Principal Member(const std::string& participant, Role role) {
  Principal p;
  p.role = role;
  p.tenant_id = "t1";
  p.subject = participant;
  p.session_id = "s1";
  p.participant_id = participant;
  return p;
}

Principal ApiKey(const std::string& id) {
  Principal p;
  p.role = Role::kApiClient;
  p.tenant_id = "t1";
  p.subject = "api-key:" + id;
  p.token_id = id;
  return p;
}

TEST(IdempotencyKeyTest, NoRequestIdNoKey) {
  EXPECT_EQ(IdempotencyKey(kSubmit, Organizer("ana", "t1"), ""), "");
}

TEST(IdempotencyKeyTest, NamesMethodAndCaller) {
  EXPECT_EQ(IdempotencyKey(kSubmit, Member("p1", Role::kParticipant), "r1",
                           {.session_id = "s1", .participant_id = "p1"}),
            "idem:QuestionService/SubmitQuestion:t1:participant:p1:s1:p1:r1");
}

TEST(IdempotencyKeyTest, EveryCallerAndScopeHasItsOwnKey) {
  const std::string rid = "x";
  std::set<std::string> keys = {
      IdempotencyKey(kSubmit, Organizer("ana", "t1"), rid),
      IdempotencyKey(kSubmit, Organizer("bob", "t1"), rid),
      IdempotencyKey(kSubmit, Organizer("ana", "t2"), rid),
      IdempotencyKey(kSubmit, Member("p1", Role::kParticipant), rid),
      IdempotencyKey(kSubmit, Member("p2", Role::kParticipant), rid),
      IdempotencyKey(kSubmit, ApiKey("k1"), rid),
      IdempotencyKey(kSubmit, ApiKey("k2"), rid),
      IdempotencyKey(kSubmit, ApiKey("k1"), rid, {.participant_id = "p1"}),
      IdempotencyKey(kSubmit, ApiKey("k1"), rid, {.participant_id = "p2"}),
      IdempotencyKey(kSubmit, ApiKey("k1"), rid, {.session_id = "s1"}),
      IdempotencyKey(TH_METHOD(AgendaService, ProposeTopic), ApiKey("k1"), rid),
  };
  EXPECT_EQ(keys.size(), 11u);
}

TEST(IdempotencyKeyTest, OneParticipantIsOneCallerWhateverItsRole) {
  EXPECT_EQ(IdempotencyKey(kSubmit, Member("p1", Role::kParticipant), "r"),
            IdempotencyKey(kSubmit, Member("p1", Role::kModerator), "r"));
}

TEST(IdempotencyKeyTest, SeparatorsInsidePartsCannotCollide) {
  // Unescaped, both would read "...:organizer:a:b::..." .
  EXPECT_NE(
      IdempotencyKey(kSubmit, Organizer("a:b", "t1"), "r"),
      IdempotencyKey(kSubmit, Organizer("a", "t1"), "r", {.session_id = "b"}));
  EXPECT_NE(IdempotencyKey(kSubmit, Organizer("a", "t1"), "b:r"),
            IdempotencyKey(kSubmit, Organizer("a", "t1"), "r",
                           {.participant_id = "b"}));
  // A part never opens a hash tag of its own, nor an escape that is not one.
  std::string key = IdempotencyKey(kSubmit, Organizer("{x}%3A", "t1"), "r:{}");
  EXPECT_FALSE(absl::StrContains(key, "{")) << key;
  EXPECT_FALSE(absl::StrContains(key, "}")) << key;
  EXPECT_TRUE(absl::StrContains(key, ":%7Bx%7D%253A:")) << key;
  EXPECT_TRUE(absl::StrContains(key, ":r%3A%7B%7D")) << key;
}

}  // namespace
}  // namespace townhall
