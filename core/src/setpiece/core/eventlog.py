"""Event logs: where events are kept, and the typed API that reads them.

Two kinds of log:

* A **folder log** (a repo's own log, ``<repo>/.setpiece/events``): one file per event,
  ``<yyyy>/<mm>/<id>.json`` (UTC month of the event), written to a hidden temp file,
  fsynced, then hard-linked to its final name, which never overwrites. Many machines can
  write into one shared folder (NFS) at once: there is no shared file to append to.
  Events that must happen once per version (``published``, ``promoted``, ``yanked``)
  are also linked under ``keys/<event>/<name>@<version>.json`` first, exclusively, so a
  re-run after a kill never logs a second one.
* The **workspace log** (``<workspace>/.setpiece/events.jsonl``): workspace-local actions,
  one JSON line each (``setpiece.core.events``).

Every event has an ``id``: 26 Crockford base32 characters, the first 10 the event's time
in milliseconds, the rest random (ULID layout), so sorting ids sorts by (time, id). A
log reads in id order; ``since`` is an id (exclusive) or a time (inclusive).

Clocks of different machines disagree and a slow writer links its file late, so an event
can land *behind* one a reader has already seen. :class:`Cursor` keeps the ids seen in a
look-back window (``LOOKBACK_MS``) and re-reads that window, so resuming from a cursor
misses nothing written within that window of lateness.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import threading
import time
from collections.abc import Container, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from setpiece.core.errors import SetpieceError

if TYPE_CHECKING:
    from setpiece.core.repos.base import Repo
    from setpiece.core.workspace import Workspace

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: sortable as text
_DECODE = {c: i for i, c in enumerate(_ALPHABET)}
ID_LENGTH = 26
#: Events linked once per (event, name, version) in a repo log.
KEYED = ("published", "promoted", "yanked")
#: How late (ms) an event may land behind one already read and still be seen by a cursor.
LOOKBACK_MS = 5 * 60 * 1000

_lock = threading.Lock()
_last: tuple[int, int] = (0, 0)


def _encode(value: int, length: int) -> str:
    out = []
    for _ in range(length):
        out.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(out))


def new_id(ms: int | None = None) -> str:
    """A new unique id, sortable by time: 48 bits of ms time then 80 random bits.

    Within one process ids are strictly increasing (a second id in the same millisecond
    takes the previous random part plus one), as in the ULID monotonic rule.
    """
    global _last
    now = int(time.time() * 1000) if ms is None else ms
    with _lock:
        last_ms, last_rand = _last
        if now <= last_ms and ms is None:
            now, rand = last_ms, last_rand + 1
        else:
            rand = secrets.randbits(80)
        _last = (now, rand)
    return _encode(now, 10) + _encode(rand & ((1 << 80) - 1), 16)


def id_time(event_id: str) -> float:
    """The time (seconds since the epoch) an id was made at."""
    ms = 0
    for c in event_id[:10].upper():
        ms = ms * 32 + _DECODE[c]
    return ms / 1000.0


def is_id(text: str) -> bool:
    return len(text) == ID_LENGTH and all(c in _DECODE for c in text.upper())


def min_id(t: float) -> str:
    """The smallest id of time ``t``: ``id > min_id(t)`` is 'at or after t' (to the ms)."""
    return _encode(int(t * 1000), 10) + "0" * 16 if t > 0 else ""


def parse_since(text: str | None) -> str | None:
    """``--since``: an event id (exclusive), or a time: ISO 8601 (``2026-12-07``,
    ``2026-12-07T10:00``, UTC unless it has an offset), seconds since the epoch, or an age
    (``30s``, ``15m``, ``2h``, ``7d``). Returns an id bound (ids greater are after)."""
    if not text:
        return None
    text = text.strip()
    if is_id(text):
        return text.upper()
    t = _parse_time(text)
    return _encode(max(int(t * 1000) - 1, 0), 10) + "Z" * 16  # inclusive of t's own ms


def parse_until(text: str | None) -> str | None:
    """``--until``: an id (inclusive) or a time (exclusive); ids up to the result are in."""
    if not text:
        return None
    text = text.strip()
    if is_id(text):
        return text.upper()
    return _encode(max(int(_parse_time(text) * 1000) - 1, 0), 10) + "Z" * 16


def _parse_time(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    if text[:-1].isdigit() and text[-1:] in units:
        return time.time() - int(text[:-1]) * units[text[-1]]
    try:
        return float(text)
    except ValueError:
        pass
    from datetime import datetime, timezone

    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise SetpieceError(
            f"'{text}' is neither an event id nor a time: give an id (26 characters, from "
            "'setpiece events --json'), an ISO time like 2026-12-07T10:00 (UTC), or an age like 2h"
        )
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


@dataclass(frozen=True)
class Event:
    """One logged event: its JSON object (``data``) and the exact bytes it was stored as."""

    data: dict[str, Any]
    raw: bytes = b""
    #: set on events re-sent by ``setpiece events replay`` (the replay's id)
    replay: str | None = None

    @property
    def id(self) -> str:
        return str(self.data["id"])

    @property
    def name(self) -> str:
        return str(self.data.get("event", ""))

    @property
    def time(self) -> float:
        return float(self.data.get("time", 0.0))

    @property
    def asset(self) -> str | None:
        value = self.data.get("asset")
        return None if value is None else str(value)

    @property
    def version(self) -> str | None:
        value = self.data.get("version")
        return None if value is None else str(value)

    @property
    def traceparent(self) -> str | None:
        value = self.data.get("traceparent")
        return None if value is None else str(value)

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def to_dict(self) -> dict[str, Any]:
        """The event as subscribers get it (``replay`` added on a replay)."""
        return {**self.data, "replay": self.replay} if self.replay else dict(self.data)

    @classmethod
    def from_bytes(cls, raw: bytes, replay: str | None = None) -> Event:
        return cls(json.loads(raw), raw, replay)


def encode(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, sort_keys=True, default=str) + "\n").encode("utf-8")


class EventLog:
    """A readable log of events (in id order)."""

    label = ""

    def events(self, after: str | None = None, until: str | None = None,
               skip: Container[str] = ()) -> Iterator[Event]:
        """Events with ``after < id <= until``, in id order, but those whose id is in ``skip``."""
        raise NotImplementedError

    def ids_since(self, after: str | None = None) -> list[str]:
        """The ids after ``after``, in order (a folder log reads no event file for this)."""
        return [ev.id for ev in self.events(after=after)]


class FolderLog(EventLog):
    """One file per event under ``root`` (a repo's ``.setpiece/events``)."""

    def __init__(self, root: Path, label: str = "") -> None:
        self.root = Path(root)
        self.label = label or str(root)

    def path_of(self, event_id: str) -> Path:
        t = time.gmtime(id_time(event_id))
        return self.root / f"{t.tm_year:04d}" / f"{t.tm_mon:02d}" / f"{event_id}.json"

    def key_path(self, event: str, name: str, version: str) -> Path:
        from packaging.utils import canonicalize_version

        from setpiece.core.naming import normalize

        return self.root / "keys" / event / f"{normalize(name)}@{canonicalize_version(version)}.json"

    def keyed(self, event: str, name: str, version: str) -> Event | None:
        """The one ``event`` logged for ``name==version``, if any (finishing its link)."""
        key = self.key_path(event, name, version)
        try:
            raw = key.read_bytes()
        except FileNotFoundError:
            return None
        ev = Event.from_bytes(raw)
        self._link(key, self.path_of(ev.id))
        return ev

    def append(self, data: dict[str, Any], *, sync_dirs: bool = True) -> tuple[Event, bool]:
        """Write one event; returns it and whether it is new. A keyed event (``KEYED``,
        with ``asset`` and ``version``) already logged returns the logged one, unchanged.
        ``sync_dirs=False`` (many events in a row, ``repo sync``): the event's bytes are
        fsynced before its name appears, its folders are not; the caller fsyncs them once
        (``sync_folders``)."""
        raw = encode(data)
        dest = self.path_of(str(data["id"]))
        key = None
        if data.get("event") in KEYED and data.get("asset") and data.get("version"):
            key = self.key_path(str(data["event"]), str(data["asset"]), str(data["version"]))
        folder = (key or dest).parent
        folder.mkdir(parents=True, exist_ok=True)
        from setpiece.core.fsutil import _fsync_dir, _mkstemp

        fd, tmp = _mkstemp(folder, dest.name)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(raw)
                fh.flush()
                os.fsync(fh.fileno())
            if key is not None:
                try:
                    os.link(tmp, key)
                except FileExistsError:
                    existing = self.keyed(str(data["event"]), str(data["asset"]), str(data["version"]))
                    assert existing is not None
                    return existing, False
                if sync_dirs:
                    _fsync_dir(key.parent)
            self._link(Path(tmp), dest, sync_dir=sync_dirs)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        return Event(data, raw), True

    def sync_folders(self, events: Iterable[Event]) -> None:
        """fsync the folders ``append(sync_dirs=False)`` of these events wrote names into."""
        from setpiece.core.fsutil import _fsync_dir

        folders = {self.path_of(ev.id).parent for ev in events}
        folders |= {self.key_path(ev.name, str(ev.asset), str(ev.version)).parent
                    for ev in events if ev.name in KEYED and ev.asset and ev.version}
        for folder in sorted(folders):
            _fsync_dir(folder)

    @staticmethod
    def _link(src: Path, dest: Path, *, sync_dir: bool = True) -> None:
        from setpiece.core.fsutil import _fsync_dir

        if dest.exists():
            return
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(src, dest)
        except FileExistsError:
            return
        except OSError:  # no hard links on this filesystem: exclusive create, then write
            from setpiece.core.fsutil import publish_file_exclusive

            publish_file_exclusive(src, dest)
        if sync_dir:
            _fsync_dir(dest.parent)

    def _months(self) -> list[tuple[str, Path]]:
        out = []
        for year in _listdir(self.root):
            if len(year) == 4 and year.isdigit():
                for month in _listdir(self.root / year):
                    if len(month) == 2 and month.isdigit():
                        out.append((year + month, self.root / year / month))
        return sorted(out)

    def events(self, after: str | None = None, until: str | None = None,
               skip: Container[str] = ()) -> Iterator[Event]:
        first = ""
        if after:
            t = time.gmtime(id_time(after))
            first = f"{t.tm_year:04d}{t.tm_mon:02d}"
        for ym, folder in self._months():
            if ym < first:
                continue
            names = sorted(
                n[:-5] for n in _listdir(folder) if n.endswith(".json") and not n.startswith(".")
            )
            for event_id in names:
                if after and event_id <= after:
                    continue
                if until and event_id > until:
                    return
                if event_id in skip:
                    continue
                try:
                    raw = (folder / f"{event_id}.json").read_bytes()
                    yield Event.from_bytes(raw)
                except (OSError, ValueError):
                    continue  # never torn (written whole, then linked); unreadable: skipped


    def ids_since(self, after: str | None = None) -> list[str]:
        first = ""
        if after:
            t = time.gmtime(id_time(after))
            first = f"{t.tm_year:04d}{t.tm_mon:02d}"
        out: list[str] = []
        for ym, folder in self._months():
            if ym >= first:
                out.extend(sorted(
                    n[:-5] for n in _listdir(folder)
                    if n.endswith(".json") and not n.startswith(".") and (not after or n[:-5] > after)
                ))
        return out


class WorkspaceLog(EventLog):
    """The workspace's JSON-lines log (workspace-local actions, and a copy of the rest)."""

    def __init__(self, ws_root: Path) -> None:
        self.path = Path(ws_root) / ".setpiece" / "events.jsonl"
        self.label = "workspace"

    def events(self, after: str | None = None, until: str | None = None,
               skip: Container[str] = ()) -> Iterator[Event]:
        found = []
        try:
            with open(self.path, "rb") as fh:
                data_lines = fh.read().splitlines()
        except FileNotFoundError:
            return
        for line in data_lines:
            line = line.strip()
            if not line:
                continue
            try:
                data = json.loads(line)
            except ValueError:
                continue  # a torn last line from a crash is skipped, never fatal
            if "id" not in data:  # written before events had ids: a stable one
                data["id"] = _legacy_id(data, line)
            found.append(Event(data, line + b"\n"))
        found.sort(key=lambda e: e.id)
        for ev in found:
            if after and ev.id <= after:
                continue
            if until and ev.id > until:
                break
            if ev.id not in skip:
                yield ev


def _legacy_id(data: dict[str, Any], line: bytes) -> str:
    import hashlib

    digest = int.from_bytes(hashlib.sha256(line).digest()[:10], "big")
    return _encode(int(float(data.get("time", 0)) * 1000), 10) + _encode(digest, 16)


def _listdir(folder: Path) -> list[str]:
    try:
        return os.listdir(folder)
    except OSError:
        return []


def repo_log(ws: Workspace, repo: Repo) -> FolderLog:
    """Where ``repo``'s events live.

    A folder repo keeps them in ``<repo>/.setpiece/events``. An index server has no place
    for them, so an index repo's events go to the folder its config names
    (``[repos.NAME] events = "/shared/folder"``, relative to the workspace: give every
    workspace the same one to share them), else to ``<workspace>/.setpiece/repo-events/<NAME>``, local to this workspace
    and shared only through the bus.
    """
    configured = repo.options.get("events")
    if configured:
        folder = Path(str(configured)).expanduser()
        return FolderLog(folder if folder.is_absolute() else ws.root / folder,
                         label=f"repo {repo.name}")
    if repo.kind == "folder":
        return FolderLog(Path(repo.location) / ".setpiece" / "events", label=f"repo {repo.name}")
    return FolderLog(ws.root / ".setpiece" / "repo-events" / repo.name, label=f"repo {repo.name}")


def read(
    source: EventLog,
    since: str | Cursor | None = None,
    *,
    until: str | None = None,
    names: Iterable[str] | None = None,
    asset: str | None = None,
) -> Iterator[Event]:
    """Events of ``source`` in (time, id) order, filtered.

    ``since``: an id bound (from :func:`parse_since`; exclusive) or a :class:`Cursor`
    (everything it has not seen, late arrivals in its look-back window included).
    ``until``: an id (inclusive). ``names``: event names. ``asset``: one asset's events.
    """
    wanted = set(names) if names else None
    key = None
    if asset:
        from setpiece.core.naming import normalize

        key = normalize(asset)
    if isinstance(since, Cursor):
        stream: Iterator[Event] = since.unseen(source, until=until)
    else:
        stream = source.events(after=since, until=until)
    for ev in stream:
        if wanted is not None and ev.name not in wanted:
            continue
        if key is not None:
            from setpiece.core.naming import normalize

            if not ev.asset or normalize(ev.asset) != key:
                continue
        yield ev


@dataclass
class Cursor:
    """Where a reader got to: the last id seen and the ids seen in the look-back window.

    ``for ev in read(log, cursor): ...; cursor.advance(ev)``; ``cursor.save(path)``
    (atomic) and ``Cursor.load(path)`` to resume after a restart.
    """

    last: str = ""
    recent: set[str] = field(default_factory=set)
    lookback_ms: int = LOOKBACK_MS

    def _floor(self) -> str:
        if not self.last:
            return ""
        return min_id(max(id_time(self.last) - self.lookback_ms / 1000.0, 0.0))

    def unseen(self, source: EventLog, until: str | None = None) -> Iterator[Event]:
        floor = self._floor()
        yield from source.events(after=floor or None, until=until, skip=self.recent)

    @classmethod
    def at_end(cls, source: EventLog) -> Cursor:
        """A cursor past everything ``source`` holds now ("only what comes next"), made
        from the event ids alone: a DCC opening a scene does not read the whole log."""
        cursor = cls()
        ids = source.ids_since(min_id(time.time() - 2 * cursor.lookback_ms / 1000.0) or None)
        if not ids:  # nothing recent: the newest id of all, if any
            ids = source.ids_since(None)[-1:]
        for event_id in ids:
            cursor.advance(event_id)
        return cursor

    def advance(self, event: Event | str) -> None:
        event_id = event if isinstance(event, str) else event.id
        if event_id > self.last:
            self.last = event_id
        self.recent.add(event_id)
        floor = self._floor()
        if len(self.recent) > 64:
            self.recent = {i for i in self.recent if i >= floor}

    def to_json(self) -> dict[str, Any]:
        return {"last": self.last, "recent": sorted(self.recent)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Cursor:
        return cls(str(data.get("last", "")), set(data.get("recent", ())))

    @classmethod
    def load(cls, path: Path) -> Cursor:
        try:
            return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))
        except FileNotFoundError:
            return cls()
        except ValueError:
            raise SetpieceError(f"cursor file {path} is not valid JSON: remove it to start over")

    def save(self, path: Path, *, durable: bool = True) -> None:
        """Write atomically (temp + rename); ``durable=False`` skips the fsyncs, for a
        cursor that is only a cache (a crash then costs a re-read, never a lost event)."""
        from setpiece.core.fsutil import atomic_write_text

        floor = self._floor()
        self.recent = {i for i in self.recent if i >= floor}
        text = json.dumps(self.to_json(), sort_keys=True) + "\n"
        if durable:
            atomic_write_text(Path(path), text)
            return
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)


__all__ = [
    "KEYED",
    "Cursor",
    "Event",
    "EventLog",
    "FolderLog",
    "WorkspaceLog",
    "id_time",
    "is_id",
    "new_id",
    "parse_since",
    "parse_until",
    "read",
    "repo_log",
]
