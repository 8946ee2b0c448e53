#!/usr/bin/python3
"""End-to-end: Debian's Prometheus scrapes a real townhalld.

townhalld runs with --metrics_listen; prometheus (on loopback, a config of
this test's making, scraping every second, with deploy/prometheus/rules.yml
loaded) scrapes it while participants vote. The test reads Prometheus's own
HTTP API: the vote counter and a latency histogram bucket are series that
Prometheus stored, and they grow with the load; the recording rules are
evaluated. Every metric name that the Grafana dashboard
(deploy/grafana/townhall.json) and the rules use is one that Prometheus
scraped from townhalld (or a recording rule of rules.yml).

Run: TOWNHALLD=<build>/services/townhalld/townhalld \
     TOWNHALL_PYTHON_DIR=<build>/python /usr/bin/python3 test_prometheus_e2e.py
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
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import townhalld_fixture  # noqa: E402

from google.protobuf import duration_pb2, timestamp_pb2  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
RULES = os.path.join(ROOT, "deploy", "prometheus", "rules.yml")
DASHBOARD = os.path.join(ROOT, "deploy", "grafana", "townhall.json")
TIMEOUT = 10

FIXTURE = None
PROMETHEUS = None
sched = sched_grpc = qs = qs_grpc = reg = reg_grpc = None
auth = townhalld_fixture.auth


class Prometheus:
    """Debian's prometheus on a loopback port, scraping one target."""

    def __init__(self, target):
        self.target = target
        self.dir = tempfile.mkdtemp(prefix="townhall-prometheus-")
        self.port = townhalld_fixture.free_port()
        config = os.path.join(self.dir, "prometheus.yml")
        with open(config, "w") as f:
            f.write(f"""global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - {RULES}
scrape_configs:
  - job_name: townhall
    static_configs:
      - targets: ["{target}"]
""")
        self.log = open(os.path.join(self.dir, "prometheus.log"), "w")
        self.process = subprocess.Popen(
            [shutil.which("prometheus"), f"--config.file={config}",
             f"--storage.tsdb.path={os.path.join(self.dir, 'data')}",
             f"--web.listen-address=127.0.0.1:{self.port}"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
            preexec_fn=townhalld_fixture._die_with_parent)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(
                        f"http://127.0.0.1:{self.port}/-/ready", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("prometheus did not become ready: " + self.log_tail())

    def api(self, path, **params):
        url = f"http://127.0.0.1:{self.port}/api/v1/{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        with urllib.request.urlopen(url, timeout=5) as r:
            body = json.load(r)
        if body.get("status") != "success":
            raise RuntimeError(f"{path}: {body}")
        return body["data"]

    def query(self, expr):
        """The instant vector of `expr` as {frozenset(labels): value}."""
        data = self.api("query", query=expr)
        return {frozenset(s["metric"].items()): float(s["value"][1])
                for s in data["result"]}

    def log_tail(self):
        self.log.flush()
        with open(os.path.join(self.dir, "prometheus.log")) as f:
            return "".join(f.readlines()[-20:])

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def setUpModule():
    global FIXTURE, PROMETHEUS, sched, sched_grpc, qs, qs_grpc, reg, reg_grpc
    sched, sched_grpc, _, _ = townhalld_fixture.import_stubs()
    from townhall.v1 import questions_pb2, questions_pb2_grpc  # noqa: E402
    from townhall.v1 import registration_pb2, registration_pb2_grpc  # noqa: E402
    qs, qs_grpc = questions_pb2, questions_pb2_grpc
    reg, reg_grpc = registration_pb2, registration_pb2_grpc
    if shutil.which("prometheus") is None:
        raise unittest.SkipTest("prometheus is missing: deploy/install-deps.sh installs it")
    metrics_port = townhalld_fixture.free_port()
    FIXTURE = townhalld_fixture.TownhalldFixture(
        extra_args=[f"--metrics_listen=127.0.0.1:{metrics_port}"])
    FIXTURE.start()
    PROMETHEUS = Prometheus(f"127.0.0.1:{metrics_port}")


def tearDownModule():
    if PROMETHEUS is not None:
        PROMETHEUS.stop()
    if FIXTURE is not None:
        FIXTURE.stop()


def metric_names(expr):
    """Metric names (and recording rule names) in a PromQL expression."""
    expr = re.sub(r'"[^"]*"', '""', expr)        # label values
    expr = re.sub(r"\{[^}]*\}", "", expr)          # matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)         # ranges
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    return set(re.findall(r"\b((?:townhall|process)[a-z0-9_:]*)", expr))


class PrometheusScrapesTownhallTest(unittest.TestCase):

    def setUp(self):
        self.tenant_id, self.token = FIXTURE.create_tenant()
        self.channel = FIXTURE.channel()
        self.md = auth(self.token)
        self.q = qs_grpc.QuestionServiceStub(self.channel)
        self.sched = sched_grpc.SchedulingServiceStub(self.channel)
        self.reg = reg_grpc.RegistrationServiceStub(self.channel)

    def tearDown(self):
        self.channel.close()

    def call(self, method, request, token=None):
        return method(request, metadata=auth(token) if token else self.md, timeout=TIMEOUT)

    def live_question(self, voters):
        """A LIVE session, an approved question and `voters` members."""
        session = self.call(self.sched.CreateSession, sched.CreateSessionRequest(
            session=sched.Session(
                title="Vatandoshlar bilan muloqot",
                start_time=timestamp_pb2.Timestamp(seconds=int(time.time()) + 600),
                duration=duration_pb2.Duration(seconds=3600),
                time_zone="Asia/Tashkent", format=sched.SESSION_FORMAT_ONLINE),
            publish=True)).session
        self.call(self.sched.StartSession, sched.StartSessionRequest(session_id=session.id))
        org = self.call(self.reg.CreateOrganization, reg.CreateOrganizationRequest(
            organization=reg.Organization(name="Moskva oʻzbeklari", country_code="RU",
                                          city="Moskva"))).organization.id
        members = []
        for i in range(voters):
            p = self.call(self.reg.CreateParticipant, reg.CreateParticipantRequest(
                participant=reg.Participant(display_name=f"Delegat {i}", organization_id=org,
                                            email=f"d{i}@example.org"))).participant
            self.call(self.reg.Register, reg.RegisterRequest(
                session_id=session.id, participant_id=p.id,
                role=reg.SESSION_ROLE_PARTICIPANT))
            token = self.call(self.reg.IssueJoinToken, reg.IssueJoinTokenRequest(
                session_id=session.id, participant_id=p.id)).token
            members.append((p.id, token))
        question = self.call(self.q.SubmitQuestion, qs.SubmitQuestionRequest(
            session_id=session.id, participant_id=members[0][0],
            text="Konsullik xizmatlari qachon kengayadi?")).question
        self.call(self.q.ApproveQuestion, qs.ApproveQuestionRequest(
            session_id=session.id, question_id=question.id))
        return session.id, question.id, members

    def vote_rounds(self, session_id, question_id, members, rounds):
        """Each member votes and withdraws `rounds` times: 2 * rounds votes each."""
        for _ in range(rounds):
            for participant_id, token in members:
                for method, request in (
                        (self.q.UpvoteQuestion, qs.UpvoteQuestionRequest),
                        (self.q.WithdrawVote, qs.WithdrawVoteRequest)):
                    self.call(method, request(session_id=session_id, question_id=question_id,
                                              participant_id=participant_id), token)

    def wait_for(self, expr, predicate, timeout=30):
        """Polls `expr` until predicate(total) holds; returns the total."""
        deadline = time.time() + timeout
        total = None
        while time.time() < deadline:
            result = PROMETHEUS.query(expr)
            if result:
                total = sum(result.values())
                if predicate(total):
                    return total
            time.sleep(0.5)
        self.fail(f"{expr}: {total} after {timeout}s; prometheus log:\n{PROMETHEUS.log_tail()}")

    def test_votes_and_latency_move_in_prometheus(self):
        session_id, question_id, members = self.live_question(voters=4)
        votes = 'sum(townhall_votes_total{direction="up"})'
        bucket = ('sum(townhall_rpc_duration_seconds_bucket{method="UpvoteQuestion",'
                  'le="+Inf"})')
        self.vote_rounds(session_id, question_id, members, rounds=5)
        first_votes = self.wait_for(votes, lambda v: v >= 20)
        first_bucket = self.wait_for(bucket, lambda v: v >= 20)
        self.vote_rounds(session_id, question_id, members, rounds=5)
        self.wait_for(votes, lambda v: v >= first_votes + 20)
        self.wait_for(bucket, lambda v: v >= first_bucket + 20)
        # A finite bucket of the same histogram: votes answer within 2.5 s.
        self.wait_for('sum(townhall_rpc_duration_seconds_bucket{method="UpvoteQuestion",'
                      'le="2.5"})', lambda v: v >= first_bucket + 20)
        # The target is up and the recording rules run on what it scraped.
        self.assertEqual(PROMETHEUS.query('up{job="townhall"}'),
                         {frozenset({"__name__": "up", "job": "townhall",
                                     "instance": PROMETHEUS.target}.items()): 1.0})
        self.wait_for('townhall:votes:rate1m{direction="up"}', lambda v: v > 0)
        self.wait_for('townhall:rpc_duration_seconds:p99_5m{method="UpvoteQuestion"}',
                      lambda v: 0 < v <= 30)
        # vote.lua, batched, timed by Redis node.
        self.wait_for('sum(townhall_redis_script_duration_seconds_count{script="vote"})',
                      lambda v: v >= 1)

    def test_dashboard_and_rules_use_scraped_metrics(self):
        with open(DASHBOARD) as f:
            dashboard = json.load(f)
        exprs = []

        def walk(node):
            if isinstance(node, dict):
                if isinstance(node.get("expr"), str):
                    exprs.append(node["expr"])
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)
        walk(dashboard)
        self.assertGreaterEqual(len(exprs), 8, "the dashboard's panels have no queries")
        with open(RULES) as f:
            rules_text = f.read()
        recorded = set(re.findall(r"^\s*- record:\s*(\S+)", rules_text, re.M))
        rule_exprs = []
        lines = rules_text.split("\n")
        for i, line in enumerate(lines):
            m = re.match(r"^(\s*)expr:\s*(.*)$", line)
            if not m:
                continue
            if m.group(2) != "|":
                rule_exprs.append(m.group(2))
                continue
            block = []  # a YAML block: the lines indented deeper than `expr:`
            for following in lines[i + 1:]:
                if following.strip() and len(following) - len(following.lstrip()) <= len(m.group(1)):
                    break
                block.append(following)
            rule_exprs.append("\n".join(block))
        self.assertGreater(len(rule_exprs), 10)
        # Calls first: series such as script latency appear with the first
        # script run. Then wait until Prometheus has scraped them.
        session_id, question_id, members = self.live_question(voters=1)
        self.vote_rounds(session_id, question_id, members, rounds=1)
        self.wait_for('count(townhall_redis_script_duration_seconds_bucket{script="vote"})',
                      lambda v: v >= 1)
        scraped = set(PROMETHEUS.api("label/__name__/values"))
        missing = {}
        for expr in exprs + rule_exprs:
            for name in metric_names(expr):
                if name in recorded or name in scraped:
                    continue
                missing.setdefault(name, expr)
        self.assertEqual(missing, {}, "names used by the dashboard or the rules "
                         "that townhalld does not expose")
        # Grafana's own fields that import needs.
        self.assertIn("panels", dashboard)
        self.assertTrue(dashboard.get("title"))


if __name__ == "__main__":
    unittest.main()
