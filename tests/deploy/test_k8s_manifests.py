#!/usr/bin/python3
"""deploy/k8s: renders the base and every overlay with `kubectl kustomize`
and checks what must hold in each rendering.

  townhalld   a Deployment of >= 2 replicas whose selector matches its pods;
              native gRPC readiness, liveness (and startup) probes on the
              serving port; preStop `sleep N` with N >= --drain_delay, and
              --drain_delay above the readiness period;
              terminationGracePeriodSeconds >= preStop + drain + grace;
              the image the Dockerfile's header builds, the same in every
              rendering, and no `command` (the image's ENTRYPOINT); every
              argument a flag of `townhalld --helpfull`, and all of them
              accepted by townhalld's parser (`townhalld ARGS --version`
              exits 0); the key file and the bootstrap credential read from
              a mounted Secret; the metrics port and its scrape annotations
  all pods    runAsNonRoot with a non-zero uid (townhalld: the Dockerfile's
              USER), readOnlyRootFilesystem, no privilege escalation, CPU
              and memory requests and a memory limit
  secrets     no Secret rendered (the operator creates it), no ConfigMap
              value or env value that looks like a key or a credential,
              and every ConfigMap a pod mounts is rendered
  PDB         selects the townhalld pods, allows one disruption and keeps
              one replica
  Services    a ClusterIP and a headless Service on the gRPC port
  redis-single   a StatefulSet of one with appendonly yes / appendfsync
              always in its mounted redis.conf, its `dir` on a
              PersistentVolumeClaim, and the Service townhalld's --redis
              names
  redis-cluster  a StatefulSet of 6 with cluster-enabled and AOF on a PVC,
              its headless Service (publishNotReadyAddresses), townhalld's
              --redis_cluster seeds = its pods, and an init Job running
              `redis-cli --cluster create ... --cluster-replicas 1`

The checks are functions returning problems; MutationTest shows that each
kind of mistake is reported. Finally the base's arguments are given to a
real townhalld (addresses and files replaced by local ones), which must
reach health SERVING.

kubectl: $KUBECTL, else `kubectl` on PATH (Debian's kubernetes-client,
from deploy/install-deps.sh); missing is a failure, not a skip.

Run: TOWNHALLD=build/services/townhalld/townhalld /usr/bin/python3 tests/deploy/test_k8s_manifests.py
"""

import copy
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.normpath(os.path.join(HERE, "..", ".."))
K8S_DIR = os.path.join(SOURCE_DIR, "deploy", "k8s")
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "e2e"))
import townhalld_fixture  # noqa: E402

OVERLAYS = ["redis-single", "redis-cluster"]  # each must exist
SECRET_NAME = "townhalld-secrets"  # created by the operator, never rendered
TOWNHALLD_CONTAINER = "townhalld"
DEFAULT_SHUTDOWN_GRACE = 10.0  # townhalld's default, when the flag is absent

# Values that look like key material: long hex or base64 runs, PEM keys,
# the `<kid> <secret>` lines of an auth key file.
SECRET_PATTERNS = [
    re.compile(r"[0-9a-fA-F]{32,}"),
    re.compile(r"[A-Za-z0-9+/_-]{40,}={0,2}"),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"(?m)^\S+ [0-9a-fA-F]{32,}\s*$"),
]
SECRET_KEY_NAMES = re.compile(r"(?i)(auth_keys|credential|password|passwd|secret|token|private)")


# ---- rendering and townhalld's flags ----------------------------------------

def kubectl():
    path = os.environ.get("KUBECTL") or shutil.which("kubectl")
    if not path:
        raise AssertionError("kubectl is not installed (deploy/install-deps.sh "
                             "installs Debian's kubernetes-client)")
    return path


def render(directory):
    """The objects `kubectl kustomize directory` prints."""
    result = subprocess.run([kubectl(), "kustomize", directory],
                            capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise AssertionError(f"kubectl kustomize {directory} failed:\n{result.stderr}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def townhalld_binary():
    path = os.environ.get("TOWNHALLD") or os.path.join(
        SOURCE_DIR, "build", "services", "townhalld", "townhalld")
    if not os.access(path, os.X_OK):
        raise AssertionError(f"no townhalld at {path}: build it or set TOWNHALLD")
    return path


def townhalld_flags():
    """{flag name: default value as printed} from `townhalld --helpfull`."""
    result = subprocess.run([townhalld_binary(), "--helpfull"],
                            capture_output=True, text=True, timeout=30)
    text = result.stdout + result.stderr
    flags = {}
    # "    --name (help...); default: value;" with the help over several lines.
    for m in re.finditer(r"^\s+--(\w+) \((.*?)\);\s+default: (.*?);$", text, re.M | re.S):
        flags[m.group(1)] = m.group(3).strip()
    for builtin in ("flagfile", "fromenv", "tryfromenv", "undefok"):
        flags.setdefault(builtin, "")
    if len(flags) < 20 or "drain_delay" not in flags:
        raise AssertionError(f"could not read townhalld's flags from --helpfull:\n{text}")
    return flags


DURATION_PART = r"(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|ms|s|m|h)"


def parse_duration(text):
    """Seconds of an absl duration ("5s", "1m30s", "500ms", "0")."""
    if text in ("0", "inf"):
        return 0.0 if text == "0" else float("inf")
    if not re.fullmatch(rf"(?:{DURATION_PART})+", text):
        raise ValueError(f"not a duration: {text!r}")
    scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
    return sum(float(n) * scale[u] for n, u in
               re.findall(r"((?:\d+(?:\.\d*)?|\.\d+))(ns|us|ms|s|m|h)", text))


def townhalld_parse_error(args):
    """None when townhalld's own flag parser accepts args (`townhalld ARGS
    --version` exits 0 after parsing every flag), else its error."""
    result = subprocess.run([townhalld_binary()] + list(args) + ["--version"],
                            capture_output=True, text=True, timeout=30)
    if result.returncode == 0:
        return None
    return (result.stderr.strip() or f"exit code {result.returncode}").replace("\n", "; ")


def split_args(args):
    """[(name, value or None)] of --name[=value] arguments."""
    out = []
    for arg in args:
        m = re.fullmatch(r"--(\w+)(?:=(.*))?", arg, re.S)
        out.append((m.group(1), m.group(2)) if m else (None, arg))
    return out


# ---- helpers over rendered objects ------------------------------------------

def objects(docs, kind, name=None):
    return [d for d in docs if d.get("kind") == kind and
            (name is None or d["metadata"]["name"] == name)]


def pod_spec(workload):
    return workload["spec"]["template"]["spec"]


def pod_labels(workload):
    return workload["spec"]["template"]["metadata"].get("labels") or {}


def selects(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def workloads(docs):
    return [d for d in docs if d.get("kind") in ("Deployment", "StatefulSet", "Job",
                                                 "DaemonSet", "CronJob")]


def container(workload, name):
    found = [c for c in pod_spec(workload)["containers"] if c["name"] == name]
    return found[0] if found else None


def config_text(docs, workload, mount_path_prefix):
    """The ConfigMap files a workload mounts under mount_path_prefix:
    {mount path/file: text}."""
    spec = pod_spec(workload)
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    files = {}
    for c in spec["containers"]:
        for mount in c.get("volumeMounts", []):
            volume = volumes.get(mount["name"], {})
            if "configMap" not in volume or not mount["mountPath"].startswith(mount_path_prefix):
                continue
            for cm in objects(docs, "ConfigMap", volume["configMap"]["name"]):
                for key, text in (cm.get("data") or {}).items():
                    files[f"{mount['mountPath'].rstrip('/')}/{key}"] = text
    return files


def redis_conf(text):
    """{directive: value} of a redis.conf (last one wins, as in Redis)."""
    conf = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition(" ")
            conf[key.lower()] = value.strip()
    return conf


def dockerfile_facts():
    """(image tag of the header's `docker build -t`, USER uid) of Dockerfile."""
    with open(os.path.join(SOURCE_DIR, "Dockerfile"), encoding="utf-8") as f:
        text = f.read()
    tag = re.search(r"docker build -t (\S+) \.", text)
    user = re.findall(r"(?m)^USER\s+(\d+)", text)
    return (tag.group(1) if tag else None, int(user[-1]) if user else None)


# ---- the checks: each returns a list of problems ----------------------------

def check_townhalld(docs, flags, expected_image, image_uid):
    problems = []
    deployments = objects(docs, "Deployment", "townhalld")
    if len(deployments) != 1:
        return [f"expected one Deployment townhalld, found {len(deployments)}"]
    dep = deployments[0]
    if dep["spec"].get("replicas", 1) < 2:
        problems.append(f"replicas {dep['spec'].get('replicas', 1)} < 2")
    if not selects(dep["spec"]["selector"].get("matchLabels"), pod_labels(dep)):
        problems.append("the Deployment's selector does not match its pod labels")
    spec = pod_spec(dep)
    c = container(dep, TOWNHALLD_CONTAINER)
    if c is None:
        return problems + [f"no container {TOWNHALLD_CONTAINER}"]

    if c.get("image") != expected_image:
        problems.append(f"image {c.get('image')!r}, expected {expected_image!r}")
    if c.get("command") not in (None, ["/usr/local/bin/townhalld"]):
        problems.append(f"command {c.get('command')} overrides the image's ENTRYPOINT")

    # Arguments: known flags, typed values, no repeats.
    args = {}
    for name, value in split_args(c.get("args", [])):
        if name is None:
            problems.append(f"argument {value!r} is not a --flag")
            continue
        if name not in flags:
            problems.append(f"--{name} is not a flag of townhalld --helpfull")
            continue
        if name in args:
            problems.append(f"--{name} given twice")
        args[name] = value
    error = townhalld_parse_error(c.get("args", []))
    if error:
        problems.append(f"townhalld refuses the arguments: {error}")
    for required in ("listen", "auth_key_file"):
        if required not in args:
            problems.append(f"--{required} is missing")
    if ("redis" in args) == ("redis_cluster" in args):
        problems.append("exactly one of --redis and --redis_cluster must be given")

    ports = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
    grpc_port = ports.get("grpc")
    if grpc_port is None:
        problems.append("no container port named grpc")
    listen = args.get("listen") or ""
    if grpc_port is not None and not listen.endswith(f":{grpc_port}"):
        problems.append(f"--listen={listen} is not on the grpc port {grpc_port}")
    if listen.startswith(("0.0.0.0:", "[::]:")) and "tls_cert_file" not in args and \
            args.get("allow_insecure_non_loopback", "x") not in (None, "true"):
        problems.append("plaintext --listen on every address needs --allow_insecure_non_loopback "
                        "(townhalld refuses to start otherwise)")

    # Probes: native gRPC health on the serving port.
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        p = c.get(probe)
        if p is None:
            if probe != "startupProbe":
                problems.append(f"no {probe}")
            continue
        if "grpc" not in p:
            problems.append(f"{probe} is not a native grpc probe")
        elif p["grpc"].get("port") != grpc_port:
            problems.append(f"{probe}.grpc.port {p['grpc'].get('port')} is not the grpc port {grpc_port}")

    # Shutdown timing.
    try:
        drain = parse_duration(args.get("drain_delay") or "0")
        grace = parse_duration(args["shutdown_grace"]) if args.get("shutdown_grace") \
            else DEFAULT_SHUTDOWN_GRACE
    except ValueError:
        drain, grace = 0.0, DEFAULT_SHUTDOWN_GRACE
    if drain <= 0:
        problems.append("--drain_delay is not set: health and closing would coincide")
    pre_stop = ((c.get("lifecycle") or {}).get("preStop") or {})
    command = (pre_stop.get("exec") or {}).get("command") or []
    if "sleep" in pre_stop:  # the native sleep action (Kubernetes 1.29+)
        sleep = float(pre_stop["sleep"].get("seconds", 0))
    elif len(command) == 2 and os.path.basename(command[0]) == "sleep" and \
            re.fullmatch(r"\d+(\.\d+)?", command[1]):
        sleep = float(command[1])
    else:
        sleep = None
        problems.append(f"preStop is not `sleep N`: {pre_stop}")
    if sleep is not None and sleep < drain:
        problems.append(f"preStop sleeps {sleep:g}s, less than --drain_delay {drain:g}s")
    readiness = c.get("readinessProbe") or {}
    period = readiness.get("periodSeconds", 10)
    if drain and drain <= period:
        problems.append(f"--drain_delay {drain:g}s is not above the readiness period {period}s")
    termination = spec.get("terminationGracePeriodSeconds", 30)
    needed = (sleep or 0) + drain + grace
    if termination < needed:
        problems.append(f"terminationGracePeriodSeconds {termination} < preStop + drain + "
                        f"grace = {needed:g}")

    # Secrets: read from a mounted Secret volume.
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    mounts = {m["mountPath"].rstrip("/"): m for m in c.get("volumeMounts", [])}
    for flag in ("auth_key_file", "bootstrap_credential_file"):
        path = args.get(flag)
        if not path:
            continue
        mount = mounts.get(os.path.dirname(path))
        volume = volumes.get(mount["name"]) if mount else None
        if volume is None or "secret" not in volume:
            problems.append(f"--{flag}={path} is not in a mounted Secret volume")
        elif not mount.get("readOnly"):
            problems.append(f"the Secret volume at {mount['mountPath']} is not readOnly")
        elif volume["secret"].get("secretName") != SECRET_NAME:
            problems.append(f"--{flag} comes from Secret {volume['secret'].get('secretName')}, "
                            f"expected {SECRET_NAME}")
    for env in c.get("env", []):
        if env["name"] == "TOWNHALL_BOOTSTRAP_CREDENTIAL" and "value" in env:
            problems.append("the bootstrap credential is a literal env value")

    # Metrics: the port and the scrape annotations.
    annotations = dep["spec"]["template"]["metadata"].get("annotations") or {}
    if ports.get("metrics") is None:
        problems.append("no container port named metrics")
    else:
        want = {"prometheus.io/scrape": "true", "prometheus.io/port": str(ports["metrics"]),
                "prometheus.io/path": "/metrics"}
        for key, value in want.items():
            if annotations.get(key) != value:
                problems.append(f"pod annotation {key}={annotations.get(key)!r}, expected {value!r}")

    if image_uid is not None and spec.get("securityContext", {}).get("runAsUser") != image_uid:
        problems.append(f"runAsUser {spec.get('securityContext', {}).get('runAsUser')} is not "
                        f"the image's USER {image_uid}")

    # PodDisruptionBudget over these pods.
    replicas = dep["spec"].get("replicas", 1)
    pdbs = [p for p in objects(docs, "PodDisruptionBudget")
            if selects(p["spec"].get("selector", {}).get("matchLabels"), pod_labels(dep))]
    if not pdbs:
        problems.append("no PodDisruptionBudget selects the townhalld pods")
    for pdb in pdbs:
        if pdb.get("apiVersion") != "policy/v1":
            problems.append(f"PodDisruptionBudget apiVersion {pdb.get('apiVersion')}")
        s = pdb["spec"]
        if "maxUnavailable" in s:
            ok = isinstance(s["maxUnavailable"], int) and 1 <= s["maxUnavailable"] < replicas
        else:
            ok = isinstance(s.get("minAvailable"), int) and 1 <= s["minAvailable"] < replicas
        if not ok:
            problems.append(f"PodDisruptionBudget {s} must allow one disruption and keep "
                            f"a replica of {replicas}")

    # Services on the gRPC port: a ClusterIP and a headless one.
    kinds = set()
    for svc in objects(docs, "Service"):
        if not selects(svc["spec"].get("selector"), pod_labels(dep)):
            continue
        if not any(p.get("targetPort") in ("grpc", grpc_port) for p in svc["spec"]["ports"]):
            problems.append(f"Service {svc['metadata']['name']} does not target the grpc port")
        kinds.add("headless" if svc["spec"].get("clusterIP") == "None" else "clusterip")
    for kind in ("clusterip", "headless"):
        if kind not in kinds:
            problems.append(f"no {kind} Service selects the townhalld pods")
    return problems


def check_pods(docs):
    """Every workload: non-root, read-only root, resources."""
    problems = []
    for w in workloads(docs):
        name = f"{w['kind']} {w['metadata']['name']}"
        spec = pod_spec(w)
        pod_sc = spec.get("securityContext") or {}
        for c in spec.get("initContainers", []) + spec["containers"]:
            sc = dict(pod_sc)
            sc.update(c.get("securityContext") or {})
            where = f"{name}/{c['name']}"
            if sc.get("runAsNonRoot") is not True:
                problems.append(f"{where}: runAsNonRoot is not true")
            if not sc.get("runAsUser"):
                problems.append(f"{where}: no non-zero runAsUser")
            if (c.get("securityContext") or {}).get("readOnlyRootFilesystem") is not True:
                problems.append(f"{where}: readOnlyRootFilesystem is not true")
            if (c.get("securityContext") or {}).get("allowPrivilegeEscalation") is not False:
                problems.append(f"{where}: allowPrivilegeEscalation is not false")
            resources = c.get("resources") or {}
            for part, keys in (("requests", ("cpu", "memory")), ("limits", ("memory",))):
                for key in keys:
                    if key not in (resources.get(part) or {}):
                        problems.append(f"{where}: no {part}.{key}")
    return problems


def check_secrets(docs):
    problems = []
    for s in objects(docs, "Secret"):
        problems.append(f"Secret {s['metadata']['name']} is rendered: secrets are created "
                        "by the operator, not kept in the manifests")
    for cm in objects(docs, "ConfigMap"):
        for key, text in {**(cm.get("data") or {}), **(cm.get("binaryData") or {})}.items():
            where = f"ConfigMap {cm['metadata']['name']} {key}"
            if SECRET_KEY_NAMES.search(key):
                problems.append(f"{where}: the key's name says it holds a secret")
            for pattern in SECRET_PATTERNS:
                m = pattern.search(str(text))
                if m:
                    problems.append(f"{where}: looks like key material: {m.group(0)[:20]}...")
                    break
    for w in workloads(docs):
        for c in pod_spec(w)["containers"]:
            for env in c.get("env", []):
                value = str(env.get("value", ""))
                if any(p.search(value) for p in SECRET_PATTERNS):
                    problems.append(f"{w['metadata']['name']}/{c['name']}: env {env['name']} "
                                    "looks like key material")
        # Every ConfigMap a pod uses is rendered; Secrets are the operator's.
        for v in pod_spec(w).get("volumes", []):
            if "configMap" in v and not objects(docs, "ConfigMap", v["configMap"]["name"]):
                problems.append(f"{w['metadata']['name']}: volume {v['name']} names ConfigMap "
                                f"{v['configMap']['name']}, which is not rendered")
    return problems


def check_redis_single(docs):
    problems = []
    dep = objects(docs, "Deployment", "townhalld")[0]
    args = dict(split_args(container(dep, TOWNHALLD_CONTAINER).get("args", [])))
    host, _, port = (args.get("redis") or ":").rpartition(":")
    sets = objects(docs, "StatefulSet")
    if len(sets) != 1:
        return [f"expected one Redis StatefulSet, found {len(sets)}"]
    sts = sets[0]
    if sts["spec"].get("replicas", 1) != 1:
        problems.append(f"single Redis StatefulSet has {sts['spec'].get('replicas')} replicas")
    problems += check_redis_storage(docs, sts, cluster=False)
    services = [s for s in objects(docs, "Service", host)
                if selects(s["spec"].get("selector"), pod_labels(sts))]
    if not services or not any(str(p["port"]) == port for p in services[0]["spec"]["ports"]):
        problems.append(f"--redis={args.get('redis')}: no Service {host} on port {port} "
                        "selects the Redis pods")
    return problems


def check_redis_storage(docs, sts, cluster):
    """AOF in the mounted config, its dir on a PVC of the StatefulSet."""
    problems = []
    name = sts["metadata"]["name"]
    c = pod_spec(sts)["containers"][0]
    files = config_text(docs, sts, "/")
    command = " ".join(c.get("command", []) + c.get("args", []))
    used = [path for path in files if path in command]
    if len(used) != 1:
        return [f"{name}: its command ({command}) does not start Redis with one mounted "
                f"config file of {sorted(files)}"]
    conf = redis_conf(files[used[0]])
    if conf.get("appendonly") != "yes":
        problems.append(f"{name}: appendonly is {conf.get('appendonly')!r}, not yes")
    if conf.get("appendfsync") != "always":
        problems.append(f"{name}: appendfsync is {conf.get('appendfsync')!r}, not always")
    if conf.get("maxmemory-policy") != "noeviction":
        problems.append(f"{name}: maxmemory-policy is not noeviction")
    if cluster and conf.get("cluster-enabled") != "yes":
        problems.append(f"{name}: cluster-enabled is not yes")
    claims = {t["metadata"]["name"]: t for t in sts["spec"].get("volumeClaimTemplates", [])}
    data_dir = conf.get("dir", "").rstrip("/")
    mounts = [m for m in c.get("volumeMounts", []) if m["mountPath"].rstrip("/") == data_dir]
    if not data_dir or not mounts or mounts[0]["name"] not in claims:
        problems.append(f"{name}: Redis's dir {data_dir!r} is not on a PersistentVolumeClaim")
    else:
        claim = claims[mounts[0]["name"]]
        if not claim["spec"].get("resources", {}).get("requests", {}).get("storage"):
            problems.append(f"{name}: the volume claim requests no storage")
    return problems


def check_redis_cluster(docs):
    problems = []
    dep = objects(docs, "Deployment", "townhalld")[0]
    args = dict(split_args(container(dep, TOWNHALLD_CONTAINER).get("args", [])))
    sets = objects(docs, "StatefulSet")
    if len(sets) != 1:
        return [f"expected one Redis Cluster StatefulSet, found {len(sets)}"]
    sts = sets[0]
    name, replicas = sts["metadata"]["name"], sts["spec"].get("replicas", 1)
    if replicas != 6:
        problems.append(f"Redis Cluster StatefulSet of {replicas}, expected 6 (3 masters + 3 replicas)")
    problems += check_redis_storage(docs, sts, cluster=True)
    service_name = sts["spec"].get("serviceName")
    services = objects(docs, "Service", service_name)
    if not services or services[0]["spec"].get("clusterIP") != "None":
        problems.append(f"{name}: its serviceName {service_name} is not a headless Service")
    elif not services[0]["spec"].get("publishNotReadyAddresses"):
        problems.append(f"Service {service_name}: nodes must find each other before they are "
                        "ready (publishNotReadyAddresses)")
    seeds = (args.get("redis_cluster") or "").split(",")
    want = [f"{name}-{i}.{service_name}:6379" for i in range(replicas)]
    if sorted(seeds) != sorted(want):
        problems.append(f"--redis_cluster seeds {seeds} are not the StatefulSet's pods {want}")
    jobs = objects(docs, "Job")
    if len(jobs) != 1:
        return problems + [f"expected one cluster init Job, found {len(jobs)}"]
    job = jobs[0]
    scripts = "\n".join(config_text(docs, job, "/").values())
    if "--cluster create" not in scripts or "--cluster-replicas 1" not in scripts:
        problems.append("the init Job's script does not run redis-cli --cluster create "
                        "--cluster-replicas 1")
    env = {e["name"]: e.get("value") for c in pod_spec(job)["containers"] for e in c.get("env", [])}
    if env.get("REDIS_CLUSTER_SERVICE") != service_name or \
            env.get("REDIS_CLUSTER_NODES") != str(replicas):
        problems.append(f"the init Job's env {env} does not name {service_name} and {replicas} nodes")
    return problems


# ---- the tests --------------------------------------------------------------

RENDERED = {}
FLAGS = None
IMAGE = None
IMAGE_UID = None


def setUpModule():
    global FLAGS, IMAGE, IMAGE_UID
    FLAGS = townhalld_flags()
    IMAGE, IMAGE_UID = dockerfile_facts()
    found = sorted(os.listdir(os.path.join(K8S_DIR, "overlays")))
    for overlay in OVERLAYS:
        if overlay not in found:
            raise AssertionError(f"deploy/k8s/overlays/{overlay} is missing")
    RENDERED["base"] = render(os.path.join(K8S_DIR, "base"))
    for overlay in found:
        RENDERED[overlay] = render(os.path.join(K8S_DIR, "overlays", overlay))


class ManifestTest(unittest.TestCase):
    def assertNoProblems(self, problems, where):
        self.assertEqual(problems, [], f"{where}:\n  " + "\n  ".join(problems))

    def test_dockerfile_names_image_and_user(self):
        self.assertIsNotNone(IMAGE, "Dockerfile: no `docker build -t IMAGE .` in its header")
        self.assertIsNotNone(IMAGE_UID, "Dockerfile: no numeric USER")
        self.assertNotEqual(IMAGE_UID, 0)

    def test_townhalld(self):
        for name, docs in RENDERED.items():
            with self.subTest(rendering=name):
                self.assertNoProblems(check_townhalld(docs, FLAGS, IMAGE, IMAGE_UID), name)

    def test_pods_non_root_read_only_with_resources(self):
        for name, docs in RENDERED.items():
            with self.subTest(rendering=name):
                self.assertTrue(workloads(docs))
                self.assertNoProblems(check_pods(docs), name)

    def test_no_secret_in_manifests(self):
        for name, docs in RENDERED.items():
            with self.subTest(rendering=name):
                self.assertNoProblems(check_secrets(docs), name)

    def test_redis_single(self):
        self.assertNoProblems(check_redis_single(RENDERED["redis-single"]), "redis-single")

    def test_redis_cluster(self):
        self.assertNoProblems(check_redis_cluster(RENDERED["redis-cluster"]), "redis-cluster")

    def test_same_image_everywhere(self):
        images = {name: container(objects(docs, "Deployment", "townhalld")[0],
                                  TOWNHALLD_CONTAINER)["image"]
                  for name, docs in RENDERED.items()}
        self.assertEqual(set(images.values()), {IMAGE}, images)

    def test_docs_name_the_image_and_overlays(self):
        with open(os.path.join(SOURCE_DIR, "docs", "operations.md"), encoding="utf-8") as f:
            ops = f.read()
        self.assertTrue(f"docker build -t {IMAGE} ." in ops,
                        f"docs/operations.md does not say `docker build -t {IMAGE} .`")
        with open(os.path.join(SOURCE_DIR, "README.md"), encoding="utf-8") as f:
            readme = f.read()
        for overlay in OVERLAYS:
            for name, text in (("docs/operations.md", ops), ("README.md", readme)):
                self.assertTrue(f"deploy/k8s/overlays/{overlay}" in text,
                                f"{name} does not name deploy/k8s/overlays/{overlay}")


class MutationTest(unittest.TestCase):
    """Each kind of mistake in a rendering is reported."""

    def mutated(self, rendering, change):
        docs = copy.deepcopy(RENDERED[rendering])
        change(docs)
        return docs

    def townhalld(self, docs):
        return container(objects(docs, "Deployment", "townhalld")[0], TOWNHALLD_CONTAINER)

    def expect(self, problems, fragment):
        self.assertTrue(any(fragment in p for p in problems),
                        f"expected a problem with {fragment!r}, got {problems}")

    def test_the_renderings_pass_before_mutation(self):
        docs = RENDERED["redis-single"]
        self.assertEqual(check_townhalld(docs, FLAGS, IMAGE, IMAGE_UID) + check_pods(docs)
                         + check_secrets(docs) + check_redis_single(docs), [])

    def test_mistakes_are_reported(self):
        def set_arg(name, value):
            def change(docs):
                args = self.townhalld(docs)["args"]
                args[:] = [a for a in args if not a.startswith(f"--{name}=")] + [f"--{name}={value}"]
            return change

        def townhalld_field(path, value):
            def change(docs):
                node = self.townhalld(docs)
                for key in path[:-1]:
                    node = node[key]
                if value is None:
                    del node[path[-1]]
                else:
                    node[path[-1]] = value
            return change

        def dep_spec(key, value):
            def change(docs):
                objects(docs, "Deployment", "townhalld")[0]["spec"][key] = value
            return change

        def pod(key, value):
            def change(docs):
                pod_spec(objects(docs, "Deployment", "townhalld")[0])[key] = value
            return change

        def add_secret_configmap(docs):
            docs.append({"apiVersion": "v1", "kind": "ConfigMap",
                         "metadata": {"name": "leak"},
                         "data": {"keys": "k1 " + "ab" * 32 + "\n"}})

        def pdb_selector(docs):
            objects(docs, "PodDisruptionBudget")[0]["spec"]["selector"]["matchLabels"] = {"x": "y"}

        def aof_off(docs):
            for cm in objects(docs, "ConfigMap"):
                for key in cm.get("data", {}):
                    cm["data"][key] = cm["data"][key].replace("appendonly yes", "appendonly no")

        cases = [
            ("redis-single", set_arg("no_such_flag", "1"), "not a flag of townhalld"),
            ("redis-single", set_arg("drain_delay", "5"), "Illegal value '5'"),
            ("redis-single", set_arg("drain_delay", "9s"), "less than --drain_delay"),
            ("redis-single", set_arg("shutdown_grace", "60s"), "terminationGracePeriodSeconds"),
            ("redis-single", townhalld_field(["readinessProbe"], {"tcpSocket": {"port": 50051}}),
             "readinessProbe is not a native grpc probe"),
            ("redis-single", townhalld_field(["livenessProbe"], None), "no livenessProbe"),
            ("redis-single", townhalld_field(["image"], "townhalld:other"), "image"),
            ("redis-single", dep_spec("replicas", 1), "replicas 1 < 2"),
            ("redis-single", pod("securityContext", {"runAsUser": 0}), "runAsNonRoot"),
            ("redis-single", townhalld_field(["securityContext", "readOnlyRootFilesystem"], False),
             "readOnlyRootFilesystem"),
            ("redis-single", townhalld_field(["resources"], {}), "no requests.cpu"),
            ("redis-single", pdb_selector, "no PodDisruptionBudget selects"),
            ("redis-single", add_secret_configmap, "looks like key material"),
            ("redis-single", set_arg("auth_key_file", "/etc/keys/auth_keys"),
             "not in a mounted Secret volume"),
            ("redis-single", aof_off, "appendonly"),
            ("redis-cluster", set_arg("redis_cluster", "redis-cluster-0.redis-cluster:6379"),
             "seeds"),
        ]
        checks = {"redis-single": check_redis_single, "redis-cluster": check_redis_cluster}
        for rendering, change, fragment in cases:
            with self.subTest(fragment=fragment):
                docs = self.mutated(rendering, change)
                self.expect(check_townhalld(docs, FLAGS, IMAGE, IMAGE_UID) + check_pods(docs)
                            + check_secrets(docs) + checks[rendering](docs), fragment)


class BaseArgsStartTownhalldTest(unittest.TestCase):
    """townhalld starts with the base's arguments: only the addresses and
    the secret files are replaced by local ones."""

    def test_townhalld_starts_with_the_base_args(self):
        dep = objects(RENDERED["base"], "Deployment", "townhalld")[0]
        args = container(dep, TOWNHALLD_CONTAINER)["args"]
        work = tempfile.mkdtemp(prefix="th-k8s-args-")
        redis = None
        process = None
        try:
            redis_address = os.environ.get("TOWNHALL_TEST_REDIS")
            if not redis_address:
                redis = townhalld_fixture.RedisServer(workdir=os.path.join(work, "redis"))
                os.mkdir(redis.dir)
                redis_address = redis.start().address
            keys = os.path.join(work, "auth_keys")
            credential = os.path.join(work, "bootstrap_credential")
            with open(keys, "w") as f:
                f.write("k1 " + os.urandom(32).hex() + "\n")
            with open(credential, "w") as f:
                f.write(os.urandom(24).hex() + "\n")
            port = townhalld_fixture.free_port()
            local = {"listen": f"127.0.0.1:{port}", "redis": redis_address,
                     "auth_key_file": keys, "bootstrap_credential_file": credential}
            run_args = []
            for name, value in split_args(args):
                run_args.append(f"--{name}={local[name]}" if name in local else
                                (f"--{name}" if value is None else f"--{name}={value}"))
            self.assertEqual(len(run_args), len(args))
            log_path = os.path.join(work, "townhalld.log")
            with open(log_path, "wb") as log:
                process = subprocess.Popen([townhalld_binary()] + run_args,
                                           stdin=subprocess.DEVNULL, stdout=log, stderr=log)
            deadline = time.monotonic() + 20
            status = None
            while time.monotonic() < deadline and process.poll() is None:
                try:
                    status = townhalld_fixture.health_check(f"127.0.0.1:{port}", timeout=1)
                    if status == townhalld_fixture.HEALTH_SERVING:
                        break
                except Exception:  # noqa: BLE001 - not listening yet
                    pass
                time.sleep(0.1)
            with open(log_path, encoding="utf-8", errors="replace") as f:
                log_text = f.read()
            self.assertEqual(status, townhalld_fixture.HEALTH_SERVING,
                             f"townhalld {' '.join(run_args)}\nexit {process.poll()}\n{log_text}")
        finally:
            if process is not None and process.poll() is None:
                process.kill()  # SIGTERM would wait out the 5 s --drain_delay
                process.wait()
            if redis is not None:
                redis.stop()
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
