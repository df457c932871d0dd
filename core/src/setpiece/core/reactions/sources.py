"""Where ``setpiece react`` gets its events: the repo logs (embedded default) or the bus.

**Repo logs.** Every repo of the workspace keeps its own log (``setpiece.core.eventlog``;
at a site, only the site's own repos and those in no site are read: events of another
site's repo arrive in this site's repo with ``setpiece repo sync``);
the service reads each through a :class:`~setpiece.core.eventlog.Cursor` saved in
``.setpiece/reactions/cursors/`` after every event handled (atomic), so a restart goes on
where it stopped, late arrivals within the cursor's look-back window included. The
workspace's own log is read too when a reaction listens to workspace-local events
(``installed``, ``scene.built``...). A new cursor starts at the beginning of the logs
(``--since`` starts elsewhere): the reactions' input hashes make old events cheap.

**The bus.** One consumer group per reaction (``Bus.consume``: at least once, a dead
consumer's messages claimed by another, idempotent by event id); see :func:`serve_bus`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from setpiece.core.errors import SetpieceError
from setpiece.core.reactions.declare import Reaction
from setpiece.core.reactions.engine import Engine, Outcome
from setpiece.core.reactions.service import Delivery, ServeSummary, stop_on_signals

log = logging.getLogger("setpiece.reactions")

#: events that live in the repos' logs; any other name is workspace-local
REPO_EVENTS = ("published", "promoted", "yanked")


def needs_workspace_log(reactions: list[Reaction]) -> bool:
    return any(name not in REPO_EVENTS for r in reactions for name in r.on)


class RepoLogSource:
    """Deliveries from the workspace's repo logs (and its own log), in id order."""

    label = "repo logs"

    def __init__(self, ws: Any, folder: Path, *, since: str | None = None,
                 workspace_log: bool = False) -> None:
        from setpiece.core.eventlog import Cursor, WorkspaceLog, repo_log

        self.folder = Path(folder) / "cursors"
        self.logs: list[tuple[str, Any]] = []
        roots: set[str] = set()
        repos = list(ws.repos().values())
        if "sites" in ws.config.data:  # at a site: its own repos' logs (what it installs)
            from setpiece.core.sites import install_repos

            repos = install_repos(ws)
        for repo in repos:
            name = repo.name
            log = repo_log(ws, repo)
            if str(log.root) in roots:  # two repo names for one folder: read it once
                continue
            roots.add(str(log.root))
            self.logs.append((f"repo-{name}", log))
        if workspace_log:
            self.logs.append(("workspace", WorkspaceLog(ws.root)))
        self.cursors: dict[str, Any] = {}
        self.floors: dict[str, str] = {}  # a new cursor's --since: ids up to it are old
        for label, _log in self.logs:
            path = self.folder / f"{label}.json"
            cursor = Cursor.load(path)
            if not cursor.last and since:
                cursor = Cursor(last=since)
                self.floors[label] = since
            self.cursors[label] = cursor

    def fetch(self, timeout: float) -> list[Delivery]:
        from setpiece.core.eventlog import read

        found: dict[str, tuple[Any, list[str]]] = {}
        for label, log in self.logs:
            floor = self.floors.get(label)
            for ev in read(log, self.cursors[label]):
                if floor is not None and ev.id <= floor:  # the look-back before --since
                    self.cursors[label].advance(ev)
                    continue
                entry = found.setdefault(ev.id, (ev, []))
                entry[1].append(label)
        if not found:
            if timeout:
                time.sleep(timeout)
            return []
        out = []
        for eid in sorted(found):
            ev, labels = found[eid]
            out.append(Delivery(ev.to_dict(), None, _acker(self, ev, labels)))
        return out

    def ack(self, ev: Any, labels: list[str]) -> None:
        for label in labels:
            cursor = self.cursors[label]
            cursor.advance(ev)
            cursor.save(self.folder / f"{label}.json")

    def close(self) -> None:
        pass


def _acker(source: RepoLogSource, ev: Any, labels: list[str]) -> Callable[[], None]:
    return lambda: source.ack(ev, labels)


# -- the bus ------------------------------------------------------------------------------


def group_name(ws: Any, reaction: str) -> str:
    """The consumer group of ``reaction`` in ``ws``: ``[events] group`` (share it between
    the machines serving one workspace's reactions), else one per workspace folder."""
    prefix = ws.config.section("events").get("group")
    if not prefix:
        digest = hashlib.sha256(f"{socket.gethostname()}:{ws.root}".encode()).hexdigest()[:10]
        prefix = f"{Path(ws.root).name}-{digest}"
    return f"react:{prefix}:{reaction}"


def consumer_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def serve_bus(
    engine: Engine,
    ws: Any,
    *,
    once: bool = False,
    since: str | None = None,
    on_outcome: Callable[[Outcome], None] | None = None,
    block_ms: int = 200,
    forward_every: float = 1.0,
) -> ServeSummary:
    """Consume the bus: one consumer group per reaction that listens to events (the
    reactions ``after`` others run inside their upstream's handler). ``once``: each group
    until nothing is pending. SIGTERM/SIGINT stop every group after its current event.
    The workspace's repo logs are forwarded to the bus at the start and every
    ``forward_every`` seconds (idempotent: an event is on the stream once)."""
    from setpiece.core.bus import for_workspace

    bus = for_workspace(ws, connect_timeout=1.0)
    summary = ServeSummary()
    lock = threading.Lock()  # one reaction at a time: they share the workspace's venv
    errors: list[BaseException] = []
    roots = [r for r in engine.reactions if not r.after]

    def handler_for(reaction: str) -> Callable[[Any], None]:
        def handle(ev: Any) -> None:
            with lock:
                outcomes = engine.handle(ev.to_dict(), only=reaction)
                summary.outcomes.extend(outcomes)
                summary.events += 1
                if on_outcome is not None:
                    for o in outcomes:
                        on_outcome(o)
            if any(o.status == "abandoned" for o in outcomes):
                raise SetpieceError(f"reaction '{reaction}' abandoned: left pending")
        return handle

    def run(reaction: str) -> None:
        try:
            bus.consume(group_name(ws, reaction), consumer_name(), handler_for(reaction),
                        start=since or "0", once=once, stop=engine.stop, block_ms=block_ms)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
            engine.stop.set()

    def forward() -> None:
        """The repo logs are the outbox: send what the bus missed (a publish while it was
        down), so the reactions get it without waiting for someone's next publish."""
        for repo in ws.repos().values():
            try:
                bus.forward(ws, repo)
            except Exception as exc:  # the bus down, a read-only share: try again later
                log.debug("forwarding %s: %s", repo.name, exc)

    with stop_on_signals(engine.stop, summary):
        with lock:
            summary.outcomes.extend(engine.settle())
        forward()
        if once:
            for r in roots:
                if engine.stop.is_set():
                    break
                run(r.name)
        else:
            threads = [threading.Thread(target=run, args=(r.name,), daemon=True,
                                        name=f"react-{r.name}") for r in roots]
            for t in threads:
                t.start()
            last = time.monotonic()
            while any(t.is_alive() for t in threads) and not engine.stop.is_set():
                engine.stop.wait(0.2)
                if time.monotonic() - last >= forward_every:
                    forward()
                    last = time.monotonic()
            engine.stop.set()
            for t in threads:
                t.join()
    if errors and not isinstance(errors[0], SetpieceError):
        raise SetpieceError(f"the bus failed: {errors[0]}")
    if errors:
        raise errors[0]
    return summary
