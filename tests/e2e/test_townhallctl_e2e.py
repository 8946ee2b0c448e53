#!/usr/bin/python3
"""End-to-end: townhallctl against a real townhalld, as a table of command
lines and what each must answer.

- every subcommand answers --help with exit 0 (the methods come from the
  generated python descriptors, not from townhallctl itself);
- bad arguments print a clear message and exit 2;
- server errors print the server's code and message and exit 1;
- the happy paths of the README: list and create sessions, import the CSV
  fixtures of tests/data, write a calendar, settings from a config file,
  watch a stream, a poll from creation to its exported results.

Run: TOWNHALLD=<build>/services/townhalld/townhalld \
     TOWNHALLCTL=<build>/clients/cpp/townhallctl/townhallctl \
     TOWNHALL_PYTHON_DIR=<build>/python /usr/bin/python3 test_townhallctl_e2e.py
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import townhalld_fixture  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DATA_DIR = os.path.normpath(os.path.join(HERE, "..", "data"))
CTL = os.environ.get("TOWNHALLCTL") or os.path.normpath(os.path.join(
    HERE, "..", "..", "build", "clients", "cpp", "townhallctl", "townhallctl"))

SERVICES = {  # townhallctl name -> service
    "scheduling": "SchedulingService",
    "registration": "RegistrationService",
    "agenda": "AgendaService",
    "questions": "QuestionService",
    "polls": "PollService",
    "tenant": "TenantService",
    "diagnostics": "DiagnosticsService",
}
SHORTCUTS = {
    "sessions": ["list", "get", "create", "update", "publish", "start", "end",
                 "cancel"],
    "venues": ["list", "get", "create"],
    "organizations": ["list", "get", "create"],
    "participants": ["list", "get", "create"],
    "registrations": ["list", "get"],
    "polls": ["list", "get", "create", "open", "close", "publish", "vote", "watch",
              "export"],
}

FIXTURE = None
TENANT = TOKEN = None


def setUpModule():
    global FIXTURE, TENANT, TOKEN
    FIXTURE = townhalld_fixture.TownhalldFixture()
    FIXTURE.start()
    TENANT, TOKEN = FIXTURE.create_tenant()


def tearDownModule():
    if FIXTURE is not None:
        FIXTURE.stop()


def kebab(name):
    return re.sub(r"(?<!^)([A-Z])", r"-\1", name).lower()


def api_methods():
    """(townhallctl service name, kebab method, streaming) for every RPC."""
    townhalld_fixture.import_stubs()
    from townhall.v1 import (agenda_pb2, diagnostics_pb2, polls_pb2,  # noqa: E402
                             questions_pb2, registration_pb2, scheduling_pb2,
                             tenant_pb2)
    services = {}
    for module in (agenda_pb2, diagnostics_pb2, polls_pb2, questions_pb2,
                   registration_pb2, scheduling_pb2, tenant_pb2):
        services.update(module.DESCRIPTOR.services_by_name)
    out = []
    for cli_name, service in SERVICES.items():
        for method in services[service].methods:
            out.append((cli_name, kebab(method.name),
                        method.server_streaming))
    return out


def run(*args, token=None, env=None, input=None, timeout=30):
    """Runs townhallctl with a clean environment (no config file of the
    machine's user): the server's address and, unless token is "", the
    tenant's organizer token."""
    full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "HOME": tempfile.gettempdir() + "/townhallctl-test-home",
                "TOWNHALL_ADDRESS": FIXTURE.address}
    token = TOKEN if token is None else token
    if token:
        full_env["TOWNHALL_TOKEN"] = token
    full_env.update(env or {})
    return subprocess.run([CTL, *args], capture_output=True, text=True,
                          env=full_env, input=input, timeout=timeout)


class Help(unittest.TestCase):
    def test_every_subcommand_answers_help(self):
        commands = [[], ["help"], ["help", "questions", "approve-question"],
                    ["import"], ["calendar"], ["moderate"]]
        commands += [[s] for s in SERVICES] + [[g] for g in SHORTCUTS]
        commands += [[g, v] for g, verbs in SHORTCUTS.items() for v in verbs]
        methods = api_methods()
        self.assertGreater(len(methods), 80)
        commands += [[s, m] for s, m, _ in methods]
        for command in commands:
            with self.subTest(command=command):
                r = run(*command, "--help")
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertTrue(r.stdout.startswith(("Usage:", "townhallctl")),
                                r.stdout[:200])
                self.assertEqual(r.stderr, "")

    def test_method_help_lists_fields_with_types(self):
        r = run("sessions", "create", "--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("townhall.v1.SchedulingService.CreateSession", r.stdout)
        self.assertRegex(r.stdout, r"--session\.start_time +timestamp")
        self.assertRegex(r.stdout, r"--session\.format +enum: ONLINE\|IN_PERSON\|HYBRID")
        self.assertRegex(r.stdout, r"--publish +bool")
        r = run("questions", "approve-question", "-h")
        self.assertRegex(r.stdout, r"--question_id +string")
        r = run("agenda", "watch-agenda", "--help")
        self.assertIn("server stream", r.stdout)

    def test_every_service_lists_every_method(self):
        for service, method, streaming in api_methods():
            with self.subTest(service=service, method=method):
                r = run(service, "--help")
                self.assertRegex(r.stdout, rf"(?m)^  {re.escape(method)} ")


class BadArguments(unittest.TestCase):
    CASES = [
        # (arguments, text stderr must hold)
        ([], "no command"),
        (["frobnicate"], 'unknown command "frobnicate"'),
        (["scheduling"], "which method?"),
        (["scheduling", "list-sesions"], 'unknown scheduling method "list-sesions"'),
        (["sessions", "destroy"], 'unknown verb "destroy"'),
        (["polls", "tally"], 'unknown method or verb "tally" for polls'),
        (["polls", "get", "p1", "p2"], 'unexpected argument "p2" (see townhallctl polls get --help)'),
        (["sessions", "list", "--bogus=1"], 'has no field "bogus"'),
        (["sessions", "list", "--session.title=x"], 'has no field "session"'),
        (["sessions", "list", "-x"], "unknown flag -x"),
        (["sessions", "list", "extra"], 'unexpected argument "extra"'),
        (["sessions", "list", "--data", "{bad json"], "--data is not a JSON townhall.v1.ListSessionsRequest"),
        (["sessions", "list", "--data", '{"no_such_field": 1}'], "--data is not a JSON"),
        (["sessions", "get", "--session_id"], "--session_id needs a value"),
        (["sessions", "list", "--address"], "--address needs a value"),
        (["sessions", "list", "--page_size=many"], '--page_size: "many" is not an int32'),
        (["sessions", "list", "--states=SOMETIMES"], "--states: \"SOMETIMES\" is not one of DRAFT|SCHEDULED"),
        (["sessions", "create", "--session.start_time=tomorrow"], "is not timestamp (RFC 3339"),
        (["sessions", "list", "--output=xml"], 'output: "xml" is none of table, wide, json, yaml'),
        (["sessions", "get", "a", "b"], 'unexpected argument "b" (see townhallctl sessions get --help)'),
        (["sessions", "get", "a", "--session_id=b"], 'session_id is given twice: "a" and --session_id'),
        (["sessions", "list", "--columns=id,titel"], 'Session has no column "titel"; there are id, tenant_id, title'),
        (["sessions", "get", "a", "--columns=id"], "--columns picks the columns of a list"),
        (["sessions", "get", "a", "--all"], "--all and --limit follow the pages of a list"),
        (["sessions", "list", "--limit=none"], '--limit: "none" is not a number of rows'),
        (["sessions", "list", "--time_zone=Mars/Olympus"], '--time_zone: "Mars/Olympus" is not an IANA time zone'),
        (["--page_size", "sessions", "list"], "--page_size needs a value"),
        (["completion"], "usage: townhallctl completion bash|zsh"),
        (["completion", "fish"], 'completion: "fish" is not a shell'),
        (["sessions", "list", "--timeout=soon"], 'timeout: "soon" is not a duration'),
        (["calendar"], "calendar needs --session_id or --series_id"),
        (["import"], "import: give a directory or CSV files"),
        (["moderate"], "usage: townhallctl moderate SESSION"),
        (["sessions", "list", "--config=/nonexistent/townhall.conf"], "cannot read /nonexistent/townhall.conf"),
    ]

    def test_bad_arguments_exit_non_zero_with_a_message(self):
        for args, message in self.CASES:
            with self.subTest(args=args):
                r = run(*args)
                self.assertNotEqual(r.returncode, 0)
                expected = 3 if "cannot read" in message else 2
                self.assertEqual(r.returncode, expected, r.stderr)
                self.assertIn(message, r.stderr)
                self.assertTrue(r.stderr.startswith("townhallctl: "), r.stderr)
                self.assertEqual(r.stdout, "")

    def test_import_refuses_a_csv_it_cannot_tell_apart(self):
        with tempfile.NamedTemporaryFile("w", suffix=".csv") as f:
            f.write("title,when\nx,y\n")
            f.flush()
            r = run("import", f.name)
        self.assertEqual(r.returncode, 2)
        self.assertIn("the header must start with name", r.stderr)


class ServerErrors(unittest.TestCase):
    def test_server_errors_print_code_and_message(self):
        cases = [
            (["sessions", "get", "--session_id=no-such-session"], None,
             "NOT_FOUND: session no-such-session not found"),
            (["sessions", "list"], FIXTURE.bootstrap_credential,
             "PERMISSION_DENIED: "),
            (["sessions", "list"], "not-a-token", "UNAUTHENTICATED: "),
            (["sessions", "list"], "", "UNAUTHENTICATED: "),
            (["sessions", "create", "--session.title=x"], None,
             "INVALID_ARGUMENT: "),
        ]
        for args, token, message in cases:
            with self.subTest(args=args, token=token):
                r = run(*args, token=token)
                self.assertEqual(r.returncode, 1, r.stderr)
                self.assertIn(f"townhallctl: {message}", r.stderr)
                self.assertEqual(r.stdout, "")

    def test_unreachable_server_is_a_server_error(self):
        r = run("sessions", "list", "--address=127.0.0.1:1", "--timeout=1s")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertRegex(r.stderr, r"townhallctl: (UNAVAILABLE|DEADLINE_EXCEEDED): ")


class HappyPaths(unittest.TestCase):
    def create_session(self, title="Dialogue with compatriots"):
        r = run("sessions", "create", "--output=json",
                f"--session.title={title}",
                "--session.start_time=2027-01-09T05:00:00Z",
                "--session.duration=10800s",
                "--session.time_zone=Asia/Tashkent",
                "--session.format=ONLINE",
                "--session.join_url=https://meet.example.uz/dialogue",
                "--session.languages=uz", "--session.languages=ru",
                "--publish")
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)["session"]

    def test_create_then_list_sessions(self):
        session = self.create_session()
        self.assertEqual(session["state"], "SESSION_STATE_SCHEDULED")
        self.assertEqual(session["languages"], ["uz", "ru"])
        r = run("sessions", "list", "--output", "json")
        self.assertEqual(r.returncode, 0, r.stderr)
        ids = [s["id"] for s in json.loads(r.stdout)["sessions"]]
        self.assertIn(session["id"], ids)
        r = run("sessions", "list")  # a table
        self.assertEqual(r.returncode, 0, r.stderr)
        header = r.stdout.splitlines()[0].split()
        self.assertEqual(header[0], "ID")
        self.assertIn("TITLE", header)
        self.assertIn(session["id"], r.stdout)
        self.assertIn("SCHEDULED", r.stdout)
        # The same call by reflection, with the request as --data on stdin.
        r = run("scheduling", "get-session", "--data", "-", "--output=json",
                input=json.dumps({"session_id": session["id"]}))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["session"]["title"],
                         "Dialogue with compatriots")

    def test_import_csv_fixtures(self):
        # The fixtures hold five bad rows on purpose: exit 4, their count.
        r = run("import", DATA_DIR, "--output=json")
        self.assertEqual(r.returncode, 4, r.stderr)
        self.assertEqual(r.stderr, "townhallctl: 5 rows refused; the other "
                                   "rows were imported\n")
        first = json.loads(r.stdout)
        self.assertEqual(len(first["errors"]), 5)
        self.assertGreater(first.get("organizations_created", 0), 0)
        self.assertGreater(first.get("participants_created", 0), 0)
        # Files in any order, told apart by their headers; nothing new.
        r = run("import", os.path.join(DATA_DIR, "participants.csv"),
                os.path.join(DATA_DIR, "organizations.csv"), "--output=json")
        self.assertEqual(r.returncode, 4, r.stderr)
        again = json.loads(r.stdout)
        self.assertEqual(again.get("organizations_created", 0), 0)
        self.assertEqual(again.get("organizations_existing"),
                         first["organizations_created"])

    def test_import_reports_an_invalid_utf8_row_and_imports_the_others(self):
        # The file goes to the server as bytes: one bad byte costs its row.
        with tempfile.NamedTemporaryFile("wb", suffix=".csv") as f:
            f.write(b"display_name,email\n"
                    b"Aziz Ctl,aziz.ctl@example.org\n"
                    b"Bobur \xff Ctl,bobur.ctl@example.org\n"
                    b"Dilnoza Ctl,dilnoza.ctl@example.org\n")
            f.flush()
            r = run("import", f.name, "--output=json")
            self.assertEqual(r.returncode, 4, r.stderr)
            self.assertIn("1 row refused", r.stderr)
            checked = run("import", f.name, "--validate_only",
                          env={"COLUMNS": "30"})
        self.assertEqual(checked.returncode, 4, checked.stderr)
        self.assertIn("1 row would be refused (--validate_only", checked.stderr)
        # The table shows the reason whole, also on a narrow terminal.
        self.assertIn('column "display_name": is not valid UTF-8', checked.stdout)
        result = json.loads(r.stdout)
        self.assertEqual(result.get("participants_created"), 2, r.stdout)
        self.assertEqual(result.get("errors"), [{
            "file": "participants", "line": 3,
            "reason": 'column "display_name": is not valid UTF-8'}])

    def test_calendar_writes_an_ics_file(self):
        session = self.create_session("Calendar test")
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "dialogue.ics")
            r = run("calendar", f"--session_id={session['id']}", "-o", path)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("wrote", r.stdout)
            with open(path, encoding="utf-8") as f:
                ics = f.read()
        self.assertTrue(ics.startswith("BEGIN:VCALENDAR"), ics[:80])
        self.assertIn("BEGIN:VEVENT", ics)
        self.assertIn("SUMMARY:Calendar test", ics)

    def test_settings_from_a_config_file(self):
        with tempfile.TemporaryDirectory() as tmp:
            token_file = os.path.join(tmp, "token")
            with open(token_file, "w") as f:
                f.write(TOKEN + "\n")
            config = os.path.join(tmp, "config")
            with open(config, "w") as f:
                f.write(f"# townhallctl settings\naddress = {FIXTURE.address}\n"
                        f"token_file = {token_file}\noutput = json\n")
            r = subprocess.run([CTL, "--config", config, "sessions", "list"],
                               capture_output=True, text=True, timeout=30,
                               env={"PATH": os.environ.get("PATH", "")})
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIsInstance(json.loads(r.stdout), dict)
            # The default place, ~/.config/townhall/config; flags win.
            os.makedirs(os.path.join(tmp, ".config", "townhall"))
            os.rename(config, os.path.join(tmp, ".config", "townhall", "config"))
            r = subprocess.run([CTL, "sessions", "list", "--token=bad"],
                               capture_output=True, text=True, timeout=30,
                               env={"PATH": os.environ.get("PATH", ""),
                                    "HOME": tmp})
            self.assertEqual(r.returncode, 1)
            self.assertIn("UNAUTHENTICATED", r.stderr)
            with open(os.path.join(tmp, ".config", "townhall", "config"), "a") as f:
                f.write("colour = blue\n")
            r = subprocess.run([CTL, "sessions", "list"], capture_output=True,
                               text=True, timeout=30,
                               env={"PATH": os.environ.get("PATH", ""),
                                    "HOME": tmp})
            self.assertEqual(r.returncode, 2)
            self.assertIn("config:5: expected key=value", r.stderr)

    def test_watch_prints_json_lines_as_they_arrive(self):
        session = self.create_session("Watched")
        full_env = {"PATH": os.environ.get("PATH", ""),
                    "HOME": tempfile.gettempdir() + "/townhallctl-test-home",
                    "TOWNHALL_ADDRESS": FIXTURE.address,
                    "TOWNHALL_TOKEN": TOKEN}
        with subprocess.Popen(
                [CTL, "agenda", "watch-agenda", f"--session_id={session['id']}"],
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                env=full_env) as watch:
            try:
                first = json.loads(watch.stdout.readline())
                self.assertEqual(first["snapshot"]["session_id"], session["id"])
                r = run("agenda", "create-agenda-item",
                        f"--session_id={session['id']}",
                        "--item.title=Mehnat migratsiyasi", "--item.planned_duration=1200s")
                self.assertEqual(r.returncode, 0, r.stderr)
                change = json.loads(watch.stdout.readline())
                self.assertIn("change", change)
            finally:
                watch.terminate()

    def test_poll_from_creation_to_exported_results(self):
        session = self.create_session("Polls")
        people = []
        for name in ("Dilnoza Karimova", "Шерзод Усманов"):
            r = run("participants", "create", f"--participant.display_name={name}",
                    "-o", "json")
            self.assertEqual(r.returncode, 0, r.stderr)
            pid = json.loads(r.stdout)["participant"]["id"]
            r = run("registration", "register", f"--session_id={session['id']}",
                    f"--participant_id={pid}", "-o", "json")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(json.loads(r.stdout)["registration"]["status"],
                             "REGISTRATION_STATUS_CONFIRMED")
            people.append(pid)
        r = run("polls", "create", f"--session_id={session['id']}",
                "--poll.kind=SINGLE_CHOICE",
                "--poll.question=Keyingi mavzu qaysi boʻlsin?",
                '--poll.options={"text": "Mehnat migratsiyasi"}',
                '--poll.options={"text": "Sugʻurta himoyasi"}', "-o", "json")
        self.assertEqual(r.returncode, 0, r.stderr)
        poll = json.loads(r.stdout)["poll"]
        self.assertEqual(poll["state"], "POLL_STATE_DRAFT")
        self.assertEqual([o["id"] for o in poll["options"]], ["1", "2"])
        ids = (poll["id"], f"--session_id={session['id']}")
        r = run("polls", "open", *ids, "-o", "json")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["poll"]["state"], "POLL_STATE_OPEN")
        # The organizer casts each participant's ballot (CastBallot names
        # whom it is for); a retry with the same request_id votes once.
        for pid, option in zip(people, ("2", "2")):
            r = run("polls", "vote", *ids, f"--participant_id={pid}",
                    f"--ballot.option_ids={option}", f"--request_id=ctl-{pid}",
                    "-o", "json")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertTrue(json.loads(r.stdout).get("changed"), r.stdout)
        r = run("polls", "vote", *ids, f"--participant_id={people[0]}",
                "--ballot.option_ids=2", f"--request_id=ctl-{people[0]}", "-o", "json")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertFalse(json.loads(r.stdout).get("changed"), r.stdout)
        # The list's chosen columns; get by the poll's id.
        r = run("polls", "list", session["id"])
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(columns(lines[0]), ["ID", "QUESTION", "KIND", "STATE", "BALLOTS"])
        self.assertEqual(columns(lines[1]), [poll["id"], "Keyingi mavzu qaysi boʻlsin?",
                                             "SINGLE_CHOICE", "OPEN", "2"])
        r = run("polls", "get", *ids, "-o", "json")
        self.assertEqual(r.returncode, 0, r.stderr)
        got = json.loads(r.stdout)["poll"]
        self.assertEqual(got["ballot_count"], "2")
        self.assertEqual({t["option_id"]: t.get("votes", "0")
                          for t in got["results"]["tallies"]}, {"1": "0", "2": "2"})
        r = run("polls", "close", *ids, "-o", "json")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["poll"]["state"], "POLL_STATE_CLOSED")
        # The results as a file (ExportPollResults): to stdout, or -o FILE.
        exported = run("polls", "export", *ids, "--format=CSV")
        self.assertEqual(exported.returncode, 0, exported.stderr)
        self.assertTrue(exported.stdout.lstrip("\ufeff").startswith(
            "section,round,option_id,option,value,votes"), exported.stdout)
        self.assertRegex(exported.stdout, r"(?m)^[^,]*,[^,]*,2,Sugʻurta himoyasi,[^,]*,2$")
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "results.csv")
            r = run("polls", "export", *ids, "--format=CSV", "-o", path)
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(path, "rb") as f:
                written = f.read()
        self.assertEqual(r.stdout, f"wrote {path} ({len(written)} bytes)\n")
        # stdout is read with universal newlines.
        self.assertEqual(written.decode().replace("\r\n", "\n"), exported.stdout)
        # -o json shows the whole answer.
        r = run("polls", "export", *ids, "--format=CSV", "-o", "json")
        self.assertEqual(r.returncode, 0, r.stderr)
        answer = json.loads(r.stdout)
        self.assertEqual((answer["content_type"], answer["filename"]),
                         ("text/csv", f"poll-{poll['id']}.csv"))
        self.assertEqual(answer["content"], written.decode())

    def test_unimplemented_service_says_so(self):
        # QuestionService may not be hosted yet; either way the CLI reaches
        # it by reflection and reports what the server says.
        r = run("questions", "list-questions", "--session_id=nope")
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, r"^townhallctl: [A-Z_]+: .+")

def columns(line):
    """The cells of a table line: columns are two or more spaces apart."""
    return re.split(r"  +", line.strip())


def create(title, start="2027-01-09T05:00:00Z", description=""):
    r = run("sessions", "create", "-o", "json", f"--session.title={title}",
            f"--session.start_time={start}", "--session.duration=10800s",
            "--session.time_zone=Asia/Tashkent", "--session.format=ONLINE",
            f"--session.description={description}", "--publish")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["session"]


class Tables(unittest.TestCase):
    """The table test of issue 21: chosen columns, -o wide, --columns, the
    terminal's width, no epoch for unset times, names for ids."""

    @classmethod
    def setUpClass(cls):
        cls.session = create("Table test: dialogue with compatriots in Russia",
                             start="2031-05-10T05:00:00Z",
                             description="A long description. " * 20)

    def list_row(self, *args, env=None):
        r = run("sessions", "list", "--start_after=2031-05-10T00:00:00Z",
                "--start_before=2031-05-11T00:00:00Z", *args, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        row = next(l for l in lines if self.session["id"] in l)
        return lines[0], row, r.stdout

    def test_default_columns_times_in_the_viewers_zone_and_utc(self):
        header, row, out = self.list_row(env={"TZ": "Asia/Tashkent"})
        self.assertEqual(columns(header),
                         ["ID", "TITLE", "START (Asia/Tashkent)", "START (UTC)",
                          "DURATION", "STATE", "FORMAT"])
        self.assertEqual(columns(row),
                         [self.session["id"], self.session["title"],
                          "2031-05-10 10:00", "2031-05-10 05:00", "3h",
                          "SCHEDULED", "ONLINE"])
        # --time_zone wins over TZ; a viewer in UTC gets one START column.
        header, row, _ = self.list_row("--time_zone=Europe/Berlin",
                                       env={"TZ": "Asia/Tashkent"})
        self.assertIn("START (Europe/Berlin)", columns(header))
        self.assertIn("2031-05-10 07:00", columns(row))
        header, _, _ = self.list_row(env={"TZ": "UTC"})
        self.assertEqual(columns(header)[2:4], ["START (UTC)", "DURATION"])
        self.assertNotIn("1970", out)
        self.assertNotIn("TENANT", header)

    def test_wide_shows_more_and_no_epoch(self):
        header, row, out = self.list_row("-o", "wide")
        for column in ("ID", "TITLE", "TENANT_ID", "DESCRIPTION", "ETAG",
                       "CREATE_TIME"):
            self.assertIn(column, columns(header))
        # original_start_time of a session outside a series is unset.
        self.assertNotIn("ORIGINAL_START_TIME", header)
        self.assertNotIn("1970", out)
        self.assertIn(self.session["description"].strip(), row)

    def test_columns_by_field_name(self):
        header, row, _ = self.list_row("--columns=title,id,time_zone")
        self.assertEqual(columns(header), ["TITLE", "ID", "TIME_ZONE"])
        self.assertEqual(columns(row)[1:], [self.session["id"], "Asia/Tashkent"])
        header, row, _ = self.list_row("--columns=id,original_start_time")
        self.assertEqual(row.strip(), self.session["id"])

    def test_terminal_width(self):
        # A narrow terminal: the title gives way, the id and times do not.
        header, row, out = self.list_row("-o", "wide", env={"COLUMNS": "120"})
        self.assertIn("…", row)
        self.assertNotIn(self.session["title"], row)
        self.assertIn("2031-05-10 05:00", row)
        # A wide terminal, and a pipe (no COLUMNS): whole rows.
        for env in ({"COLUMNS": "2000"}, {}):
            _, row, _ = self.list_row("-o", "wide", env=env)
            self.assertIn(self.session["title"], row)
            self.assertIn(self.session["description"].strip(), row)
        # The default columns fit in 100.
        _, _, out = self.list_row(env={"COLUMNS": "100"})
        for line in out.splitlines():
            self.assertLessEqual(len(line), 100, line)

    def test_yaml_is_the_json(self):
        r = run("sessions", "get", self.session["id"], "-o", "yaml")
        self.assertEqual(r.returncode, 0, r.stderr)
        import yaml  # python3-yaml, a dependency of the e2e tests
        self.assertEqual(yaml.safe_load(r.stdout), {"session": self.session})

    def test_participants_show_their_organizations_name(self):
        run("import", DATA_DIR)
        r = run("participants", "list", "--all")
        self.assertEqual(r.returncode, 0, r.stderr)
        header = columns(r.stdout.splitlines()[0])
        self.assertEqual(header[:3], ["ID", "NAME", "ORGANIZATION"])
        r = run("participants", "list", "--all", "-o", "json")
        participant = next(p for p in json.loads(r.stdout)["participants"]
                           if p.get("organization_id"))
        r = run("organizations", "get", participant["organization_id"],
                "-o", "json")
        self.assertEqual(r.returncode, 0, r.stderr)
        name = json.loads(r.stdout)["organization"]["display_name"]
        r = run("participants", "list", "--all",
                f"--organization_id={participant['organization_id']}")
        row = next(l for l in r.stdout.splitlines()
                   if l.startswith(participant["id"]))
        self.assertIn(name, row)
        self.assertNotIn(participant["organization_id"], row)
        # -o wide keeps the id beside the name.
        r = run("participants", "list", "--all", "-o", "wide",
                f"--organization_id={participant['organization_id']}")
        self.assertIn(participant["organization_id"], r.stdout)


class Conventions(unittest.TestCase):
    """--all and --limit, --version, flags before the command, positional
    ids, completion."""

    @classmethod
    def setUpClass(cls):
        cls.ids = [create(f"Paging {i}", start=f"2032-02-0{i + 1}T05:00:00Z")["id"]
                   for i in range(5)]

    def listed(self, *args):
        r = run("sessions", "list", "--start_after=2032-02-01T00:00:00Z",
                "--start_before=2032-03-01T00:00:00Z", *args)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r

    def test_all_follows_the_pages_and_limit_stops(self):
        r = self.listed("--page_size=2")
        self.assertIn("next_page_token: ", r.stdout)
        self.assertEqual(sum(l.startswith(tuple(self.ids))
                             for l in r.stdout.splitlines()), 2)
        r = self.listed("--page_size=2", "--all", "-o", "json")
        answer = json.loads(r.stdout)
        self.assertEqual([s["id"] for s in answer["sessions"]], self.ids)
        self.assertNotIn("next_page_token", answer)
        r = self.listed("--all")  # one table across the pages
        self.assertEqual(r.stdout.count("\nID ") + r.stdout.startswith("ID "), 1)
        r = self.listed("--page_size=2", "--limit=3", "-o", "json")
        answer = json.loads(r.stdout)
        self.assertEqual([s["id"] for s in answer["sessions"]], self.ids[:3])
        # Where to go on from.
        rest = self.listed(f"--page_token={answer['next_page_token']}",
                           "--all", "-o", "json")
        self.assertEqual([s["id"] for s in json.loads(rest.stdout)["sessions"]],
                         self.ids[3:])

    def test_version(self):
        for args in (["--version"], ["sessions", "list", "--version"]):
            r = run(*args)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertRegex(r.stdout, r"^townhallctl \d+\.\d+\.\d+\n$")

    def test_flags_before_the_command(self):
        for args in (["--page_size=2", "sessions", "list"],
                     ["--page_size", "2", "-o", "json", "sessions", "list"],
                     ["--output=json", "--page_size=2", "sessions", "list"]):
            with self.subTest(args=args):
                r = run(*args, "--start_after=2032-02-01T00:00:00Z")
                self.assertEqual(r.returncode, 0, r.stderr)
                if "json" in " ".join(args):
                    self.assertEqual(len(json.loads(r.stdout)["sessions"]), 2)
                else:
                    self.assertIn("next_page_token: ", r.stdout)

    def test_positional_ids(self):
        r = run("sessions", "get", self.ids[0], "-o", "json")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["session"]["id"], self.ids[0])
        session = create("Positional cancel", start="2033-01-01T05:00:00Z")
        r = run("sessions", "cancel", session["id"], "--reason=moved", "-o", "json")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["session"]["state"],
                         "SESSION_STATE_CANCELLED")
        r = run("registrations", "get", session["id"], "nobody")
        self.assertEqual(r.returncode, 1)
        self.assertIn("NOT_FOUND", r.stderr)

    def test_completion_script_loads_in_bash(self):
        r = run("completion", "bash")
        self.assertEqual(r.returncode, 0, r.stderr)
        with tempfile.NamedTemporaryFile("w", suffix=".bash") as f:
            f.write(r.stdout)
            f.flush()
            checked = subprocess.run(["bash", "-n", f.name], capture_output=True,
                                     text=True)
            self.assertEqual(checked.returncode, 0, checked.stderr)
            # Loaded, it completes methods, verbs and field flags.
            script = f"""source {f.name}
complete -p townhallctl
try() {{
  COMP_LINE="$1"; COMP_POINT=${{#1}}
  read -r -a COMP_WORDS <<<"$1"; [[ $1 == *" " ]] && COMP_WORDS+=("")
  COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); COMPREPLY=()
  _townhallctl 2>/dev/null; echo "${{COMPREPLY[*]}}"
}}
try "townhallctl scheduling list-s"
try "townhallctl --page_size=2 sess"
try "townhallctl sessions list --sta"
"""
            loaded = subprocess.run(["bash", "-c", script], capture_output=True,
                                    text=True)
        self.assertEqual(loaded.returncode, 0, loaded.stderr)
        self.assertEqual(loaded.stdout.splitlines(), [
            "complete -F _townhallctl townhallctl",
            "list-sessions list-series-occurrences",
            "sessions",
            "--start_after= --start_before= --states="])

    def test_completion_script_loads_in_zsh(self):
        r = run("completion", "zsh")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.startswith("#compdef townhallctl\n"))
        if not shutil.which("zsh"):  # deploy/install-deps.sh installs it
            self.skipTest("no zsh")
        with tempfile.TemporaryDirectory() as home:
            path = os.path.join(home, "townhallctl.zsh")
            with open(path, "w") as f:
                f.write(r.stdout)
            checked = subprocess.run(["zsh", "-n", path], capture_output=True,
                                     text=True)
            self.assertEqual(checked.returncode, 0, checked.stderr)
            # Loaded after compinit, with compadd standing in for the
            # completion system's (it filters by the word's prefix itself).
            script = f"""autoload -U compinit; compinit -u -d {home}/zcompdump
source {path}
print -r -- ${{_comps[townhallctl]}}
compadd() {{ print -r -- "$*" }}
try() {{ words=("$@"); CURRENT=${{#words}}; _townhallctl }}
try townhallctl --page_size=2 sessions ""
try townhallctl sessions list --sta
"""
            loaded = subprocess.run(["zsh", "-f", "-c", script],
                                    capture_output=True, text=True,
                                    env={"HOME": home, "PATH": os.environ["PATH"]})
        self.assertEqual(loaded.returncode, 0, loaded.stderr)
        lines = loaded.stdout.splitlines()
        self.assertEqual(lines[:2], ["_townhallctl",
                                     "-- list get create update publish start "
                                     "end cancel"])
        self.assertIn("--start_after= --start_before= --states=", lines[2])
        self.assertTrue(lines[2].startswith("-S  -- --address="), lines[2])


class ErrorHints(unittest.TestCase):
    """The three hints: no server at the address, no token, an expired
    token."""

    def test_unreachable_names_the_address_and_how_to_set_it(self):
        r = run("sessions", "list", "--address=127.0.0.1:1", "--timeout=2s")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("townhallctl: could not reach 127.0.0.1:1 (set --address "
                      "or TOWNHALL_ADDRESS)", r.stderr)

    def test_no_token_names_the_flags(self):
        r = run("sessions", "list", token="")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("townhallctl: no token: give --token, --token_file or "
                      "TOWNHALL_TOKEN", r.stderr)

    def test_expired_token_says_when_and_how_to_get_another(self):
        r = run("tenant", "issue-token", f"--tenant_id={TENANT}",
                "--subject=short@e2e.test", "--ttl=1s", "-o", "json",
                token=FIXTURE.bootstrap_credential)
        self.assertEqual(r.returncode, 0, r.stderr)
        issued = json.loads(r.stdout)
        time.sleep(2)
        r = run("sessions", "list", token=issued["token"])
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("UNAUTHENTICATED", r.stderr)
        expiry = issued["expire_time"].replace(".000Z", "Z")
        self.assertIn(f"townhallctl: the token expired at {expiry}; an "
                      "organizer token comes from the operator: townhallctl "
                      "--token_file=.local/bootstrap_credential tenant "
                      f"issue-token --tenant_id={TENANT} "
                      "--subject=short@e2e.test", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
