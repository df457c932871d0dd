"""Submitting and finding jobs: ``[farm]`` in ``setpiece.toml``, job folders, backends.

```toml
[farm]
backend = "local"              # the default backend
jobs_dir = "/mnt/farm/jobs"    # job folders (default: <workspace>/.setpiece/farm/jobs);
                               # must be shared storage for backends on other machines
[farm.backends.local]
workers = 8                    # chunks at once (default: the machine's cores)
[farm.backends.dask]
address = "tcp://scheduler.studio:8786"
```
Outside a workspace, ``$SETPIECE_FARM_DIR`` names the jobs folder.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from setpiece.core.errors import SetpieceError
from setpiece.core.farm.backend import Backend, JobHandle, Progress, get_backend
from setpiece.core.farm.jobdir import JobDir, Session
from setpiece.core.farm.model import Job


@dataclass
class FarmConfig:
    backend: str = "local"
    jobs_dir: Path = field(default_factory=lambda: Path.cwd() / ".setpiece" / "farm" / "jobs")
    backends: dict[str, dict[str, Any]] = field(default_factory=dict)
    workspace: Path | None = None

    @classmethod
    def load(cls, ws: Any = None) -> FarmConfig:
        """From ``ws``'s ``setpiece.toml`` ``[farm]`` (``ws`` may be None: defaults + env)."""
        section: Mapping[str, Any] = ws.config.section("farm") if ws is not None else {}
        env_dir = os.environ.get("SETPIECE_FARM_DIR")
        if section.get("jobs_dir"):
            jobs_dir = Path(str(section["jobs_dir"])).expanduser()
            if not jobs_dir.is_absolute() and ws is not None:
                jobs_dir = ws.root / jobs_dir
        elif env_dir:
            jobs_dir = Path(env_dir).expanduser()
        elif ws is not None:
            jobs_dir = ws.state_dir / "farm" / "jobs"
        else:
            raise SetpieceError("no farm jobs folder: run inside a workspace, pass -w PATH, or "
                                "set SETPIECE_FARM_DIR")
        backends = section.get("backends", {})
        if not isinstance(backends, Mapping) or not all(isinstance(v, Mapping) for v in backends.values()):
            raise SetpieceError("setpiece.toml [farm.backends]: each backend's options must be a "
                                "table ([farm.backends.NAME])")
        backend = section.get("backend", "local")
        if not isinstance(backend, str):
            raise SetpieceError("setpiece.toml [farm] backend must be a backend name")
        return cls(backend, jobs_dir.resolve(), {k: dict(v) for k, v in backends.items()},
                   ws.root if ws is not None else None)

    def backend_for(self, name: str | None = None) -> Backend:
        name = name or self.backend
        return get_backend(name, self.backends.get(name, {}), self.jobs_dir)


def prepare(job: Job, config: FarmConfig, ws: Any = None) -> JobDir:
    """A new job folder for ``job``, with every module layer's ``setup(session)`` run once.

    A setup that fails removes the folder and raises: nothing half-submitted is left.
    """
    import shutil

    from setpiece.core.events import current_traceparent
    from setpiece.core.farm.modules import run_setups

    # the chunks' spans join the submitter's trace, on every backend (the folder travels)
    context: dict[str, Any] = {"python": sys.executable, "traceparent": current_traceparent()}
    if ws is not None:
        context["workspace"] = str(ws.root)
        context["site_packages"] = str(ws.site_packages)
    job_dir = JobDir.create(config.jobs_dir, job, context=context)
    try:
        with _workspace_importable(context):
            run_setups(job, Session(job_dir.session_dir))
    except BaseException:
        shutil.rmtree(job_dir.path, ignore_errors=True)
        raise
    return job_dir


class _workspace_importable:
    """Module layers import from the workspace's installed packages (its inputs/ venv) while
    their ``setup()`` runs; afterwards this process forgets them (another workspace may hold
    other versions of the same packages)."""

    def __init__(self, context: Mapping[str, Any]) -> None:
        self.site = context.get("site_packages")

    def __enter__(self) -> None:
        self.before = list(sys.path)
        self.modules = set(sys.modules)
        if self.site and Path(self.site).is_dir():
            import site

            site.addsitedir(str(self.site))

    def __exit__(self, *exc: object) -> None:
        sys.path[:] = self.before
        if not self.site:
            return
        root = str(Path(self.site).resolve())
        for name in set(sys.modules) - self.modules:
            origin = getattr(sys.modules[name], "__file__", None) or ""
            if origin and str(Path(origin).resolve()).startswith(root):
                del sys.modules[name]


def submit(job: Job, *, backend: str | None = None, ws: Any = None, wait: bool = False,
           progress: Progress | None = None, config: FarmConfig | None = None) -> JobHandle:
    """Prepare ``job``'s folder and hand it to ``backend`` (default: ``[farm] backend``)."""
    from setpiece.core import telemetry

    config = config or FarmConfig.load(ws)
    engine = config.backend_for(backend)
    with telemetry.span("farm.submit", job=job.name, backend=engine.name,
                        layers=len(job.layers), chunks=len(job.chunks())) as span:
        job_dir = prepare(job, config, ws)
        span.set(job_id=job_dir.job_id)
        job_dir.emit("farm.submitted", job=job.name, backend=engine.name)
        return engine.submit(job_dir, wait=wait, progress=progress)


def find_job(ref: str, config: FarmConfig) -> JobDir:
    """A job folder by id, by folder path, or by job name (the newest job of that name)."""
    path = Path(ref)
    if (path / "job.json").is_file():
        return JobDir(path)
    direct = config.jobs_dir / ref
    if (direct / "job.json").is_file():
        return JobDir(direct)
    if config.jobs_dir.is_dir():
        named = sorted(
            (p for p in config.jobs_dir.iterdir()
             if p.name.startswith(f"{ref}-") and (p / "job.json").is_file()
             and p.name[len(ref) + 1:len(ref) + 2].isdigit()),
            key=lambda p: p.name,
        )
        if named:
            return JobDir(named[-1])
    raise SetpieceError(f"no farm job {ref!r} in {config.jobs_dir}: see 'setpiece farm status' "
                        "for the jobs there")


def list_jobs(config: FarmConfig) -> list[JobDir]:
    if not config.jobs_dir.is_dir():
        return []
    return [JobDir(p) for p in sorted(config.jobs_dir.iterdir()) if (p / "job.json").is_file()]


def handle_of(job_dir: JobDir) -> JobHandle:
    data = job_dir.read_handle()
    if data is None:
        raise SetpieceError(f"job {job_dir.job_id} was never handed to a backend (no handle.json): "
                            "submit it again")
    return JobHandle.from_dict(data)


def backend_of(job_dir: JobDir, config: FarmConfig) -> tuple[Backend, JobHandle]:
    handle = handle_of(job_dir)
    return config.backend_for(handle.backend), handle
