"""What each reaction last did, kept in ``.setpiece/reactions/<name>.json``.

Every write is atomic (``setpiece.core.fsutil.atomic_write_text``): a kill at any
instant leaves the previous record or the new one, never half of one. A record holds the
hash of the inputs of the last successful run and of its outputs, the status of the last
attempt (``ok``, ``failed``, ``running`` while a run is under way: a record found
``running`` was killed mid-run and is run again), and the event ids already handled
(handlers are idempotent by event id: a duplicate delivery or a replay does nothing).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from setpiece.core.errors import SetpieceError
from setpiece.core.fsutil import atomic_write_text

#: event ids remembered per reaction (the oldest are forgotten first)
SEEN_LIMIT = 50_000
FORMAT = 1


@dataclass
class ReactionState:
    name: str
    status: str = "never"  # never | ok | failed | running
    inputs_hash: str | None = None  # of the last successful run
    inputs: dict[str, Any] = field(default_factory=dict)  # what was hashed, for humans
    output_hash: str | None = None  # of the last successful run's outputs
    outputs: dict[str, str | None] = field(default_factory=dict)  # path -> sha256
    runs: int = 0  # successful runs
    failures: int = 0
    last_event: str | None = None
    last_time: float | None = None
    error: str | None = None
    message: str | None = None
    seen: list[str] = field(default_factory=list)

    def has_seen(self, event_id: str) -> bool:
        return event_id in self._seen_set()

    def _seen_set(self) -> set[str]:
        cached: set[str] | None = getattr(self, "_seen_cache", None)
        if cached is None or len(cached) != len(self.seen):
            cached = set(self.seen)
            object.__setattr__(self, "_seen_cache", cached)
        return cached

    def remember(self, event_id: str) -> None:
        if event_id and not self.has_seen(event_id):
            self.seen.append(event_id)
            if len(self.seen) > SEEN_LIMIT:
                del self.seen[: len(self.seen) - SEEN_LIMIT]
            object.__setattr__(self, "_seen_cache", None)

    def to_json(self, with_seen: bool = False) -> dict[str, Any]:
        data = asdict(self)
        data.pop("_seen_cache", None)
        if not with_seen:
            data["seen"] = len(self.seen)
        return data


class StateStore:
    """The reactions' records of one workspace (``<workspace>/.setpiece/reactions/``)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def path(self, name: str) -> Path:
        return self.folder / f"{name}.json"

    def load(self, name: str) -> ReactionState:
        path = self.path(name)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return ReactionState(name)
        except (OSError, ValueError) as exc:
            raise SetpieceError(
                f"reaction state {path} cannot be read ({exc}): delete it to start that "
                "reaction afresh"
            )
        data.pop("format", None)
        known = {k: v for k, v in data.items() if k in ReactionState.__dataclass_fields__}
        known["name"] = name
        return ReactionState(**known)

    def save(self, state: ReactionState) -> None:
        data = {"format": FORMAT, **state.to_json(with_seen=True)}
        atomic_write_text(self.path(state.name), json.dumps(data, indent=1, sort_keys=True))

    def names(self) -> list[str]:
        if not self.folder.is_dir():
            return []
        return sorted(p.stem for p in self.folder.glob("*.json") if not p.name.startswith("."))

    @contextmanager
    def lock(self) -> Iterator[None]:
        """One ``setpiece react`` per workspace at a time (an OS lock, freed when the
        process dies, even by kill -9)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / ".lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                if sys.platform != "win32":  # Windows: no lock (one service by convention)
                    import fcntl

                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                try:
                    other = os.read(fd, 64).decode(errors="replace").strip() or "?"
                except OSError:
                    other = "?"
                raise SetpieceError(
                    f"another 'setpiece react' runs on this workspace (pid {other}): stop it "
                    "first (one service per workspace)"
                )
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            yield
        finally:
            os.close(fd)


def now() -> float:
    return round(time.time(), 3)
