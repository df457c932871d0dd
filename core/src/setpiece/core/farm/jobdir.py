"""A submitted job's folder: the job, its session, one state file and one log per chunk.

```
<jobs dir>/<job id>/
  job.json                 the job as submitted (plain data)
  handle.json              which backend runs it, where, and its backend data
  context.json             the workspace and Python the chunks run with
  session/session.json     data a module layer's setup() stored (+ files it copied)
  state/<layer>/<i>.json   chunk i of <layer>: waiting | running | done | dead (atomic writes)
  logs/<layer>/<first>.log the chunk's output, named by its first frame (0001.log)
```

Every backend whose workers see this folder (local; dask on shared storage) keeps chunk
state here through the worker (``setpiece.core.farm.worker``), so ``status``, ``logs`` and a
resume read the same files whichever ran the chunk.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from setpiece.core.errors import NotFound, SetpieceError
from setpiece.core.farm.model import Chunk, Job
from setpiece.core.fsutil import atomic_write_text

CHUNK_STATES = ("waiting", "running", "done", "dead")


def new_job_id(name: str) -> str:
    return f"{name}-{time.strftime('%Y%m%d-%H%M%S')}-{os.urandom(3).hex()}"


def hostname() -> str:
    """This machine's name (without importing socket where os.uname has it: workers start
    once per chunk, so their imports count)."""
    if hasattr(os, "uname"):
        return os.uname().nodename
    import socket  # pragma: no cover - Windows

    return socket.gethostname()


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise SetpieceError(f"{path} cannot be read ({exc}): the job folder is damaged")


def _write_json(path: Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=1, sort_keys=True) + "\n")


@dataclass
class ChunkState:
    """What is known of one chunk (a missing state file means ``waiting``)."""

    state: str = "waiting"
    attempts: int = 0
    exit_code: int | None = None
    started: float | None = None
    ended: float | None = None
    host: str | None = None
    pid: int | None = None
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> ChunkState:
        if not isinstance(data, dict):
            return cls()
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass
class ChunkStatus:
    layer: str
    index: int
    frames: str
    state: str
    attempts: int
    exit_code: int | None
    seconds: float | None
    log: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class JobStatus:
    """A job's progress: counts per layer and state, and every chunk."""

    job_id: str
    name: str
    backend: str
    state: str  # waiting | running | done | dead | killed
    layers: dict[str, dict[str, int]] = field(default_factory=dict)
    chunks: list[ChunkStatus] = field(default_factory=list)

    @property
    def dead(self) -> list[ChunkStatus]:
        return [c for c in self.chunks if c.state == "dead"]

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(CHUNK_STATES, 0)
        for c in self.chunks:
            out[c.state] = out.get(c.state, 0) + 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "name": self.name,
            "backend": self.backend,
            "state": self.state,
            "counts": self.counts(),
            "layers": self.layers,
            "chunks": [c.to_dict() for c in self.chunks],
        }

    def summary(self) -> str:
        """One line: ``job X: done (12/12 chunks)`` or what died, naming layers and frames."""
        counts = self.counts()
        total = len(self.chunks)
        line = f"job {self.job_id}: {self.state} ({counts['done']}/{total} chunks done"
        if counts["running"]:
            line += f", {counts['running']} running"
        line += ")"
        dead = self.dead
        if dead:
            by_layer: dict[str, list[str]] = {}
            for c in dead:
                by_layer.setdefault(c.layer, []).append(c.frames)
            line += "; dead: " + "; ".join(
                f"layer {layer} frames {','.join(specs)}" for layer, specs in by_layer.items()
            )
        waiting = [c for c in self.chunks if c.state == "waiting"]
        if waiting and self.state != "running":
            layers = ", ".join(sorted({c.layer for c in waiting}))
            why = "downstream of dead chunks" if self.state == "dead" else "not run yet"
            line += f"; {len(waiting)} chunks {why} (layer {layers})"
        return line


class JobDir:
    """One job's folder (see the module docstring)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path).resolve()

    @property
    def job_id(self) -> str:
        return self.path.name

    # -- creation ----------------------------------------------------------------
    @classmethod
    def create(cls, jobs_dir: Path, job: Job, *, context: dict[str, Any] | None = None) -> JobDir:
        from setpiece.core.farm.jobfile import dumps

        jobs_dir.mkdir(parents=True, exist_ok=True)
        path = jobs_dir / new_job_id(job.name)
        path.mkdir()
        jd = cls(path)
        (path / "session").mkdir()
        (path / "state").mkdir()
        (path / "logs").mkdir()
        _write_json(path / "context.json", context or {})
        atomic_write_text(path / "job.json", dumps(job, "json"))
        return jd

    # -- files -------------------------------------------------------------------
    def job(self) -> Job:
        from setpiece.core.farm.jobfile import load_job

        if not (self.path / "job.json").is_file():
            raise SetpieceError(f"{self.path} is not a farm job folder (no job.json)")
        return load_job(self.path / "job.json")

    @property
    def context(self) -> dict[str, Any]:
        return dict(_read_json(self.path / "context.json") or {})

    def emit(self, name: str, **data: Any) -> None:
        """Log event ``name`` (``farm.submitted``, ``farm.done``, ``farm.dead``, ``farm.killed``)
        in the workspace the job was submitted from, if any; never fails the job."""
        root = self.context.get("workspace")
        if not root:
            return
        try:
            from setpiece.core.events import emit
            from setpiece.core.workspace import Workspace

            emit(Workspace(root), name, job_id=self.job_id, **data)
        except Exception as exc:  # the event log is a record of the work, not the work
            import logging

            logging.getLogger("setpiece.farm").warning("could not log %s for job %s: %s",
                                                       name, self.job_id, exc)

    def read_handle(self) -> dict[str, Any] | None:
        data = _read_json(self.path / "handle.json")
        return dict(data) if isinstance(data, dict) else None

    def write_handle(self, data: dict[str, Any]) -> None:
        _write_json(self.path / "handle.json", data)

    @property
    def session_dir(self) -> Path:
        return self.path / "session"

    def state_path(self, chunk: Chunk) -> Path:
        return self.path / "state" / chunk.layer / f"{chunk.index}.json"

    def log_path(self, chunk: Chunk) -> Path:
        return self.path / "logs" / chunk.layer / f"{chunk.first:04d}.log"

    # -- chunk state -------------------------------------------------------------
    def read_state(self, chunk: Chunk) -> ChunkState:
        return ChunkState.from_dict(_read_json(self.state_path(chunk)))

    def write_state(self, chunk: Chunk, state: ChunkState) -> None:
        _write_json(self.state_path(chunk), state.to_dict())

    def mark(self, chunk: Chunk, state: str, **changes: Any) -> ChunkState:
        """Read, change and atomically rewrite ``chunk``'s state."""
        current = self.read_state(chunk)
        current.state = state
        for key, value in changes.items():
            setattr(current, key, value)
        if state == "running":
            current.host = hostname()
        self.write_state(chunk, current)
        return current

    def states(self, job: Job | None = None) -> dict[str, tuple[Chunk, ChunkState]]:
        job = job or self.job()
        return {c.key: (c, self.read_state(c)) for c in job.chunks()}

    def reset(self, *, layer: str | None = None, states: tuple[str, ...] = ("dead",)) -> int:
        """Put chunks in ``states`` (of ``layer`` or all) back to waiting; how many."""
        job = self.job()
        count = 0
        for chunk, st in self.states(job).values():
            if (layer is None or chunk.layer == layer) and st.state in states:
                self.write_state(chunk, ChunkState(state="waiting", attempts=0))
                count += 1
        return count

    def status(self, backend: str = "", job_state: str | None = None) -> JobStatus:
        """The job's status from its chunk state files."""
        job = self.job()
        chunks: list[ChunkStatus] = []
        layers: dict[str, dict[str, int]] = {}
        for chunk, st in self.states(job).values():
            seconds = (st.ended - st.started) if st.ended and st.started else None
            chunks.append(ChunkStatus(chunk.layer, chunk.index, chunk.spec, st.state, st.attempts,
                                      st.exit_code, seconds, str(self.log_path(chunk))))
            per = layers.setdefault(chunk.layer, dict.fromkeys(CHUNK_STATES, 0))
            per[st.state] = per.get(st.state, 0) + 1
        handle = self.read_handle() or {}
        state = job_state or _job_state(chunks, handle.get("state"))
        return JobStatus(self.job_id, job.name, backend or str(handle.get("backend", "")), state,
                         layers, chunks)

    def read_log(self, layer: str | None = None, frame: int | None = None) -> str:
        """The logs of the job, of one layer, or of the chunk holding ``frame``."""
        job = self.job()
        if layer is not None:
            job.layer(layer)  # names the layers when it is unknown
        out: list[str] = []
        for chunk in job.chunks():
            if layer is not None and chunk.layer != layer:
                continue
            if frame is not None and frame not in chunk.frames:
                continue
            path = self.log_path(chunk)
            if path.is_file():
                out.append(f"==> {chunk.layer} frames {chunk.spec} ({path}) <==\n"
                           + path.read_text(encoding="utf-8", errors="replace"))
        if frame is not None and not out:
            raise SetpieceError(f"no log for layer {layer} frame {frame} in job {self.job_id}: "
                                "the frame has not run yet, or is not in the layer's range")
        return "\n".join(out)


def _job_state(chunks: list[ChunkStatus], recorded: Any) -> str:
    states = {c.state for c in chunks}
    if states == {"done"}:
        return "done"
    if recorded == "killed":
        return "killed"  # chunks still stopping are not the job running again
    if "running" in states:
        return "running"
    if recorded in ("killed", "dead", "running", "waiting"):
        return str(recorded)
    if "dead" in states:
        return "dead"
    if "done" in states:
        return "running"
    return "waiting"


class Session:
    """Job-wide data a module layer's ``setup()`` stores and its chunks read (PyOutline's
    session): JSON values in ``session/session.json`` and files copied into ``session/``.

    Writes are atomic; chunks running at once must not write the same key (as in PyOutline:
    do such work in ``setup()`` or in a ``pre`` layer)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def _data(self) -> dict[str, Any]:
        return dict(_read_json(self.path / "session.json") or {})

    def get(self, key: str, default: Any = None) -> Any:
        return self._data().get(key, default)

    def put(self, key: str, value: Any) -> None:
        data = self._data()
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            raise SetpieceError(f"session value for {key!r} is not plain data (JSON): store "
                                "strings, numbers, lists and mappings")
        data[key] = value
        self.path.mkdir(parents=True, exist_ok=True)
        _write_json(self.path / "session.json", data)

    def put_file(self, src: Path | str, rename: str | None = None) -> Path:
        """Copy ``src`` into the session (so later edits of it do not reach the job)."""
        import shutil

        src = Path(src)
        if not src.is_file():
            raise NotFound(f"session file {src} does not exist: check the path")
        dest = self.path / "files" / (rename or src.name)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
        shutil.copyfile(src, tmp)
        os.replace(tmp, dest)
        return dest

    def get_file(self, name: str) -> Path:
        path = self.path / "files" / name
        if not path.is_file():
            raise SetpieceError(f"session has no file {name!r}: put_file() it in setup()")
        return path
