#!/usr/bin/python3
"""End-to-end: the reference event's agenda through a real townhalld, driven
only by Debian's python3-grpcio with stubs generated from proto/.

The scenario (../shared/scenario): the government's first video conference
with diaspora organizations in Russia. Seven topics are taken in turn; ten
delegates of four organizations raise their hands on the labour-migration
topic and are called fairly (first-time speakers first, at most two per
organization); the seven agreements are recorded with responsible
executors and deadlines; the minutes are exported; the next occurrence of
the monthly series gets a follow-up item with the open action items and
the questions carried over, linked with their status as it changes there,
and closing an action item there shows it closed from the first occurrence
too. Delegates held back by the per-organization limit are shown HELD with
the reason. A watcher sees the changes live.

Run: TOWNHALLD=<build>/services/townhalld/townhalld \
     TOWNHALL_PYTHON_DIR=<build>/python /usr/bin/python3 test_agenda_e2e.py
"""

import json
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import townhalld_fixture  # noqa: E402

import grpc  # noqa: E402
from google.protobuf import duration_pb2, timestamp_pb2  # noqa: E402

TIMEOUT = 10

TOPICS = [
    "Pandemiya sharoitidagi vaziyat / The situation with the pandemic",
    "Mehnat migratsiyasi va bandlik / Labour migration and employment",
    "Migrantlarni huquqiy himoya qilish / Legal protection of migrants",
    "Sugʻurta himoyasi / Insurance protection",
    "Investitsiya va biznes loyihalari / Investment and business projects",
    "Taʼlim, fan va madaniyat / Education, science and culture",
    "Oʻzbek tili, madaniyati va turizmini targʻib qilish / Promotion of the language, culture and tourism",
]

# The seven agreements of the report, each with an executor and a deadline
# (days from now).
AGREEMENTS = [
    (1, "Increase the efficiency of labour migration processes; employment and stay of migrants in Russia during the pandemic",
     {"department": "Ministry of Employment and Labour Relations"}, 60),
    (1, "Linguistic and vocational training of labour migrants before departure",
     {"department": "Agency for External Labour Migration"}, 90),
    (2, "Strengthen legal mechanisms protecting the interests of labour migrants abroad",
     {"department": "Ministry of Justice"}, 120),
    (3, "Create insurance protection for citizens leaving for labour migration",
     {"department": "Ministry of Finance"}, 90),
    (4, "Cooperation with compatriots in investment and business projects",
     {"department": "Ministry of Investment and Foreign Trade"}, 180),
    (5, "Favourable conditions for compatriots' entrepreneurial, scientific, educational and cultural activities in Uzbekistan",
     {"department": "Ministry of Foreign Affairs"}, 180),
    (6, "Programme promoting Uzbek culture, language, art, traditions, gastronomy and tourism with compatriots abroad",
     {"department": "Committee on Interethnic Relations and Friendly Ties"}, 150),
]

# Asked in the first occurrence, unanswered there, carried to the next.
CARRIED = [
    "Mehnat muhojirlari uchun sugʻurta qachon ishga tushadi?",
    "Когда откроется консульский пункт в Екатеринбурге?",
]

FIXTURE = None
ag = ag_grpc = sched = sched_grpc = reg = reg_grpc = q = q_grpc = None


def setUpModule():
    global FIXTURE, ag, ag_grpc, sched, sched_grpc, reg, reg_grpc, q, q_grpc
    sched, sched_grpc, _, _ = townhalld_fixture.import_stubs()
    from townhall.v1 import agenda_pb2, agenda_pb2_grpc  # noqa: E402
    from townhall.v1 import questions_pb2, questions_pb2_grpc  # noqa: E402
    from townhall.v1 import registration_pb2, registration_pb2_grpc  # noqa: E402
    ag, ag_grpc = agenda_pb2, agenda_pb2_grpc
    q, q_grpc = questions_pb2, questions_pb2_grpc
    reg, reg_grpc = registration_pb2, registration_pb2_grpc
    FIXTURE = townhalld_fixture.TownhalldFixture()
    FIXTURE.start()


def tearDownModule():
    if FIXTURE is not None:
        FIXTURE.stop()


auth = townhalld_fixture.auth


def ts(seconds):
    return timestamp_pb2.Timestamp(seconds=int(seconds))


class ReferenceEventAgendaTest(unittest.TestCase):

    def setUp(self):
        self.tenant_id, self.token = FIXTURE.create_tenant()
        self.channel = FIXTURE.channel()
        self.md = auth(self.token)
        self.agenda = ag_grpc.AgendaServiceStub(self.channel)
        self.sched = sched_grpc.SchedulingServiceStub(self.channel)
        self.reg = reg_grpc.RegistrationServiceStub(self.channel)
        self.questions = q_grpc.QuestionServiceStub(self.channel)

    def tearDown(self):
        self.channel.close()

    def call(self, stub_method, request, md=None):
        return stub_method(request, metadata=md or self.md, timeout=TIMEOUT)

    def make_series(self):
        start = int(time.time()) + 600
        series = self.call(self.sched.CreateSeries, sched.CreateSeriesRequest(
            series=sched.Series(
                template=sched.Session(
                    title="Hukumat va vatandoshlar muloqoti / Dialogue with compatriots",
                    start_time=ts(start), duration=duration_pb2.Duration(seconds=3 * 3600),
                    time_zone="Asia/Tashkent", format=sched.SESSION_FORMAT_ONLINE,
                    capacity=200),
                rrule="FREQ=MONTHLY;COUNT=2"),
            publish=True)).series
        first, second = series.session_ids
        self.call(self.sched.StartSession, sched.StartSessionRequest(session_id=first))
        return first, second

    def delegates(self, session_id):
        """Ten delegates of four organizations, registered, with join tokens."""
        orgs = []
        for name, city in [("Moskva oʻzbeklari jamiyati", "Moskva"),
                           ("Sankt-Peterburg vatandoshlari", "Sankt-Peterburg"),
                           ("Qozon oʻzbek madaniyat markazi", "Qozon"),
                           ("Yekaterinburg «Turon» jamiyati", "Yekaterinburg")]:
            orgs.append(self.call(self.reg.CreateOrganization, reg.CreateOrganizationRequest(
                organization=reg.Organization(name=name, country_code="RU", city=city))
            ).organization.id)
        people = []
        for i in range(10):
            org = orgs[[0, 0, 0, 0, 1, 1, 1, 2, 2, 3][i]]
            p = self.call(self.reg.CreateParticipant, reg.CreateParticipantRequest(
                participant=reg.Participant(display_name=f"Delegat {i + 1} Gʻofurov",
                                            organization_id=org,
                                            email=f"delegate{i}@example.org"))).participant
            self.call(self.reg.Register, reg.RegisterRequest(session_id=session_id,
                                                             participant_id=p.id))
            token = self.call(self.reg.IssueJoinToken, reg.IssueJoinTokenRequest(
                session_id=session_id, participant_id=p.id)).token
            people.append((p.id, org, token))
        return people

    def test_reference_event(self):
        first, second = self.make_series()

        # A watcher on the first session, collecting versions and kinds.
        events = []
        watch_call = self.agenda.WatchAgenda(
            ag.WatchAgendaRequest(session_id=first), metadata=self.md, timeout=60)

        def collect():
            try:
                for event in watch_call:
                    events.append(event)
            except grpc.RpcError:
                pass
        watcher = threading.Thread(target=collect, daemon=True)
        watcher.start()

        items = []
        for number, title in enumerate(TOPICS):
            items.append(self.call(self.agenda.CreateAgendaItem, ag.CreateAgendaItemRequest(
                session_id=first, item=ag.AgendaItem(
                    title=title, planned_duration=duration_pb2.Duration(seconds=20 * 60)),
                request_id=f"topic-{number}")).item)
        self.assertEqual([i.position for i in items], list(range(7)))

        people = self.delegates(first)
        outcomes = {}
        for index, item in enumerate(items):
            done = self.call(self.agenda.ActivateAgendaItem, ag.ActivateAgendaItemRequest(
                session_id=first, agenda_item_id=item.id))
            self.assertEqual(done.item.status, ag.AGENDA_ITEM_STATUS_ACTIVE)
            if index > 0:
                self.assertEqual(done.previous.id, items[index - 1].id)
                self.assertEqual(done.previous.status, ag.AGENDA_ITEM_STATUS_DONE)
            snapshot = self.call(self.agenda.GetAgenda,
                                 ag.GetAgendaRequest(session_id=first)).agenda
            active = [i for i in snapshot.items if i.status == ag.AGENDA_ITEM_STATUS_ACTIVE]
            self.assertEqual([i.id for i in active], [item.id])

            if index == 1:
                self.run_speakers_queue(first, item.id, people)
            for agenda_index, text, executor, days in AGREEMENTS:
                if agenda_index != index:
                    continue
                outcome = self.call(self.agenda.RecordOutcome, ag.RecordOutcomeRequest(
                    session_id=first, outcome=ag.Outcome(
                        agenda_item_id=item.id, kind=ag.OUTCOME_KIND_AGREEMENT, text=text))).outcome
                action = self.call(self.agenda.CreateActionItem, ag.CreateActionItemRequest(
                    session_id=first, action_item=ag.ActionItem(
                        agenda_item_id=item.id, title=text,
                        executor=ag.Executor(**executor),
                        deadline=ts(time.time() + days * 86400)))).action_item
                self.assertEqual(action.status, ag.ACTION_ITEM_STATUS_OPEN)
                outcomes[action.id] = outcome.id
        self.call(self.agenda.CompleteAgendaItem, ag.CompleteAgendaItemRequest(
            session_id=first, agenda_item_id=items[-1].id))
        self.assertEqual(len(outcomes), 7)

        # Minutes, in Markdown and JSON.
        md = self.call(self.agenda.ExportMinutes, ag.ExportMinutesRequest(
            session_id=first, format=ag.MINUTES_FORMAT_MARKDOWN))
        self.assertEqual(md.content_type, "text/markdown")
        for title in TOPICS:
            self.assertIn(title, md.content)
        for _, text, executor, _ in AGREEMENTS:
            self.assertIn(text, md.content)
            self.assertIn(executor["department"], md.content)
        as_json = json.loads(self.call(self.agenda.ExportMinutes, ag.ExportMinutesRequest(
            session_id=first, format=ag.MINUTES_FORMAT_JSON)).content)
        self.assertIn("Sugʻurta", json.dumps(as_json, ensure_ascii=False))

        # Two questions are left unanswered.
        asked = []
        for n, text in enumerate(CARRIED):
            pid, _, token = people[n]
            asked.append(self.call(self.questions.SubmitQuestion, q.SubmitQuestionRequest(
                session_id=first, participant_id=pid, text=text,
                request_id=f"carried-{n}"), md=auth(token)).question.id)

        # One measure is started right away.
        started = next(iter(outcomes))
        self.call(self.agenda.UpdateActionItem, ag.UpdateActionItemRequest(
            session_id=first, action_item_id=started,
            status=ag.ACTION_ITEM_STATUS_IN_PROGRESS, note="Ishchi guruh tuzildi"))
        self.call(self.sched.EndSession, sched.EndSessionRequest(session_id=first))
        carried = self.call(self.questions.CarryOverQuestions, q.CarryOverQuestionsRequest(
            session_id=first))
        self.assertEqual(carried.target_session_id, second)
        self.assertEqual(sorted(carried.question_ids), sorted(asked))

        # The next occurrence: a follow-up item with the seven open measures
        # and the two carried questions, with their status.
        follow = self.call(self.agenda.PrepareFollowUp,
                           ag.PrepareFollowUpRequest(session_id=second))
        self.assertEqual(follow.item.kind, ag.AGENDA_ITEM_KIND_FOLLOW_UP)
        self.assertEqual(sorted(follow.item.action_item_ids), sorted(outcomes))
        self.assertEqual(sorted(l.question_id for l in follow.item.questions), sorted(asked))
        for link in follow.item.questions:
            self.assertEqual(link.carried_from_session_id, first)
            self.assertIn(link.status, (q.QUESTION_STATUS_PENDING, q.QUESTION_STATUS_APPROVED))
        # Answered there: the link follows, in reads and in the minutes.
        answered = asked[0]
        if {l.question_id: l.status for l in follow.item.questions}[answered] == \
                q.QUESTION_STATUS_PENDING:
            self.call(self.questions.ApproveQuestion, q.ApproveQuestionRequest(
                session_id=second, question_id=answered))
        self.call(self.questions.MarkAnswered, q.MarkAnsweredRequest(
            session_id=second, question_id=answered, answer="Yanvardan"))
        linked = {l.question_id: l for l in self.call(
            self.agenda.GetAgenda, ag.GetAgendaRequest(session_id=second)).agenda.items[0].questions}
        self.assertEqual(linked[answered].status, q.QUESTION_STATUS_ANSWERED)
        self.assertEqual(linked[answered].text, CARRIED[0])
        minutes = self.call(self.agenda.ExportMinutes, ag.ExportMinutesRequest(
            session_id=second, format=ag.MINUTES_FORMAT_MARKDOWN)).content
        self.assertIn(f"- {answered} (ANSWERED): {CARRIED[0]}", minutes)
        # Another tenant does not find the session.
        _, stranger = FIXTURE.create_tenant()
        with self.assertRaises(grpc.RpcError) as hidden:
            self.call(self.agenda.GetAgenda, ag.GetAgendaRequest(session_id=second),
                      md=auth(stranger))
        self.assertEqual(hidden.exception.code(), grpc.StatusCode.NOT_FOUND)
        again = self.call(self.agenda.PrepareFollowUp,
                          ag.PrepareFollowUpRequest(session_id=second))
        self.assertEqual(again.item.id, follow.item.id)
        # Closing one there shows it closed from the first occurrence too.
        closed = follow.item.action_item_ids[0]
        self.call(self.agenda.UpdateActionItem, ag.UpdateActionItemRequest(
            session_id=second, action_item_id=closed, status=ag.ACTION_ITEM_STATUS_DONE,
            note="Bajarildi"))
        listed = self.call(self.agenda.ListActionItems, ag.ListActionItemsRequest(
            session_id=first)).action_items
        by_id = {a.id: a for a in listed}
        self.assertEqual(by_id[closed].status, ag.ACTION_ITEM_STATUS_DONE)
        self.assertEqual(by_id[closed].history[-1].session_id, second)

        # The watcher saw a snapshot and then every change in order.
        deadline = time.time() + 5
        while time.time() < deadline and not any(
                e.WhichOneof("event") == "change" and e.change.kind == "agenda.item.completed"
                for e in events):
            time.sleep(0.05)
        watch_call.cancel()
        self.assertEqual(events[0].WhichOneof("event"), "snapshot")
        versions = [e.change.version for e in events[1:] if e.WhichOneof("event") == "change"]
        self.assertEqual(versions, sorted(versions))
        self.assertEqual(len(versions), len(set(versions)))
        kinds = [e.change.kind for e in events[1:]]
        # The watch may have started after the first items were created:
        # those are in its snapshot instead.
        self.assertEqual(len(events[0].snapshot.items) + kinds.count("agenda.item.created"), 7)
        self.assertEqual(events[0].snapshot.version + len(versions), versions[-1])
        self.assertEqual(kinds.count("agenda.outcome.recorded"), 7)

    def run_speakers_queue(self, session_id, item_id, people):
        """Ten hands, four organizations: first-time speakers first, at most
        two per organization."""
        self.call(self.agenda.SetSpeakersQueueOptions, ag.SetSpeakersQueueOptionsRequest(
            session_id=session_id, agenda_item_id=item_id, options=ag.SpeakersQueueOptions(
                speaking_time_limit=duration_pb2.Duration(seconds=180),
                first_time_speakers_first=True, max_speakers_per_organization=2)))
        for pid, _, token in people:
            self.call(self.agenda.RaiseHand, ag.RaiseHandRequest(
                session_id=session_id, agenda_item_id=item_id, participant_id=pid),
                md=auth(token))
        # A participant cannot call speakers, nor raise someone else's hand.
        with self.assertRaises(grpc.RpcError) as denied:
            self.call(self.agenda.CallNextSpeaker, ag.CallNextSpeakerRequest(
                session_id=session_id, agenda_item_id=item_id), md=auth(people[0][2]))
        self.assertEqual(denied.exception.code(), grpc.StatusCode.PERMISSION_DENIED)
        with self.assertRaises(grpc.RpcError) as denied:
            self.call(self.agenda.RaiseHand, ag.RaiseHandRequest(
                session_id=session_id, agenda_item_id=item_id, participant_id=people[1][0]),
                md=auth(people[0][2]))
        self.assertEqual(denied.exception.code(), grpc.StatusCode.PERMISSION_DENIED)

        called = []
        while True:
            reply = self.call(self.agenda.CallNextSpeaker, ag.CallNextSpeakerRequest(
                session_id=session_id, agenda_item_id=item_id))
            if not reply.HasField("speaker") or not reply.speaker.participant_id:
                break
            called.append(reply.speaker.participant_id)
        # Nobody was called: the reply shows why (three hands held back).
        self.assertEqual([s.state for s in reply.queue.speakers].count(
            ag.SPEAKER_STATE_HELD), 3)
        org_of = {pid: org for pid, org, _ in people}
        per_org = {}
        for pid in called:
            per_org[org_of[pid]] = per_org.get(org_of[pid], 0) + 1
        self.assertTrue(all(n <= 2 for n in per_org.values()), per_org)
        # 4 + 3 + 2 + 1 hands, at most 2 each: 2 + 2 + 2 + 1 speakers.
        self.assertEqual(len(called), 7)
        self.assertEqual(len(set(called)), 7)
        # Everyone who spoke had raised a hand, in arrival order within the
        # rules (nobody had spoken before, so arrival order decides).
        raised_order = [pid for pid, _, _ in people]
        self.assertEqual(called, sorted(called, key=raised_order.index))
        queue = self.call(self.agenda.GetSpeakersQueue, ag.GetSpeakersQueueRequest(
            session_id=session_id, agenda_item_id=item_id)).queue
        waiting = [s for s in queue.speakers if s.state == ag.SPEAKER_STATE_WAITING]
        self.assertEqual(waiting, [])
        # Held back by the per-organization limit, and shown so.
        held = [s for s in queue.speakers if s.state == ag.SPEAKER_STATE_HELD]
        self.assertEqual(len(held), 3)
        for speaker in held:
            self.assertEqual(speaker.hold_reason,
                             ag.SPEAKER_HOLD_REASON_ORGANIZATION_LIMIT)
            self.assertIn(f"organization {speaker.organization_id} is at its limit of 2",
                          speaker.hold_detail)
            self.assertGreaterEqual(per_org[speaker.organization_id], 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
