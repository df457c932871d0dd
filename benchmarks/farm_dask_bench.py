"""Farm benchmark, dask backend (issue 12): overhead per chunk of 1,000 trivial chunks run
through setpiece's ``dask`` backend, side by side with raw ``distributed`` submission of the
same work on the same cluster.

A real cluster on 127.0.0.1 (``dask scheduler`` + ``--workers`` ``dask worker`` processes,
one thread each, as in the tests). Three runs of N chunks, one task each:

1. raw ``distributed``, a no-op Python function (``client.map``): the engine's own floor;
2. raw ``distributed``, each task running the chunk's command (``true``) as a subprocess:
   what any farm engine must at least do per chunk;
3. setpiece: a job of one layer, frames 1-N, chunk 1, command ``true``, submitted with
   ``DaskBackend.submit(wait=True)`` (per task: the guard process, the farm worker process,
   chunk state written twice, a log file, then the command).

Per-chunk overhead = wall time x workers / N (the cluster's busy time per chunk).

Run: ``.venv/bin/python benchmarks/farm_dask_bench.py [--chunks 1000] [--workers 2]``.
Work files under ``benchmarks/.work/farm_dask``; results printed as a Markdown table and saved
to ``benchmarks/.work/farm_dask/results.md``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / ".work" / "farm_dask"
sys.path.insert(0, str(ROOT / "tests" / "farm"))


def noop(i: int) -> int:
    return i


def run_true(i: int) -> int:
    return subprocess.call(["true"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    n, workers = args.chunks, args.workers

    from dask_cluster import start_cluster
    from distributed import Client

    from setpiece.core.farm.dask import DaskBackend
    from setpiece.core.farm.jobdir import JobDir
    from setpiece.core.farm.model import Job, Layer

    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    cluster = start_cluster(WORK / "dask", workers=workers)
    rows: list[tuple[str, float]] = []
    try:
        with Client(cluster.address) as client:
            for label, fn in (("raw distributed: no-op function", noop),
                              ("raw distributed: subprocess `true`", run_true)):
                t = time.perf_counter()
                futures = client.map(fn, range(n), pure=False, resources={"cores": 1})
                client.gather(futures)
                rows.append((label, time.perf_counter() - t))
                del futures
        job = Job("bench", layers=[Layer("noop", command=["true"], frames=f"1-{n}", chunk=1,
                                         retries=0)])
        jd = JobDir.create(WORK / "jobs", job, context={})
        backend = DaskBackend({"address": cluster.address}, WORK / "jobs")
        t = time.perf_counter()
        backend.submit(jd, wait=True)
        rows.append(("setpiece dask backend (guard + farm worker + `true`)",
                     time.perf_counter() - t))
        status = jd.status("dask")
        assert status.state == "done", status.summary()
    finally:
        cluster.stop()

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        f"{n} chunks, {workers} workers x 1 thread, load average at the end {load:.1f}",
        "",
        "| run | wall s | ms per chunk (wall x workers / chunks) |",
        "| --- | ---: | ---: |",
    ]
    for label, seconds in rows:
        lines.append(f"| {label} | {seconds:.2f} | {seconds * workers / n * 1000:.1f} |")
    text = "\n".join(lines)
    print(text)
    (WORK / "results.md").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
