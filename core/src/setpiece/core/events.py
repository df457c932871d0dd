"""Events: every publish, install, build and failure appended to a log; subscribers react.

The log is ``.setpiece/events.jsonl`` in the workspace: one JSON object a line, appended
with ``O_APPEND`` (atomic for lines under the pipe buffer size) and fsynced. Subscribers
are entry points in the group ``setpiece.events`` (``fn(event: dict) -> None``) of the
environment setpiece runs in; a subscriber that raises is reported, never fatal.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from setpiece.core.workspace import Workspace

log = logging.getLogger("setpiece.events")
NAMES = ("created", "published", "promoted", "installed", "uninstalled", "built", "failed",
         "files.pushed", "files.pulled", "scene.built", "scene.updated")


def log_path(root: Path) -> Path:
    return root / ".setpiece" / "events.jsonl"


def emit(ws: Workspace, name: str, **data: Any) -> dict[str, Any]:
    event = {
        "time": round(time.time(), 3),
        "event": name,
        "user": _user(),
        "host": _host(),
        "workspace": str(ws.root),
        **data,
    }
    path = log_path(ws.root)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(event, sort_keys=True, default=str) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)
    _notify(event)
    return event


def _host() -> str:
    import socket

    return socket.gethostname()


def _user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


_subscribers_cache: tuple[tuple[str, ...], list[Any]] | None = None


def _subscribers() -> list[Any]:
    """The ``setpiece.events`` entry points, looked up once per process (and ``sys.path``).

    ``importlib.metadata.entry_points`` parses every distribution's metadata (~100 ms in
    a development venv, paid by every CLI command that emits): instead read each
    ``entry_points.txt`` as bytes and parse only the distributions that name the group.
    """
    global _subscribers_cache
    key = tuple(sys.path)
    if _subscribers_cache is None or _subscribers_cache[0] != key:
        _subscribers_cache = (key, _scan(GROUP))
    return _subscribers_cache[1]


GROUP = "setpiece.events"


def _scan(group: str) -> list[Any]:
    marker = f"[{group}]".encode()
    found: list[Any] = []
    seen: set[str] = set()
    for folder in sys.path:
        try:
            entries = os.scandir(folder or ".")
        except OSError:
            continue
        with entries:
            for entry in entries:
                if not entry.name.endswith(".dist-info"):
                    continue
                name = entry.name.partition("-")[0].lower()
                if name in seen:  # the first distribution of a name wins, as in importlib
                    continue
                seen.add(name)
                try:
                    with open(os.path.join(entry.path, "entry_points.txt"), "rb") as fh:
                        if marker not in fh.read():
                            continue
                except OSError:
                    continue
                from importlib.metadata import Distribution

                dist = Distribution.at(entry.path)
                found.extend(dist.entry_points.select(group=group))
    return found


def _notify(event: dict[str, Any]) -> None:
    for ep in _subscribers():
        try:
            ep.load()(event)
        except Exception as exc:  # a subscriber never breaks the user's action
            log.warning("event subscriber %s failed on %s: %s", ep.name, event["event"], exc)


def read(root: Path, name: str | None = None) -> Iterator[dict[str, Any]]:
    path = log_path(root)
    if not path.exists():
        return
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                event = json.loads(line)
            except ValueError:
                continue  # a torn last line from a crash is skipped, never fatal
            if name is None or event.get("event") == name:
                yield event
