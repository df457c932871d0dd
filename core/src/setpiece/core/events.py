"""Events: every publish, install, build and failure appended to a log; subscribers react.

The log is ``.setpiece/events.jsonl`` in the workspace: one JSON object a line, appended
with ``O_APPEND`` (atomic for lines under the pipe buffer size) and fsynced. Subscribers
are entry points in the group ``setpiece.events`` (``fn(event: dict) -> None``) of the
environment setpiece runs in; a subscriber that raises is reported, never fatal.
"""

from __future__ import annotations

import getpass
import json
import logging
import os
import socket
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
        "host": socket.gethostname(),
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


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


_subscribers_cache: tuple[tuple[str, ...], list[Any]] | None = None


def _subscribers() -> list[Any]:
    """The ``setpiece.events`` entry points, looked up once per process (and ``sys.path``):
    the lookup reads every installed distribution's metadata, tens of ms in a big venv."""
    global _subscribers_cache
    key = tuple(sys.path)
    if _subscribers_cache is None or _subscribers_cache[0] != key:
        from importlib.metadata import entry_points

        _subscribers_cache = (key, list(entry_points(group="setpiece.events")))
    return _subscribers_cache[1]


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
