#!/usr/bin/python3
"""End-to-end: every command example of the documentation, run as written.

The documents: docs/*.md, every clients/**/README.md, and README.md outside
its `readme-steps` markers (e2e_readme runs those steps with checks of its
own). demo_checkout.DemoCheckout starts a townhalld on a Redis of its own,
loads the demo as ./deploy/local/up.sh does (tenant mfa-uz; tokens and ids
in `.local/`) and makes a checkout-like working directory.

Blocks. Every fenced block must name its language, so that none is skipped
unnoticed:
  ```sh, ```bash, ```shell   a script: every line is run.
  ```console                 a transcript: the lines that start with `$ `
                             (and the lines a trailing `\\` continues, a
                             `> ` prompt taken off) are run; the others are
                             the output it shows.
  LANGUAGES (text, csv, json, yaml, ...) are not commands.
Right before a runnable block's fence (blank lines between are allowed), a
marker may say how it runs:
  <!-- example: not-run (REASON, ...) -->  not run. REASON is one of
      REASONS below; `interactive` must name the test that covers it
      (`interactive, tested by e2e_readme`).
  <!-- example: fails-with N -->  an error shown on purpose: the block runs
      in a subshell (its variables do not outlive it) and must exit with
      status N.
  <!-- example: stream -->  a stream that runs until Ctrl-C: it must print
      a first line within STREAM_WAIT s and still be running STREAM_GRACE
      s later; it is then stopped (SIGTERM to its process group).
A runnable block without a marker must exit 0. A `<placeholder>` with no
kind (`<id>`, `<ID>`) is refused anywhere in the documents: say which id
(`<session-id>`).

Running. Each document's runnable blocks run in order in ONE bash process
(`set -euo pipefail`), so a variable captured in one block (`SESSION=$(...
| jq -r .session.id)`) is there in the next. The working directory is the
checkout; the environment is a newcomer's (demo_checkout: TOWNHALL_ADDRESS
points at the fixture, HOME is empty), and the documents' server address
`127.0.0.1:50051` (up.sh's) is replaced with the fixture's. Each block's
stdout and stderr go to files (TOWNHALL_DOCS_KEEP=<dir> keeps them, with
the script); a failure reports the document and line of the failing
command, its exit status and the block's stderr. Documents run
two at a time (they share the demo, as a reader's would). When `buf` is
npm's node launcher, the binary it starts comes first on PATH (native_buf:
the same buf, without node's start-up on each of a hundred calls).
TOWNHALL_DOCS_ONLY=docs/cli.md,docs/api.md runs only those documents.

Run: TOWNHALLD=<build>/services/townhalld/townhalld \\
     TOWNHALL_LOAD_DEMO=<build>/clients/cpp/townhall-load-demo \\
     TOWNHALL_BUILD_DIR=<build> TOWNHALL_PYTHON_DIR=<build>/python \\
     /usr/bin/python3 test_docs_examples.py
"""

import collections
import concurrent.futures
import dataclasses
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import demo_checkout  # noqa: E402

SOURCE_DIR = demo_checkout.SOURCE_DIR
README_STEPS = ("<!-- readme-steps:begin -->", "<!-- readme-steps:end -->")
RUNNABLE = ("sh", "bash", "shell", "console")
LANGUAGES = ("text", "csv", "json", "yaml", "ini", "proto", "lua", "c++", "python",
             "diff", "markdown", "promql", "dockerfile")
# Why a block is not run. interactive must also say which test covers it.
REASONS = {
    "installs": "installs packages or builds the project (root, minutes)",
    "deploys": "starts or stops servers of its own: up.sh, townhalld with production "
               "flags, Docker, Kubernetes",
    "benchmark": "a benchmark or a fuzzing run (minutes of CPU)",
    "test-suite": "runs tests (tests/run.sh, a test binary), which the suite runs itself",
    "interactive": "waits for keys or Ctrl-C; covered by the test it names",
}
UP_SH_ADDRESS = "127.0.0.1:50051"
# What docs/walkthrough.md must run: a participant's side, end to end.
WALKTHROUGH_STEPS = [
    r"participants create", r"registration register",
    r"(?i)--token_file=\S*portal\S* registration register",
    r"registration approve-registration", r"issue-join-token", r"record-attendance .*--action=JOIN",
    r"agenda raise-hand", r"questions submit-question", r"questions upvote-question",
    r"questions withdraw-vote", r"\| jq -r",
]
STREAM_WAIT = 10  # s for a stream's first line
STREAM_GRACE = 1  # s a stream must still run after its first line
DOC_TIMEOUT = 90  # s for one document's blocks
PARALLEL = 2

MARKER = re.compile(r"^\s*<!--\s*example:\s*(.*?)\s*-->\s*$")
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})(.*)$")
# A placeholder that does not say which id it wants. After a `:` it is a
# Redis key's part (`session:<id>`), named by the part before it.
BARE_PLACEHOLDER = re.compile(r"(?<![:\w])<(?:id|ID|Id)>")


class DocError(Exception):
    """A document breaks the rules of the module docstring."""


@dataclasses.dataclass
class Block:
    doc: str          # path relative to the source tree
    line: int         # the line of the opening fence (1-based)
    lang: str
    lines: list       # [(doc line, text)] to run
    mode: str = "run"  # run | not-run | fails-with | stream
    reason: str = ""  # not-run: the marker's text
    status: int = 0   # fails-with: the expected status

    def commands(self):
        """The command lines (a `\\` continuation is one), without comments."""
        count, continued = 0, False
        for _, text in self.lines:
            stripped = text.strip()
            if not continued and stripped and not stripped.startswith("#"):
                count += 1
            continued = stripped.endswith("\\")
        return count


def known_tests():
    """Names of the ctest tests registered in tests/**/CMakeLists.txt."""
    names = set()
    for path in glob.glob(os.path.join(SOURCE_DIR, "tests", "**", "CMakeLists.txt"),
                          recursive=True):
        with open(path, encoding="utf-8") as f:
            names.update(re.findall(r"add_test\(\s*NAME\s+([\w-]+)", f.read()))
    return names


def parse_marker(text, where, tests):
    """(mode, reason, status) of a marker's text."""
    if m := re.fullmatch(r"not-run \((.+)\)", text):
        reason = m.group(1).strip()
        key = re.split(r"[,;:]", reason, maxsplit=1)[0].strip()
        if key not in REASONS:
            raise DocError(f"{where}: not-run reason {key!r} is not one of "
                           f"{', '.join(REASONS)}")
        if key == "interactive":
            named = re.search(r"tested by ([\w-]+)", reason)
            if not named:
                raise DocError(f"{where}: an interactive block must say which test covers it "
                               "(`interactive, tested by <ctest name>`)")
            if named.group(1) not in tests:
                raise DocError(f"{where}: no ctest named {named.group(1)!r}")
        return "not-run", reason, 0
    if m := re.fullmatch(r"fails-with (\d+)", text):
        status = int(m.group(1))
        if status == 0:
            raise DocError(f"{where}: fails-with 0 is a plain example; drop the marker")
        return "fails-with", "", status
    if text == "stream":
        return "stream", "", 0
    raise DocError(f"{where}: unknown marker <!-- example: {text} -->; use not-run (REASON), "
                   "fails-with N or stream")


def console_commands(body, doc, start):
    """The `$ ` commands of a ```console block, with their continuation lines."""
    lines, continued = [], False
    for number, text in body:
        if continued:  # a shell's secondary prompt, if shown, is not typed
            lines.append((number, text[2:] if text.startswith("> ") else text))
        elif text.startswith("$ "):
            lines.append((number, text[2:]))
        elif text.strip() == "$":
            raise DocError(f"{doc}:{number}: an empty `$` prompt")
        else:
            continue
        continued = text.rstrip().endswith("\\")
    if not lines:
        raise DocError(f"{doc}:{start}: a ```console block without a `$ ` command; "
                       "use ```text for output alone")
    return lines


def parse_document(path, rel=None, tests=None, skip=None):
    """The fenced blocks of a markdown file with their markers.

    skip: (begin, end) marker lines whose region is left out.
    Raises DocError for anything the module docstring forbids.
    """
    rel = rel or os.path.relpath(path, SOURCE_DIR)
    tests = known_tests() if tests is None else tests
    with open(path, encoding="utf-8") as f:
        text = f.read()
    lines = text.split("\n")
    blocks, marker, skipping = [], None, False
    i = 0
    while i < len(lines):
        line, number = lines[i], i + 1
        if skip and line.strip() == skip[0]:
            skipping = True
        elif skip and line.strip() == skip[1]:
            skipping = False
        if BARE_PLACEHOLDER.search(line):
            raise DocError(f"{rel}:{number}: a placeholder without its kind "
                           f"({BARE_PLACEHOLDER.search(line).group(0)}): say which id, "
                           "e.g. <session-id>")
        if m := MARKER.match(line):
            if marker is not None:
                raise DocError(f"{rel}:{marker[1]}: a marker not followed by a block")
            marker = (m.group(1), number)
            i += 1
            continue
        fence = FENCE.match(line)
        if not fence:
            if marker is not None and line.strip():
                raise DocError(f"{rel}:{marker[1]}: a marker must come right before a "
                               "block's fence")
            i += 1
            continue
        indent, ticks, info = fence.group(1), fence.group(2), fence.group(3).strip()
        lang = info.split()[0] if info else ""
        body, j = [], i + 1
        while j < len(lines):
            close = FENCE.match(lines[j])
            if close and close.group(2)[0] == ticks[0] and len(close.group(2)) >= len(ticks) \
                    and not close.group(3).strip():
                break
            raw = lines[j]
            # The block's lines, without the fence's indentation (list items).
            body.append((j + 1, raw[len(indent):] if raw.startswith(indent) else raw.lstrip()))
            j += 1
        else:
            raise DocError(f"{rel}:{number}: a ``` block is not closed")
        for body_number, body_line in body:
            if BARE_PLACEHOLDER.search(body_line):
                raise DocError(f"{rel}:{body_number}: a placeholder without its kind "
                               f"({BARE_PLACEHOLDER.search(body_line).group(0)}): say which "
                               "id, e.g. <session-id>")
        i = j + 1
        if skipping:
            if marker is not None:
                raise DocError(f"{rel}:{marker[1]}: a marker inside the readme-steps")
            continue
        if not lang:
            raise DocError(f"{rel}:{number}: a ``` block without a language: ```sh or "
                           "```console for commands, ```text for output")
        if lang not in RUNNABLE and lang not in LANGUAGES:
            raise DocError(f"{rel}:{number}: unknown block language {lang!r} (runnable: "
                           f"{', '.join(RUNNABLE)}; not commands: {', '.join(LANGUAGES)})")
        if lang not in RUNNABLE:
            if marker is not None:
                raise DocError(f"{rel}:{marker[1]}: a marker before a ```{lang} block, "
                               "which is not run anyway")
            continue
        if lang == "console":
            run = console_commands(body, rel, number)
        else:
            for body_number, body_line in body:
                if body_line.startswith("$ "):
                    raise DocError(f"{rel}:{body_number}: a `$ ` prompt in a ```{lang} "
                                   "block; a transcript is ```console")
            run = body
        if not any(t.strip() and not t.strip().startswith("#") for _, t in run):
            raise DocError(f"{rel}:{number}: a ```{lang} block without a command")
        block = Block(rel, number, lang, run)
        if marker is not None:
            block.mode, block.reason, block.status = parse_marker(
                marker[0], f"{rel}:{marker[1]}", tests)
            marker = None
        if block.mode != "not-run":
            script = "\n".join(t for _, t in block.lines) + "\n"
            check = subprocess.run(["bash", "-n"], input=script, capture_output=True, text=True)
            if check.returncode != 0:
                raise DocError(f"{rel}:{number}: not a complete bash script: "
                               f"{check.stderr.strip()}")
        blocks.append(block)
    if marker is not None:
        raise DocError(f"{rel}:{marker[1]}: a marker at the end of the document")
    return blocks


def documents():
    """(path, skip) of every document whose examples are run; with
    TOWNHALL_DOCS_ONLY (comma-separated paths such as docs/cli.md), of
    those only (to work on a document)."""
    paths = sorted(glob.glob(os.path.join(SOURCE_DIR, "docs", "*.md")))
    paths += sorted(glob.glob(os.path.join(SOURCE_DIR, "clients", "**", "README.md"),
                              recursive=True))
    docs = [(p, None) for p in paths]
    docs.append((os.path.join(SOURCE_DIR, "README.md"), README_STEPS))
    only = [p for p in os.environ.get("TOWNHALL_DOCS_ONLY", "").split(",") if p]
    if only:
        docs = [d for d in docs if os.path.relpath(d[0], SOURCE_DIR) in only]
    return docs


# -- running ------------------------------------------------------------------

ERR_TRAP = "trap 'echo \"fail $__th_block $LINENO $?\" >&3' ERR"


def document_script(blocks, status_dir, address=None, stream_wait=STREAM_WAIT):
    """The bash script of a document's runnable blocks and, per script line,
    the document line it came from (None for the runner's own lines)."""
    out, origin = [], []

    def emit(text, doc_line=None):
        out.append(text)
        origin.append(doc_line)

    def emit_block(block):
        for number, text in block.lines:
            emit(text.replace(UP_SH_ADDRESS, address) if address else text, number)

    emit("set -euo pipefail")
    emit(f"exec 3>>{status_dir}/status")
    emit("__th_block=")
    emit(ERR_TRAP)
    for n, block in enumerate(blocks):
        if block.mode == "not-run":
            continue
        emit(f"__th_block={n}; echo \"begin {n}\" >&3")
        emit(f"exec >{status_dir}/{n}.out 2>{status_dir}/{n}.err")
        if block.mode == "run":
            emit_block(block)
            emit(f"echo \"end {n} 0\" >&3")
        elif block.mode == "fails-with":
            emit("trap - ERR; set +e")
            emit("(")
            emit("set -e")
            emit_block(block)
            emit(")")
            emit("__th_rc=$?; set -e; " + ERR_TRAP)
            emit(f"echo \"end {n} $__th_rc\" >&3")
        elif block.mode == "stream":
            # A job of its own (set -m: its own process group) to stop it as a
            # whole, as Ctrl-C would. Its exit status goes to N.rc when it
            # ends: no file means it is still running (kill -0 cannot tell,
            # a child that exited is there until bash reaps it).
            rc = f"{status_dir}/{n}.rc"
            emit("set -m")
            emit("( set +e; (")
            emit("set -e")
            emit_block(block)
            emit(f"); echo $? >{rc} ) &")
            emit("__th_pid=$!; set +m; __th_i=0")
            emit(f"while [ ! -s {status_dir}/{n}.out ] && [ ! -e {rc} ] "
                 f"&& [ $__th_i -lt {stream_wait * 10} ]; do sleep 0.1; __th_i=$((__th_i+1)); done")
            # A stream is still there a moment after its first line.
            emit(f"[ -s {status_dir}/{n}.out ] && [ ! -e {rc} ] && sleep {STREAM_GRACE}")
            emit(f"if [ -e {rc} ]; then wait $__th_pid || true; "
                 f"echo \"stream {n} ended $(cat {rc})\" >&3; "
                 f"else kill -TERM -- -$__th_pid; wait $__th_pid || true; "
                 f"if [ -s {status_dir}/{n}.out ]; then echo \"end {n} 0\" >&3; "
                 f"else echo \"stream {n} silent\" >&3; fi; fi")
    emit("echo done >&3")
    return "\n".join(out) + "\n", origin


@dataclasses.dataclass
class Failure:
    block: Block
    line: int     # the document line of the failing command
    message: str

    def __str__(self):
        return f"{self.block.doc}:{self.line}: {self.message}"


def tail(path, lines=25):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except FileNotFoundError:
        return ""
    return "\n".join(text.rstrip("\n").split("\n")[-lines:])


def run_document(blocks, cwd, env, address=None, timeout=DOC_TIMEOUT,
                 stream_wait=STREAM_WAIT):
    """Runs a document's blocks; returns (failures, blocks run)."""
    runnable = [b for b in blocks if b.mode != "not-run"]
    if not runnable:
        return [], 0
    status_dir = tempfile.mkdtemp(prefix="th-docs-")
    try:
        script, origin = document_script(blocks, status_dir, address, stream_wait)
        script_path = os.path.join(status_dir, "script.sh")
        with open(script_path, "w", encoding="utf-8") as f:
            f.write(script)
        process = subprocess.Popen(["bash", script_path], cwd=cwd, env=env,
                                   stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        timed_out = False
        try:
            process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
        try:
            with open(os.path.join(status_dir, "status"), encoding="utf-8") as f:
                events = [line.split() for line in f.read().splitlines()]
        except FileNotFoundError:
            events = []

        return judge(blocks, events, origin, status_dir, process.returncode, timed_out,
                     timeout, stream_wait), len([e for e in events if e[0] == "begin"])
    finally:
        keep = os.environ.get("TOWNHALL_DOCS_KEEP")
        if keep:  # a directory for each document's script, outputs and status
            shutil.copytree(status_dir, os.path.join(keep, os.path.basename(status_dir)))
        shutil.rmtree(status_dir, ignore_errors=True)


def judge(blocks, events, origin, status_dir, returncode, timed_out, timeout, stream_wait):
    failures, begun, ended, failed_line = [], None, set(), None
    for event in events:
        if event[0] == "begin":
            begun = int(event[1])
        elif event[0] == "end":
            n, status = int(event[1]), int(event[2])
            ended.add(n)
            block = blocks[n]
            if status != block.status:
                expected = (f"exit status {block.status} (fails-with)" if block.mode ==
                            "fails-with" else "exit status 0")
                failures.append(Failure(block, block.line, (
                    f"the block exited {status}, not {expected}\n"
                    f"stderr:\n{tail(os.path.join(status_dir, f'{n}.err'))}")))
        elif event[0] == "stream":
            n = int(event[1])
            ended.add(n)
            what = (f"printed nothing within {stream_wait} s" if event[2] == "silent"
                    else f"ended by itself with status {event[3]} instead of streaming")
            failures.append(Failure(blocks[n], blocks[n].line, (
                f"the stream {what}\n"
                f"stderr:\n{tail(os.path.join(status_dir, f'{n}.err'))}")))
        elif event[0] == "fail" and failed_line is None:
            failed_line = (int(event[2]), int(event[3]))
    done = events and events[-1] == ["done"]
    if begun is not None and begun not in ended:
        block = blocks[begun]
        line, status = block.line, returncode
        script_line = None
        if failed_line is not None:
            script_line, status = failed_line
        else:
            # bash exits without the ERR trap for an unset variable (set -u)
            # or a syntax error; its message names the script's line.
            said = re.findall(r"script\.sh: line (\d+):",
                              tail(os.path.join(status_dir, f"{begun}.err"), 1000))
            if said:
                script_line = int(said[-1])
        if script_line and 0 < script_line <= len(origin) and origin[script_line - 1]:
            line = origin[script_line - 1]
        command = next((t for number, t in block.lines if number == line), "")
        why = (f"timed out after {timeout} s" if timed_out else f"exited {status}")
        failures.append(Failure(block, line, (
            f"{why}: {command.strip()}\n"
            f"stderr:\n{tail(os.path.join(status_dir, f'{begun}.err'))}\n"
            f"stdout (end):\n{tail(os.path.join(status_dir, f'{begun}.out'), 8)}")))
    elif not done and not failures:
        failures.append(Failure(blocks[0], blocks[0].line,
                                f"the document's script ended early (status {returncode})"))
    return failures


def native_buf():
    """The buf binary the npm package's launcher runs, or None.

    `npm install -g @bufbuild/buf` installs a node script as `buf` that
    starts the platform's binary (@bufbuild/buf-linux-x64 and the like);
    node adds about 0.4 s to each of the docs' hundred-odd `buf curl`
    calls. The test puts the binary itself first on PATH: the same buf.
    """
    launcher = shutil.which("buf")
    if launcher is None:
        return None
    launcher = os.path.realpath(launcher)
    with open(launcher, "rb") as f:
        if b"node" not in f.readline():
            return None  # buf itself
    package = os.path.dirname(os.path.dirname(launcher))  # .../@bufbuild/buf
    for pattern in ("node_modules/@bufbuild/buf-*/bin/buf", "../buf-*/bin/buf"):
        for candidate in sorted(glob.glob(os.path.join(package, pattern))):
            if os.access(candidate, os.X_OK):
                return os.path.realpath(candidate)
    return None


# -- the tests -------------------------------------------------------------------

DEMO = None
BIN = None  # a directory first on PATH: buf (native_buf)


def setUpModule():
    global DEMO
    if shutil.which("buf") is None:
        raise RuntimeError("buf is not installed (deploy/install-deps.sh installs it)")
    if shutil.which("jq") is None:
        raise RuntimeError("jq is not installed (deploy/install-deps.sh installs it)")
    DEMO = demo_checkout.DemoCheckout(private_redis=True, prefix="th-e2e-docs-").start()


def tearDownModule():
    if DEMO is not None:
        DEMO.stop()
    if BIN is not None:
        shutil.rmtree(BIN, ignore_errors=True)


def reader_env():
    """DEMO.env(), with the native buf first on PATH when there is one."""
    global BIN
    env = DEMO.env()
    binary = native_buf()
    if binary:
        if BIN is None:
            BIN = tempfile.mkdtemp(prefix="th-docs-bin-")
            os.symlink(binary, os.path.join(BIN, "buf"))
        env["PATH"] = BIN + os.pathsep + env.get("PATH", "")
    return env


class DocsExamplesTest(unittest.TestCase):

    def test_every_example_runs(self):
        tests = known_tests()
        parsed, refused = [], []
        for path, skip in documents():
            try:
                parsed.append((path, parse_document(path, tests=tests, skip=skip)))
            except DocError as e:
                refused.append(str(e))
        if refused:
            self.fail("documents that break the rules of "
                      f"{os.path.basename(__file__)}:\n" + "\n".join(refused))
        env = reader_env()
        started = time.monotonic()

        def run(item):
            path, blocks = item
            begin = time.monotonic()
            failures, ran = run_document(blocks, DEMO.work, env, DEMO.fixture.address)
            return path, failures, ran, time.monotonic() - begin

        with concurrent.futures.ThreadPoolExecutor(PARALLEL) as pool:
            results = list(pool.map(run, parsed))
        failures = [f for _, fs, _, _ in results for f in fs]

        reasons = collections.Counter()
        counts = collections.Counter()
        for _, blocks in parsed:
            for b in blocks:
                counts[b.mode] += 1
                counts[b.mode + " commands"] += b.commands()
                if b.mode == "not-run":
                    reasons[re.split(r"[,;:]", b.reason, maxsplit=1)[0].strip()] += 1
        print(f"\n{len(parsed)} documents in {time.monotonic() - started:.1f} s: "
              f"run {counts['run']} blocks ({counts['run commands']} commands), "
              f"fails-with {counts['fails-with']} ({counts['fails-with commands']}), "
              f"stream {counts['stream']} ({counts['stream commands']}); "
              f"not run {counts['not-run']} ({counts['not-run commands']}): "
              + ", ".join(f"{k} {v}" for k, v in sorted(reasons.items())), file=sys.stderr)
        for path, fs, ran, seconds in results:
            print(f"  {os.path.relpath(path, SOURCE_DIR)}: {ran} blocks in {seconds:.1f} s"
                  + (f", {len(fs)} failed" if fs else ""), file=sys.stderr)
        if failures:
            self.fail("examples that do not run as written:\n\n"
                      + "\n\n".join(map(str, failures))
                      + f"\n\nserver log:\n{DEMO.fixture.log_tail(15)}")
        if os.environ.get("TOWNHALL_DOCS_ONLY"):
            return
        # What the documents must keep having.
        self.assertGreaterEqual(counts["run"], 40)
        walkthrough = dict(parsed)[os.path.join(SOURCE_DIR, "docs", "walkthrough.md")]
        ran = "\n".join(t for b in walkthrough if b.mode == "run" for _, t in b.lines)
        ran = re.sub(r"\\\n\s*", " ", ran)  # continued lines as one
        for step in WALKTHROUGH_STEPS:
            self.assertRegex(ran, step, f"docs/walkthrough.md runs no {step!r}")
        for path in ("README.md", "docs/api.md"):
            with open(os.path.join(SOURCE_DIR, path), encoding="utf-8") as f:
                self.assertIn("walkthrough.md)", f.read(), f"{path} does not link the walkthrough")


class SamplesTest(unittest.TestCase):
    """The sample files that docs/registration.md imports are the ones it shows."""

    def test_samples_are_shown_as_they_are(self):
        with open(os.path.join(SOURCE_DIR, "docs", "registration.md"), encoding="utf-8") as f:
            text = f.read()
        samples = sorted(glob.glob(os.path.join(SOURCE_DIR, "docs", "samples", "*.csv")))
        self.assertEqual([os.path.basename(p) for p in samples],
                         ["organizations.csv", "participants.csv"])
        for path in samples:
            with open(path, encoding="utf-8") as f:
                content = f.read()
            self.assertIn(f"```csv\n{content}```\n", text,
                          f"docs/registration.md does not show {path} as it is")
            self.assertIn(f"{os.path.relpath(path, SOURCE_DIR)}", text)


class ParserTest(unittest.TestCase):
    """The rules themselves: what a document may not contain."""

    TESTS = {"e2e_readme"}

    def parse(self, text):
        with tempfile.NamedTemporaryFile("w", suffix=".md", delete=False) as f:
            f.write(text)
        try:
            return parse_document(f.name, rel="doc.md", tests=self.TESTS)
        finally:
            os.unlink(f.name)

    def assertRefused(self, text, message):
        with self.assertRaises(DocError) as caught:
            self.parse(text)
        self.assertIn(message, str(caught.exception))

    def test_blocks_and_markers(self):
        blocks = self.parse(
            "# t\n```sh\nA=1\n# a comment\necho $A \\\n  more\n```\n\n"
            "```console\n$ false\noutput\n$ echo a \\\n> b\nab\n```\n"
            "<!-- example: fails-with 1 -->\n```console\n$ false\n```\n"
            "1. step\n\n   <!-- example: not-run (interactive, tested by e2e_readme) -->\n"
            "   ```sh\n   top\n   ```\n"
            "<!-- example: stream -->\n\n```bash\nwatch\n```\n"
            "```text\n$ not a command\n```\n```csv\na,b\n```\n")
        self.assertEqual([(b.line, b.lang, b.mode) for b in blocks],
                         [(2, "sh", "run"), (9, "console", "run"),
                          (17, "console", "fails-with"), (23, "sh", "not-run"),
                          (28, "bash", "stream")])
        self.assertEqual(blocks[0].lines, [(3, "A=1"), (4, "# a comment"),
                                           (5, "echo $A \\"), (6, "  more")])
        self.assertEqual(blocks[0].commands(), 2)
        self.assertEqual(blocks[1].lines, [(10, "false"), (12, "echo a \\"), (13, "b")])
        self.assertEqual(blocks[2].status, 1)
        self.assertEqual(blocks[3].lines, [(24, "top")])
        self.assertEqual(blocks[3].reason, "interactive, tested by e2e_readme")

    def test_unknown_blocks_are_refused(self):
        self.assertRefused("```\nls\n```\n", "without a language")
        self.assertRefused("```zsh\nls\n```\n", "unknown block language 'zsh'")
        self.assertRefused("```sh\n$ ls\n```\n", "a transcript is ```console")
        self.assertRefused("```console\nls\n```\n", "without a `$ ` command")
        self.assertRefused("```sh\n# only a comment\n```\n", "without a command")
        self.assertRefused("```sh\necho 'open\n```\n", "not a complete bash script")
        self.assertRefused("```sh\nls\n", "not closed")

    def test_bad_markers_are_refused(self):
        self.assertRefused("<!-- example: not-run (lazy) -->\n```sh\nls\n```\n",
                           "not-run reason 'lazy'")
        self.assertRefused("<!-- example: not-run (interactive) -->\n```sh\nls\n```\n",
                           "which test covers it")
        self.assertRefused("<!-- example: not-run (interactive, tested by e2e_nothing) -->\n"
                           "```sh\nls\n```\n", "no ctest named 'e2e_nothing'")
        self.assertRefused("<!-- example: skip -->\n```sh\nls\n```\n", "unknown marker")
        self.assertRefused("<!-- example: fails-with 0 -->\n```sh\nls\n```\n", "fails-with 0")
        self.assertRefused("<!-- example: stream -->\nprose\n```sh\nls\n```\n",
                           "right before")
        self.assertRefused("<!-- example: stream -->\n```text\nls\n```\n", "not run anyway")
        self.assertRefused("text\n<!-- example: stream -->\n", "end of the document")

    def test_bare_placeholders_are_refused(self):
        self.assertRefused("Get it with `GetSession <id>`.\n", "<id>")
        self.assertRefused("<!-- example: not-run (installs) -->\n```sh\nget <ID>\n```\n",
                           "<ID>")
        self.parse("`GetSession <session-id>`, the key `th:{t:<tenant>}:session:<id>`\n")

    def test_readme_steps_are_left_out(self):
        with tempfile.NamedTemporaryFile("w", suffix=".md", delete=False) as f:
            f.write(f"{README_STEPS[0]}\n```sh\nwatch\n```\n{README_STEPS[1]}\n"
                    "```sh\nls\n```\n")
        try:
            blocks = parse_document(f.name, rel="README.md", tests=set(), skip=README_STEPS)
        finally:
            os.unlink(f.name)
        self.assertEqual([b.line for b in blocks], [6])


class RunnerTest(unittest.TestCase):
    """The runner on documents of plain shell commands (no server)."""

    def run_text(self, text):
        with tempfile.NamedTemporaryFile("w", suffix=".md", delete=False) as f:
            f.write(text)
        try:
            blocks = parse_document(f.name, rel="doc.md", tests={"e2e_readme"})
        finally:
            os.unlink(f.name)
        with tempfile.TemporaryDirectory() as cwd:
            env = dict(os.environ, HOME=cwd)
            failures, _ = run_document(blocks, cwd, env, address="127.0.0.1:1", timeout=30,
                                       stream_wait=2)
        return failures

    def test_good_document_passes(self):
        self.assertEqual(self.run_text(
            "```sh\nX=$(echo 42 | tr -d '\\n')\n```\ntext\n"
            "```console\n$ test \"$X\" = 42\n$ echo 127.0.0.1:50051 | grep -qx 127.0.0.1:1\n```\n"
            "<!-- example: fails-with 3 -->\n```sh\necho oops >&2; exit 3\n```\n"
            "<!-- example: not-run (installs) -->\n```sh\nexit 1\n```\n"
            "<!-- example: stream -->\n```sh\necho first; sleep 60\n```\n"
            "```sh\ntest \"$X\" = 42\n```\n"), [])

    def test_failing_block_names_line_and_stderr(self):
        failures = self.run_text(
            "```sh\necho fine\n```\n\n```sh\ntrue\nls /no/such/dir\necho not reached\n```\n"
            "```sh\necho never\n```\n")
        self.assertEqual(len(failures), 1, failures)
        self.assertEqual(failures[0].block.line, 5)
        self.assertEqual(failures[0].line, 7)
        self.assertIn("exited 2: ls /no/such/dir", str(failures[0]))
        self.assertIn("No such file or directory", str(failures[0]))

    def test_failure_in_a_pipeline_and_unset_variable(self):
        failures = self.run_text("```sh\nfalse | cat\n```\n")
        self.assertEqual([f.line for f in failures], [2])
        failures = self.run_text("```sh\necho $UNSET_VARIABLE_OF_THE_TEST\n```\n")
        self.assertEqual([f.line for f in failures], [2])
        self.assertIn("unbound variable", str(failures[0]))

    def test_wrong_failure_status(self):
        failures = self.run_text("<!-- example: fails-with 4 -->\n```sh\nexit 1\n```\n"
                                 "```sh\necho after\n```\n")
        self.assertEqual(len(failures), 1, failures)
        self.assertIn("exited 1, not exit status 4", str(failures[0]))
        failures = self.run_text("<!-- example: fails-with 1 -->\n```sh\ntrue\n```\n")
        self.assertIn("exited 0, not exit status 1", str(failures[0]))

    def test_streams_must_stream(self):
        failures = self.run_text("<!-- example: stream -->\n```sh\necho one\n```\n")
        self.assertIn("ended by itself with status 0", str(failures[0]))
        failures = self.run_text("<!-- example: stream -->\n```sh\nsleep 60\n```\n")
        self.assertIn("printed nothing", str(failures[0]))

    def test_timeout_names_the_block(self):
        with tempfile.NamedTemporaryFile("w", suffix=".md", delete=False) as f:
            f.write("```sh\necho a\n```\n```sh\nsleep 30\n```\n")
        try:
            blocks = parse_document(f.name, rel="doc.md", tests=set())
        finally:
            os.unlink(f.name)
        with tempfile.TemporaryDirectory() as cwd:
            failures, _ = run_document(blocks, cwd, dict(os.environ), timeout=2)
        self.assertEqual([f.block.line for f in failures], [4])
        self.assertIn("timed out after 2 s", str(failures[0]))


if __name__ == "__main__":
    unittest.main(verbosity=2)
