#!/usr/bin/python3
"""A fresh townhalld with the demo loaded, and a checkout to run docs from.

What ./deploy/local/up.sh leaves behind, for tests that run the commands of
the documentation as a newcomer types them (e2e_readme, e2e_docs_examples):

    demo = DemoCheckout()          # reads TOWNHALL_BUILD_DIR, TOWNHALL_LOAD_DEMO
    demo.start()                   # townhalld, the demo, the checkout
    subprocess.run(["bash", "-c", command], cwd=demo.work, env=demo.env())
    demo.stop()

- townhall-load-demo loads the demo conference into the fixture's
  townhalld, writing into `.local/` of the checkout what up.sh writes
  (`organizer_token`, `moderator_join_token`, `live_session_id`,
  `series_id`, `bot_api_key`, `bot_participant_id`, `portal_api_key`), and
  `.local/bootstrap_credential` as up.sh keeps it.
- The checkout (`work`) is a temp dir of symlinks: every top-level entry of
  the source tree but `.git`, `.local` and `build`, plus `build` pointing at
  the build dir, so relative paths of the docs
  (`build/clients/cpp/townhallctl/townhallctl`, `clients/python/...`,
  `docs/samples/...`) work as in a real checkout. Files the commands write
  at its top level and in `.local/` stay in the temp dir.
- env() is a newcomer's shell: no TOWNHALL_* variable but TOWNHALL_ADDRESS
  (the fixture), an empty HOME, no PYTHONPATH or XDG_CONFIG_HOME.

private_redis=True gives the townhalld a Redis of its own (not the shared
TOWNHALL_TEST_REDIS), so that the demo's tenant is up.sh's `mfa-uz` and
ids the docs name (tenants such as `embassy-berlin`) are free.
"""

import os
import secrets
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import townhalld_fixture  # noqa: E402

SOURCE_DIR = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def build_dir():
    return os.environ.get("TOWNHALL_BUILD_DIR") or os.path.join(SOURCE_DIR, "build")


class DemoCheckout:
    """townhalld + the demo + a checkout-like working directory."""

    def __init__(self, tenant=None, private_redis=False, prefix="th-e2e-demo-"):
        # tenant: None loads up.sh's (the loader's default, mfa-uz).
        self.tenant = tenant
        self.private_redis = private_redis
        self.prefix = prefix
        self.build_dir = os.path.abspath(build_dir())
        self.fixture = None
        self.work = None
        self.organizer_token = None

    def start(self):
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self):
        self.fixture = townhalld_fixture.TownhalldFixture(
            start_redis=True if self.private_redis else None)
        self.fixture.start()
        self.work = tempfile.mkdtemp(prefix=self.prefix)
        for entry in os.listdir(SOURCE_DIR):
            if entry not in (".git", ".local", "build"):
                os.symlink(os.path.join(SOURCE_DIR, entry), os.path.join(self.work, entry))
        os.symlink(self.build_dir, os.path.join(self.work, "build"))
        state = os.path.join(self.work, ".local")
        os.mkdir(state, 0o700)
        os.mkdir(os.path.join(self.work, ".home"))
        # As up.sh: the bootstrap credential in .local/, the demo, the token.
        credential = os.path.join(state, "bootstrap_credential")
        with open(credential, "w") as f:
            f.write(self.fixture.bootstrap_credential + "\n")
        load_demo = os.environ.get("TOWNHALL_LOAD_DEMO") or os.path.join(
            self.build_dir, "clients", "cpp", "townhall-load-demo")
        args = [load_demo, f"--server={self.fixture.address}",
                f"--bootstrap_credential_file={credential}",
                f"--directory_dir={os.path.join(SOURCE_DIR, 'tests', 'data')}",
                f"--state_dir={state}", "--wait=10s"]
        if self.tenant:
            args.append(f"--tenant={self.tenant}")
        done = subprocess.run(args, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"load-demo failed:\n{done.stderr}\n{self.fixture.log_tail()}")
        self.organizer_token = done.stdout.strip()
        with open(os.path.join(state, "organizer_token"), "w") as f:
            f.write(self.organizer_token + "\n")

    def stop(self):
        if self.fixture is not None:
            self.fixture.stop()
            self.fixture = None
        if self.work:
            shutil.rmtree(self.work, ignore_errors=True)
            self.work = None

    def state(self, name):
        """The content of .local/<name>, stripped."""
        with open(os.path.join(self.work, ".local", name)) as f:
            return f.read().strip()

    def env(self):
        """The environment of a newcomer's shell: no TOWNHALL_* but the address."""
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("TOWNHALL_") and k not in ("XDG_CONFIG_HOME", "PYTHONPATH")}
        env["TOWNHALL_ADDRESS"] = self.fixture.address
        env["HOME"] = os.path.join(self.work, ".home")
        env["TERM"] = "xterm-256color"
        env.setdefault("LANG", "C.UTF-8")
        return env


def random_tenant(prefix):
    """A tenant id of its own on a Redis that other tests share."""
    return f"{prefix}-{secrets.token_hex(4)}"
