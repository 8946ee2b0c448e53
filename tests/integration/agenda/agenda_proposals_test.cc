// Topic proposals (ProposalsLogic): members propose and see their own;
// the session's runners accept or decline them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/integration/agenda/agenda_fixture.h"

namespace townhall::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::SizeIs;

using Code = absl::StatusCode;

TEST(TopicProposalTest, MembersSeeTheirOwn) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::Session s, NewSession(t, false));
  TownhallClient alice = MemberClient(t, s.id(), "alice");
  TownhallClient bob = MemberClient(t, s.id(), "bob");
  auto propose = [&](TownhallClient& client, const std::string& who,
                     const std::string& title, const std::string& rid = "") {
    v1::ProposeTopicRequest request;
    request.set_session_id(s.id());
    request.set_participant_id(who);
    request.set_title(title);
    request.set_request_id(rid);
    return client.ProposeTopic(request);
  };
  ASSERT_OK_AND_ASSIGN(v1::ProposeTopicResponse a1,
                       propose(alice, "alice", "Pension transfers", "r1"));
  ASSERT_OK_AND_ASSIGN(v1::ProposeTopicResponse a1again,
                       propose(alice, "alice", "Pension transfers", "r1"));
  EXPECT_EQ(a1again.proposal().id(), a1.proposal().id());
  EXPECT_EQ(a1.proposal().status(), v1::TOPIC_PROPOSAL_STATUS_PENDING);
  ASSERT_OK_AND_ASSIGN(v1::ProposeTopicResponse b1,
                       propose(bob, "bob", "Schools abroad"));
  // For someone else: refused for members, allowed for organizers.
  EXPECT_THAT(propose(bob, "alice", "Forged"),
              HasCode(Code::kPermissionDenied));
  ASSERT_OK_AND_ASSIGN(v1::ProposeTopicResponse o1,
                       propose(t.client, "carol", "Consular fees"));
  EXPECT_THAT(propose(t.client, "", "No proposer"),
              HasCode(Code::kInvalidArgument));
  EXPECT_THAT(propose(t.client, "carol", ""), HasCode(Code::kInvalidArgument));

  v1::ListTopicProposalsRequest list;
  list.set_session_id(s.id());
  ASSERT_OK_AND_ASSIGN(v1::ListTopicProposalsResponse all,
                       t.client.ListTopicProposals(list));
  EXPECT_THAT(all.proposals(), SizeIs(3));
  ASSERT_OK_AND_ASSIGN(v1::ListTopicProposalsResponse own,
                       alice.ListTopicProposals(list));
  ASSERT_THAT(own.proposals(), SizeIs(1));
  EXPECT_EQ(own.proposals(0).participant_id(), "alice");

  // Accept: a new item, linked both ways.
  v1::AcceptTopicProposalRequest accept;
  accept.set_session_id(s.id());
  accept.set_topic_proposal_id(a1.proposal().id());
  *accept.mutable_planned_duration() = Dur(absl::Minutes(10));
  ASSERT_OK_AND_ASSIGN(v1::AcceptTopicProposalResponse accepted,
                       t.client.AcceptTopicProposal(accept));
  EXPECT_EQ(accepted.proposal().status(), v1::TOPIC_PROPOSAL_STATUS_ACCEPTED);
  EXPECT_EQ(accepted.proposal().agenda_item_id(), accepted.item().id());
  EXPECT_EQ(accepted.item().topic_proposal_id(), a1.proposal().id());
  EXPECT_EQ(accepted.item().title(), "Pension transfers");
  EXPECT_THAT(accepted.item().presenter_participant_ids(),
              ElementsAre("alice"));
  EXPECT_THAT(t.client.AcceptTopicProposal(accept),
              HasCode(Code::kFailedPrecondition));
  accept.set_topic_proposal_id("missing");
  EXPECT_THAT(t.client.AcceptTopicProposal(accept), HasCode(Code::kNotFound));

  // Decline: a reason is required; the proposer sees it.
  v1::DeclineTopicProposalRequest decline;
  decline.set_session_id(s.id());
  decline.set_topic_proposal_id(b1.proposal().id());
  EXPECT_THAT(t.client.DeclineTopicProposal(decline),
              HasCode(Code::kInvalidArgument));
  decline.set_reason("Covered at the next session");
  ASSERT_OK(t.client.DeclineTopicProposal(decline).status());
  EXPECT_THAT(t.client.DeclineTopicProposal(decline),
              HasCode(Code::kFailedPrecondition));
  ASSERT_OK_AND_ASSIGN(v1::ListTopicProposalsResponse bobs,
                       bob.ListTopicProposals(list));
  ASSERT_THAT(bobs.proposals(), SizeIs(1));
  EXPECT_EQ(bobs.proposals(0).status(), v1::TOPIC_PROPOSAL_STATUS_DECLINED);
  EXPECT_EQ(bobs.proposals(0).decline_reason(), "Covered at the next session");
  (void)o1;
}

}  // namespace
}  // namespace townhall::testing
