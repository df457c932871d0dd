"""Kill a setpiece command before each of its mutating file operations, check, re-run.

A ``Sweep`` holds one prepared sandbox (workspace, repos, ``SETPIECE_HOME``) at a fixed
path and a pristine copy of it. For each K in 1..N (N counted by a first, unkilled run),
the sandbox is restored from the copy (hard links kept: a workspace's tracked files are
links into its files cache), the command runs under ``killhook.py`` and is SIGKILLed
before its K-th operation, the independent checker runs, then the command is run once
more without a kill: it must succeed, and the checker runs again.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
KILLHOOK = HERE / "killhook.py"


#: Run each command in a child forked from this (pytest) process, where setpiece, dvc-data
#: and usd-core are already imported: the same CLI code in a separate process that a
#: SIGKILL ends, without paying for an interpreter start and imports each time (x5 faster).
#: ``SETPIECE_RELIABILITY_FORK=0`` runs ``killhook.py`` as a fresh interpreter instead.
FORK = hasattr(os, "fork") and os.environ.get("SETPIECE_RELIABILITY_FORK", "1") != "0"


_PRELOADED = False


#: ``SETPIECE_RELIABILITY_EVERY=N`` tries every N-th point only (a quick local run); the
#: default, and CI, try every point.
EVERY = max(1, int(os.environ.get("SETPIECE_RELIABILITY_EVERY", "1") or 1))


def preload() -> None:
    """Import what the commands import, once, before any fork."""
    global _PRELOADED
    if _PRELOADED:
        return
    _PRELOADED = True
    import io

    from setpiece.core.cli import main

    for mod in ("setpiece.core.files.store", "setpiece.core.files.pulling",
                "setpiece.core.files.pushing", "setpiece.core.files.publishing",
                "setpiece.core.files.tracking", "setpiece.core.files.remote",
                "setpiece.core.publishing", "setpiece.core.installing", "tomlkit",
                "dvc_data.hashfile.build", "dvc_data.hashfile.checkout",
                "dvc_data.hashfile.transfer", "dvc_data.hashfile.db", "dvc_data.hashfile.state",
                "setpiece.usd.cli", "setpiece.usd.workspace", "pxr.Usd"):
        try:
            __import__(mod)
        except ImportError:
            pass
    with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):
        main(["--help"])  # loads the lazily registered commands (usd's through its entry point)


def forked(argv: list[str], cwd: Path, env: dict[str, str]) -> Run:
    """``setpiece ARGV`` in a forked child with the kill hook installed; its exit status."""
    import io
    import signal
    import tempfile
    import traceback

    preload()
    with tempfile.TemporaryDirectory() as tmp:
        out_path, err_path = os.path.join(tmp, "out"), os.path.join(tmp, "err")
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            code = 70
            try:
                for fd, path in ((1, out_path), (2, err_path)):
                    new = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                    os.dup2(new, fd)
                    os.close(new)
                sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), line_buffering=True)
                sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), line_buffering=True)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                os.chdir(cwd)
                os.environ.clear()
                os.environ.update(env)
                import killhook

                killhook.install(env)
                from setpiece.core.cli import main

                try:
                    code = main(argv)
                except SystemExit as exc:
                    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
                killhook.write_count(env)
            except BaseException:
                traceback.print_exc()
            finally:
                with contextlib.suppress(BaseException):
                    sys.stdout.flush()
                    sys.stderr.flush()
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        with open(out_path, encoding="utf-8", errors="replace") as fh:
            out = fh.read()
        with open(err_path, encoding="utf-8", errors="replace") as fh:
            err = fh.read()
    return Run(code, out, err)


def restore(src: Path, dest: Path) -> None:
    """Copy ``src`` to ``dest`` (removed first), keeping symlinks, modes and hard links."""
    if dest.exists():
        for folder, _dirs, _files in os.walk(dest):  # read-only folders would stop rmtree
            os.chmod(folder, 0o755)
        shutil.rmtree(dest)
    seen: dict[tuple[int, int], str] = {}

    def copy(s: str, d: str) -> str:
        st = os.lstat(s)
        if st.st_nlink > 1:
            key = (st.st_dev, st.st_ino)
            if key in seen:
                os.link(seen[key], d)
                return d
            seen[key] = d
        return shutil.copy2(s, d)

    shutil.copytree(src, dest, symlinks=True, copy_function=copy)


@dataclass
class Run:
    code: int
    out: str
    err: str


@dataclass
class Tally:
    command: str
    points: int = 0
    held: int = 0
    failures: list[str] = field(default_factory=list)

    def row(self) -> str:
        return f"| `{self.command}` | {self.points} | {self.held} |"


@dataclass
class Sweep:
    """One command swept over its kill points.

    ``check(stage)`` returns problems (the checker's, plus the command's own invariants);
    ``recovered(run)`` returns problems with the re-run (exit code, what it says).
    """

    command: str
    args: list[str]
    sandbox: Path
    cwd: Path
    check: Callable[[str], list[str]]
    recovered: Callable[[Run], list[str]]
    env: dict[str, str] = field(default_factory=dict)

    def run_plain(self, *args: str) -> Run:
        """Another setpiece command in the same sandbox, not killed."""
        return self.run(args=list(args))

    def run(self, kill_at: int = 0, count_file: Path | None = None,
            log: Path | None = None, args: list[str] | None = None) -> Run:
        env = {
            **os.environ, **self.env,
            "PYTHONDONTWRITEBYTECODE": "1",
            "SETPIECE_KILL_ROOT": str(self.sandbox),
            "SETPIECE_KILL_AT": str(kill_at),
            "SETPIECE_KILL_COUNT": str(count_file or ""),
            "SETPIECE_KILL_LOG": str(log or ""),
        }
        argv = self.args if args is None else args
        if FORK:
            return forked(argv, self.cwd, env)
        proc = subprocess.run(
            [sys.executable, str(KILLHOOK), *argv], cwd=self.cwd, env=env,
            capture_output=True, text=True, timeout=300, check=False,
        )
        return Run(proc.returncode, proc.stdout, proc.stderr)

    def count(self, pristine: Path) -> int:
        counter = self.sandbox.parent / f"{self.sandbox.name}.count"
        log = self.sandbox.parent / f"{self.sandbox.name}.ops"  # K -> operation, to debug a K
        log.unlink(missing_ok=True)
        result = self.run(count_file=counter, log=log)
        assert result.code == 0, f"{self.command}: the unkilled run failed:\n{result.err}"
        problems = self.check("unkilled")
        assert not problems, problems
        n = int(counter.read_text())
        restore(pristine, self.sandbox)
        return n

    def sweep(self, points: list[int] | None = None) -> Tally:
        pristine = self.sandbox.parent / f"{self.sandbox.name}.pristine"
        restore(self.sandbox, pristine)
        n = self.count(pristine)
        tally = Tally(self.command)
        for k in points or range(1, n + 1, EVERY):
            restore(pristine, self.sandbox)
            killed = self.run(kill_at=k)
            tally.points += 1
            problems = []
            if killed.code != -9:
                # fewer operations this time (thread order): the run completed normally
                problems += [] if killed.code == 0 else [f"exit {killed.code}: {killed.err[-300:]}"]
            problems += [f"after the kill: {p}" for p in self.check("killed")]
            again = self.run()
            problems += [f"re-run: {p}" for p in self.recovered(again)]
            problems += [f"after the re-run: {p}" for p in self.check("recovered")]
            if problems:
                tally.failures.append(f"{self.command} K={k}/{n}: " + "; ".join(problems))
            else:
                tally.held += 1
        restore(pristine, self.sandbox)
        return tally


def exit_ok(run: Run) -> list[str]:
    if run.code != 0:
        return [f"exit {run.code}: {run.err.strip()[-400:]}"]
    if "Traceback" in run.err:
        return [f"traceback: {run.err[-400:]}"]
    return []


def workspace_with_repos(root: Path) -> Any:
    """A workspace ``root/ws`` with folder repos blessed and review under ``root/repos``."""
    from setpiece.core import Workspace
    from setpiece.core.repos.folder import FolderRepo

    repos = []
    for name in ("blessed", "review"):
        FolderRepo(name, str(root / "repos" / name)).create()
        repos.append((name, str(root / "repos" / name)))
    return Workspace.init(root / "ws", repos=repos, blessed="blessed", default="review")
