#!/usr/bin/python3
"""Several townhalld on one machine behind haproxy: `./deploy/local/up.sh
--no-build --replicas=3` (its own Redis, state and ports in a temp dir),
then clients calling through the balancer while one replica is stopped
with SIGTERM and another with SIGKILL.

  up.sh       exits 0 and says where it serves (haproxy, the three
              replicas) and where the metrics are; each replica and the
              public port answer health SERVING
  balancing   during a warm-up every replica serves calls (their access
              logs grow): calls, not connections, are spread
  SIGTERM     (replica 1, --drain_delay=1s from deploy/local/townhalld.flags)
              no call attempt fails: haproxy's health check sees
              NOT_SERVING and takes the replica out before it refuses
              calls; the replica exits
  SIGKILL     (replica 2) at most one failed attempt per client (the call
              it had in flight on the killed replica), within 0.5 s of the
              kill; haproxy marks it DOWN
  always      every call succeeds in the end: a client sends a call that
              failed with UNAVAILABLE again, with the same request (and
              request_id), after 50 ms doubling to 400 ms, for at most
              RETRY_BUDGET = 3 s; no other error is retried. Successes
              never stop for more than 1 s. Every acknowledged CreateVenue
              (request_id) exists exactly once afterwards, retries through
              other replicas included. The last replica serves the calls
              at the end.
  down.sh     stops haproxy, the replicas and Redis

Prints the figures: calls, failed attempts by window and code, longest
call including retries.

Run: TOWNHALL_BUILD_DIR=build TOWNHALL_PYTHON_DIR=build/python \\
     /usr/bin/python3 tests/deploy/test_local_replicas.py
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid

import grpc

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "e2e"))
import townhalld_fixture  # noqa: E402

CLIENTS = 4
RETRY_BUDGET = 3.0  # seconds a client keeps retrying UNAVAILABLE
CALL_DEADLINE = 5.0
WARMUP = 2.0  # seconds before the SIGTERM
PHASE = 3.0  # seconds after each signal
# Under the sanitizers (tests/run.sh --sanitize sets ASAN_OPTIONS) every
# replica is several times slower: the timing bounds stretch, the
# correctness ones (no call lost, none failed in the drain, only the
# in-flight ones at the kill) do not.
SLOWDOWN = 3.0 if os.environ.get("ASAN_OPTIONS") else 1.0
MAX_GAP = 1.0 * SLOWDOWN  # longest stretch without a successful call


def consecutive_free_ports(count):
    """`count` consecutive free loopback ports."""
    for _ in range(200):
        base = townhalld_fixture.free_port()
        if base + count > 65535:
            continue
        sockets = []
        try:
            for port in range(base, base + count):
                s = socket.socket()
                sockets.append(s)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError(f"no {count} consecutive free ports")


def access_log_calls(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return sum(1 for line in f if '"method"' in line)
    except OSError:
        return 0


def pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


class Client(threading.Thread):
    """Calls GetSession and CreateVenue in turn through the balancer, over
    one channel (one HTTP/2 connection to haproxy)."""

    def __init__(self, index, address, token, session_id, sched, sched_grpc, stop):
        super().__init__(daemon=True)
        self.index = index
        self.channel = grpc.insecure_channel(address)
        self.stub = sched_grpc.SchedulingServiceStub(self.channel)
        self.sched = sched
        self.metadata = townhalld_fixture.auth(token)
        self.session_id = session_id
        self.stop = stop
        self.failed_attempts = []  # (time, code name, details)
        self.failed_calls = []  # (time, code name, details): after the budget
        self.successes = []  # times
        self.created = {}  # request_id -> venue id (acknowledged)
        self.longest = 0.0

    def call(self, method, request):
        start = time.monotonic()
        backoff = 0.05
        while True:
            try:
                reply = method(request, metadata=self.metadata, timeout=CALL_DEADLINE)
                self.successes.append(time.monotonic())
                self.longest = max(self.longest, time.monotonic() - start)
                return reply
            except grpc.RpcError as e:
                now = time.monotonic()
                self.failed_attempts.append((now, e.code().name, e.details()))
                if e.code() != grpc.StatusCode.UNAVAILABLE or \
                        now + backoff - start > RETRY_BUDGET or self.stop.is_set():
                    self.failed_calls.append((now, e.code().name, e.details()))
                    self.longest = max(self.longest, now - start)
                    return None
                time.sleep(backoff)
                backoff = min(backoff * 2, 0.4)

    def run(self):
        n = 0
        while not self.stop.is_set():
            n += 1
            if n % 2:
                self.call(self.stub.GetSession,
                          self.sched.GetSessionRequest(session_id=self.session_id))
            else:
                request_id = f"replicas-{self.index}-{n}-{uuid.uuid4().hex[:8]}"
                reply = self.call(self.stub.CreateVenue, self.sched.CreateVenueRequest(
                    request_id=request_id,
                    venue=self.sched.Venue(name=f"Replica test hall {request_id}",
                                           address="Local", time_zone="Europe/Berlin",
                                           capacity=10)))
                if reply is not None:
                    self.created[request_id] = reply.venue.id
        self.channel.close()


class LocalReplicasTest(unittest.TestCase):
    def setUp(self):
        build_dir = os.environ.get("TOWNHALL_BUILD_DIR") or os.path.join(SOURCE_DIR, "build")
        for tool in ("services/townhalld/townhalld", "clients/cpp/townhall-load-demo"):
            self.assertTrue(os.access(os.path.join(build_dir, tool), os.X_OK),
                            f"{build_dir}/{tool} is not built")
        self.assertTrue(shutil.which("haproxy"), "haproxy is not installed "
                        "(deploy/install-deps.sh installs it)")
        self.work = tempfile.mkdtemp(prefix="th-replicas-")
        self.state = os.path.join(self.work, "state")
        self.public_port = townhalld_fixture.free_port()
        self.replica_port = consecutive_free_ports(3)
        self.env = dict(
            os.environ, BUILD_DIR=build_dir, TOWNHALL_STATE=self.state,
            TOWNHALL_PORT=str(self.public_port),
            TOWNHALL_REPLICA_PORT=str(self.replica_port),
            TOWNHALL_REDIS_PORT=str(townhalld_fixture.free_port()),
            TOWNHALL_METRICS_PORT=str(consecutive_free_ports(3)))
        self.addCleanup(self.down)

    def down(self):
        pids = []
        for name in ("haproxy", "townhalld-1", "townhalld-2", "townhalld-3", "redis"):
            try:
                with open(os.path.join(self.state, f"{name}.pid")) as f:
                    pids.append((name, int(f.read())))
            except (OSError, ValueError):
                pass
        result = subprocess.run([os.path.join(SOURCE_DIR, "deploy", "local", "down.sh")],
                                env=self.env, capture_output=True, text=True, timeout=60)
        alive = [name for name, pid in pids if pid_alive(pid)]
        for name, pid in pids:  # whatever down.sh left behind
            if pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.work, ignore_errors=True)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertEqual(alive, [], f"down.sh left these running: {alive}\n{result.stdout}")

    def pid(self, name):
        with open(os.path.join(self.state, f"{name}.pid")) as f:
            return int(f.read())

    def log(self, name):
        return os.path.join(self.state, f"{name}.log")

    def test_calls_survive_sigterm_and_sigkill_of_replicas(self):
        up = subprocess.run([os.path.join(SOURCE_DIR, "deploy", "local", "up.sh"),
                             "--no-build", "--replicas=3"],
                            env=self.env, capture_output=True, text=True, timeout=240)
        self.assertEqual(up.returncode, 0, f"up.sh failed:\n{up.stdout}\n{up.stderr}")
        public = f"127.0.0.1:{self.public_port}"
        replicas = [f"127.0.0.1:{self.replica_port + i}" for i in range(3)]
        self.assertIn(f"townhall is running on {public}: haproxy", up.stdout)
        self.assertIn(" ".join(replicas), up.stdout)
        self.assertRegex(up.stdout, r"(?m)^Metrics")
        for address in [public] + replicas:
            self.assertEqual(townhalld_fixture.health_check(address),
                             townhalld_fixture.HEALTH_SERVING, address)

        sched, sched_grpc, _, _ = townhalld_fixture.import_stubs()
        with open(os.path.join(self.state, "organizer_token")) as f:
            token = f.read().strip()
        with open(os.path.join(self.state, "live_session_id")) as f:
            session_id = f.read().strip()

        stop = threading.Event()
        clients = [Client(i, public, token, session_id, sched, sched_grpc, stop)
                   for i in range(CLIENTS)]
        before = [access_log_calls(self.log(f"townhalld-{i}")) for i in (1, 2, 3)]
        started = time.monotonic()
        for c in clients:
            c.start()
        try:
            time.sleep(WARMUP)
            warm = [access_log_calls(self.log(f"townhalld-{i}")) for i in (1, 2, 3)]
            term_pid, kill_pid = self.pid("townhalld-1"), self.pid("townhalld-2")
            t_term = time.monotonic()
            os.kill(term_pid, signal.SIGTERM)
            time.sleep(PHASE)
            t_kill = time.monotonic()
            os.kill(kill_pid, signal.SIGKILL)
            time.sleep(PHASE)
            last_before = access_log_calls(self.log("townhalld-3"))
            time.sleep(1.0)
            last_after = access_log_calls(self.log("townhalld-3"))
        finally:
            stop.set()
            for c in clients:
                c.join(RETRY_BUDGET + CALL_DEADLINE + 5)
        ended = time.monotonic()

        attempts = sorted(a + (c.index,) for c in clients for a in c.failed_attempts)
        finals = sorted(a for c in clients for a in c.failed_calls)
        successes = sorted(t for c in clients for t in c.successes)
        in_term = [a for a in attempts if t_term <= a[0] < t_kill]
        in_kill = [a for a in attempts if a[0] >= t_kill]
        before_term = [a for a in attempts if a[0] < t_term]
        gaps = [b - a for a, b in zip([started] + successes, successes + [ended])]
        created = {k: v for c in clients for k, v in c.created.items()}

        def describe(failures):
            codes = {}
            for _, code, _, _ in failures:
                codes[code] = codes.get(code, 0) + 1
            return ", ".join(f"{n} {code}" for code, n in sorted(codes.items())) or "none"

        print(f"\n[ replicas ] {CLIENTS} clients through haproxy {public}, "
              f"{len(successes)} calls in {ended - started:.1f} s "
              f"(GetSession and CreateVenue in turn)", file=sys.stderr)
        print(f"[ replicas ] calls per replica in the warm-up: "
              f"{[w - b for w, b in zip(warm, before)]}", file=sys.stderr)
        print(f"[ replicas ] failed attempts: before the signals {describe(before_term)}; "
              f"SIGTERM of replica 1 (drain 1 s) {describe(in_term)}; "
              f"SIGKILL of replica 2 {describe(in_kill)}", file=sys.stderr)
        for t, code, details, index in attempts:
            print(f"[ replicas ]   +{t - started:.3f} s client {index} {code}: {details}",
                  file=sys.stderr)
        print(f"[ replicas ] calls failed after {RETRY_BUDGET:g} s of retries: "
              f"{len(finals)}; longest call with retries "
              f"{max(c.longest for c in clients) * 1000:.0f} ms; longest gap between "
              f"successes {max(gaps) * 1000:.0f} ms", file=sys.stderr)

        # Every replica served calls: calls are balanced, not connections.
        for i, (w, b) in enumerate(zip(warm, before), start=1):
            self.assertGreater(w - b, 0, f"replica {i} served no call in the warm-up")
        self.assertEqual(finals, [], "calls failed for good")
        self.assertEqual(before_term, [])
        self.assertEqual(in_term, [], "a draining replica failed calls: haproxy should "
                         "have taken it out on NOT_SERVING")
        # Only the calls in flight on the killed replica fail: one per
        # client at most, at the kill.
        per_client = [sum(1 for a in in_kill if a[3] == c.index) for c in clients]
        self.assertLessEqual(max(per_client), 1, f"failed attempts per client {per_client}")
        self.assertTrue(all(a[0] - t_kill < 0.5 * SLOWDOWN for a in in_kill),
                        "failures after the kill")
        self.assertTrue(all(code == "UNAVAILABLE" for _, code, _, _ in attempts), attempts)
        self.assertLess(max(gaps), MAX_GAP)
        self.assertGreater(last_after, last_before, "the last replica serves no calls")
        for t in (t_term, t_kill):
            self.assertTrue(any(s > t + PHASE - 1 for s in successes))

        # The replicas: one drained and exited, one killed; haproxy saw both.
        self.assertFalse(pid_alive(term_pid), "replica 1 did not exit after SIGTERM")
        self.assertFalse(pid_alive(kill_pid))
        with open(self.log("townhalld-1"), encoding="utf-8", errors="replace") as f:
            self.assertIn('"msg":"server stopped"', f.read())
        with open(self.log("haproxy"), encoding="utf-8", errors="replace") as f:
            haproxy_log = f.read()
        for i in (1, 2):
            self.assertRegex(haproxy_log, rf"Server townhalld/townhalld-{i} is DOWN")
        self.assertTrue(pid_alive(self.pid("townhalld-3")))

        # Each acknowledged CreateVenue exactly once, retries included.
        self.assertGreater(len(created), 10)
        names = {}
        with grpc.insecure_channel(public) as channel:
            stub = sched_grpc.SchedulingServiceStub(channel)
            page_token = ""
            while True:
                reply = stub.ListVenues(sched.ListVenuesRequest(page_size=500,
                                                                page_token=page_token),
                                        metadata=townhalld_fixture.auth(token), timeout=10)
                for venue in reply.venues:
                    m = re.fullmatch(r"Replica test hall (\S+)", venue.name)
                    if m:
                        names.setdefault(m.group(1), []).append(venue.id)
                page_token = reply.next_page_token
                if not page_token:
                    break
        for request_id, venue_id in created.items():
            self.assertEqual(names.get(request_id), [venue_id], request_id)
        duplicated = {k: v for k, v in names.items() if len(v) > 1}
        self.assertEqual(duplicated, {})


if __name__ == "__main__":
    unittest.main(verbosity=2)
