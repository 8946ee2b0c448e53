#!/usr/bin/python3
"""Runs a real townhalld (and, when needed, a Redis) for end-to-end tests.

Used as a module by the python tests:

    fixture = TownhalldFixture()       # reads TOWNHALLD, TOWNHALL_PYTHON_DIR
    fixture.start()                    # Redis + townhalld, waits for SERVING
    tenant_id, token = fixture.create_tenant()
    ...
    fixture.stop()

and as a program by the shell tests:

    /usr/bin/python3 townhalld_fixture.py --print-env > env.txt &
    # env.txt receives KEY=VALUE lines, then a line "READY"; the fixture
    # runs until it gets SIGTERM/SIGINT, its stdin closes (with
    # --stop-on-stdin-eof) or its parent process exits.
    /usr/bin/python3 townhalld_fixture.py --print-env --redis-only=PORT &
    # the same for a lone redis-server on a chosen port (to stop and restart
    # Redis under a running townhalld).

Children (townhalld, redis-server) get SIGTERM when the fixture dies, even
when it is killed by a ctest timeout.

Inputs (environment or flags):
  TOWNHALLD            path of the townhalld binary        (--townhalld)
  TOWNHALL_PYTHON_DIR  directory of the generated stubs    (--python-dir)
  TOWNHALL_TEST_REDIS  host:port of a Redis to share; when unset, the
                       fixture starts a private redis-server on a free port.
  TOWNHALL_TEST_REDIS_CLUSTER  seed nodes (host:port,host:port) of a Redis
                       Cluster to share instead: townhalld gets
                       --redis_cluster (unless --redis is given).

Only /usr/bin/python3 has Debian's grpcio; run this file with it.
"""

import argparse
import ctypes
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import grpc

HEALTH_SERVING = 1
HEALTH_NOT_SERVING = 2
_HEALTH_NAMES = {0: "UNKNOWN", 1: "SERVING", 2: "NOT_SERVING", 3: "SERVICE_UNKNOWN"}


def _find_python_dir():
    path = os.environ.get("TOWNHALL_PYTHON_DIR")
    if path:
        return path
    # Fallback for a manual run from the source tree with the default build dir.
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.normpath(os.path.join(here, "..", "..", "build", "python"))


def import_stubs(python_dir=None):
    """Puts the generated stubs on sys.path and returns the modules."""
    python_dir = python_dir or _find_python_dir()
    if not os.path.isfile(os.path.join(python_dir, "townhall", "v1", "tenant_pb2.py")):
        raise RuntimeError(
            f"no generated python stubs in {python_dir}: build the "
            "townhall_python_stubs target (or set TOWNHALL_PYTHON_DIR)")
    if python_dir not in sys.path:
        sys.path.insert(0, python_dir)
    from townhall.v1 import scheduling_pb2, scheduling_pb2_grpc  # noqa: E402
    from townhall.v1 import tenant_pb2, tenant_pb2_grpc  # noqa: E402
    return scheduling_pb2, scheduling_pb2_grpc, tenant_pb2, tenant_pb2_grpc


def _die_with_parent():
    """preexec_fn: the child gets SIGTERM when this process dies, even by
    SIGKILL (a ctest timeout), so no townhalld or Redis is left behind."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def auth(token):
    """gRPC metadata carrying `token` as the bearer credential."""
    return (("authorization", f"Bearer {token}"),)


def stop_process(process, timeout):
    """SIGTERM, then SIGKILL after `timeout` s; True when it exited in time."""
    if process.poll() is not None:
        return True
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
        return True
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return False


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(host, port):
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


# grpc.health.v1 without generated code (Debian has no python3-grpcio-health):
# HealthCheckRequest {string service = 1;} / HealthCheckResponse {enum status = 1;}
def _encode_health_request(service):
    data = service.encode()
    out = bytearray(b"\x0a" if data else b"")
    if data:
        n = len(data)
        while n >= 0x80:
            out.append((n & 0x7F) | 0x80)
            n >>= 7
        out.append(n)
        out += data
    return bytes(out)


def _decode_health_response(data):
    status, i = 0, 0
    while i < len(data):
        tag = data[i]
        i += 1
        value, shift = 0, 0
        while True:  # every field of this message is a varint
            b = data[i]
            i += 1
            value |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        if tag == 0x08:
            status = value
    return status


def health_check(address, service="", timeout=2.0):
    """Returns the grpc.health.v1 status number, or raises grpc.RpcError."""
    with grpc.insecure_channel(address) as channel:
        check = channel.unary_unary(
            "/grpc.health.v1.Health/Check",
            request_serializer=_encode_health_request,
            response_deserializer=_decode_health_response)
        return check(service, timeout=timeout)


def health_name(status):
    return _HEALTH_NAMES.get(status, str(status))


class RedisServer:
    """A private redis-server on 127.0.0.1:port (a free one by default)."""

    def __init__(self, port=None, workdir=None):
        self.port = port or free_port()
        self.address = f"127.0.0.1:{self.port}"
        self._own_dir = workdir is None
        self.dir = workdir or tempfile.mkdtemp(prefix="th-e2e-redis-")
        self.process = None

    def start(self, timeout=10.0):
        redis = shutil.which("redis-server")
        if redis is None:
            raise RuntimeError("redis-server is not installed")
        self.process = subprocess.Popen(
            [redis, "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", self.dir,
             "--logfile", os.path.join(self.dir, "redis.log")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"redis-server exited with {self.process.returncode}; see "
                    f"{self.dir}/redis.log")
            if port_open("127.0.0.1", self.port):
                return self
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not listen on {self.address}")

    def stop(self):
        if self.process is not None:
            stop_process(self.process, 5)
        self.process = None
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)


class TownhalldFixture:
    """Redis (shared or private) + townhalld + auth files in a temp dir."""

    def __init__(self, binary=None, python_dir=None, redis=None,
                 start_redis=None, extra_args=()):
        self.binary = binary or os.environ.get("TOWNHALLD")
        if not self.binary:
            here = os.path.dirname(os.path.abspath(__file__))
            self.binary = os.path.normpath(os.path.join(
                here, "..", "..", "build", "services", "townhalld", "townhalld"))
        if not os.access(self.binary, os.X_OK):
            raise RuntimeError(
                f"townhalld binary {self.binary} not found: build the townhalld "
                "target (or set TOWNHALLD)")
        self.python_dir = python_dir or _find_python_dir()
        # redis: explicit address (a server may or may not listen there),
        # else the cluster of TOWNHALL_TEST_REDIS_CLUSTER, else
        # TOWNHALL_TEST_REDIS, else a private redis-server.
        self.redis_cluster = None if redis else (
            os.environ.get("TOWNHALL_TEST_REDIS_CLUSTER") or None)
        self.redis_address = redis or os.environ.get("TOWNHALL_TEST_REDIS") or None
        if start_redis is None:
            start_redis = self.redis_address is None and self.redis_cluster is None
        elif start_redis:
            self.redis_cluster = None  # a Redis of its own, also in the cluster pass
        self._start_redis = start_redis
        self.extra_args = list(extra_args)
        self.redis = None
        self.process = None
        self.port = None
        self.address = None
        self.dir = None
        self.log_path = None
        self.bootstrap_credential = None

    # -- life cycle ---------------------------------------------------------

    def start(self, wait_for="serving", timeout=20.0):
        """Starts everything. wait_for: "serving" (health SERVING), "any"
        (health answers, whatever the status) or "none"."""
        try:
            self._start(wait_for, timeout)
        except BaseException:
            self.stop(dump_log=True)
            raise
        return self

    def _start(self, wait_for, timeout):
        self.dir = tempfile.mkdtemp(prefix="th-e2e-")
        if self._start_redis:
            self.redis = RedisServer(workdir=os.path.join(self.dir, "redis"))
            os.mkdir(self.redis.dir)
            self.redis.start()
            self.redis_address = self.redis.address
        key_file = os.path.join(self.dir, "auth_keys")
        credential_file = os.path.join(self.dir, "bootstrap_credential")
        self.bootstrap_credential = secrets.token_urlsafe(32)
        self._write_private(key_file,
                            "# e2e test keys\n"
                            f"e2e-{secrets.token_hex(4)} {secrets.token_hex(32)}\n")
        self._write_private(credential_file, self.bootstrap_credential + "\n")
        self.log_path = os.path.join(self.dir, "townhalld.log")

        for attempt in range(3):
            self.port = free_port()
            self.address = f"127.0.0.1:{self.port}"
            args = [self.binary, f"--listen={self.address}",
                    f"--redis_cluster={self.redis_cluster}" if self.redis_cluster
                    else f"--redis={self.redis_address}",
                    f"--auth_key_file={key_file}",
                    f"--bootstrap_credential_file={credential_file}",
                    "--shutdown_grace=2s"] + self.extra_args
            with open(self.log_path, "ab") as log:
                self.process = subprocess.Popen(
                    args, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                    preexec_fn=_die_with_parent)
            if self._wait_ready(wait_for, timeout):
                return
            if self.process.poll() is not None and attempt < 2 and \
                    "cannot listen" in self.log_tail():
                continue  # lost the race for the free port
            raise RuntimeError(
                f"townhalld did not become ready ({wait_for}) within {timeout}s; "
                f"exit code {self.process.poll()}; log:\n{self.log_tail()}")

    def _wait_ready(self, wait_for, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            if wait_for == "none":
                if port_open("127.0.0.1", self.port):
                    return True
            else:
                try:
                    status = health_check(self.address, "", timeout=1.0)
                    if wait_for == "any" or status == HEALTH_SERVING:
                        return True
                except grpc.RpcError:
                    pass
            time.sleep(0.1)
        return False

    def stop(self, dump_log=False):
        if self.process is not None:
            if self.process.poll() is None:
                if not stop_process(self.process, 10):
                    dump_log = True
                    print("townhalld did not stop within 10s of SIGTERM",
                          file=sys.stderr)
            elif self.process.returncode not in (0, None):
                dump_log = True
        if dump_log and self.log_path and os.path.exists(self.log_path):
            print(f"--- last lines of {self.log_path} ---\n{self.log_tail()}",
                  file=sys.stderr)
        self.process = None
        if self.redis is not None:
            self.redis.stop()
            self.redis = None
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop(dump_log=exc[0] is not None)

    def log_tail(self, lines=40):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return "(no log)"

    @staticmethod
    def _write_private(path, text):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)

    # -- clients ------------------------------------------------------------

    def channel(self):
        return grpc.insecure_channel(self.address)

    def health(self, service=""):
        return health_check(self.address, service)

    def create_tenant(self, tenant_id=None, display_name=None, subject="organizer@e2e.test"):
        """Creates a tenant with the bootstrap credential and returns
        (tenant_id, organizer token)."""
        _, _, tenant_pb2, tenant_pb2_grpc = import_stubs(self.python_dir)
        tenant_id = tenant_id or f"e2e-{secrets.token_hex(6)}"
        auth = (("authorization", f"Bearer {self.bootstrap_credential}"),)
        with self.channel() as channel:
            stub = tenant_pb2_grpc.TenantServiceStub(channel)
            stub.CreateTenant(tenant_pb2.CreateTenantRequest(tenant=tenant_pb2.Tenant(
                id=tenant_id,
                display_name=display_name or f"E2E organizer {tenant_id}")),
                metadata=auth, timeout=10)
            reply = stub.IssueToken(tenant_pb2.IssueTokenRequest(
                tenant_id=tenant_id, subject=subject, role="organizer"),
                metadata=auth, timeout=10)
        if not reply.token:
            raise RuntimeError("IssueToken returned an empty token")
        return tenant_id, reply.token


def _wait_until_told_to_stop(stopping, parent, child):
    """Returns when a signal arrived, the parent died or `child` exited
    (then False)."""
    while not stopping and os.getppid() == parent:
        if child.poll() is not None:
            return False
        time.sleep(0.2)
    return True


def _on_signal_append(stopping):
    def handler(signum, frame):
        stopping.append(signum)
    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def _run_redis_only(port):
    stopping = []
    _on_signal_append(stopping)
    parent = os.getppid()
    redis = RedisServer(port=port)
    try:
        redis.start()
        print(f"TOWNHALL_REDIS={redis.address}")
        print(f"TOWNHALL_REDIS_PID={redis.process.pid}")
        print("READY", flush=True)
        if not _wait_until_told_to_stop(stopping, parent, redis.process):
            print(f"redis-server exited with {redis.process.returncode}", file=sys.stderr)
            return 1
        return 0
    except Exception as e:  # noqa: BLE001 - report and exit non-zero
        print(f"fixture: {e}", file=sys.stderr)
        return 1
    finally:
        redis.stop()


def _main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--townhalld", help="townhalld binary (default $TOWNHALLD)")
    parser.add_argument("--python-dir", help="generated stubs (default $TOWNHALL_PYTHON_DIR)")
    parser.add_argument("--redis", help="Redis address to use; no Redis is started "
                        "(default $TOWNHALL_TEST_REDIS_CLUSTER, else "
                        "$TOWNHALL_TEST_REDIS, else a private one)")
    parser.add_argument("--print-env", action="store_true",
                        help="print TOWNHALL_* variables, then READY, and run "
                        "until SIGTERM/SIGINT or the parent exits")
    parser.add_argument("--wait-for", choices=("serving", "any", "none"),
                        default="serving",
                        help="readiness: health SERVING (default), any health "
                        "answer, or the port accepting connections")
    parser.add_argument("--no-tenant", action="store_true",
                        help="do not create a tenant and token")
    parser.add_argument("--redis-only", type=int, metavar="PORT",
                        help="with --print-env: run only a redis-server on "
                        "127.0.0.1:PORT (for tests that stop and restart Redis)")
    parser.add_argument("--stop-on-stdin-eof", action="store_true")
    args = parser.parse_args()
    if not args.print_env:
        parser.error("nothing to do: pass --print-env")
    if args.redis_only:
        return _run_redis_only(args.redis_only)

    fixture = TownhalldFixture(binary=args.townhalld, python_dir=args.python_dir,
                               redis=args.redis,
                               start_redis=False if args.redis else None)
    stopping = []
    _on_signal_append(stopping)
    parent = os.getppid()
    try:
        fixture.start(wait_for=args.wait_for)
        env = {
            "TOWNHALL_ADDR": fixture.address,
            "TOWNHALL_PORT": str(fixture.port),
            "TOWNHALL_SERVER_PID": str(fixture.process.pid),
            "TOWNHALL_REDIS": fixture.redis_cluster or fixture.redis_address,
            "TOWNHALL_BOOTSTRAP_CREDENTIAL": fixture.bootstrap_credential,
        }
        if not args.no_tenant:
            env["TOWNHALL_TENANT"], env["TOWNHALL_TOKEN"] = fixture.create_tenant()
        for key, value in env.items():
            print(f"{key}={value}")
        print("READY", flush=True)
        if args.stop_on_stdin_eof:
            import threading
            threading.Thread(target=lambda: (sys.stdin.read(), stopping.append("eof")),
                             daemon=True).start()
        if not _wait_until_told_to_stop(stopping, parent, fixture.process):
            print(f"townhalld exited with {fixture.process.returncode}",
                  file=sys.stderr)
            fixture.stop(dump_log=True)
            return 1
        return 0
    except Exception as e:  # noqa: BLE001 - report and exit non-zero
        print(f"fixture: {e}", file=sys.stderr)
        return 1
    finally:
        fixture.stop()


if __name__ == "__main__":
    sys.exit(_main())
