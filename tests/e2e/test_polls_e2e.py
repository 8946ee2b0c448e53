#!/usr/bin/python3
"""End-to-end: a poll of the reference dialogue through a real townhalld,
driven only by Debian's python3-grpcio with stubs generated from proto/.

The scenario (../shared/scenario): the government's video conference with
the diaspora organizations in Russia. The organizer sets up the session
with its agenda, registers 40 delegates of ten organizations (CONFIRMED)
and a moderator, and takes the first topic. On it, the room is asked which
topic to take next: a SINGLE_CHOICE poll on the current agenda item whose
results participants see only once it is closed (AFTER_CLOSE). The 40
delegates vote with their own join tokens (a retry counts once; nobody
votes for someone else; a delegate registered after the open is not in
the snapshot); the moderator, with a join token of their own, closes and
publishes it; the minutes (AgendaService.ExportMinutes, Markdown) then list
the poll's question under its agenda item with the winning option and its
count, and leave out polls that are not closed.

Run: TOWNHALLD=<build>/services/townhalld/townhalld \
     TOWNHALL_PYTHON_DIR=<build>/python /usr/bin/python3 test_polls_e2e.py
"""

import os
import sys
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
    "Oʻzbek tili, madaniyati va turizmi / Language, culture and tourism",
]
QUESTION = "Keyingi mavzu qaysi boʻlsin? / Which topic should we take next?"
# The delegates' choices by option (the topics after the current one):
# 40 ballots, one clear winner.
VOTES = {"1": 19, "2": 11, "3": 7, "4": 3}
ORGANIZATIONS = [
    ("Moskva oʻzbeklari jamiyati", "Moskva"),
    ("Sankt-Peterburg vatandoshlari", "Sankt-Peterburg"),
    ("Qozon oʻzbek madaniyat markazi", "Qozon"),
    ("Yekaterinburg «Turon» jamiyati", "Yekaterinburg"),
    ("Novosibirsk oʻzbeklari", "Novosibirsk"),
    ("Samara «Doʻstlik» markazi", "Samara"),
    ("Узбекская диаспора Омска", "Omsk"),
    ("Krasnoyarsk vatandoshlari", "Krasnoyarsk"),
    ("Vladivostok oʻzbek jamoasi", "Vladivostok"),
    ("Rostov «Mehr» jamiyati", "Rostov-na-Donu"),
]

FIXTURE = None
ag = ag_grpc = sched = sched_grpc = reg = reg_grpc = pl = pl_grpc = None
auth = townhalld_fixture.auth


def setUpModule():
    global FIXTURE, ag, ag_grpc, sched, sched_grpc, reg, reg_grpc, pl, pl_grpc
    sched, sched_grpc, _, _ = townhalld_fixture.import_stubs()
    from townhall.v1 import agenda_pb2, agenda_pb2_grpc  # noqa: E402
    from townhall.v1 import polls_pb2, polls_pb2_grpc  # noqa: E402
    from townhall.v1 import registration_pb2, registration_pb2_grpc  # noqa: E402
    ag, ag_grpc = agenda_pb2, agenda_pb2_grpc
    pl, pl_grpc = polls_pb2, polls_pb2_grpc
    reg, reg_grpc = registration_pb2, registration_pb2_grpc
    FIXTURE = townhalld_fixture.TownhalldFixture()
    FIXTURE.start()


def tearDownModule():
    if FIXTURE is not None:
        FIXTURE.stop()


class ReferenceDialoguePollTest(unittest.TestCase):

    def setUp(self):
        self.tenant_id, self.token = FIXTURE.create_tenant()
        self.channel = FIXTURE.channel()
        self.md = auth(self.token)
        self.sched = sched_grpc.SchedulingServiceStub(self.channel)
        self.reg = reg_grpc.RegistrationServiceStub(self.channel)
        self.agenda = ag_grpc.AgendaServiceStub(self.channel)
        self.polls = pl_grpc.PollServiceStub(self.channel)

    def tearDown(self):
        self.channel.close()

    def call(self, method, request, md=None):
        return method(request, metadata=md or self.md, timeout=TIMEOUT)

    def code_of(self, method, request, md=None):
        with self.assertRaises(grpc.RpcError) as raised:
            self.call(method, request, md)
        return raised.exception.code()

    def live_session(self):
        session = self.call(self.sched.CreateSession, sched.CreateSessionRequest(
            session=sched.Session(
                title="Hukumat va vatandoshlar muloqoti / Dialogue with compatriots in Russia",
                start_time=timestamp_pb2.Timestamp(seconds=int(time.time()) + 300),
                duration=duration_pb2.Duration(seconds=3 * 3600),
                time_zone="Asia/Tashkent", format=sched.SESSION_FORMAT_ONLINE,
                capacity=100),
            publish=True)).session
        self.call(self.sched.StartSession, sched.StartSessionRequest(session_id=session.id))
        return session.id

    def participant(self, session_id, name, organization_id="", role=0):
        """A registered participant (CONFIRMED; role 0: the default,
        PARTICIPANT) and their join token."""
        p = self.call(self.reg.CreateParticipant, reg.CreateParticipantRequest(
            participant=reg.Participant(display_name=name,
                                        organization_id=organization_id))).participant
        registration = self.call(self.reg.Register, reg.RegisterRequest(
            session_id=session_id, participant_id=p.id, role=role,
            request_id=f"register-{p.id}")).registration
        self.assertEqual(registration.status, reg.REGISTRATION_STATUS_CONFIRMED, name)
        token = self.call(self.reg.IssueJoinToken, reg.IssueJoinTokenRequest(
            session_id=session_id, participant_id=p.id)).token
        return p.id, token

    def delegates(self, session_id):
        """Forty delegates, four for each of ten organizations."""
        people = []
        for name, city in ORGANIZATIONS:
            org = self.call(self.reg.CreateOrganization, reg.CreateOrganizationRequest(
                organization=reg.Organization(name=name, country_code="RU", city=city))
            ).organization.id
            for _ in range(4):
                people.append(self.participant(
                    session_id, f"Delegat {len(people) + 1} ({city})", org))
        return people

    def test_reference_dialogue_poll(self):
        session = self.live_session()
        items = [self.call(self.agenda.CreateAgendaItem, ag.CreateAgendaItemRequest(
            session_id=session, item=ag.AgendaItem(
                title=title, planned_duration=duration_pb2.Duration(seconds=20 * 60)),
            request_id=f"topic-{n}")).item for n, title in enumerate(TOPICS)]
        moderator, moderator_token = self.participant(
            session, "Moderator Barno Ismoilova", role=reg.SESSION_ROLE_MODERATOR)
        people = self.delegates(session)
        self.assertEqual(len(people), 40)
        current = self.call(self.agenda.ActivateAgendaItem, ag.ActivateAgendaItemRequest(
            session_id=session, agenda_item_id=items[0].id)).item
        self.assertEqual(current.status, ag.AGENDA_ITEM_STATUS_ACTIVE)

        # Which topic next: a poll on the current item, results after close.
        poll = self.call(self.polls.CreatePoll, pl.CreatePollRequest(
            session_id=session, request_id="next-topic", poll=pl.Poll(
                kind=pl.POLL_KIND_SINGLE_CHOICE, question=QUESTION,
                options=[pl.PollOption(text=t) for t in TOPICS[1:]],
                agenda_item_id=current.id,
                results_visibility=pl.RESULTS_VISIBILITY_AFTER_CLOSE))).poll
        self.assertEqual(poll.state, pl.POLL_STATE_DRAFT)
        self.assertEqual([o.id for o in poll.options], ["1", "2", "3", "4"])
        text_of = {o.id: o.text for o in poll.options}
        # Polls that are not closed stay out of the minutes: one left in
        # DRAFT, one left OPEN.
        draft = self.call(self.polls.CreatePoll, pl.CreatePollRequest(
            session_id=session, poll=pl.Poll(
                kind=pl.POLL_KIND_SINGLE_CHOICE, question="Qoralama / A draft never opened",
                options=[pl.PollOption(text="Ha"), pl.PollOption(text="Yoʻq")]))).poll
        still_open = self.call(self.polls.CreatePoll, pl.CreatePollRequest(
            session_id=session, poll=pl.Poll(
                kind=pl.POLL_KIND_WORD_CLOUD,
                question="Bir soʻz bilan: muloqot qanday oʻtmoqda? / In one word: how is it going?"))
        ).poll
        self.call(self.polls.OpenPoll, pl.OpenPollRequest(session_id=session,
                                                          poll_id=still_open.id))

        opened = self.call(self.polls.OpenPoll, pl.OpenPollRequest(
            session_id=session, poll_id=poll.id)).poll
        self.assertEqual(opened.state, pl.POLL_STATE_OPEN)
        # The eligibility snapshot: 40 delegates and the moderator.
        self.assertEqual(opened.results.eligible_count, 41)
        # Registered after the open: not in the snapshot.
        late, late_token = self.participant(session, "Kechikkan delegat / A late delegate")
        self.assertEqual(self.code_of(self.polls.CastBallot, pl.CastBallotRequest(
            session_id=session, poll_id=poll.id, participant_id=late,
            ballot=pl.Ballot(option_ids=["1"])), auth(late_token)),
            grpc.StatusCode.PERMISSION_DENIED)

        choices = [option for option, n in VOTES.items() for _ in range(n)]
        self.assertEqual(len(choices), len(people))
        for (pid, token), option in zip(people, choices):
            reply = self.call(self.polls.CastBallot, pl.CastBallotRequest(
                session_id=session, poll_id=poll.id, participant_id=pid,
                ballot=pl.Ballot(option_ids=[option]), request_id=f"ballot-{pid}"),
                auth(token))
            self.assertTrue(reply.changed)
            # AFTER_CLOSE: the voter sees how many voted, not the results.
            self.assertFalse(reply.poll.HasField("results"), reply.poll)
            self.assertTrue(reply.poll.voted)
        # A retry (same request_id) votes once.
        pid, token = people[0]
        retry = self.call(self.polls.CastBallot, pl.CastBallotRequest(
            session_id=session, poll_id=poll.id, participant_id=pid,
            ballot=pl.Ballot(option_ids=[choices[0]]), request_id=f"ballot-{pid}"),
            auth(token))
        self.assertFalse(retry.changed)
        self.assertEqual(retry.poll.ballot_count, 40)
        # Nobody votes for someone else, and a delegate does not close polls.
        self.assertEqual(self.code_of(self.polls.CastBallot, pl.CastBallotRequest(
            session_id=session, poll_id=poll.id, participant_id=moderator,
            ballot=pl.Ballot(option_ids=["4"])), auth(token)),
            grpc.StatusCode.PERMISSION_DENIED)
        self.assertEqual(self.code_of(self.polls.ClosePoll, pl.ClosePollRequest(
            session_id=session, poll_id=poll.id), auth(token)),
            grpc.StatusCode.PERMISSION_DENIED)

        # While it is open a participant sees the count and no results, on
        # reads and lists; the moderator sees the live tally.
        seen = self.call(self.polls.GetPoll, pl.GetPollRequest(
            session_id=session, poll_id=poll.id), auth(token)).poll
        self.assertEqual(seen.ballot_count, 40)
        self.assertFalse(seen.HasField("results"))
        listed = {p.id: p for p in self.call(self.polls.ListPolls, pl.ListPollsRequest(
            session_id=session), auth(token)).polls}
        self.assertEqual(listed[poll.id].ballot_count, 40)
        self.assertFalse(listed[poll.id].HasField("results"))
        live = self.call(self.polls.GetPoll, pl.GetPollRequest(
            session_id=session, poll_id=poll.id), auth(moderator_token)).poll
        self.assertEqual({t.option_id: t.votes for t in live.results.tallies}, VOTES)

        # The moderator closes: now participants see the results too.
        closed = self.call(self.polls.ClosePoll, pl.ClosePollRequest(
            session_id=session, poll_id=poll.id), auth(moderator_token)).poll
        self.assertEqual(closed.state, pl.POLL_STATE_CLOSED)
        self.assertEqual(self.code_of(self.polls.CastBallot, pl.CastBallotRequest(
            session_id=session, poll_id=poll.id, participant_id=moderator,
            ballot=pl.Ballot(option_ids=["4"])), auth(moderator_token)),
            grpc.StatusCode.FAILED_PRECONDITION)
        after = self.call(self.polls.GetPoll, pl.GetPollRequest(
            session_id=session, poll_id=poll.id), auth(people[5][1])).poll
        self.assertEqual({t.option_id: t.votes for t in after.results.tallies}, VOTES)
        published = self.call(self.polls.PublishPoll, pl.PublishPollRequest(
            session_id=session, poll_id=poll.id), auth(moderator_token)).poll
        self.assertEqual(published.state, pl.POLL_STATE_PUBLISHED)
        results = published.results
        self.assertEqual(results.ballot_count, 40)
        self.assertEqual((results.eligible_count, results.ballot_weight), (41, 40))
        self.assertAlmostEqual(results.turnout, 40 / 41)
        winner = max(VOTES, key=VOTES.get)
        self.assertEqual(max(results.tallies, key=lambda t: t.votes).option_id, winner)

        # The minutes list the closed poll under its agenda item, with the
        # winning option and its count; the draft and the open poll not.
        minutes = self.call(self.agenda.ExportMinutes, ag.ExportMinutesRequest(
            session_id=session, format=ag.MINUTES_FORMAT_MARKDOWN))
        self.assertEqual(minutes.content_type, "text/markdown")
        content = minutes.content
        self.assertIn(QUESTION, content, content)
        at = content.index(QUESTION)
        # The nearest agenda item title before the question is its item's.
        before = {title: content.rfind(title, 0, at) for title in TOPICS}
        self.assertEqual(max(before, key=before.get), TOPICS[0], content)
        self.assertGreaterEqual(before[TOPICS[0]], 0, content)
        # The winner and its count on one line, after the question.
        winner_line = next((line for line in content[at:].splitlines()
                            if text_of[winner] in line), "")
        self.assertRegex(winner_line, rf"\b{VOTES[winner]}\b", content)
        self.assertNotIn(draft.question, content)
        self.assertNotIn(still_open.question, content)


if __name__ == "__main__":
    unittest.main(verbosity=2)
