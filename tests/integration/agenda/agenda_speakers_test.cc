// The speakers' queue (SpeakersLogic): the fairness rules, overruns,
// raising and lowering hands, and the error codes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/integration/agenda/agenda_fixture.h"

namespace townhall::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;

using Code = absl::StatusCode;

TEST_F(AgendaLiveTest, FairnessFirstTimersThenArrivalWithOrganizationLimit) {
  // A1 and B1 spoke on an earlier item: they are not first-time speakers.
  std::string earlier = NewItem("Opening");
  for (const auto& [p, org] : std::vector<std::pair<std::string, std::string>>{
           {"a1", "orgA"}, {"b1", "orgB"}}) {
    ASSERT_OK(Raise(p, org, earlier).status());
    ASSERT_OK(CallNext(earlier).status());
  }
  ASSERT_OK(FinishTurn(earlier).status());

  v1::SpeakersQueueOptions options;
  options.set_first_time_speakers_first(true);
  options.set_max_speakers_per_organization(2);
  ASSERT_OK(SetOptions(item_, options));
  // Ten hands from four organizations, in this arrival order.
  const std::vector<std::pair<std::string, std::string>> hands = {
      {"a1", "orgA"}, {"a2", "orgA"}, {"a3", "orgA"}, {"b1", "orgB"},
      {"a4", "orgA"}, {"b2", "orgB"}, {"c1", "orgC"}, {"b3", "orgB"},
      {"c2", "orgC"}, {"d1", "orgD"}};
  v1::SpeakersQueue queue;
  for (const auto& [p, org] : hands) {
    absl::StatusOr<v1::RaiseHandResponse> raised = Raise(p, org, item_);
    ASSERT_OK(raised.status());
    queue = raised->queue();
  }
  // First-timers first in arrival order; an organization with two speakers
  // on this item is skipped; a1, b1 (not first-time, orgs full) and a4
  // (orgA full) can never be called: they are HELD, after the waiting ones.
  const std::vector<std::string> expected = {"a2", "a3", "b2", "c1",
                                             "b3", "c2", "d1"};
  EXPECT_THAT(Ids(queue, v1::SPEAKER_STATE_WAITING),
              ElementsAreArray(expected));
  EXPECT_THAT(Ids(queue, v1::SPEAKER_STATE_HELD),
              ElementsAre("a1", "b1", "a4"));
  ASSERT_EQ(queue.speakers_size(), 10);
  EXPECT_EQ(queue.speakers(7).participant_id(), "a1");
  for (const v1::Speaker& s : queue.speakers()) {
    EXPECT_EQ(s.first_time(),
              s.participant_id() != "a1" && s.participant_id() != "b1")
        << s.participant_id();
    EXPECT_FALSE(s.organization_id().empty());
  }

  std::vector<std::string> called;
  for (int i = 0; i < 10; ++i) {
    absl::StatusOr<v1::CallNextSpeakerResponse> next = CallNext(item_);
    ASSERT_OK(next.status());
    if (!next->has_speaker()) break;
    called.push_back(next->speaker().participant_id());
    EXPECT_EQ(next->speaker().state(), v1::SPEAKER_STATE_SPEAKING);
    EXPECT_EQ(next->queue().speakers(0).participant_id(), called.back());
  }
  EXPECT_THAT(called, ElementsAreArray(expected));

  v1::GetSpeakersQueueRequest get;
  get.set_session_id(session_.id());
  get.set_agenda_item_id(item_);
  absl::StatusOr<v1::GetSpeakersQueueResponse> got =
      organizer_->GetSpeakersQueue(get);
  ASSERT_OK(got.status());
  // The last one called has been done since no one else could be called.
  EXPECT_THAT(Ids(got->queue(), v1::SPEAKER_STATE_WAITING), ElementsAre());
  EXPECT_THAT(Ids(got->queue(), v1::SPEAKER_STATE_HELD),
              ElementsAre("a1", "b1", "a4"));
  EXPECT_EQ(Ids(got->queue(), v1::SPEAKER_STATE_DONE).size(), 7u);
}

TEST_F(AgendaLiveTest, HeldSpeakersShowTheOrganizationLimit) {
  v1::SpeakersQueueOptions options;
  options.set_max_speakers_per_organization(1);
  ASSERT_OK(SetOptions(item_, options));
  ASSERT_OK(Raise("a1", "orgA", item_).status());
  ASSERT_OK_AND_ASSIGN(v1::RaiseHandResponse raised,
                       Raise("a2", "orgA", item_));
  // a1 is called first, so a2's organization is at its limit: held.
  ASSERT_EQ(raised.queue().speakers_size(), 2);
  const v1::Speaker& held = raised.queue().speakers(1);
  EXPECT_EQ(held.participant_id(), "a2");
  EXPECT_EQ(held.state(), v1::SPEAKER_STATE_HELD);
  EXPECT_EQ(held.hold_reason(), v1::SPEAKER_HOLD_REASON_ORGANIZATION_LIMIT);
  EXPECT_EQ(held.hold_detail(),
            "organization orgA is at its limit of 1 speaker on this item, "
            "counting those called before");
  EXPECT_EQ(raised.queue().speakers(0).hold_reason(),
            v1::SPEAKER_HOLD_REASON_UNSPECIFIED);
  EXPECT_EQ(raised.queue().speakers(0).hold_detail(), "");
  ASSERT_OK(Raise("b1", "orgB", item_).status());

  // The call order skips a2; then nobody is called, and the queue says why.
  EXPECT_EQ(CallNext(item_)->speaker().participant_id(), "a1");
  EXPECT_EQ(CallNext(item_)->speaker().participant_id(), "b1");
  ASSERT_OK_AND_ASSIGN(v1::CallNextSpeakerResponse nobody, CallNext(item_));
  EXPECT_FALSE(nobody.has_speaker());
  EXPECT_THAT(Ids(nobody.queue(), v1::SPEAKER_STATE_WAITING), ElementsAre());
  EXPECT_THAT(Ids(nobody.queue(), v1::SPEAKER_STATE_HELD), ElementsAre("a2"));
  v1::GetSpeakersQueueRequest get;
  get.set_session_id(session_.id());
  get.set_agenda_item_id(item_);
  ASSERT_OK_AND_ASSIGN(v1::GetSpeakersQueueResponse read,
                       organizer_->GetSpeakersQueue(get));
  EXPECT_THAT(Ids(read.queue(), v1::SPEAKER_STATE_HELD), ElementsAre("a2"));
  // The participant sees their own hand held too.
  ASSERT_OK_AND_ASSIGN(read, As("a2", "orgA").GetSpeakersQueue(get));
  EXPECT_THAT(Ids(read.queue(), v1::SPEAKER_STATE_HELD), ElementsAre("a2"));

  // A higher limit releases the hand.
  options.set_max_speakers_per_organization(2);
  v1::SetSpeakersQueueOptionsRequest set;
  set.set_session_id(session_.id());
  set.set_agenda_item_id(item_);
  *set.mutable_options() = options;
  ASSERT_OK_AND_ASSIGN(v1::SetSpeakersQueueOptionsResponse released,
                       organizer_->SetSpeakersQueueOptions(set));
  EXPECT_THAT(Ids(released.queue(), v1::SPEAKER_STATE_WAITING),
              ElementsAre("a2"));
  EXPECT_THAT(Ids(released.queue(), v1::SPEAKER_STATE_HELD), ElementsAre());

  // Held again at the old limit: a held hand can still be lowered, and the
  // moderator can still give a held speaker the floor by name.
  options.set_max_speakers_per_organization(1);
  ASSERT_OK(SetOptions(item_, options));
  ASSERT_OK(Raise("a3", "orgA", item_).status());
  v1::LowerHandRequest lower;
  lower.set_session_id(session_.id());
  lower.set_agenda_item_id(item_);
  lower.set_participant_id("a3");
  ASSERT_OK_AND_ASSIGN(v1::LowerHandResponse lowered,
                       As("a3", "orgA").LowerHand(lower));
  EXPECT_THAT(Ids(lowered.queue(), v1::SPEAKER_STATE_WITHDRAWN),
              ElementsAre("a3"));
  ASSERT_OK_AND_ASSIGN(v1::CallNextSpeakerResponse chosen,
                       CallNext(item_, "a2"));
  EXPECT_EQ(chosen.speaker().participant_id(), "a2");
  EXPECT_EQ(chosen.speaker().state(), v1::SPEAKER_STATE_SPEAKING);
  EXPECT_EQ(chosen.speaker().hold_reason(),
            v1::SPEAKER_HOLD_REASON_UNSPECIFIED);
  // Only waiting or held hands can be called or lowered.
  EXPECT_THAT(CallNext(item_, "a3"), HasCode(Code::kFailedPrecondition));
  EXPECT_THAT(As("a3", "orgA").LowerHand(lower),
              HasCode(Code::kFailedPrecondition));
  // Without an organization there is no limit to be held by.
  ASSERT_OK_AND_ASSIGN(raised, Raise("guest", "", item_));
  EXPECT_THAT(Ids(raised.queue(), v1::SPEAKER_STATE_WAITING),
              ElementsAre("guest"));
}

TEST_F(AgendaLiveTest, RunnersLowerAnyHandMembersOnlyTheirOwn) {
  ASSERT_OK(Raise("p1", "org", item_).status());
  v1::LowerHandRequest lower;
  lower.set_session_id(session_.id());
  lower.set_agenda_item_id(item_);
  lower.set_participant_id("p1");
  // Another participant, or a speaker, may not lower p1's hand.
  EXPECT_EQ(As("p2", "org").LowerHand(lower).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(As("s1", "org", Role::kSpeaker).LowerHand(lower).status().code(),
            absl::StatusCode::kPermissionDenied);
  // A moderator may (a hand raised by mistake, or left up).
  absl::StatusOr<v1::LowerHandResponse> lowered =
      As("m1", "org", Role::kModerator).LowerHand(lower);
  ASSERT_OK(lowered.status());
  EXPECT_EQ(lowered->queue().speakers(0).state(), v1::SPEAKER_STATE_WITHDRAWN);
  // But a moderator still raises only their own hand.
  v1::RaiseHandRequest raise;
  raise.set_session_id(session_.id());
  raise.set_agenda_item_id(item_);
  raise.set_participant_id("p2");
  EXPECT_EQ(As("m1", "org", Role::kModerator).RaiseHand(raise).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(AgendaLiveTest, OverrunIsReported) {
  v1::SpeakersQueueOptions options;
  options.mutable_speaking_time_limit()->set_nanos(100'000'000);  // 100 ms
  ASSERT_OK(SetOptions(item_, options));
  ASSERT_OK(Raise("p1", "org", item_).status());
  ASSERT_OK(Raise("p2", "org", item_).status());
  absl::StatusOr<v1::CallNextSpeakerResponse> next = CallNext(item_);
  ASSERT_OK(next.status());
  EXPECT_EQ(next->speaker().participant_id(), "p1");
  absl::SleepFor(absl::Milliseconds(350));
  absl::StatusOr<v1::FinishSpeakerResponse> finished = FinishTurn(item_);
  ASSERT_OK(finished.status());
  EXPECT_EQ(finished->speaker().participant_id(), "p1");
  EXPECT_EQ(finished->speaker().state(), v1::SPEAKER_STATE_DONE);
  absl::Duration overrun = ToDuration(finished->overrun());
  EXPECT_GE(overrun, absl::Milliseconds(200));
  EXPECT_LT(overrun, absl::Seconds(5));

  // On time: no overrun.
  ASSERT_OK(CallNext(item_).status());
  options.mutable_speaking_time_limit()->set_seconds(60);
  options.mutable_speaking_time_limit()->set_nanos(0);
  ASSERT_OK(SetOptions(item_, options));
  finished = FinishTurn(item_);
  ASSERT_OK(finished.status());
  EXPECT_EQ(finished->speaker().participant_id(), "p2");
  EXPECT_EQ(ToDuration(finished->overrun()), absl::ZeroDuration());
}

TEST_F(AgendaLiveTest, RaiseLowerAndErrorCodes) {
  // A second raise while waiting changes nothing.
  absl::StatusOr<v1::RaiseHandResponse> first = Raise("p1", "org", item_);
  ASSERT_OK(first.status());
  absl::StatusOr<v1::RaiseHandResponse> again = Raise("p1", "org", item_);
  ASSERT_OK(again.status());
  EXPECT_EQ(again->queue().speakers_size(), 1);
  EXPECT_EQ(again->queue().speakers(0).raise_time().seconds(),
            first->queue().speakers(0).raise_time().seconds());
  EXPECT_EQ(again->queue().speakers(0).raise_time().nanos(),
            first->queue().speakers(0).raise_time().nanos());

  v1::LowerHandRequest lower;
  lower.set_session_id(session_.id());
  lower.set_agenda_item_id(item_);
  lower.set_participant_id("p1");
  absl::StatusOr<v1::LowerHandResponse> lowered =
      As("p1", "org").LowerHand(lower);
  ASSERT_OK(lowered.status());
  EXPECT_EQ(lowered->queue().speakers(0).state(), v1::SPEAKER_STATE_WITHDRAWN);
  EXPECT_EQ(As("p1", "org").LowerHand(lower).status().code(),
            absl::StatusCode::kFailedPrecondition);

  // Speaking, then done, then raising again is allowed.
  ASSERT_OK(Raise("p1", "org", item_).status());
  EXPECT_EQ(CallNext(item_)->speaker().participant_id(), "p1");
  EXPECT_EQ(Raise("p1", "org", item_)->queue().speakers_size(), 1);
  ASSERT_OK(FinishTurn(item_).status());
  absl::StatusOr<v1::RaiseHandResponse> after_done = Raise("p1", "org", item_);
  ASSERT_OK(after_done.status());
  EXPECT_THAT(Ids(after_done->queue(), v1::SPEAKER_STATE_WAITING),
              ElementsAre("p1"));
  EXPECT_FALSE(after_done->queue().speakers(0).first_time());

  // Errors.
  EXPECT_EQ(FinishTurn(item_).status().code(),
            absl::StatusCode::kFailedPrecondition);  // nobody speaking
  EXPECT_EQ(CallNext(item_, "nobody").status().code(),
            absl::StatusCode::kFailedPrecondition);  // not waiting
  EXPECT_EQ(Raise("p2", "org", "no-such-item").status().code(),
            absl::StatusCode::kNotFound);
  v1::RaiseHandRequest raise;
  raise.set_session_id(session_.id());
  raise.set_agenda_item_id(item_);
  EXPECT_EQ(organizer_->RaiseHand(raise).status().code(),
            absl::StatusCode::kInvalidArgument);  // no participant
  raise.set_participant_id("someone-else");
  EXPECT_EQ(As("p2", "org").RaiseHand(raise).status().code(),
            absl::StatusCode::kPermissionDenied);  // not their own hand
  v1::SpeakersQueueOptions options;
  options.mutable_speaking_time_limit()->set_seconds(3601);
  EXPECT_EQ(SetOptions(item_, options).code(),
            absl::StatusCode::kInvalidArgument);
  options.mutable_speaking_time_limit()->set_seconds(-1);
  EXPECT_EQ(SetOptions(item_, options).code(),
            absl::StatusCode::kInvalidArgument);
  options.Clear();
  options.set_max_speakers_per_organization(-1);
  EXPECT_EQ(SetOptions(item_, options).code(),
            absl::StatusCode::kInvalidArgument);
  // A participant may not call speakers.
  v1::CallNextSpeakerRequest call;
  call.set_session_id(session_.id());
  call.set_agenda_item_id(item_);
  EXPECT_EQ(As("p2", "org").CallNextSpeaker(call).status().code(),
            absl::StatusCode::kPermissionDenied);

  // No hands once the session is over.
  v1::CancelSessionRequest cancel;
  cancel.set_session_id(session_.id());
  cancel.set_reason("test");
  ASSERT_OK(organizer_->CancelSession(cancel).status());
  EXPECT_EQ(Raise("p3", "org", item_).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace townhall::testing
