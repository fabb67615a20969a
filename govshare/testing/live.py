"""A real platform server for tests that talk to it over HTTP (the OIDC relying party, the browser test, schemathesis).

`live_server` prepares its own data directory with a SQLite database (whatever DATABASE_URL the test run has: the
server is another process and must not share the test database), starts from a copy of a freshly migrated data
directory (`govshare migrate` costs about 25 s and its result is the same for every server, so a test run makes it
once, in one of its pytest-xdist processes), runs the given setup commands, starts `govshare runserver` on a free
port, waits until `ready_path` answers 200 and stops the server on exit. The server's stderr goes to
`<data_dir>/server.log`, which a start-up failure raises with.
"""

from __future__ import annotations

import atexit
import fcntl
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "CHROMIUM",
    "ROOT",
    "SHARED_DIR_VARIABLE",
    "LiveServer",
    "chromium",
    "free_port",
    "govshare_command",
    "live_server",
    "migrated_data_dir",
    "server_env",
]

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 120.0  # seconds for runserver to answer (scripts/test runs two test processes on a busy machine)
COMMAND_TIMEOUT = 300.0  # seconds for one set-up command (load_demo_data is the slowest)
CHROMIUM = Path("/usr/bin/chromium")  # Debian's; Playwright cannot download its own here
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


@dataclass(frozen=True)
class LiveServer:
    url: str
    data_dir: Path
    env: Mapping[str, str]  # the environment the server runs with; `govshare_command(..., env=server.env)` shares it

    @property
    def log(self) -> Path:
        return self.data_dir / "server.log"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def govshare_command(*args: str, env: Mapping[str, str], timeout: float = COMMAND_TIMEOUT) -> str:
    """Run `python -m govshare <args>` with `env`; its stdout. A failure raises with the command's stderr."""
    done = subprocess.run(
        [sys.executable, "-m", "govshare", *args],
        env=dict(env),
        cwd=ROOT,
        timeout=timeout,
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"govshare {' '.join(args[:1])} failed ({done.returncode}):\n{done.stderr.decode()}")
    return done.stdout.decode()


def server_env(data_dir: Path, extra: Mapping[str, str] | None = None, *, drop: Iterable[str] = ()) -> dict[str, str]:
    """This process's environment for a server on its own SQLite database in `data_dir`, in production mode (with the
    tests' password hashers: govshare.testserver_settings)."""
    env = {**os.environ, "GOVSHARE_DATA_DIR": str(data_dir), "DATABASE_URL": "", "GOVSHARE_DEBUG": "false"}
    env["DJANGO_SETTINGS_MODULE"] = "govshare.testserver_settings"
    for name in drop:
        env.pop(name, None)
    env.update(extra or {})
    return env


# A directory shared by the test processes of one run (pytest-xdist's; conftest.py names it): the migrated data
# directory is then made there once, under a lock, for all of them instead of once in each process.
SHARED_DIR_VARIABLE = "GOVSHARE_TEST_SHARED_DIR"
_migrated: list[Path] = []  # this process's freshly migrated data directory, once made or found


def _migrated_template() -> Path:
    """A data directory that `govshare migrate` has just made, shared (by copy) by every server of the test run."""
    if not _migrated:
        shared = os.environ.get(SHARED_DIR_VARIABLE)
        if shared:
            template = Path(shared) / "govshare-migrated"
            with (Path(shared) / "govshare-migrated.lock").open("w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)  # the others wait until it is made
                done = Path(shared) / "govshare-migrated.done"
                if not done.exists():
                    shutil.rmtree(template, ignore_errors=True)
                    template.mkdir()
                    govshare_command("migrate", "-v", "0", env=server_env(template))
                    done.touch()
        else:
            template = Path(tempfile.mkdtemp(prefix="govshare-migrated-"))
            atexit.register(shutil.rmtree, template, ignore_errors=True)
            govshare_command("migrate", "-v", "0", env=server_env(template))
        _migrated.append(template)
    return _migrated[0]


def migrated_data_dir(data_dir: Path) -> Path:
    """`data_dir` as `govshare migrate` leaves a new data directory (a copy of this process's migrated one)."""
    shutil.copytree(_migrated_template(), data_dir, dirs_exist_ok=True)
    return data_dir


def _answers(url: str) -> bool:
    try:
        # The first answer can take seconds: /api/openapi.json builds the whole document.
        with urllib.request.urlopen(url, timeout=15) as response:  # noqa: S310 (a local server)
            return bool(response.status == 200)
    except OSError:
        return False


@contextmanager
def live_server(
    data_dir: Path,
    *,
    setup: Sequence[Sequence[str]] = (),
    env: Mapping[str, str] | None = None,
    drop_env: Iterable[str] = (),
    ready_path: str = "/login/",
) -> Iterator[LiveServer]:
    """A migrated platform in `data_dir`, each `setup` command run on it (e.g. ["load_demo_data"]), served on a free
    port until the block ends. `env` adds settings (GOVSHARE_*), `drop_env` removes inherited ones."""
    environment = server_env(data_dir, env, drop=drop_env)
    migrated_data_dir(data_dir)
    for command in setup:
        govshare_command(*command, env=environment)
    port = free_port()
    server = LiveServer(url=f"http://127.0.0.1:{port}", data_dir=data_dir, env=environment)
    with server.log.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "govshare", "runserver", "--noreload", "--insecure", f"127.0.0.1:{port}"],
            env=environment,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _answers(server.url + ready_path):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the test server did not start:\n{server.log.read_text()}")
            time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)


@contextmanager
def chromium() -> Iterator[Any]:
    """Headless Debian Chromium driven by Playwright (a playwright Browser); fails with the install command if the
    machine has none."""
    if not CHROMIUM.exists():
        raise RuntimeError("Browser tests need Debian's Chromium: apt-get install -y chromium fonts-noto-cjk")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS), headless=True)
        try:
            yield browser
        finally:
            browser.close()
