// The FOLLOW_UP item's links to the questions carried over from the previous
// occurrence (services/agenda/follow_up_link.h): ids and live status in
// PrepareFollowUp, GetAgenda, WatchAgenda and the minutes, kept current as
// the carried questions are moderated; idempotent; and the refusals (other
// tenants, participants, moderation refused).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tests/integration/agenda/agenda_fixture.h"
#include "tests/integration/questions/questions_fixture.h"

namespace townhall::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAre;

// question id -> link.
std::map<std::string, v1::FollowUpQuestion> Links(const v1::AgendaItem& item) {
  std::map<std::string, v1::FollowUpQuestion> out;
  for (const v1::FollowUpQuestion& q : item.questions()) {
    out[q.question_id()] = q;
  }
  return out;
}

// A monthly series of two occurrences; the first is live and is sid().
class FollowUpQuestionsTest : public QuestionsTest {
 protected:
  void SetUp() override {
    QuestionsTest::SetUp();
    ASSERT_OK_AND_ASSIGN(std::vector<std::string> occurrences,
                         NewQuestionsSeries(tenant_->client));
    first_ = occurrences[0];
    second_ = occurrences[1];
    session_.set_id(first_);
    ASSERT_OK_AND_ASSIGN(author_, Join("Seriya muallifi"));
  }

  absl::StatusOr<v1::PrepareFollowUpResponse> PrepareFollowUp(
      TownhallClient& client) {
    v1::PrepareFollowUpRequest request;
    request.set_session_id(second_);
    return client.PrepareFollowUp(request);
  }

  absl::StatusOr<v1::CarryOverQuestionsResponse> CarryOver() {
    v1::CarryOverQuestionsRequest carry;
    carry.set_session_id(first_);
    return Organizer().CarryOverQuestions(carry);
  }

  // The second occurrence's FOLLOW_UP item as GetAgenda reads it.
  v1::AgendaItem FollowUpItem() {
    absl::StatusOr<v1::AgendaSnapshot> agenda = Agenda(*tenant_, second_);
    EXPECT_TRUE(agenda.ok()) << agenda.status();
    if (!agenda.ok()) return {};
    for (const v1::AgendaItem& item : agenda->items()) {
      if (item.kind() == v1::AGENDA_ITEM_KIND_FOLLOW_UP) return item;
    }
    ADD_FAILURE() << "no FOLLOW_UP item";
    return {};
  }

  std::string Minutes(v1::MinutesFormat format) {
    v1::ExportMinutesRequest request;
    request.set_session_id(second_);
    request.set_format(format);
    absl::StatusOr<v1::ExportMinutesResponse> minutes =
        tenant_->client.ExportMinutes(request);
    EXPECT_TRUE(minutes.ok()) << minutes.status();
    return minutes.ok() ? minutes->content() : "";
  }

  std::string first_;
  std::string second_;
};

TEST_F(FollowUpQuestionsTest, CarriedQuestionsAreLinkedWithTheirLiveStatus) {
  const std::string open = Open(author_, "Konsullik xizmati qachon?");
  ASSERT_OK_AND_ASSIGN(v1::SubmitQuestionResponse submitted,
                       Submit(author_, "Hali ko'rilmagan savol"));
  const std::string pending = submitted.question().id();
  ASSERT_EQ(submitted.question().status(), v1::QUESTION_STATUS_PENDING);

  // Prepared before anything was carried: no links yet.
  ASSERT_OK_AND_ASSIGN(v1::PrepareFollowUpResponse prepared,
                       PrepareFollowUp(tenant_->client));
  EXPECT_THAT(prepared.item().questions(), IsEmpty());
  const std::string etag = prepared.item().etag();

  ASSERT_OK_AND_ASSIGN(v1::CarryOverQuestionsResponse carried, CarryOver());
  ASSERT_THAT(carried.question_ids(), UnorderedElementsAre(open, pending));
  v1::AgendaItem item = FollowUpItem();
  std::map<std::string, v1::FollowUpQuestion> links = Links(item);
  ASSERT_THAT(links, SizeIs(2));
  EXPECT_EQ(links[open].status(), v1::QUESTION_STATUS_APPROVED);
  EXPECT_EQ(links[open].text(), "Konsullik xizmati qachon?");
  EXPECT_EQ(links[open].carried_from_session_id(), first_);
  EXPECT_EQ(links[pending].status(), v1::QUESTION_STATUS_PENDING);
  // Not every participant may read a pending question: no text.
  EXPECT_EQ(links[pending].text(), "");
  // Links are output only: the item's etag stays.
  EXPECT_EQ(item.etag(), etag);

  // A watcher sees them in its snapshot, then every change of status.
  WatchReader watcher(channel(), tenant_->token, second_);
  std::vector<v1::WatchAgendaResponse> got = watcher.WaitFor(1);
  ASSERT_FALSE(got.empty());
  ASSERT_TRUE(got[0].has_snapshot());
  ASSERT_GE(got[0].snapshot().items_size(), 1);
  EXPECT_THAT(Links(got[0].snapshot().items(0)), SizeIs(2));

  ASSERT_OK(Organizer().Answer(second_, open, "Har oy").status());
  ASSERT_OK(Organizer().Approve(second_, pending).status());
  got = watcher.WaitFor(3);
  ASSERT_THAT(got, SizeIs(3));
  ASSERT_TRUE(got[1].has_change());
  EXPECT_EQ(got[1].change().kind(), "agenda.item.updated");
  EXPECT_EQ(Links(got[1].change().item())[open].status(),
            v1::QUESTION_STATUS_ANSWERED);
  EXPECT_EQ(Links(got[2].change().item())[pending].status(),
            v1::QUESTION_STATUS_APPROVED);
  EXPECT_EQ(Links(got[2].change().item())[pending].text(),
            "Hali ko'rilmagan savol");
  links = Links(FollowUpItem());
  EXPECT_EQ(links[open].status(), v1::QUESTION_STATUS_ANSWERED);
  EXPECT_EQ(links[pending].status(), v1::QUESTION_STATUS_APPROVED);

  // The minutes, for people and for programs.
  const std::string md = Minutes(v1::MINUTES_FORMAT_MARKDOWN);
  EXPECT_THAT(md, HasSubstr("Carried questions:"));
  EXPECT_THAT(md, HasSubstr(absl::StrCat(
                      "- ", open, " (ANSWERED): Konsullik xizmati qachon?")));
  EXPECT_THAT(md, HasSubstr(absl::StrCat("- ", pending, " (APPROVED)")));
  const std::string json = Minutes(v1::MINUTES_FORMAT_JSON);
  EXPECT_THAT(json, HasSubstr(absl::StrCat("\"questionId\":\"", open, "\"")));
  EXPECT_THAT(json, HasSubstr("QUESTION_STATUS_ANSWERED"));

  // Idempotent: carrying and preparing again link nothing new.
  const size_t changes = FeedKinds(*tenant_, second_).size();
  ASSERT_OK(CarryOver().status());
  ASSERT_OK_AND_ASSIGN(prepared, PrepareFollowUp(tenant_->client));
  EXPECT_THAT(prepared.item().questions(), SizeIs(2));
  EXPECT_EQ(FeedKinds(*tenant_, second_).size(), changes);

  // A question of the second occurrence itself is not linked, and its
  // moderation leaves the agenda feed alone.
  session_.set_id(second_);
  ASSERT_OK_AND_ASSIGN(Member local, Join("Mahalliy muallif"));
  const std::string own = Open(local, "Yangi savol");
  ASSERT_OK(Organizer().Answer(second_, own).status());
  EXPECT_EQ(FeedKinds(*tenant_, second_).size(), changes);
  EXPECT_THAT(Links(FollowUpItem()),
              Not(::testing::Contains(::testing::Key(own))));

  // An edit of the item keeps its links.
  v1::UpdateAgendaItemRequest update;
  update.set_session_id(second_);
  update.mutable_item()->set_id(prepared.item().id());
  update.mutable_item()->set_title("O'tgan oydan qolganlar");
  update.mutable_update_mask()->add_paths("title");
  update.set_etag(prepared.item().etag());
  ASSERT_OK_AND_ASSIGN(v1::UpdateAgendaItemResponse updated,
                       tenant_->client.UpdateAgendaItem(update));
  EXPECT_THAT(updated.item().questions(), SizeIs(2));
}

TEST_F(FollowUpQuestionsTest, PreparedAfterTheCarryOverLinksAtOnce) {
  const std::string open = Open(author_, "Ish o'rinlari haqida");
  ASSERT_OK(CarryOver().status());
  // Moderated before any follow-up item exists: nothing to link, no error.
  ASSERT_OK(Organizer().Pin(second_, open).status());
  ASSERT_OK_AND_ASSIGN(v1::PrepareFollowUpResponse prepared,
                       PrepareFollowUp(tenant_->client));
  ASSERT_THAT(prepared.item().questions(), SizeIs(1));
  EXPECT_EQ(prepared.item().questions(0).question_id(), open);
  EXPECT_EQ(prepared.item().questions(0).status(), v1::QUESTION_STATUS_PINNED);

  // Merged into another question and undone: the link follows both.
  session_.set_id(second_);
  ASSERT_OK_AND_ASSIGN(Member local, Join("Mahalliy muallif"));
  const std::string target = Open(local, "Ish o'rinlari haqida savol");
  ASSERT_OK(Organizer().Unpin(second_, open).status());
  ASSERT_OK(Organizer().Merge(second_, target, {open}).status());
  EXPECT_EQ(FollowUpItem().questions(0).status(), v1::QUESTION_STATUS_MERGED);
  ASSERT_OK(Organizer().Undo(second_).status());
  EXPECT_EQ(FollowUpItem().questions(0).status(), v1::QUESTION_STATUS_APPROVED);

  // The item deleted: moderation goes on, nothing is linked.
  v1::DeleteAgendaItemRequest remove;
  remove.set_session_id(second_);
  remove.set_agenda_item_id(prepared.item().id());
  ASSERT_OK(tenant_->client.DeleteAgendaItem(remove).status());
  const size_t changes = FeedKinds(*tenant_, second_).size();
  ASSERT_OK(Organizer().Answer(second_, open).status());
  EXPECT_EQ(FeedKinds(*tenant_, second_).size(), changes);
}

TEST_F(FollowUpQuestionsTest, RefusalsLinkNothing) {
  const std::string open = Open(author_, "Pensiya masalasi");
  ASSERT_OK(CarryOver().status());
  ASSERT_OK_AND_ASSIGN(v1::PrepareFollowUpResponse prepared,
                       PrepareFollowUp(tenant_->client));
  ASSERT_THAT(prepared.item().questions(), SizeIs(1));
  const size_t changes = FeedKinds(*tenant_, second_).size();

  // Another tenant sees none of it: NOT_FOUND everywhere.
  ASSERT_OK_AND_ASSIGN(Tenant stranger, NewTenant());
  EXPECT_THAT(PrepareFollowUp(stranger.client), HasCode(Code::kNotFound));
  EXPECT_THAT(Agenda(stranger, second_), HasCode(Code::kNotFound));
  v1::ExportMinutesRequest minutes;
  minutes.set_session_id(second_);
  EXPECT_THAT(stranger.client.ExportMinutes(minutes), HasCode(Code::kNotFound));
  v1::CarryOverQuestionsRequest carry;
  carry.set_session_id(first_);
  EXPECT_THAT(
      QuestionsClient(channel(), stranger.token).CarryOverQuestions(carry),
      HasCode(Code::kNotFound));
  EXPECT_THAT(QuestionsClient(channel(), stranger.token).Answer(second_, open),
              HasCode(Code::kNotFound));
  WatchReader watcher(channel(), stranger.token, second_);
  ASSERT_OK_AND_ASSIGN(grpc::Status ended, watcher.Ended(absl::Seconds(10)));
  EXPECT_EQ(ended.error_code(), grpc::StatusCode::NOT_FOUND);

  // A participant may neither prepare the follow-up nor carry questions.
  TownhallClient participant =
      ServerEnvironment::server().Client(author_.token);
  v1::PrepareFollowUpRequest own;
  own.set_session_id(first_);
  EXPECT_THAT(participant.PrepareFollowUp(own),
              HasCode(Code::kPermissionDenied));
  EXPECT_THAT(As(author_).CarryOverQuestions(carry),
              HasCode(Code::kPermissionDenied));

  // A refused moderation of a carried question changes no link.
  EXPECT_THAT(Organizer().Approve(second_, open),
              HasCode(Code::kFailedPrecondition));
  EXPECT_EQ(FeedKinds(*tenant_, second_).size(), changes);
  EXPECT_EQ(FollowUpItem().questions(0).status(), v1::QUESTION_STATUS_APPROVED);
}

}  // namespace
}  // namespace townhall::testing
