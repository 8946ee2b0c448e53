#!/usr/bin/python3
"""End-to-end: the README's "Your first conference" steps, as a newcomer runs them.

demo_checkout.DemoCheckout (shared with e2e_docs_examples) loads the demo
into a fresh townhalld, writing into a temp dir that plays the checkout's
`.local/` (what ./deploy/local/up.sh does, including
`.local/organizer_token`). The working directory of the commands is a copy
of the checkout made of symlinks (every top-level entry of the source tree,
and `build` pointing at the build dir), so the README's relative paths
(`build/clients/cpp/townhallctl/townhallctl`,
`clients/python/townhall_bot.py`, `.local/...`) work as they do in a real
checkout. `TOWNHALL_ADDRESS` points at the fixture; every other TOWNHALL_*
variable is removed, and HOME is empty, so nothing but the README sets them.
The README's other command blocks (outside the markers) are run by
test_docs_examples.py.

Every command between `<!-- readme-steps:begin -->` and
`<!-- readme-steps:end -->` (the ```sh blocks) is taken from README.md and
run with bash, in order, after the `export` lines before it. Each must be
one the test knows (the table STEPS below), and each kind of step must be
there: a command the test does not recognize fails it, so the README
cannot drift from what is tested.

  sessions list   the demo's sessions, the live one LIVE
  watch-queue     the first message (read with a timeout): a snapshot with
                  the live queue's questions, pending ones included
  moderate        the console in tmux (160x50): the question queue on
                  screen, then `q` quits with status 0
  calendar        the .ics file: BEGIN:VCALENDAR, the series' occurrences
  bot             the messenger bot answers: sessions and top questions

Run: TOWNHALLD=<build>/services/townhalld/townhalld \
     TOWNHALL_LOAD_DEMO=<build>/clients/cpp/townhall-load-demo \
     TOWNHALL_BUILD_DIR=<build> TOWNHALL_PYTHON_DIR=<build>/python \
     /usr/bin/python3 test_readme_e2e.py
"""

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import dateutil.rrule
import icalendar

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import demo_checkout  # noqa: E402
import townhalld_fixture  # noqa: E402

SOURCE_DIR = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
README = os.path.join(SOURCE_DIR, "README.md")
BEGIN, END = "<!-- readme-steps:begin -->", "<!-- readme-steps:end -->"
TIMEOUT = 10
WIDTH, HEIGHT = 160, 50

CTL = r"build/clients/cpp/townhallctl/townhallctl"
# A value: plain characters, or a file of .local/ (no other shell syntax).
VALUE = r"(?:[\w./:@+-]+|\$\(cat \.local/\w+\))"
OPTS = rf"(?: --[\w-]+(?:={VALUE})?)*"  # flags, anywhere
# kind -> pattern of a README command (the whole line, after joining "\").
STEPS = {
    "export": rf"^export (TOWNHALL_[A-Z_]+)={VALUE}$",
    "sessions": rf"^{CTL}{OPTS} sessions list{OPTS}$",
    "watch-queue": rf"^{CTL}{OPTS} questions watch-queue{OPTS}$",
    "moderate": rf"^{CTL}{OPTS} moderate{OPTS} ({VALUE}){OPTS}$",
    "calendar": rf"^{CTL}{OPTS} calendar{OPTS} -o ([\w.-]+\.ics){OPTS}$",
    "bot": rf"^/usr/bin/python3 clients/python/townhall_bot\.py{OPTS}((?: /\w+)+)$",
}
REQUIRED = ["sessions", "watch-queue", "moderate", "calendar", "bot"]

DEMO = None  # demo_checkout.DemoCheckout: townhalld, the demo, the checkout
WORK = None  # the fake checkout; WORK/.local is the demo's state
ORGANIZER_TOKEN = None
sched = sched_grpc = qs = qs_grpc = None


def readme_commands(path=README):
    """The shell commands of the ```sh blocks between the markers."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if text.count(BEGIN) != 1 or text.count(END) != 1 or text.index(BEGIN) > text.index(END):
        raise AssertionError(f"{path}: expected one {BEGIN} ... {END}")
    block = text[text.index(BEGIN) + len(BEGIN):text.index(END)]
    commands, fence, pending = [], None, ""
    for raw in block.split("\n"):
        line = raw.strip()
        if line.startswith("```"):
            if fence is None:
                fence = line[3:].strip()
                if fence not in ("sh", "bash", "console", "shell"):
                    raise AssertionError(f"README steps: a ```{fence} block; use ```sh")
            else:
                if pending:
                    raise AssertionError(f"README steps: a command ends with '\\': {pending}")
                fence = None
            continue
        if fence is None or not line or (line.startswith("#") and not pending):
            continue
        if line.endswith("\\"):
            pending += line[:-1].rstrip() + " "
            continue
        commands.append(pending + line)
        pending = ""
    if fence is not None:
        raise AssertionError("README steps: a ``` block is not closed")
    return commands


def classify(command):
    """(kind, match) of a README command, or (None, None)."""
    found = [(kind, m) for kind, pattern in STEPS.items()
             if (m := re.match(pattern, command))]
    if len(found) != 1:
        return None, None
    return found[0]


def newcomer_env():
    """The environment of a newcomer's shell: no TOWNHALL_* but the address."""
    return DEMO.env()


def setUpModule():
    global DEMO, WORK, ORGANIZER_TOKEN, sched, sched_grpc, qs, qs_grpc
    sched, sched_grpc, _, _ = townhalld_fixture.import_stubs()
    from townhall.v1 import questions_pb2, questions_pb2_grpc  # noqa: E402
    qs, qs_grpc = questions_pb2, questions_pb2_grpc
    if not os.path.isfile(os.path.join(demo_checkout.build_dir(), CTL[len("build/"):])):
        raise RuntimeError(f"no townhallctl in {demo_checkout.build_dir()}: set TOWNHALL_BUILD_DIR")
    # A shared Redis may hold other tenants: a tenant of its own.
    DEMO = demo_checkout.DemoCheckout(tenant=demo_checkout.random_tenant("readme"),
                                      prefix="th-e2e-readme-").start()
    WORK, ORGANIZER_TOKEN = DEMO.work, DEMO.organizer_token


def tearDownModule():
    if DEMO is not None:
        DEMO.stop()


class Tmux:
    """One command in a detached tmux session on a private tmux server; its
    stderr and exit status go to files (tmux 3.3 does not always report a
    dead pane's status), remain-on-exit keeps the last screen."""

    def __init__(self, script, cwd, env):
        self.socket = f"th-readme-{secrets.token_hex(4)}"
        self.dir = tempfile.mkdtemp(prefix="th-readme-tmux-")
        self.env = env
        self._tmux("-f", "/dev/null", "start-server", ";",
                   "set-option", "-g", "remain-on-exit", "on", ";",
                   "new-session", "-d", "-s", "readme", "-c", cwd,
                   "-x", str(WIDTH), "-y", str(HEIGHT),
                   "bash", "-c", f'( {script}\n) 2>"$0/stderr"; echo $? >"$0/status"',
                   self.dir)

    def _tmux(self, *args):
        return subprocess.run(["tmux", "-u", "-L", self.socket, *args], check=True,
                              capture_output=True, text=True, timeout=TIMEOUT,
                              env=self.env).stdout

    def _read(self, name):
        try:
            with open(os.path.join(self.dir, name), encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def stderr(self):
        return self._read("stderr")

    def exit_status(self):
        status = self._read("status").strip()
        return int(status) if status else None

    def screen(self):
        return self._tmux("capture-pane", "-p", "-t", "readme").rstrip("\n").split("\n")

    def send(self, *keys):
        self._tmux("send-keys", "-t", "readme", *keys)

    def close(self):
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True,
                       timeout=TIMEOUT, env=self.env)
        shutil.rmtree(self.dir, ignore_errors=True)


class ReadmeTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.channel = DEMO.fixture.channel()
        md = (("authorization", f"Bearer {ORGANIZER_TOKEN}"),)
        cls.sessions = sched_grpc.SchedulingServiceStub(cls.channel).ListSessions(
            sched.ListSessionsRequest(page_size=100), metadata=md, timeout=TIMEOUT).sessions
        with open(os.path.join(WORK, ".local", "live_session_id")) as f:
            cls.live = f.read().strip()
        request = qs.ListQuestionsRequest(session_id=cls.live,
                                          view=qs.ListQuestionsRequest.VIEW_ALL, page_size=100)
        cls.questions = qs_grpc.QuestionServiceStub(cls.channel).ListQuestions(
            request, metadata=md, timeout=TIMEOUT).questions

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()

    def setUp(self):
        self.exports = []  # the README's export lines so far

    # -- running ------------------------------------------------------------

    def script(self, command):
        return "\n".join(["set -e"] + self.exports + [command])

    def run_command(self, command, timeout=60):
        done = subprocess.run(["bash", "-c", self.script(command)], cwd=WORK,
                              env=newcomer_env(), capture_output=True, text=True,
                              timeout=timeout)
        self.assertEqual(done.returncode, 0,
                         f"{command}\nexited {done.returncode}\nstdout:\n{done.stdout}\n"
                         f"stderr:\n{done.stderr}\nserver log:\n{DEMO.fixture.log_tail(15)}")
        return done.stdout

    # -- the steps ----------------------------------------------------------

    def step_export(self, command, match):
        name = match.group(1)
        value = self.run_command(f'{command}\nprintf %s "${name}"')
        self.assertTrue(value.strip(), f"{command}: {name} is empty")
        self.exports.append(command)

    def step_sessions(self, command, match):
        out = self.run_command(command)
        self.assertGreaterEqual(len(self.sessions), 7)
        for s in self.sessions:
            self.assertIn(s.id, out, f"session {s.id} ({s.title}) not listed:\n{out}")
        live_row = next((l for l in out.splitlines() if self.live in l), "")
        self.assertIn("LIVE", live_row, out)
        self.assertIn("Dialogue", out)
        self.assertIn("Open Day", out)

    def step_watch_queue(self, command, match):
        process = subprocess.Popen(["bash", "-c", self.script(command)], cwd=WORK,
                                   env=newcomer_env(), stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, start_new_session=True)
        first = []
        reader = threading.Thread(target=lambda: first.append(process.stdout.readline()),
                                  daemon=True)
        reader.start()
        reader.join(TIMEOUT)
        still_running = process.poll() is None
        # Ctrl-C, as the README says.
        try:
            os.killpg(process.pid, signal.SIGINT)
        except ProcessLookupError:
            pass
        try:
            _, err = process.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            _, err = process.communicate()
        self.assertTrue(first and first[0].strip(),
                        f"{command}: no message within {TIMEOUT}s; stderr:\n{err}")
        self.assertTrue(still_running, f"{command}: the stream ended by itself; stderr:\n{err}")
        message = json.loads(first[0])
        self.assertIn("snapshot", message, first[0][:500])
        shown = message["snapshot"].get("questions", [])
        self.assertGreaterEqual(len(shown), 40, first[0][:500])
        ids = {q["id"] for q in shown}
        statuses = {q.get("status") for q in shown}
        # The moderator sees the pending questions too.
        self.assertIn("QUESTION_STATUS_PENDING", statuses)
        self.assertIn("QUESTION_STATUS_PINNED", statuses)
        pinned = next(q for q in self.questions if q.status == qs.QUESTION_STATUS_PINNED)
        self.assertIn(pinned.id, ids)

    def step_moderate(self, command, match):
        if shutil.which("tmux") is None:
            self.fail("tmux is not installed (deploy/install-deps.sh installs it)")
        tmux = Tmux(self.script(command), WORK, newcomer_env())
        try:
            pinned = next(q for q in self.questions if q.status == qs.QUESTION_STATUS_PINNED)
            pending = [q for q in self.questions if q.status == qs.QUESTION_STATUS_PENDING]
            lines = self.wait_for(tmux, "the question queue", lambda screen: (
                any("Pending questions (" in l for l in screen)
                and any("Open questions (" in l for l in screen)
                and any("[PINNED]" in l for l in screen)))
            screen = "\n".join(lines)
            self.assertIn(f"session {self.live}", screen)
            self.assertIn(f"Pending questions ({len(pending)})", screen)
            open_ = [q for q in self.questions
                     if q.status in (qs.QUESTION_STATUS_APPROVED, qs.QUESTION_STATUS_PINNED)]
            self.assertIn(f"Open questions ({len(open_)})", screen)
            # The pinned question's text (its start: long ones are cut).
            self.assertIn(pinned.text[:20], screen)
            tmux.send("q")
            deadline = time.monotonic() + TIMEOUT
            while tmux.exit_status() is None and time.monotonic() < deadline:
                time.sleep(0.1)
            self.assertEqual(tmux.exit_status(), 0,
                             f"{command}: q did not quit cleanly; stderr:\n{tmux.stderr()}")
        finally:
            tmux.close()

    def wait_for(self, tmux, what, predicate, timeout=20):
        deadline = time.monotonic() + timeout
        lines = []
        while time.monotonic() < deadline:
            lines = tmux.screen()
            if predicate(lines):
                return lines
            if tmux.exit_status() is not None:
                break
            time.sleep(0.1)
        status = tmux.exit_status()
        self.fail((f"the command exited with status {status} before showing {what}"
                   if status is not None else f"timed out waiting for {what}") + "; screen:\n"
                  + "\n".join(lines) + "\nstderr:\n" + tmux.stderr())

    def step_calendar(self, command, match):
        path = os.path.join(WORK, match.group(1))
        if os.path.exists(path):
            os.remove(path)
        self.run_command(command)
        with open(path, encoding="utf-8") as f:
            ics = f.read()
        self.assertTrue(ics.startswith("BEGIN:VCALENDAR"), ics[:200])
        self.assertIn("END:VCALENDAR", ics)
        live = next(s for s in self.sessions if s.id == self.live)
        occurrences = [s for s in self.sessions if s.series_id == live.series_id]
        self.assertGreaterEqual(len(occurrences), 2)
        # The series is one recurring event: its occurrences are the sessions.
        calendar = icalendar.Calendar.from_ical(ics)
        events = [e for e in calendar.walk("VEVENT")
                  if str(e["UID"]).startswith(live.series_id)]
        self.assertTrue(events, f"no event of series {live.series_id}:\n{ics}")
        master = next(e for e in events if "RECURRENCE-ID" not in e)
        self.assertIn("Dialogue", str(master["SUMMARY"]))
        start = master.decoded("DTSTART")
        rule = dateutil.rrule.rrulestr(master["RRULE"].to_ical().decode(), dtstart=start)
        expanded = {int(t.timestamp()) for t in rule}
        for e in events:
            if "RECURRENCE-ID" in e:  # a moved occurrence
                expanded.discard(int(e.decoded("RECURRENCE-ID").timestamp()))
                expanded.add(int(e.decoded("DTSTART").timestamp()))
        self.assertEqual(expanded, {s.start_time.seconds for s in occurrences})
        # Only the series: not the Open Day in Berlin.
        self.assertEqual(len(calendar.walk("VEVENT")), len(events))

    def step_bot(self, command, match):
        out = self.run_command(command)
        messages = match.group(1).split()
        for message in messages:
            self.assertIn(f"> {message}", out)
        if "/sessions" in messages:
            self.assertIn("Upcoming sessions (times in", out)
            self.assertRegex(out, r"\[LIVE\] .*Dialogue")
            self.assertIn(f"id {self.live}", out)
        if "/questions" in messages:
            self.assertIn("Top questions", out)
            self.assertIn("[answering now]", out)
        self.assertNotIn("Traceback", out)

    # -- the test -------------------------------------------------------------

    def test_readme_steps(self):
        commands = readme_commands()
        kinds = []
        for command in commands:
            kind, _ = classify(command)
            self.assertIsNotNone(kind, f"README step not known to {os.path.basename(__file__)}"
                                 f" (add it to STEPS, with checks): {command}")
            kinds.append(kind)
        for kind in REQUIRED:
            self.assertIn(kind, kinds, f"the README has no {kind} step")
        for command in commands:
            kind, match = classify(command)
            with self.subTest(step=kind, command=command):
                getattr(self, "step_" + kind.replace("-", "_"))(command, match)

    def test_unknown_commands_are_refused(self):
        """The drift guard itself: what the README must not contain."""
        for command in ["townhallctl sessions list",  # not the built path
                        f"{CTL} sessions delete",
                        "rm -rf .local",
                        f"{CTL} sessions list; rm -rf .local",
                        f"{CTL} --token_file=x;rm sessions list",
                        f"{CTL} calendar --series_id=$(rm -rf ~) -o a.ics",
                        "export TOKEN=$(cat .local/organizer_token)"]:
            self.assertEqual(classify(command), (None, None), command)

    def test_extraction(self):
        with tempfile.NamedTemporaryFile("w", suffix=".md", delete=False) as f:
            f.write(f"text\n```sh\nnot me\n```\n{BEGIN}\n1. x\n\n   ```sh\n   # a comment\n"
                    "   a \\\n     b\n\n   c\n   ```\n   prose\n"
                    f"{END}\n```sh\nnor me\n```\n")
        try:
            self.assertEqual(readme_commands(f.name), ["a b", "c"])
        finally:
            os.unlink(f.name)


if __name__ == "__main__":
    unittest.main(verbosity=2)
