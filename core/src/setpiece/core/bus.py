"""The studio bus: Redis Streams, fed from the repo logs (the outbox), read by consumer groups.

Configured in ``setpiece.toml``::

    [events]
    bus = "redis://127.0.0.1:6379/0"
    stream = "setpiece:events"        # default
    connect_timeout = 0.02            # seconds; an emit never waits longer on a dead bus

Producing. Events are written to their log first (``setpiece.core.eventlog``); the
log is the outbox (a repo's log for repo events, the workspace's for the others). :meth:`Bus.forward` sends what the bus has not got, in log order,
exactly as logged (the message's ``data`` is the event file's bytes). Each add is one Lua
script that records the event id in the hash ``<stream>:ids`` and XADDs only if the id
was new, so any number of machines may forward the same log, again and again, and each
event is on the stream once. A forwarded-cursor file per log and bus
(``<log>/forwarded/<bus>.json``) saves re-reading. After every repo event, ``emit``
forwards opportunistically (:func:`forward_after_emit`): bounded by ``connect_timeout``,
at most ``OPPORTUNISTIC`` events, and skipped for ``DOWN_BACKOFF`` seconds after a
failure; it never raises. ``setpiece events forward`` does the rest.

Consuming. One consumer group per reaction; :meth:`Bus.consume` delivers at least once:
XREADGROUP, the handler, then the event's id recorded in ``<stream>:processed:<group>``
and XACK. A message whose id is already recorded is acked without running the handler
(idempotent by event id). A handler that raises leaves its message pending; pending
messages idle for ``claim_idle_ms`` (a dead consumer's, or a failed one) are taken over
with XAUTOCLAIM and retried. If the bus dies between a handler and its record, the
record is kept in a local journal and written first on reconnect, so a restart of Redis
never re-runs a handler. Replays (``setpiece events replay``) carry a ``replay`` id and
are deduplicated on (event id, replay id): a replay reaches each group once.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from setpiece.core.errors import RemoteUnreachable, SetpieceError, Unavailable
from setpiece.core.eventlog import (
    Cursor,
    Event,
    EventLog,
    FolderLog,
    WorkspaceLog,
    is_id,
    read,
    repo_log,
)

if TYPE_CHECKING:
    from setpiece.core.repos.base import Repo
    from setpiece.core.workspace import Workspace

log = logging.getLogger("setpiece.bus")

DEFAULT_STREAM = "setpiece:events"
CONNECT_TIMEOUT = 0.02
#: At most this many events are forwarded by an emit (the rest: 'setpiece events forward').
OPPORTUNISTIC = 50
#: After the bus failed, emits do not try it again for this many seconds.
DOWN_BACKOFF = 5.0

_ADD = """
local sid = redis.call('HGET', KEYS[2], ARGV[1])
if sid then return {0, sid} end
local fields = {'id', ARGV[2], 'event', ARGV[3], 'data', ARGV[4]}
if ARGV[5] ~= '' then table.insert(fields, 'replay'); table.insert(fields, ARGV[5]) end
sid = redis.call('XADD', KEYS[1], '*', unpack(fields))
redis.call('HSET', KEYS[2], ARGV[1], sid)
return {1, sid}
"""

Handler = Callable[[Event], None]



def safe_url(url: str) -> str:
    """``url`` without its password (``redis://:secret@host`` is how Redis auth is
    configured): what errors and logs may show."""
    import re

    return re.sub(r"(//[^:/@]*):[^@/]*@", r"\1:***@", url)

class BusDown(RemoteUnreachable):
    """The bus cannot be reached (the action that needed it can be retried)."""


def _redis() -> Any:
    try:
        import redis
    except ImportError:
        raise Unavailable("the bus needs redis-py: pip install 'setpiece-core[bus]'")
    return redis


def _errors() -> tuple[type[BaseException], ...]:
    """What a bus that is down, restarting or not Redis at all raises."""
    redis = _redis()
    return (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError,
            redis.exceptions.BusyLoadingError, redis.exceptions.TryAgainError, OSError)


def _no_retry() -> Any:
    """redis-py 6+ retries a timed-out command 3 times by default: a hung bus would cost an
    emit 4 timeouts. setpiece's loops reconnect themselves."""
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return Retry(NoBackoff(), 0)


@functools.lru_cache(maxsize=1)
def _no_setinfo() -> dict[str, Any]:
    """Skip CLIENT SETINFO on connect (two round trips per new connection): redis-py 7+
    takes ``driver_info=None``, 5 and 6 ``lib_name=None, lib_version=None``."""
    import inspect

    params = inspect.signature(_redis().Redis.__init__).parameters
    if "driver_info" in params:
        return {"driver_info": None}
    if "lib_name" in params:
        return {"lib_name": None, "lib_version": None}
    return {}


class Bus:
    """A Redis Streams bus at ``url`` (``redis://host:port/db``)."""

    def __init__(self, url: str, *, stream: str = DEFAULT_STREAM,
                 connect_timeout: float = CONNECT_TIMEOUT, timeout: float = 5.0,
                 state_dir: Path | None = None) -> None:
        self.url = url
        self.stream = stream
        self.connect_timeout = connect_timeout
        self.timeout = timeout
        if state_dir is None:
            from setpiece.core.paths import setpiece_home

            state_dir = setpiece_home() / "bus"
        self.state_dir = Path(state_dir)
        self._client: Any = None
        self._script: Any = None

    # -- connection --------------------------------------------------------------------
    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = _redis().Redis.from_url(
                self.url, socket_connect_timeout=self.connect_timeout,
                socket_timeout=self.timeout, retry=_no_retry(), **_no_setinfo(),
            )
            self._script = self._client.register_script(_ADD)
        return self._client

    def key(self, *parts: str) -> str:
        return ":".join([self.stream, *parts])

    @property
    def tag(self) -> str:
        """A short name of this bus and stream (forwarded-cursor files)."""
        return hashlib.sha256(f"{self.url} {self.stream}".encode()).hexdigest()[:16]

    def ping(self) -> bool:
        try:
            return bool(self.client.ping())
        except _errors():
            return False

    # -- producing ---------------------------------------------------------------------
    def add(self, event: Event, replay: str = "") -> bool:
        """Put ``event`` on the stream unless it is there already; True if it was added."""
        dedupe = f"{event.id}@{replay}" if replay else event.id
        self.client  # noqa: B018 - creates the script object
        try:
            added, _ = self._script(
                keys=[self.stream, self.key("ids")],
                args=[dedupe, event.id, event.name, event.raw or _encode(event.data), replay],
            )
        except _errors() as exc:
            raise BusDown(f"the bus at {safe_url(self.url)} is unreachable: {exc}")
        return bool(added)

    def add_many(self, events: list[Event], replay: str = "") -> list[bool]:
        """:meth:`add` for several events in one pipeline (in order)."""
        self.client  # noqa: B018 - creates the script object
        try:
            pipe = self.client.pipeline(transaction=False)
            for ev in events:
                dedupe = f"{ev.id}@{replay}" if replay else ev.id
                self._script(keys=[self.stream, self.key("ids")],
                             args=[dedupe, ev.id, ev.name, ev.raw or _encode(ev.data), replay],
                             client=pipe)
            return [bool(r[0]) for r in pipe.execute()]
        except _errors() as exc:
            raise BusDown(f"the bus at {safe_url(self.url)} is unreachable: {exc}")

    def stream_id(self, event_id: str) -> str | None:
        """The stream message id an event was added as (None if it is not on the bus)."""
        sid = self.client.hget(self.key("ids"), event_id)
        return sid.decode() if sid else None

    def cursor_path(self, source: EventLog) -> Path:
        """The forwarded-cursor file of ``source`` (in the log, shared by its forwarders)."""
        if isinstance(source, FolderLog):
            return source.root / "forwarded" / f"{self.tag}.json"
        assert isinstance(source, WorkspaceLog)
        return source.path.parent / "forwarded" / f"{self.tag}.json"

    def forward_log(self, source: EventLog, *, limit: int | None = None) -> int:
        """Send ``source``'s events the bus lacks, in order; returns how many were added."""
        path = self.cursor_path(source)
        try:
            cursor = Cursor.load(path)
        except SetpieceError:
            cursor = Cursor()
        added = seen = 0
        chunk: list[Event] = []

        def send() -> None:  # one pipeline per chunk: in order, one round trip
            nonlocal added
            added += sum(self.add_many(chunk))
            for ev in chunk:
                cursor.advance(ev)
            chunk.clear()

        try:
            for ev in read(source, cursor):
                chunk.append(ev)
                seen += 1
                if len(chunk) >= 100:
                    send()
                if limit is not None and seen >= limit:
                    break
            if chunk:
                send()
        finally:
            if seen:  # a cache (forwarding again is harmless): not fsynced
                with contextlib.suppress(OSError):  # a read-only share: re-read next time
                    cursor.save(path, durable=False)
        return added

    def forward(self, ws: Workspace, repo: Repo | None, *, limit: int | None = None) -> int:
        """Forward ``repo``'s log, or with None the workspace's own log."""
        source = WorkspaceLog(ws.root) if repo is None else repo_log(ws, repo)
        return self.forward_log(source, limit=limit)

    def replay(self, events: Iterable[Event], replay_id: str) -> int:
        """Put ``events`` on the stream again as replay ``replay_id`` (once each)."""
        return sum(self.add_many(list(events), replay=replay_id))

    def trim(self, older_than: float) -> dict[str, int]:
        """Drop what is older than ``older_than`` seconds: stream entries (``XTRIM MINID``),
        their ids in ``<stream>:ids`` and the groups' processed records. An event forwarded
        again after this (a lost forwarded-cursor) would be new again: keep the age far
        beyond any outage (days, not minutes)."""
        cutoff_ms = int((time.time() - older_than) * 1000)
        low = eventlog_min_id(cutoff_ms)
        r = self.client
        dropped = {"entries": int(r.xtrim(self.stream, minid=f"{cutoff_ms}-0", approximate=False)),
                   "ids": 0, "processed": 0}

        def old(key: bytes) -> bool:
            return key.decode()[:10] < low

        for key in list(r.hscan_iter(self.key("ids"), count=1000)):
            if old(key[0]):
                dropped["ids"] += r.hdel(self.key("ids"), key[0])
        groups = [g["name"].decode() if isinstance(g["name"], bytes) else g["name"]
                  for g in (r.xinfo_groups(self.stream) if r.exists(self.stream) else [])]
        for group in groups:
            pkey = self.key("processed", group)
            stale = [m for m in r.sscan_iter(pkey, count=1000) if old(m)]
            if stale:
                dropped["processed"] += r.srem(pkey, *stale)
        return dropped

    # -- consuming ---------------------------------------------------------------------
    def ensure_group(self, group: str, start: str = "0") -> None:
        """Create ``group`` (no-op if it exists), reading from ``start``: ``0`` (the whole
        stream), ``$`` (only new events), or an event id / stream id to start after."""
        redis = _redis()
        try:
            self.client.xgroup_create(self.stream, group, id=self._stream_point(start), mkstream=True)
        except redis.exceptions.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def _stream_point(self, start: str) -> str:
        if start in ("0", "$") or "-" in start:
            return start
        if is_id(start):
            sid = self.stream_id(start.upper())
            if sid is None:
                raise SetpieceError(f"event {start} is not on the bus: forward its log first")
            return sid
        raise SetpieceError(f"'{start}' is not a start point: use 0, $, or an event id")

    def rewind(self, group: str, since: str) -> int:
        """Replay ``group`` from a point: its next read starts after ``since`` (an event id,
        a stream id, or ``0``), and the events after it are no longer recorded as processed,
        so their handlers run again. Returns how many records were dropped."""
        point = self._stream_point(since)
        self.ensure_group(group, point)
        self.client.xgroup_setid(self.stream, group, point)
        dropped = 0
        low = "0-0" if point == "0" else f"({point}"
        for _sid, fields in self.client.xrange(self.stream, min=low):
            replay = (fields.get(b"replay") or b"").decode()
            event_id = fields[b"id"].decode()
            dropped += self.client.srem(self.key("processed", group),
                                        f"{event_id}@{replay}" if replay else event_id)
        return dropped

    def consume(self, group: str, consumer: str, handler: Handler, *, start: str = "0",
                once: bool = False, stop: threading.Event | None = None, block_ms: int = 500,
                claim_idle_ms: int = 60_000, count: int = 100,
                reconnect_for: float = 30.0) -> int:
        """Run ``handler`` on every event of the stream for ``group``, at least once.

        ``once``: return when nothing is left (what is pending or new now); else run until
        ``stop`` is set. A bus that goes away is waited for (``reconnect_for`` seconds with
        ``once``, forever otherwise; then :class:`BusDown`). Returns how many events the
        handler ran on.
        """
        c = _Consumer(self, group, consumer, handler, claim_idle_ms=claim_idle_ms, count=count)
        stop = stop or threading.Event()
        down_since: float | None = None
        backoff = 0.05
        while not stop.is_set():
            try:
                if not c.ready:
                    self.ensure_group(group, start)
                    c.flush_journal()
                    c.ready = True
                busy = c.step(block_ms=0 if once else block_ms)
                down_since, backoff = None, 0.05
                if once and not busy:
                    break
            except _errors() as exc:
                c.ready = c.own_pending_read = False  # re-read what was taken, not done
                self._client = None
                now = time.monotonic()
                down_since = down_since or now
                if once and now - down_since > reconnect_for:
                    raise BusDown(f"the bus at {safe_url(self.url)} is unreachable: {exc}")
                log.info("bus down (%s): retrying in %.2fs", exc, backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, 1.0)
        return c.handled


class _Consumer:
    """One consumer's loop state: its journal of handled-but-unrecorded events."""

    def __init__(self, bus: Bus, group: str, name: str, handler: Handler, *,
                 claim_idle_ms: int, count: int) -> None:
        self.bus, self.group, self.name, self.handler = bus, group, name, handler
        self.claim_idle_ms, self.count = claim_idle_ms, count
        self.ready = False
        self.own_pending_read = False
        self.handled = 0
        safe = hashlib.sha256(f"{bus.tag} {group} {name}".encode()).hexdigest()[:16]
        self.journal = bus.state_dir / "journal" / f"{safe}.json"

    @property
    def processed_key(self) -> str:
        return self.bus.key("processed", self.group)

    def _load_journal(self) -> list[list[str]]:
        try:
            return list(json.loads(self.journal.read_text(encoding="utf-8")))
        except (FileNotFoundError, ValueError):
            return []

    def _save_journal(self, items: list[list[str]]) -> None:
        from setpiece.core.fsutil import atomic_write_text

        atomic_write_text(self.journal, json.dumps(items))

    def flush_journal(self) -> None:
        """Record and ack what was handled while the bus was away (before anything else)."""
        items = self._load_journal()
        if not items:
            return
        r = self.bus.client
        for dedupe, sid in items:
            r.sadd(self.processed_key, dedupe)
            r.xack(self.bus.stream, self.group, sid)
        self.journal.unlink()

    def step(self, block_ms: int) -> bool:
        """One round: own pending (once), idle claims, then new messages. True if any."""
        r, stream = self.bus.client, self.bus.stream
        batch: list[tuple[Any, dict[bytes, bytes]]] = []
        if not self.own_pending_read:  # what this consumer had read before a restart
            for _, msgs in r.xreadgroup(self.group, self.name, {stream: "0"}, count=10_000) or []:
                batch.extend(msgs)
            self.own_pending_read = True
        claimed = r.xautoclaim(stream, self.group, self.name, self.claim_idle_ms,
                               start_id="0-0", count=self.count)
        batch.extend(m for m in claimed[1] if m and m[1])
        new = r.xreadgroup(self.group, self.name, {stream: ">"}, count=self.count,
                           block=block_ms or None)
        for _, msgs in new or []:
            batch.extend(msgs)
        if not batch:
            return False
        batch = list({sid: (sid, fields) for sid, fields in batch}.values())  # own + claimed
        keys = [_dedupe(fields) for _, fields in batch]
        done = r.smismember(self.processed_key, keys)
        for (sid, fields), key, was_done in zip(batch, keys, done, strict=True):
            if was_done:  # a duplicate delivery: ack, never run the handler again
                r.xack(stream, self.group, sid)
            else:
                self._one(sid, fields, key)
        return True

    def _one(self, sid: Any, fields: dict[bytes, bytes], dedupe: str) -> None:
        r = self.bus.client
        replay = (fields.get(b"replay") or b"").decode() or None
        event_id = fields[b"id"].decode()
        event = Event.from_bytes(fields[b"data"], replay)
        try:
            self.handler(event)
        except Exception as exc:  # left pending: retried once idle (claim_idle_ms)
            log.warning("handler of group %s failed on %s (%s): retried later",
                        self.group, event_id, exc)
            return
        self.handled += 1
        sid_text = sid.decode() if isinstance(sid, bytes) else str(sid)
        try:  # record and ack in one round trip (MULTI/EXEC)
            pipe = r.pipeline(transaction=True)
            pipe.sadd(self.processed_key, dedupe)
            pipe.xack(self.bus.stream, self.group, sid)
            pipe.execute()
        except _errors():
            self._save_journal([*self._load_journal(), [dedupe, sid_text]])
            raise


def eventlog_min_id(ms: int) -> str:
    """The 10-character time prefix of ids made at ``ms``."""
    from setpiece.core.eventlog import min_id

    return min_id(ms / 1000.0)[:10]


def _dedupe(fields: dict[bytes, bytes]) -> str:
    """What a handler run is recorded under: the event id, and the replay's id if any."""
    replay = (fields.get(b"replay") or b"").decode()
    event_id = fields[b"id"].decode()
    return f"{event_id}@{replay}" if replay else event_id


def _encode(data: dict[str, Any]) -> bytes:
    from setpiece.core.eventlog import encode

    return encode(data)


# -- configuration and the emit hook -----------------------------------------------------

def for_workspace(ws: Workspace, *, connect_timeout: float | None = None) -> Bus:
    """The bus ``ws`` is configured with (``[events] bus``), or a one-line error."""
    cfg = ws.config.section("events")
    url = cfg.get("bus")
    if not url:
        raise SetpieceError(
            f"no bus configured in {ws.config.path}: add [events] bus = \"redis://HOST:6379/0\""
        )
    if not str(url).startswith(("redis://", "rediss://", "unix://")):
        raise SetpieceError(
            f"[events] bus = '{safe_url(str(url))}' is not a Redis URL: use redis://HOST:PORT/DB"
        )
    return Bus(
        str(url), stream=str(cfg.get("stream", DEFAULT_STREAM)),
        connect_timeout=float(cfg.get("connect_timeout", CONNECT_TIMEOUT))
        if connect_timeout is None else connect_timeout,
    )


_down_until: dict[str, float] = {}


def forward_after_emit(ws: Workspace, repo: Repo | None, event: Event | None = None) -> int:
    """Right after an emit, a few ms at most, never raising: forward ``repo``'s log, or
    add the one workspace ``event`` (its log is caught up by ``setpiece events forward``)."""
    try:
        b = for_workspace(ws)
        down: tuple[type[BaseException], ...] = (
            BusDown, _redis().exceptions.RedisError, *_errors())
    except SetpieceError as exc:  # no redis-py, a bad URL: the event stays in the log
        log.warning("%s", exc)
        return 0
    if _down_until.get(b.url, 0.0) > time.monotonic():
        return 0
    b.timeout = max(b.connect_timeout * 2, 0.05)  # a hung bus costs one emit ~50 ms
    try:
        if event is not None:
            return int(b.add(event))
        return b.forward(ws, repo, limit=OPPORTUNISTIC)
    except down as exc:
        _down_until[b.url] = time.monotonic() + DOWN_BACKOFF
        log.info("bus down, the repo log keeps the event for 'setpiece events forward': %s", exc)
        return 0
    except Exception as exc:  # the bus never breaks the user's action
        log.warning("forwarding to the bus failed: %s", exc)
        return 0
    finally:
        with contextlib.suppress(Exception):
            if b._client is not None:
                b._client.close()


@contextlib.contextmanager
def until_terminated() -> Iterator[threading.Event]:
    """An event set by SIGTERM or SIGINT (a service's clean shutdown), in the main thread."""
    stopping = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stopping
        return

    def on_signal(signum: int, frame: Any) -> None:
        stopping.set()

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stopping
    finally:
        for s, h in old.items():
            signal.signal(s, h)


__all__ = ["Bus", "BusDown", "Handler", "for_workspace", "forward_after_emit", "until_terminated"]
