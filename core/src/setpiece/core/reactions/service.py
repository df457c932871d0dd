"""``setpiece react``: the service loop. Deliveries in, reactions run, acknowledged after.

A source gives :class:`Delivery` objects (an event, optionally for one reaction, and how
to acknowledge it: advance a persisted cursor, ``XACK`` a stream entry). A delivery is
acknowledged only once its reactions are done and their state saved, so a service killed
at any instant gets the event again on restart, and the reactions' event-id records make
the second delivery do nothing where the first had finished.

SIGTERM and SIGINT ask the loop to stop: the reaction under way finishes (a ``command``
reaction's process is ended and the reaction abandoned: its event is not acknowledged
and runs again on the next start), the state is saved, the source closed.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from setpiece.core.reactions.engine import Engine, Outcome


@dataclass
class Delivery:
    event: dict[str, Any]
    reaction: str | None = None  # None: every reaction the event concerns
    ack: Callable[[], None] = lambda: None


class EventSource(Protocol):
    label: str

    def fetch(self, timeout: float) -> list[Delivery]:
        """Pending deliveries, in order; waits up to ``timeout`` seconds when there are none."""
        ...

    def close(self) -> None: ...


@dataclass
class ServeSummary:
    events: int = 0
    outcomes: list[Outcome] = field(default_factory=list)
    stopped_by: str | None = None  # SIGTERM / SIGINT

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    def to_json(self) -> dict[str, Any]:
        statuses = ("ran", "unchanged", "duplicate", "failed", "blocked", "abandoned")
        return {
            "events": self.events,
            "counts": {s: self.count(s) for s in statuses},
            "outcomes": [o.to_json() for o in self.outcomes],
            "stopped_by": self.stopped_by,
        }


@contextmanager
def stop_on_signals(stop: threading.Event, summary: ServeSummary) -> Iterator[None]:
    """SIGTERM/SIGINT set ``stop`` (main thread only; elsewhere the caller stops it)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: Any) -> None:
        summary.stopped_by = signal.Signals(signum).name
        stop.set()

    old = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def serve(
    engine: Engine,
    source: EventSource,
    *,
    once: bool = False,
    poll: float = 0.2,
    on_outcome: Callable[[Outcome], None] | None = None,
    on_idle: Callable[[], None] | None = None,
) -> ServeSummary:
    """Run ``engine`` on ``source`` until stopped (or, ``once``, until nothing is pending)."""
    summary = ServeSummary()
    stop = engine.stop

    def record(outcomes: list[Outcome]) -> None:
        summary.outcomes.extend(outcomes)
        if on_outcome is not None:
            for o in outcomes:
                on_outcome(o)

    with stop_on_signals(stop, summary):
        try:
            record(engine.settle())  # downstream work a kill left undone
            while not stop.is_set():
                deliveries = source.fetch(0.0 if once else poll)
                if not deliveries:
                    if once:
                        break
                    if on_idle is not None:
                        on_idle()
                    continue
                for d in deliveries:
                    if stop.is_set():
                        break
                    outcomes = engine.handle(d.event, only=d.reaction)
                    record(outcomes)
                    if any(o.status == "abandoned" for o in outcomes):
                        break  # not acknowledged: handled again on the next start
                    d.ack()
                    summary.events += 1
        finally:
            source.close()
    return summary


class ListSource:
    """Deliveries from a list (the Python API, and events given on the command line)."""

    label = "list"

    def __init__(self, events: list[dict[str, Any]]) -> None:
        self._pending = [Delivery(dict(e)) for e in events]

    def fetch(self, timeout: float) -> list[Delivery]:
        out, self._pending = self._pending, []
        if not out and timeout:
            time.sleep(timeout)
        return out

    def close(self) -> None:
        pass
