"""Shared fixtures for every layer's tests (core, usd, hosts).

Isolation: every test gets its own ``SETPIECE_HOME`` (so nothing touches the user's
``~/.local/share/setpiece``), no inherited ``SETPIECE_WORKSPACE``, and one uv cache per
session (``UV_CACHE_DIR``, shared across tests for speed); uv never downloads Python.

Fixtures:

* ``run_cli(*args, cwd=None) -> Result``: the ``setpiece`` CLI run in-process.
* ``run_setpiece(*args, cwd=None, env=None) -> Result``: the real ``setpiece`` executable.
* ``run_in_terminal(*args, cwd=None, env=None) -> Terminal``: the real executable with a
  pseudo-terminal (pty) as stdin, stdout and stderr: what a user's terminal receives
  (``raw``) and shows once the command ends (``screen``).
* ``make_repo(name) -> Path``: an empty folder repo under the test's tmp folder.
* ``make_workspace(name="ws", repos=None, blessed=None, default=None) -> Workspace``.
* ``sample_repo``: a folder repo (a fresh copy per test) holding the published ``SAMPLES``.
* ``sample_ws``: a workspace whose blessed repo is ``sample_repo`` and default repo an
  empty ``review`` folder.
* ``redis_server``: a real redis-server on 127.0.0.1 (``.url``, ``.kill()``, ``.start()``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SETPIECE = BIN / ("setpiece.exe" if sys.platform == "win32" else "setpiece")

#: Sample assets published in ``sample_repo``: (name, kind, description, versions, build deps).
#: Abstract (push), bounded (semi-push) and concrete (pull) requirements, and a set of a set
#: (Apartment -> KitchenSet -> props) to prove ``[build]`` closures are transitive.
SAMPLES: list[tuple[str, str, str, list[str], list[str]]] = [
    ("Chair", "prop", "A kitchen chair", ["1.0.0", "1.1.0"], []),
    ("Table", "prop", "A kitchen table", ["1.2.3", "1.3.0", "2.0.0"], []),
    ("Lamp", "prop", "A pendant lamp", ["3.2.1", "3.3.0"], []),
    (
        "KitchenSet",
        "set",
        "The kitchen: chairs around a table under a lamp",
        ["1.0.0"],
        ["Chair", "Table>=1.2.3,<2", "Lamp==3.2.1"],
    ),
    ("Apartment", "set", "Rooms of an apartment", ["0.1.0"], ["KitchenSet"]),
]


@dataclass
class Result:
    """What a CLI run printed and returned."""

    exit_code: int
    out: str
    err: str

    def json(self) -> Any:
        import json

        return json.loads(self.out)

    def user_error(self, *fragments: str) -> str:
        """Assert a clean user error (exit 1, one ``error:`` line naming ``fragments``)."""
        return assert_user_error(self, *fragments)


def assert_user_error(result: Result, *fragments: str) -> str:
    """Exit 1, exactly one ``error:`` line (the last line of stderr), no traceback."""
    assert result.exit_code == 1, f"exit {result.exit_code}\nout: {result.out}\nerr: {result.err}"
    assert "Traceback" not in result.err, result.err
    lines = [ln for ln in result.err.splitlines() if ln.strip()]
    assert lines, "no message on stderr"
    errors = [ln for ln in lines if ln.startswith("error:")]
    assert len(errors) == 1 and lines[-1] == errors[0], result.err
    message = errors[0]
    for fragment in fragments:
        assert fragment.lower() in message.lower(), f"{fragment!r} not in {message!r}"
    return message


# -- isolation -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def uv_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("uv-cache")


def _isolate(mp: pytest.MonkeyPatch, home: Path, uv_cache: Path) -> None:
    mp.setenv("SETPIECE_HOME", str(home))
    mp.setenv("UV_CACHE_DIR", str(uv_cache))
    mp.setenv("UV_PYTHON_DOWNLOADS", "never")
    mp.setenv("UV_NO_PROGRESS", "1")
    mp.setenv("DVC_SITE_CACHE_DIR", str(home / "dvc-site-cache"))
    mp.delenv("SETPIECE_WORKSPACE", raising=False)
    mp.delenv("VIRTUAL_ENV", raising=False)


@pytest.fixture(autouse=True)
def setpiece_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory, uv_cache_dir: Path
) -> Path:
    """Per-test ``SETPIECE_HOME`` (returned), shared uv cache, no inherited workspace."""
    home = tmp_path_factory.mktemp("setpiece-home")
    _isolate(monkeypatch, home, uv_cache_dir)
    return home


# -- running the CLI ----------------------------------------------------------------------


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """Run ``setpiece ARGS`` in-process (fast); returns exit code, stdout and stderr."""
    from setpiece.core.cli import main

    def run(*args: Any, cwd: Path | str | None = None) -> Result:
        capsys.readouterr()
        old = Path.cwd()
        if cwd is not None:
            os.chdir(cwd)
        try:
            code = main([str(a) for a in args])
        finally:
            os.chdir(old)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def run_setpiece() -> Callable[..., Result]:
    """Run the real ``setpiece`` executable in a subprocess (exit codes as a shell sees them)."""

    def run(
        *args: Any, cwd: Path | str | None = None, env: dict[str, str] | None = None,
        timeout: float = 120,
    ) -> Result:
        proc = subprocess.run(
            [str(SETPIECE), *(str(a) for a in args)],
            cwd=cwd,
            env={**os.environ, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    return run


@dataclass
class Terminal:
    """A command run on a pseudo-terminal: exit code, every byte it wrote (stdout and stderr
    together, as a terminal receives them) and the lines left on the screen."""

    exit_code: int
    raw: str

    @property
    def screen(self) -> list[str]:
        """The lines a user sees at the end: carriage returns and erase-to-end-of-line
        (``ESC [ K``) applied, as a terminal applies them."""
        lines: list[str] = [""]
        col = 0
        i = 0
        text = self.raw
        while i < len(text):
            ch = text[i]
            if text.startswith("\x1b[K", i):
                lines[-1] = lines[-1][:col]
                i += 3
                continue
            if ch == "\r":
                col = 0
            elif ch == "\n":
                lines.append("")
                col = 0
            else:
                cur = lines[-1]
                lines[-1] = cur[:col] + ch + cur[col + 1:]
                col += 1
            i += 1
        while lines and not lines[-1]:
            lines.pop()
        return lines


@pytest.fixture
def run_in_terminal() -> Callable[..., Terminal]:
    """Run the real ``setpiece`` with a pty as its terminal (see :class:`Terminal`)."""
    import fcntl
    import pty
    import select
    import struct
    import termios
    import time

    def run(*args: Any, cwd: Path | str | None = None, env: dict[str, str] | None = None,
            timeout: float = 120) -> Terminal:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
        full_env = {**os.environ, **(env or {})}
        full_env.pop("SETPIECE_NO_PROGRESS", None)
        full_env["TERM"] = "xterm-256color"  # what a user's terminal says (CI may say dumb)
        proc = subprocess.Popen([str(SETPIECE), *(str(a) for a in args)], cwd=cwd,
                                env=full_env, stdin=slave, stdout=slave, stderr=slave,
                                close_fds=True)
        os.close(slave)
        chunks: list[bytes] = []
        deadline = time.monotonic() + timeout
        while True:
            if not select.select([master], [], [], max(0.0, deadline - time.monotonic()))[0]:
                proc.kill()
                raise TimeoutError(f"setpiece {args} still running after {timeout}s")
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the command ended and closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        os.close(master)
        code = proc.wait(timeout=timeout)
        return Terminal(code, b"".join(chunks).decode("utf-8", "replace"))

    return run


# -- repos and workspaces ----------------------------------------------------------------------


@pytest.fixture
def make_repo(tmp_path: Path) -> Callable[[str], Path]:
    """An empty folder repo ``tmp_path/repos/NAME`` (with its static index)."""

    def make(name: str) -> Path:
        from setpiece.core.repos.folder import FolderRepo

        path = tmp_path / "repos" / name
        FolderRepo(name, str(path)).create()
        return path

    return make


@pytest.fixture
def make_workspace(tmp_path: Path, make_repo: Callable[[str], Path]) -> Callable[..., Any]:
    """A new workspace ``tmp_path/NAME``; by default with folder repos ``blessed`` and
    ``review`` (created under the test's tmp folder, shared by the test's workspaces)."""
    from setpiece.core import Workspace

    def make(
        name: str = "ws",
        repos: dict[str, str | Path] | None = None,
        blessed: str | None = None,
        default: str | None = None,
    ) -> Any:
        if repos is None:
            repos = {"blessed": make_repo("blessed"), "review": make_repo("review")}
            blessed = blessed or "blessed"
            default = default or "review"
        return Workspace.init(
            tmp_path / name,
            repos=[(n, str(loc)) for n, loc in repos.items()],
            blessed=blessed,
            default=default,
        )

    return make


def publish_samples(ws: Any, samples: list[tuple[str, str, str, list[str], list[str]]]) -> None:
    """Create, publish (every version) and then remove output assets, like a studio would."""
    for name, kind, description, versions, reqs in samples:
        ws.create(name, kind=kind, version=versions[0], description=description)
        if reqs:
            ws.require(name, reqs, group="build")
        for i, version in enumerate(versions):
            if i:
                ws.output(name).set_version(version)
            ws.publish(name)
    for name, *_ in samples:
        shutil.rmtree(ws.output(name).path)
    ws.uv_pip("uninstall", [n for n, *_ in samples], what="cleanup", with_index=False)


@pytest.fixture(scope="session")
def _sample_repo_master(tmp_path_factory: pytest.TempPathFactory, uv_cache_dir: Path) -> Path:
    from setpiece.core import Workspace

    base = tmp_path_factory.mktemp("samples")
    with pytest.MonkeyPatch.context() as mp:
        _isolate(mp, base / "home", uv_cache_dir)
        repo = base / "samples"
        ws = Workspace.init(
            base / "ws", repos=[("samples", str(repo))], blessed="samples", default="samples"
        )
        publish_samples(ws, SAMPLES)
    return repo


@pytest.fixture
def sample_repo(tmp_path: Path, _sample_repo_master: Path) -> Path:
    """A folder repo with every ``SAMPLES`` version published (a fresh copy per test)."""
    dest = tmp_path / "repos" / "samples"
    shutil.copytree(_sample_repo_master, dest)
    return dest


@pytest.fixture
def sample_ws(make_workspace: Callable[..., Any], make_repo: Callable[[str], Path],
              sample_repo: Path) -> Any:
    """A workspace: blessed = ``sample_repo`` (named ``blessed``), default = empty ``review``."""
    return make_workspace(
        repos={"blessed": sample_repo, "review": make_repo("review")},
        blessed="blessed",
        default="review",
    )


@pytest.fixture
def in_dir(monkeypatch: pytest.MonkeyPatch) -> Callable[[Path], None]:
    """``in_dir(path)``: make ``path`` the current folder for the rest of the test."""

    def go(path: Path) -> None:
        monkeypatch.chdir(path)

    return go


_DIAGNOSTICS = (".lock", "actions.jsonl", "last-error.txt", ".setpiece", "telemetry",
                "spans.jsonl", "metrics.jsonl",  # the folders: their other files still count
                ".setpiece-installed.json")  # the installed index: a cache any reader refreshes


def snapshot(root: Path, *, skip: tuple[str, ...] = ()) -> dict[str, bytes | None]:
    """Every file (bytes) and folder (None) under ``root``: compare before/after a failure.

    Paths starting with one of ``skip`` are left out, and so are uv's ``.lock`` files (uv
    takes a lock on a venv even for an install that fails) and the action log and last
    error (``.setpiece/actions.jsonl``, ``last-error.txt``: a failing command is recorded
    there by design, see ``setpiece.core.actions``, which may create ``.setpiece/``), and
    the telemetry files (``.setpiece/telemetry/``: every command's span and metrics).
    """
    out: dict[str, bytes | None] = {}
    if not root.exists():
        return out
    for dirpath, dirnames, filenames in os.walk(root):
        rel = Path(dirpath).relative_to(root)
        for name in [*dirnames, *filenames]:
            key = str(rel / name)
            if name in _DIAGNOSTICS or any(key.startswith(s) for s in skip):
                continue
            path = Path(dirpath) / name
            if name in dirnames:
                out[key] = None
                continue
            try:
                out[key] = path.read_bytes()
            except OSError:
                out[key] = b"<unreadable>"
    return out


@pytest.fixture
def snap() -> Callable[..., dict[str, bytes | None]]:
    """``snap(path)``: a comparable picture of a folder tree (see ``snapshot``)."""
    return snapshot


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (right now)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 with no server: connections are refused (an unreachable index)."""
    return free_port()


# -- redis (the studio bus) ---------------------------------------------------------------


class RedisServer:
    """A real ``redis-server`` on 127.0.0.1 (AOF on, fsync always), stopped by pid.

    ``url``; ``kill()`` (SIGKILL, as a crash); ``start()`` (again, same port and data
    folder: the AOF brings back what was acknowledged); ``stop()``.
    """

    def __init__(self, exe: str, folder: Path) -> None:
        self.exe = exe
        self.dir = folder
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        import socket
        import time

        self.dir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [self.exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.dir),
             "--protected-mode", "no", "--daemonize", "no", "--logfile", str(self.dir / "log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"redis-server did not start on port {self.port}: see {self.dir / 'log'}")

    def kill(self) -> None:
        import signal

        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.proc = None


@pytest.fixture
def redis_server(tmp_path: Path) -> Any:
    """A fresh ``RedisServer`` for the test (skipped only if ``redis-server`` is missing:
    CI installs it, ``apt-get install -y redis-server``)."""
    exe = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None)
    if exe is None:
        pytest.skip("redis-server is not installed (apt-get install -y redis-server)")
    server = RedisServer(exe, tmp_path / "redis")
    server.start()
    try:
        yield server
    finally:
        server.stop()
