// Ballot secrecy. The Redis check: the same two voters vote in two
// sessions with their choices swapped (Alice A, Bob B; then Alice B, Bob
// A). If no key links a voter to a choice, everything the polls wrote in
// the two sessions is the same once session ids, poll ids and clock
// readings are taken out; a NAMED poll, which keeps the link, must differ
// (so the comparison can fail).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "services/common/redis/redis_connection.h"
#include "tests/integration/polls/polls_fixture.h"
#include "tests/testing/redis_server.h"

namespace townhall::testing {
namespace {

// Every key of one session's slot with its content, one sorted line each;
// ids and clock readings replaced.
std::string SlotDump(const std::string& tenant_id,
                     const std::string& session_id,
                     const std::string& poll_id) {
  RedisConnection redis(SharedRedisOptions());
  redis.set_deadline(absl::Now() + absl::Seconds(30));
  const std::string tag =
      absl::StrCat("th:{s:", tenant_id, ":", session_id, "}");
  absl::StatusOr<std::vector<RedisReply>> found =
      CommandOnEveryMaster({"KEYS", absl::StrCat(tag, "*")});
  EXPECT_TRUE(found.ok()) << found.status();
  if (!found.ok()) return "";
  std::vector<std::string> lines;
  for (const RedisReply& node : *found) {
    for (const RedisReply& key : node.elements) {
      absl::StatusOr<RedisReply> type = redis.Command({"TYPE", key.str});
      EXPECT_TRUE(type.ok());
      if (!type.ok()) continue;
      std::vector<std::string> command;
      if (type->str == "string") command = {"GET", key.str};
      if (type->str == "hash") command = {"HGETALL", key.str};
      if (type->str == "set") command = {"SMEMBERS", key.str};
      if (type->str == "zset") command = {"ZRANGE", key.str, "0", "-1"};
      if (type->str == "list") command = {"LRANGE", key.str, "0", "-1"};
      if (type->str == "stream") command = {"XRANGE", key.str, "-", "+"};
      absl::StatusOr<RedisReply> value = redis.Command(command);
      EXPECT_TRUE(value.ok()) << key.str;
      std::vector<std::string> parts;
      std::function<void(const RedisReply&)> collect =
          [&](const RedisReply& r) {
            if (r.is_array()) {
              for (const RedisReply& e : r.elements) collect(e);
            } else {
              parts.push_back(r.type == RedisReply::Type::kInteger
                                  ? absl::StrCat(r.integer)
                                  : r.str);
            }
          };
      if (value.ok()) collect(*value);
      // Hash fields and set members come in no fixed order.
      if (type->str == "hash") {
        std::vector<std::string> pairs;
        for (size_t i = 0; i + 1 < parts.size(); i += 2) {
          pairs.push_back(parts[i] + "=" + parts[i + 1]);
        }
        parts = pairs;
      }
      if (type->str == "hash" || type->str == "set") {
        std::sort(parts.begin(), parts.end());
      }
      lines.push_back(absl::StrCat(key.str, " ", type->str, ": ",
                                   absl::StrJoin(parts, " | ")));
    }
  }
  std::sort(lines.begin(), lines.end());
  std::string dump = absl::StrJoin(lines, "\n");
  dump = absl::StrReplaceAll(dump,
                             {{session_id, "<session>"}, {poll_id, "<poll>"}});
  // The client library's own request ids (random, one per call); first,
  // as one may hold 13 digits in a row that the clock rule below would
  // take (seen: the test failed about once in 5 runs).
  dump =
      std::regex_replace(dump, std::regex(R"(th-[0-9a-f]{32})"), "<request>");
  dump = std::regex_replace(dump, std::regex(R"(\d{4}-\d\d-\d\dT[0-9:.]+Z)"),
                            "<time>");
  dump = std::regex_replace(dump, std::regex(R"(\d{13})"), "<ms>");
  return dump;
}

class PollSecrecyTest : public PollsTest {
 protected:
  // Alice and Bob, the only ones registered in two live sessions, with a
  // join token for each (the same registrations in both, so that the
  // eligibility each poll snapshots at its open is the same too).
  void SetUp() override {
    PollsTest::SetUp();
    for (v1::Session* session : {&first_session_, &other_session_}) {
      ASSERT_OK_AND_ASSIGN(*session, NewQuestionsSession(tenant_->client, true,
                                                         "Muloqot: maxfiy"));
    }
    TownhallClient organizer = Organizer();
    for (const char* name : {"Alice Usmonova", "Bob Rahimov"}) {
      ASSERT_OK_AND_ASSIGN(Member m, NewParticipant(organizer, name));
      std::vector<std::string> tokens;
      for (const std::string& session :
           {first_session_.id(), other_session_.id()}) {
        v1::RegisterRequest reg;
        reg.set_session_id(session);
        reg.set_participant_id(m.participant_id);
        ASSERT_OK(organizer.Register(reg).status());
        v1::IssueJoinTokenRequest issue;
        issue.set_session_id(session);
        issue.set_participant_id(m.participant_id);
        ASSERT_OK_AND_ASSIGN(v1::IssueJoinTokenResponse token,
                             organizer.IssueJoinToken(issue));
        tokens.push_back(token.token());
      }
      people_.push_back({m.participant_id, tokens});
    }
  }

  // In `session` (0 or 1): a poll with `secrecy`, Alice votes `alice`,
  // Bob `bob`; returns the slot's dump.
  std::string VoteAndDump(int session, v1::BallotSecrecy secrecy,
                          const std::string& alice, const std::string& bob) {
    const std::string session_id =
        session == 0 ? first_session_.id() : other_session_.id();
    TownhallClient organizer = Organizer();
    v1::CreatePollRequest create;
    create.set_session_id(session_id);
    *create.mutable_poll() =
        ChoicePoll(v1::POLL_KIND_SINGLE_CHOICE, {"Ha", "Yo'q"});
    create.mutable_poll()->set_secrecy(secrecy);
    absl::StatusOr<v1::CreatePollResponse> made = organizer.CreatePoll(create);
    EXPECT_TRUE(made.ok()) << made.status();
    if (!made.ok()) return "";
    const std::string poll_id = made->poll().id();
    v1::OpenPollRequest open;
    open.set_session_id(session_id);
    open.set_poll_id(poll_id);
    EXPECT_OK(organizer.OpenPoll(open).status());
    for (const auto& [person, choice] :
         {std::pair<int, std::string>{0, alice}, {1, bob}}) {
      v1::CastBallotRequest cast;
      cast.set_session_id(session_id);
      cast.set_poll_id(poll_id);
      cast.set_participant_id(people_[person].id);
      *cast.mutable_ballot() = Options({choice});
      EXPECT_OK(
          Client(people_[person].tokens[session]).CastBallot(cast).status());
    }
    // Runners see no tally of an open SECRET poll.
    v1::GetPollRequest get;
    get.set_session_id(session_id);
    get.set_poll_id(poll_id);
    absl::StatusOr<v1::GetPollResponse> seen = organizer.GetPoll(get);
    EXPECT_TRUE(seen.ok()) << seen.status();
    if (seen.ok()) {
      EXPECT_EQ(seen->poll().ballot_count(), 2);
      EXPECT_EQ(seen->poll().has_results(),
                secrecy != v1::BALLOT_SECRECY_SECRET);
      EXPECT_EQ(seen->ballots_size(),
                secrecy == v1::BALLOT_SECRECY_NAMED ? 2 : 0);
    }
    return SlotDump(tenant_->id, session_id, poll_id);
  }

  struct Person {
    std::string id;
    std::vector<std::string> tokens;
  };
  v1::Session first_session_;
  v1::Session other_session_;
  std::vector<Person> people_;
};

TEST_F(PollSecrecyTest, SecretBallotsLeaveNoVoterChoiceLink) {
  const std::string first = VoteAndDump(0, v1::BALLOT_SECRECY_SECRET, "1", "2");
  const std::string swapped =
      VoteAndDump(1, v1::BALLOT_SECRECY_SECRET, "2", "1");
  ASSERT_FALSE(first.empty());
  EXPECT_THAT(first, ::testing::HasSubstr(people_[0].id));  // who voted
  EXPECT_EQ(first, swapped);
}

TEST_F(PollSecrecyTest, AnonymousBallotsLeaveNoVoterChoiceLink) {
  EXPECT_EQ(VoteAndDump(0, v1::BALLOT_SECRECY_ANONYMOUS, "1", "2"),
            VoteAndDump(1, v1::BALLOT_SECRECY_ANONYMOUS, "2", "1"));
}

TEST_F(PollSecrecyTest, NamedBallotsDoKeepTheLink) {
  EXPECT_NE(VoteAndDump(0, v1::BALLOT_SECRECY_NAMED, "1", "2"),
            VoteAndDump(1, v1::BALLOT_SECRECY_NAMED, "2", "1"));
}

TEST_F(PollsTest, AnonymousBallotsCannotBeChanged) {
  v1::Poll poll = ChoicePoll(v1::POLL_KIND_SINGLE_CHOICE, {"Ha", "Yo'q"});
  poll.set_secrecy(v1::BALLOT_SECRECY_ANONYMOUS);
  const std::string id = Opened(poll);
  ASSERT_OK(Cast(voters_[0], id, Options({"1"})).status());
  absl::StatusOr<v1::CastBallotResponse> again =
      Cast(voters_[0], id, Options({"1"}));
  EXPECT_EQ(again.status().code(), PollCode::kFailedPrecondition);
  EXPECT_EQ(Moderated(id).ballot_count(), 1);
  // Participants see who voted only as a count, never a ballot list.
  absl::StatusOr<v1::GetPollResponse> got = Get(voters_[1].token, id);
  ASSERT_OK(got.status());
  EXPECT_EQ(got->ballots_size(), 0);
}

}  // namespace
}  // namespace townhall::testing
