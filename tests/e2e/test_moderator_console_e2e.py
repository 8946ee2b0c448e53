#!/usr/bin/python3
"""End-to-end: the moderator console (`townhallctl moderate SESSION`) driven
in tmux against a real townhalld.

A live session with an active agenda item, three delegates and questions in
Uzbek, Russian and English. The test reads the screen with capture-pane and
types with send-keys: the console shows the pending questions and the
speakers' queue, calls the next speaker, approves a pending question and
sees it move to the open questions, sees its vote count change when
delegates vote from another client, pins it, rejects another with a reason
typed in Uzbek, and after townhalld restarts on the same port it reconnects
by itself and shows what changed meanwhile. Every action is checked on the
server too. With at most one speaker per organization, a second delegate of
the same organization is shown held back, and when nobody can be called the
console says why. The header's counts are the server's, so a console started
again shows the rejections and merges made before it; with a moderator's
join token the console shows names and organizations, not ids; edit then
approve, archive and undo work from their keys, and `?` lists every key.
The polls pane shows an open poll with its tally moving as delegates vote,
and closes and publishes it from its keys.

Run: TOWNHALLD=<build>/services/townhalld/townhalld \
     TOWNHALLCTL=<build>/clients/cpp/townhallctl/townhallctl \
     TOWNHALL_PYTHON_DIR=<build>/python /usr/bin/python3 test_moderator_console_e2e.py
Exits 77 (skipped) when tmux is not installed.
"""

import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import townhalld_fixture  # noqa: E402

from google.protobuf import duration_pb2, timestamp_pb2  # noqa: E402

TIMEOUT = 10
WIDTH, HEIGHT = 160, 50

Q_UZ = "Vatandoshlar uchun sugʻurta qachon boshlanadi?"
Q_RU = "Когда откроется консульство в Казани?"
Q_EN = "Will there be visa-free travel for students?"
Q_LATE = "Oʻzbek tili kurslari Sankt-Peterburgda ham ochiladimi?"
Q_AFTER_RESTART = "Ish beruvchilar bilan shartnoma namunasi bormi?"
REASON = "Takroriy savol, javob berilgan"
ORG = "Qozon oʻzbek madaniyat markazi"
Q_EDITED = "Vatandoshlar uchun sugʻurta qachon va qayerda boshlanadi?"
POLL_Q = "Qaysi mavzuni birinchi muhokama qilamiz?"
POLL_OPTIONS = ["Taʼlim", "Mehnat migratsiyasi"]

FIXTURE = None
sched = ag = reg = q = pl = None
sched_grpc = ag_grpc = reg_grpc = q_grpc = pl_grpc = None


def setUpModule():
    global FIXTURE, sched, ag, reg, q, pl, sched_grpc, ag_grpc, reg_grpc, q_grpc, pl_grpc
    sched, sched_grpc, _, _ = townhalld_fixture.import_stubs()
    from townhall.v1 import agenda_pb2, agenda_pb2_grpc  # noqa: E402
    from townhall.v1 import polls_pb2, polls_pb2_grpc  # noqa: E402
    from townhall.v1 import questions_pb2, questions_pb2_grpc  # noqa: E402
    from townhall.v1 import registration_pb2, registration_pb2_grpc  # noqa: E402
    ag, ag_grpc = agenda_pb2, agenda_pb2_grpc
    pl, pl_grpc = polls_pb2, polls_pb2_grpc
    q, q_grpc = questions_pb2, questions_pb2_grpc
    reg, reg_grpc = registration_pb2, registration_pb2_grpc
    FIXTURE = townhalld_fixture.TownhalldFixture()
    FIXTURE.start()


def tearDownModule():
    if FIXTURE is not None:
        FIXTURE.stop()


auth = townhalld_fixture.auth


class Tmux:
    """One console in a detached tmux session on a private tmux server."""

    def __init__(self, command, env):
        self.socket = f"th-console-{secrets.token_hex(4)}"
        self.target = "console"
        self.dir = tempfile.mkdtemp(prefix="th-console-")
        # The console's stderr and exit status go to files (the screen is
        # the console's; tmux 3.3 does not always report a dead pane's
        # status). remain-on-exit keeps the last screen.
        self._tmux("-f", "/dev/null", "start-server", ";",
                   "set-option", "-g", "remain-on-exit", "on", ";",
                   "new-session", "-d", "-s", self.target,
                   "-x", str(WIDTH), "-y", str(HEIGHT),
                   "sh", "-c", 'env "$@" 2>"$0/stderr"; echo $? >"$0/status"',
                   self.dir, *env, *command)

    def stderr(self):
        return self._read("stderr")

    def exit_status(self):
        """The console's exit status once it has exited, else None."""
        status = self._read("status").strip()
        return int(status) if status else None

    def _read(self, name):
        try:
            with open(os.path.join(self.dir, name), encoding="utf-8",
                      errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def _tmux(self, *args):
        return subprocess.run(["tmux", "-u", "-L", self.socket, *args],
                              check=True, capture_output=True, text=True,
                              timeout=TIMEOUT).stdout

    def screen(self):
        text = self._tmux("capture-pane", "-p", "-t", self.target)
        return text.rstrip("\n").split("\n")

    def send(self, *keys):
        self._tmux("send-keys", "-t", self.target, *keys)

    def type_text(self, text):
        self._tmux("send-keys", "-t", self.target, "-l", text)

    def close(self):
        subprocess.run(["tmux", "-L", self.socket, "kill-server"],
                       capture_output=True, timeout=TIMEOUT)
        shutil.rmtree(self.dir, ignore_errors=True)


def section_of(lines, text):
    """'pending', 'open' or 'polls': the left pane whose rows show `text`."""
    section = None
    for line in lines:
        if "Pending questions (" in line:
            section = "pending"
        elif "Open questions (" in line:
            section = "open"
        elif "Polls (" in line:
            section = "polls"
        elif text in line:
            return section
    return None


def counts_line(lines):
    """The header row with the counts ("" before it is drawn)."""
    return lines[2] if len(lines) > 2 else ""


def row_of(lines, text):
    for line in lines:
        if text in line:
            return line
    return None


def votes_of(lines, text):
    """The vote count on the open-question row showing `text`, or None."""
    row = row_of(lines, text)
    if row is None or section_of(lines, text) != "open":
        return None
    match = re.match(r"^[> ]\s+(\d+)\s", row)
    return int(match.group(1)) if match else None


class ModeratorConsoleTest(unittest.TestCase):

    def setUp(self):
        self.tenant_id, self.token = FIXTURE.create_tenant()
        self.md = auth(self.token)
        self.channel = FIXTURE.channel()
        self.sched = sched_grpc.SchedulingServiceStub(self.channel)
        self.agenda = ag_grpc.AgendaServiceStub(self.channel)
        self.reg = reg_grpc.RegistrationServiceStub(self.channel)
        self.questions = q_grpc.QuestionServiceStub(self.channel)
        self.polls = pl_grpc.PollServiceStub(self.channel)
        self.tmux = None

    def tearDown(self):
        if self.tmux is not None:
            self.tmux.close()
        self.channel.close()

    def call(self, method, request, md=None):
        return method(request, metadata=md or self.md, timeout=TIMEOUT)

    def wait_for(self, what, predicate, timeout=15):
        """Polls the screen until predicate(lines) is true."""
        deadline = time.monotonic() + timeout
        lines = []
        while time.monotonic() < deadline:
            lines = self.tmux.screen()
            if predicate(lines):
                return lines
            time.sleep(0.1)
        self.fail(f"timed out waiting for {what}; screen:\n" + "\n".join(lines)
                  + "\nstderr:\n" + self.tmux.stderr())

    def live_session(self):
        start = int(time.time()) + 300
        session = self.call(self.sched.CreateSession, sched.CreateSessionRequest(
            session=sched.Session(
                title="Hukumat va vatandoshlar muloqoti",
                start_time=timestamp_pb2.Timestamp(seconds=start),
                duration=duration_pb2.Duration(seconds=2 * 3600),
                time_zone="Asia/Tashkent", format=sched.SESSION_FORMAT_ONLINE,
                capacity=100),
            publish=True)).session
        self.call(self.sched.StartSession, sched.StartSessionRequest(session_id=session.id))
        return session.id

    def active_item(self, session_id, title, planned_duration=None):
        """Creates an agenda item and activates it; returns it."""
        item = self.call(self.agenda.CreateAgendaItem, ag.CreateAgendaItemRequest(
            session_id=session_id, item=ag.AgendaItem(
                title=title, planned_duration=planned_duration))).item
        self.call(self.agenda.ActivateAgendaItem, ag.ActivateAgendaItemRequest(
            session_id=session_id, agenda_item_id=item.id))
        return item

    def delegates(self, session_id):
        org = self.call(self.reg.CreateOrganization, reg.CreateOrganizationRequest(
            organization=reg.Organization(name=ORG, country_code="RU",
                                          city="Qozon"))).organization.id
        people = []
        for i, name in enumerate(["Dilnoza Karimova", "Aziz Rahimov", "Malika Yusupova"]):
            p = self.call(self.reg.CreateParticipant, reg.CreateParticipantRequest(
                participant=reg.Participant(display_name=name, organization_id=org,
                                            email=f"console{i}@example.org"))).participant
            people.append((p.id, self.join(session_id, p.id)))
        return people

    def join(self, session_id, participant_id, role=None):
        """Registers the participant; returns their join token."""
        self.call(self.reg.Register, reg.RegisterRequest(
            session_id=session_id, participant_id=participant_id,
            role=role or reg.SESSION_ROLE_PARTICIPANT))
        return self.call(self.reg.IssueJoinToken, reg.IssueJoinTokenRequest(
            session_id=session_id, participant_id=participant_id)).token

    def moderator_token(self, session_id):
        """A join token with the moderator role in the session (no organization)."""
        p = self.call(self.reg.CreateParticipant, reg.CreateParticipantRequest(
            participant=reg.Participant(display_name="Moderator Aziza",
                                        email="moderator@example.org"))).participant
        return self.join(session_id, p.id, reg.SESSION_ROLE_MODERATOR)

    def submit(self, session_id, participant_id, text):
        return self.call(self.questions.SubmitQuestion, q.SubmitQuestionRequest(
            session_id=session_id, participant_id=participant_id, text=text,
            request_id=secrets.token_hex(8))).question

    def question(self, session_id, question_id):
        return self.call(self.questions.GetQuestion, q.GetQuestionRequest(
            session_id=session_id, question_id=question_id)).question

    def vote(self, session_id, question_id, participant):
        participant_id, token = participant
        self.call(self.questions.UpvoteQuestion, q.UpvoteQuestionRequest(
            session_id=session_id, question_id=question_id,
            participant_id=participant_id), md=auth(token))

    def cast(self, session_id, poll_id, participant, option_id):
        participant_id, token = participant
        self.call(self.polls.CastBallot, pl.CastBallotRequest(
            session_id=session_id, poll_id=poll_id, participant_id=participant_id,
            ballot=pl.Ballot(option_ids=[option_id]),
            request_id=secrets.token_hex(8)), md=auth(token))

    def poll_state(self, session_id, poll_id):
        return self.call(self.polls.GetPoll, pl.GetPollRequest(
            session_id=session_id, poll_id=poll_id)).poll.state

    def start_console(self, session_id, token=None):
        binary = os.environ.get("TOWNHALLCTL") or os.path.normpath(os.path.join(
            os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "clients",
            "cpp", "townhallctl", "townhallctl"))
        # The server and the token come from the environment, as in the README.
        self.tmux = Tmux([binary, "moderate", session_id],
                         env=["LANG=C.UTF-8", "TERM=tmux-256color",
                              f"TOWNHALL_ADDRESS={FIXTURE.address}",
                              f"TOWNHALL_TOKEN={token or self.token}"])

    def wait_for_console(self):
        """Waits until both streams are live and the footer is drawn."""
        return self.wait_for("both streams live", lambda l: (
            "questions: live" in l[0] and "agenda: live" in l[0]
            and "a approve" in l[-1]))

    def quit_console(self):
        """Quits with q; asserts the exit status 0."""
        self.tmux.send("q")
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline and self.tmux.exit_status() is None:
            time.sleep(0.1)
        self.assertEqual(self.tmux.exit_status(), 0, self.tmux.stderr())

    def restart_server(self):
        """Stops townhalld and starts it again on the same port and Redis."""
        args = FIXTURE.process.args
        FIXTURE.process.terminate()
        FIXTURE.process.wait(10)
        with open(FIXTURE.log_path, "ab") as log:
            FIXTURE.process = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                preexec_fn=townhalld_fixture._die_with_parent)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if FIXTURE.health() == townhalld_fixture.HEALTH_SERVING:
                    return
            except Exception:  # noqa: BLE001 - not up yet
                pass
            time.sleep(0.1)
        self.fail("townhalld did not come back:\n" + FIXTURE.log_tail())

    def test_moderate_a_live_session(self):
        session_id = self.live_session()
        topic = self.active_item(session_id, "Mehnat migratsiyasi va bandlik",
                                 duration_pb2.Duration(seconds=20 * 60))
        self.call(self.agenda.CreateAgendaItem, ag.CreateAgendaItemRequest(
            session_id=session_id, item=ag.AgendaItem(title="Taʼlim, fan va madaniyat")))
        people = self.delegates(session_id)
        dilnoza, aziz, malika = people
        self.call(self.agenda.RaiseHand, ag.RaiseHandRequest(
            session_id=session_id, agenda_item_id=topic.id, participant_id=aziz[0]),
            md=auth(aziz[1]))

        first = self.submit(session_id, dilnoza[0], Q_UZ)
        second = self.submit(session_id, aziz[0], Q_RU)
        third = self.submit(session_id, malika[0], Q_EN)
        self.assertEqual(first.status, q.QUESTION_STATUS_PENDING)

        self.start_console(session_id)
        # The footer is drawn last: wait for it too, or a slow build (the
        # sanitizer pass) can capture a frame that is half drawn.
        lines = self.wait_for("both streams live with the queue", lambda l: (
            "questions: live" in l[0] and "agenda: live" in l[0]
            and section_of(l, Q_UZ) == "pending" and section_of(l, Q_EN) == "pending"
            and "a approve" in l[-1]))
        self.assertIn("Now: Mehnat migratsiyasi va bandlik", lines[1])
        self.assertIn("a approve", lines[-1])
        self.assertTrue(row_of(lines, Q_UZ).startswith(">"), "oldest pending selected")
        self.wait_for("the raised hand", lambda l: row_of(l, "1. Aziz Rahimov") is not None)

        # A question submitted while the console runs arrives live.
        late = self.submit(session_id, malika[0], Q_LATE)
        self.wait_for("the new question", lambda l: section_of(l, Q_LATE) == "pending")

        # Call the next speaker.
        self.tmux.send("n")
        self.wait_for("the speaker on the floor",
                      lambda l: row_of(l, "Speaking: Aziz Rahimov") is not None)

        # Approve the selected (oldest) question: it moves to the open pane.
        self.tmux.send("a")
        self.wait_for("the approved question in the open pane",
                      lambda l: section_of(l, Q_UZ) == "open" and votes_of(l, Q_UZ) == 0)
        self.assertEqual(self.question(session_id, first.id).status,
                         q.QUESTION_STATUS_APPROVED)

        # Votes from other clients change the count live.
        self.vote(session_id, first.id, aziz)
        self.wait_for("1 vote", lambda l: votes_of(l, Q_UZ) == 1)
        self.vote(session_id, first.id, malika)
        self.wait_for("2 votes", lambda l: votes_of(l, Q_UZ) == 2)

        # Pin it from the open pane.
        self.tmux.send("Tab")
        self.wait_for("the open pane focused",
                      lambda l: (row_of(l, Q_UZ) or "").startswith(">"))
        self.tmux.send("p")
        self.wait_for("the pinned question",
                      lambda l: f"[PINNED] {Q_UZ}" in (row_of(l, Q_UZ) or ""))
        self.assertEqual(self.question(session_id, first.id).status,
                         q.QUESTION_STATUS_PINNED)

        # Reject the next pending one (now the Russian question) with a reason.
        # Shift-Tab: back up (Tab goes on down to the polls).
        self.tmux.send("BTab")
        self.wait_for("the pending pane focused",
                      lambda l: (row_of(l, Q_RU) or "").startswith(">"))
        self.tmux.send("r")
        self.wait_for("the reason prompt",
                      lambda l: row_of(l, f"Reason for rejecting {second.id}") is not None)
        self.tmux.type_text(REASON)
        self.tmux.send("Enter")
        self.wait_for("the rejected question gone", lambda l: row_of(l, Q_RU) is None)
        rejected = self.question(session_id, second.id)
        self.assertEqual(rejected.status, q.QUESTION_STATUS_REJECTED)
        self.assertEqual(rejected.reject_reason, REASON)

        # Another moderator's approval shows up too.
        self.call(self.questions.ApproveQuestion, q.ApproveQuestionRequest(
            session_id=session_id, question_id=third.id))
        self.wait_for("the other moderator's approval",
                      lambda l: section_of(l, Q_EN) == "open")

        # The speaker finishes; finishing again is refused by the server: the
        # error goes to the status line and the console keeps going.
        self.tmux.send("f")
        self.wait_for("the finished turn", lambda l: row_of(l, "0 waiting, 1 spoke") is not None)
        self.tmux.send("f")
        self.wait_for("the server's refusal", lambda l: row_of(
            l, "finish the speaker's turn failed: FAILED_PRECONDITION: nobody is speaking")
            is not None)

        # townhalld restarts: the console reconnects by itself and resumes.
        self.restart_server()
        restarted = self.submit(session_id, dilnoza[0], Q_AFTER_RESTART)
        self.vote(session_id, first.id, dilnoza)
        lines = self.wait_for("the changes after the restart", lambda l: (
            section_of(l, Q_AFTER_RESTART) == "pending" and votes_of(l, Q_UZ) == 3
            and "questions: live" in l[0] and "agenda: live" in l[0]), timeout=30)
        self.assertEqual(section_of(lines, Q_LATE), "pending")
        self.assertIsNone(row_of(lines, Q_RU))
        self.assertEqual(restarted.status, q.QUESTION_STATUS_PENDING)
        self.assertEqual(late.status, q.QUESTION_STATUS_PENDING)

        # q quits with status 0.
        self.quit_console()

    def test_says_why_nobody_is_next(self):
        session_id = self.live_session()
        topic = self.active_item(session_id, "Sugʻurta himoyasi")
        self.call(self.agenda.SetSpeakersQueueOptions, ag.SetSpeakersQueueOptionsRequest(
            session_id=session_id, agenda_item_id=topic.id,
            options=ag.SpeakersQueueOptions(max_speakers_per_organization=1)))
        # All three delegates are of one organization.
        dilnoza, aziz, _ = self.delegates(session_id)
        for participant_id, token in (dilnoza, aziz):
            self.call(self.agenda.RaiseHand, ag.RaiseHandRequest(
                session_id=session_id, agenda_item_id=topic.id,
                participant_id=participant_id), md=auth(token))

        self.start_console(session_id)
        self.wait_for("one waiting, one held", lambda l: (
            row_of(l, "1. Dilnoza Karimova (Qozon") is not None
            and row_of(l, "held: Aziz Rahimov (Qozon") is not None
            and row_of(l, "1 waiting, 1 held, 0 spoke") is not None))

        self.tmux.send("n")
        self.wait_for("Dilnoza on the floor",
                      lambda l: row_of(l, "Speaking: Dilnoza Karimova") is not None)
        # Nobody is callable: the status line and the queue say why.
        self.tmux.send("n")
        lines = self.wait_for("the reason nobody is next", lambda l: row_of(
            l, f"nobody is next; held back: Aziz Rahimov ({ORG}) (organization ")
            is not None and row_of(l, "0 waiting, 1 held, 1 spoke") is not None)
        self.assertIsNotNone(row_of(lines, "is at its limit of 1 speaker on this item"))
        queue = self.call(self.agenda.GetSpeakersQueue, ag.GetSpeakersQueueRequest(
            session_id=session_id, agenda_item_id=topic.id)).queue
        self.assertEqual([(s.participant_id, s.state, s.hold_reason) for s in queue.speakers
                          if s.state == ag.SPEAKER_STATE_HELD],
                         [(aziz[0], ag.SPEAKER_STATE_HELD,
                           ag.SPEAKER_HOLD_REASON_ORGANIZATION_LIMIT)])
        self.tmux.send("q")

    def test_counts_are_right_after_a_restart(self):
        session_id = self.live_session()
        dilnoza, aziz, malika = self.delegates(session_id)
        ids = [self.submit(session_id, who[0], text).id for who, text in (
            (dilnoza, Q_UZ), (aziz, Q_RU), (malika, Q_EN), (malika, Q_LATE))]
        self.start_console(session_id)
        self.wait_for("the counts", lambda l: (
            " 0 answered, 0 rejected, 0 merged, 0 archived" in counts_line(l)))
        # Two rejected and one merged, from another client.
        for question_id in ids[:2]:
            self.call(self.questions.RejectQuestion, q.RejectQuestionRequest(
                session_id=session_id, question_id=question_id, reason=REASON))
        self.call(self.questions.MergeQuestions, q.MergeQuestionsRequest(
            session_id=session_id, target_question_id=ids[2],
            duplicate_question_ids=[ids[3]]))
        self.wait_for("the live counts", lambda l: (
            " 0 answered, 2 rejected, 1 merged, 0 archived" in counts_line(l)))
        self.quit_console()
        self.tmux.close()

        # A console started afterwards has seen none of it, the server has.
        self.start_console(session_id)
        lines = self.wait_for_console()
        lines = self.wait_for("the counts after the restart", lambda l: (
            " 0 answered, 2 rejected, 1 merged, 0 archived" in counts_line(l)))
        self.assertEqual(section_of(lines, Q_EN), "pending")
        self.assertIsNone(row_of(lines, Q_RU))

    def test_names_with_a_moderators_join_token(self):
        session_id = self.live_session()
        topic = self.active_item(session_id, "Sugʻurta himoyasi")
        dilnoza, aziz, malika = self.delegates(session_id)
        for participant_id, token in (aziz, malika):
            self.call(self.agenda.RaiseHand, ag.RaiseHandRequest(
                session_id=session_id, agenda_item_id=topic.id,
                participant_id=participant_id), md=auth(token))
        self.call(self.agenda.CallNextSpeaker, ag.CallNextSpeakerRequest(
            session_id=session_id, agenda_item_id=topic.id))
        self.submit(session_id, dilnoza[0], "Grantlar bormi?")
        # Anonymous stays anonymous.
        self.call(self.questions.SubmitQuestion, q.SubmitQuestionRequest(
            session_id=session_id, participant_id=malika[0], text="Anonim savol",
            anonymous=True, request_id=secrets.token_hex(8)), md=auth(malika[1]))
        moderator = self.moderator_token(session_id)
        # The join token may not read the directory: the names come from
        # the registrations.
        with self.assertRaises(Exception) as denied:
            self.call(self.reg.GetParticipant, reg.GetParticipantRequest(
                participant_id=dilnoza[0]), md=auth(moderator))
        self.assertIn("PERMISSION_DENIED", str(denied.exception))

        self.start_console(session_id, token=moderator)
        lines = self.wait_for("names and organizations", lambda l: (
            row_of(l, f"Grantlar bormi?  - Dilnoza Karimova ({ORG})") is not None
            and row_of(l, "Speaking: Aziz Rahimov (Qozon") is not None
            and row_of(l, "1. Malika Yusupova (Qozon") is not None))
        self.assertNotIn("Anonim savol  - ", row_of(lines, "Anonim savol"))
        for participant_id, _ in (dilnoza, aziz, malika):
            self.assertIsNone(row_of(lines, participant_id))

    def test_edit_then_approve_archive_and_undo_keys(self):
        session_id = self.live_session()
        dilnoza, aziz, _ = self.delegates(session_id)
        first = self.submit(session_id, dilnoza[0], Q_UZ)
        second = self.submit(session_id, aziz[0], Q_RU)
        self.start_console(session_id)
        self.wait_for("the pending questions", lambda l: (
            section_of(l, Q_UZ) == "pending" and section_of(l, Q_RU) == "pending"
            and "a approve" in l[-1]))

        # ? lists every key; any key closes the list without acting.
        self.tmux.send("?")
        self.wait_for("the key list", lambda l: (
            row_of(l, "Keys (any key closes this list)") is not None
            and row_of(l, "undo the session's last moderator action") is not None))
        self.tmux.send("a")
        self.wait_for("the list closed", lambda l: row_of(l, "Keys (any key") is None)
        self.assertEqual(self.question(session_id, first.id).status,
                         q.QUESTION_STATUS_PENDING)

        # e: the text to edit, then Enter approves it.
        self.tmux.send("e")
        self.wait_for("the text to edit",
                      lambda l: row_of(l, f"Text of {first.id}: {Q_UZ}") is not None)
        for _ in range(len(" boshlanadi?")):
            self.tmux.send("BSpace")
        self.tmux.type_text(" va qayerda boshlanadi?")
        self.tmux.send("Enter")
        self.wait_for("the edited question in the open pane",
                      lambda l: section_of(l, Q_EDITED) == "open")
        edited = self.question(session_id, first.id)
        self.assertEqual(edited.status, q.QUESTION_STATUS_APPROVED)
        self.assertEqual(edited.text, Q_EDITED)
        self.assertEqual(edited.original_text, Q_UZ)

        # x archives the pending one that is selected now.
        self.wait_for("the next pending selected",
                      lambda l: (row_of(l, Q_RU) or "").startswith(">"))
        self.tmux.send("x")
        self.wait_for("the archived question gone", lambda l: row_of(l, Q_RU) is None)
        self.assertEqual(self.question(session_id, second.id).status,
                         q.QUESTION_STATUS_ARCHIVED)

        # u undoes the archive, then the edit.
        self.tmux.send("u")
        self.wait_for("the archive undone", lambda l: (
            section_of(l, Q_RU) == "pending"
            and row_of(l, f"done: undo (archive {second.id})") is not None))
        self.assertEqual(self.question(session_id, second.id).status,
                         q.QUESTION_STATUS_PENDING)
        self.tmux.send("u")
        self.wait_for("the edit undone", lambda l: (
            section_of(l, Q_UZ) == "pending" and row_of(l, Q_EDITED) is None
            and row_of(l, f"done: undo (edit_approve {first.id})") is not None))
        restored = self.question(session_id, first.id)
        self.assertEqual(restored.status, q.QUESTION_STATUS_PENDING)
        self.assertEqual(restored.text, Q_UZ)
        self.assertEqual(restored.original_text, "")
        log = self.call(self.questions.ListModerationLog, q.ListModerationLogRequest(
            session_id=session_id)).actions
        self.assertEqual([(a.action, a.undone) for a in log],
                         [("edit_approve", True), ("archive", True),
                          ("undo", False), ("undo", False)])
        self.quit_console()

    def test_polls_pane_close_and_publish_keys(self):
        session_id = self.live_session()
        dilnoza, aziz, _ = self.delegates(session_id)
        poll = self.call(self.polls.CreatePoll, pl.CreatePollRequest(
            session_id=session_id, request_id=secrets.token_hex(8),
            poll=pl.Poll(kind=pl.POLL_KIND_SINGLE_CHOICE, question=POLL_Q,
                         options=[pl.PollOption(text=t) for t in POLL_OPTIONS]))).poll
        self.call(self.polls.OpenPoll, pl.OpenPollRequest(
            session_id=session_id, poll_id=poll.id))
        self.cast(session_id, poll.id, dilnoza, "1")

        # The poll under the questions: its state, ballots, kind and
        # question, and (selected, the only one) its tally as bars.
        self.start_console(session_id)
        row = re.escape(POLL_Q)
        lines = self.wait_for("the open poll with its tally", lambda l: (
            "polls: live" in l[0]
            and re.search(r"OPEN +1 ballot +single choice +" + row, "\n".join(l))
            and re.search(r"Taʼlim +█+ +1 +100%", "\n".join(l))))
        self.assertEqual(section_of(lines, POLL_Q), "polls")

        # Another delegate's ballot moves the tally live.
        self.cast(session_id, poll.id, aziz, "2")
        self.wait_for("the second ballot", lambda l: (
            re.search(r"OPEN +2 ballots +single choice +" + row, "\n".join(l))
            and re.search(r"Taʼlim +█+ +1 +50%", "\n".join(l))
            and re.search(r"Mehnat migratsiyasi +█+ +1 +50%", "\n".join(l))))

        # Tab down to the polls pane; c closes the selected poll.
        self.tmux.send("Tab")
        self.tmux.send("Tab")
        self.wait_for("the polls pane focused", lambda l: (
            (row_of(l, POLL_Q) or "").startswith(">") and "c close" in l[-1]))
        self.tmux.send("c")
        self.wait_for("the closed poll", lambda l: (
            re.search(r"^> CLOSED +2 ballots +single choice +" + row, "\n".join(l), re.M)
            and row_of(l, f"done: close poll {poll.id}") is not None))
        self.assertEqual(self.poll_state(session_id, poll.id), pl.POLL_STATE_CLOSED)

        # P publishes it.
        self.tmux.send("P")
        self.wait_for("the published poll", lambda l: re.search(
            r"^> PUBLISHED +2 ballots +single choice +" + row, "\n".join(l), re.M))
        self.assertEqual(self.poll_state(session_id, poll.id), pl.POLL_STATE_PUBLISHED)
        self.quit_console()


if __name__ == "__main__":
    if shutil.which("tmux") is None:
        print("tmux is not installed: skipped", file=sys.stderr)
        sys.exit(77)
    unittest.main()
