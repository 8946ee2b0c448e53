#include "services/common/auth/authorization.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <array>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

namespace townhall {
namespace {

constexpr uint32_t kOperator = RoleBit(Role::kOperator);
constexpr uint32_t kOrganizer = RoleBit(Role::kOrganizer);
constexpr uint32_t kSessionOrganizer = RoleBit(Role::kSessionOrganizer);
constexpr uint32_t kModerator = RoleBit(Role::kModerator);
// Everyone a join token can name.
constexpr uint32_t kSessionMembers =
    kSessionOrganizer | kModerator | RoleBit(Role::kSpeaker) |
    RoleBit(Role::kParticipant) | RoleBit(Role::kObserver);
// Those who run a session.
constexpr uint32_t kSessionRunners = kSessionOrganizer | kModerator;

constexpr uint32_t kReadSchedule = ScopeBit(ApiScope::kReadSchedule);
constexpr uint32_t kManageRegistrations =
    ScopeBit(ApiScope::kManageRegistrations);
constexpr uint32_t kSubmitQuestions = ScopeBit(ApiScope::kSubmitQuestions);
// Members who take part in a question queue (observers only watch).
constexpr uint32_t kQuestionAskers = kSessionOrganizer | kModerator |
                                     RoleBit(Role::kSpeaker) |
                                     RoleBit(Role::kParticipant);

constexpr bool kOwnOnly = true;

// The table. Keep it in service, then proto, order; a test fails when a
// method of a hosted service has no row, and docs/registration.md shows it.
constexpr AccessRule kRules[] = {
    // Diagnostics: the no-op baseline; any authenticated caller.
    {TH_METHOD(DiagnosticsService, Ping),
     kOperator | kOrganizer | kSessionMembers, kAnyApiKey},

    // Tenants and their credentials.
    {TH_METHOD(TenantService, CreateTenant), kOperator},
    {TH_METHOD(TenantService, GetTenant), kOperator | kOrganizer},
    {TH_METHOD(TenantService, IssueToken), kOperator | kOrganizer},
    {TH_METHOD(TenantService, CreateApiKey), kOrganizer},
    {TH_METHOD(TenantService, ListApiKeys), kOrganizer},
    {TH_METHOD(TenantService, RevokeApiKey), kOrganizer},

    // Scheduling: organizers plan; members read their own session;
    // portals read the schedule.
    {TH_METHOD(SchedulingService, CreateVenue), kOrganizer},
    {TH_METHOD(SchedulingService, GetVenue), kOrganizer, kReadSchedule},
    {TH_METHOD(SchedulingService, ListVenues), kOrganizer, kReadSchedule},
    {TH_METHOD(SchedulingService, CreateSession), kOrganizer},
    {TH_METHOD(SchedulingService, GetSession), kOrganizer | kSessionMembers,
     kReadSchedule},
    {TH_METHOD(SchedulingService, ListSessions), kOrganizer, kReadSchedule},
    {TH_METHOD(SchedulingService, UpdateSession), kOrganizer},
    {TH_METHOD(SchedulingService, PublishSession), kOrganizer},
    {TH_METHOD(SchedulingService, StartSession), kOrganizer | kSessionRunners},
    {TH_METHOD(SchedulingService, EndSession), kOrganizer | kSessionRunners},
    {TH_METHOD(SchedulingService, CancelSession), kOrganizer},
    {TH_METHOD(SchedulingService, CreateSeries), kOrganizer},
    {TH_METHOD(SchedulingService, GetSeries), kOrganizer, kReadSchedule},
    {TH_METHOD(SchedulingService, ListSeriesOccurrences), kOrganizer,
     kReadSchedule},
    {TH_METHOD(SchedulingService, CancelOccurrence), kOrganizer},
    {TH_METHOD(SchedulingService, MoveOccurrence), kOrganizer},
    {TH_METHOD(SchedulingService, ProposeFairSlots), kOrganizer},
    {TH_METHOD(SchedulingService, ExportCalendar), kOrganizer | kSessionMembers,
     kReadSchedule},

    // Registration: organizers decide who comes; portals register people
    // (pending approval) and hand out join tokens; members see and cancel
    // their own registration and record their own attendance.
    {TH_METHOD(RegistrationService, CreateOrganization), kOrganizer,
     kManageRegistrations},
    {TH_METHOD(RegistrationService, GetOrganization), kOrganizer,
     kManageRegistrations},
    {TH_METHOD(RegistrationService, ListOrganizations), kOrganizer,
     kManageRegistrations},
    {TH_METHOD(RegistrationService, CreateParticipant), kOrganizer,
     kManageRegistrations},
    {TH_METHOD(RegistrationService, GetParticipant), kOrganizer,
     kManageRegistrations},
    {TH_METHOD(RegistrationService, ListParticipants), kOrganizer,
     kManageRegistrations},
    {TH_METHOD(RegistrationService, ImportDirectory), kOrganizer},
    {TH_METHOD(RegistrationService, InviteOrganization), kOrganizer},
    {TH_METHOD(RegistrationService, Register), kOrganizer,
     kManageRegistrations},
    {TH_METHOD(RegistrationService, RegisterForSeries), kOrganizer,
     kManageRegistrations},
    {TH_METHOD(RegistrationService, ApproveRegistration),
     kOrganizer | kSessionOrganizer},
    {TH_METHOD(RegistrationService, CancelRegistration),
     kOrganizer | kSessionMembers, kManageRegistrations, kOwnOnly},
    {TH_METHOD(RegistrationService, SetRole), kOrganizer | kSessionOrganizer},
    {TH_METHOD(RegistrationService, GetRegistration),
     kOrganizer | kSessionMembers, kManageRegistrations, kOwnOnly},
    {TH_METHOD(RegistrationService, ListRegistrations),
     kOrganizer | kSessionRunners, kManageRegistrations},
    {TH_METHOD(RegistrationService, IssueJoinToken), kOrganizer,
     kManageRegistrations},
    {TH_METHOD(RegistrationService, RecordAttendance),
     kOrganizer | kSessionMembers, kManageRegistrations, kOwnOnly},
    {TH_METHOD(RegistrationService, GetAttendanceReport),
     kOrganizer | kSessionRunners, kManageRegistrations},
    {TH_METHOD(RegistrationService, GetSeriesAttendance), kOrganizer,
     kManageRegistrations},
    // Exports: bulk personal data, for the tenant's organizers only (no
    // session role, no API key).
    {TH_METHOD(RegistrationService, ExportOrganizations), kOrganizer},
    {TH_METHOD(RegistrationService, ExportParticipants), kOrganizer},
    {TH_METHOD(RegistrationService, ExportRegistrations), kOrganizer},
    {TH_METHOD(RegistrationService, ExportSessionAttendance), kOrganizer},
    {TH_METHOD(RegistrationService, ExportSeriesAttendance), kOrganizer},

    // Agenda: organizers and the session's runners shape and run it;
    // members read it, propose topics and raise their own hand; portals
    // read it.
    {TH_METHOD(AgendaService, CreateAgendaItem), kOrganizer | kSessionRunners},
    {TH_METHOD(AgendaService, UpdateAgendaItem), kOrganizer | kSessionRunners},
    {TH_METHOD(AgendaService, MoveAgendaItem), kOrganizer | kSessionRunners},
    {TH_METHOD(AgendaService, DeleteAgendaItem), kOrganizer | kSessionRunners},
    {TH_METHOD(AgendaService, GetAgenda), kOrganizer | kSessionMembers,
     kReadSchedule},
    {TH_METHOD(AgendaService, ActivateAgendaItem),
     kOrganizer | kSessionRunners},
    {TH_METHOD(AgendaService, CompleteAgendaItem),
     kOrganizer | kSessionRunners},
    {TH_METHOD(AgendaService, SkipAgendaItem), kOrganizer | kSessionRunners},
    {TH_METHOD(AgendaService, ProposeTopic), kOrganizer | kSessionMembers, 0,
     kOwnOnly},
    // Members see only their own proposals (ProposalsLogic filters).
    {TH_METHOD(AgendaService, ListTopicProposals),
     kOrganizer | kSessionMembers},
    {TH_METHOD(AgendaService, AcceptTopicProposal),
     kOrganizer | kSessionRunners},
    {TH_METHOD(AgendaService, DeclineTopicProposal),
     kOrganizer | kSessionRunners},
    {TH_METHOD(AgendaService, RaiseHand), kOrganizer | kSessionMembers, 0,
     kOwnOnly},
    // Members lower their own hand; the session's runners any (a hand
    // raised by mistake, or left up by someone who has gone).
    {TH_METHOD(AgendaService, LowerHand), kOrganizer | kSessionMembers, 0,
     kOwnOnly, kSessionRunners},
    {TH_METHOD(AgendaService, CallNextSpeaker), kOrganizer | kSessionRunners},
    {TH_METHOD(AgendaService, FinishSpeaker), kOrganizer | kSessionRunners},
    {TH_METHOD(AgendaService, GetSpeakersQueue), kOrganizer | kSessionMembers,
     kReadSchedule},
    {TH_METHOD(AgendaService, SetSpeakersQueueOptions),
     kOrganizer | kSessionRunners},
    {TH_METHOD(AgendaService, RecordOutcome), kOrganizer | kSessionRunners},
    {TH_METHOD(AgendaService, CreateActionItem), kOrganizer | kSessionRunners},
    {TH_METHOD(AgendaService, UpdateActionItem), kOrganizer | kSessionRunners},
    {TH_METHOD(AgendaService, ListActionItems), kOrganizer | kSessionMembers,
     kReadSchedule},
    {TH_METHOD(AgendaService, PrepareFollowUp), kOrganizer | kSessionOrganizer},
    {TH_METHOD(AgendaService, ExportMinutes), kOrganizer | kSessionRunners,
     kReadSchedule},
    {TH_METHOD(AgendaService, WatchAgenda), kOrganizer | kSessionMembers,
     kReadSchedule},
    // Questions: members ask and vote for themselves (bots with the
    // submit_questions scope on behalf of participants); moderators and
    // organizers moderate; what each reader sees of a question is the
    // property level (services/questions/question_view.h).
    {TH_METHOD(QuestionService, SubmitQuestion), kOrganizer | kQuestionAskers,
     kSubmitQuestions, kOwnOnly},
    {TH_METHOD(QuestionService, GetQuestion), kOrganizer | kSessionMembers,
     kReadSchedule | kSubmitQuestions},
    {TH_METHOD(QuestionService, ListQuestions), kOrganizer | kSessionMembers,
     kReadSchedule | kSubmitQuestions},
    {TH_METHOD(QuestionService, UpvoteQuestion), kOrganizer | kQuestionAskers,
     kSubmitQuestions, kOwnOnly},
    {TH_METHOD(QuestionService, WithdrawVote), kOrganizer | kQuestionAskers,
     kSubmitQuestions, kOwnOnly},
    {TH_METHOD(QuestionService, ApproveQuestion), kOrganizer | kSessionRunners},
    {TH_METHOD(QuestionService, RejectQuestion), kOrganizer | kSessionRunners},
    {TH_METHOD(QuestionService, PinQuestion), kOrganizer | kSessionRunners},
    {TH_METHOD(QuestionService, UnpinQuestion), kOrganizer | kSessionRunners},
    {TH_METHOD(QuestionService, MarkAnswered), kOrganizer | kSessionRunners},
    {TH_METHOD(QuestionService, ArchiveQuestion), kOrganizer | kSessionRunners},
    {TH_METHOD(QuestionService, MergeQuestions), kOrganizer | kSessionRunners},
    {TH_METHOD(QuestionService, UndoModeration), kOrganizer | kSessionRunners},
    {TH_METHOD(QuestionService, SuggestDuplicates),
     kOrganizer | kSessionMembers, kReadSchedule | kSubmitQuestions},
    {TH_METHOD(QuestionService, ListModerationLog),
     kOrganizer | kSessionRunners},
    {TH_METHOD(QuestionService, ExportModerationLog),
     kOrganizer | kSessionRunners},
    {TH_METHOD(QuestionService, GetQueueSettings), kOrganizer | kSessionMembers,
     kReadSchedule | kSubmitQuestions},
    {TH_METHOD(QuestionService, UpdateQueueSettings),
     kOrganizer | kSessionRunners},
    {TH_METHOD(QuestionService, GetQuestionPolicy), kOrganizer},
    {TH_METHOD(QuestionService, UpdateQuestionPolicy), kOrganizer},
    {TH_METHOD(QuestionService, CarryOverQuestions),
     kOrganizer | kSessionOrganizer},
    {TH_METHOD(QuestionService, ExportQuestions), kOrganizer | kSessionMembers,
     kReadSchedule | kSubmitQuestions},
    {TH_METHOD(QuestionService, WatchQueue), kOrganizer | kSessionMembers,
     kReadSchedule | kSubmitQuestions},
    // Polls: runners and organizers run them; members who may ask
    // questions vote for themselves (bots with the submit_questions scope
    // on behalf of participants); what each reader sees of the results is
    // the property level (services/polls/poll_rules.h, ResultsVisible).
    {TH_METHOD(PollService, CreatePoll), kOrganizer | kSessionRunners},
    {TH_METHOD(PollService, GetPoll), kOrganizer | kSessionMembers,
     kReadSchedule | kSubmitQuestions},
    {TH_METHOD(PollService, ListPolls), kOrganizer | kSessionMembers,
     kReadSchedule | kSubmitQuestions},
    {TH_METHOD(PollService, OpenPoll), kOrganizer | kSessionRunners},
    {TH_METHOD(PollService, ClosePoll), kOrganizer | kSessionRunners},
    {TH_METHOD(PollService, PublishPoll), kOrganizer | kSessionRunners},
    {TH_METHOD(PollService, CastBallot), kOrganizer | kQuestionAskers,
     kSubmitQuestions, kOwnOnly},
    {TH_METHOD(PollService, WatchPolls), kOrganizer | kSessionMembers,
     kReadSchedule | kSubmitQuestions},
    {TH_METHOD(PollService, ExportPollResults), kOrganizer | kSessionMembers,
     kReadSchedule | kSubmitQuestions},
};

// The value of a top-level string field, or nullptr when the message has
// no such field.
const std::string* StringField(const google::protobuf::Message& message,
                               absl::string_view name) {
  const google::protobuf::FieldDescriptor* field =
      message.GetDescriptor()->FindFieldByName(std::string(name));
  if (field == nullptr ||
      field->type() != google::protobuf::FieldDescriptor::TYPE_STRING ||
      field->is_repeated()) {
    return nullptr;
  }
  static thread_local std::string scratch;
  return &message.GetReflection()->GetStringReference(message, field, &scratch);
}

}  // namespace

absl::Span<const AccessRule> AccessRules() { return kRules; }

const AccessRule* FindAccessRule(absl::string_view method) {
  for (const AccessRule& rule : kRules) {
    if (rule.method == method) return &rule;
  }
  return nullptr;
}

bool RuleAllows(const AccessRule& rule, const Principal& caller) {
  if (caller.role == Role::kApiClient) {
    return rule.api_scopes == kAnyApiKey ||
           (rule.api_scopes & caller.scopes) != 0;
  }
  return (rule.roles & RoleBit(caller.role)) != 0;
}

absl::Status Authorize(const Principal& caller, absl::string_view method,
                       const google::protobuf::Message& request) {
  const AccessRule* rule = FindAccessRule(method);
  if (rule == nullptr) {
    return absl::PermissionDeniedError(
        absl::StrCat(method, " has no access rule"));
  }
  if (!RuleAllows(*rule, caller)) {
    return absl::PermissionDeniedError(
        caller.role == Role::kApiClient
            ? absl::StrCat("this API key's scopes do not allow ", method)
            : absl::StrCat("role ", RoleName(caller.role), " may not call ",
                           method));
  }
  if (!caller.is_session_scoped()) return absl::OkStatus();
  // A request type without a session_id (Ping) names nothing of a session;
  // which of those members may call at all is the table's (and its policy
  // test's) business.
  if (!request.GetDescriptor()->FindFieldByName("session_id")) {
    return absl::OkStatus();
  }
  const std::string* session_id = StringField(request, "session_id");
  if (session_id == nullptr || *session_id != caller.session_id) {
    // Every other session is invisible to a join token: the same NOT_FOUND
    // as for an unknown id or another tenant's session (no lookup is
    // needed, and none would tell which of those it is).
    return absl::NotFoundError(absl::StrCat(
        "session ", session_id == nullptr ? "" : *session_id, " not found"));
  }
  if (rule->own_registration_only &&
      !(rule->acts_for_others & RoleBit(caller.role))) {
    const std::string* participant_id = StringField(request, "participant_id");
    if (participant_id == nullptr || *participant_id != caller.participant_id) {
      return absl::PermissionDeniedError(
          "a join token may act only for its own participant");
    }
  }
  return absl::OkStatus();
}

std::string AccessTableMarkdown() {
  constexpr std::array<Role, 7> kColumns = {
      Role::kOperator,  Role::kOrganizer, Role::kSessionOrganizer,
      Role::kModerator, Role::kSpeaker,   Role::kParticipant,
      Role::kObserver};
  std::string out = "| RPC |";
  for (Role role : kColumns) absl::StrAppend(&out, " ", RoleName(role), " |");
  absl::StrAppend(&out, " API key scope |\n|---|");
  for (size_t i = 0; i < kColumns.size(); ++i) out += "---|";
  out += "---|\n";
  for (const AccessRule& rule : kRules) {
    absl::string_view name = absl::StripPrefix(rule.method, "/townhall.v1.");
    absl::StrAppend(&out, "| ", name, " |");
    for (Role role : kColumns) {
      bool allowed = rule.roles & RoleBit(role);
      bool own = allowed && rule.own_registration_only && IsSessionRole(role) &&
                 !(rule.acts_for_others & RoleBit(role));
      absl::StrAppend(&out, allowed ? (own ? " own |" : " yes |") : " — |");
    }
    std::string scopes;
    if (rule.api_scopes == kAnyApiKey) {
      scopes = "any";
    } else if (rule.api_scopes == 0) {
      scopes = "—";
    } else {
      std::vector<std::string> names;
      if (rule.api_scopes & kReadSchedule) names.push_back("read_schedule");
      if (rule.api_scopes & kManageRegistrations)
        names.push_back("manage_registrations");
      if (rule.api_scopes & ScopeBit(ApiScope::kSubmitQuestions))
        names.push_back("submit_questions");
      scopes = absl::StrJoin(names, ", ");
    }
    absl::StrAppend(&out, " ", scopes, " |\n");
  }
  return out;
}

}  // namespace townhall
