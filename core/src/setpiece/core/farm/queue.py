"""The ``local`` backend's queue across jobs: at most ``jobs`` jobs run at once, the one
with the highest priority first (then the one submitted first).

``[farm.backends.local] jobs = N`` turns it on (without it every job starts at once, as
before). A job's runner, before it runs anything, writes an entry in
``<jobs_dir>/.queue/<job id>.json`` (its priority, when it was submitted, its pid) and waits
until it is first among the live entries and one of the N slot locks
(``<jobs_dir>/.queue/slot-K.lock``, ``fcntl.flock``) is free; it holds that slot until it
ends (the OS releases the lock however it ends). An entry whose process is gone is
dropped, so a killed runner never blocks the queue. This is how a farm orders transfers
(``setpiece repo sync --farm --priority N``) on one machine.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path

from setpiece.core.fsutil import atomic_write_text

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no queue (every job starts at once)
    fcntl = None  # type: ignore[assignment]

POLL = 0.2


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _waiting(folder: Path) -> list[tuple[int, float, str]]:
    """(-priority, submitted, job id) of every live entry; dead ones are removed."""
    out = []
    for entry in folder.glob("*.json"):
        try:
            data = json.loads(entry.read_text(encoding="utf-8"))
            key = (-int(data["priority"]), float(data["submitted"]), entry.stem)
            pid = int(data["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if not _alive(pid):
            with contextlib.suppress(OSError):
                entry.unlink()
            continue
        out.append(key)
    return sorted(out)


def _try_slot(folder: Path, slots: int) -> int | None:
    assert fcntl is not None
    for k in range(slots):
        fd = os.open(folder / f"slot-{k}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        return fd
    return None


def wait_for_slot(jobs_dir: Path, job_id: str, priority: int, submitted: float,
                  slots: int) -> int | None:
    """Block until this job may run; returns the slot's lock fd (keep it open while the job
    runs), or None where there is no ``fcntl`` (no queue)."""
    if fcntl is None:
        return None
    folder = jobs_dir / ".queue"
    folder.mkdir(parents=True, exist_ok=True)
    mine = folder / f"{job_id}.json"
    atomic_write_text(mine, json.dumps({"priority": priority, "submitted": submitted,
                                        "pid": os.getpid()}))
    try:
        while True:
            queue = _waiting(folder)
            if not queue or queue[0][2] == job_id:
                fd = _try_slot(folder, slots)
                if fd is not None:
                    return fd
            time.sleep(POLL)
    finally:
        with contextlib.suppress(OSError):
            mine.unlink()
