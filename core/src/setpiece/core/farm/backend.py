"""Backends: what runs a job. One protocol, found by name.

A backend is a class ``Backend(options, jobs_dir)`` (``options``: its ``[farm.backends.NAME]``
table from ``setpiece.toml``; ``jobs_dir``: where job folders live). setpiece's own backends
are listed in ``BUILTIN``; a studio adds one with an entry point in the group
``setpiece.farm.backends`` (``mybackend = "studio.farm:MyBackend"``). The module is imported
only when the backend is used.

Every method takes or returns a ``JobHandle`` (plain data, kept in the job folder as
``handle.json`` so ``setpiece farm status/logs/kill/retry JOB`` find the backend again).
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from setpiece.core.errors import SetpieceError
from setpiece.core.farm.jobdir import JobDir, JobStatus

#: Called while waiting, with the job's status after each change.
Progress = Callable[[JobStatus], None]

ENTRY_POINT_GROUP = "setpiece.farm.backends"

#: name -> "module:Class" (imported lazily; extras say what each needs installed)
BUILTIN: dict[str, str] = {
    "local": "setpiece.core.farm.local:LocalBackend",
    "dask": "setpiece.core.farm.dask:DaskBackend",
    "opencue": "setpiece.core.farm.opencue:OpenCueBackend",
    "openjd": "setpiece.core.farm.openjd:OpenJDBackend",
}


@dataclass
class JobHandle:
    """A submitted job: its id, folder, backend and what the backend needs to find it again
    (``address``: the scheduler/Cuebot it went to; ``data``: backend-specific, plain data)."""

    job_id: str
    backend: str
    job_dir: Path
    address: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    submitted: float = field(default_factory=time.time)
    state: str = "waiting"

    def to_dict(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "backend": self.backend,
            "job_dir": str(self.job_dir),
            "address": self.address,
            "data": self.data,
            "submitted": self.submitted,
            "state": self.state,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> JobHandle:
        return cls(
            job_id=str(data["job_id"]),
            backend=str(data["backend"]),
            job_dir=Path(data["job_dir"]),
            address=data.get("address"),
            data=dict(data.get("data") or {}),
            submitted=float(data.get("submitted") or 0.0),
            state=str(data.get("state") or "waiting"),
        )

    @property
    def dir(self) -> JobDir:
        return JobDir(self.job_dir)

    def save(self) -> None:
        """Write the handle into the job folder (atomically)."""
        self.dir.write_handle(self.to_dict())


@runtime_checkable
class Backend(Protocol):
    """What every backend does. ``submit`` gets a prepared job folder (``job.json`` written,
    module layers' ``setup()`` run, session filled: see ``setpiece.core.farm.submit``)."""

    name: str

    def submit(self, job_dir: JobDir, *, wait: bool = False,
               progress: Progress | None = None) -> JobHandle:
        """Hand the job to the engine; with ``wait``, return once it is done or dead."""
        ...

    def status(self, handle: JobHandle) -> JobStatus:
        ...

    def wait(self, handle: JobHandle, progress: Progress | None = None) -> JobStatus:
        """Block until the job is done, dead or killed; its final status."""
        ...

    def logs(self, handle: JobHandle, layer: str | None = None, frame: int | None = None) -> str:
        ...

    def kill(self, handle: JobHandle) -> None:
        """Stop the job: running chunks are killed, nothing more starts."""
        ...

    def retry(self, handle: JobHandle, layer: str | None = None, *, wait: bool = False,
              progress: Progress | None = None) -> JobHandle:
        """Run again what did not finish (dead chunks, of ``layer`` or all, and whatever a
        kill stopped); finished chunks are not run again."""
        ...


def backend_names() -> list[str]:
    from importlib.metadata import entry_points

    return sorted({*BUILTIN, *(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))})


def backend_class(name: str) -> type:
    """The class of backend ``name``; a one-line error when it is unknown or not installed."""
    target = BUILTIN.get(name)
    if target is None:
        from importlib.metadata import entry_points

        eps = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
        if name not in eps:
            raise SetpieceError(f"farm backend {name!r} is unknown: use one of "
                                + ", ".join(backend_names()))
        target = eps[name].value
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise SetpieceError(f"farm backend {name!r} is not usable here ({exc}): install what it "
                            f"needs, e.g. 'pip install setpiece-core[{name}]'")
    cls = getattr(module, attr, None)
    if not isinstance(cls, type):
        raise SetpieceError(f"farm backend {name!r}: {target} is not a class: fix its entry point")
    return cls


def get_backend(name: str, options: Mapping[str, Any] | None, jobs_dir: Path) -> Backend:
    """An instance of backend ``name`` configured with ``options``."""
    backend = backend_class(name)(dict(options or {}), Path(jobs_dir))
    if not isinstance(backend, Backend):
        raise SetpieceError(f"farm backend {name!r} does not implement the Backend protocol")
    return backend
