"""The environment a running chunk sees: ``SETPIECE_*``, and OpenCue's ``CUE_*`` names where
they mean the same thing.

The ``CUE_*`` names and meanings are those Cuebot puts in every frame's environment
(``DispatchSupportService.prepareRqdRunFrame`` in OpenCue's cuebot): ``CUE_JOB``,
``CUE_LAYER``, ``CUE_FRAME`` (the frame's name, ``0001-render``), ``CUE_IFRAME`` (the frame
number; for a chunk, its first frame), ``CUE_RANGE`` (the layer's range), ``CUE_CHUNK`` (the
chunk size), ``CUE_SHOW``, ``CUE_SHOT``, ``CUE_USER``, ``CUE_LOG_PATH`` (the log folder),
``CUE_THREADS`` and ``CUE_MEMORY`` (KB). OpenCue's GUIDs (``CUE_JOB_ID`` ...) have no
equivalent here and are not set.
"""

from __future__ import annotations

from pathlib import Path

from setpiece.core.farm.model import Chunk, Job, Layer


def frame_name(layer: Layer, frame: int) -> str:
    """OpenCue's frame name: ``0001-render``."""
    return f"{frame:04d}-{layer.name}"


def chunk_env(job: Job, layer: Layer, chunk: Chunk, *, job_id: str, job_dir: Path,
              log: Path) -> dict[str, str]:
    """The variables set for ``chunk`` (the job's and layer's ``env`` are added on top)."""
    frames = ",".join(str(f) for f in chunk.frames)
    env = {
        "SETPIECE_JOB": job.name,
        "SETPIECE_JOB_ID": job_id,
        "SETPIECE_JOB_DIR": str(job_dir),
        "SETPIECE_SESSION": str(job_dir / "session"),
        "SETPIECE_LAYER": layer.name,
        "SETPIECE_FRAME": str(chunk.first),
        "SETPIECE_FRAMES": frames,
        "SETPIECE_CHUNK_RANGE": chunk.spec,
        "SETPIECE_FRAME_RANGE": layer.frames,
        "SETPIECE_CHUNK": str(layer.chunk),
        "SETPIECE_CHUNK_INDEX": str(chunk.index),
        "SETPIECE_LOG": str(log),
        "SETPIECE_SHOW": job.show,
        "SETPIECE_SHOT": job.shot,
        "SETPIECE_USER": job.user,
        "SETPIECE_CORES": f"{layer.cores:g}",
        "CUE_JOB": job.name,
        "CUE_LAYER": layer.name,
        "CUE_FRAME": frame_name(layer, chunk.first),
        "CUE_IFRAME": str(chunk.first),
        "CUE_RANGE": layer.frames,
        "CUE_CHUNK": str(layer.chunk),
        "CUE_SHOW": job.show,
        "CUE_SHOT": job.shot,
        "CUE_USER": job.user,
        "CUE_LOG_PATH": str(log.parent),
        "CUE_THREADS": str(max(1, int(layer.cores))),
    }
    if layer.memory_mb is not None:
        env["SETPIECE_MEMORY_MB"] = str(layer.memory_mb)
        env["CUE_MEMORY"] = str(layer.memory_mb * 1024)
    env.update(job.env)
    env.update(layer.env)
    return env


def token_values(env: dict[str, str], layer: Layer, chunk: Chunk) -> dict[str, str]:
    """The values of a command's ``{tokens}`` for ``chunk`` (see ``model.TOKENS``)."""
    return {
        "frame": str(chunk.first),
        "first": str(chunk.first),
        "last": str(chunk.last),
        "frames": env["SETPIECE_FRAMES"],
        "chunk_range": chunk.spec,
        "range": layer.frames,
        "chunk": str(chunk.index),
        "job": env["SETPIECE_JOB"],
        "job_id": env["SETPIECE_JOB_ID"],
        "layer": layer.name,
        "job_dir": env["SETPIECE_JOB_DIR"],
        "log": env["SETPIECE_LOG"],
    }
