// Integration tests of QuestionService against its contract
// (proto/townhall/v1/questions.proto), through gRPC to the shared
// in-process server on a real Redis; every test has a tenant of its own
// and members registered through RegistrationService with real join
// tokens (questions_fixture.h).
//
// GetQuestion and ListQuestions: who reads whose pending questions, the
// anonymity of authors on every read path (Get, List in every view and
// order, Watch, export), the rankings and paging, and another tenant's or
// an unknown session.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/common/ids.h"
#include "tests/integration/questions/questions_fixture.h"
#include "tests/testing/status_matchers.h"

namespace townhall::testing {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAreArray;

TEST_F(QuestionsTest, ParticipantsCannotReadAnothersPendingQuestion) {
  ASSERT_OK_AND_ASSIGN(v1::SubmitQuestionResponse s,
                       Submit(author_, "Mening kutilayotgan savolim"));
  const std::string id = s.question().id();
  // The author can; others get NOT_FOUND (the contract: a question the
  // caller may not see), never the text.
  ASSERT_OK_AND_ASSIGN(v1::Question own, As(author_).Get(sid(), id));
  EXPECT_EQ(own.status(), v1::QUESTION_STATUS_PENDING);
  ASSERT_OK_AND_ASSIGN(Member observer,
                       Join("Kuzatuvchi", v1::SESSION_ROLE_OBSERVER));
  for (const Member* m : {&other_, &observer}) {
    EXPECT_THAT(As(*m).Get(sid(), id), HasCode(Code::kNotFound));
    for (auto view : {View::VIEW_PENDING, View::VIEW_ALL, View::VIEW_OPEN}) {
      ASSERT_OK_AND_ASSIGN(std::vector<v1::Question> list,
                           As(*m).ListAll(sid(), view));
      EXPECT_THAT(IdsOf(list), Not(Contains(id)));
    }
  }
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Question> mine,
                       As(author_).ListAll(sid(), View::VIEW_PENDING));
  EXPECT_THAT(IdsOf(mine), ElementsAre(id));
}

// Every read path, as every kind of non-organizer: the anonymous author's
// participant id and organization id never occur in the bytes.
class AnonymityTest : public QuestionsTest {
 protected:
  struct Reader {
    std::string name;
    std::string token;
    // Whether this reader must get Get/List/Watch answers (not refusals).
    bool must_read = true;
  };

  void SetUp() override {
    QuestionsTest::SetUp();
    ASSERT_OK_AND_ASSIGN(observer_,
                         Join("Kuzatuvchi", v1::SESSION_ROLE_OBSERVER));
    ASSERT_OK_AND_ASSIGN(speaker_,
                         Join("Ma'ruzachi", v1::SESSION_ROLE_SPEAKER));
    ASSERT_OK_AND_ASSIGN(session_organizer_, Join("Sessiya tashkilotchisi",
                                                  v1::SESSION_ROLE_ORGANIZER));
    readers_ = {
        {"participant", other_.token},
        {"observer", observer_.token},
        {"speaker", speaker_.token},
        {"moderator", moderator_.token},
        {"session organizer", session_organizer_.token},
        {"API key (every scope)",
         ApiKeyToken(tenant_->id, ScopeBit(ApiScope::kReadSchedule) |
                                      ScopeBit(ApiScope::kManageRegistrations) |
                                      ScopeBit(ApiScope::kSubmitQuestions)),
         /*must_read=*/false},
    };
  }

  // The secrets: the anonymous author's ids.
  std::vector<std::string> Secrets() const {
    return {author_.participant_id, author_.organization_id};
  }

  void ExpectNoSecret(const std::string& bytes, const std::string& where) {
    for (const std::string& secret : Secrets()) {
      EXPECT_FALSE(absl::StrContains(bytes, secret))
          << where << " carries the anonymous author's id " << secret;
    }
  }

  // Every unary read path as `reader`; returns how many answered OK.
  int WalkUnary(const Reader& reader, const std::string& stage) {
    QuestionsClient c(channel(), reader.token);
    int ok = 0;
    const std::string who = absl::StrCat(reader.name, " at ", stage);
    {
      absl::StatusOr<v1::GetQuestionResponse> got = c.GetQuestion([&] {
        v1::GetQuestionRequest r;
        r.set_session_id(sid());
        r.set_question_id(anonymous_id_);
        return r;
      }());
      if (got.ok()) {
        ++ok;
        EXPECT_TRUE(got->question().anonymous());
        ExpectNoSecret(got->SerializeAsString(),
                       absl::StrCat("GetQuestion for ", who));
      } else {
        EXPECT_THAT(got.status().code(),
                    ::testing::AnyOf(Code::kNotFound, Code::kPermissionDenied))
            << who << ": " << got.status();
      }
    }
    for (auto view :
         {View::VIEW_UNSPECIFIED, View::VIEW_OPEN, View::VIEW_PENDING,
          View::VIEW_ANSWERED, View::VIEW_ALL}) {
      for (auto order : {View::ORDER_UNSPECIFIED, View::ORDER_TOP,
                         View::ORDER_NEWEST, View::ORDER_TRENDING}) {
        for (bool only_mine : {false, true}) {
          v1::ListQuestionsRequest r;
          r.set_session_id(sid());
          r.set_view(view);
          r.set_order(order);
          r.set_only_mine(only_mine);
          r.set_page_size(1);  // every page, one question at a time
          for (int page = 0; page < 50; ++page) {
            absl::StatusOr<v1::ListQuestionsResponse> list = c.ListQuestions(r);
            if (!list.ok()) {
              if (reader.must_read && !only_mine) {
                ADD_FAILURE()
                    << "ListQuestions view " << view << " order " << order
                    << " for " << who << ": " << list.status();
              }
              break;
            }
            ++ok;
            ExpectNoSecret(list->SerializeAsString(),
                           absl::StrCat("ListQuestions view ", view, " order ",
                                        order, " page ", page, " for ", who));
            if (list->next_page_token().empty()) break;
            r.set_page_token(list->next_page_token());
          }
        }
      }
    }
    for (auto format :
         {v1::QUESTION_EXPORT_FORMAT_UNSPECIFIED,
          v1::QUESTION_EXPORT_FORMAT_JSON, v1::QUESTION_EXPORT_FORMAT_CSV}) {
      v1::ExportQuestionsRequest r;
      r.set_session_id(sid());
      r.set_format(format);
      absl::StatusOr<v1::ExportQuestionsResponse> exported =
          c.ExportQuestions(r);
      if (exported.ok()) {
        ++ok;
        ExpectNoSecret(
            exported->SerializeAsString(),
            absl::StrCat("ExportQuestions format ", format, " for ", who));
      } else {
        EXPECT_EQ(exported.status().code(), Code::kPermissionDenied)
            << who << ": " << exported.status();
      }
    }
    v1::SuggestDuplicatesRequest suggest;
    suggest.set_session_id(sid());
    suggest.set_text(kAnonymousText);
    absl::StatusOr<v1::SuggestDuplicatesResponse> similar =
        c.SuggestDuplicates(suggest);
    if (similar.ok()) {
      ExpectNoSecret(similar->SerializeAsString(),
                     absl::StrCat("SuggestDuplicates for ", who));
    }
    // A fresh watch: its snapshot.
    QueueWatcher watch(channel(), reader.token, sid());
    std::vector<v1::WatchQueueResponse> first = watch.WaitFor(1);
    if (!first.empty()) {
      ++ok;
      ExpectNoSecret(first[0].SerializeAsString(),
                     absl::StrCat("WatchQueue snapshot for ", who));
    } else if (reader.must_read) {
      ADD_FAILURE() << "no WatchQueue snapshot for " << who;
    }
    return ok;
  }

  static constexpr char kAnonymousText[] =
      "Konsullik hisobiga turish uchun qanday hujjatlar kerak?";

  Member observer_;
  Member speaker_;
  Member session_organizer_;
  std::vector<Reader> readers_;
  std::string anonymous_id_;
};

TEST_F(AnonymityTest, AnonymousAuthorNeverReachesANonOrganizer) {
  // Watchers from the start, one per reader, and one for the organizer
  // (WatchQueue never carries the author, whatever the policy).
  std::vector<std::unique_ptr<QueueWatcher>> watchers;
  for (const Reader& r : readers_) {
    watchers.push_back(
        std::make_unique<QueueWatcher>(channel(), r.token, sid()));
  }
  watchers.push_back(
      std::make_unique<QueueWatcher>(channel(), tenant_->token, sid()));
  for (auto& w : watchers) w->WaitFor(1);

  // A plain question by someone else, so lists are not trivially empty.
  const std::string plain = Open(other_, "Ochiq savol: viza muddati");
  ASSERT_OK_AND_ASSIGN(v1::SubmitQuestionResponse submitted,
                       Submit(author_, kAnonymousText, /*anonymous=*/true));
  anonymous_id_ = submitted.question().id();
  EXPECT_TRUE(submitted.question().anonymous());
  // The author sees themself.
  EXPECT_EQ(submitted.question().author_participant_id(),
            author_.participant_id);
  ASSERT_OK_AND_ASSIGN(v1::Question own, As(author_).Get(sid(), anonymous_id_));
  EXPECT_EQ(own.author_participant_id(), author_.participant_id);
  EXPECT_EQ(own.author_organization_id(), author_.organization_id);

  // The policy is off: the tenant organizer is a non-author too.
  std::vector<Reader> everyone = readers_;
  everyone.push_back({"organizer (policy off)", tenant_->token});

  auto walk = [&](const std::string& stage) {
    for (const Reader& r : everyone) {
      int ok = WalkUnary(r, stage);
      if (r.must_read) EXPECT_GT(ok, 0) << r.name << " read nothing";
    }
  };
  walk("PENDING");
  ASSERT_OK(As(moderator_).Approve(sid(), anonymous_id_).status());
  walk("APPROVED");
  for (const Member* m : {&other_, &moderator_, &speaker_}) {
    ASSERT_OK(As(*m).Vote(sid(), anonymous_id_, m->participant_id).status());
  }
  // The author's own vote, too: voters never show.
  ASSERT_OK(
      As(author_).Vote(sid(), anonymous_id_, author_.participant_id).status());
  ASSERT_OK(As(moderator_).Pin(sid(), anonymous_id_).status());
  walk("PINNED");
  ASSERT_OK(Organizer().Pin(sid(), plain).status());  // unpins it, one step
  ASSERT_OK(As(moderator_)
                .Answer(sid(), anonymous_id_,
                        "Pasport va yashash joyi haqida ma'lumotnoma")
                .status());
  walk("ANSWERED");
  ASSERT_OK(Organizer().Archive(sid(), anonymous_id_).status());
  walk("ARCHIVED");
  // A last visible change: every watcher must have seen everything before.
  const std::string marker = Open(other_, "Oxirgi belgi savoli");

  // Every watcher got every change, and none carried the author.
  for (size_t i = 0; i < watchers.size(); ++i) {
    const std::string name =
        i < readers_.size() ? readers_[i].name : "organizer";
    std::vector<v1::WatchQueueResponse> seen =
        watchers[i]->WaitForChange("question.approved", marker);
    watchers[i]->Cancel();
    if (i < readers_.size() && !readers_[i].must_read && seen.empty()) {
      continue;  // the API key may not watch
    }
    std::set<std::string> kinds;
    for (const auto& m : seen) {
      ExpectNoSecret(
          m.SerializeAsString(),
          absl::StrCat("WatchQueue ",
                       m.has_snapshot() ? "snapshot" : m.change().kind(),
                       " for ", name));
      if (m.has_change()) kinds.insert(m.change().kind());
    }
    for (const char* kind : {"question.approved", "question.pinned",
                             "question.answered", "question.votes"}) {
      EXPECT_TRUE(kinds.count(kind)) << name << " did not see " << kind;
    }
  }
}

TEST_F(AnonymityTest, OrganizersSeeAnonymousAuthorsOnlyWhenThePolicySaysSo) {
  v1::GetQuestionPolicyRequest get;
  ASSERT_OK_AND_ASSIGN(v1::GetQuestionPolicyResponse policy,
                       Organizer().GetQuestionPolicy(get));
  EXPECT_FALSE(policy.policy().organizers_see_anonymous_authors());
  ASSERT_OK_AND_ASSIGN(v1::SubmitQuestionResponse submitted,
                       Submit(author_, kAnonymousText, /*anonymous=*/true));
  anonymous_id_ = submitted.question().id();
  ASSERT_OK(Organizer().Approve(sid(), anonymous_id_).status());
  ASSERT_OK_AND_ASSIGN(v1::Question hidden,
                       Organizer().Get(sid(), anonymous_id_));
  EXPECT_TRUE(hidden.author_participant_id().empty());
  EXPECT_TRUE(hidden.author_organization_id().empty());

  // Session roles may not change the tenant's policy.
  v1::UpdateQuestionPolicyRequest update;
  update.mutable_policy()->set_organizers_see_anonymous_authors(true);
  EXPECT_THAT(As(moderator_).UpdateQuestionPolicy(update),
              HasCode(Code::kPermissionDenied));
  EXPECT_THAT(As(session_organizer_).UpdateQuestionPolicy(update),
              HasCode(Code::kPermissionDenied));
  ASSERT_OK_AND_ASSIGN(v1::UpdateQuestionPolicyResponse updated,
                       Organizer().UpdateQuestionPolicy(update));
  EXPECT_TRUE(updated.policy().organizers_see_anonymous_authors());

  // Now the tenant organizer sees the author in Get, List and export...
  ASSERT_OK_AND_ASSIGN(v1::Question seen,
                       Organizer().Get(sid(), anonymous_id_));
  EXPECT_EQ(seen.author_participant_id(), author_.participant_id);
  EXPECT_EQ(seen.author_organization_id(), author_.organization_id);
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Question> listed,
                       Organizer().ListAll(sid(), View::VIEW_OPEN));
  ASSERT_THAT(listed, SizeIs(1));
  EXPECT_EQ(listed[0].author_participant_id(), author_.participant_id);
  for (auto format :
       {v1::QUESTION_EXPORT_FORMAT_JSON, v1::QUESTION_EXPORT_FORMAT_CSV}) {
    v1::ExportQuestionsRequest r;
    r.set_session_id(sid());
    r.set_format(format);
    ASSERT_OK_AND_ASSIGN(v1::ExportQuestionsResponse exported,
                         Organizer().ExportQuestions(r));
    EXPECT_THAT(exported.content(), HasSubstr(author_.participant_id));
  }
  // ...but WatchQueue never carries it, and nobody else sees it.
  QueueWatcher watch(channel(), tenant_->token, sid());
  std::vector<v1::WatchQueueResponse> first = watch.WaitFor(1);
  ASSERT_THAT(first, SizeIs(1));
  ExpectNoSecret(first[0].SerializeAsString(), "organizer's snapshot");
  ASSERT_OK(Organizer().Pin(sid(), anonymous_id_).status());
  std::vector<v1::WatchQueueResponse> changes =
      watch.WaitForChange("question.pinned", anonymous_id_);
  for (const auto& m : changes) {
    ExpectNoSecret(m.SerializeAsString(), "organizer's watch");
  }
  for (const Reader& r : readers_) {
    WalkUnary(r, "policy on");
  }
}

TEST_F(QuestionsTest, RankingsTopNewestTrendingAndPaging) {
  ASSERT_OK(SetMode(v1::MODERATION_MODE_POST));
  std::vector<Member> voters;
  for (int i = 0; i < 4; ++i) {
    ASSERT_OK_AND_ASSIGN(Member m, Join(absl::StrCat("Ovoz beruvchi ", i)));
    voters.push_back(m);
  }
  std::vector<std::string> q;  // q[0] oldest
  for (int i = 0; i < 7; ++i) {
    const Member& author = i % 2 ? other_ : author_;
    ASSERT_OK_AND_ASSIGN(
        v1::SubmitQuestionResponse s,
        Submit(author, absl::StrCat("Reyting savoli ", i, " ", NewId())));
    q.push_back(s.question().id());
    absl::SleepFor(absl::Milliseconds(20));
  }
  // Votes: q1: 3, q4: 2, q0: 1, q3: 1 (q0 earlier), q6: 1 (voted last).
  auto vote = [&](int question, int voter) {
    ASSERT_OK(As(voters[voter])
                  .Vote(sid(), q[question], voters[voter].participant_id)
                  .status());
    absl::SleepFor(absl::Milliseconds(20));
  };
  vote(0, 0);
  vote(3, 0);
  vote(1, 0);
  vote(1, 1);
  vote(1, 2);
  vote(4, 1);
  vote(4, 2);
  vote(6, 3);

  ASSERT_OK_AND_ASSIGN(
      std::vector<v1::Question> top,
      As(other_).ListAll(sid(), View::VIEW_OPEN, View::ORDER_TOP));
  EXPECT_THAT(IdsOf(top),
              ElementsAre(q[1], q[4], q[0], q[3], q[6], q[2], q[5]));
  // The default order is top.
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Question> by_default,
                       As(other_).ListAll(sid(), View::VIEW_UNSPECIFIED,
                                          View::ORDER_UNSPECIFIED));
  EXPECT_EQ(IdsOf(by_default), IdsOf(top));
  std::vector<int64_t> votes;
  for (const auto& x : top) votes.push_back(x.votes());
  EXPECT_THAT(votes, ElementsAre(3, 2, 1, 1, 1, 0, 0));
  ASSERT_OK_AND_ASSIGN(
      std::vector<v1::Question> newest,
      As(other_).ListAll(sid(), View::VIEW_OPEN, View::ORDER_NEWEST));
  EXPECT_THAT(IdsOf(newest),
              ElementsAre(q[6], q[5], q[4], q[3], q[2], q[1], q[0]));
  ASSERT_OK_AND_ASSIGN(
      std::vector<v1::Question> trending,
      As(other_).ListAll(sid(), View::VIEW_OPEN, View::ORDER_TRENDING));
  EXPECT_THAT(IdsOf(trending), UnorderedElementsAreArray(q));
  for (size_t i = 1; i < trending.size(); ++i) {
    EXPECT_GE(trending[i - 1].trending_score(), trending[i].trending_score())
        << "trending not by trending_score descending at " << i;
  }
  std::map<std::string, double> score;
  for (const auto& x : trending) score[x.id()] = x.trending_score();
  // Same votes (one each): the later submitted and later voted ones trend
  // higher; more recent votes beat fewer... q1 (3 votes) beats q2 (none).
  EXPECT_GT(score[q[6]], score[q[3]]);
  EXPECT_GT(score[q[3]], score[q[0]]);
  EXPECT_GT(score[q[1]], score[q[2]]);
  EXPECT_GT(score[q[4]], score[q[5]]);

  // Paging: every order visits every question exactly once, with the same
  // order as one page, and total_size counts the view.
  for (auto order :
       {View::ORDER_TOP, View::ORDER_NEWEST, View::ORDER_TRENDING}) {
    for (int page_size : {1, 2, 3, 7, 100}) {
      SCOPED_TRACE(absl::StrCat("order ", order, " page_size ", page_size));
      v1::ListQuestionsRequest r;
      r.set_session_id(sid());
      r.set_view(View::VIEW_OPEN);
      r.set_order(order);
      r.set_page_size(page_size);
      std::vector<std::string> visited;
      int pages = 0;
      while (true) {
        ASSERT_OK_AND_ASSIGN(v1::ListQuestionsResponse page,
                             As(other_).ListQuestions(r));
        EXPECT_EQ(page.total_size(), 7);
        EXPECT_LE(page.questions_size(), page_size);
        for (const auto& x : page.questions()) visited.push_back(x.id());
        ++pages;
        if (page.next_page_token().empty()) break;
        ASSERT_LT(pages, 20);
        r.set_page_token(page.next_page_token());
      }
      std::vector<std::string> expected = order == View::ORDER_TOP ? IdsOf(top)
                                          : order == View::ORDER_NEWEST
                                              ? IdsOf(newest)
                                              : IdsOf(trending);
      EXPECT_EQ(visited, expected);
    }
  }
  // A bad page token is INVALID_ARGUMENT.
  v1::ListQuestionsRequest bad;
  bad.set_session_id(sid());
  bad.set_page_token("not-a-token");
  EXPECT_THAT(As(other_).ListQuestions(bad), HasCode(Code::kInvalidArgument));
}

TEST_F(QuestionsTest, PagingStaysExactWhileVotesMoveQuestions) {
  // Votes arriving between pages may reorder: no question is lost or
  // repeated in NEWEST (stable) order.
  ASSERT_OK(SetMode(v1::MODERATION_MODE_POST));
  std::vector<std::string> ids;
  for (int i = 0; i < 10; ++i) {
    ASSERT_OK_AND_ASSIGN(v1::SubmitQuestionResponse s,
                         Submit(i % 2 ? author_ : other_,
                                absl::StrCat("Sahifa ", i, " ", NewId())));
    ids.push_back(s.question().id());
  }
  v1::ListQuestionsRequest r;
  r.set_session_id(sid());
  r.set_order(View::ORDER_NEWEST);
  r.set_page_size(3);
  std::vector<std::string> visited;
  for (int page = 0; page < 10; ++page) {
    ASSERT_OK_AND_ASSIGN(v1::ListQuestionsResponse got,
                         As(moderator_).ListQuestions(r));
    for (const auto& x : got.questions()) visited.push_back(x.id());
    ASSERT_OK(As(moderator_)
                  .Vote(sid(), ids[page], moderator_.participant_id)
                  .status());
    if (got.next_page_token().empty()) break;
    r.set_page_token(got.next_page_token());
  }
  std::vector<std::string> expected(ids.rbegin(), ids.rend());
  EXPECT_EQ(visited, expected);
}

TEST_F(QuestionsTest, UnknownSessionAndOtherTenantAreNotFound) {
  const std::string a = Open(author_, "Boshqa tenant ko'rmasligi kerak");
  ASSERT_OK_AND_ASSIGN(Tenant other_tenant, NewTenant());
  QuestionsClient stranger(channel(), other_tenant.token);
  EXPECT_THAT(stranger.Get(sid(), a), HasCode(Code::kNotFound));
  absl::StatusOr<std::vector<v1::Question>> listed = stranger.ListAll(sid());
  if (listed.ok()) {
    EXPECT_THAT(*listed, IsEmpty());
  } else {
    EXPECT_THAT(listed, HasCode(Code::kNotFound));
  }
  EXPECT_THAT(stranger.Approve(sid(), a), HasCode(Code::kNotFound));
  EXPECT_THAT(stranger.Vote(sid(), a, author_.participant_id),
              HasCode(Code::kNotFound));
}

}  // namespace
}  // namespace townhall::testing
