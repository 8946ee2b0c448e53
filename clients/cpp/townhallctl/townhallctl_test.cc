// townhallctl's pieces without a server: field flags, the command line,
// settings, error hints, the viewer's zone and terminal, completion. The
// tables are in table_test.cc.
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "absl/strings/escaping.h"
#include "clients/cpp/townhallctl/command_line.h"
#include "clients/cpp/townhallctl/completion.h"
#include "clients/cpp/townhallctl/error_hints.h"
#include "clients/cpp/townhallctl/output.h"
#include "clients/cpp/townhallctl/request_fields.h"
#include "clients/cpp/townhallctl/settings.h"
#include "clients/cpp/townhallctl/viewer.h"
#include "townhall/v1/questions.pb.h"
#include "townhall/v1/scheduling.pb.h"

namespace townhall::ctl {
namespace {

absl::Status Set(google::protobuf::Message& message, const std::string& name,
                 const std::string& value) {
  absl::StatusOr<FieldPath> path =
      ResolveFieldPath(*message.GetDescriptor(), name);
  if (!path.ok()) return path.status();
  return SetField(message, *path, value);
}

TEST(RequestFields, NamesInSnakeKebabOrCamelCase) {
  v1::CreateSessionRequest request;
  ASSERT_TRUE(Set(request, "request_id", "a").ok());
  ASSERT_TRUE(Set(request, "session.time-zone", "Asia/Tashkent").ok());
  ASSERT_TRUE(Set(request, "session.joinUrl", "https://x").ok());
  EXPECT_EQ(request.request_id(), "a");
  EXPECT_EQ(request.session().time_zone(), "Asia/Tashkent");
  EXPECT_EQ(request.session().join_url(), "https://x");
}

TEST(RequestFields, TypedValues) {
  v1::CreateSessionRequest request;
  ASSERT_TRUE(Set(request, "session.format", "in-person").ok());
  ASSERT_TRUE(Set(request, "session.capacity", "80").ok());
  ASSERT_TRUE(Set(request, "publish", "true").ok());
  ASSERT_TRUE(Set(request, "session.start_time", "2027-03-20T09:00:00Z").ok());
  ASSERT_TRUE(Set(request, "session.duration", "3600s").ok());
  ASSERT_TRUE(Set(request, "session.languages", "uz").ok());
  ASSERT_TRUE(Set(request, "session.languages", "de").ok());
  EXPECT_EQ(request.session().format(), v1::SESSION_FORMAT_IN_PERSON);
  EXPECT_EQ(request.session().capacity(), 80);
  EXPECT_TRUE(request.publish());
  EXPECT_EQ(request.session().start_time().seconds(), 1805533200);
  EXPECT_EQ(request.session().duration().seconds(), 3600);
  ASSERT_EQ(request.session().languages_size(), 2);
  EXPECT_EQ(request.session().languages(1), "de");
}

TEST(RequestFields, RepeatedMessagesAsJsonObjects) {
  v1::ProposeFairSlotsRequest request;
  ASSERT_TRUE(Set(request, "participants",
                  R"({"id":"tashkent","time_zone":"Asia/Tashkent"})")
                  .ok());
  ASSERT_TRUE(Set(request, "participants", R"({"id":"berlin"})").ok());
  ASSERT_EQ(request.participants_size(), 2);
  EXPECT_EQ(request.participants(0).time_zone(), "Asia/Tashkent");
  absl::StatusOr<FieldPath> through =
      ResolveFieldPath(*request.GetDescriptor(), "participants.id");
  EXPECT_FALSE(through.ok());
  EXPECT_NE(through.status().message().find("is repeated"), std::string::npos);
}

TEST(RequestFields, ErrorsNameTheFlagAndTheExpectedForm) {
  v1::CreateSessionRequest request;
  absl::Status bad = Set(request, "session.capacity", "lots");
  EXPECT_EQ(bad.message(), "--session.capacity: \"lots\" is not an int32");
  bad = Set(request, "session.format", "PIGEON");
  EXPECT_EQ(bad.message(),
            "--session.format: \"PIGEON\" is not one of "
            "ONLINE|IN_PERSON|HYBRID");
  bad = Set(request, "session.start_time", "tomorrow");
  EXPECT_NE(bad.message().find("RFC 3339"), std::string::npos);
  bad = Set(request, "sesion.title", "x");
  EXPECT_EQ(bad.message(),
            "unknown flag --sesion.title: townhall.v1.CreateSessionRequest "
            "has no field \"sesion\"");
}

TEST(RequestFields, KebabAndEnumNames) {
  EXPECT_EQ(KebabCase("ListSessions"), "list-sessions");
  EXPECT_EQ(KebabCase("session_id"), "session-id");
  EXPECT_EQ(ShortEnumName(*v1::SessionState_descriptor()->FindValueByName(
                "SESSION_STATE_LIVE")),
            "LIVE");
}

TEST(Settings, LaterLayersWinAndTheTokenComesWhole) {
  absl::StatusOr<Settings> settings = ResolveSettings({
      {{"address", "config:1"}, {"token", "from-config"}, {"output", "json"}},
      {{"token", "from-env"}},
      {{"address", "flag:2"}, {"timeout", "3s"}, {"tls", "true"}},
  });
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(settings->client.address, "flag:2");
  EXPECT_EQ(settings->client.token, "from-env");
  EXPECT_EQ(settings->client.default_deadline, absl::Seconds(3));
  EXPECT_TRUE(settings->client.tls);
  EXPECT_EQ(settings->output, OutputFormat::kJson);
  EXPECT_EQ(ResolveSettings({{{"output", "yaml"}}})->output,
            OutputFormat::kYaml);
  EXPECT_EQ(ResolveSettings({{{"output", "xml"}}}).status().message(),
            "output: \"xml\" is none of table, wide, json, yaml");
  EXPECT_TRUE(absl::IsNotFound(
      ResolveSettings({{{"token", "t"}}, {{"token_file", "/nonexistent"}}})
          .status()));
}

TEST(Settings, ConfigLinesAreKeyValue) {
  absl::StatusOr<SettingLayer> layer =
      ParseConfig("# mine\n\naddress = a:1\ntoken=t=x\n", "cfg");
  ASSERT_TRUE(layer.ok()) << layer.status();
  EXPECT_EQ(layer->at("address"), "a:1");
  EXPECT_EQ(layer->at("token"), "t=x");
  absl::StatusOr<SettingLayer> bad =
      ParseConfig("address=a\nadress=b\n", "cfg");
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().substr(0, 26), "cfg:2: expected key=value ");
}

absl::StatusOr<Invocation> ParseLine(std::vector<std::string> args) {
  return Parse(args);
}

TEST(CommandLine, FlagsMayComeBeforeTheCommand) {
  absl::StatusOr<Invocation> parsed =
      ParseLine({"--page_size=2", "--all", "-o", "wide", "sessions", "list",
                 "--states=LIVE", "--address", "a:1"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->command.name, "sessions list");
  EXPECT_TRUE(parsed->pages.all);
  EXPECT_EQ(parsed->flags.at("output"), "wide");
  EXPECT_EQ(parsed->flags.at("address"), "a:1");
  using Fields = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(parsed->fields, (Fields{{"page_size", "2"}, {"states", "LIVE"}}));
  // A field flag before the command takes the next word unless that word
  // is a command; a bool alone is true.
  parsed = ParseLine({"--page_size", "2", "sessions", "list"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->fields, (Fields{{"page_size", "2"}}));
  parsed = ParseLine({"--publish", "sessions", "create"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->fields, (Fields{{"publish", "true"}}));
}

TEST(CommandLine, EarlyFieldFlagsAreCheckedAgainstTheCommand) {
  // page_size is no field of CreateSessionRequest: the error says so.
  EXPECT_EQ(
      ParseLine({"--page_size", "2", "sessions", "create"}).status().message(),
      "unknown flag --page_size: townhall.v1.CreateSessionRequest has "
      "no field \"page_size\" (see townhallctl sessions create --help)");
  EXPECT_EQ(ParseLine({"--session_id", "sessions", "get"}).status().message(),
            "--session_id needs a value");
  EXPECT_EQ(ParseLine({"--page_size=2"}).status().message(),
            "no command; see townhallctl --help");
}

TEST(CommandLine, VersionOutputLimitAndPositionalIds) {
  absl::StatusOr<Invocation> parsed = ParseLine({"--version"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(parsed->version);
  parsed = ParseLine({"registrations", "get", "S", "P", "-o", "out.txt",
                      "--limit=3", "--columns=id,title", "--time_zone=UTC"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  using Fields = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(parsed->fields,
            (Fields{{"session_id", "S"}, {"participant_id", "P"}}));
  EXPECT_EQ(parsed->output_file, "out.txt");  // -o with no format is a file
  EXPECT_EQ(parsed->pages.limit, 3);
  EXPECT_EQ(parsed->columns, (std::vector<std::string>{"id", "title"}));
  EXPECT_EQ(parsed->time_zone, "UTC");
  EXPECT_EQ(ParseLine({"sessions", "get", "a", "b"}).status().message(),
            "unexpected argument \"b\" (see townhallctl sessions get --help)");
  EXPECT_EQ(
      ParseLine({"sessions", "get", "a", "--session-id=b"}).status().message(),
      "session_id is given twice: \"a\" and --session_id");
  EXPECT_EQ(ParseLine({"sessions", "list", "--limit=0"}).status().message(),
            "--limit: \"0\" is not a number of rows");
  EXPECT_EQ(ParseLine({"sessions", "list", "--all=maybe"}).status().message(),
            "--all: \"maybe\" is not true or false");
  parsed = ParseLine({"sessions", "update", "S", "--session.title=x"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->fields,
            (Fields{{"session.title", "x"}, {"session.id", "S"}}));
}

TEST(CommandLine, HelpShowsPositionalIds) {
  absl::StatusOr<Invocation> parsed =
      ParseLine({"registrations", "get", "--help"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(Help(parsed->command)
                .rfind("Usage: townhallctl registrations get SESSION_ID "
                       "PARTICIPANT_ID [--field=value ...]",
                       0),
            0u);
  parsed = ParseLine({"help", "sessions"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_NE(Help(parsed->command)
                .find("  get SESSION_ID      = scheduling "
                      "get-session\n"),
            std::string::npos)
      << Help(parsed->command);
}

TEST(CommandLine, PollsTakeMethodsAndVerbs) {
  using Fields = std::vector<std::pair<std::string, std::string>>;
  // A verb: the poll's id as an argument, the session as a flag.
  absl::StatusOr<Invocation> parsed =
      ParseLine({"polls", "get", "P", "--session_id=S"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->command.method->full_name(),
            "townhall.v1.PollService.GetPoll");
  EXPECT_EQ(parsed->fields, (Fields{{"session_id", "S"}, {"poll_id", "P"}}));
  parsed = ParseLine({"polls", "list", "S"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->fields, (Fields{{"session_id", "S"}}));
  parsed = ParseLine({"polls", "vote", "P", "--session_id=S",
                      "--ballot.option_ids=2", "--participant_id=X"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->command.method->full_name(),
            "townhall.v1.PollService.CastBallot");
  ASSERT_NE(parsed->command.shortcut, nullptr);
  EXPECT_EQ(parsed->command.shortcut->file_field, nullptr);
  parsed = ParseLine({"polls", "export", "P", "--session_id=S"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_NE(parsed->command.shortcut, nullptr);
  EXPECT_STREQ(parsed->command.shortcut->file_field, "content");
  // A method of the service by reflection, under the same word.
  parsed = ParseLine({"polls", "cast-ballot", "--session_id=S"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->command.method->full_name(),
            "townhall.v1.PollService.CastBallot");
  EXPECT_EQ(parsed->command.shortcut, nullptr);
  EXPECT_EQ(ParseLine({"polls", "tally"}).status().message(),
            "unknown method or verb \"tally\" for polls; see townhallctl "
            "polls --help");
  EXPECT_EQ(ParseLine({"polls", "get", "P", "Q"}).status().message(),
            "unexpected argument \"Q\" (see townhallctl polls get --help)");
  // Help: the methods, then the verbs with what they need.
  parsed = ParseLine({"polls", "--help"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const std::string help = Help(parsed->command);
  EXPECT_EQ(help.rfind("Usage: townhallctl polls <method|verb> [flags]", 0), 0u)
      << help;
  EXPECT_NE(help.find("  watch-polls          WatchPolls (server stream)\n"),
            std::string::npos)
      << help;
  EXPECT_NE(help.find("  get POLL_ID --session_id=SESSION_ID      = polls "
                      "get-poll\n"),
            std::string::npos)
      << help;
  EXPECT_NE(help.find("  list SESSION_ID                          = polls "
                      "list-polls\n"),
            std::string::npos)
      << help;
  parsed = ParseLine({"polls", "export", "--help"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(Help(parsed->command)
                .rfind("Usage: townhallctl polls export POLL_ID "
                       "--session_id=SESSION_ID [--field=value ...]",
                       0),
            0u)
      << Help(parsed->command);
  EXPECT_NE(Help(parsed->command).find("The answer's content is the file"),
            std::string::npos);
}

TEST(Completion, ScriptsComeFromTheDescriptors) {
  absl::StatusOr<std::string> bash = CompletionScript("bash");
  ASSERT_TRUE(bash.ok()) << bash.status();
  EXPECT_NE(bash->find("complete -F _townhallctl townhallctl"),
            std::string::npos);
  // Every method in kebab-case, shortcut verbs, global and field flags.
  EXPECT_NE(bash->find("list-series-occurrences"), std::string::npos);
  EXPECT_NE(bash->find("sessions) echo \"list get create update"),
            std::string::npos);
  EXPECT_NE(bash->find("--time_zone= --all --limit="), std::string::npos);
  EXPECT_NE(bash->find("\"sessions list\") echo \"--start_after="),
            std::string::npos);
  EXPECT_NE(bash->find("--session.title="), std::string::npos);
  // A service and a shortcut group of one name: one case, methods then
  // verbs, and each command's flags.
  const size_t polls = bash->find("    polls) echo \"create-poll get-poll");
  ASSERT_NE(polls, std::string::npos);
  EXPECT_EQ(bash->find("    polls) echo", polls + 1), std::string::npos);
  EXPECT_NE(bash->find("export-poll-results list get create open close "
                       "publish vote watch export\" ;;"),
            std::string::npos);
  EXPECT_NE(bash->find("\"polls cast-ballot\"|\"polls vote\") echo"),
            std::string::npos);
  absl::StatusOr<std::string> zsh = CompletionScript("zsh");
  ASSERT_TRUE(zsh.ok()) << zsh.status();
  EXPECT_EQ(zsh->substr(0, 20), "#compdef townhallctl");
  EXPECT_NE(zsh->find("compdef _townhallctl townhallctl"), std::string::npos);
  EXPECT_EQ(CompletionScript("fish").status().message(),
            "completion: \"fish\" is not a shell townhallctl completes for "
            "(bash, zsh)");
}

// A JWT as townhalld signs one, with a signature nobody checks here.
std::string Jwt(const std::string& claims) {
  return absl::StrCat(absl::WebSafeBase64Escape(R"({"alg":"HS256"})"), ".",
                      absl::WebSafeBase64Escape(claims), ".c2ln");
}

TEST(ErrorHints, SayWhatToDo) {
  const absl::Time now = absl::FromUnixSeconds(1800000000);
  CallContext call{.address = "127.0.0.1:1", .token = "", .now = now};
  EXPECT_EQ(ErrorHint(absl::UnavailableError("connection refused"), call),
            "could not reach 127.0.0.1:1 (set --address or TOWNHALL_ADDRESS)");
  EXPECT_EQ(ErrorHint(absl::DeadlineExceededError("deadline"), call),
            "could not reach 127.0.0.1:1 (set --address or TOWNHALL_ADDRESS)");
  call.connected = true;  // a server that was reached: its storage is down
  EXPECT_EQ(ErrorHint(absl::UnavailableError("storage down"), call), "");
  EXPECT_EQ(ErrorHint(absl::UnauthenticatedError("missing credentials"), call)
                .substr(0, 51),
            "no token: give --token, --token_file or TOWNHALL_TO");
  call.token = Jwt(absl::StrCat(R"({"exp":)", 1800000000 - 60,
                                R"(,"role":"organizer","tid":"mfa-uz",)",
                                R"("sub":"me@mfa.uz"})"));
  EXPECT_EQ(
      ErrorHint(absl::UnauthenticatedError("invalid token: expired"), call),
      "the token expired at 2027-01-15T07:59:00Z; an organizer token "
      "comes from the operator: townhallctl "
      "--token_file=.local/bootstrap_credential tenant issue-token "
      "--tenant_id=mfa-uz --subject=me@mfa.uz (deploy/local/up.sh also "
      "writes a new one to .local/organizer_token)");
  call.token = Jwt(absl::StrCat(R"({"exp":)", 1800000000,
                                R"(,"role":"moderator","sid":"S","pid":"P"})"));
  EXPECT_EQ(
      ErrorHint(absl::UnauthenticatedError("invalid token: expired"), call),
      "the token expired at 2027-01-15T08:00:00Z; ask an organizer for "
      "a new join token: townhallctl registration issue-join-token "
      "--session_id=S --participant_id=P");
  // A token that has not expired, or is no JWT: the server's message says
  // enough.
  call.token = Jwt(absl::StrCat(R"({"exp":)", 1800000000 + 60, "}"));
  EXPECT_EQ(ErrorHint(absl::UnauthenticatedError("invalid token: bad "
                                                 "signature"),
                      call),
            "");
  call.token = "bootstrap-credential";
  EXPECT_EQ(ErrorHint(absl::UnauthenticatedError("x"), call), "");
  EXPECT_EQ(ErrorHint(absl::NotFoundError("x"), call), "");
  EXPECT_FALSE(ReadTokenClaims("a.!!!.c").has_value());
  EXPECT_FALSE(ReadTokenClaims(Jwt("not json")).has_value());
}

TEST(Viewer, TheZoneComesFromTheFlagTzOrTheMachine) {
  const std::string berlin = "Europe/Berlin";
  absl::StatusOr<ViewerZone> zone = ResolveViewerZone(&berlin, "UTC", "");
  ASSERT_TRUE(zone.ok()) << zone.status();
  EXPECT_EQ(zone->name, "Europe/Berlin");
  const std::string mars = "Mars/Olympus";
  EXPECT_EQ(ResolveViewerZone(&mars, nullptr, "").status().message(),
            "--time_zone: \"Mars/Olympus\" is not an IANA time zone (e.g. "
            "Asia/Tashkent, UTC)");
  EXPECT_EQ(ResolveViewerZone(nullptr, ":Asia/Tashkent", "")->name,
            "Asia/Tashkent");
  // A TZ naming no zone is passed over for the machine's.
  EXPECT_EQ(ResolveViewerZone(nullptr, "Mars/Olympus",
                              "/usr/share/zoneinfo/Asia/Almaty")
                ->name,
            "Asia/Almaty");
  EXPECT_EQ(ResolveViewerZone(nullptr, nullptr, "")->name, "UTC");
  EXPECT_EQ(ResolveViewerZone(nullptr, "Etc/UTC", "")->name, "UTC");
}

TEST(Viewer, TablesFitColumnsOrTheTerminal) {
  EXPECT_EQ(TerminalWidth("120", -1), 120);
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  // A pipe is no terminal: whole rows, also when COLUMNS is no number.
  EXPECT_EQ(TerminalWidth(nullptr, pipe_fds[1]), 0);
  EXPECT_EQ(TerminalWidth("wide", pipe_fds[1]), 0);
  close(pipe_fds[0]);
  close(pipe_fds[1]);
}

}  // namespace
}  // namespace townhall::ctl
