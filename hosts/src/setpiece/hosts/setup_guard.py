"""Keeping asset setup code from taking a batch build down with it.

Setup code is arbitrary code: it may loop forever, sleep in C, or call ``os._exit``, which
no ``try`` can catch. So:

- **Time limit**, ``[setup] timeout`` in ``setpiece.toml`` (seconds, default 300; 0 turns
  it off): in the app, a setup still running at its limit gets a ``SetupTimeout`` raised
  in it (``SIGALRM``, main thread, where the platform has it). It is reported as failed
  with the asset and version, and the other setups and the build go on.
- **A supervising parent** for ``setpiece batch HOST build``: the app writes its progress
  (which phase, which setup since when) to a small file the parent reads. The scene is
  saved once before any setup runs. If the app dies inside a setup (``os._exit``, a crash)
  or a setup outlives its limit by ``GRACE`` seconds (stuck where a signal cannot reach
  it), the parent stops the app and reports the asset, the version and the scene saved
  before setup code ran.
- **In an interactive app session** there is no parent: the time limit works the same for
  Python code (the app's UI is blocked until it fires), but a setup calling ``os._exit``
  ends the app like any ``os._exit`` would, and one stuck in C code keeps it frozen. Open
  such a scene in safe mode (``setpiece launch HOST --no-setup``) and fix the asset.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

PROGRESS_VAR = "SETPIECE_SETUP_PROGRESS"
DEFAULT_TIMEOUT = 300.0
GRACE = 10.0  # how long past its limit the parent waits for a setup before stopping the app


class SetupTimeout(BaseException):
    """Raised inside a setup that ran past its time limit (a BaseException: a setup's own
    ``except Exception`` cannot swallow it)."""


def setup_timeout(workspace: Any) -> float | None:
    """``[setup] timeout`` of the workspace (seconds), None for no limit."""
    section: dict[str, Any] = {}
    with contextlib.suppress(Exception):
        section = workspace.config.section("setup") if workspace is not None else {}
    value = section.get("timeout", DEFAULT_TIMEOUT)
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return DEFAULT_TIMEOUT
    return seconds if seconds > 0 else None


@contextlib.contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise ``SetupTimeout`` in the block once it ran ``seconds`` (main thread only)."""
    usable = (seconds and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return

    def fire(signum: int, frame: Any) -> None:
        raise SetupTimeout(f"ran longer than {seconds:g} s (the [setup] timeout in setpiece.toml)")

    old = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, float(seconds or 0))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


_STATE: dict[str, Any] = {}


def progress(**state: Any) -> None:
    """Tell the supervising parent where the app is (a no-op without one). Keys given are
    merged into what was said before (``saved`` stays known through the setups)."""
    path = os.environ.get(PROGRESS_VAR)
    if not path:
        return
    from setpiece.core.fsutil import atomic_write_text

    _STATE.update(state, time=time.time())
    with contextlib.suppress(OSError):
        atomic_write_text(Path(path), json.dumps(_STATE))


def read_progress(path: str | Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def supervise(command: Sequence[str], env: dict[str, str], stdout: int | IO[Any] | None,
              progress_path: str, host: str, poll: float = 0.25) -> tuple[int, str | None]:
    """Run the app; stop it when a setup outlives its limit. Returns (exit code, a one-line
    error when setup code ended or froze the app, else None)."""
    proc = subprocess.Popen(list(command), env={**env, PROGRESS_VAR: progress_path}, stdout=stdout)
    stopped: dict[str, Any] | None = None
    while True:
        try:
            code = proc.wait(timeout=poll)
            break
        except subprocess.TimeoutExpired:
            st = read_progress(progress_path)
            limit = st.get("timeout")
            if st.get("phase") == "setup" and st.get("asset") and limit and \
                    time.time() - float(st.get("started", time.time())) > float(limit) + GRACE:
                proc.kill()
                code = proc.wait()
                stopped = st
                break
    st = stopped or read_progress(progress_path)
    saved = st.get("saved")
    kept = (f"the scene as built before setup code ran was saved to {saved}" if saved
            else "no scene was saved")
    if stopped is not None:
        return 1, (f"the setup of {st['asset']} {st['version']} ran past its {st['timeout']:g} s "
                   f"limit and did not stop: {host} was stopped; {kept}; fix the asset's setup, "
                   "raise [setup] timeout in setpiece.toml, or build with --no-setup")
    if code in (0, 1):
        return code, None
    if st.get("phase") == "setup" and st.get("asset"):
        return 1, (f"the setup of {st['asset']} {st['version']} ended {host} (exit code {code}: "
                   f"os._exit or a crash); {kept}; fix the asset's setup or build with --no-setup")
    if st.get("phase") in ("build", "setup", "save"):
        return 1, (f"{host} ended during the build (exit code {code}) while in its "
                   f"{st['phase']} step; {kept}")
    return code, None
