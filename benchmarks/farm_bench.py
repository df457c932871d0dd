"""Farm benchmark: the overhead per chunk of setpiece's farm backends, side by side with the
raw way of running the same trivial work.

    .venv/bin/python benchmarks/farm_bench.py [--chunks 1000] [--workers 2] [--reps 1]
                                              [--only NAME ...]

Every row runs ``--chunks`` trivial chunks (the command ``true``) with ``--workers`` at once
and reports wall seconds and milliseconds per chunk (wall x workers / chunks: the time one
worker slot spends on one chunk). Rows:

- ``raw true``: ``subprocess.run(["true"])`` from a thread pool: the floor of running a
  command at all;
- ``raw python``: ``subprocess.run([python, "-c", "pass"])`` from a thread pool: the floor
  of any design that starts a Python process per chunk (as every farm's worker wrapper does);
- ``local``: ``setpiece.core.farm.submit(job, backend="local", wait=True)`` of one layer of
  ``--chunks`` frames, chunk size 1: a worker process per chunk (``python -m
  setpiece.core.farm.worker``), its state written atomically before and after, its log file;
- ``local 2 layers``: the same plus a second layer waiting frame by frame on the first
  (twice the chunks; dependencies resolved as chunks finish);
- ``raw distributed: no-op function`` / ``raw distributed: subprocess true``: ``client.map``
  on a real Dask scheduler and ``--workers`` one-thread workers on 127.0.0.1 (started once
  for the dask rows): the engine's floor, and the floor of running a command on it;
- ``dask``: ``submit(job, backend="dask", wait=True)`` of the same one-layer job on that
  cluster: one task per chunk, each running the guard (``python -m
  setpiece.core.farm.remote``), which forks the farm worker, which runs ``true``.

Other backends add rows to ``ROWS`` (name -> function(chunks, workers, tmp) -> seconds).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core" / "src"))


def raw_true(chunks: int, workers: int, tmp: Path) -> float:
    t = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda _: subprocess.run(["true"], check=True), range(chunks)))
    return time.perf_counter() - t


def raw_python(chunks: int, workers: int, tmp: Path) -> float:
    t = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda _: subprocess.run([sys.executable, "-c", "pass"], check=True),
                      range(chunks)))
    return time.perf_counter() - t


def _local(chunks: int, workers: int, tmp: Path, layers: int) -> float:
    from setpiece.core.farm import Depend, Job, Layer
    from setpiece.core.farm.submitting import FarmConfig, submit

    spec = f"1-{chunks}"
    job_layers = [Layer("a", command=["true"], frames=spec)]
    if layers == 2:
        job_layers.append(Layer("b", command=["true"], frames=spec, depends=[Depend("a", "frame")]))
    config = FarmConfig(jobs_dir=tmp / "jobs", backends={"local": {"workers": workers}})
    t = time.perf_counter()
    handle = submit(Job("bench", layers=job_layers), backend="local", wait=True, config=config)
    elapsed = time.perf_counter() - t
    status = config.backend_for("local").status(handle)
    if status.state != "done":
        for chunk in status.dead[:2]:
            print(Path(chunk.log).read_text()[-2000:], file=sys.stderr)
        raise SystemExit(status.summary()[:500])
    return elapsed


# -- dask: a real scheduler and --workers workers (one thread each) on 127.0.0.1, started
# once for the dask rows (tests/farm/dask_cluster.py, as the tests do) and stopped at exit.
_CLUSTER: list[Any] = []


def _dask_address(workers: int, tmp: Path) -> str:
    if not _CLUSTER:
        import atexit
        import shutil

        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "farm"))
        from dask_cluster import start_cluster

        root = Path(tempfile.mkdtemp(prefix="farm-bench-dask-"))
        cluster = start_cluster(root, workers=workers)
        _CLUSTER.append(cluster)
        atexit.register(lambda: (cluster.stop(), shutil.rmtree(root, ignore_errors=True)))
    return str(_CLUSTER[0].address)


def _noop(i: int) -> int:
    return i


def _run_true(i: int) -> int:
    return subprocess.call(["true"])


def _raw_distributed(fn: Callable[[int], int]) -> Callable[[int, int, Path], float]:
    def run(chunks: int, workers: int, tmp: Path) -> float:
        from distributed import Client

        with Client(_dask_address(workers, tmp)) as client:
            t = time.perf_counter()
            client.gather(client.map(fn, range(chunks), pure=False, resources={"cores": 1}))
            return time.perf_counter() - t

    return run


def _dask(chunks: int, workers: int, tmp: Path) -> float:
    from setpiece.core.farm import Job, Layer
    from setpiece.core.farm.submitting import FarmConfig, submit

    config = FarmConfig(jobs_dir=tmp / "jobs",
                        backends={"dask": {"address": _dask_address(workers, tmp)}})
    job = Job("bench", layers=[Layer("a", command=["true"], frames=f"1-{chunks}", retries=0)])
    t = time.perf_counter()
    handle = submit(job, backend="dask", wait=True, config=config)
    elapsed = time.perf_counter() - t
    status = config.backend_for("dask").status(handle)
    if status.state != "done":
        raise SystemExit(status.summary())
    return elapsed


ROWS: dict[str, tuple[Callable[[int, int, Path], float], int]] = {
    # name -> (function, chunks run per requested chunk)
    "raw true": (raw_true, 1),
    "raw python": (raw_python, 1),
    "local": (lambda c, w, t: _local(c, w, t, 1), 1),
    "local 2 layers": (lambda c, w, t: _local(c, w, t, 2), 2),
    "raw distributed: no-op function": (_raw_distributed(_noop), 1),
    "raw distributed: subprocess true": (_raw_distributed(_run_true), 1),
    "dask": (_dask, 1),
}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--reps", type=int, default=1)
    parser.add_argument("--only", nargs="*", default=None)
    args = parser.parse_args()
    # Workers start once per chunk: measure them as installed (bytecode compiled, as uv's
    # --compile-bytecode leaves them), not compiling setpiece's source on every start.
    import compileall

    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    for src in ("core/src", "hosts/src"):
        compileall.compile_dir(str(Path(__file__).resolve().parents[1] / src), quiet=1)
    print(f"{args.chunks} chunks, {args.workers} workers, best of {args.reps}; "
          f"load average {os.getloadavg()[0]:.1f}; Python {sys.version.split()[0]}")
    print("| row | chunks | wall s | ms per chunk per worker |")
    print("| --- | ---: | ---: | ---: |")
    for name, (fn, per) in ROWS.items():
        if args.only and name not in args.only:
            continue
        best = float("inf")
        for _ in range(args.reps):
            with tempfile.TemporaryDirectory(prefix="farm-bench-") as tmp:
                best = min(best, fn(args.chunks, args.workers, Path(tmp)))
        total = args.chunks * per
        print(f"| {name} | {total} | {best:.2f} | {best * args.workers / total * 1000:.1f} |",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
