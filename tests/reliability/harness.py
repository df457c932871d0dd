"""Kill a setpiece command before each of its mutating file operations, check, re-run.

A ``Sweep`` holds one prepared sandbox (workspace, repos, ``SETPIECE_HOME``) at a fixed
path and a pristine copy of it. For each K in 1..N (N counted by a first, unkilled run),
the sandbox is restored from the copy (hard links kept: a workspace's tracked files are
links into its files cache), the command runs under ``killhook.py`` and is SIGKILLed
before its K-th operation, the independent checker runs, then the command is run once
more without a kill: it must succeed, and the checker runs again.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
KILLHOOK = HERE / "killhook.py"


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
        proc = subprocess.run(
            [sys.executable, str(KILLHOOK), *(self.args if args is None else args)], cwd=self.cwd, env=env,
            capture_output=True, text=True, timeout=300, check=False,
        )
        return Run(proc.returncode, proc.stdout, proc.stderr)

    def count(self, pristine: Path) -> int:
        counter = self.sandbox.parent / f"{self.sandbox.name}.count"
        result = self.run(count_file=counter)
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
        for k in points or range(1, n + 1):
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
