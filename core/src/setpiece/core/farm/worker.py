"""Run one chunk: ``python -m setpiece.core.farm.worker JOB_DIR LAYER INDEX``.

The worker records the chunk ``running`` (one more attempt) in the job folder, runs the
layer's command (tokens replaced) or its module's ``execute(frames)`` with the chunk's
environment, in the job folder (the current directory of every chunk, whatever the
backend), then records ``done``, or on failure ``waiting`` (attempts left: the backend
runs it again) or ``dead``. Its output is the chunk's log (the backend points stdout and
stderr at ``JobDir.log_path``). Exit code: 0, the command's code, 1 for an exception, 124
for a timeout. A worker killed before it records anything leaves ``running``:
``record_failure`` is how the backend finishes the record.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from setpiece.core.errors import SetpieceError
from setpiece.core.farm.env import chunk_env, token_values
from setpiece.core.farm.jobdir import ChunkState, JobDir, Session, hostname
from setpiece.core.farm.model import Chunk, Job, Layer

TIMEOUT_EXIT = 124


def find_chunk(job: Job, layer_name: str, index: int) -> tuple[Layer, Chunk]:
    layer = job.layer(layer_name)
    chunks = layer.chunks()
    if not 0 <= index < len(chunks):
        raise SetpieceError(f"layer {layer_name!r} has {len(chunks)} chunks: no chunk {index}")
    return layer, chunks[index]


def record_failure(job_dir: JobDir, layer: Layer, chunk: Chunk, exit_code: int,
                   message: str) -> ChunkState:
    """After a failed attempt: ``waiting`` while retries are left, else ``dead``."""
    current = job_dir.read_state(chunk)
    state = "waiting" if current.attempts <= layer.retries else "dead"
    return job_dir.mark(chunk, state, exit_code=exit_code, ended=time.time(), pid=None,
                        message=message)


class _Timeout(Exception):
    pass


def _on_alarm(signum: int, frame: object) -> None:
    raise _Timeout()


def run_chunk(job_dir: JobDir, layer_name: str, index: int) -> int:
    """Run chunk ``index`` of ``layer_name`` in this process; its exit code. Traced as a
    ``farm.chunk`` span in the trace of the submit (``traceparent`` in the job's context)."""
    from setpiece.core import telemetry

    context = job_dir.context
    telemetry.start(context.get("workspace") or None, host="farm")
    with telemetry.span("farm.chunk", parent=context.get("traceparent"),
                        job_id=job_dir.job_id, layer=layer_name, chunk=index) as span:
        code = _run_chunk(job_dir, layer_name, index, span)
        span.set(exit_code=code)
        if code:
            span.fail(f"chunk exited {code}", "exit")
        return code


def _run_chunk(job_dir: JobDir, layer_name: str, index: int, span: Any) -> int:
    job = job_dir.job()
    layer, chunk = find_chunk(job, layer_name, index)
    before = job_dir.read_state(chunk)
    attempt = before.attempts + 1
    span.set(frames=chunk.spec, attempt=attempt, frame_count=len(chunk.frames))
    job_dir.mark(chunk, "running", attempts=attempt, started=time.time(), ended=None,
                 exit_code=None, pid=os.getpid(), message="")
    log = job_dir.log_path(chunk)
    env = chunk_env(job, layer, chunk, job_id=job_dir.job_id, job_dir=job_dir.path, log=log)
    context = job_dir.context
    if context.get("workspace"):
        env.setdefault("SETPIECE_WORKSPACE", str(context["workspace"]))
    traceparent = getattr(span, "traceparent", None)
    if traceparent:  # a setpiece command the chunk runs joins the trace
        env.setdefault("TRACEPARENT", traceparent)
    print(f"=== setpiece farm: job {job_dir.job_id} layer {layer.name} frames {chunk.spec} "
          f"attempt {attempt} on {hostname()} pid {os.getpid()} at "
          f"{time.strftime('%Y-%m-%d %H:%M:%S')} ===", flush=True)
    started = time.monotonic()
    try:
        os.chdir(job_dir.path)  # the same folder on every backend
        if layer.command is not None:
            code, message = _run_command(layer, chunk, env)
        else:
            code, message = _run_module(job, layer, chunk, env, job_dir, context)
    except KeyboardInterrupt:
        raise
    print(f"=== exit {code} after {time.monotonic() - started:.2f}s"
          + (f": {message}" if message else "") + " ===", flush=True)
    if code == 0:
        job_dir.mark(chunk, "done", exit_code=0, ended=time.time(), pid=None)
    else:
        record_failure(job_dir, layer, chunk, code, message)
    return code


def _run_command(layer: Layer, chunk: Chunk, env: dict[str, str]) -> tuple[int, str]:
    argv = layer.command_for(chunk, token_values(env, layer, chunk))
    print("$ " + subprocess.list2cmdline(argv), flush=True)
    full_env = {**os.environ, **env}
    try:
        proc = subprocess.Popen(argv, env=full_env)
    except OSError as exc:
        print(f"cannot start {argv[0]}: {exc}", file=sys.stderr, flush=True)
        return 127, f"cannot start {argv[0]} ({exc.strerror or exc})"
    try:
        code = proc.wait(timeout=layer.timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return TIMEOUT_EXIT, f"timed out after {layer.timeout:g}s"
    return code, ("" if code == 0 else f"{Path(argv[0]).name} exited {code}")


def _run_module(job: Job, layer: Layer, chunk: Chunk, env: dict[str, str], job_dir: JobDir,
                context: dict[str, object]) -> tuple[int, str]:
    from setpiece.core.farm.modules import instantiate

    os.environ.update(env)
    site_dir = context.get("site_packages")
    if isinstance(site_dir, str) and Path(site_dir).is_dir():
        import site

        site.addsitedir(site_dir)
    use_alarm = layer.timeout is not None and hasattr(signal, "SIGALRM")
    try:
        obj = instantiate(job, layer, Session(job_dir.session_dir))
        if use_alarm:
            signal.signal(signal.SIGALRM, _on_alarm)
            signal.setitimer(signal.ITIMER_REAL, float(layer.timeout or 0))
        obj.execute(list(chunk.frames))
    except _Timeout:
        return TIMEOUT_EXIT, f"timed out after {layer.timeout:g}s"
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        return code, ("" if code == 0 else f"{layer.module} exited {code}")
    except SetpieceError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 1, str(exc)
    except Exception as exc:
        import traceback

        traceback.print_exc()
        return 1, f"{type(exc).__name__}: {exc}"
    finally:
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
        sys.stdout.flush()
        sys.stderr.flush()
    return 0, ""


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 3 or not args[2].lstrip("-").isdigit():
        print("usage: python -m setpiece.core.farm.worker JOB_DIR LAYER INDEX", file=sys.stderr)
        return 2
    try:
        return run_chunk(JobDir(args[0]), args[1], int(args[2]))
    except SetpieceError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
