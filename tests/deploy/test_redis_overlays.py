#!/usr/bin/python3
"""The Redis pieces of deploy/k8s, run on this machine's Redis 7.0 (the
version the overlays' image pins):

  redis-single   redis-server starts with overlays/redis-single/redis.conf
                 (only port and bind overridden, /data moved to a temp dir): appendonly yes,
                 appendfsync always, noeviction, and a write lands in the
                 AOF directory
  redis-cluster  six nodes start with overlays/redis-cluster/redis-cluster.conf;
                 cluster-init.sh (the init Job's script, run with /bin/sh)
                 forms 3 masters + 3 replicas, every node cluster_state:ok
                 and each master with one replica; run again it changes
                 nothing and exits 0; given a seventh, empty node it refuses
                 to touch the cluster and exits 1; townhalld, with seeds
                 spelled as host names as the overlay spells them, serves a
                 call on the cluster

Run: TOWNHALLD=build/services/townhalld/townhalld TOWNHALL_PYTHON_DIR=build/python \
     /usr/bin/python3 tests/deploy/test_redis_overlays.py
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.normpath(os.path.join(HERE, "..", ".."))
OVERLAYS = os.path.join(SOURCE_DIR, "deploy", "k8s", "overlays")
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "e2e"))
import townhalld_fixture  # noqa: E402

SINGLE_CONF = os.path.join(OVERLAYS, "redis-single", "redis.conf")
CLUSTER_CONF = os.path.join(OVERLAYS, "redis-cluster", "redis-cluster.conf")
CLUSTER_INIT = os.path.join(OVERLAYS, "redis-cluster", "cluster-init.sh")


def free_port_with_bus():
    """A free port whose cluster bus port (+10000) is free too."""
    while True:
        port = townhalld_fixture.free_port()
        if port + 10000 > 65535:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + 10000))
                return port
            except OSError:
                continue


class Node:
    def __init__(self, conf, workdir):
        self.port = free_port_with_bus()
        self.address = f"127.0.0.1:{self.port}"
        self.dir = os.path.join(workdir, str(self.port))
        os.mkdir(self.dir)
        # The overlay's file with its /data (the volume) moved to a temp
        # dir, then only the address differs (later arguments win).
        with open(conf) as f:
            text = f.read()
        lines = []
        for line in text.splitlines():
            if line.startswith(("dir ", "cluster-config-file ")):
                line = line.replace(" /data", " " + self.dir, 1)
            lines.append(line)
        self.conf = os.path.join(self.dir, os.path.basename(conf))
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        if "dir /data" not in text:
            raise AssertionError(f"{conf}: no `dir /data` (the volume's mount path)")
        extra = ["--port", str(self.port), "--bind", "127.0.0.1",
                 "--logfile", os.path.join(self.dir, "redis.log")]
        self.stderr_path = os.path.join(self.dir, "stderr")
        with open(self.stderr_path, "wb") as stderr:
            self.process = subprocess.Popen(
                ["redis-server", self.conf] + extra, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=stderr,
                preexec_fn=townhalld_fixture._die_with_parent)
        deadline = time.monotonic() + 10
        while not townhalld_fixture.port_open("127.0.0.1", self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    f"redis-server {conf} did not start: {self.log()}")
            time.sleep(0.05)

    def log(self):
        text = ""
        for name in ("stderr", "redis.log"):
            try:
                with open(os.path.join(self.dir, name), errors="replace") as f:
                    text += f.read()[-3000:]
            except OSError:
                pass
        return text

    def cli(self, *args):
        return subprocess.run(["redis-cli", "-p", str(self.port)] + list(args),
                              capture_output=True, text=True, timeout=10, check=True).stdout

    def info(self):
        return dict(line.split(":", 1) for line in self.cli("cluster", "info").split()
                    if ":" in line)

    def stop(self):
        townhalld_fixture.stop_process(self.process, 10)


def run_init(addresses, timeout=120):
    env = dict(os.environ, REDIS_CLUSTER_ADDRESSES=" ".join(addresses),
               REDIS_CLUSTER_WAIT="30")
    return subprocess.run(["/bin/sh", CLUSTER_INIT], capture_output=True, text=True,
                          env=env, timeout=timeout)


class RedisSingleConfTest(unittest.TestCase):
    def test_redis_conf_starts_with_aof(self):
        work = tempfile.mkdtemp(prefix="th-redis-single-")
        node = None
        try:
            node = Node(SINGLE_CONF, work)
            for key, value in (("appendonly", "yes"), ("appendfsync", "always"),
                               ("maxmemory-policy", "noeviction"), ("save", "")):
                self.assertEqual(node.cli("config", "get", key).split("\n")[1], value, key)
            node.cli("set", "th:probe", "1")
            aof_dir = os.path.join(node.dir, "appendonlydir")
            self.assertTrue(os.path.isdir(aof_dir), os.listdir(node.dir))
            appended = ""
            for name in os.listdir(aof_dir):
                if ".incr." in name:
                    with open(os.path.join(aof_dir, name), errors="replace") as f:
                        appended += f.read()
            self.assertIn("th:probe", appended)
        finally:
            if node:
                node.stop()
            shutil.rmtree(work, ignore_errors=True)


class RedisClusterInitTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="th-redis-cluster-")
        cls.nodes = []
        try:
            for _ in range(6):
                cls.nodes.append(Node(CLUSTER_CONF, cls.work))
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for node in cls.nodes:
            node.stop()
        shutil.rmtree(cls.work, ignore_errors=True)

    def roles(self):
        """{node id: (role, master id or None)} from CLUSTER NODES."""
        roles = {}
        for line in self.nodes[0].cli("cluster", "nodes").splitlines():
            fields = line.split()
            role = "master" if "master" in fields[2].split(",") else "replica"
            roles[fields[0]] = (role, None if fields[3] == "-" else fields[3])
        return roles

    def test_1_forms_the_cluster(self):
        result = run_init([n.address for n in self.nodes])
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        # The replicas' CLUSTER REPLICATE reaches the other nodes by gossip:
        # wait for the view from node 0 to settle too, not only for "ok".
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            infos = [n.info() for n in self.nodes]
            roles = self.roles()
            if (all(i.get("cluster_state") == "ok" and i.get("cluster_known_nodes") == "6"
                    for i in infos)
                    and sum(1 for r, _ in roles.values() if r == "master") == 3):
                break
            time.sleep(0.2)
        self.assertTrue(all(i.get("cluster_state") == "ok" for i in infos), infos)
        masters = [i for i, (r, _) in roles.items() if r == "master"]
        replicas = [m for r, m in roles.values() if r == "replica"]
        self.assertEqual(len(masters), 3, roles)
        self.assertEqual(sorted(replicas), sorted(masters), roles)  # one replica each
        self.assertEqual(self.nodes[0].info()["cluster_slots_assigned"], "16384")

    def test_2_again_changes_nothing(self):
        before = self.roles()
        result = run_init([n.address for n in self.nodes])
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("already formed", result.stderr)
        self.assertEqual(self.roles(), before)

    def test_3_refuses_a_partly_formed_cluster(self):
        extra = Node(CLUSTER_CONF, self.work)
        try:
            result = run_init([n.address for n in self.nodes] + [extra.address])
            self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
            self.assertIn("partly formed", result.stderr)
            self.assertEqual(extra.info()["cluster_known_nodes"], "1")
            self.assertEqual(self.nodes[0].info()["cluster_known_nodes"], "6")
        finally:
            extra.stop()

    def test_4_townhalld_with_host_name_seeds(self):
        # As the overlay: seeds by name (resolved by townhalld), not by IP.
        seeds = ",".join(f"localhost:{n.port}" for n in self.nodes[:3])
        fixture = townhalld_fixture.TownhalldFixture(redis="127.0.0.1:1", start_redis=False)
        fixture.redis_cluster = seeds
        try:
            fixture.start()
            tenant, token = fixture.create_tenant()
            self.assertTrue(token)
            self.assertIn(f"cluster", fixture.log_tail(200))
        finally:
            fixture.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
