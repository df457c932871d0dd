"""Events: every publish, install, build and failure appended to a log; subscribers react.

:func:`emit` is the one way to emit. Every event gets an envelope: ``id`` (unique, sortable
by time: see ``setpiece.core.eventlog``), ``event`` (its name), ``time``, ``user``,
``host``, ``site`` (``$SETPIECE_SITE``, else ``[workspace] site`` or ``[events] site`` in
``setpiece.toml``, else ``local``), ``traceparent`` (W3C: ``$TRACEPARENT`` or the one set by :func:`joined` is
joined, else one trace is made per process) and ``workspace``. An event is never rewritten.

Where it is written:

* always the workspace log ``.setpiece/events.jsonl`` (one JSON line, appended with
  ``O_APPEND``, fsynced);
* with ``to_repo=``, first the repo's own log (``eventlog.repo_log``: one file per event),
  where a ``published``/``promoted``/``yanked`` event is logged once per version: emitting
  it again returns the logged one and writes nothing;
* then, if ``[events] bus`` is configured, the repo log (a repo event) or the event
  itself (a workspace event) is sent to the bus (``setpiece.core.bus``; bounded to a few
  ms, never fails the action).

Subscribers are entry points in the group ``setpiece.events`` (``fn(event: dict) -> None``)
of the environment setpiece runs in; a subscriber that raises is reported, never fatal.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from setpiece.core.repos.base import Repo
    from setpiece.core.workspace import Workspace

log = logging.getLogger("setpiece.events")
NAMES = ("created", "published", "promoted", "yanked", "installed", "uninstalled", "built",
         "failed", "files.pushed", "files.pulled", "scene.built", "scene.updated")
#: Envelope fields every event has; data passed to emit cannot replace them.
ENVELOPE = ("id", "event", "time", "user", "host", "site", "traceparent")


def log_path(root: Path) -> Path:
    return root / ".setpiece" / "events.jsonl"


def emit(ws: Workspace, name: str, *, to_repo: Repo | None = None, **data: Any) -> dict[str, Any]:
    """Log event ``name`` with ``data`` (and the envelope), notify subscribers, return it.

    ``to_repo``: the repo the event is about (publish, promote, yank): it goes to that
    repo's own log too, and ``repo`` defaults to its name. A keyed event already in the
    repo log (a re-run after a kill) is returned as logged, and not written again.
    """
    from setpiece.core.eventlog import id_time, new_id

    clash = sorted(set(data) & set(ENVELOPE))
    if clash:
        raise ValueError(f"event data cannot set envelope fields {clash}")
    event_id = new_id()
    event: dict[str, Any] = {
        "id": event_id,
        "time": id_time(event_id),
        "event": name,
        "user": _user(),
        "host": _host(),
        "site": site(ws),
        "traceparent": current_traceparent(),
        "workspace": str(ws.root),
    }
    if to_repo is not None:
        event["repo"] = to_repo.name
    event.update(data)
    if to_repo is not None:
        from setpiece.core.eventlog import repo_log

        try:
            logged, new = repo_log(ws, to_repo).append(event)
        except OSError as exc:  # a read-only share: the action happened; say so, go on
            log.warning("could not log %s in repo '%s' (%s): a re-run logs it", name,
                        to_repo.name, exc)
        else:
            if not new:
                return logged.data
    line = _append_workspace(ws.root, event)
    _notify(event)
    _forward(ws, to_repo, event, line)
    return event


def _append_workspace(root: Path, event: dict[str, Any]) -> bytes:
    from setpiece.core.fsutil import append_line

    line = (json.dumps(event, sort_keys=True, default=str) + "\n").encode("utf-8")
    append_line(log_path(root), line, durable=True)
    return line


def _forward(ws: Workspace, repo: Repo | None, event: dict[str, Any], line: bytes) -> None:
    """When a bus is configured: forward the repo log (a repo event), or send this one
    workspace event as logged (a few ms at most; what is missed, 'events forward' sends)."""
    if not ws.config.section("events").get("bus"):
        return
    from setpiece.core import bus
    from setpiece.core.eventlog import Event

    bus.forward_after_emit(ws, repo, None if repo is not None else Event(event, line))


def site(ws: Workspace | None = None) -> str:
    """This machine's site: ``$SETPIECE_SITE``, else ``[workspace] site``, else ``[events]
    site``, else ``local`` (``setpiece.core.sites.current_name``)."""
    from setpiece.core.sites import current_name

    return current_name(ws) or "local"


# -- tracing: the W3C traceparent carried by every event ----------------------------------

_joined: contextvars.ContextVar[str | None] = contextvars.ContextVar("setpiece_trace", default=None)
_process_trace: str | None = None


def _valid_traceparent(value: str) -> bool:
    parts = value.strip().split("-")
    if len(parts) < 4 or len(parts[0]) != 2 or parts[0] == "ff":
        return False
    version, trace, span, flags = parts[:4]
    hexdigits = set("0123456789abcdef")
    return (
        len(trace) == 32 and len(span) == 16 and len(flags) == 2
        and set(trace + span + flags + version) <= hexdigits
        and trace != "0" * 32 and span != "0" * 16
    )


def new_traceparent() -> str:
    import secrets

    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"


def current_traceparent() -> str:
    """The trace events join: the active span's when telemetry is on
    (``setpiece.core.telemetry``), else :func:`joined`'s, else ``$TRACEPARENT`` if valid,
    else one made once per process (every event of one command shares it)."""
    global _process_trace
    from setpiece.core import telemetry

    active, joined_to = telemetry.traceparent(), _joined.get()
    if active and (joined_to is None or active[3:35] == joined_to[3:35]):
        return active
    value = inherited_traceparent()
    if value:
        return value
    if _process_trace is None:
        _process_trace = new_traceparent()
    return _process_trace


def inherited_traceparent() -> str | None:
    """The trace this work continues: :func:`joined`'s, else a valid ``$TRACEPARENT``."""
    value = _joined.get()
    if value:
        return value
    env = os.environ.get("TRACEPARENT", "").strip().lower()
    return env if env and _valid_traceparent(env) else None


@contextlib.contextmanager
def joined(traceparent: str | None) -> Iterator[None]:
    """Events emitted inside join ``traceparent`` (e.g. the event a reaction handles)."""
    ok = bool(traceparent) and _valid_traceparent(str(traceparent).lower())
    token = _joined.set(str(traceparent).lower() if ok else None)
    try:
        yield
    finally:
        _joined.reset(token)


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


def notify(event: dict[str, Any]) -> None:
    """Send an already-logged event to the ``setpiece.events`` subscribers (replays)."""
    _notify(event)


def read(root: Path, name: str | None = None) -> Iterator[dict[str, Any]]:
    """The workspace log's events as dicts, in (time, id) order (``eventlog.read`` for more)."""
    from setpiece.core.eventlog import WorkspaceLog
    from setpiece.core.eventlog import read as read_log

    for ev in read_log(WorkspaceLog(root), names=[name] if name else None):
        yield ev.data
