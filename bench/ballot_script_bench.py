#!/usr/bin/env python3
"""Redis CPU per ballot of services/polls/lua/cast_ballot.lua alone.

On an idle private Redis (deploy/local/redis.conf, AOF written but not
fsynced), without townhalld, gRPC or the load generator, to compare script
changes; bench/vote_script_bench.sh does the same for votes.

  bench/ballot_script_bench.py                   # batches of 1, 16 and 64
  SIZES="16" BALLOTS=50000 bench/ballot_script_bench.py
  SECRECY=ANONYMOUS bench/ballot_script_bench.py # first ballots only
  SCRIPT=/tmp/old_cast_ballot.lua bench/ballot_script_bench.py
                                                 # a variant (the file
                                                 # cast_ballot.lua only)

One session with one OPEN single-choice poll of 4 options and VOTERS
eligible voters (weight 1), set up in the keys cast_ballot.lua reads. Each
batch is one EVALSHA of SIZE calls as RedisEventLoop::EvalBatched sends
them: a request id each, rate-limited (at a limit that never binds), a
receipt (no view). NAMED (the default) with allow_change: every ballot
after a voter's first is a change (the option moves on), as in
run_bench.sh's ballot rows. ANONYMOUS and SECRET: every ballot is a new
voter's first. Prints, per batch size: µs per ballot inside EVALSHA
(Redis's usec of EVALSHA / ballots), of which in the commands the script
called, Redis's CPU per ballot (INFO cpu, the AOF writes included), and
the commands per ballot.
"""

import os
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The script as townhalld embeds it: the preludes, then the script
# (services/polls/CMakeLists.txt).
PRELUDES = [
    "services/common/lua/prelude.lua",
    "services/common/lua/rate_limit.lua",
    "services/common/lua/moderation_log.lua",
    "services/polls/lua/polls.lua",
]
PREFIX = "th:{s:bench:ballots}:"
OPTIONS = 4


class Redis:
    """A minimal RESP client: enough for this bench, no dependency."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.file = self.sock.makefile("rb")

    def __call__(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.sock.sendall(b"".join(out))
        return self._read()

    def _read(self):
        line = self.file.readline()
        kind, rest = line[:1], line[1:-2]
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind in (b"+", b":"):
            return rest
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self.file.read(n + 2)[:-2]
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._read() for _ in range(n)]
        raise RuntimeError("unexpected reply %r" % line)


def info(redis, section):
    fields = {}
    for line in redis("INFO", section).decode().split("\r\n"):
        if ":" in line and not line.startswith("#"):
            key, value = line.split(":", 1)
            fields[key] = value
    return fields


def command_stats(redis):
    """{command: (calls, usec)} from INFO commandstats."""
    stats = {}
    for key, value in info(redis, "commandstats").items():
        parts = dict(p.split("=") for p in value.split(","))
        stats[key[len("cmdstat_"):]] = (int(parts["calls"]), int(parts["usec"]))
    return stats


def set_up(redis, secrecy, voters):
    poll = PREFIX + "poll:p1"
    redis("HSET", poll, "def", '{"question":"bench","options":[]}', "kind",
          "POLL_KIND_SINGLE_CHOICE", "n", OPTIONS, "k", 1, "smin", 0, "smax", 0,
          "secrecy", secrecy, "change", 1 if secrecy == "NAMED" else 0,
          "state", "OPEN", "closes_at", "", "closes_ms", "", "open_time",
          "2026-12-08T00:00:00Z", "reopens", 0, "ballots", 0, "seq", 1, "unit",
          "PARTICIPANT", "eligible", voters, "eligible_w", voters, "present",
          0, "present_w", 0, "ballots_w", 0)
    redis("SADD", PREFIX + "polls:open", "p1")
    for start in range(0, voters, 1000):
        ids = ["v%d" % i for i in range(start, min(voters, start + 1000))]
        redis("HSET", poll + ":elig", *[x for v in ids for x in (v, v)])
        redis("HSET", poll + ":units", *[x for v in ids for x in (v, 1)])


def main():
    sizes = [int(s) for s in os.environ.get("SIZES", "1 16 64").split()]
    ballots = int(os.environ.get("BALLOTS", "20000"))
    secrecy = os.environ.get("SECRECY", "NAMED")
    changes = secrecy == "NAMED"
    voters = int(os.environ.get("VOTERS", "5000" if changes else
                                str(ballots * len(sizes))))
    script_path = os.environ.get(
        "SCRIPT", os.path.join(ROOT, "services/polls/lua/cast_ballot.lua"))
    script = "\n".join(
        open(os.path.join(ROOT, p)).read() for p in PRELUDES) + "\n" + open(
            script_path).read()

    work = tempfile.mkdtemp()
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    server = subprocess.Popen([
        "redis-server", os.path.join(ROOT, "deploy/local/redis.conf"),
        "--port", str(port), "--dir", work, "--appendfsync", "no",
        "--logfile", os.path.join(work, "redis.log")
    ])
    try:
        for _ in range(50):
            try:
                redis = Redis(port)
                redis("PING")
                break
            except (OSError, RuntimeError):
                time.sleep(0.1)
        set_up(redis, secrecy, voters)
        sha = redis("SCRIPT", "LOAD", script).decode()
        now_ms = str(int(time.time() * 1000))
        print("cast_ballot.lua (%s), %s voters, %d ballots per batch size, "
              "receipts, a request id each:" % (secrecy, voters, ballots))
        print("| ballots per EVALSHA | µs per ballot in EVALSHA | of which "
              "in commands | Redis CPU µs per ballot | commands per ballot |")
        print("|---:|---:|---:|---:|---:|")
        def call(voter, option, request):
            return [
                "p1", "v%d" % voter, option, 0,
                '{"optionIds":["%d"]}' % option, now_ms,
                "idem:PollService/CastBallot:bench:%s" % request, 1, 1000000,
                "", 0
            ]

        if changes:  # every voter's first ballot, before the measurement
            for start in range(0, voters, 64):
                args = []
                for voter in range(start, min(voters, start + 64)):
                    args += call(voter, voter % OPTIONS + 1, "first-%d" % voter)
                redis("EVALSHA", sha, 1, PREFIX, *args)
        n = 0
        for size in sizes:
            batches = []
            for _ in range(max(1, ballots // size)):
                args = []
                for _ in range(size):
                    # A voter's next ballot moves to the next option.
                    voter = n % voters
                    args += call(voter, (n // voters + 1 + voter) % OPTIONS + 1,
                                 n)
                    n += 1
                batches.append(args)
            redis("CONFIG", "RESETSTAT")
            cpu = info(redis, "cpu")
            cpu_before = float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"])
            for args in batches:
                reply = redis("EVALSHA", sha, 1, PREFIX, *args)
                kinds = {r[0] for r in reply}
                if not kinds <= {b"OK"}:
                    sys.exit("unexpected replies: %r" % kinds)
            cpu = info(redis, "cpu")
            cpu_s = (float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"]) -
                     cpu_before)
            stats = command_stats(redis)
            done = len(batches) * size
            calls, usec = stats.pop("evalsha")
            stats = {k: v for k, v in stats.items()
                     if k != "info" and not k.startswith("config")}
            inner_usec = sum(u for _, u in stats.values())
            inner_calls = sum(c for c, _ in stats.values())
            print("| %d | %.1f | %.1f | %.1f | %.2f |" %
                  (size, usec / done, inner_usec / done, cpu_s * 1e6 / done,
                   inner_calls / done))
    finally:
        server.terminate()
        server.wait()
        subprocess.run(["rm", "-rf", work], check=False)


if __name__ == "__main__":
    main()
