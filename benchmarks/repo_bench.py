"""Benchmark: a folder repo of 10,000 wheels: reindex, and publish beside ``uv build`` + ``cp``.

Run: ``.venv/bin/python benchmarks/repo_bench.py [--wheels 10000] [--rounds 5]``

  repo reindex, cold           ``simple_index.reindex`` of N wheels (2,000 assets x 5
                               versions) with no ``.metadata`` file yet: every wheel checked
                               (zip CRCs), its metadata file and row written, one page per
                               asset, then one flush of it all (durable)
  repo reindex, again          the same with the metadata files in place and nothing changed
                               (the reindex cache: an unchanged wheel is not opened again)
  uv build + cp                raw: ``uv build --wheel`` of an asset project, then ``cp`` of
                               the wheel into the repo folder (no index, no checks)
  setpiece publish             the CLI: bump, build (uv), check, publish (wheel, metadata,
                               page, root page, fsynced), event
Interleaved round by round (uv build + cp, then setpiece publish of the next version).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from startup_bench import SETPIECE, wheel


def main() -> None:
    from setpiece.core.repos import simple_index
    from setpiece.core.uvrun import uv_bin
    from setpiece.core.workspace import Workspace

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--wheels", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="setpiece-repo-bench-"))
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "SETPIECE_WORKSPACE")}
    env.update(SETPIECE_HOME=str(tmp / "home"), UV_CACHE_DIR=str(tmp / "uv-cache"),
               UV_PYTHON_DOWNLOADS="never")
    os.environ.update(SETPIECE_HOME=env["SETPIECE_HOME"], UV_CACHE_DIR=env["UV_CACHE_DIR"])
    load = os.getloadavg()[0]
    try:
        big = tmp / "big"
        big.mkdir()
        t = time.perf_counter()
        for i in range(args.wheels // 5):
            for v in range(5):
                wheel(big, f"Fill{i:05d}", f"1.{v}.0")
        print(f"{args.wheels} wheels written in {time.perf_counter() - t:.1f} s", flush=True)
        t = time.perf_counter()
        n = simple_index.reindex(big)
        cold = time.perf_counter() - t
        again = []
        time.sleep(2.1)  # what the cold run wrote is past the reindex cache's racy window
        for _ in range(max(1, args.rounds // 2)):
            t = time.perf_counter()
            simple_index.reindex(big)
            again.append(time.perf_counter() - t)
        assert n == args.wheels // 5

        ws_path = tmp / "ws"
        Workspace.init(ws_path, repos=[("big", str(big))], blessed="big", default="big")
        ws = Workspace(ws_path)
        ws.create("Newshot", kind="shot")
        project = ws.output("Newshot").path
        raw_out = tmp / "raw-dist"
        raw_repo = tmp / "raw-repo"
        raw_repo.mkdir()
        raw, ours = [], []
        subprocess.run([str(SETPIECE), "-q", "-w", str(ws_path), "publish", "Newshot"],
                       env=env, check=True, capture_output=True)  # warm-up (uv cache, bytecode)
        for k in range(args.rounds):
            shutil.rmtree(raw_out, ignore_errors=True)
            t = time.perf_counter()
            subprocess.run([uv_bin(), "build", "--wheel", "--quiet", "--out-dir", str(raw_out),
                            str(project)], env=env, check=True, capture_output=True)
            built = next(raw_out.glob("*.whl"))
            subprocess.run(["cp", str(built), str(raw_repo / f"{k}-{built.name}")], check=True)
            raw.append(time.perf_counter() - t)
            ws.bump("Newshot", "minor")
            t = time.perf_counter()
            subprocess.run([str(SETPIECE), "-q", "-w", str(ws_path), "publish", "Newshot"],
                           env=env, check=True, capture_output=True)
            ours.append(time.perf_counter() - t)
        print(f"\n{args.wheels} wheels, {args.rounds} rounds, Python {sys.version.split()[0]}, "
              f"load average {load:.1f} -> {os.getloadavg()[0]:.1f}\n")
        print("| measurement | min (s) | median (s) |\n| --- | ---: | ---: |")
        rows = [(f"repo reindex of {args.wheels} wheels, cold (no metadata files)", [cold]),
                (f"repo reindex of {args.wheels} wheels, again", again),
                ("raw: uv build --wheel + cp into the repo folder", raw),
                (f"setpiece publish (CLI) into {args.wheels} wheels", ours)]
        for label, values in rows:
            print(f"| {label} | {min(values):.3f} | {statistics.median(values):.3f} |")
        print(f"\npublish / (uv build + cp), medians: "
              f"{statistics.median(ours) / statistics.median(raw):.2f}x "
              f"(mins {min(ours) / min(raw):.2f}x)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
