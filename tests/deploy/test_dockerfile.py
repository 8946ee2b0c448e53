#!/usr/bin/python3
"""The Dockerfile, checked without Docker (the test machines have none, so
the image is not built in CI):

  bases       two stages, `build` FROM debian:bookworm and the image FROM
              debian:bookworm-slim (a digest may follow)
  build       its apt packages are packages of deploy/install-deps.sh, and
              every build package there (-dev, compilers, cmake, lld; not
              the fuzzing toolchain) is among them; it copies only source
              directories (never `.`, never .local/), and those alone
              configure with cmake into a tree with a townhalld target (run
              here: cmake configure of a copy of just those paths); it
              builds `--target townhalld`
  runtime     its apt packages cover the Debian package of every shared
              library `ldd townhalld` lists (dpkg -S), plus tzdata (time
              zones are read from /usr/share/zoneinfo), and no -dev package;
              townhalld is copied from the build stage to the ENTRYPOINT's
              path; the last USER is a numeric non-zero uid that useradd
              creates
  secrets     no COPY/ADD of keys or credentials, no ENV/ARG naming one;
              .dockerignore excludes .local/ and the build trees

MutationTest shows that each kind of mistake is reported.

Run: TOWNHALLD=build/services/townhalld/townhalld /usr/bin/python3 tests/deploy/test_dockerfile.py
"""

import os
import re
import shutil
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.normpath(os.path.join(HERE, "..", ".."))
DOCKERFILE = os.path.join(SOURCE_DIR, "Dockerfile")
INSTALL_DEPS = os.path.join(SOURCE_DIR, "deploy", "install-deps.sh")
ENTRYPOINT = "/usr/local/bin/townhalld"

# Packages of install-deps.sh that build townhalld; the rest (Redis, Python,
# test tools, the fuzzing toolchain, buf's Node.js) are not needed for it.
BUILD_TOOLS = {"build-essential", "cmake", "pkg-config", "protobuf-compiler",
               "protobuf-compiler-grpc", "googletest", "lld"}
NOT_FOR_TOWNHALLD = {"libclang-rt-14-dev", "libfuzzer-14-dev", "clang-14"}
SECRET_WORDS = re.compile(r"(?i)(auth_keys|bootstrap|credential|password|secret|token|\.local)")


def townhalld_binary():
    path = os.environ.get("TOWNHALLD") or os.path.join(
        SOURCE_DIR, "build", "services", "townhalld", "townhalld")
    if not os.access(path, os.X_OK):
        raise AssertionError(f"no townhalld at {path}: build it or set TOWNHALLD")
    return path


# ---- parsing ----------------------------------------------------------------

def instructions(text):
    """[(INSTRUCTION, arguments)] with continuation lines joined and
    comments dropped."""
    lines, pending = [], ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if stripped.startswith("#") or (not stripped and not pending):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        lines.append(pending + stripped)
        pending = ""
    out = []
    for line in lines:
        word, _, rest = line.partition(" ")
        out.append((word.upper(), " ".join(rest.split())))
    return out


def stages(text):
    """[{"from": image, "name": alias or None, "steps": [(INSTR, args)]}]."""
    result = []
    for instr, args in instructions(text):
        if instr == "FROM":
            m = re.fullmatch(r"(\S+)(?: AS (\S+))?", args, re.I)
            result.append({"from": m.group(1), "name": m.group(2), "steps": []})
        elif result:
            result[-1]["steps"].append((instr, args))
    return result


def apt_packages(stage):
    """Packages of every `apt-get install` in a stage's RUNs."""
    packages = []
    for instr, args in stage["steps"]:
        if instr != "RUN":
            continue
        for m in re.finditer(r"apt-get install ([^&;|]*)", args):
            packages += [w for w in m.group(1).split() if not w.startswith("-")]
    return packages


def install_deps_packages():
    with open(INSTALL_DEPS, encoding="utf-8") as f:
        text = f.read()
    body = re.search(r"DEBIAN_PACKAGES=\((.*?)\n\)", text, re.S).group(1)
    words = []
    for line in body.splitlines():
        words += line.split("#", 1)[0].split()
    # Packages added conditionally: DEBIAN_PACKAGES+=(a b)
    for m in re.finditer(r"DEBIAN_PACKAGES\+=\(([^)]*)\)", text):
        words += m.group(1).split()
    return set(words)


_LDD_CACHE = {}


def ldd_packages(binary):
    """{Debian package: [libraries]} of every shared library ldd lists."""
    if binary in _LDD_CACHE:
        return _LDD_CACHE[binary]
    result = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True)
    paths = []
    for line in result.stdout.splitlines():
        m = re.search(r"=>\s+(/\S+)", line) or re.match(r"\s*(/\S+)", line)
        if m:
            paths.append(m.group(1))
    if len(paths) < 10:
        raise AssertionError(f"ldd {binary} listed too few libraries:\n{result.stdout}")
    # Each path as ldd prints it, resolved, and with and without /usr
    # (usrmerge: dpkg knows a library under one of them); one dpkg -S for all.
    candidates = {}
    for path in paths:
        forms = [path, os.path.realpath(path)]
        forms += [f[len("/usr"):] if f.startswith("/usr/") else "/usr" + f for f in list(forms)]
        candidates[path] = forms
    query = sorted({f for forms in candidates.values() for f in forms})
    r = subprocess.run(["dpkg", "-S"] + query, capture_output=True, text=True)
    owner_of = {}
    for line in r.stdout.splitlines():
        if line.startswith("diversion "):
            continue
        owners, _, owned = line.partition(": ")
        owner_of[owned.strip()] = owners.split(",")[0].split(":")[0].strip()
    packages = {}
    for path, forms in candidates.items():
        owner = next((owner_of[f] for f in forms if f in owner_of), None)
        if owner is None:
            raise AssertionError(f"dpkg -S finds no package for {path}")
        packages.setdefault(owner, []).append(os.path.basename(path))
    _LDD_CACHE[binary] = packages
    return packages


# ---- the checks --------------------------------------------------------------

def check_bases(all_stages):
    problems = []
    if len(all_stages) != 2:
        problems.append(f"{len(all_stages)} stages, expected 2 (build, runtime)")
    for stage in all_stages:
        if not re.fullmatch(r"debian:bookworm(-slim)?(@sha256:[0-9a-f]{64})?", stage["from"]):
            problems.append(f"FROM {stage['from']} is not debian:bookworm[-slim]")
    if all_stages and not all_stages[-1]["from"].startswith("debian:bookworm-slim"):
        problems.append(f"the image is FROM {all_stages[-1]['from']}, not debian:bookworm-slim")
    if all_stages and all_stages[0]["name"] != "build":
        problems.append("the first stage is not named build")
    return problems


def check_build_stage(build, deps):
    problems = []
    packages = set(apt_packages(build))
    for p in sorted(packages - deps):
        problems.append(f"build stage installs {p}, which deploy/install-deps.sh does not")
    wanted = {p for p in deps if (p.endswith("-dev") or p in BUILD_TOOLS)} - NOT_FOR_TOWNHALLD
    for p in sorted(wanted - packages):
        problems.append(f"build stage lacks {p} (a build package of deploy/install-deps.sh)")
    for instr, args in build["steps"]:
        if instr in ("COPY", "ADD"):
            sources = args.split()[:-1]
            for s in sources:
                if s in (".", "./", "*") or SECRET_WORDS.search(s):
                    problems.append(f"build stage: {instr} {args} copies the whole context or "
                                    "local state")
    runs = " ".join(a for i, a in build["steps"] if i == "RUN")
    if not re.search(r"cmake --build \S+ .*--target townhalld\b", runs):
        problems.append("build stage does not build --target townhalld")
    return problems


def copied_sources(build):
    sources = []
    for instr, args in build["steps"]:
        if instr == "COPY" and not args.startswith("--from"):
            sources += [s.rstrip("/") for s in args.split()[:-1]]
    return sources


def check_runtime_stage(runtime, needed):
    """needed: {package: [libraries]} from ldd."""
    problems = []
    packages = set(apt_packages(runtime))
    for package, libraries in sorted(needed.items()):
        if package not in packages:
            problems.append(f"runtime stage lacks {package} ({', '.join(libraries)})")
    if "tzdata" not in packages:
        problems.append("runtime stage lacks tzdata (/usr/share/zoneinfo)")
    for p in sorted(packages):
        if p.endswith("-dev") or p in BUILD_TOOLS:
            problems.append(f"runtime stage installs the build package {p}")
    steps = runtime["steps"]
    copies = [a for i, a in steps if i == "COPY"]
    if not any(re.fullmatch(rf"--from=build \S+ {re.escape(ENTRYPOINT)}", a) for a in copies):
        problems.append(f"townhalld is not copied from the build stage to {ENTRYPOINT}")
    for a in copies:
        if not a.startswith("--from=build"):
            problems.append(f"runtime stage copies from the context: COPY {a}")
    entry = [a for i, a in steps if i == "ENTRYPOINT"]
    if entry[-1:] != [f'["{ENTRYPOINT}"]']:
        problems.append(f"ENTRYPOINT is {entry[-1:]}, expected [\"{ENTRYPOINT}\"] (exec form)")
    users = [a for i, a in steps if i == "USER"]
    m = re.fullmatch(r"(\d+)(?::(\d+))?", users[-1]) if users else None
    if not m or int(m.group(1)) == 0:
        problems.append(f"the last USER is {users[-1:]}, not a numeric non-zero uid")
    else:
        runs = " ".join(a for i, a in steps if i == "RUN")
        if not re.search(rf"useradd .*--uid {m.group(1)}\b", runs):
            problems.append(f"no useradd creates uid {m.group(1)}")
        last_user = max(k for k, (i, _) in enumerate(steps) if i == "USER")
        if any(i == "RUN" for i, _ in steps[last_user:]):
            problems.append("a RUN after USER runs as the service user, or USER is not last")
    return problems


def check_secrets(all_stages, dockerignore):
    problems = []
    for stage in all_stages:
        for instr, args in stage["steps"]:
            if instr in ("ENV", "ARG") and SECRET_WORDS.search(args):
                problems.append(f"{instr} {args} names a secret")
            if instr in ("COPY", "ADD") and SECRET_WORDS.search(args):
                problems.append(f"{instr} {args} copies local state or a secret")
    ignored = {line.strip().rstrip("/") for line in dockerignore.splitlines()
               if line.strip() and not line.startswith("#")}
    for must in (".local", "build", ".git"):
        if must not in ignored:
            problems.append(f".dockerignore does not exclude {must}/")
    return problems


# ---- the tests --------------------------------------------------------------

def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


class DockerfileTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.text = read(DOCKERFILE)
        cls.stages = stages(cls.text)
        cls.deps = install_deps_packages()
        cls.needed = ldd_packages(townhalld_binary())
        cls.dockerignore = read(os.path.join(SOURCE_DIR, ".dockerignore"))

    def assertNoProblems(self, problems):
        self.assertEqual(problems, [], "\n  " + "\n  ".join(problems))

    def test_bases(self):
        self.assertNoProblems(check_bases(self.stages))

    def test_build_stage(self):
        self.assertIn("libgrpc++-dev", self.deps)  # install-deps.sh was read
        self.assertNoProblems(check_build_stage(self.stages[0], self.deps))

    def test_runtime_stage(self):
        # What ldd reported: townhalld's own libraries are among them.
        for package in ("libgrpc++1.51", "libhiredis0.14", "libical3"):
            self.assertIn(package, self.needed)
        self.assertNoProblems(check_runtime_stage(self.stages[-1], self.needed))

    def test_no_secrets(self):
        self.assertNoProblems(check_secrets(self.stages, self.dockerignore))

    def test_copied_sources_configure(self):
        """cmake configures a tree made of only the build stage's COPYs,
        and it has a townhalld target."""
        sources = copied_sources(self.stages[0])
        self.assertIn("services", sources)
        work = tempfile.mkdtemp(prefix="th-dockerfile-")
        try:
            src = os.path.join(work, "src")
            os.mkdir(src)
            for s in sources:
                origin = os.path.join(SOURCE_DIR, s)
                self.assertTrue(os.path.exists(origin), f"COPY {s}: no such path")
                if os.path.isdir(origin):
                    shutil.copytree(origin, os.path.join(src, s))
                else:
                    shutil.copy(origin, os.path.join(src, s))
            build = os.path.join(work, "build")
            result = subprocess.run(
                ["cmake", "-S", src, "-B", build, "-DCMAKE_BUILD_TYPE=RelWithDebInfo"],
                capture_output=True, text=True, timeout=300)
            self.assertEqual(result.returncode, 0,
                             f"cmake configure of the COPYed sources failed:\n"
                             f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
            targets = subprocess.run(["cmake", "--build", build, "--target", "help"],
                                     capture_output=True, text=True, timeout=120)
            self.assertIn("townhalld", targets.stdout.split())
        finally:
            shutil.rmtree(work, ignore_errors=True)


class MutationTest(unittest.TestCase):
    """Each kind of mistake is reported."""

    @classmethod
    def setUpClass(cls):
        cls.text = read(DOCKERFILE)
        cls.deps = install_deps_packages()
        cls.needed = ldd_packages(townhalld_binary())
        cls.dockerignore = read(os.path.join(SOURCE_DIR, ".dockerignore"))

    def problems(self, text, dockerignore=None):
        s = stages(text)
        return (check_bases(s) + check_build_stage(s[0], self.deps)
                + check_runtime_stage(s[-1], self.needed)
                + check_secrets(s, dockerignore if dockerignore is not None else self.dockerignore))

    def test_unchanged_passes(self):
        self.assertEqual(self.problems(self.text), [])

    def test_mistakes_are_reported(self):
        def sub(old, new, count=1):
            self.assertIn(old, self.text)
            return self.text.replace(old, new, count)

        cases = [
            (sub("FROM debian:bookworm-slim", "FROM debian:bullseye-slim"), None,
             "not debian:bookworm"),
            (sub("FROM debian:bookworm-slim", "FROM ubuntu:22.04"), None, "not debian:bookworm"),
            (sub(" libjwt0 ", " "), None, "runtime stage lacks libjwt0"),
            (sub(" libicu72 ", " "), None, "runtime stage lacks libicu72"),
            (sub("      tzdata \\\n", ""), None, "lacks tzdata"),
            (sub("libical-dev ", ""), None, "build stage lacks libical-dev"),
            (sub("libncurses-dev lld", "libncurses-dev lld redis-server nosuch-dev"), None,
             "which deploy/install-deps.sh does not"),
            (sub("USER 10001:10001", "USER 0"), None, "not a numeric non-zero uid"),
            (sub("USER 10001:10001", "USER townhall"), None, "not a numeric non-zero uid"),
            (sub('ENTRYPOINT ["/usr/local/bin/townhalld"]', "ENTRYPOINT /usr/local/bin/townhalld"),
             None, "ENTRYPOINT"),
            (sub("COPY bench/ bench/", "COPY . ."), None, "copies the whole context"),
            (sub("COPY bench/ bench/", "COPY bench/ bench/\nCOPY .local/auth_keys /etc/"), None,
             "local state"),
            (sub("--target townhalld", ""), None, "--target townhalld"),
            (self.text, self.dockerignore.replace(".local/\n", ""), "does not exclude .local"),
        ]
        for text, dockerignore, fragment in cases:
            with self.subTest(fragment=fragment):
                problems = self.problems(text, dockerignore)
                self.assertTrue(any(fragment in p for p in problems),
                                f"expected a problem with {fragment!r}, got {problems}")


if __name__ == "__main__":
    unittest.main(verbosity=2)
