#!/usr/bin/python3
"""End-to-end: the demo conference and the messenger bot example.

townhall-load-demo (what ./deploy/local/up.sh runs) loads the reference
conference into a fresh townhalld: about 70 organizations, the monthly
dialogue in Asia/Tashkent with its first occurrence live, seven topics,
the seven agreements with executors and deadlines, about 50 questions in
Uzbek, Russian and English with votes and moderation, two open polls (a
word cloud, and a motion on the insurance agreement's agenda item), and
the Open Day in Berlin. A second run creates nothing. Then
clients/python/townhall_bot.py, a third-party client, lists the sessions
in its user's time zone, submits a question and upvotes one, with the
demo's API key and with a join token, and lists the open polls and votes
in both.

Run: TOWNHALLD=<build>/services/townhalld/townhalld \
     TOWNHALL_LOAD_DEMO=<build>/clients/cpp/townhall-load-demo \
     TOWNHALL_PYTHON_DIR=<build>/python /usr/bin/python3 test_demo_e2e.py
"""

import datetime
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import unittest
import zoneinfo

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import townhalld_fixture  # noqa: E402

SOURCE_DIR = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BOT = os.path.join(SOURCE_DIR, "clients", "python", "townhall_bot.py")
TIMEOUT = 10
USER_ZONE = "Asia/Vladivostok"  # UTC+10, no daylight saving time

FIXTURE = None
STATE = None
sched = sched_grpc = reg = reg_grpc = ag = ag_grpc = qs = qs_grpc = None
pl = pl_grpc = None
WORD_CLOUD = ("Bir soʻz bilan: keyingi muloqot nimadan boshlansin? / In one word: what "
              "should the next dialogue take up first?")


def load_demo(tenant, state_dir):
    binary = os.environ.get("TOWNHALL_LOAD_DEMO") or os.path.join(
        SOURCE_DIR, "build", "clients", "cpp", "townhall-load-demo")
    credential = os.path.join(state_dir, "bootstrap_credential")
    if not os.path.exists(credential):
        with open(credential, "w") as f:
            f.write(FIXTURE.bootstrap_credential + "\n")
    return subprocess.run(
        [binary, f"--server={FIXTURE.address}", f"--tenant={tenant}",
         f"--bootstrap_credential_file={credential}",
         f"--directory_dir={os.path.join(SOURCE_DIR, 'tests', 'data')}",
         f"--state_dir={state_dir}", "--wait=10s"],
        capture_output=True, text=True, timeout=120)


def run_bot(*args):
    done = subprocess.run(
        ["/usr/bin/python3", BOT, f"--server={FIXTURE.address}",
         f"--stubs={FIXTURE.python_dir}"] + list(args),
        capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise AssertionError(f"bot exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def replies(output):
    """The bot's replies, in the order of the messages."""
    out = []
    for block in output.strip().split("\n\n"):
        first, _, rest = block.partition("\n")
        assert first.startswith("> "), output
        out.append(rest)
    return out


def setUpModule():
    global FIXTURE, STATE, sched, sched_grpc, reg, reg_grpc, ag, ag_grpc, qs, qs_grpc
    global pl, pl_grpc
    sched, sched_grpc, _, _ = townhalld_fixture.import_stubs()
    from townhall.v1 import polls_pb2, polls_pb2_grpc  # noqa: E402
    pl, pl_grpc = polls_pb2, polls_pb2_grpc
    from townhall.v1 import agenda_pb2, agenda_pb2_grpc  # noqa: E402
    from townhall.v1 import questions_pb2, questions_pb2_grpc  # noqa: E402
    from townhall.v1 import registration_pb2, registration_pb2_grpc  # noqa: E402
    ag, ag_grpc = agenda_pb2, agenda_pb2_grpc
    qs, qs_grpc = questions_pb2, questions_pb2_grpc
    reg, reg_grpc = registration_pb2, registration_pb2_grpc
    FIXTURE = townhalld_fixture.TownhalldFixture()
    FIXTURE.start()
    STATE = tempfile.mkdtemp(prefix="th-e2e-demo-")


def tearDownModule():
    if FIXTURE is not None:
        FIXTURE.stop()
    if STATE:
        shutil.rmtree(STATE, ignore_errors=True)


class DemoTest(unittest.TestCase):
    """One demo load, then checks in order (test_1..., test_2...)."""

    tenant = f"demo-{secrets.token_hex(4)}"  # a shared Redis may hold others
    first = second = None

    @classmethod
    def setUpClass(cls):
        cls.first = load_demo(cls.tenant, STATE)
        if cls.first.returncode != 0:
            raise AssertionError(f"load-demo failed:\n{cls.first.stderr}\n{FIXTURE.log_tail()}")
        cls.token = cls.first.stdout.strip()
        cls.md = (("authorization", f"Bearer {cls.token}"),)
        cls.channel = FIXTURE.channel()
        cls.sched = sched_grpc.SchedulingServiceStub(cls.channel)
        cls.reg = reg_grpc.RegistrationServiceStub(cls.channel)
        cls.agenda = ag_grpc.AgendaServiceStub(cls.channel)
        cls.questions = qs_grpc.QuestionServiceStub(cls.channel)
        cls.polls = pl_grpc.PollServiceStub(cls.channel)
        with open(os.path.join(STATE, "live_session_id")) as f:
            cls.live = f.read().strip()
        with open(os.path.join(STATE, "bot_participant_id")) as f:
            cls.bot_participant = f.read().strip()

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()

    def call(self, method, request, md=None):
        return method(request, metadata=md or self.md, timeout=TIMEOUT)

    def all_questions(self, md=None):
        request = qs.ListQuestionsRequest(session_id=self.live, view=qs.ListQuestionsRequest.VIEW_ALL,
                                          page_size=100)
        out = []
        while True:
            reply = self.call(self.questions.ListQuestions, request, md)
            out.extend(reply.questions)
            if not reply.next_page_token:
                return out
            request.page_token = reply.next_page_token

    def all_polls(self, md=None):
        return self.call(self.polls.ListPolls, pl.ListPollsRequest(
            session_id=self.live, page_size=500), md).polls

    def sessions(self):
        return self.call(self.sched.ListSessions, sched.ListSessionsRequest(page_size=100)).sessions

    def join_token(self, participant):
        return self.call(self.reg.IssueJoinToken, reg.IssueJoinTokenRequest(
            session_id=self.live, participant_id=participant)).token

    def test_1_schedule_and_directory(self):
        sessions = self.sessions()
        live = [s for s in sessions if s.state == sched.SESSION_STATE_LIVE]
        self.assertEqual([s.id for s in live], [self.live])
        self.assertEqual(live[0].time_zone, "Asia/Tashkent")
        series = self.call(self.sched.ListSeriesOccurrences, sched.ListSeriesOccurrencesRequest(
            series_id=live[0].series_id))
        self.assertEqual(len(series.sessions), 6)
        open_day = [s for s in sessions if s.format == sched.SESSION_FORMAT_IN_PERSON]
        self.assertEqual(len(open_day), 1)
        self.assertEqual(open_day[0].time_zone, "Europe/Berlin")
        orgs = self.call(self.reg.ListOrganizations,
                         reg.ListOrganizationsRequest(page_size=500)).organizations
        self.assertGreaterEqual(len(orgs), 70)
        registrations = self.call(self.reg.ListRegistrations, reg.ListRegistrationsRequest(
            session_id=self.live, page_size=500)).registrations
        self.assertGreaterEqual(len(registrations), 40)

    def test_2_agenda_and_outcomes(self):
        agenda = self.call(self.agenda.GetAgenda, ag.GetAgendaRequest(session_id=self.live)).agenda
        self.assertEqual(len(agenda.items), 7)
        self.assertTrue(agenda.active_item_id)
        self.assertEqual(len(agenda.outcomes), 7)
        self.assertTrue(all(o.kind == ag.OUTCOME_KIND_AGREEMENT for o in agenda.outcomes))
        actions = self.call(self.agenda.ListActionItems, ag.ListActionItemsRequest(
            session_id=self.live)).action_items
        self.assertEqual(len(actions), 7)
        for action in actions:
            self.assertTrue(action.executor.WhichOneof("executor"), action)
            self.assertGreater(action.deadline.seconds, 0)
        self.assertIn("organization_id", [a.executor.WhichOneof("executor") for a in actions])
        self.assertIn("sugʻurta", " ".join(o.text for o in agenda.outcomes))

    def test_3_questions(self):
        questions = self.all_questions()
        self.assertGreaterEqual(len(questions), 45)
        by_status = {}
        for q in questions:
            by_status.setdefault(q.status, []).append(q)
        self.assertEqual(len(by_status.get(qs.QUESTION_STATUS_PINNED, [])), 1)
        self.assertEqual(len(by_status.get(qs.QUESTION_STATUS_ANSWERED, [])), 3)
        self.assertEqual(len(by_status.get(qs.QUESTION_STATUS_REJECTED, [])), 1)
        self.assertGreaterEqual(len(by_status.get(qs.QUESTION_STATUS_PENDING, [])), 8)
        self.assertGreaterEqual(len(by_status.get(qs.QUESTION_STATUS_APPROVED, [])), 25)
        self.assertEqual({q.language for q in questions}, {"uz-Latn", "ru", "en"})
        text = " ".join(q.text for q in questions)
        for spelling in ("oʻ", "o'", "o’", "o‘", "gʻ", "g'"):
            self.assertIn(spelling, text)
        self.assertRegex(text, "[а-яё]")
        self.assertTrue(any(q.anonymous for q in questions))
        self.assertTrue(all(q.agenda_item_id for q in questions))
        # Many delegates voted: the pinned question has the most.
        pinned = by_status[qs.QUESTION_STATUS_PINNED][0]
        self.assertGreaterEqual(pinned.votes, 30)
        self.assertGreater(sum(q.votes for q in questions), 400)
        # Near-duplicates for the merge demo are suggested as such.
        by_text = {q.text: q for q in questions}
        for original, duplicate in [
                ("Patent toʻlovi muddati oʻtib ketgan migrantlarga qanday yordam beriladi?",
                 "Patent to'lovi muddati o'tib ketgan migrantlarga qanday yordam bor?"),
                ("Что делать, если работодатель удерживает паспорт работника?",
                 "Что делать, если работодатель забрал паспорт работника и не отдаёт?")]:
            similar = self.call(self.questions.SuggestDuplicates, qs.SuggestDuplicatesRequest(
                session_id=self.live, question_id=by_text[duplicate].id, max_results=20))
            self.assertIn(by_text[original].id,
                          [s.question_id for s in similar.similar_questions], duplicate)
        # Anonymous authors are hidden from the organizer (default policy).
        for q in questions:
            if q.anonymous:
                self.assertEqual(q.author_participant_id, "")

    def test_3b_polls(self):
        polls = self.all_polls()
        self.assertEqual([p.kind for p in polls], [pl.POLL_KIND_WORD_CLOUD, pl.POLL_KIND_MOTION])
        cloud, motion = polls
        self.assertEqual(cloud.question, WORD_CLOUD)
        for poll in polls:
            self.assertEqual(poll.state, pl.POLL_STATE_OPEN, poll)
            self.assertEqual(poll.ballot_count, 0)
        # The motion is on the insurance agreement's topic: an agenda item
        # with that outcome; the server's options, a simple majority.
        agenda = self.call(self.agenda.GetAgenda, ag.GetAgendaRequest(session_id=self.live)).agenda
        item = next(i for i in agenda.items if i.id == motion.agenda_item_id)
        self.assertIn("Sugʻurta", item.title)
        agreed = [o.text for o in agenda.outcomes if o.agenda_item_id == item.id]
        self.assertEqual(len(agreed), 1)
        self.assertIn("sugʻurta", agreed[0])
        self.assertIn("insurance", motion.question)
        self.assertEqual([o.id for o in motion.options], ["yes", "no", "abstain"])
        self.assertEqual(motion.majority_rule, pl.MAJORITY_RULE_SIMPLE)
        # Opened after the registrations: every delegate of the live session
        # may vote (organizers see the results, LIVE by default).
        registrations = self.call(self.reg.ListRegistrations, reg.ListRegistrationsRequest(
            session_id=self.live, page_size=500)).registrations
        voters = [r for r in registrations if r.status == reg.REGISTRATION_STATUS_CONFIRMED
                  and r.role != reg.SESSION_ROLE_OBSERVER]
        self.assertGreaterEqual(len(voters), 40)
        for poll in polls:
            self.assertEqual(poll.results.eligible_count, len(voters), poll.question)

    def test_4_second_run_creates_nothing(self):
        before_sessions = len(self.sessions())
        before_polls = [(p.id, p.state) for p in self.all_polls()]
        before_questions = {q.id: (q.status, q.votes) for q in self.all_questions()}
        with open(os.path.join(STATE, "bot_api_key")) as f:
            bot_key = f.read()
        again = load_demo(self.tenant, STATE)
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertIn("questions: 0 submitted, 0 moderator actions, 0 votes cast", again.stderr)
        self.assertIn("0 outcomes and action items created", again.stderr)
        self.assertIn("polls: 0 created, 0 opened", again.stderr)
        self.assertEqual([(p.id, p.state) for p in self.all_polls()], before_polls)
        self.assertEqual(len(self.sessions()), before_sessions)
        after = {q.id: (q.status, q.votes) for q in self.all_questions()}
        # The bot's test may have added its own question and vote since.
        for qid, state in before_questions.items():
            self.assertEqual(after[qid], state)
        agenda = self.call(self.agenda.GetAgenda, ag.GetAgendaRequest(session_id=self.live)).agenda
        self.assertEqual((len(agenda.items), len(agenda.outcomes), len(agenda.action_items)),
                         (7, 7, 7))
        with open(os.path.join(STATE, "bot_api_key")) as f:
            self.assertEqual(f.read(), bot_key)  # kept, not replaced

    def expected_local(self, session, zone):
        moment = datetime.datetime.fromtimestamp(session.start_time.seconds,
                                                 tz=zoneinfo.ZoneInfo(zone))
        return moment.strftime("%a %d %b %Y %H:%M")

    def test_5_bot_with_api_key(self):
        key = os.path.join(STATE, "bot_api_key")
        participant = os.path.join(STATE, "bot_participant_id")
        # Which open question has the bot's user not voted for yet?
        as_user = (("authorization", f"Bearer {self.join_token(self.bot_participant)}"),)
        listed = self.call(self.questions.ListQuestions, qs.ListQuestionsRequest(
            session_id=self.live, page_size=100), as_user).questions
        target = next(q for q in listed if not q.voted_by_caller)

        text = "Bot orqali savol: konsullik navbatini onlayn olish mumkinmi?"
        listing, top, submitted, upvoted, again = replies(run_bot(
            f"--api-key-file={key}", f"--participant-file={participant}", f"--tz={USER_ZONE}",
            "/sessions", "/questions", f"/ask {text}", f"/upvote {target.id}",
            f"/upvote {target.id}"))

        # Every upcoming session, at its local time in the user's zone.
        self.assertIn(f"times in {USER_ZONE}", listing)
        upcoming = [s for s in self.sessions()
                    if s.state in (sched.SESSION_STATE_LIVE, sched.SESSION_STATE_SCHEDULED)]
        self.assertEqual(len(upcoming), 7)
        lines = listing.splitlines()
        for s in upcoming:
            line = next((i for i, l in enumerate(lines) if l.endswith(f"id {s.id}")), None)
            self.assertIsNotNone(line, f"session {s.id} not listed:\n{listing}")
            self.assertIn(self.expected_local(s, USER_ZONE) + " (+10)", lines[line - 1])
            self.assertIn(self.expected_local(s, s.time_zone), lines[line])
        live_line = next(l for l in lines if "[LIVE]" in l)
        self.assertIn("Dialogue", live_line)
        # The Open Day starts 10:00 in Berlin: 18:00 (CEST) or 19:00 (CET)
        # in Vladivostok.
        open_day = next(s for s in upcoming if s.format == sched.SESSION_FORMAT_IN_PERSON)
        berlin = datetime.datetime.fromtimestamp(open_day.start_time.seconds,
                                                 tz=zoneinfo.ZoneInfo("Europe/Berlin"))
        self.assertEqual(berlin.hour, 10)
        user_hour = 10 + 10 - int(berlin.utcoffset().total_seconds() // 3600)
        self.assertRegex(listing, rf"{user_hour}:00 \(\+10\)\S* .*Open Day")
        # Sessions are in start order.
        starts = [re.search(r"id (\w+)$", l).group(1) for l in lines if re.search(r"id \w+$", l)]
        by_id = {s.id: s for s in upcoming}
        self.assertEqual(starts, sorted(starts, key=lambda i: by_id[i].start_time.seconds))

        self.assertIn("Top questions", top)
        self.assertIn("[answering now]", top)

        self.assertIn("Question submitted", submitted)
        self.assertIn("PENDING", submitted)
        qid = re.search(r"id (\w+)\)", submitted).group(1)
        mine = self.call(self.questions.GetQuestion, qs.GetQuestionRequest(
            session_id=self.live, question_id=qid)).question
        self.assertEqual(mine.text, text)
        self.assertEqual(mine.author_participant_id, self.bot_participant)

        self.assertIn(f"Upvoted question {target.id}: {target.votes + 1} votes now.", upvoted)
        self.assertIn(f"already upvoted question {target.id}: {target.votes + 1} votes", again)
        now = self.call(self.questions.GetQuestion, qs.GetQuestionRequest(
            session_id=self.live, question_id=target.id)).question
        self.assertEqual(now.votes, target.votes + 1)

    def test_6_bot_with_join_token(self):
        token_file = os.path.join(STATE, "bot_join_token")
        with open(token_file, "w") as f:
            f.write(self.join_token(self.bot_participant))
        with open(token_file) as f:
            as_user = (("authorization", f"Bearer {f.read()}"),)
        before = self.call(self.questions.ListQuestions, qs.ListQuestionsRequest(
            session_id=self.live, page_size=100), as_user).questions
        target = next(q for q in before if not q.voted_by_caller)
        number = [q.id for q in before].index(target.id) + 1
        self.assertLessEqual(number, 10, "the bot lists the top 10")
        listing, _, upvoted, top, zone = replies(run_bot(
            f"--join-token-file={token_file}", "--tz=Europe/Berlin",
            "/sessions", "/questions", f"/upvote {number}", "/questions", "/tz Mars/Olympus"))
        # A join token sees only its own session.
        self.assertEqual(listing.count("; id "), 1)
        self.assertIn("[LIVE]", listing)
        self.assertIn(f"id {self.live}", listing)
        self.assertIn(f"Upvoted question {target.id}: {target.votes + 1} votes now.", upvoted)
        self.assertIn(f"[{target.votes + 1} votes (your vote)]", top)
        self.assertIn("Unknown time zone", zone)

    def test_7_bot_polls(self):
        key = os.path.join(STATE, "bot_api_key")
        participant = os.path.join(STATE, "bot_participant_id")
        cloud, motion = self.all_polls()
        listing, word, yes, no, bad = replies(run_bot(
            f"--api-key-file={key}", f"--participant-file={participant}",
            "/poll", "/vote 1 Patent", "/vote 2 yes", "/vote 2 no", "/vote 2 maybe"))
        # Both open polls, oldest first, numbered, the motion's options too.
        self.assertIn("Open polls (2):", listing)
        self.assertIn(f"1. {WORD_CLOUD}  [word cloud, 0 ballots]  (id {cloud.id})", listing)
        self.assertIn(f"2. {motion.question}  [motion, 0 ballots]  (id {motion.id})", listing)
        self.assertIn("   1) Yes (0 votes)\n   2) No (0 votes)\n   3) Abstain (0 votes)\n"
                      "   /vote 2 yes|no|abstain", listing)
        self.assertIn("/vote 1 <a word>", listing)
        self.assertIn(f"Voted in poll {cloud.id}: Patent. 1 ballot so far.", word)
        self.assertIn(f"Voted in poll {motion.id}: Yes. 1 ballot so far.", yes)
        self.assertIn("Results so far: Yes 1, No 0, Abstain 0", yes)
        # A NAMED poll without allow_change keeps the first ballot.
        self.assertIn("FAILED_PRECONDITION", no)
        self.assertIn("has voted", no)
        self.assertIn("No option 'maybe' in this poll", bad)
        # Stored for the bot's participant, counted once.
        got = self.call(self.polls.GetPoll, pl.GetPollRequest(session_id=self.live,
                                                              poll_id=motion.id))
        self.assertEqual(got.poll.ballot_count, 1)
        self.assertEqual({t.option_id: t.votes for t in got.poll.results.tallies},
                         {"yes": 1, "no": 0, "abstain": 0})
        self.assertEqual([(b.participant_id, list(b.ballot.option_ids)) for b in got.ballots],
                         [(self.bot_participant, ["yes"])])
        words = self.call(self.polls.GetPoll, pl.GetPollRequest(
            session_id=self.live, poll_id=cloud.id)).poll.results.words
        self.assertEqual([(w.text, w.count) for w in words], [("Patent", 1)])
        # With the user's join token the listing says they voted.
        token_file = os.path.join(STATE, "bot_join_token")
        with open(token_file, "w") as f:
            f.write(self.join_token(self.bot_participant))
        listing, = replies(run_bot(f"--join-token-file={token_file}", "/poll"))
        self.assertIn("[word cloud, 1 ballot (you voted)]", listing)
        self.assertIn("[motion, 1 ballot (you voted)]", listing)
        self.assertIn("   1) Yes (1 vote)", listing)
        self.assertIn("so far: Patent (1)", listing)


if __name__ == "__main__":
    unittest.main(verbosity=2)
