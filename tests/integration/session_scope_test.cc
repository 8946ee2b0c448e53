// Every RPC that names a session (or a series) answers NOT_FOUND when that
// session is not in the caller's tenant: one of another tenant, or an id
// nobody made. The answer is the same for both (only the id differs), so it
// never tells whether the session exists elsewhere, and nothing is written.
//
// The table lists every such RPC of every service, watch streams included;
// SessionScopedMethodsAreAllInTheTable finds them in the service
// descriptors (a request with a session_id or series_id field, or a Session
// or Series message), so a new RPC fails here until it has a row. Callers:
// tenant B's organizer and an API key of tenant B with every scope (where
// the access table lets keys in). A join token is bound to its session: any
// other session id is NOT_FOUND before any lookup, with one message for a
// foreign and an unknown session alike.
//
// Tenant A owns a session with questions, a moderation log, an agenda item
// and a series, so that "another tenant's session" is a real one with
// content to leak.
#include <gmock/gmock.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "services/common/auth/authorization.h"
#include "services/common/ids.h"
#include "services/common/proto_time.h"
#include "services/common/redis/redis_connection.h"
#include "tests/testing/generic_call.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/shared_server.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_server.h"

namespace townhall::testing {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::MethodDescriptor;

// The session (or series) a row's request names.
struct Target {
  std::string session_id;
  std::string series_id;
};

// Fills what a request needs besides the ids the test sets by name, with
// valid values, so that only the session can be wrong.
using Fill = std::function<void(Message*, const Target&)>;

template <typename Request>
Fill FillAs(std::function<void(Request&, const Target&)> fill) {
  return [fill = std::move(fill)](Message* message, const Target& target) {
    fill(*static_cast<Request*>(message), target);
  };
}

// One call of the table: "Service/Method" (without "townhall.v1.") and,
// for RPCs with several ways to name their target, the way.
struct Row {
  std::string method;
  std::string variant;
  Fill fill;
};

google::protobuf::Timestamp In(absl::Duration from_now) {
  google::protobuf::Timestamp t;
  t.set_seconds(absl::ToUnixSeconds(absl::Now() + from_now));
  return t;
}

std::vector<Row> Table() {
  const Fill ids_only = [](Message*, const Target&) {};
  std::vector<Row> rows;
  auto add = [&rows, &ids_only](std::string method, Fill fill = nullptr,
                                std::string variant = "") {
    rows.push_back({std::move(method), std::move(variant),
                    fill ? std::move(fill) : ids_only});
  };
  // Scheduling: its own store.
  add("SchedulingService/GetSession");
  add("SchedulingService/UpdateSession",
      FillAs<v1::UpdateSessionRequest>([](auto& r, const Target& t) {
        r.mutable_session()->set_id(t.session_id);
        r.mutable_session()->set_title("Renamed by another tenant");
        r.mutable_update_mask()->add_paths("title");
      }));
  add("SchedulingService/PublishSession");
  add("SchedulingService/StartSession");
  add("SchedulingService/EndSession");
  add("SchedulingService/CancelSession",
      FillAs<v1::CancelSessionRequest>(
          [](auto& r, const Target&) { r.set_reason("not yours"); }));
  add("SchedulingService/GetSeries");
  add("SchedulingService/ListSeriesOccurrences");
  add("SchedulingService/CancelOccurrence",
      FillAs<v1::CancelOccurrenceRequest>([](auto& r, const Target&) {
        *r.mutable_original_start_time() = In(absl::Hours(24 * 30));
      }));
  add("SchedulingService/MoveOccurrence",
      FillAs<v1::MoveOccurrenceRequest>([](auto& r, const Target&) {
        *r.mutable_original_start_time() = In(absl::Hours(24 * 30));
        *r.mutable_new_start_time() = In(absl::Hours(24 * 31));
      }));
  add("SchedulingService/ExportCalendar", nullptr, "by session");
  add("SchedulingService/ExportCalendar",
      FillAs<v1::ExportCalendarRequest>(
          [](auto& r, const Target& t) { r.set_series_id(t.series_id); }),
      "by series");

  // Registration.
  for (const char* method :
       {"InviteOrganization", "Register", "RegisterForSeries",
        "ApproveRegistration", "CancelRegistration", "SetRole",
        "GetRegistration", "ListRegistrations", "IssueJoinToken",
        "RecordAttendance", "GetAttendanceReport", "GetSeriesAttendance",
        "ExportRegistrations", "ExportSessionAttendance",
        "ExportSeriesAttendance"}) {
    add(absl::StrCat("RegistrationService/", method));
  }

  // Agenda.
  add("AgendaService/CreateAgendaItem",
      FillAs<v1::CreateAgendaItemRequest>([](auto& r, const Target&) {
        r.mutable_item()->set_title("Planted by another tenant");
      }));
  add("AgendaService/UpdateAgendaItem",
      FillAs<v1::UpdateAgendaItemRequest>([](auto& r, const Target&) {
        r.mutable_item()->set_title("Renamed by another tenant");
        r.mutable_update_mask()->add_paths("title");
      }));
  for (const char* method :
       {"MoveAgendaItem",     "DeleteAgendaItem",    "GetAgenda",
        "ActivateAgendaItem", "CompleteAgendaItem",  "SkipAgendaItem",
        "ListTopicProposals", "AcceptTopicProposal", "DeclineTopicProposal",
        "RaiseHand",          "LowerHand",           "CallNextSpeaker",
        "FinishSpeaker",      "GetSpeakersQueue",    "SetSpeakersQueueOptions",
        "UpdateActionItem",   "ListActionItems",     "PrepareFollowUp",
        "ExportMinutes",      "WatchAgenda"}) {
    add(absl::StrCat("AgendaService/", method));
  }
  add("AgendaService/ProposeTopic",
      FillAs<v1::ProposeTopicRequest>(
          [](auto& r, const Target&) { r.set_title("A foreign topic"); }));
  add("AgendaService/RecordOutcome",
      FillAs<v1::RecordOutcomeRequest>([](auto& r, const Target&) {
        r.mutable_outcome()->set_text("Decided elsewhere");
      }));
  add("AgendaService/CreateActionItem",
      FillAs<v1::CreateActionItemRequest>([](auto& r, const Target&) {
        r.mutable_action_item()->set_title("Do something foreign");
      }));

  // Questions.
  add("QuestionService/SubmitQuestion",
      FillAs<v1::SubmitQuestionRequest>([](auto& r, const Target&) {
        r.set_text("Who let another tenant in?");
      }));
  for (const char* method :
       {"GetQuestion", "ListQuestions", "UpvoteQuestion", "WithdrawVote",
        "ApproveQuestion", "PinQuestion", "UnpinQuestion", "MarkAnswered",
        "ArchiveQuestion", "UndoModeration", "ListModerationLog",
        "GetQueueSettings", "CarryOverQuestions", "ExportQuestions",
        "ExportModerationLog", "WatchQueue"}) {
    add(absl::StrCat("QuestionService/", method));
  }
  add("QuestionService/RejectQuestion",
      FillAs<v1::RejectQuestionRequest>(
          [](auto& r, const Target&) { r.set_reason("off topic"); }));
  add("QuestionService/MergeQuestions");
  add("QuestionService/SuggestDuplicates",
      FillAs<v1::SuggestDuplicatesRequest>([](auto& r, const Target&) {
        r.clear_question_id();
        r.set_text("What is the agenda of the meeting?");
      }),
      "by text");
  add("QuestionService/SuggestDuplicates", nullptr, "by question");
  // Polls.
  for (const char* method : {"GetPoll", "ListPolls", "ClosePoll", "PublishPoll",
                             "WatchPolls", "ExportPollResults"}) {
    add(absl::StrCat("PollService/", method));
  }
  add("PollService/CreatePoll",
      FillAs<v1::CreatePollRequest>([](auto& r, const Target&) {
        r.mutable_poll()->set_kind(v1::POLL_KIND_SINGLE_CHOICE);
        r.mutable_poll()->set_question("Whose session is this?");
        r.mutable_poll()->add_options()->set_text("Ours");
        r.mutable_poll()->add_options()->set_text("Theirs");
      }));
  add("PollService/OpenPoll",
      FillAs<v1::OpenPollRequest>(
          [](auto& r, const Target&) { r.set_reason("reopened abroad"); }));
  add("PollService/CastBallot",
      FillAs<v1::CastBallotRequest>([](auto& r, const Target&) {
        r.mutable_ballot()->add_option_ids("1");
      }));
  add("QuestionService/UpdateQueueSettings",
      FillAs<v1::UpdateQueueSettingsRequest>([](auto& r, const Target&) {
        r.mutable_settings()->set_moderation_mode(v1::MODERATION_MODE_POST);
        r.mutable_settings()->set_submissions_closed(true);
      }));
  return rows;
}

// Whether a request names a session or series: a top-level session_id or
// series_id, or a Session or Series message (UpdateSession).
bool NamesASession(const google::protobuf::Descriptor& request) {
  for (int i = 0; i < request.field_count(); ++i) {
    const FieldDescriptor* field = request.field(i);
    if (field->name() == "session_id" || field->name() == "series_id") {
      return true;
    }
    if (field->message_type() != nullptr &&
        (field->message_type()->full_name() == "townhall.v1.Session" ||
         field->message_type()->full_name() == "townhall.v1.Series")) {
      return true;
    }
  }
  return false;
}

// Requests that carry a Session or Series but name none that exists.
const std::set<std::string>& Creates() {
  static const auto* const kCreates = new std::set<std::string>{
      "SchedulingService/CreateSession", "SchedulingService/CreateSeries"};
  return *kCreates;
}

std::string ShortName(const std::string& path) {
  return path.substr(std::string("/townhall.v1.").size());
}

TEST(SessionScopeTableTest, SessionScopedMethodsAreAllInTheTable) {
  std::set<std::string> in_table;
  for (const Row& row : Table()) {
    const MethodDescriptor* method =
        FindMethod(absl::StrCat("/townhall.v1.", row.method));
    ASSERT_NE(method, nullptr) << "no such method: " << row.method;
    EXPECT_TRUE(NamesASession(*method->input_type())) << row.method;
    in_table.insert(row.method);
  }
  int scoped = 0;
  for (const std::string& path : AllMethods()) {
    const MethodDescriptor* method = FindMethod(path);
    ASSERT_NE(method, nullptr) << path;
    if (!NamesASession(*method->input_type())) continue;
    ++scoped;
    if (Creates().contains(ShortName(path))) continue;
    EXPECT_TRUE(in_table.contains(ShortName(path)))
        << ShortName(path) << " names a session: give it a row";
  }
  EXPECT_GT(scoped, 70);
}

RedisConnection& Redis() {
  static RedisConnection* redis = [] {
    return new RedisConnection(SharedRedisOptions());
  }();
  redis->set_deadline(absl::Now() + absl::Seconds(30));
  return *redis;
}

// Every key of a tenant (its keys carry its id in their hash tag) with its
// serialized value.
std::map<std::string, std::string> TenantKeys(const std::string& tenant_id) {
  std::map<std::string, std::string> keys;
  // KEYS on every master: a session's keys have their own hash tag.
  absl::StatusOr<std::vector<RedisReply>> found =
      CommandOnEveryMaster({"KEYS", absl::StrCat("*", tenant_id, "*")});
  EXPECT_TRUE(found.ok()) << found.status();
  if (!found.ok()) return keys;
  for (const RedisReply& node_keys : *found) {
    for (const RedisReply& key : node_keys.elements) {
      absl::StatusOr<RedisReply> value = Redis().Command({"DUMP", key.str});
      keys[key.str] = value.ok() ? value->str : "";
    }
  }
  return keys;
}

// What changed between two TenantKeys() reads, one line per key.
std::vector<std::string> Changes(
    const std::map<std::string, std::string>& before,
    const std::map<std::string, std::string>& after) {
  std::vector<std::string> changes;
  for (const auto& [key, value] : after) {
    auto it = before.find(key);
    if (it == before.end()) {
      changes.push_back(absl::StrCat("written: ", key));
    } else if (it->second != value) {
      changes.push_back(absl::StrCat("changed: ", key));
    }
  }
  for (const auto& [key, value] : before) {
    if (!after.contains(key)) changes.push_back(absl::StrCat("deleted: ", key));
  }
  return changes;
}

class SessionScopeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TestServer& server = ServerEnvironment::server();
    ASSERT_OK_AND_ASSIGN(std::string owner_token,
                         server.NewTenantToken(&owner_tenant_));
    ASSERT_OK_AND_ASSIGN(caller_token_, server.NewTenantToken(&caller_tenant_));
    TownhallClient owner = server.Client(owner_token);
    TownhallClient caller = server.Client(caller_token_);

    // Tenant A: a session with content, and a series.
    ASSERT_OK_AND_ASSIGN(foreign_.session_id, NewSession(owner));
    v1::CreateSeriesRequest series;
    *series.mutable_series()->mutable_template_() = SessionTemplate();
    series.mutable_series()->set_rrule("FREQ=WEEKLY;COUNT=2");
    series.set_publish(true);
    ASSERT_OK_AND_ASSIGN(v1::CreateSeriesResponse made_series,
                         owner.CreateSeries(series));
    foreign_.series_id = made_series.series().id();
    ASSERT_OK_AND_ASSIGN(std::string author, NewParticipant(owner));
    for (const char* text : {"What is the agenda of the meeting?",
                             "What is on the agenda of the meeting?"}) {
      v1::SubmitQuestionRequest submit;
      submit.set_session_id(foreign_.session_id);
      submit.set_participant_id(author);
      submit.set_text(text);
      ASSERT_OK_AND_ASSIGN(v1::SubmitQuestionResponse submitted,
                           owner.SubmitQuestion(submit));
      question_ids_.push_back(submitted.question().id());
    }
    v1::ApproveQuestionRequest approve;
    approve.set_session_id(foreign_.session_id);
    approve.set_question_id(question_ids_[0]);
    ASSERT_OK(owner.ApproveQuestion(approve).status());
    v1::CreateAgendaItemRequest item;
    item.set_session_id(foreign_.session_id);
    item.mutable_item()->set_title("Consular services");
    ASSERT_OK_AND_ASSIGN(v1::CreateAgendaItemResponse made_item,
                         owner.CreateAgendaItem(item));
    agenda_item_id_ = made_item.item().id();
    v1::CreatePollRequest poll;
    poll.set_session_id(foreign_.session_id);
    poll.mutable_poll()->set_kind(v1::POLL_KIND_SINGLE_CHOICE);
    poll.mutable_poll()->set_question("Which topic first?");
    poll.mutable_poll()->add_options()->set_text("Pensions");
    poll.mutable_poll()->add_options()->set_text("Consular services");
    ASSERT_OK_AND_ASSIGN(v1::CreatePollResponse made_poll,
                         owner.CreatePoll(poll));
    poll_id_ = made_poll.poll().id();

    // Tenant B: a session of its own with a registered participant, whose
    // join token (as the session's organizer) is one of the callers.
    ASSERT_OK_AND_ASSIGN(own_session_id_, NewSession(caller));
    ASSERT_OK_AND_ASSIGN(own_participant_, NewParticipant(caller));
    v1::RegisterRequest reg;
    reg.set_session_id(own_session_id_);
    reg.set_participant_id(own_participant_);
    reg.set_role(v1::SESSION_ROLE_ORGANIZER);
    ASSERT_OK(caller.Register(reg).status());
    unknown_ = {NewId(), NewId()};
  }

  v1::Session SessionTemplate() const {
    v1::Session session;
    session.set_title("Muloqot: vatandoshlar bilan uchrashuv");
    session.set_time_zone("Asia/Tashkent");
    session.set_format(v1::SESSION_FORMAT_ONLINE);
    session.set_capacity(20);
    *session.mutable_start_time() = In(absl::Hours(24 * 30));
    session.mutable_duration()->set_seconds(7200);
    return session;
  }

  absl::StatusOr<std::string> NewSession(TownhallClient& client) {
    v1::CreateSessionRequest create;
    *create.mutable_session() = SessionTemplate();
    create.set_publish(true);
    absl::StatusOr<v1::CreateSessionResponse> made =
        client.CreateSession(create);
    if (!made.ok()) return made.status();
    return made->session().id();
  }

  static absl::StatusOr<std::string> NewParticipant(TownhallClient& client) {
    v1::CreateParticipantRequest person;
    person.mutable_participant()->set_display_name(
        absl::StrCat("Ishtirokchi ", NewId()));
    absl::StatusOr<v1::CreateParticipantResponse> made =
        client.CreateParticipant(person);
    if (!made.ok()) return made.status();
    return made->participant().id();
  }

  // One kind of caller of tenant B.
  struct Caller {
    std::string name;
    std::string token;
    Principal principal;
  };

  std::vector<Caller> Callers() const {
    const absl::Time now = absl::Now();
    Caller organizer{"organizer", caller_token_, {}};
    organizer.principal.role = Role::kOrganizer;
    const uint32_t every_scope = ScopeBit(ApiScope::kReadSchedule) |
                                 ScopeBit(ApiScope::kManageRegistrations) |
                                 ScopeBit(ApiScope::kSubmitQuestions);
    Caller api_key{"API key",
                   SignTestToken({.tenant_id = caller_tenant_,
                                  .subject = "api-key:scope-test",
                                  .role = Role::kApiClient,
                                  .issue_time = now,
                                  .expire_time = now + absl::Hours(1),
                                  .scopes = every_scope,
                                  .token_id = NewId()}),
                   {}};
    api_key.principal.role = Role::kApiClient;
    api_key.principal.scopes = every_scope;
    Caller join{"join token",
                SignTestToken({.tenant_id = caller_tenant_,
                               .subject = own_participant_,
                               .role = Role::kSessionOrganizer,
                               .issue_time = now,
                               .expire_time = now + absl::Hours(1),
                               .session_id = own_session_id_,
                               .participant_id = own_participant_}),
                {}};
    join.principal.role = Role::kSessionOrganizer;
    return {organizer, api_key, join};
  }

  // The request of `row` naming `target`; every other id is a real one of
  // tenant A's session (questions, agenda item) or of the caller's tenant
  // (participant), the same for every target.
  std::unique_ptr<Message> RequestFor(const MethodDescriptor& method,
                                      const Row& row,
                                      const Target& target) const {
    std::unique_ptr<Message> request = NewRequest(method);
    // series_id before session_id: in a oneof (ExportCalendar) the last one
    // set wins; the "by series" row sets it again.
    SetStringField(request.get(), "series_id", target.series_id);
    SetStringField(request.get(), "session_id", target.session_id);
    SetStringField(request.get(), "participant_id", own_participant_);
    SetStringField(request.get(), "question_id", question_ids_[0]);
    SetStringField(request.get(), "target_question_id", question_ids_[0]);
    SetStringField(request.get(), "duplicate_question_ids", question_ids_[1]);
    SetStringField(request.get(), "agenda_item_id", agenda_item_id_);
    SetStringField(request.get(), "poll_id", poll_id_);
    SetStringField(request.get(), "topic_proposal_id", NewId());
    SetStringField(request.get(), "action_item_id", NewId());
    SetStringField(request.get(), "organization_id", NewId());
    SetStringField(request.get(), "request_id", NewId());
    row.fill(request.get(), target);
    return request;
  }

  std::string owner_tenant_;
  std::string caller_tenant_;
  std::string caller_token_;
  // Tenant A's session and series, and ids nobody made.
  Target foreign_;
  Target unknown_;
  std::vector<std::string> question_ids_;
  std::string agenda_item_id_;
  std::string poll_id_;
  std::string own_session_id_;
  std::string own_participant_;
};

TEST_F(SessionScopeTest, ForeignAndUnknownSessionsAreNotFoundForEveryRpc) {
  std::shared_ptr<grpc::Channel> channel =
      ServerEnvironment::server().Client().channel();
  const std::map<std::string, std::string> owner_keys =
      TenantKeys(owner_tenant_);
  std::map<std::string, std::string> caller_keys = TenantKeys(caller_tenant_);
  ASSERT_FALSE(owner_keys.empty());
  int not_found = 0;
  for (const Row& row : Table()) {
    const std::string path = absl::StrCat("/townhall.v1.", row.method);
    const MethodDescriptor* method = FindMethod(path);
    ASSERT_NE(method, nullptr) << row.method;
    const AccessRule* rule = FindAccessRule(path);
    ASSERT_NE(rule, nullptr) << row.method;
    for (const Caller& caller : Callers()) {
      if (!RuleAllows(*rule, caller.principal)) continue;
      SCOPED_TRACE(
          absl::StrCat(row.method, " ", row.variant, " by ", caller.name));
      // The answer with the target's ids made generic: it must not differ
      // between a foreign and an unknown target.
      std::string answers[2];
      int i = 0;
      for (const Target& target : {foreign_, unknown_}) {
        std::string response;
        absl::Status status =
            CallWithToken(channel, path, *RequestFor(*method, row, target),
                          caller.token, &response);
        EXPECT_EQ(status.code(), absl::StatusCode::kNotFound)
            << (i == 0 ? "another tenant's" : "an unknown")
            << " target: " << status;
        if (status.code() == absl::StatusCode::kNotFound) ++not_found;
        answers[i++] =
            absl::StrCat(status.code(), " ",
                         absl::StrReplaceAll(status.message(),
                                             {{target.session_id, "<session>"},
                                              {target.series_id, "<series>"}}));
      }
      EXPECT_EQ(answers[0], answers[1])
          << "the answer tells a foreign session from an unknown one";
    }
    // Nothing written: neither in the owner's tenant nor under the ids in
    // the caller's.
    EXPECT_THAT(Changes(owner_keys, TenantKeys(owner_tenant_)),
                ::testing::IsEmpty())
        << row.method << " " << row.variant << " changed tenant A's data";
    std::map<std::string, std::string> now = TenantKeys(caller_tenant_);
    EXPECT_THAT(Changes(caller_keys, now), ::testing::IsEmpty())
        << row.method << " " << row.variant << " wrote in tenant B";
    caller_keys = std::move(now);
  }
  EXPECT_GT(not_found, 2 * 70);

  // The control: a write in the caller's own session shows in its keys.
  v1::SubmitQuestionRequest submit;
  submit.set_session_id(own_session_id_);
  submit.set_participant_id(own_participant_);
  submit.set_text("Is this one seen?");
  ASSERT_OK(ServerEnvironment::server()
                .Client(caller_token_)
                .SubmitQuestion(submit)
                .status());
  EXPECT_THAT(Changes(caller_keys, TenantKeys(caller_tenant_)),
              ::testing::Not(::testing::IsEmpty()));
}

}  // namespace
}  // namespace townhall::testing
