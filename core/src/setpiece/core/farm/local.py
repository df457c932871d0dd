"""The ``local`` backend: a dependency-aware runner on this machine.

Up to ``workers`` chunks at once (default: the machine's cores), each in its own process
(``python -m setpiece.core.farm.worker``, its own process group), so a chunk that crashes
cannot take the runner down. A chunk starts once every chunk it depends on is ``done``; a
failed chunk is run again while its layer's ``retries`` allow, then is ``dead``, and nothing
downstream of it runs. The state of every chunk is a file in the job folder (written
atomically), so a runner killed at any moment resumes where it was: ``retry`` runs what is
not ``done``, never what is.

One runner per job at a time: it holds an exclusive lock on ``runner.lock`` in the job
folder (released by the OS however the runner ends).

``[farm.backends.local]`` options: ``workers`` (chunks at once), ``python`` (the Python that
runs workers; default: the one that submitted), ``jobs`` (jobs at once: the others wait,
``queued``, and start by priority, then in the order submitted: ``farm.queue``; default:
every job starts at once).
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from setpiece.core.errors import SetpieceError
from setpiece.core.farm.backend import JobHandle, Progress
from setpiece.core.farm.jobdir import ChunkState, ChunkStatus, JobDir, JobStatus, hostname
from setpiece.core.farm.model import Chunk, Layer
from setpiece.core.farm.worker import record_failure
from setpiece.core.fsutil import atomic_write_text

#: Seconds a chunk past its layer's timeout gets before the runner kills it (the worker
#: enforces the timeout itself; this catches a worker that cannot).
TIMEOUT_GRACE = 10.0
#: Seconds between progress reports while chunks run.
PROGRESS_EVERY = 0.5

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: one runner per job is not enforced
    fcntl = None  # type: ignore[assignment]


_SIGKILL = getattr(signal, "SIGKILL", signal.SIGTERM)


def _positive_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SetpieceError(f"{what} = {value!r} must be a whole number >= 1")
    return value


class RunnerLock:
    """The exclusive lock that says a runner works on this job."""

    def __init__(self, job_dir: JobDir, fd: int | None = None) -> None:
        self.path = job_dir.path / "runner.lock"
        self.fd = fd

    def acquire(self) -> None:
        if self.fd is not None:
            return
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        if fcntl is None:
            return
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(self.fd)
            self.fd = None
            raise SetpieceError(f"job {self.path.parent.name} is already running on this machine: "
                                "wait for it, or stop it with 'setpiece farm kill'")

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    @staticmethod
    def held(job_dir: JobDir) -> bool:
        """Whether some runner holds the lock now."""
        path = job_dir.path / "runner.lock"
        if fcntl is None or not path.exists():
            return False
        fd = os.open(path, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        finally:
            os.close(fd)
        return False


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_our_worker(pid: int, job_dir: JobDir) -> bool:
    """Whether ``pid`` is a worker of this job (checked through /proc where there is one)."""
    if not _pid_alive(pid):
        return False
    cmdline = Path(f"/proc/{pid}/cmdline")
    if not cmdline.exists():
        return False
    text = cmdline.read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
    return "setpiece.core.farm.worker" in text and str(job_dir.path) in text


def _kill_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if hasattr(os, "killpg"):
            os.killpg(pid, sig)
        else:  # pragma: no cover - Windows
            os.kill(pid, sig)


class Runner:
    """Runs one job folder to the end (done, dead or killed) in this process."""

    def __init__(self, job_dir: JobDir, workers: int, python: str | None = None,
                 progress: Progress | None = None, lock_fd: int | None = None) -> None:
        self.job_dir = job_dir
        self.workers = workers
        self.python = python or str(job_dir.context.get("python") or sys.executable)
        self.progress = progress
        self.lock = RunnerLock(job_dir, lock_fd)
        self.stop_signal: int | None = None
        self.events: queue.Queue[tuple[str, int] | None] = queue.Queue()

    # -- the loop ------------------------------------------------------------------
    def run(self) -> JobStatus:
        self.lock.acquire()
        try:
            with self._signals():
                return self._run()
        finally:
            self.lock.release()

    def _run(self) -> JobStatus:
        jd = self.job_dir
        job = jd.job()
        self.job_name = job.name
        atomic_write_text(jd.path / "runner.json", json.dumps({  # read by 'farm kill'
            "pid": os.getpid(), "host": hostname(), "started": time.time(),
            "workers": self.workers}))
        self._set_handle_state("running")
        self.layers: dict[str, Layer] = {la.name: la for la in job.layers}
        self.chunks: dict[str, Chunk] = {c.key: c for c in job.chunks()}
        deps = job.chunk_dependencies()
        self.states: dict[str, ChunkState] = {}
        for key, chunk in self.chunks.items():
            st = jd.read_state(chunk)
            if st.state == "running":  # left by a runner that was killed
                if st.pid and st.host == hostname() and _is_our_worker(st.pid, jd):
                    _kill_group(st.pid, _SIGKILL)
                st = jd.mark(chunk, "waiting", pid=None, attempts=max(0, st.attempts - 1),
                             message="interrupted: run again")
            self.states[key] = st
        # each chunk's count of unfinished upstream chunks; ready: waiting with none left
        dependents: dict[str, list[str]] = {k: [] for k in self.chunks}
        for key, ups in deps.items():
            for up in ups:
                dependents[up].append(key)
        missing = {k: sum(self.states[u].state != "done" for u in deps[k]) for k in self.chunks}
        ready = deque(k for k in self.chunks
                      if self.states[k].state == "waiting" and missing[k] == 0)
        running: dict[str, tuple[subprocess.Popen[bytes], float]] = {}
        self.launched: dict[str, int] = {}
        last_report = 0.0
        while self.stop_signal is None:
            started = False
            while ready and len(running) < self.workers:
                key = ready.popleft()
                self.launched[key] = self.states[key].attempts
                running[key] = (self._launch(self.chunks[key]), time.monotonic())
                started = True
            if started:
                last_report = self._report(last_report)
            if not running:
                break
            try:
                event = self.events.get(timeout=1.0)
            except queue.Empty:
                self._check_timeouts(running)
                continue
            if event is None:
                continue
            key, code = event
            running.pop(key, None)
            chunk = self.chunks[key]
            st = jd.read_state(chunk)
            before = self.launched[key]
            if st.attempts == before or st.state == "running":
                # the worker ended without recording this attempt (crashed, killed, missing)
                if st.attempts == before:
                    st = jd.mark(chunk, "running", attempts=before + 1)
                reason = f"killed by signal {-code}" if code < 0 else f"worker exited {code}"
                st = record_failure(jd, self.layers[chunk.layer], chunk, code, reason)
            self.states[key] = st
            if st.state == "waiting":  # retries left: first in line
                ready.appendleft(key)
            elif st.state == "done":
                for down in dependents[key]:
                    missing[down] -= 1
                    if missing[down] == 0:
                        ready.append(down)
            last_report = self._report(last_report)
        if self.stop_signal is not None:
            self._stop_all(running)
            self._set_handle_state("killed")
            return self._final("killed")
        final = "done" if all(s.state == "done" for s in self.states.values()) else "dead"
        self._set_handle_state(final)
        return self._final(final)

    def _launch(self, chunk: Chunk) -> subprocess.Popen[bytes]:
        log = self.job_dir.log_path(chunk)
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                [self.python, "-m", "setpiece.core.farm.worker", str(self.job_dir.path),
                 chunk.layer, str(chunk.index)],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=hasattr(os, "setsid"),
            )
        key = chunk.key

        def waiter() -> None:
            self.events.put((key, proc.wait()))

        threading.Thread(target=waiter, daemon=True).start()
        return proc

    def _check_timeouts(self, running: Mapping[str, tuple[subprocess.Popen[bytes], float]]) -> None:
        now = time.monotonic()
        for key, (proc, started) in running.items():
            timeout = self.layers[self.chunks[key].layer].timeout
            if timeout is not None and now - started > timeout + TIMEOUT_GRACE:
                _kill_group(proc.pid, _SIGKILL)

    def _stop_all(self, running: Mapping[str, tuple[subprocess.Popen[bytes], float]]) -> None:
        for proc, _ in running.values():
            _kill_group(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 5.0
        for proc, _ in running.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _kill_group(proc.pid, _SIGKILL)
                proc.wait()
        for key in running:
            chunk = self.chunks[key]
            st = self.job_dir.read_state(chunk)
            if st.state != "done":  # a killed attempt does not count against retries
                self.states[key] = self.job_dir.mark(
                    chunk, "waiting", pid=None, attempts=max(0, st.attempts - 1),
                    message="killed: run again with 'setpiece farm retry'")
            else:
                self.states[key] = st

    # -- reporting -----------------------------------------------------------------
    def _status(self, state: str) -> JobStatus:
        chunks: list[ChunkStatus] = []
        layers: dict[str, dict[str, int]] = {}
        for key, chunk in self.chunks.items():
            st = self.states[key]
            seconds = (st.ended - st.started) if st.ended and st.started else None
            chunks.append(ChunkStatus(chunk.layer, chunk.index, chunk.spec, st.state,
                                      st.attempts, st.exit_code, seconds,
                                      str(self.job_dir.log_path(chunk))))
            per = layers.setdefault(chunk.layer, {"waiting": 0, "running": 0, "done": 0, "dead": 0})
            per[st.state] = per.get(st.state, 0) + 1
        return JobStatus(self.job_dir.job_id, self.job_name, "local", state, layers, chunks)

    def _report(self, last: float) -> float:
        now = time.monotonic()
        if self.progress is None or now - last < PROGRESS_EVERY:
            return last
        for key, st in self.states.items():  # refresh what the workers wrote
            if st.state in ("waiting", "running"):
                self.states[key] = self.job_dir.read_state(self.chunks[key])
        self.progress(self._status("running"))
        return now

    def _final(self, state: str) -> JobStatus:
        status = self._status(state)
        self.job_dir.emit(f"farm.{state}", job=self.job_name, backend="local",
                          counts=status.counts(),
                          dead=[{"layer": c.layer, "frames": c.frames} for c in status.dead])
        if self.progress is not None:
            self.progress(status)
        return status

    def _set_handle_state(self, state: str) -> None:
        data = self.job_dir.read_handle()
        if data is not None:
            data["state"] = state
            self.job_dir.write_handle(data)

    # -- signals -------------------------------------------------------------------
    @contextlib.contextmanager
    def _signals(self) -> Any:
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def on_signal(signum: int, frame: object) -> None:
            self.stop_signal = signum
            self.events.put(None)

        old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for s, handler in old.items():
                signal.signal(s, handler)


class LocalBackend:
    """The ``local`` backend (see the module docstring)."""

    name = "local"

    def __init__(self, options: Mapping[str, Any], jobs_dir: Path) -> None:
        unknown = set(options) - {"workers", "python", "jobs"}
        if unknown:
            raise SetpieceError(f"setpiece.toml [farm.backends.local]: unknown option "
                                f"{sorted(unknown)[0]!r}: use workers, python, jobs")
        jobs = options.get("jobs")
        self.jobs = _positive_int(jobs, "[farm.backends.local] jobs") if jobs is not None else None
        workers = options.get("workers")
        self.workers = (_positive_int(workers, "[farm.backends.local] workers") if workers is not None
                        else os.cpu_count() or 1)
        self.python = options.get("python")
        self.jobs_dir = jobs_dir

    def submit(self, job_dir: JobDir, *, wait: bool = False,
               progress: Progress | None = None) -> JobHandle:
        handle = JobHandle(job_dir.job_id, self.name, job_dir.path, address=hostname(),
                           data={"workers": self.workers})
        handle.save()
        self._start(handle, wait, progress)
        return handle

    def _start(self, handle: JobHandle, wait: bool, progress: Progress | None) -> None:
        if wait:
            slot = _queue(handle.dir, self.jobs)
            try:
                Runner(handle.dir, self.workers, self.python, progress).run()
            finally:
                if slot is not None:
                    os.close(slot)
            return
        # In the background: the runner inherits the lock taken here, so that 'status'
        # sees it running from this moment on.
        lock = RunnerLock(handle.dir)
        lock.acquire()
        try:
            python = self.python or str(handle.dir.context.get("python") or sys.executable)
            assert lock.fd is not None
            with open(handle.dir.path / "runner.log", "ab") as out:
                subprocess.Popen(
                    [python, "-m", "setpiece.core.farm.local", str(handle.dir.path),
                     "--workers", str(self.workers),
                     *(["--jobs", str(self.jobs)] if self.jobs else []),
                     *(["--lock-fd", str(lock.fd)] if fcntl is not None else [])],
                    stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                    pass_fds=(lock.fd,) if fcntl is not None else (),
                    start_new_session=hasattr(os, "setsid"),
                )
        finally:
            lock.release()

    def status(self, handle: JobHandle) -> JobStatus:
        jd = handle.dir
        status = jd.status(self.name)
        if RunnerLock.held(jd):
            queued = (jd.read_handle() or {}).get("state") == "queued"
            status.state = "queued" if queued else "running"
        elif status.state == "running":  # no runner: it was killed without a word
            status.state = "stopped"
        return status

    def wait(self, handle: JobHandle, progress: Progress | None = None) -> JobStatus:
        last = None
        while True:
            status = self.status(handle)
            counts = status.counts()
            if progress is not None and counts != last:
                progress(status)
                last = counts
            if status.state not in ("running", "queued"):
                return status
            time.sleep(PROGRESS_EVERY)

    def logs(self, handle: JobHandle, layer: str | None = None, frame: int | None = None) -> str:
        return handle.dir.read_log(layer, frame)

    def kill(self, handle: JobHandle) -> None:
        jd = handle.dir
        info: dict[str, Any] = {}
        with contextlib.suppress(OSError, ValueError):
            info = json.loads((jd.path / "runner.json").read_text())
        pid = info.get("pid")
        if RunnerLock.held(jd) and isinstance(pid, int) and info.get("host") == hostname():
            with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
                os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 15
            while RunnerLock.held(jd) and time.monotonic() < deadline:
                time.sleep(0.1)
            if not RunnerLock.held(jd):
                return
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, _SIGKILL)
        # no runner (or it did not stop): stop what it left running
        job = jd.job()
        for chunk in job.chunks():
            st = jd.read_state(chunk)
            if st.state == "running":
                if st.pid and _is_our_worker(st.pid, jd):
                    _kill_group(st.pid, _SIGKILL)
                jd.mark(chunk, "waiting", pid=None, attempts=max(0, st.attempts - 1),
                        message="killed: run again with 'setpiece farm retry'")
        data = jd.read_handle() or handle.to_dict()
        data["state"] = "killed"
        jd.write_handle(data)

    def retry(self, handle: JobHandle, layer: str | None = None, *, wait: bool = False,
              progress: Progress | None = None) -> JobHandle:
        jd = handle.dir
        if RunnerLock.held(jd):
            raise SetpieceError(f"job {handle.job_id} is still running: wait for it, or stop it "
                                "with 'setpiece farm kill' first")
        jd.reset(layer=layer, states=("dead",))
        self._start(handle, wait, progress)
        return handle


def _queue(jd: JobDir, jobs: int | None) -> int | None:
    """With ``jobs``: wait (``queued``) for this job's turn (``farm.queue``); the slot's fd."""
    if not jobs:
        return None
    from setpiece.core.farm.queue import wait_for_slot

    handle = jd.read_handle() or {}
    # 'farm kill' finds a queued runner by its pid, as a running one
    atomic_write_text(jd.path / "runner.json", json.dumps({
        "pid": os.getpid(), "host": hostname(), "started": time.time(), "workers": 0}))
    handle["state"] = "queued"
    jd.write_handle(handle)
    return wait_for_slot(jd.path.parent, jd.job_id, jd.job().priority,
                         float(handle.get("submitted") or time.time()), jobs)


def main(argv: list[str] | None = None) -> int:
    """``python -m setpiece.core.farm.local JOB_DIR [--workers N] [--lock-fd FD]``: run a
    job folder to the end (what ``setpiece farm submit`` starts in the background)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m setpiece.core.farm.local")
    parser.add_argument("job_dir")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--lock-fd", type=int, default=None)
    parser.add_argument("--jobs", type=int, default=None)
    args = parser.parse_args(argv)
    slot = None
    try:
        slot = _queue(JobDir(args.job_dir), args.jobs)
        status = Runner(JobDir(args.job_dir), max(1, args.workers), lock_fd=args.lock_fd).run()
    except SetpieceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        if slot is not None:
            os.close(slot)
    print(status.summary(), flush=True)
    return 0 if status.state == "done" else 1


if __name__ == "__main__":
    sys.exit(main())
