#!/usr/bin/python3
"""End-to-end: townhallctl against a real townhalld, as a table of command
lines and what each must answer.

- every subcommand answers --help with exit 0 (the methods come from the
  generated python descriptors, not from townhallctl itself);
- bad arguments print a clear message and exit 2;
- server errors print the server's code and message and exit 1;
- the happy paths of the README: list and create sessions, import the CSV
  fixtures of tests/data, write a calendar, settings from a config file,
  watch a stream.

Run: TOWNHALLD=<build>/services/townhalld/townhalld \
     TOWNHALLCTL=<build>/clients/cpp/townhallctl/townhallctl \
     TOWNHALL_PYTHON_DIR=<build>/python /usr/bin/python3 test_townhallctl_e2e.py
"""

import json
import os
import re
import subprocess
import sys
import tempfile
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
    from townhall.v1 import (agenda_pb2, diagnostics_pb2, questions_pb2,  # noqa: E402
                             registration_pb2, scheduling_pb2, tenant_pb2)
    services = {}
    for module in (agenda_pb2, diagnostics_pb2, questions_pb2,
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
        (["sessions", "list", "--output=yaml"], 'output: "yaml" is neither table nor json'),
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
        self.assertEqual(header[0], "id")
        self.assertIn("title", header)
        self.assertIn(session["id"], r.stdout)
        self.assertIn("SCHEDULED", r.stdout)
        # The same call by reflection, with the request as --data on stdin.
        r = run("scheduling", "get-session", "--data", "-", "--output=json",
                input=json.dumps({"session_id": session["id"]}))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["session"]["title"],
                         "Dialogue with compatriots")

    def test_import_csv_fixtures(self):
        r = run("import", DATA_DIR, "--output=json")
        self.assertEqual(r.returncode, 0, r.stderr)
        first = json.loads(r.stdout)
        self.assertGreater(first.get("organizations_created", 0), 0)
        self.assertGreater(first.get("participants_created", 0), 0)
        # Files in any order, told apart by their headers; nothing new.
        r = run("import", os.path.join(DATA_DIR, "participants.csv"),
                os.path.join(DATA_DIR, "organizations.csv"), "--output=json")
        self.assertEqual(r.returncode, 0, r.stderr)
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
        self.assertEqual(r.returncode, 0, r.stderr)
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

    def test_unimplemented_service_says_so(self):
        # QuestionService may not be hosted yet; either way the CLI reaches
        # it by reflection and reports what the server says.
        r = run("questions", "list-questions", "--session_id=nope")
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, r"^townhallctl: [A-Z_]+: .+")


if __name__ == "__main__":
    unittest.main(verbosity=2)
