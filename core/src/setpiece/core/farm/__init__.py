"""Farm jobs in OpenCue's shape: a job is layers; a layer is frames run in chunks.

``from setpiece.core.farm import Job, Layer, Depend, submit`` is the Python API (see
docs/farm.md). Pure Python; backends that need an engine import it only when used.

- ``model``: ``Job``, ``Layer``, ``Depend``, ``Chunk`` (plain data, validated)
- ``frames``: frame range specs and chunking
- ``jobfile``: JSON / YAML job files
- ``jobdir``: a submitted job's folder, chunk states, logs, ``Session``
- ``env``: the environment a chunk sees (``SETPIECE_*``, ``CUE_*``)
- ``modules``: module layers (``"package.module:Class"``, ``setup``/``execute``)
- ``backend``: the ``Backend`` protocol, ``JobHandle``, backends by name
- ``submitting``: ``[farm]`` config, ``submit``, finding jobs
- ``worker``: runs one chunk (``python -m setpiece.core.farm.worker JOB_DIR LAYER INDEX``)
- ``local``: the local backend
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from setpiece.core.farm.backend import Backend, JobHandle
    from setpiece.core.farm.frames import format_frames, parse_frames
    from setpiece.core.farm.jobdir import JobDir, JobStatus, Session
    from setpiece.core.farm.jobfile import load_job, save_job
    from setpiece.core.farm.model import Chunk, Depend, Job, Layer
    from setpiece.core.farm.modules import Module
    from setpiece.core.farm.submitting import FarmConfig, submit

_WHERE = {
    "Backend": "backend",
    "JobHandle": "backend",
    "format_frames": "frames",
    "parse_frames": "frames",
    "JobDir": "jobdir",
    "JobStatus": "jobdir",
    "Session": "jobdir",
    "load_job": "jobfile",
    "save_job": "jobfile",
    "Chunk": "model",
    "Depend": "model",
    "Job": "model",
    "Layer": "model",
    "Module": "modules",
    "FarmConfig": "submitting",
    "submit": "submitting",
}

__all__ = [
    "Backend",
    "Chunk",
    "Depend",
    "FarmConfig",
    "Job",
    "JobDir",
    "JobHandle",
    "JobStatus",
    "Layer",
    "Module",
    "Session",
    "format_frames",
    "load_job",
    "parse_frames",
    "save_job",
    "submit",
]


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(name)
    import importlib

    return getattr(importlib.import_module(f"setpiece.core.farm.{where}"), name)
