"""The ``dask`` backend: a job's chunks as tasks on a Dask ``distributed`` scheduler.

```toml
[farm.backends.dask]
address = "tcp://scheduler.studio:8786"   # the scheduler (required)
python = "/opt/setpiece/bin/python"       # interpreter on the workers (default: the worker's)
```

- Each chunk is one task (``client.submit``) whose arguments include the futures of the chunks
  it waits for (``Job.chunk_dependencies``: a frame dependency waits for the upstream chunks
  that hold its frames, a layer dependency for all of them), so Dask runs nothing before its
  inputs are done and nothing downstream of a failure.
- A layer's ``cores`` and ``tags`` become the task's ``resources``: ``{"cores": cores,
  "tag:<tag>": 1}`` (a ``service`` is the tag ``service:<name>``). Workers offer them with
  ``dask worker ... --resources "cores=16 tag:render=16"``.
- The task runs the chunk as a subprocess through ``setpiece.core.farm.remote`` (the farm
  worker, guarded), so state, log and environment are those of every other backend; the job
  folder must be on storage every worker sees.
- ``retries=layer.retries`` re-runs a failing chunk; a worker that dies mid-chunk has its task
  re-run on another worker by the scheduler (up to ``distributed.scheduler.allowed-failures``
  deaths, 3 by default) and the guard kills what the dead worker's chunk had started.
- Tasks are ``fire_and_forget``: the job keeps running when the submitting process exits;
  ``status``/``wait``/``kill``/``retry`` reconnect with the address kept in the job's handle.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from setpiece.core.errors import SetpieceError
from setpiece.core.farm.backend import JobHandle, Progress
from setpiece.core.farm.jobdir import JobDir, JobStatus
from setpiece.core.farm.model import Job, Layer
from setpiece.core.farm.remote import guard_argv

#: Seconds between two looks at the scheduler while waiting.
POLL = 0.5
#: Seconds ``kill`` waits for running chunks to stop.
KILL_WAIT = 30.0
#: Seconds between two progress reports (each reads every chunk's state file).
PROGRESS_EVERY = 1.0
#: Seconds after which a task the scheduler never knew of is taken as lost.
LOST_AFTER = 30.0


class ChunkFailed(Exception):
    """A chunk's worker exited non-zero (the message names the layer, frames and log)."""


def run_chunk(job_dir: str, layer: str, index: int, python: str | None, *upstream: Any) -> str:
    """The Dask task of one chunk (runs on a worker; ``upstream`` are the results of the chunks
    it waits for, passed only so that Dask orders the tasks)."""
    code = subprocess.call(guard_argv(python or sys.executable, job_dir, layer, index))
    if code != 0:
        jd = JobDir(job_dir)
        chunk = jd.job().layer(layer).chunks()[index]
        raise ChunkFailed(f"layer {layer} frames {chunk.spec} failed (exit {code}): "
                          f"see {jd.log_path(chunk)}")
    return f"{layer}/{index}"


def layer_resources(layer: Layer) -> dict[str, float]:
    """The Dask worker resources one chunk of ``layer`` takes."""
    out: dict[str, float] = {"cores": layer.cores}
    for tag in layer.tags:
        out[f"tag:{tag}"] = 1
    if layer.service:
        out[f"service:{layer.service}"] = 1
    return out


def _layer_order(job: Job) -> list[Layer]:
    """Layers with every layer after the layers it waits for."""
    ups = job.upstream_layers()
    done: list[str] = []
    while len(done) < len(job.layers):
        for layer in job.layers:
            if layer.name not in done and all(u in done for u in ups[layer.name]):
                done.append(layer.name)
    return [job.layer(n) for n in done]


def _task_states(dask_scheduler: Any, keys: list[str]) -> dict[str, list[str]]:
    """On the scheduler: key -> [state, exception text] (missing keys: forgotten). A task in
    ``released`` that no client wants any more (a fire-and-forget task upstream of a failure)
    will not run: it is reported ``dropped``."""
    out: dict[str, list[str]] = {}
    for key in keys:
        ts = dask_scheduler.tasks.get(key)
        if ts is not None:
            state = ts.state
            if state == "released" and not ts.who_wants and not ts.waiters:
                state = "dropped"
            out[key] = [state, str(ts.exception_text or "")]
    return out


def _emit_end(job_dir: JobDir, state: str, status: JobStatus, backend: str = "dask") -> None:
    """``farm.done`` / ``farm.dead`` / ``farm.killed`` in the submitting workspace's event log
    (as the local runner logs them)."""
    job_dir.emit(f"farm.{state}", job=status.name, backend=backend, counts=status.counts(),
                 dead=[{"layer": c.layer, "frames": c.frames} for c in status.dead])


class DaskBackend:
    name = "dask"

    OPTIONS = ("address", "python", "connect_timeout")

    def __init__(self, options: Mapping[str, Any], jobs_dir: Path) -> None:
        unknown = set(options) - set(self.OPTIONS)
        if unknown:
            raise SetpieceError(f"[farm.backends.dask] has an unknown option "
                                f"{sorted(unknown)[0]!r}: use {', '.join(self.OPTIONS)}")
        self.address = options.get("address")
        self.python = options.get("python")
        self.timeout = float(options.get("connect_timeout", 10))
        self.jobs_dir = jobs_dir

    # -- connection --------------------------------------------------------------
    @contextmanager
    def _client(self, address: str | None = None) -> Iterator[Any]:
        address = address or self.address
        if not address:
            raise SetpieceError('no Dask scheduler configured: set [farm.backends.dask] address = '
                                '"tcp://HOST:8786" in setpiece.toml')
        try:
            from distributed import Client
        except ImportError:
            raise SetpieceError("the dask backend needs distributed: pip install "
                                "'setpiece-core[farm-dask]'")
        try:
            client = Client(address, timeout=self.timeout, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise SetpieceError(f"cannot reach the Dask scheduler at {address} ({exc}): start it "
                                "('dask scheduler') or fix [farm.backends.dask] address")
        try:
            yield client
        finally:
            client.close()

    # -- submitting --------------------------------------------------------------
    def _check_resources(self, client: Any, job: Job) -> None:
        workers = client.scheduler_info(n_workers=-1).get("workers", {})
        if not workers:
            return  # none connected yet: the tasks wait for workers to join
        offered = [dict(w.get("resources") or {}) for w in workers.values()]
        for layer in job.layers:
            need = layer_resources(layer)
            if not any(all(res.get(k, 0) >= v for k, v in need.items()) for res in offered):
                flags = " ".join(f"{k}={v:g}" for k, v in need.items())
                raise SetpieceError(
                    f"layer {layer.name!r} needs Dask worker resources {flags} and no worker of "
                    f"{self.address} offers them: start workers with --resources \"{flags}\" "
                    "(see docs/farm.md)")

    def _launch(self, client: Any, job_dir: JobDir, handle: JobHandle) -> None:
        from distributed import fire_and_forget

        job = job_dir.job()
        self._check_resources(client, job)
        deps = job.chunk_dependencies()
        round_ = int(handle.data.get("round", 0)) + 1
        futures: dict[str, Any] = {}
        for layer in _layer_order(job):
            resources = layer_resources(layer)
            for chunk in layer.chunks():
                if job_dir.read_state(chunk).state == "done":
                    continue  # finished chunks are not run again
                upstream = [futures[k] for k in deps[chunk.key] if k in futures]
                futures[chunk.key] = client.submit(
                    run_chunk, str(job_dir.path), layer.name, chunk.index, self.python, *upstream,
                    key=f"setpiece-{job_dir.job_id}-{layer.name}-{chunk.index}-r{round_}",
                    resources=resources, retries=layer.retries, pure=False,
                    priority=job.priority,
                )
        fire_and_forget(list(futures.values()))
        handle.data = {"round": round_, "keys": {k: f.key for k, f in futures.items()}}
        handle.state = "running"
        handle.save()

    def submit(self, job_dir: JobDir, *, wait: bool = False,
               progress: Progress | None = None) -> JobHandle:
        handle = JobHandle(job_dir.job_id, self.name, job_dir.path, address=self.address)
        with self._client() as client:
            self._launch(client, job_dir, handle)
            if wait:
                self._wait(client, handle, progress)
        return handle

    # -- following ---------------------------------------------------------------
    def status(self, handle: JobHandle) -> JobStatus:
        return handle.dir.status(self.name)

    def wait(self, handle: JobHandle, progress: Progress | None = None) -> JobStatus:
        recorded = handle.dir.read_handle() or {}
        if recorded.get("state") in ("done", "dead", "killed"):
            return handle.dir.status(self.name)  # already waited for to its end
        with self._client(handle.address) as client:
            return self._wait(client, handle, progress)

    def _wait(self, client: Any, handle: JobHandle, progress: Progress | None) -> JobStatus:
        keys: dict[str, str] = dict(handle.data.get("keys") or {})
        job_dir = handle.dir
        job = job_dir.job()
        chunks = {c.key: c for c in job.chunks()}
        last = None
        seen: set[str] = set()
        finished: set[str] = set()
        started = time.monotonic()
        reported = 0.0
        while True:
            pending = {k: keys[k] for k in keys if k not in finished}
            states = client.run_on_scheduler(_task_states, keys=list(pending.values()))
            seen.update(states)
            for k, key in pending.items():
                # a chunk's state file is read only once its task left the scheduler
                chunk_state = "" if key in states else job_dir.read_state(chunks[k]).state
                if self._finished(key, states, seen, chunk_state, started):
                    finished.add(k)
            if progress is not None and len(finished) != last \
                    and time.monotonic() - reported >= PROGRESS_EVERY:
                progress(job_dir.status(self.name))  # reads every state file: not too often
                last, reported = len(finished), time.monotonic()
            if len(finished) == len(keys) or \
                    (job_dir.read_handle() or {}).get("state") == "killed":
                break
            time.sleep(POLL)
        states = client.run_on_scheduler(_task_states, keys=list(keys.values()))
        # A chunk whose task erred without its worker recording why (its Dask workers died
        # more often than allowed-failures) is dead; chunks downstream of a failure never ran.
        for ckey, key in keys.items():
            state, text = states.get(key, ["erred" if key not in seen else "gone", ""])
            chunk = chunks[ckey]
            current = job_dir.read_state(chunk)
            if state == "erred" and current.state in ("running", "waiting") \
                    and "ChunkFailed" not in text and current.attempts:
                job_dir.mark(chunk, "dead", ended=time.time(), message=text or "lost its worker")
        final = job_dir.status(self.name)
        record = job_dir.read_handle() or handle.to_dict()
        if record.get("state") != "killed":
            handle.state = "done" if final.state == "done" else "dead"
            handle.save()
            _emit_end(job_dir, handle.state, final)
        final = job_dir.status(self.name)
        if progress is not None:
            progress(final)
        return final

    @staticmethod
    def _finished(key: str, states: dict[str, list[str]], seen: set[str], chunk_state: str,
                  started: float) -> bool:
        """Whether the task ``key`` will not run (again): finished, erred, or forgotten by the
        scheduler (fire-and-forget tasks are, once finished) after it was seen, or never seen
        for ``LOST_AFTER`` s (the scheduler restarted: the job is lost there)."""
        if key in states:
            return states[key][0] in ("memory", "erred", "dropped")
        if key in seen or chunk_state in ("done", "dead"):
            return True
        return time.monotonic() - started > LOST_AFTER

    def logs(self, handle: JobHandle, layer: str | None = None, frame: int | None = None) -> str:
        return handle.dir.read_log(layer, frame)

    def kill(self, handle: JobHandle) -> None:
        handle.state = "killed"
        handle.save()  # guards see it and stop their chunks
        keys = list((handle.data.get("keys") or {}).values())
        with self._client(handle.address) as client:
            from distributed import Future

            futures: list[Any] = [Future(k, client=client) for k in keys]
            client.cancel(futures, force=True)
        # the guards stop their chunks within a poll or two: report once they have
        deadline = time.monotonic() + KILL_WAIT
        while time.monotonic() < deadline and any(
                c.state == "running" for c in handle.dir.status(self.name).chunks):
            time.sleep(0.2)
        _emit_end(handle.dir, "killed", handle.dir.status(self.name))

    def retry(self, handle: JobHandle, layer: str | None = None, *, wait: bool = False,
              progress: Progress | None = None) -> JobHandle:
        handle.dir.reset(layer=layer, states=("dead", "running"))
        with self._client(handle.address) as client:
            self._launch(client, handle.dir, handle)
            if wait:
                self._wait(client, handle, progress)
        return handle
