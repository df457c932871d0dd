"""One chunk started by an engine on a farm machine: a Dask task, an RQD frame, an OpenJD task.

``python -m setpiece.core.farm.remote JOB_DIR LAYER INDEX`` (or ``--frame N``: the chunk of
``LAYER`` holding frame N, which is what OpenCue passes as ``#IFRAME#``) runs the farm worker
(``python -m setpiece.core.farm.worker JOB_DIR LAYER INDEX``) as its child and guards it:

- the chunk's output is appended to its log in the job folder (``JobDir.log_path``), and with
  ``--tee`` also copied to this process's stdout, so the engine's own log (RQD's frame log,
  an OpenJD session log) has it too;
- the guard starts a process group of its own; if the process that started it dies (a Dask
  worker killed mid-chunk, RQD gone) the guard kills the whole group, so a chunk the engine
  hands to another machine is not still being rendered here (checked every ``POLL`` s);
- a job killed with ``setpiece farm kill`` (``handle.json`` state ``killed``) stops the chunk;
- a worker killed before it recorded its end has the failure recorded
  (``worker.record_failure``), so the chunk's state never stays ``running``.

Its exit code is the worker's (or 128 + the signal that killed it).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

from setpiece.core.errors import SetpieceError
from setpiece.core.farm.jobdir import JobDir
from setpiece.core.farm.model import Job

#: Seconds between two checks of the parent and of a kill.
POLL = 0.2


def chunk_index_for_frame(job: Job, layer_name: str, frame: int) -> int:
    """The index of the chunk of ``layer_name`` that holds ``frame``."""
    layer = job.layer(layer_name)
    for chunk in layer.chunks():
        if frame in chunk.frames:
            return chunk.index
    raise SetpieceError(f"layer {layer_name!r} has no frame {frame} (its frames are "
                        f"{layer.frames}): check the frame the engine passed")


def worker_argv(python: str, job_dir: Path | str, layer: str, index: int | str) -> list[str]:
    """The farm worker's command line for one chunk."""
    return [python, "-m", "setpiece.core.farm.worker", str(job_dir), layer, str(index)]


def guard_argv(python: str, job_dir: Path | str, layer: str, chunk: int | str | None = None,
               *, frame: str | None = None, tee: bool = False) -> list[str]:
    """This module's command line: chunk ``chunk``, or the chunk holding ``frame`` (which may
    be an engine's token such as OpenCue's ``#IFRAME#``)."""
    argv = [python, "-m", "setpiece.core.farm.remote", str(job_dir), layer]
    argv += [str(chunk)] if frame is None else ["--frame", frame]
    return [*argv, "--tee"] if tee else argv


def _killed(job_dir: JobDir) -> bool:
    try:
        handle = job_dir.read_handle()
    except SetpieceError:
        return False
    return bool(handle and handle.get("state") == "killed")


def _copy(src: IO[bytes], outs: list[IO[bytes]]) -> None:
    for line in iter(src.readline, b""):
        for out in outs:
            out.write(line)
            out.flush()


class _Child:
    """The farm worker of one chunk: forked from this (single-threaded, already importing)
    process where the OS can fork, saving an interpreter start per chunk; a new interpreter
    (``worker_argv``) elsewhere. Output goes to ``out`` (a file descriptor)."""

    def __init__(self, job_dir: JobDir, layer: str, index: int, out: int,
                 python: str | None) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self.code: int | None = None
        if hasattr(os, "fork") and python is None:
            self.pid = os.fork()
            if self.pid == 0:  # the child: become the worker
                code = 1
                try:
                    os.dup2(out, 1)
                    os.dup2(out, 2)
                    from setpiece.core.farm.worker import main as worker_main

                    code = worker_main([str(job_dir.path), layer, str(index)])
                finally:
                    sys.stdout.flush()
                    sys.stderr.flush()
                    os._exit(code)
        else:
            self.proc = subprocess.Popen(
                worker_argv(python or sys.executable, job_dir.path, layer, index),
                stdout=out, stderr=subprocess.STDOUT)
            self.pid = self.proc.pid

    def poll(self, timeout: float) -> int | None:
        """The exit code (128 + signal when killed), or None if still running after
        ``timeout`` seconds."""
        if self.proc is not None:
            try:
                code = self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                return None
            return 128 - code if code < 0 else code
        deadline = time.monotonic() + timeout
        while True:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) \
                    else 128 + os.WTERMSIG(status)
            if time.monotonic() >= deadline:
                return None
            time.sleep(min(0.02, timeout))

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            return
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def guard_chunk(job_dir: JobDir, layer: str, index: int, *, tee: bool = False,
                python: str | None = None,
                stop: Callable[[], bool] | None = None) -> int:
    """Run chunk ``index`` of ``layer`` through the worker, guarded (see the module doc).
    ``python``: run the worker with that interpreter instead of forking this process."""
    job = job_dir.job()
    chunks = job.layer(layer).chunks()
    if not 0 <= index < len(chunks):
        raise SetpieceError(f"layer {layer!r} of job {job_dir.job_id} has no chunk {index}")
    chunk = chunks[index]
    log_path = job_dir.log_path(chunk)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    parent = os.getppid()
    with log_path.open("ab") as log:
        sys.stdout.flush()
        if tee:
            read_fd, write_fd = os.pipe()
            child = _Child(job_dir, layer, index, write_fd, python)
            os.close(write_fd)
            copier = threading.Thread(
                target=_copy, args=(os.fdopen(read_fd, "rb"), [log, sys.stdout.buffer]),
                daemon=True)
            copier.start()
        else:
            copier = None
            child = _Child(job_dir, layer, index, log.fileno(), python)
        reason = ""
        while True:
            code = child.poll(POLL)
            if code is not None:
                break
            if os.getppid() != parent:
                reason = "the process that started it died"
            elif _killed(job_dir) or (stop is not None and stop()):
                reason = "the job was killed"
            if reason:
                _kill_group(child)
                code = child.poll(30.0)
                if code is None:
                    child.kill()
                    code = child.poll(30.0) or 137
                break
        if copier is not None:
            copier.join(timeout=5)
        if reason:
            log.write(f"=== setpiece farm: chunk stopped: {reason} ===\n".encode())
    state = job_dir.read_state(chunk)
    if code != 0 and state.state == "running" and state.pid == child.pid:
        from setpiece.core.farm.worker import record_failure

        if reason:
            # stopped from outside (the engine runs it again elsewhere, or a retry after a
            # kill does): not a failure of the chunk's own
            job_dir.mark(chunk, "waiting", exit_code=code, ended=time.time(), pid=None,
                         message=f"stopped: {reason}")
        else:
            record_failure(job_dir, job.layer(layer), chunk, code,
                           reason or f"the worker was killed (exit {code})")
    return code


def _kill_group(child: _Child) -> None:
    """Kill the worker and everything it started (our process group; ourselves spared)."""
    if not hasattr(os, "killpg"):
        child.kill()  # no process groups (Windows): the worker alone
        return
    try:
        if os.getpgid(0) != os.getpid():
            child.kill()  # not our own group: the worker alone
            return
        pgid = os.getpid()
        previous = signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            os.killpg(pgid, signal.SIGTERM)
            time.sleep(0.5)
            for pid in _group_members(pgid):
                os.kill(pid, signal.SIGKILL)
        finally:
            signal.signal(signal.SIGTERM, previous)
    except (ProcessLookupError, PermissionError):
        child.kill()


def _group_members(pgid: int) -> list[int]:
    """The other live processes of group ``pgid`` (Linux /proc; empty elsewhere)."""
    out: list[int] = []
    proc_dir = Path("/proc")
    if not proc_dir.is_dir():
        return out
    for entry in proc_dir.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 2 and fields[0] != "Z" and int(fields[2]) == pgid:
            out.append(int(entry.name))
    return out


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    tee = "--tee" in args
    args = [a for a in args if a != "--tee"]
    frame: str | None = None
    if "--frame" in args:
        i = args.index("--frame")
        frame = args[i + 1] if i + 1 < len(args) else None
        del args[i:i + 2]
    usage = ("usage: python -m setpiece.core.farm.remote JOB_DIR LAYER (INDEX | --frame N) "
             "[--tee]")
    if len(args) != (2 if frame is not None else 3):
        print(usage, file=sys.stderr)
        return 2
    if hasattr(os, "setsid"):
        try:
            os.setsid()  # our own process group, so a kill reaches all the chunk started
        except OSError:
            pass  # already a group leader
    try:
        job_dir = JobDir(args[0])
        if frame is not None:
            if not frame.lstrip("-").isdigit():
                raise SetpieceError(f"--frame {frame!r} is not a frame number")
            index = chunk_index_for_frame(job_dir.job(), args[1], int(frame))
        elif args[2].isdigit():
            index = int(args[2])
        else:
            print(usage, file=sys.stderr)
            return 2
        return guard_chunk(job_dir, args[1], index, tee=tee)
    except SetpieceError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
