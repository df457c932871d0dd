"""The ``openjd`` backend: a job as an Open Job Description template (jobtemplate-2023-09, the
format of AWS Deadline Cloud), validated with ``openjd-model``.

```toml
[farm.backends.openjd]
python = "/opt/setpiece/bin/python"   # interpreter on the workers (default: this one)
tag_attribute = "attr.custom.tag"     # the host attribute a layer's tags become
run = true                            # also run it here with the openjd CLI (openjd-cli)
```

What maps: one step per layer; the step's tasks are the layer's chunks (setpiece's own chunks,
so every backend cuts a layer the same way: an ``INT`` task parameter ``Chunk`` zipped with a
``STRING`` parameter ``Frames``, ``combination: "(Chunk, Frames)"``); each task runs
``python -m setpiece.core.farm.remote JOB_DIR LAYER <Chunk> --tee`` (the farm worker, guarded);
cores and memory become ``amount.worker.vcpu`` / ``amount.worker.memory`` host requirements,
tags an attribute requirement (``allOf``); a timeout the action's ``timeout``. Dependencies
are step on step: OpenJD has no frame-level dependency, so a frame dependency becomes a whole
step dependency (the downstream layer starts when all of the upstream layer is done).

OpenJD's own chunking (``CHUNK[INT]`` with the ``TASK_CHUNKING`` extension, in openjd-model
0.13) balances chunk sizes (``1-10`` by 3 -> ``1-3, 4-5, 6-8, 9-10``) and writes steps as
``1-5:2``: setpiece keeps its own chunk list instead, so chunk states and logs mean the same
thing on every backend.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from setpiece.core.errors import SetpieceError
from setpiece.core.farm.backend import JobHandle, Progress
from setpiece.core.farm.jobdir import JobDir, JobStatus
from setpiece.core.farm.model import Job
from setpiece.core.fsutil import atomic_write_text

SPECIFICATION = "jobtemplate-2023-09"
DEFAULT_TAG_ATTRIBUTE = "attr.custom.tag"


def job_template(job: Job, job_dir: JobDir, *, python: str | None = None,
                 tag_attribute: str = DEFAULT_TAG_ATTRIBUTE) -> dict[str, Any]:
    """The OpenJD job template of ``job`` (plain data: dump it as JSON or YAML)."""
    ups = job.upstream_layers()
    steps: list[dict[str, Any]] = []
    for layer in job.layers:
        chunks = layer.chunks()
        run: dict[str, Any] = {
            "command": "{{Param.Python}}",
            "args": ["-m", "setpiece.core.farm.remote", "{{Param.JobDir}}", layer.name,
                     "{{Task.Param.Chunk}}", "--tee"],
        }
        if layer.timeout is not None:
            run["timeout"] = max(1, round(layer.timeout))
        step: dict[str, Any] = {
            "name": layer.name,
            "parameterSpace": {
                "taskParameterDefinitions": [
                    {"name": "Chunk", "type": "INT", "range": [c.index for c in chunks]},
                    {"name": "Frames", "type": "STRING", "range": [c.spec for c in chunks]},
                ],
                "combination": "(Chunk, Frames)",
            },
            "script": {"actions": {"onRun": run}},
        }
        amounts: list[dict[str, Any]] = [{"name": "amount.worker.vcpu",
                                          "min": max(1, round(layer.cores))}]
        if layer.memory_mb is not None:
            amounts.append({"name": "amount.worker.memory", "min": layer.memory_mb})
        requirements: dict[str, Any] = {"amounts": amounts}
        if layer.tags:
            requirements["attributes"] = [{"name": tag_attribute, "allOf": list(layer.tags)}]
        step["hostRequirements"] = requirements
        if ups[layer.name]:
            step["dependencies"] = [{"dependsOn": up} for up in ups[layer.name]]
        steps.append(step)
    return {
        "specificationVersion": SPECIFICATION,
        "name": job.name,
        "parameterDefinitions": [
            # PATH defaults are relative to the template's folder: the template is written
            # into the job folder, so "." is the job folder (made absolute when the job is
            # created). No dataFlow: the folder is on shared storage, not a job attachment.
            {"name": "JobDir", "type": "PATH", "objectType": "DIRECTORY", "default": ".",
             "description": "The setpiece job folder (on storage every worker sees)"},
            {"name": "Python", "type": "STRING", "default": python or sys.executable,
             "description": "The Python that has setpiece-core on the workers"},
        ],
        "steps": steps,
    }


def validate_template(template: Mapping[str, Any], folder: Path) -> Any:
    """Decode ``template`` (kept in ``folder``) and create its job with openjd-model, as a
    submitter does (``preprocess_job_parameters`` then ``create_job``); the ``openjd.model``
    Job. A template openjd-model refuses is a ``SetpieceError``."""
    try:
        from openjd.model import (
            DecodeValidationError,
            create_job,
            decode_job_template,
            preprocess_job_parameters,
        )
    except ImportError as exc:
        raise SetpieceError(f"the openjd backend needs openjd-model ({exc}): pip install "
                            "'setpiece-core[farm-openjd]'")
    try:
        decoded = decode_job_template(template=dict(template))
        values = preprocess_job_parameters(job_template=decoded, job_parameter_values={},
                                           job_template_dir=folder, current_working_dir=folder)
        return create_job(job_template=decoded, job_parameter_values=values)
    except (DecodeValidationError, ValueError) as exc:
        first = str(exc).strip().splitlines()
        raise SetpieceError(f"OpenJD refuses the job template ({' '.join(first[:3])}): "
                            "check the job's layer names and values")


def write_template(job: Job, job_dir: JobDir, *, python: str | None = None,
                   tag_attribute: str = DEFAULT_TAG_ATTRIBUTE) -> Path:
    """Build, validate and write ``<job dir>/template.json`` (which makes the job folder a
    Deadline Cloud job bundle: ``deadline bundle submit <job dir>``)."""
    template = job_template(job, job_dir, python=python, tag_attribute=tag_attribute)
    validate_template(template, job_dir.path)
    path = job_dir.path / "template.json"
    atomic_write_text(path, json.dumps(template, indent=2) + "\n")
    return path


class OpenJDBackend:
    name = "openjd"

    OPTIONS = ("python", "tag_attribute", "run")

    def __init__(self, options: Mapping[str, Any], jobs_dir: Path) -> None:
        unknown = set(options) - set(self.OPTIONS)
        if unknown:
            raise SetpieceError(f"[farm.backends.openjd] has an unknown option "
                                f"{sorted(unknown)[0]!r}: use {', '.join(self.OPTIONS)}")
        self.options = dict(options)
        self.python = self.options.get("python")
        self.tag_attribute = str(self.options.get("tag_attribute", DEFAULT_TAG_ATTRIBUTE))
        self.run = bool(self.options.get("run", False))
        self.jobs_dir = jobs_dir

    def submit(self, job_dir: JobDir, *, wait: bool = False,
               progress: Progress | None = None) -> JobHandle:
        job = job_dir.job()
        path = write_template(job, job_dir, python=self.python, tag_attribute=self.tag_attribute)
        handle = JobHandle(job_dir.job_id, self.name, job_dir.path,
                           data={"template": str(path)}, state="waiting")
        handle.save()
        if self.run:
            self._run_steps(handle, job, progress)
        return handle

    def _openjd(self) -> str:
        exe = Path(sys.executable).parent / ("openjd.exe" if sys.platform == "win32" else "openjd")
        if not exe.exists():
            raise SetpieceError("running OpenJD templates here needs the openjd CLI: pip install "
                                "openjd-cli (or set [farm.backends.openjd] run = false)")
        return str(exe)

    def _run_steps(self, handle: JobHandle, job: Job, progress: Progress | None) -> JobStatus:
        """Run each step with ``openjd run TEMPLATE --step NAME``, upstream steps first; a step
        that fails stops the job (nothing downstream runs)."""
        from setpiece.core.farm.dask import _layer_order

        handle.state = "running"
        handle.save()
        template = handle.data["template"]
        for layer in _layer_order(job):
            if all(handle.dir.read_state(c).state == "done" for c in layer.chunks()):
                continue
            log = handle.dir.path / "logs" / f"openjd-{layer.name}.log"
            log.parent.mkdir(parents=True, exist_ok=True)
            with log.open("ab") as out:
                code = subprocess.call([self._openjd(), "run", template, "--step", layer.name],
                                       stdout=out, stderr=subprocess.STDOUT)
            if progress is not None:
                progress(handle.dir.status(self.name))
            if code != 0:
                break
        from setpiece.core.farm.dask import _emit_end

        status = handle.dir.status(self.name)
        handle.state = "done" if status.state == "done" else "dead"
        handle.save()
        final = handle.dir.status(self.name)
        _emit_end(handle.dir, handle.state, final, backend=self.name)
        return final

    def status(self, handle: JobHandle) -> JobStatus:
        return handle.dir.status(self.name)

    def wait(self, handle: JobHandle, progress: Progress | None = None) -> JobStatus:
        recorded = handle.dir.read_handle() or {}
        if recorded.get("state") == "waiting" and not self.run:
            raise SetpieceError(
                f"job {handle.job_id} was written as an OpenJD template "
                f"({handle.data.get('template')}) for your OpenJD farm to run: setpiece cannot "
                "wait for it there (set [farm.backends.openjd] run = true to run it here)")
        while (handle.dir.read_handle() or {}).get("state") == "running":
            time.sleep(1)
        return handle.dir.status(self.name)

    def logs(self, handle: JobHandle, layer: str | None = None, frame: int | None = None) -> str:
        return handle.dir.read_log(layer, frame)

    def kill(self, handle: JobHandle) -> None:
        handle.state = "killed"  # running guards stop their chunks
        handle.save()

    def retry(self, handle: JobHandle, layer: str | None = None, *, wait: bool = False,
              progress: Progress | None = None) -> JobHandle:
        handle.dir.reset(layer=layer)
        if self.run:
            self._run_steps(handle, handle.dir.job(), progress)
        return handle
