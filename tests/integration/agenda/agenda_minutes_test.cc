// The reference event end to end: an agenda run live, with outcomes and
// action items, through to its minutes (ExportMinutes). The minutes'
// rendering itself is unit-tested in services/agenda/minutes_test.cc.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/integration/agenda/agenda_fixture.h"

namespace townhall::testing {
namespace {

using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::SizeIs;

TEST(AgendaScenarioTest, ReferenceEventWithMinutes) {
  ASSERT_OK_AND_ASSIGN(Tenant t, NewTenant());
  ASSERT_OK_AND_ASSIGN(
      v1::Session s,
      NewSession(t, true, "Dialogue with compatriots living abroad"));
  const std::vector<std::string> topics = {
      "Pandemic situation",
      "Labour migration and employment",
      "Legal protection of migrants",
      "Insurance",
      "Investment and business projects",
      "Education, science and culture",
      "Promotion of language, culture and tourism"};
  std::vector<std::string> ids;
  for (const std::string& topic : topics) {
    ASSERT_OK_AND_ASSIGN(v1::AgendaItem item,
                         AddItem(t, s.id(), topic, absl::Minutes(20)));
    ids.push_back(item.id());
  }
  const std::vector<std::string> departments = {
      "Ministry of Health",
      "Ministry of Employment and Labour Relations",
      "Ministry of Justice",
      "Ministry of Finance",
      "Ministry of Investment and Foreign Trade",
      "Ministry of Higher Education, Science and Innovation",
      "Ministry of Culture and Tourism"};
  for (size_t i = 0; i < ids.size(); ++i) {
    ASSERT_OK(Activate(t, s.id(), ids[i]));
    ASSERT_OK_AND_ASSIGN(v1::AgendaSnapshot agenda, Agenda(t, s.id()));
    int active = 0;
    for (const auto& item : agenda.items()) {
      active += item.status() == v1::AGENDA_ITEM_STATUS_ACTIVE;
    }
    EXPECT_EQ(active, 1);
    EXPECT_EQ(agenda.active_item_id(), ids[i]);
    v1::RecordOutcomeRequest outcome;
    outcome.set_session_id(s.id());
    outcome.mutable_outcome()->set_agenda_item_id(ids[i]);
    outcome.mutable_outcome()->set_kind(v1::OUTCOME_KIND_AGREEMENT);
    outcome.mutable_outcome()->set_text(
        absl::StrCat("Agreement ", i + 1, " on ", topics[i]));
    ASSERT_OK(t.client.RecordOutcome(outcome).status());
    ASSERT_OK(AddAction(t, s.id(), absl::StrCat("Measures: ", topics[i]),
                        departments[i], ids[i])
                  .status());
  }
  ASSERT_OK(t.client
                .CompleteAgendaItem(
                    For<v1::CompleteAgendaItemRequest>(s.id(), ids.back()))
                .status());
  ASSERT_OK_AND_ASSIGN(v1::AgendaSnapshot agenda, Agenda(t, s.id()));
  EXPECT_THAT(Titles(agenda), ElementsAreArray(topics));
  for (const auto& item : agenda.items()) {
    EXPECT_EQ(item.status(), v1::AGENDA_ITEM_STATUS_DONE);
    EXPECT_TRUE(item.has_actual_end_time());
  }
  EXPECT_THAT(agenda.outcomes(), SizeIs(7));
  EXPECT_THAT(agenda.action_items(), SizeIs(7));
  EXPECT_EQ(agenda.version(),
            static_cast<int64_t>(FeedKinds(t, s.id()).size()));

  v1::ExportMinutesRequest export_request;
  export_request.set_session_id(s.id());
  ASSERT_OK_AND_ASSIGN(v1::ExportMinutesResponse md,
                       t.client.ExportMinutes(export_request));
  EXPECT_EQ(md.content_type(), "text/markdown");
  EXPECT_THAT(md.filename(), HasSubstr(".md"));
  EXPECT_THAT(md.content(),
              HasSubstr("# Minutes: Dialogue with compatriots living abroad"));
  EXPECT_THAT(md.content(), HasSubstr("Asia/Tashkent"));
  EXPECT_THAT(md.content(),
              HasSubstr("### 2. Labour migration and employment"));
  EXPECT_THAT(md.content(), HasSubstr("Agreement: Agreement 2 on Labour"));
  EXPECT_THAT(
      md.content(),
      HasSubstr("executor: Ministry of Employment and Labour Relations"));
  EXPECT_THAT(md.content(), HasSubstr("Status: DONE"));
  EXPECT_THAT(md.content(), HasSubstr("status: OPEN"));
  // Items come before their successors.
  EXPECT_LT(md.content().find("Pandemic situation"),
            md.content().find("Promotion of language"));

  export_request.set_format(v1::MINUTES_FORMAT_JSON);
  ASSERT_OK_AND_ASSIGN(v1::ExportMinutesResponse json,
                       t.client.ExportMinutes(export_request));
  EXPECT_EQ(json.content_type(), "application/json");
  EXPECT_THAT(json.filename(), HasSubstr(".json"));
  EXPECT_THAT(json.content(), HasSubstr("\"sessionId\":\"" + s.id()));
  EXPECT_THAT(json.content(),
              HasSubstr("\"department\":\"Ministry of Employment and Labour "
                        "Relations\""));
  EXPECT_THAT(json.content(), HasSubstr("\"outcomes\":[{"));
  // Stable: the same state exports the same document.
  ASSERT_OK_AND_ASSIGN(v1::ExportMinutesResponse json2,
                       t.client.ExportMinutes(export_request));
  EXPECT_EQ(json.content(), json2.content());
}

}  // namespace
}  // namespace townhall::testing
