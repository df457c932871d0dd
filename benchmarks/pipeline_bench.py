"""Asset pipeline benchmark: ``setpiece pipeline run`` vs the same tools run by hand.

    .venv/bin/python benchmarks/pipeline_bench.py [--frames 500] [--size 640x360] [--runs 3]

Measures, each a fresh subprocess as a user runs it (wall and CPU seconds of the child):
- frames -> movie: ``setpiece pipeline run Shot`` of the ``frames-to-movie`` template
  against the very ffmpeg command the stage runs (``setpiece.core.stages.movie.ffmpeg_args``),
  by hand, on the same N PNG frames (target: within 1.1x). Before each setpiece run the
  movie, ``dvc.lock``, dvc's run-cache and setpiece's stamp are removed, so the stage
  really encodes (else dvc restores a cached run). The first run in the package is given
  apart: dvc hashes every frame once then (later runs read its state database);
- a no-op ``setpiece pipeline run`` (nothing changed; target < 1 s), beside ``dvc repro``
  and ``dvc status`` in the package folder, and setpiece without its stats stamp (what
  the no-op costs when dvc decides).

The source is compiled to bytecode first (``compileall``), as an installed wheel is.
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

BIN = Path(sys.executable).parent
SETPIECE = str(BIN / "setpiece")
DVC = str(BIN / "dvc")
ROOT = Path(__file__).resolve().parents[1]


def run(cmd: Sequence[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall and CPU (user + sys of the child) seconds of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run(list(cmd), cwd=cwd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {(proc.stderr + proc.stdout).strip()[-800:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def frames(folder: Path, count: int, w: int, h: int) -> None:
    import numpy as np
    import OpenImageIO as oiio

    folder.mkdir(parents=True)
    rng = np.random.default_rng(1)
    base = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
    for i in range(1, count + 1):
        img = np.roll(base, i * 3, axis=1)  # motion: the encoder has work to do
        buf = oiio.ImageBuf(oiio.ImageSpec(w, h, 3, oiio.UINT8))
        buf.set_pixels(oiio.ROI(), img)
        buf.write(str(folder / f"plate.{i:04d}.png"))


def med(rows: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(r[0] for r in rows), statistics.median(r[1] for r in rows)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=500)
    ap.add_argument("--size", default="640x360")
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    w, h = (int(x) for x in a.size.split("x"))
    compileall.compile_dir(str(ROOT / "core" / "src"), quiet=1)
    tmp = Path(tempfile.mkdtemp(prefix="pipebench-"))
    env = {**os.environ, "SETPIECE_HOME": str(tmp / "home"), "UV_CACHE_DIR": str(tmp / "uv"),
           "DVC_SITE_CACHE_DIR": str(tmp / "dvc-site"), "DVC_NO_ANALYTICS": "1"}
    env.pop("SETPIECE_WORKSPACE", None)
    try:
        ws = tmp / "ws"
        run([SETPIECE, "init", str(ws), "--repo", f"review={tmp / 'review'}", "--default",
             "review"], env=env)
        run([SETPIECE, "-w", str(ws), "create", "Shot"], env=env)
        frames(tmp / "render", a.frames, w, h)
        run([SETPIECE, "-w", str(ws), "files", "add", "Shot", str(tmp / "render"), "--as",
             "frames"], env=env)
        run([SETPIECE, "-w", str(ws), "pipeline", "add", "Shot", "movie", "--template",
             "frames-to-movie", "--dep", "frames", "--out", "movie/shot.mp4"], env=env)
        pkg = next((ws / "outputs" / "Shot" / "src").iterdir())
        sys.path.insert(0, str(ROOT / "core" / "src"))
        from setpiece.core.stages.common import frame_sequence
        from setpiece.core.stages.movie import DEFAULTS, ffmpeg_args

        cwd = os.getcwd()
        os.chdir(pkg)
        by_hand = ffmpeg_args(frame_sequence("frames"), str(tmp / "by-hand.mp4"), DEFAULTS)
        os.chdir(cwd)
        cache = ws / ".setpiece" / "files" / "cache"
        stamp = ws / ".setpiece" / "pipelines" / "shot.json"

        def reset() -> None:
            for p in (pkg / "movie" / "shot.mp4", pkg / "dvc.lock", stamp):
                if p.exists():
                    p.chmod(0o644)
                    p.unlink()
            shutil.rmtree(cache / "runs", ignore_errors=True)

        reset()  # the first run in a package: dvc hashes every frame once (its state)
        first = run([SETPIECE, "-w", str(ws), "pipeline", "run", "Shot"], env=env)
        raw, ours = [], []
        for i in range(a.runs):  # alternate, so both see the same load
            raw.append(run(by_hand, cwd=pkg, env=env))
            reset()
            ours.append(run([SETPIECE, "-w", str(ws), "pipeline", "run", "Shot"], env=env))
            print(f"run {i + 1}: by hand {raw[-1][0]:.2f} s, setpiece {ours[-1][0]:.2f} s",
                  file=sys.stderr)
        size = (pkg / "movie" / "shot.mp4").stat().st_size
        load = os.getloadavg()[0]

        noop, nostamp, repro, status = [], [], [], []
        run([SETPIECE, "-w", str(ws), "pipeline", "run", "Shot"], env=env)
        for _ in range(max(5, a.runs)):
            noop.append(run([SETPIECE, "-w", str(ws), "pipeline", "run", "Shot"], env=env))
            repro.append(run([DVC, "repro"], cwd=pkg, env=env))
            status.append(run([DVC, "status"], cwd=pkg, env=env))
            stamp.unlink()
            nostamp.append(run([SETPIECE, "-w", str(ws), "pipeline", "run", "Shot"], env=env))
        rw, rc = med(raw)
        ow, oc = med(ours)
        print(f"\n{a.frames} frames {w}x{h} PNG -> H.264 MP4 ({size:,} bytes), "
              f"{a.runs} runs, load average {load:.1f}, median wall / CPU seconds\n")
        print("| what | wall s | CPU s |\n| --- | --- | --- |")
        print(f"| ffmpeg by hand (the stage's own command) | {rw:.2f} | {rc:.2f} |")
        print(f"| `setpiece pipeline run` (stage re-run) | {ow:.2f} | {oc:.2f} |")
        print(f"| ratio | {ow / rw:.2f}x | {oc / rc:.2f}x |")
        print(f"| first `setpiece pipeline run` in the package (dvc hashes the {a.frames} "
              f"frames once) | {first[0]:.2f} | {first[1]:.2f} |")
        print("\nno-op (nothing changed), median of", len(noop), "\n")
        print("| what | wall s | CPU s |\n| --- | --- | --- |")
        for label, rows in (("`setpiece pipeline run` (stats stamp)", noop),
                            ("`setpiece pipeline run` without the stamp (dvc decides)", nostamp),
                            ("`dvc repro` in the package folder", repro),
                            ("`dvc status` in the package folder", status)):
            mw, mc = med(rows)
            print(f"| {label} | {mw:.2f} | {mc:.2f} |")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
