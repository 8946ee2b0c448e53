// townhall-load-demo: loads the reference conference into a running server.
//
// Modelled on ../shared/scenario: the government of Uzbekistan (tenant
// "mfa-uz") holds a monthly video conference with compatriots in Russia,
// in Asia/Tashkent, whose first occurrence is live now, and a follow-up
// "Open Day" at the embassy in Berlin (a zone with daylight saving time).
// The directory (about 70 diaspora organizations, ministries and missions
// and their delegates) is imported from CSV; the import reports the rows it
// refuses, so a demo shows that too. Delegates are registered for the live
// occurrence (one of them moderates) and for the Open Day; the live
// occurrence gets the reference event's seven topics, the first active, its
// seven agreements (outcomes, and action items with executors and
// deadlines) and a live question queue: about 50 questions in Uzbek,
// Russian and English, asked by delegates with their join tokens or by the
// organizer on their behalf, some anonymous, upvoted by many delegates,
// most approved, one pinned, three answered, one rejected, some left for
// the moderator, and two pairs of near-duplicates to merge; and two open
// polls: a word cloud on the next dialogue's first topic and a motion on
// the insurance agreement.
// Idempotent: a second run finds the demo, creates nothing twice and issues
// fresh tokens. Without a QuestionService (a PollService) on the server
// the questions (the polls) are skipped, with a note on stderr.
//
//   townhall-load-demo --server=127.0.0.1:50051
//       --bootstrap_credential_file=.local/bootstrap_credential
//       --directory_dir=tests/data --state_dir=.local
// prints an organizer token on stdout and writes into --state_dir: a
// moderator's join token, the live session's id and its series' id, the
// participant the messenger bot of clients/python acts for, and (when
// created, or when their file is gone) the API keys of a portal and of the
// bot.
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <initializer_list>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "clients/cpp/townhall_client.h"

ABSL_FLAG(std::string, server, "127.0.0.1:50051", "townhalld address.");
ABSL_FLAG(std::string, bootstrap_credential_file, "",
          "File with the operator's bootstrap credential.");
ABSL_FLAG(std::string, tenant, "mfa-uz", "Tenant id of the demo organizer.");
ABSL_FLAG(absl::Duration, wait, absl::Seconds(30),
          "How long to wait for the server to become ready.");
ABSL_FLAG(std::string, directory_dir, "",
          "Folder with organizations.csv and participants.csv to import; "
          "empty skips the directory and registrations.");
ABSL_FLAG(std::string, state_dir, "",
          "Folder to write moderator_join_token and portal_api_key into.");

namespace townhall {
namespace {

using v1::Session;

int Fail(absl::string_view what, const absl::Status& status) {
  std::cerr << "load-demo: " << what << ": " << status << "\n";
  return 1;
}

void SetStart(absl::Time t, Session* s) {
  s->mutable_start_time()->set_seconds(absl::ToUnixSeconds(t));
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Writes a secret for the local user only.
void WriteSecret(const std::string& dir, const std::string& name,
                 const std::string& value) {
  if (dir.empty()) return;
  std::string path = absl::StrCat(dir, "/", name);
  std::ofstream out(path, std::ios::trunc);
  out << value << "\n";
  out.close();
  chmod(path.c_str(), 0600);
}

// OK, or ALREADY_EXISTS from a second run.
bool CreatedOrExists(const absl::Status& status) {
  return status.ok() || status.code() == absl::StatusCode::kAlreadyExists;
}

// Imports the directory and registers delegates: for the live occurrence
// of the dialogue one person of each of the first 40 organizations (the
// first of them moderates), for the Open Day in Berlin 12 people. Returns
// the live occurrence's delegates, the moderator first.
absl::StatusOr<std::vector<std::string>> LoadRegistrations(
    TownhallClient& client, const std::string& live_id,
    const std::string& open_day_id) {
  const std::string dir = absl::GetFlag(FLAGS_directory_dir);
  v1::ImportDirectoryRequest import;
  absl::StatusOr<std::string> orgs =
      ReadFile(absl::StrCat(dir, "/organizations.csv"));
  absl::StatusOr<std::string> people =
      ReadFile(absl::StrCat(dir, "/participants.csv"));
  if (!orgs.ok()) return orgs.status();
  if (!people.ok()) return people.status();
  import.set_organizations_csv(*orgs);
  import.set_participants_csv(*people);
  auto imported = client.ImportDirectory(import);
  if (!imported.ok()) return imported.status();
  std::cerr << "load-demo: directory: " << imported->organizations_created()
            << " organizations and " << imported->participants_created()
            << " participants created, " << imported->organizations_existing()
            << " + " << imported->participants_existing()
            << " already there; rows refused:\n";
  for (const v1::ImportError& error : imported->errors()) {
    std::cerr << "  " << error.file() << ".csv line " << error.line() << ": "
              << error.reason() << "\n";
  }

  // One member of each organization, in the order the server lists them.
  std::vector<std::string> delegates;
  std::set<std::string> seen_orgs;
  v1::ListParticipantsRequest list;
  list.set_page_size(500);
  auto listed = client.ListParticipants(list);
  if (!listed.ok()) return listed.status();
  for (const v1::Participant& p : listed->participants()) {
    if (p.organization_id().empty()) continue;
    if (seen_orgs.insert(p.organization_id()).second) {
      delegates.push_back(p.id());
    }
  }
  if (delegates.empty()) {
    return absl::FailedPreconditionError("the directory has no delegates");
  }
  std::vector<std::string> live_delegates;
  for (size_t i = 0; i < delegates.size() && i < 40; ++i) {
    v1::RegisterRequest reg;
    reg.set_session_id(live_id);
    reg.set_participant_id(delegates[i]);
    reg.set_role(i == 0 ? v1::SESSION_ROLE_MODERATOR
                        : v1::SESSION_ROLE_PARTICIPANT);
    reg.set_request_id(absl::StrCat("demo-live-", delegates[i]));
    if (absl::Status s = client.Register(reg).status(); !CreatedOrExists(s)) {
      return s;
    }
    live_delegates.push_back(delegates[i]);
  }
  for (size_t i = 0; i < delegates.size() && i < 12; ++i) {
    v1::RegisterRequest reg;
    reg.set_session_id(open_day_id);
    reg.set_participant_id(delegates[delegates.size() - 1 - i]);
    reg.set_request_id(absl::StrCat("demo-open-day-", reg.participant_id()));
    if (absl::Status s = client.Register(reg).status(); !CreatedOrExists(s)) {
      return s;
    }
  }
  return live_delegates;
}

absl::Status LoadSchedule(TownhallClient& client, std::string* live_id,
                          std::string* open_day_id);

// The reference event's topics on the live session, the first one active
// (once: an agenda that has items is left alone).
absl::Status LoadAgenda(TownhallClient& client, const std::string& live_id) {
  v1::GetAgendaRequest get;
  get.set_session_id(live_id);
  auto agenda = client.GetAgenda(get);
  if (!agenda.ok()) return agenda.status();
  if (agenda->agenda().items_size() > 0) return absl::OkStatus();
  const char* kTopics[] = {
      "Pandemiya sharoitidagi vaziyat / The situation with the pandemic",
      "Mehnat migratsiyasi va bandlik / Labour migration and employment",
      "Migrantlarni huquqiy himoya qilish / Legal protection of migrants",
      "Sugʻurta himoyasi / Insurance protection",
      "Investitsiya va biznes loyihalari / Investment and business projects",
      "Taʼlim, fan va madaniyat / Education, science and culture",
      "Oʻzbek tili, madaniyati va turizmi / Language, culture and tourism",
  };
  std::string first;
  int number = 0;
  for (const char* title : kTopics) {
    v1::CreateAgendaItemRequest create;
    create.set_session_id(live_id);
    create.mutable_item()->set_title(title);
    create.mutable_item()->mutable_planned_duration()->set_seconds(20 * 60);
    create.set_request_id(absl::StrCat("demo-topic-", number++));
    auto made = client.CreateAgendaItem(create);
    if (!made.ok()) return made.status();
    if (first.empty()) first = made->item().id();
  }
  v1::ActivateAgendaItemRequest activate;
  activate.set_session_id(live_id);
  activate.set_agenda_item_id(first);
  return client.ActivateAgendaItem(activate).status();
}

// The seven agreements of the reference event, each an outcome of its
// topic (by agenda position) and an action item with a responsible
// executor and a deadline (days from the first load).
struct DemoAgreement {
  int topic;
  const char* text;
  const char* department;  // the executor...
  bool organization;       // ...unless the Public Council executes it
  int deadline_days;
};

constexpr DemoAgreement kAgreements[] = {
    {1,
     "Mehnat migratsiyasi jarayonlari samaradorligini oshirish; pandemiya "
     "davrida migrantlarning bandligi va Rossiyada qolishi / Increase the "
     "efficiency of labour migration; employment and stay of migrants in "
     "Russia during the pandemic",
     "Ministry of Employment and Labour Relations", false, 60},
    {1,
     "Mehnat migrantlarini joʻnab ketishdan oldin til va kasbga tayyorlash / "
     "Language and vocational training of labour migrants before departure",
     "Agency for External Labour Migration", false, 90},
    {2,
     "Chet eldagi mehnat migrantlari manfaatlarini himoya qilishning huquqiy "
     "mexanizmlarini kuchaytirish / Strengthen the legal protection of "
     "labour migrants abroad",
     "Ministry of Justice", false, 120},
    {3,
     "Mehnat migratsiyasiga ketayotgan fuqarolarni sugʻurta himoyasi "
     "mexanizmlarini yaratish / Insurance protection for citizens leaving "
     "for labour migration",
     "Ministry of Finance", false, 90},
    {4,
     "Vatandoshlar bilan investitsiya va biznes loyihalarida, taʼlim, fan, "
     "madaniyat va ijtimoiy tashabbuslarda hamkorlik / Cooperation with "
     "compatriots in investment, business, education, science and culture",
     "Ministry of Investment and Foreign Trade", true, 180},
    {5,
     "Vatandoshlarning Oʻzbekistonda tadbirkorlik, ilmiy, taʼlim va madaniy "
     "faoliyati uchun qulay sharoit yaratish / Favourable conditions for "
     "compatriots' activities in Uzbekistan",
     "Ministry of Foreign Affairs", false, 180},
    {6,
     "Oʻzbek madaniyati va tili, sanʼati, anʼanalari, gastronomiyasi va "
     "turizm salohiyatini targʻib qilish dasturi / A programme promoting "
     "Uzbek culture, language, traditions, gastronomy and tourism",
     "Committee on Interethnic Relations and Friendly Ties", false, 150},
};

// The session's TOPIC items in agenda order.
absl::StatusOr<std::vector<v1::AgendaItem>> Topics(
    const v1::AgendaSnapshot& agenda) {
  std::vector<v1::AgendaItem> topics;
  for (const v1::AgendaItem& item : agenda.items()) {
    if (item.kind() != v1::AGENDA_ITEM_KIND_FOLLOW_UP) topics.push_back(item);
  }
  std::sort(topics.begin(), topics.end(),
            [](const v1::AgendaItem& a, const v1::AgendaItem& b) {
              return a.position() < b.position();
            });
  if (topics.size() < 7) {
    return absl::FailedPreconditionError(
        absl::StrCat("the live session has ", topics.size(),
                     " agenda topics, the demo needs 7"));
  }
  return topics;
}

// The Public Council of Compatriots at the embassy in Moscow (the report
// mentions it), which executes the cooperation measure: created once, then
// found by name.
absl::StatusOr<std::string> PublicCouncil(TownhallClient& client) {
  constexpr absl::string_view kName =
      "Vatandoshlar jamoatchilik kengashi (Moskva)";
  v1::ListOrganizationsRequest list;
  list.set_page_size(500);
  do {
    auto page = client.ListOrganizations(list);
    if (!page.ok()) return page.status();
    for (const v1::Organization& org : page->organizations()) {
      if (org.name() == kName) return org.id();
    }
    list.set_page_token(page->next_page_token());
  } while (!list.page_token().empty());
  v1::CreateOrganizationRequest create;
  create.set_request_id("demo-org-public-council");
  v1::Organization* org = create.mutable_organization();
  org->set_name(std::string(kName));
  (*org->mutable_localized_names())["ru"] =
      "Общественный совет соотечественников (Москва)";
  (*org->mutable_localized_names())["en"] =
      "Public Council of Compatriots (Moscow)";
  org->set_country_code("RU");
  org->set_city("Moskva");
  auto created = client.CreateOrganization(create);
  if (!created.ok()) return created.status();
  return created->organization().id();
}

// Records the seven agreements and their action items on the live session,
// each unless an outcome with its text (an action item with its title) is
// already there. `council_org` executes the cooperation measure.
absl::Status LoadOutcomes(TownhallClient& client, const std::string& live_id,
                          const std::string& council_org) {
  v1::GetAgendaRequest get;
  get.set_session_id(live_id);
  auto agenda = client.GetAgenda(get);
  if (!agenda.ok()) return agenda.status();
  auto topics = Topics(agenda->agenda());
  if (!topics.ok()) return topics.status();
  std::set<std::string> outcomes;
  for (const v1::Outcome& o : agenda->agenda().outcomes()) {
    outcomes.insert(o.text());
  }
  std::set<std::string> actions;
  for (const v1::ActionItem& a : agenda->agenda().action_items()) {
    actions.insert(a.title());
  }
  int number = 0;
  int created = 0;
  for (const DemoAgreement& agreement : kAgreements) {
    const std::string& item_id = (*topics)[agreement.topic].id();
    ++number;
    if (!outcomes.contains(agreement.text)) {
      v1::RecordOutcomeRequest record;
      record.set_session_id(live_id);
      record.set_request_id(absl::StrCat("demo-outcome-", number));
      v1::Outcome* outcome = record.mutable_outcome();
      outcome->set_agenda_item_id(item_id);
      outcome->set_kind(v1::OUTCOME_KIND_AGREEMENT);
      outcome->set_text(agreement.text);
      if (auto s = client.RecordOutcome(record); !s.ok()) return s.status();
      ++created;
    }
    if (!actions.contains(agreement.text)) {
      v1::CreateActionItemRequest create;
      create.set_session_id(live_id);
      create.set_request_id(absl::StrCat("demo-action-", number));
      v1::ActionItem* action = create.mutable_action_item();
      action->set_agenda_item_id(item_id);
      action->set_title(agreement.text);
      if (agreement.organization && !council_org.empty()) {
        action->mutable_executor()->set_organization_id(council_org);
      } else {
        action->mutable_executor()->set_department(agreement.department);
      }
      action->mutable_deadline()->set_seconds(absl::ToUnixSeconds(
          absl::Now() + absl::Hours(24 * agreement.deadline_days)));
      if (auto s = client.CreateActionItem(create); !s.ok()) return s.status();
      ++created;
    }
  }
  std::cerr << "load-demo: outcomes: " << created
            << " outcomes and action items created\n";
  return absl::OkStatus();
}

// Calls `rpc` again while the per-participant rate limit refuses it (at
// most 5 tries, `wait` apart), with the same request and so the same
// request_id. The demo stays well under the limits (organizers are not
// limited; a delegate asks at most twice and votes at most 18 times), so
// this only matters when a run is repeated within a minute.
template <typename Rpc>
auto UntilAdmitted(absl::Duration wait, Rpc rpc) -> decltype(rpc()) {
  for (int attempt = 1;; ++attempt) {
    auto result = rpc();
    if (result.ok() ||
        result.status().code() != absl::StatusCode::kResourceExhausted ||
        attempt == 5) {
      return result;
    }
    std::cerr << "load-demo: " << result.status().message() << "; waiting "
              << wait << "\n";
    absl::SleepFor(wait);
  }
}

// What the demo does with a question after submitting it.
enum class Fate {
  kPending,   // left for the moderator (the console's first screen)
  kApproved,  // approved, then voted for
  kPinned,    // approved, voted for, pinned ("answering now")
  kAnswered,  // approved, voted for, answered with a written answer
  kRejected,  // off topic
};

// How the author's question reaches the server.
enum class Via {
  kJoinToken,  // the delegate, with their own join token
  kOrganizer,  // the organizer on the delegate's behalf (participant_id)
};

struct DemoQuestion {
  int topic;  // agenda position
  const char* language;
  const char* text;
  Via via;
  bool anonymous;
  int votes;  // distinct delegates who upvote it
  Fate fate;
  const char* answer;  // for kAnswered; the reject reason for kRejected
};

// About 50 questions in Uzbek (Latin, with the apostrophes people really
// type for oʻ and gʻ: ʻ ' ’ ‘), Russian and English. Two pairs are near
// duplicates for the merge demo: 0/14 (Uzbek, other apostrophes and
// wording) and 28/30 (Russian).
constexpr DemoQuestion kQuestions[] = {
    // 0
    {1, "uz-Latn",
     "Patent toʻlovi muddati oʻtib ketgan migrantlarga qanday yordam "
     "beriladi?",
     Via::kJoinToken, false, 31, Fate::kApproved, ""},
    {0, "uz-Latn",
     "Karantin paytida ishidan ayrilgan vatandoshlarga moddiy yordam "
     "koʻrsatiladimi?",
     Via::kOrganizer, false, 27, Fate::kApproved, ""},
    {1, "uz-Latn",
     "Rossiyadagi ish beruvchilar bilan to'g'ridan-to'g'ri mehnat shartnomasi "
     "tuzish mumkinmi?",
     Via::kJoinToken, false, 18, Fate::kApproved, ""},
    {2, "uz-Latn",
     "Konsullik bo’limi viloyatlarda ham ochiladimi? Yekaterinburgdan "
     "Moskvaga borish juda qimmat.",
     Via::kOrganizer, false, 24, Fate::kApproved, ""},
    {3, "uz-Latn",
     "Mehnat migrantlari uchun sug‘urta polisi qancha turadi va uni qayerdan "
     "olish mumkin?",
     Via::kJoinToken, false, 16, Fate::kApproved, ""},
    // 5
    {5, "uz-Latn",
     "Farzandlarimiz Rossiyada o'zbek tilida ta'lim olishi uchun yakshanba "
     "maktablari ochish rejasi bormi?",
     Via::kOrganizer, false, 12, Fate::kApproved, ""},
    {6, "uz-Latn",
     "Oʻzbek milliy taomlari festivalini Qozonda oʻtkazishga yordam bera "
     "olasizlarmi?",
     Via::kJoinToken, false, 9, Fate::kApproved, ""},
    {4, "uz-Latn",
     "Vatandoshlar Oʻzbekistonda biznes ochsa, soliq imtiyozlari boʻladimi?",
     Via::kOrganizer, false, 14, Fate::kApproved, ""},
    {1, "uz-Latn",
     "Chet elga ketishdan oldin kasbiy tayyorgarlik kurslari bepulmi?",
     Via::kJoinToken, false, 0, Fate::kPending, ""},
    {2, "uz-Latn",
     "Ish haqini bermagan ish beruvchi ustidan qayerga shikoyat qilish kerak?",
     Via::kOrganizer, true, 22, Fate::kApproved, ""},
    // 10
    {0, "uz-Latn",
     "Chegaralar yopilganda Rossiyada qolib ketgan talabalar uchun qaytish "
     "reysi qachon bo’ladi?",
     Via::kJoinToken, false, 19, Fate::kApproved, ""},
    {5, "uz-Latn",
     "O‘zbekiston oliy o‘quv yurtlarida vatandoshlar farzandlari uchun kvota "
     "ajratiladimi?",
     Via::kOrganizer, false, 11, Fate::kApproved, ""},
    {6, "uz-Latn",
     "Turizm yarmarkasida diaspora tashkilotlari uchun alohida stend "
     "bo'ladimi?",
     Via::kJoinToken, false, 4, Fate::kApproved, ""},
    {3, "uz-Latn",
     "Baxtsiz hodisa yuz bersa, sug'urta kompaniyasi bilan kim bogʻlanadi: "
     "migrantning oʻzimi yoki ish beruvchimi?",
     Via::kOrganizer, true, 8, Fate::kApproved, ""},
    {1, "uz-Latn",
     "Patent to'lovi muddati o'tib ketgan migrantlarga qanday yordam bor?",
     Via::kJoinToken, false, 0, Fate::kPending, ""},
    // 15
    {4, "uz-Latn",
     "Vatandoshlar uchun investitsiya loyihalari roʻyxati qayerda eʼlon "
     "qilinadi?",
     Via::kOrganizer, false, 6, Fate::kApproved, ""},
    {2, "uz-Latn",
     "Pasportini yo‘qotgan fuqaro qaytish guvohnomasini necha kunda oladi?",
     Via::kJoinToken, false, 15, Fate::kAnswered,
     "Qaytish guvohnomasi konsullikda 3 ish kunida beriladi; ariza "
     "elektron navbat orqali topshiriladi."},
    {6, "uz-Latn",
     "Bolalar uchun onlayn oʻzbek tili darslari tashkil etilsa, jamiyatimiz "
     "xona va oʻqituvchi bera oladi.",
     Via::kOrganizer, false, 0, Fate::kPending, ""},
    {5, "uz-Latn",
     "Rossiyada olingan diplomlarni Oʻzbekistonda tan olish tartibi "
     "soddalashtiriladimi?",
     Via::kJoinToken, false, 13, Fate::kApproved, ""},
    {0, "uz-Latn",
     "Emlangan migrantlar uchun karantin talablari yumshatiladimi?",
     Via::kOrganizer, false, 0, Fate::kPending, ""},
    // 20
    {1, "ru",
     "Можно ли продлить патент, не выезжая из России, пока действуют "
     "ограничения из-за пандемии?",
     Via::kJoinToken, false, 35, Fate::kPinned, ""},
    {2, "ru",
     "Будет ли создана горячая линия юридической помощи для трудовых "
     "мигрантов?",
     Via::kOrganizer, false, 21, Fate::kApproved, ""},
    {0, "ru",
     "Когда возобновятся регулярные авиарейсы между Москвой и Ташкентом?",
     Via::kJoinToken, false, 26, Fate::kAnswered,
     "Регулярные рейсы Москва — Ташкент возобновляются с первого числа "
     "следующего месяца; расписание опубликовано на сайте посольства."},
    {3, "ru", "Распространяется ли страховка на членов семьи мигранта?",
     Via::kOrganizer, false, 10, Fate::kApproved, ""},
    {4, "ru",
     "Какие гарантии получат соотечественники, вкладывающие средства в "
     "проекты в Узбекистане?",
     Via::kJoinToken, false, 12, Fate::kApproved, ""},
    // 25
    {5, "ru",
     "Планируется ли обмен преподавателями между вузами России и "
     "Узбекистана?",
     Via::kOrganizer, false, 7, Fate::kApproved, ""},
    {6, "ru",
     "Можно ли организовать гастроли узбекских театров в городах Поволжья?",
     Via::kJoinToken, false, 5, Fate::kApproved, ""},
    {2, "ru", "Как получить справку о несудимости, не выезжая в Узбекистан?",
     Via::kOrganizer, false, 0, Fate::kPending, ""},
    {2, "ru", "Что делать, если работодатель удерживает паспорт работника?",
     Via::kJoinToken, true, 17, Fate::kApproved, ""},
    {0, "ru",
     "Будет ли помощь соотечественникам, оставшимся без работы из-за "
     "карантина?",
     Via::kOrganizer, false, 9, Fate::kApproved, ""},
    // 30
    {2, "ru",
     "Что делать, если работодатель забрал паспорт работника и не отдаёт?",
     Via::kJoinToken, true, 6, Fate::kApproved, ""},
    {4, "ru",
     "Есть ли программа льготных кредитов для мигрантов, которые "
     "возвращаются домой?",
     Via::kOrganizer, false, 11, Fate::kApproved, ""},
    {5, "ru", "Откроют ли в Москве филиал узбекского вуза?", Via::kJoinToken,
     false, 0, Fate::kPending, ""},
    {6, "ru",
     "Поддержит ли посольство выпуск газеты на узбекском языке в "
     "Санкт-Петербурге?",
     Via::kOrganizer, false, 3, Fate::kApproved, ""},
    {1, "ru",
     "Как проверить работодателя до подписания договора через агентство "
     "занятости?",
     Via::kJoinToken, false, 8, Fate::kApproved, ""},
    // 35
    {3, "ru", "Кто оплачивает лечение мигранта, если у него нет полиса ДМС?",
     Via::kOrganizer, false, 0, Fate::kPending, ""},
    {1, "en",
     "Will the pre-departure language courses include Russian for beginners, "
     "and can they be taken online?",
     Via::kJoinToken, false, 14, Fate::kApproved, ""},
    {4, "en",
     "Could the embassy publish a directory of diaspora entrepreneurs to help "
     "start joint business projects?",
     Via::kOrganizer, false, 10, Fate::kApproved, ""},
    {0, "en",
     "How can compatriots stranded abroad sign up for repatriation flights?",
     Via::kJoinToken, false, 20, Fate::kAnswered,
     "Sign up on the consulate's portal under \"Return home\"; the passenger "
     "list of each flight is published three days before departure."},
    {2, "en",
     "Is there a plan for free legal consultations at the consulates, at "
     "least once a month?",
     Via::kOrganizer, false, 16, Fate::kApproved, ""},
    // 40
    {5, "en",
     "Are there scholarships for children of compatriots to study in "
     "Uzbekistan?",
     Via::kJoinToken, false, 9, Fate::kApproved, ""},
    {6, "en",
     "Can the tourism committee work with diaspora groups to promote travel "
     "to Khiva and Bukhara?",
     Via::kOrganizer, false, 7, Fate::kApproved, ""},
    {3, "en",
     "Will insurance be mandatory for every labour migrant, and who pays for "
     "it?",
     Via::kJoinToken, false, 12, Fate::kApproved, ""},
    {1, "en",
     "What is being done to lower the cost of work permits during the "
     "pandemic?",
     Via::kOrganizer, true, 15, Fate::kApproved, ""},
    {4, "en",
     "Can companies founded by compatriots abroad take part in public "
     "procurement in Uzbekistan?",
     Via::kJoinToken, false, 0, Fate::kPending, ""},
    // 45
    {5, "en",
     "Could universities recognise online courses taken abroad during the "
     "lockdown?",
     Via::kOrganizer, false, 0, Fate::kPending, ""},
    {6, "en",
     "Is there funding for Navruz celebrations organised by diaspora "
     "communities?",
     Via::kJoinToken, false, 5, Fate::kApproved, ""},
    {2, "en", "How do migrants report fraud by recruitment agencies?",
     Via::kOrganizer, true, 13, Fate::kApproved, ""},
    {0, "en",
     "Will the consulates keep working by appointment during the lockdown?",
     Via::kJoinToken, false, 4, Fate::kApproved, ""},
    {0, "en", "Who won the football match yesterday?", Via::kOrganizer, false,
     0, Fate::kRejected,
     "Kun tartibiga aloqador emas / Not related to the agenda"},
};

bool Open(v1::QuestionStatus status) {
  return status == v1::QUESTION_STATUS_APPROVED ||
         status == v1::QUESTION_STATUS_PINNED;
}

// Every question of the session the organizer sees, by text.
absl::StatusOr<std::map<std::string, v1::Question>> QuestionsByText(
    TownhallClient& client, const std::string& live_id) {
  std::map<std::string, v1::Question> by_text;
  v1::ListQuestionsRequest list;
  list.set_session_id(live_id);
  list.set_view(v1::ListQuestionsRequest::VIEW_ALL);
  list.set_page_size(100);
  do {
    auto page = client.ListQuestions(list);
    if (!page.ok()) return page.status();
    for (const v1::Question& q : page->questions()) by_text[q.text()] = q;
    list.set_page_token(page->next_page_token());
  } while (!list.page_token().empty());
  return by_text;
}

// Submits the demo questions on the live session (those not there yet), by
// delegates 1..n-1 (the moderator, delegates[0], asks nothing), at most two
// each, so the default limit of 5 submissions a minute per participant
// holds; approves, votes (each delegate casts well under 120 votes), pins,
// answers and rejects as kQuestions says. A question a moderator has already
// handled (no longer PENDING) is left as it is, but may get missing votes.
absl::Status LoadQuestions(TownhallClient& client, const std::string& live_id,
                           const std::vector<std::string>& delegates) {
  if (delegates.size() < 10) {
    return absl::FailedPreconditionError(
        "the live session needs at least 10 delegates for the questions");
  }
  auto existing = QuestionsByText(client, live_id);
  if (!existing.ok()) return existing.status();

  v1::GetAgendaRequest get;
  get.set_session_id(live_id);
  auto agenda = client.GetAgenda(get);
  if (!agenda.ok()) return agenda.status();
  auto topics = Topics(agenda->agenda());
  if (!topics.ok()) return topics.status();

  // Join tokens of the delegates, issued when first needed.
  std::map<std::string, std::string> tokens;
  auto token_of =
      [&](const std::string& participant) -> absl::StatusOr<std::string> {
    auto found = tokens.find(participant);
    if (found != tokens.end()) return found->second;
    v1::IssueJoinTokenRequest join;
    join.set_session_id(live_id);
    join.set_participant_id(participant);
    join.mutable_ttl()->set_seconds(3600);
    auto joined = client.IssueJoinToken(join);
    if (!joined.ok()) return joined.status();
    return tokens[participant] = joined->token();
  };

  const int authors = static_cast<int>(delegates.size()) - 1;
  int submitted = 0, moderated = 0, votes_cast = 0;
  for (int i = 0; i < static_cast<int>(std::size(kQuestions)); ++i) {
    const DemoQuestion& demo = kQuestions[i];
    const std::string& author = delegates[1 + i % authors];
    v1::Question question;
    bool fresh = false;
    if (auto found = existing->find(demo.text); found != existing->end()) {
      question = found->second;
    } else {
      v1::SubmitQuestionRequest submit;
      submit.set_session_id(live_id);
      submit.set_participant_id(author);
      submit.set_text(demo.text);
      submit.set_anonymous(demo.anonymous);
      submit.set_language(demo.language);
      submit.set_agenda_item_id((*topics)[demo.topic].id());
      submit.set_request_id(absl::StrCat("demo-question-", i));
      CallOptions call;
      if (demo.via == Via::kJoinToken) {
        auto token = token_of(author);
        if (!token.ok()) return token.status();
        call.token = *token;
      }
      auto made = UntilAdmitted(absl::Seconds(12), [&] {
        return client.SubmitQuestion(submit, call);
      });
      if (!made.ok()) return made.status();
      question = made->question();
      fresh = true;
      ++submitted;
    }
    // Untouched since it was submitted: the demo moderates it.
    fresh = fresh || question.status() == v1::QUESTION_STATUS_PENDING;
    const std::string id = question.id();

    if (fresh && question.status() == v1::QUESTION_STATUS_PENDING &&
        demo.fate == Fate::kRejected) {
      v1::RejectQuestionRequest reject;
      reject.set_session_id(live_id);
      reject.set_question_id(id);
      reject.set_reason(demo.answer);
      auto done = client.RejectQuestion(reject);
      if (!done.ok()) return done.status();
      question = done->question();
      ++moderated;
    }
    if (fresh && question.status() == v1::QUESTION_STATUS_PENDING &&
        demo.fate != Fate::kPending && demo.fate != Fate::kRejected) {
      v1::ApproveQuestionRequest approve;
      approve.set_session_id(live_id);
      approve.set_question_id(id);
      auto done = client.ApproveQuestion(approve);
      if (!done.ok()) return done.status();
      question = done->question();
      ++moderated;
    }
    // Votes from delegates other than the author, a different run of them
    // for each question (upvoting twice changes nothing).
    if (Open(question.status()) && question.votes() < demo.votes) {
      for (int k = 0, cast = 0; cast < demo.votes && k < authors; ++k) {
        const std::string& voter = delegates[1 + (i * 7 + k) % authors];
        if (voter == author) continue;
        ++cast;
        auto token = token_of(voter);
        if (!token.ok()) return token.status();
        v1::UpvoteQuestionRequest upvote;
        upvote.set_session_id(live_id);
        upvote.set_question_id(id);
        upvote.set_participant_id(voter);
        auto voted = UntilAdmitted(absl::Seconds(1), [&] {
          return client.UpvoteQuestion(upvote, {.token = *token});
        });
        if (!voted.ok()) return voted.status();
        if (voted->changed()) ++votes_cast;
      }
    }
    if (fresh && question.status() == v1::QUESTION_STATUS_APPROVED &&
        demo.fate == Fate::kPinned) {
      v1::PinQuestionRequest pin;
      pin.set_session_id(live_id);
      pin.set_question_id(id);
      auto done = client.PinQuestion(pin);
      if (!done.ok()) return done.status();
      ++moderated;
    }
    if (fresh && Open(question.status()) && demo.fate == Fate::kAnswered) {
      v1::MarkAnsweredRequest answer;
      answer.set_session_id(live_id);
      answer.set_question_id(id);
      answer.set_answer(demo.answer);
      auto done = client.MarkAnswered(answer);
      if (!done.ok()) return done.status();
      ++moderated;
    }
  }
  std::cerr << "load-demo: questions: " << submitted << " submitted, "
            << moderated << " moderator actions, " << votes_cast
            << " votes cast\n";
  return absl::OkStatus();
}

// The demo's polls, both OPEN on the live session: a word cloud for the
// next dialogue's first topic, and a motion on the insurance agreement's
// agenda item (simple majority of the votes cast).
constexpr char kWordCloudQuestion[] =
    "Bir soʻz bilan: keyingi muloqot nimadan boshlansin? / In one word: what "
    "should the next dialogue take up first?";
constexpr char kMotionQuestion[] =
    "Mehnat migratsiyasiga ketayotgan fuqarolarni sugʻurta himoyasi "
    "mexanizmlarini yaratish toʻgʻrisidagi kelishuv qabul qilinsinmi? / "
    "Shall the agreement on insurance protection for citizens leaving for "
    "labour migration be adopted?";
// The insurance agreement's topic (kAgreements[3]).
constexpr int kMotionTopic = 3;

// Creates the demo's polls that are not there yet (found by question) and
// opens those still in DRAFT; a poll a moderator has closed since is left
// as it is. The polls open after the registrations, so the live session's
// delegates (the bot's user among them) may vote.
absl::Status LoadPolls(TownhallClient& client, const std::string& live_id) {
  std::map<std::string, v1::Poll> existing;
  v1::ListPollsRequest list;
  list.set_session_id(live_id);
  list.set_page_size(500);
  do {
    auto page = client.ListPolls(list);
    if (!page.ok()) return page.status();
    for (const v1::Poll& poll : page->polls()) existing[poll.question()] = poll;
    list.set_page_token(page->next_page_token());
  } while (!list.page_token().empty());

  v1::GetAgendaRequest get;
  get.set_session_id(live_id);
  auto agenda = client.GetAgenda(get);
  if (!agenda.ok()) return agenda.status();
  auto topics = Topics(agenda->agenda());
  if (!topics.ok()) return topics.status();

  v1::Poll cloud;
  cloud.set_kind(v1::POLL_KIND_WORD_CLOUD);
  cloud.set_question(kWordCloudQuestion);
  cloud.set_max_choices(1);
  v1::Poll motion;
  motion.set_kind(v1::POLL_KIND_MOTION);
  motion.set_question(kMotionQuestion);
  motion.set_agenda_item_id((*topics)[kMotionTopic].id());
  motion.set_majority_rule(v1::MAJORITY_RULE_SIMPLE);
  motion.set_majority_base(v1::MAJORITY_BASE_VOTES_CAST);

  struct DemoPoll {
    const char* name;
    const v1::Poll* poll;
  };
  int created = 0, opened = 0;
  for (const DemoPoll& demo :
       {DemoPoll{"word-cloud", &cloud}, DemoPoll{"motion", &motion}}) {
    v1::Poll poll;
    if (auto found = existing.find(demo.poll->question());
        found != existing.end()) {
      poll = found->second;
    } else {
      v1::CreatePollRequest create;
      create.set_session_id(live_id);
      create.set_request_id(absl::StrCat("demo-poll-", demo.name));
      *create.mutable_poll() = *demo.poll;
      auto made = client.CreatePoll(create);
      if (!made.ok()) return made.status();
      poll = made->poll();
      ++created;
    }
    if (poll.state() == v1::POLL_STATE_DRAFT) {
      v1::OpenPollRequest open;
      open.set_session_id(live_id);
      open.set_poll_id(poll.id());
      if (auto s = client.OpenPoll(open); !s.ok()) return s.status();
      ++opened;
    }
  }
  std::cerr << "load-demo: polls: " << created << " created, " << opened
            << " opened\n";
  return absl::OkStatus();
}

// Keeps one live API key named `name` whose secret is in
// `state_dir`/`file`: creates it when there is none, or when the file is
// gone (then the old key, whose secret nobody has any more, is revoked).
absl::Status EnsureApiKey(TownhallClient& client, const std::string& name,
                          std::initializer_list<v1::ApiScope> scopes,
                          const std::string& file) {
  const std::string dir = absl::GetFlag(FLAGS_state_dir);
  auto keys = client.ListApiKeys(v1::ListApiKeysRequest());
  if (!keys.ok()) return keys.status();
  std::vector<std::string> live;
  for (const v1::ApiKey& key : keys->api_keys()) {
    if (key.display_name() == name && !key.has_revoke_time()) {
      live.push_back(key.id());
    }
  }
  struct stat info;
  bool have_file =
      dir.empty() || stat(absl::StrCat(dir, "/", file).c_str(), &info) == 0;
  if (!live.empty() && have_file) return absl::OkStatus();
  for (const std::string& id : live) {
    v1::RevokeApiKeyRequest revoke;
    revoke.set_api_key_id(id);
    if (auto s = client.RevokeApiKey(revoke); !s.ok()) return s.status();
  }
  v1::CreateApiKeyRequest create;
  create.mutable_api_key()->set_display_name(name);
  for (v1::ApiScope scope : scopes) create.mutable_api_key()->add_scopes(scope);
  auto created = client.CreateApiKey(create);
  if (!created.ok()) return created.status();
  WriteSecret(dir, file, created->key());
  return absl::OkStatus();
}

int Run() {
  std::ifstream in(absl::GetFlag(FLAGS_bootstrap_credential_file));
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string credential(absl::StripAsciiWhitespace(buffer.str()));
  if (credential.empty()) {
    std::cerr << "load-demo: --bootstrap_credential_file is empty or missing\n";
    return 2;
  }
  TownhallClient op(
      {.address = absl::GetFlag(FLAGS_server), .token = credential});

  // Wait for the server (and its Redis) to answer.
  absl::Time give_up = absl::Now() + absl::GetFlag(FLAGS_wait);
  while (true) {
    v1::PingRequest ping;
    absl::Status status =
        op.Ping(ping, {.deadline = absl::Seconds(1)}).status();
    if (status.ok()) break;
    if (absl::Now() > give_up) return Fail("server not ready", status);
    absl::SleepFor(absl::Milliseconds(200));
  }

  const std::string tenant = absl::GetFlag(FLAGS_tenant);
  v1::CreateTenantRequest create_tenant;
  create_tenant.mutable_tenant()->set_id(tenant);
  create_tenant.mutable_tenant()->set_display_name(
      "Ministry of Foreign Affairs of the Republic of Uzbekistan");
  absl::Status created = op.CreateTenant(create_tenant).status();
  if (!created.ok() && created.code() != absl::StatusCode::kAlreadyExists) {
    return Fail("create tenant", created);
  }
  v1::IssueTokenRequest issue;
  issue.set_tenant_id(tenant);
  issue.set_subject("organizer@mfa.example.uz");
  // The longest organizer token townhalld issues by default
  // (--max_organizer_token_lifetime); up.sh runs this again for a new one.
  issue.mutable_ttl()->set_seconds(24 * 3600);
  auto token = op.IssueToken(issue);
  if (!token.ok()) return Fail("issue token", token.status());
  TownhallClient client(
      {.address = absl::GetFlag(FLAGS_server), .token = token->token()});

  auto existing = client.ListSessions(v1::ListSessionsRequest());
  if (!existing.ok()) return Fail("list sessions", existing.status());
  std::string live_id;
  std::string open_day_id;
  for (const Session& s : existing->sessions()) {
    if (s.state() == v1::SESSION_STATE_LIVE && live_id.empty())
      live_id = s.id();
    if (s.format() == v1::SESSION_FORMAT_IN_PERSON) open_day_id = s.id();
  }
  if (existing->sessions_size() == 0) {
    absl::Status loaded = LoadSchedule(client, &live_id, &open_day_id);
    if (!loaded.ok()) return Fail("load schedule", loaded);
  }
  const std::string state_dir = absl::GetFlag(FLAGS_state_dir);
  if (!absl::GetFlag(FLAGS_directory_dir).empty() && !live_id.empty() &&
      !open_day_id.empty()) {
    absl::StatusOr<std::vector<std::string>> delegates =
        LoadRegistrations(client, live_id, open_day_id);
    if (!delegates.ok()) return Fail("load registrations", delegates.status());
    v1::IssueJoinTokenRequest join;
    join.set_session_id(live_id);
    join.set_participant_id(delegates->front());
    auto joined = client.IssueJoinToken(join);
    if (!joined.ok()) return Fail("issue join token", joined.status());
    WriteSecret(state_dir, "moderator_join_token", joined->token());
    WriteSecret(state_dir, "live_session_id", live_id);
    v1::GetSessionRequest get_live;
    get_live.set_session_id(live_id);
    auto live = client.GetSession(get_live);
    if (!live.ok()) return Fail("get live session", live.status());
    // The monthly series the live session belongs to (its calendar).
    WriteSecret(state_dir, "series_id", live->session().series_id());
    // The messenger bot's user (clients/python) is the last delegate.
    WriteSecret(state_dir, "bot_participant_id", delegates->back());
    if (absl::Status agenda = LoadAgenda(client, live_id); !agenda.ok()) {
      return Fail("load agenda", agenda);
    }
    absl::StatusOr<std::string> council = PublicCouncil(client);
    if (!council.ok()) return Fail("load organizations", council.status());
    if (absl::Status outcomes = LoadOutcomes(client, live_id, *council);
        !outcomes.ok()) {
      return Fail("load outcomes", outcomes);
    }
    absl::Status questions = LoadQuestions(client, live_id, *delegates);
    if (questions.code() == absl::StatusCode::kUnimplemented) {
      std::cerr << "load-demo: this server has no QuestionService ("
                << questions.message() << "); no questions loaded\n";
    } else if (!questions.ok()) {
      return Fail("load questions", questions);
    }
    absl::Status polls = LoadPolls(client, live_id);
    if (polls.code() == absl::StatusCode::kUnimplemented) {
      std::cerr << "load-demo: this server has no PollService ("
                << polls.message() << "); no polls loaded\n";
    } else if (!polls.ok()) {
      return Fail("load polls", polls);
    }
  }
  // API keys (a key is shown only when created): a portal's, and the
  // messenger bot's of clients/python.
  if (absl::Status s = EnsureApiKey(
          client, "Vatandoshlar portali (demo)",
          {v1::API_SCOPE_READ_SCHEDULE, v1::API_SCOPE_MANAGE_REGISTRATIONS},
          "portal_api_key");
      !s.ok()) {
    return Fail("create API key", s);
  }
  if (absl::Status s = EnsureApiKey(
          client, "Vatandosh bot (demo)",
          {v1::API_SCOPE_READ_SCHEDULE, v1::API_SCOPE_SUBMIT_QUESTIONS},
          "bot_api_key");
      !s.ok()) {
    return Fail("create API key", s);
  }
  std::cout << token->token() << "\n";
  return 0;
}

// Venues, the monthly dialogue (first occurrence live) and the Open Day.
absl::Status LoadSchedule(TownhallClient& client, std::string* live_id,
                          std::string* open_day_id) {
  v1::CreateVenueRequest moscow;
  moscow.set_request_id("demo-venue-moscow");
  moscow.mutable_venue()->set_name(
      "Embassy of the Republic of Uzbekistan in Moscow");
  moscow.mutable_venue()->set_address("Pogorelsky pereulok 12, Moscow");
  moscow.mutable_venue()->set_time_zone("Europe/Moscow");
  moscow.mutable_venue()->set_capacity(120);
  auto moscow_venue = client.CreateVenue(moscow);
  if (!moscow_venue.ok()) return moscow_venue.status();

  v1::CreateVenueRequest berlin;
  berlin.set_request_id("demo-venue-berlin");
  berlin.mutable_venue()->set_name(
      "Embassy of the Republic of Uzbekistan in Berlin");
  berlin.mutable_venue()->set_address("Perleberger Strasse 62, 10559 Berlin");
  berlin.mutable_venue()->set_time_zone("Europe/Berlin");
  berlin.mutable_venue()->set_capacity(80);
  auto berlin_venue = client.CreateVenue(berlin);
  if (!berlin_venue.ok()) return berlin_venue.status();

  // The monthly dialogue, first occurrence this hour in Tashkent.
  absl::TimeZone tashkent;
  absl::LoadTimeZone("Asia/Tashkent", &tashkent);
  absl::CivilHour this_hour = absl::ToCivilHour(absl::Now(), tashkent);
  v1::CreateSeriesRequest series;
  series.set_request_id("demo-series-dialogue");
  series.set_publish(true);
  Session* tmpl = series.mutable_series()->mutable_template_();
  tmpl->set_title("Dialogue of the Government with compatriots in Russia");
  tmpl->set_description(
      "Regular video conference of ministries, departments and diplomatic "
      "missions with more than 70 diaspora organizations: the pandemic "
      "situation, labour migration and employment, legal protection, "
      "insurance, investment, education, culture, language and tourism.");
  SetStart(absl::FromCivil(this_hour, tashkent), tmpl);
  tmpl->mutable_duration()->set_seconds(3 * 3600);
  tmpl->set_time_zone("Asia/Tashkent");
  tmpl->set_format(v1::SESSION_FORMAT_HYBRID);
  tmpl->add_venue_ids(moscow_venue->venue().id());
  tmpl->add_host_ids("mfa-diaspora-department");
  tmpl->set_join_url("https://meet.example.uz/dialogue-compatriots");
  tmpl->set_capacity(300);
  tmpl->add_languages("uz");
  tmpl->add_languages("ru");
  tmpl->add_languages("en");
  series.mutable_series()->set_rrule("FREQ=MONTHLY;COUNT=6");
  auto created_series = client.CreateSeries(series);
  if (!created_series.ok()) return created_series.status();
  v1::StartSessionRequest start;
  start.set_session_id(created_series->series().session_ids(0));
  if (auto s = client.StartSession(start); !s.ok()) return s.status();
  *live_id = start.session_id();

  // The follow-up Open Day at the embassy in Berlin, 10:00 local.
  absl::TimeZone berlin_zone;
  absl::LoadTimeZone("Europe/Berlin", &berlin_zone);
  absl::CivilDay in_six_weeks =
      absl::ToCivilDay(absl::Now() + absl::Hours(24 * 42), berlin_zone);
  v1::CreateSessionRequest open_day;
  open_day.set_request_id("demo-open-day-berlin");
  open_day.set_publish(true);
  Session* day = open_day.mutable_session();
  day->set_title("Open Day at the Embassy in Berlin");
  day->set_description(
      "Consular questions, education and business projects of compatriots.");
  SetStart(absl::FromCivil(
               absl::CivilSecond(in_six_weeks.year(), in_six_weeks.month(),
                                 in_six_weeks.day(), 10, 0, 0),
               berlin_zone),
           day);
  day->mutable_duration()->set_seconds(6 * 3600);
  day->set_time_zone("Europe/Berlin");
  day->set_format(v1::SESSION_FORMAT_IN_PERSON);
  day->add_venue_ids(berlin_venue->venue().id());
  day->set_capacity(80);
  day->add_languages("uz");
  day->add_languages("de");
  auto made_open_day = client.CreateSession(open_day);
  if (!made_open_day.ok()) return made_open_day.status();
  *open_day_id = made_open_day->session().id();
  return absl::OkStatus();
}

}  // namespace
}  // namespace townhall

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return townhall::Run();
}
