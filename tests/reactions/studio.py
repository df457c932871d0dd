"""Helpers of the reaction tests (imported by them: tests/reactions is on sys.path)."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from setpiece.core.reactions.state import StateStore


def installed(ws: Any) -> dict[str, str]:
    return {k: str(v.version) for k, v in ws.installed_assets().items()}


def tree_state(folder: Path) -> dict[str, int]:
    """mtime of every file under ``folder`` (to prove nothing was rewritten)."""
    out = {}
    for dirpath, _dirs, files in os.walk(folder):
        for f in files:
            p = Path(dirpath) / f
            out[str(p)] = p.stat().st_mtime_ns
    return out


def runs_of(ws: Any, name: str = "kitchen") -> tuple[int, str]:
    st = StateStore(Path(ws.root) / ".setpiece" / "reactions").load(name)
    return st.runs, st.status


def wait_for(predicate: Any, timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


class Service:
    """``setpiece react --json`` running in a workspace; its outcome lines collected."""

    def __init__(self, exe: Path, ws: Any) -> None:
        self.proc = subprocess.Popen(
            [str(exe), "-w", str(ws.root), "react", "--json"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        self.outcomes: list[dict[str, Any]] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("{"):
                self.outcomes.append(json.loads(line))

    def ran(self) -> list[dict[str, Any]]:
        return [o for o in self.outcomes if o["status"] == "ran"]

    def stop(self) -> tuple[int, str]:
        import signal

        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(30)
        self.reader.join(5)
        assert self.proc.stderr is not None
        return code, self.proc.stderr.read()


#: messages the ``notify`` hook ``studio:hear`` got (tests/reactions is on sys.path)
HEARD: list[str] = []


def hear(message: str, ctx: Any) -> None:
    HEARD.append(f"{ctx.reaction.name}: {message}")
