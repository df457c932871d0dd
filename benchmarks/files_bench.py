"""Asset files benchmark: setpiece files vs plain dvc vs cp, side by side on the same data.

    .venv/bin/python benchmarks/files_bench.py [--frames 500] [--size-mb 1] [--reps 2] [--pull-reps 3]

Measures (min of --reps runs, each on fresh folders; the pulls min of --pull-reps in each):
- ``files add`` + ``files push`` of N frames against ``dvc add`` + ``dvc push`` (CLI) to a
  local folder remote (target: within 1.2x);
- after changing 3 frames and publishing again, how much the remote grew (target 3.1 MB);
- ``files pull`` of the published asset into a fresh workspace from the local remote,
  against ``cp -r`` of the same bytes (target: within 2x), and ``dvc pull`` for reference;
- a second ``files pull`` of the same version, already cached (target: under 1 s);
- whether ``setpiece --help`` imports dvc (it must not), and its time.

Every tool runs as the user runs it: a subprocess, with DVC_SITE_CACHE_DIR, SETPIECE_HOME
and UV_CACHE_DIR inside the benchmark's temp folder.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

BIN = Path(sys.executable).parent
SETPIECE = str(BIN / "setpiece")
DVC = str(BIN / "dvc")


def run(cmd: Sequence[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> float:
    t = time.perf_counter()
    proc = subprocess.run(list(cmd), cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.strip()[-500:]}")
    return elapsed


def run_cpu(cmd: Sequence[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall and CPU (user + sys of the child) seconds of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = run(cmd, env=env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def tree_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def make_frames(folder: Path, n: int, size: int) -> None:
    folder.mkdir(parents=True)
    for i in range(n):
        (folder / f"f{i:04d}.exr").write_bytes(os.urandom(size))


def change(folder: Path, size: int) -> None:
    for i in (3, 250, 497):
        f = folder / f"f{i % len(list(folder.iterdir())):04d}.exr"
        f.unlink()  # tracked frames are read-only links: tools write new files
        f.write_bytes(os.urandom(size))


def one_run(base: Path, n: int, size: int, pycache: Path, pull_reps: int) -> dict[str, float]:
    env = {**os.environ, "DVC_SITE_CACHE_DIR": str(base / "dvc-site"),
           # byte-compiled imports for every tool, as an install with --compile-bytecode
           # has them: a private pycache. This machine exports PYTHONDONTWRITEBYTECODE=1,
           # which would keep that pycache empty (every run compiling ~1.5 s of imports)
           "PYTHONPYCACHEPREFIX": str(pycache),
           "SETPIECE_HOME": str(base / "home"), "UV_CACHE_DIR": str(base / "uv-cache"),
           "UV_PYTHON_DOWNLOADS": "never", "DVC_NO_ANALYTICS": "1"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    src = base / "src"
    make_frames(src, n, size)
    out: dict[str, float] = {}
    run([SETPIECE, "files", "--help"], env=env)  # warm the private pycache (first run only)
    run([DVC, "--version"], env=env)

    # plain dvc ---------------------------------------------------------------------
    proj = base / "dvcproj"
    shutil.copytree(src, proj / "frames")
    run([DVC, "init", "--no-scm", "-q"], cwd=proj, env=env)
    run([DVC, "remote", "add", "-d", "r", str(base / "dvc-remote")], cwd=proj, env=env)
    out["dvc add"] = run([DVC, "add", "-q", "frames"], cwd=proj, env=env)
    out["dvc push"] = run([DVC, "push", "-q"], cwd=proj, env=env)
    before = tree_bytes(base / "dvc-remote")
    change(proj / "frames", size)
    run([DVC, "add", "-q", "frames"], cwd=proj, env=env)
    run([DVC, "push", "-q"], cwd=proj, env=env)
    out["dvc growth MiB"] = (tree_bytes(base / "dvc-remote") - before) / (1 << 20)
    clone = base / "dvcclone"
    shutil.copytree(proj, clone, ignore=shutil.ignore_patterns("frames", "cache"))
    shutil.rmtree(clone / ".dvc" / "cache", ignore_errors=True)
    out["dvc pull"] = run([DVC, "pull", "-q"], cwd=clone, env=env)

    # setpiece ----------------------------------------------------------------------
    repos = base / "repos"
    ws = base / "ws"
    run([SETPIECE, "init", str(ws), "--repo", f"review={repos / 'review'}", "--repo",
         f"blessed={repos / 'blessed'}", "--blessed", "blessed", "--default", "review"], env=env)
    run([SETPIECE, "-w", str(ws), "create", "Shot"], env=env)
    pkg = ws / "outputs" / "Shot" / "src" / "shot"
    shutil.copytree(src, pkg / "frames")
    out["files add"] = run([SETPIECE, "-q", "-w", str(ws), "files", "add", "Shot", str(pkg / "frames")], env=env)
    out["files push"] = run([SETPIECE, "-q", "-w", str(ws), "files", "push", "Shot"], env=env)
    run([SETPIECE, "-q", "-w", str(ws), "publish", "Shot"], env=env)
    remote = repos / "review" / "files"
    before = tree_bytes(remote)
    change(pkg / "frames", size)
    # the row says add + bump + publish: all three are timed (it timed only publish)
    out["republish"] = (
        run([SETPIECE, "-q", "-w", str(ws), "files", "add", "Shot", str(pkg / "frames")], env=env)
        + run([SETPIECE, "-q", "-w", str(ws), "bump", "Shot", "micro"], env=env)
        + run([SETPIECE, "-q", "-w", str(ws), "publish", "Shot"], env=env)
    )
    out["files growth MiB"] = (tree_bytes(remote) - before) / (1 << 20)

    # pull into a fresh workspace that installed the published asset
    ws2 = base / "ws2"
    run([SETPIECE, "init", str(ws2), "--repo", f"review={repos / 'review'}", "--repo",
         f"blessed={repos / 'blessed'}", "--blessed", "blessed", "--default", "review"], env=env)
    run([SETPIECE, "-q", "-w", str(ws2), "install", "Shot", "--repo", "review"], env=env)
    # cp -r and the pull side by side, alternating, --pull-reps times (min of each): on a
    # loaded machine one pair can differ 3x from the next. Each timed step starts with no
    # dirty pages from earlier steps (the GBs written above are still being flushed, and a
    # copy measured during that is throttled), and every repeat starts from an empty cache.
    pulled = next((ws2 / "inputs").glob("**/site-packages/shot")) / "frames"
    for _ in range(pull_reps):
        for gone in (base / "cp-copy", pulled, ws2 / ".setpiece" / "files"):
            shutil.rmtree(gone, ignore_errors=True)
        for key, cmd in (("cp -r", ["cp", "-r", str(remote), str(base / "cp-copy")]),
                         ("files pull", [SETPIECE, "-q", "-w", str(ws2), "files", "pull", "Shot"]),
                         ("files pull (cached)", [SETPIECE, "-q", "-w", str(ws2), "files", "pull", "Shot"])):
            os.sync()
            wall, cpu = run_cpu(cmd, env=env if cmd[0] == SETPIECE else None)
            out[key] = min(out.get(key, wall), wall)
            out[key + " cpu"] = min(out.get(key + " cpu", cpu), cpu)
    return out


def help_check() -> tuple[bool, float]:
    code = ("import sys; from setpiece.core.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print('DVC' if any(m.split('.')[0] in ('dvc', 'dvc_data') for m in sys.modules) else 'CLEAN')")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    t = min(run([SETPIECE, "--help"]) for _ in range(5))
    return "CLEAN" in proc.stdout, t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=500)
    ap.add_argument("--size-mb", type=float, default=1.0)
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--pull-reps", type=int, default=3, help="cp -r / pull pairs in each run")
    args = ap.parse_args()
    size = int(args.size_mb * (1 << 20))
    results: list[dict[str, float]] = []
    pycache = Path(tempfile.mkdtemp(prefix="setpiece-files-bench-pycache-"))
    for i in range(args.reps):
        with tempfile.TemporaryDirectory(prefix="setpiece-files-bench-") as tmp:
            results.append(one_run(Path(tmp), args.frames, size, pycache, args.pull_reps))
            print(f"run {i + 1}: " + ", ".join(f"{k} {v:.2f}" for k, v in results[-1].items()),
                  file=sys.stderr)
    best = {k: min(r[k] for r in results) for k in results[0]}
    shutil.rmtree(pycache, ignore_errors=True)
    clean, help_t = help_check()
    plain = best["dvc add"] + best["dvc push"]
    ours = best["files add"] + best["files push"]
    print(f"## {args.frames} x {args.size_mb:g} MB frames, min of {args.reps} runs, {os.cpu_count()} cores\n")
    print("| measure | setpiece | plain | ratio | target |")
    print("| --- | --- | --- | --- | --- |")
    print(f"| add + push | {ours:.2f} s ({best['files add']:.2f} + {best['files push']:.2f}) | "
          f"dvc {plain:.2f} s ({best['dvc add']:.2f} + {best['dvc push']:.2f}) | {ours / plain:.2f}x | <= 1.2x |")
    print(f"| remote growth after 3 changed frames | {best['files growth MiB']:.3f} MiB | "
          f"dvc {best['dvc growth MiB']:.3f} MiB | | <= 3.1 MB |")
    print(f"| pull {args.frames * args.size_mb:g} MB from a folder remote | {best['files pull']:.2f} s "
          f"(CPU {best['files pull cpu']:.2f} s) | cp -r {best['cp -r']:.2f} s (CPU {best['cp -r cpu']:.2f} s); "
          f"dvc pull {best['dvc pull']:.2f} s | {best['files pull'] / best['cp -r']:.2f}x | <= 2x cp |")
    print(f"| second pull (cached) | {best['files pull (cached)']:.2f} s "
          f"(CPU {best['files pull (cached) cpu']:.2f} s) | | | < 1 s |")
    print(f"| republish with 3 changed frames (add + bump + publish) | {best['republish']:.2f} s | | | |")
    print(f"| `setpiece --help` | {help_t:.2f} s, imports dvc: {'no' if clean else 'YES'} | | | no dvc |")


if __name__ == "__main__":
    main()
