// Who votes, with what weight (issue 20, slice 3): eligibility from the
// session's CONFIRMED registrations taken when the poll opens, optionally
// only those present; one ballot per organization (its delegate, or the
// substitute when no delegate is present; a second delegate refused);
// weights; quorum, turnout and the motions' majority rules.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/integration/polls/polls_fixture.h"

namespace townhall::testing {
namespace {

using ::testing::HasSubstr;

class PollEligibilityTest : public PollsTest {
 protected:
  // A participant of `organization_id` registered by the organizer with
  // `delegation` (the organization must be invited).
  absl::StatusOr<std::string> Delegate(const std::string& name,
                                       const std::string& organization_id,
                                       v1::Delegation delegation) {
    TownhallClient organizer = Organizer();
    absl::StatusOr<Member> m = NewParticipant(organizer, name, organization_id);
    if (!m.ok()) return m.status();
    v1::RegisterRequest reg;
    reg.set_session_id(sid());
    reg.set_participant_id(m->participant_id);
    reg.set_delegation(delegation);
    absl::StatusOr<v1::RegisterResponse> registered = organizer.Register(reg);
    if (!registered.ok()) return registered.status();
    return m->participant_id;
  }

  // A new organization invited with `seats` delegate seats.
  absl::StatusOr<std::string> InvitedOrganization(const std::string& name,
                                                  int seats) {
    TownhallClient organizer = Organizer();
    v1::CreateOrganizationRequest org;
    org.mutable_organization()->set_name(absl::StrCat(name, " ", NewId()));
    org.mutable_organization()->set_country_code("DE");
    org.mutable_organization()->set_city("Berlin");
    absl::StatusOr<v1::CreateOrganizationResponse> made =
        organizer.CreateOrganization(org);
    if (!made.ok()) return made.status();
    v1::InviteOrganizationRequest invite;
    invite.set_session_id(sid());
    invite.set_organization_id(made->organization().id());
    invite.set_seat_quota(seats);
    absl::Status invited = organizer.InviteOrganization(invite).status();
    if (!invited.ok()) return invited;
    return made->organization().id();
  }

  absl::Status Attend(const std::string& participant_id) {
    v1::RecordAttendanceRequest attend;
    attend.set_session_id(sid());
    attend.set_participant_id(participant_id);
    attend.set_action(v1::ATTENDANCE_ACTION_JOIN);
    return Organizer().RecordAttendance(attend).status();
  }

  static v1::Poll Motion() {
    v1::Poll motion;
    motion.set_kind(v1::POLL_KIND_MOTION);
    motion.set_question("Kelishuv 3 qabul qilinsinmi?");
    motion.set_agenda_item_id("item3");
    return motion;
  }
};

TEST_F(PollEligibilityTest, OnlyConfirmedRegistrationsAtTheOpenVote) {
  ASSERT_OK_AND_ASSIGN(Member observer,
                       Join("Kuzatuvchi", v1::SESSION_ROLE_OBSERVER));
  const std::string id =
      Opened(ChoicePoll(v1::POLL_KIND_SINGLE_CHOICE, {"Ha", "Yo'q"}));
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> late,
                       RegisterVoters(1, "Kechikkan"));

  struct Refusal {
    std::string name;
    std::string participant_id;
    std::string message;
  };
  for (const Refusal& r : std::vector<Refusal>{
           {"never registered", "nobody-registered",
            "no CONFIRMED registration in the session when the poll opened"},
           {"registered after the open", late[0], "no CONFIRMED registration"},
           {"observer", observer.participant_id, "observers do not vote"},
       }) {
    SCOPED_TRACE(r.name);
    absl::StatusOr<v1::CastBallotResponse> cast =
        CastFor(r.participant_id, id, Options({"1"}));
    ASSERT_EQ(cast.status().code(), PollCode::kPermissionDenied)
        << cast.status();
    EXPECT_THAT(cast.status().message(), HasSubstr(r.message));
  }
  // A join token of an observer is refused the same way.
  EXPECT_EQ(Cast(observer, id, Options({"1"})).status().code(),
            PollCode::kPermissionDenied);
  ASSERT_OK(Cast(voters_[0], id, Options({"1"})).status());
  const v1::Poll poll = Moderated(id);
  // The moderator and the three voters; not the observer nor the late one.
  EXPECT_EQ(poll.results().eligible_count(), 4);
  EXPECT_EQ(poll.results().ballot_weight(), 1);
  EXPECT_DOUBLE_EQ(poll.results().turnout(), 0.25);
  EXPECT_TRUE(poll.results().quorum_reached());  // no quorum asked
}

TEST_F(PollEligibilityTest, PresentOnlyTakesAttendanceAtTheOpen) {
  ASSERT_OK(Attend(voters_[0].participant_id));
  v1::Poll poll = ChoicePoll(v1::POLL_KIND_SINGLE_CHOICE, {"Ha", "Yo'q"});
  poll.set_present_only(true);
  const std::string id = Opened(poll);
  absl::StatusOr<v1::CastBallotResponse> absent =
      Cast(voters_[1], id, Options({"1"}));
  ASSERT_EQ(absent.status().code(), PollCode::kPermissionDenied);
  EXPECT_THAT(absent.status().message(), HasSubstr("only those present"));
  ASSERT_OK(Cast(voters_[0], id, Options({"2"})).status());
  const v1::PollResults results = Moderated(id).results();
  EXPECT_EQ(results.eligible_count(), 1);
  EXPECT_EQ(results.present_count(), 1);
  EXPECT_DOUBLE_EQ(results.turnout(), 1.0);
}

TEST_F(PollEligibilityTest, OneWeightedBallotPerOrganization) {
  // Org A: two delegates (one present) and a substitute; org B: an absent
  // delegate and a substitute (a substitute holds no seat and records no
  // attendance). A weighs 3, B 2.
  ASSERT_OK_AND_ASSIGN(std::string org_a, InvitedOrganization("Jamiyat A", 2));
  ASSERT_OK_AND_ASSIGN(std::string org_b, InvitedOrganization("Jamiyat B", 1));
  ASSERT_OK_AND_ASSIGN(std::string a1,
                       Delegate("A1", org_a, v1::DELEGATION_DELEGATE));
  ASSERT_OK_AND_ASSIGN(std::string a2,
                       Delegate("A2", org_a, v1::DELEGATION_DELEGATE));
  ASSERT_OK_AND_ASSIGN(std::string a_sub,
                       Delegate("A zaxira", org_a, v1::DELEGATION_SUBSTITUTE));
  ASSERT_OK_AND_ASSIGN(std::string b1,
                       Delegate("B1", org_b, v1::DELEGATION_DELEGATE));
  ASSERT_OK_AND_ASSIGN(std::string b_sub,
                       Delegate("B zaxira", org_b, v1::DELEGATION_SUBSTITUTE));
  ASSERT_OK(Attend(a1));

  v1::Poll motion = Motion();
  motion.set_ballot_unit(v1::BALLOT_UNIT_ORGANIZATION);
  (*motion.mutable_organization_weights())[org_a] = 3;
  (*motion.mutable_organization_weights())[org_b] = 2;
  motion.set_quorum_percent(50);
  motion.set_majority_rule(v1::MAJORITY_RULE_TWO_THIRDS);
  motion.set_majority_base(v1::MAJORITY_BASE_ELIGIBLE);
  const std::string id = Opened(motion);

  // A's substitute: A's delegate is present.
  absl::StatusOr<v1::CastBallotResponse> cast =
      CastFor(a_sub, id, Options({"no"}));
  ASSERT_EQ(cast.status().code(), PollCode::kPermissionDenied);
  EXPECT_THAT(cast.status().message(), HasSubstr("delegate votes"));
  // Someone who registered as a person, not for an organization.
  cast = Cast(voters_[0], id, Options({"no"}));
  ASSERT_EQ(cast.status().code(), PollCode::kPermissionDenied);
  EXPECT_THAT(cast.status().message(),
              HasSubstr("only its delegates and substitutes"));

  ASSERT_OK(CastFor(a1, id, Options({"yes"})).status());
  // The second delegate of A is refused.
  cast = CastFor(a2, id, Options({"no"}));
  ASSERT_EQ(cast.status().code(), PollCode::kFailedPrecondition);
  EXPECT_THAT(
      cast.status().message(),
      HasSubstr(absl::StrCat("organization ", org_a, " has cast its ballot")));
  // B's delegate is absent: its substitute votes; then B has voted.
  ASSERT_OK_AND_ASSIGN(v1::CastBallotResponse by_sub,
                       CastFor(b_sub, id, Options({"no"})));
  EXPECT_TRUE(by_sub.changed());
  cast = CastFor(b1, id, Options({"yes"}));
  ASSERT_EQ(cast.status().code(), PollCode::kFailedPrecondition);

  ASSERT_OK(Close(id).status());
  ASSERT_OK_AND_ASSIGN(v1::GetPollResponse got, Get(moderator_.token, id));
  const v1::PollResults& results = got.poll().results();
  EXPECT_EQ(TallyText(results), "yes:3 no:2 abstain:0");
  EXPECT_EQ(results.ballot_count(), 2);
  EXPECT_EQ(results.eligible_count(), 2);
  EXPECT_EQ(results.eligible_weight(), 5);
  EXPECT_EQ(results.present_count(), 1);  // A: its delegate
  EXPECT_EQ(results.present_weight(), 3);
  EXPECT_EQ(results.ballot_weight(), 5);
  EXPECT_TRUE(results.quorum_reached());
  // Two thirds of the eligible weight 5 is 4: 3 is not enough.
  EXPECT_EQ(results.motion().required(), 4);
  EXPECT_FALSE(results.motion().adopted());
  ASSERT_EQ(got.ballots_size(), 2);
  for (const v1::NamedBallot& ballot : got.ballots()) {
    if (ballot.organization_id() == org_a) {
      EXPECT_EQ(ballot.participant_id(), a1);
    } else {
      EXPECT_EQ(ballot.organization_id(), org_b);
      EXPECT_EQ(ballot.participant_id(), b_sub);
    }
  }
}

// The quorum and majority table through the service: 10 eligible (the
// moderator, 3 voters, 6 more), nobody present.
TEST_F(PollEligibilityTest, QuorumAndMajorityTable) {
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> more,
                       RegisterVoters(6, "Ovoz beruvchi"));
  std::vector<std::string> everyone = {moderator_.participant_id};
  for (const Member& m : voters_) everyone.push_back(m.participant_id);
  everyone.insert(everyone.end(), more.begin(), more.end());
  struct Case {
    v1::MajorityRule rule;
    v1::MajorityBase base;
    int quorum;
    int yes, no, abstain;
    bool quorum_reached, adopted;
  };
  const v1::MajorityRule simple = v1::MAJORITY_RULE_SIMPLE;
  const v1::MajorityRule two_thirds = v1::MAJORITY_RULE_TWO_THIRDS;
  for (const Case& c : std::vector<Case>{
           {simple, v1::MAJORITY_BASE_VOTES_CAST, 0, 3, 2, 5, true, true},
           {simple, v1::MAJORITY_BASE_VOTES_CAST, 0, 2, 2, 1, true, false},
           {simple, v1::MAJORITY_BASE_ELIGIBLE, 0, 5, 0, 0, true, false},
           {simple, v1::MAJORITY_BASE_ELIGIBLE, 0, 6, 0, 0, true, true},
           {two_thirds, v1::MAJORITY_BASE_VOTES_CAST, 0, 4, 2, 0, true, true},
           {two_thirds, v1::MAJORITY_BASE_VOTES_CAST, 0, 3, 2, 0, true, false},
           {two_thirds, v1::MAJORITY_BASE_VOTES_CAST, 60, 4, 1, 0, false,
            false},
           {two_thirds, v1::MAJORITY_BASE_VOTES_CAST, 60, 4, 1, 1, true, true},
       }) {
    SCOPED_TRACE(absl::StrCat(
        v1::MajorityRule_Name(c.rule), " of ", v1::MajorityBase_Name(c.base),
        " quorum ", c.quorum, "%: ", c.yes, "/", c.no, "/", c.abstain));
    v1::Poll motion = Motion();
    motion.set_majority_rule(c.rule);
    motion.set_majority_base(c.base);
    motion.set_quorum_percent(c.quorum);
    const std::string id = Opened(motion);
    size_t next = 0;
    for (const auto& [choice, n] : {std::pair<const char*, int>{"yes", c.yes},
                                    {"no", c.no},
                                    {"abstain", c.abstain}}) {
      for (int i = 0; i < n; ++i) {
        ASSERT_OK(CastFor(everyone[next++], id, Options({choice})).status());
      }
    }
    ASSERT_OK_AND_ASSIGN(v1::Poll closed, Close(id));
    EXPECT_EQ(closed.results().eligible_count(), 10);
    EXPECT_EQ(closed.results().quorum_reached(), c.quorum_reached);
    EXPECT_EQ(closed.results().motion().adopted(), c.adopted);
  }
}

TEST_F(PollEligibilityTest, AReopenKeepsTheSnapshotAndSubstitutesNeedAnOrg) {
  ASSERT_OK_AND_ASSIGN(std::string org, InvitedOrganization("Jamiyat C", 1));
  ASSERT_OK_AND_ASSIGN(std::string sub,
                       Delegate("C zaxira", org, v1::DELEGATION_SUBSTITUTE));
  const std::string id =
      Opened(ChoicePoll(v1::POLL_KIND_SINGLE_CHOICE, {"Ha", "Yo'q"}));
  // One ballot per participant: a substitute (STANDBY) holds no seat.
  absl::StatusOr<v1::CastBallotResponse> cast =
      CastFor(sub, id, Options({"1"}));
  ASSERT_EQ(cast.status().code(), PollCode::kPermissionDenied);
  EXPECT_THAT(cast.status().message(),
              HasSubstr("a substitute votes only in polls with one ballot "
                        "per organization"));
  ASSERT_OK(Close(id).status());
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> late,
                       RegisterVoters(1, "Kechikkan"));
  ASSERT_OK(Open(id, "bir ovoz yo'qoldi").status());
  cast = CastFor(late[0], id, Options({"1"}));
  ASSERT_EQ(cast.status().code(), PollCode::kPermissionDenied);
  EXPECT_EQ(Moderated(id).results().eligible_count(), 4);
}

TEST_F(PollEligibilityTest, NoBallotsOnceTheSessionIsOver) {
  const std::string id =
      Opened(ChoicePoll(v1::POLL_KIND_SINGLE_CHOICE, {"Ha", "Yo'q"}));
  v1::EndSessionRequest end;
  end.set_session_id(sid());
  ASSERT_OK(tenant_->client.EndSession(end).status());
  absl::StatusOr<v1::CastBallotResponse> cast =
      CastFor(voters_[0].participant_id, id, Options({"1"}));
  ASSERT_EQ(cast.status().code(), PollCode::kFailedPrecondition);
  EXPECT_THAT(cast.status().message(),
              HasSubstr("polls can no longer be voted in"));
}

TEST_F(PollEligibilityTest, BadEligibilitySettingsAreRefused) {
  v1::Poll weighted = ChoicePoll(v1::POLL_KIND_SINGLE_CHOICE, {"Ha", "Yo'q"});
  (*weighted.mutable_organization_weights())["org1"] = 2;
  absl::StatusOr<v1::Poll> made = Create(weighted);
  ASSERT_EQ(made.status().code(), PollCode::kInvalidArgument);
  EXPECT_THAT(made.status().message(), HasSubstr("poll.organization_weights"));
  v1::Poll quorum = Motion();
  quorum.set_quorum_percent(-1);
  made = Create(quorum);
  ASSERT_EQ(made.status().code(), PollCode::kInvalidArgument);
  EXPECT_THAT(made.status().message(), HasSubstr("poll.quorum_percent"));
}

}  // namespace
}  // namespace townhall::testing
