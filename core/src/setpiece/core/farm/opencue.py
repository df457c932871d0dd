"""The ``opencue`` backend: a job as a PyOutline outline, serialised to OpenCue's job spec XML
and launched on the studio's Cuebot through pycue.

```toml
[farm.backends.opencue]
cuebot = "cuebot.studio:8443"          # the Cuebot to submit to (required to submit)
python = "/opt/setpiece/bin/python"    # interpreter on the render nodes (default: this one)
facility = "local"                     # optional; also: maxretries, pause
```

What is built (``opencue-pyoutline``'s own objects and serialiser, ``serialize_simple``): one
``outline.modules.shell.Shell`` layer per setpiece layer, with its range, chunk, cores, memory,
tags, service and environment; layer dependencies through ``Layer.depend_all`` (LAYER_ON_LAYER)
and frame dependencies through ``Layer.depend_on`` (FRAME_BY_FRAME). pyoutline's own frame
command (its ``opencue_wrap_frame`` tcsh wrapper running ``pycuerun``) is replaced by
``python -m setpiece.core.farm.remote JOB_DIR LAYER --frame #IFRAME# --tee``: Cuebot replaces
``#IFRAME#`` with the chunk's first frame, the guard finds the chunk and runs the farm worker
with its ``SETPIECE_*``/``CUE_*`` environment (so the job folder must be on storage the render
nodes see, as pyoutline's sessions must be).

Cuebot's own checks that the DTD cannot express are made here first (``check_names``): job,
layer, show and shot names and tags of at least 3 characters of ``[A-Za-z0-9_.-]``
(``JobSpec.NAME_REGEX``); Cuebot lower-cases layer names and turns ``-`` into ``_``.
"""

from __future__ import annotations

import getpass
import os
import re
import shlex
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from setpiece.core.errors import SetpieceError
from setpiece.core.farm.backend import JobHandle, Progress
from setpiece.core.farm.jobdir import JobDir, JobStatus
from setpiece.core.farm.model import Job, Layer
from setpiece.core.farm.remote import guard_argv
from setpiece.core.fsutil import atomic_write_text

#: The job spec version written (pyoutline 1.37's default; tests validate against its DTD).
SPEC_VERSION = "1.15"

#: Cuebot's ``JobSpec.NAME_REGEX``: names and tags.
_CUE_NAME = re.compile(r"^[\w.-]{3,}$")


def _outline() -> Any:
    try:
        import outline
        import outline.modules.shell
    except ImportError as exc:
        raise SetpieceError(f"the opencue backend needs opencue-pyoutline ({exc}): pip install "
                            "'setpiece-core[farm-opencue]'")
    return outline


def check_names(job: Job) -> None:
    """Refuse what Cuebot's ``JobSpec`` refuses (names, tags), with the layer named."""
    for what, value in (("job name", job.name), ("show", job.show), ("shot", job.shot)):
        if not _CUE_NAME.match(value):
            raise SetpieceError(f"OpenCue needs a {what} of at least 3 letters, digits, '_', '.' "
                                f"or '-': {value!r} is refused by Cuebot: rename it")
    for layer in job.layers:
        if not _CUE_NAME.match(layer.name):
            raise SetpieceError(f"OpenCue needs layer names of at least 3 characters: layer "
                                f"{layer.name!r} is refused by Cuebot: rename it")
        for tag in layer.tags:
            if not (tag.isalnum() and len(tag) >= 3):
                raise SetpieceError(f"layer {layer.name!r}: OpenCue tags are letters and digits, "
                                    f"3 or more: tag {tag!r} would be dropped: rename it")


@contextmanager
def _session_dir(path: Path) -> Iterator[None]:
    """pyoutline's ``setup()`` writes its session (outline.yaml) under ``session_dir``: point it
    into the job folder for the time of the call (its config is process-wide)."""
    outline = _outline()
    before = outline.config.get("outline", "session_dir")
    outline.config.set("outline", "session_dir", str(path))
    try:
        yield
    finally:
        outline.config.set("outline", "session_dir", before)


def frame_command(job_dir: JobDir, layer: Layer, python: str) -> str:
    """The shell command of every frame of ``layer`` (RQD runs it with ``/bin/sh``)."""
    return shlex.join(guard_argv(python, job_dir.path, layer.name, frame="#IFRAME#", tee=True))


def build_outline(job: Job, job_dir: JobDir, *, python: str | None = None) -> Any:
    """A pyoutline ``Outline`` of ``job`` whose frames run setpiece's farm worker."""
    outline = _outline()
    from outline.depend import DependType

    check_names(job)
    python = python or sys.executable
    ol = outline.Outline(job.name, show=job.show, shot=job.shot, user=job.user)
    for key, value in job.env.items():
        ol.set_env(key, value, pre=True)
    layers: dict[str, Any] = {}
    for layer in job.layers:
        frames = layer.frame_list()
        args: dict[str, Any] = {
            "command": frame_command(job_dir, layer, python),
            "range": layer.frames if layer.kind in ("frames", "single") else str(frames[0]),
            "chunk": layer.chunk if layer.kind == "frames" else len(frames),
            "cores": layer.cores,
            "env": {},
        }
        if layer.tags:
            args["tags"] = list(layer.tags)
        if layer.service:
            args["service"] = layer.service
        if layer.memory_mb is not None:
            args["memory"] = f"{layer.memory_mb}m"
        if layer.timeout is not None:
            args["timeout"] = max(1, round(layer.timeout / 60))  # Cuebot: minutes
        if layer.kind in ("pre", "post"):
            args["type"] = outline.constants.LayerType.UTIL
        shell = outline.modules.shell.Shell(layer.name, **args)
        for key, value in layer.env.items():
            shell.set_env(key, value)
        ol.add_layer(shell)
        layers[layer.name] = shell
    kinds = {la.name: la.kind for la in job.layers}
    for layer in job.layers:
        explicit = {d.on: d.kind for d in layer.depends}
        for on in job.upstream_layers()[layer.name]:
            if explicit.get(on) == "frame" and kinds[on] == "frames":
                layers[layer.name].depend_on(layers[on], DependType.FrameByFrame)
            else:
                layers[layer.name].depend_all(layers[on])
    return ol


def job_spec(job: Job, job_dir: JobDir, *, python: str | None = None,
             options: Mapping[str, Any] | None = None) -> str:
    """OpenCue's job spec XML of ``job`` (pyoutline's ``serialize_simple``), also written to
    ``<job dir>/opencue/spec.xml``."""
    outline = _outline()
    options = dict(options or {})
    ol = build_outline(job, job_dir, python=python)
    session = job_dir.path / "opencue"
    session.mkdir(parents=True, exist_ok=True)
    flags: dict[str, Any] = {"priority": job.priority, "nomail": True,
                             "pause": bool(options.get("pause", False))}
    for key in ("facility", "maxretries"):
        if key in options:
            flags[key] = options[key]
    if "maxretries" not in flags:
        flags["maxretries"] = max(la.retries for la in job.layers)
    with _session_dir(session):
        launcher = outline.cuerun.OutlineLauncher(ol, backend="cue", **flags)
        xml: str = launcher.serialize(use_pycuerun=False)
    atomic_write_text(session / "spec.xml", xml)
    return xml


class OpenCueBackend:
    name = "opencue"

    OPTIONS = ("cuebot", "python", "facility", "maxretries", "pause")

    def __init__(self, options: Mapping[str, Any], jobs_dir: Path) -> None:
        unknown = set(options) - set(self.OPTIONS)
        if unknown:
            raise SetpieceError(f"[farm.backends.opencue] has an unknown option "
                                f"{sorted(unknown)[0]!r}: use {', '.join(self.OPTIONS)}")
        self.options = dict(options)
        self.cuebot = self.options.get("cuebot")
        self.python = self.options.get("python")
        self.jobs_dir = jobs_dir

    @contextmanager
    def _cue(self, address: str | None = None, spec: Path | None = None) -> Iterator[Any]:
        written = f" (the job spec is written: {spec})" if spec is not None else ""
        address = address or self.cuebot
        if not address:
            raise SetpieceError('no Cuebot configured: set [farm.backends.opencue] cuebot = '
                                f'"HOST:PORT" in setpiece.toml{written}')
        _outline()
        import opencue

        try:
            opencue.Cuebot.setHosts([address])
            yield opencue
        except opencue.exception.CueException as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise SetpieceError(f"Cuebot {address} did not take the job ({first}): check that "
                                f"it runs and [farm.backends.opencue] cuebot{written}")

    def submit(self, job_dir: JobDir, *, wait: bool = False,
               progress: Progress | None = None) -> JobHandle:
        job = job_dir.job()
        xml = job_spec(job, job_dir, python=self.python, options=self.options)
        handle = JobHandle(job_dir.job_id, self.name, job_dir.path, address=self.cuebot)
        with self._cue(spec=job_dir.path / "opencue" / "spec.xml") as opencue:
            jobs = opencue.api.launchSpecAndWait(xml)
        handle.data = {"jobs": [j.name() for j in jobs], "ids": [j.id() for j in jobs],
                       "user": os.environ.get("USER") or getpass.getuser()}
        handle.state = "running"
        handle.save()
        if wait:
            self.wait(handle, progress)
        return handle

    def _jobs(self, opencue: Any, handle: JobHandle) -> list[Any]:
        return [opencue.api.getJob(i) for i in handle.data.get("ids", [])]

    def status(self, handle: JobHandle) -> JobStatus:
        # Chunk states come from the job folder, written by the farm worker on the render
        # nodes (shared storage); Cuebot is asked only whether the job is still there.
        return handle.dir.status(self.name)

    def wait(self, handle: JobHandle, progress: Progress | None = None) -> JobStatus:
        import time

        last = None
        with self._cue(handle.address) as opencue:
            while True:
                status = handle.dir.status(self.name)
                if progress is not None and status.summary() != last:
                    progress(status)
                last = status.summary()
                pending = [n for n in handle.data.get("jobs", []) if opencue.api.isJobPending(n)]
                if not pending:
                    return handle.dir.status(self.name)
                time.sleep(5)

    def logs(self, handle: JobHandle, layer: str | None = None, frame: int | None = None) -> str:
        return handle.dir.read_log(layer, frame)

    def kill(self, handle: JobHandle) -> None:
        handle.state = "killed"
        handle.save()
        with self._cue(handle.address) as opencue:
            for job in self._jobs(opencue, handle):
                job.kill(reason="setpiece farm kill")

    def retry(self, handle: JobHandle, layer: str | None = None, *, wait: bool = False,
              progress: Progress | None = None) -> JobHandle:
        handle.dir.reset(layer=layer)
        handle.state = "running"
        handle.save()
        with self._cue(handle.address) as opencue:
            from opencue.wrappers.frame import Frame

            for job in self._jobs(opencue, handle):
                job.retryFrames(state=[Frame.FrameState.DEAD],
                                **({"layer": [layer.lower().replace("-", "_")]} if layer else {}))
        if wait:
            self.wait(handle, progress)
        return handle
