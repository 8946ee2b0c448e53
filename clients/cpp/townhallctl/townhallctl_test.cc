// townhallctl's pieces without a server: field flags, tables, settings.
#include <gtest/gtest.h>

#include <string>

#include "clients/cpp/townhallctl/output.h"
#include "clients/cpp/townhallctl/request_fields.h"
#include "clients/cpp/townhallctl/settings.h"
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

TEST(Output, ListsAreTables) {
  v1::ListSessionsResponse response;
  v1::Session* a = response.add_sessions();
  a->set_id("s1");
  a->set_title("Open Day");
  a->set_state(v1::SESSION_STATE_SCHEDULED);
  v1::Session* b = response.add_sessions();
  b->set_id("s2");
  b->set_title("Ochiq eshiklar kuni, oʻzbeklar");
  response.set_next_page_token("p2");
  EXPECT_EQ(FormatTable(response),
            "id  title                           state\n"
            "s1  Open Day                        SCHEDULED\n"
            "s2  Ochiq eshiklar kuni, oʻzbeklar  UNSPECIFIED\n"
            "next_page_token: p2\n");
  EXPECT_EQ(FormatTable(v1::ListSessionsResponse()), "(no sessions)\n");
}

TEST(Output, OthersAreFieldLinesAndJson) {
  v1::GetSessionResponse response;
  response.mutable_session()->set_id("s1");
  response.mutable_session()->mutable_duration()->set_seconds(3600);
  EXPECT_EQ(FormatTable(response), "session.id: s1\nsession.duration: 3600s\n");
  EXPECT_EQ(FormatJson(response, false),
            R"({"session":{"id":"s1","duration":"3600s"}})");
}

TEST(Output, AListBesideAnObjectIsNoTable) {
  v1::SubmitQuestionResponse response;
  response.mutable_question()->set_id("q1");
  response.add_similar_questions()->set_question_id("q0");
  EXPECT_EQ(FormatTable(response),
            "question.id: q1\nsimilar_questions[0].question_id: q0\n");
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
  EXPECT_EQ(settings->output, "json");
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

}  // namespace
}  // namespace townhall::ctl
