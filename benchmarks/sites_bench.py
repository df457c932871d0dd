"""Multi-site sync benchmark: ``setpiece repo sync`` of a closure with files, beside ``rsync -a``.

    .venv/bin/python benchmarks/sites_bench.py [--assets 1000] [--mb 500] [--reps 2]

A source folder repo holds N assets (``Prop0000`` ...), each with one tracked file of
``MB / N`` random bytes (its object in the repo's files remote, ``files/md5/``) and a
``published`` event in the repo's log, plus ``Shot`` whose ``build`` group requires all of
them. The wheels are written directly (valid wheels, the METADATA uv_build writes) and
indexed with ``FolderRepo.reindex``: publishing 1,000 assets through uv would take longer
than the benchmark itself.

Measured, each a fresh process, wall and CPU (user + sys of the child), min of --reps:

- ``setpiece repo sync src dst "Shot[build]"`` into an empty repo (everything moves:
  wheels, objects, events; each byte hashed on arrival, objects and wheels fsynced);
- the same sync again: nothing to move (a no-op);
- ``rsync -a src/ dst/`` of the same folder into an empty one, and again (no-op), for scale:
  rsync copies without verifying content hashes and without fsync.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Sequence
from pathlib import Path

BIN = Path(sys.executable).parent
SETPIECE = str(BIN / "setpiece")


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def write_wheel(folder: Path, name: str, version: str, reqs: Sequence[str] = (),
                pointer: tuple[str, int] | None = None) -> Path:
    """A valid asset wheel; ``pointer`` (md5, size) adds ``<pkg>/geo.abc.dvc``."""
    dist = name.lower()
    di = f"{dist}-{version}.dist-info"
    meta = ["Metadata-Version: 2.3", f"Name: {name}", f"Version: {version}",
            "Keywords: setpiece-asset,setpiece-kind:prop", "Requires-Python: >=3.10"]
    meta += [f"Requires-Dist: {r}[build] ; extra == 'build'" for r in reqs]
    meta += ["Provides-Extra: build"]
    files = {f"{dist}/__init__.py": f'ASSET = "{name}"\n'.encode()}
    if pointer is not None:
        md5, size = pointer
        files[f"{dist}/geo.abc.dvc"] = (
            f"outs:\n- md5: {md5}\n  size: {size}\n  hash: md5\n  path: \"geo.abc\"\n").encode()
    files[f"{di}/METADATA"] = ("\n".join(meta) + "\n").encode()
    files[f"{di}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: setpiece-bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    files[f"{di}/entry_points.txt"] = f"[setpiece.asset]\n{name} = {dist}\n".encode()
    record = "".join(f"{n},{_record_hash(d)},{len(d)}\n" for n, d in files.items()) + f"{di}/RECORD,,\n"
    path = folder / f"{dist}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for n, d in files.items():
            zf.writestr(n, d)
        zf.writestr(f"{di}/RECORD", record)
    return path


def make_source(repo: Path, n: int, total: int) -> None:
    from setpiece.core.eventlog import FolderLog, id_time, new_id
    from setpiece.core.repos.folder import FolderRepo

    FolderRepo("src", str(repo)).create()
    size = total // n
    log = FolderLog(repo / ".setpiece" / "events")
    names = []
    for i in range(n):
        name = f"Prop{i:04d}"
        data = os.urandom(size)
        md5 = hashlib.md5(data).hexdigest()
        obj = repo / "files" / "md5" / md5[:2] / md5[2:]
        obj.parent.mkdir(parents=True, exist_ok=True)
        obj.write_bytes(data)
        obj.chmod(0o444)
        wheel = write_wheel(repo, name, "1.0.0", pointer=(md5, size))
        names.append(name)
        event_id = new_id()
        log.append({"id": event_id, "time": id_time(event_id), "event": "published",
                    "asset": name, "version": "1.0.0", "repo": "src", "site": "london",
                    "wheel": wheel.name})
    write_wheel(repo, "Shot", "1.0.0", reqs=names)
    FolderRepo("src", str(repo)).reindex()


def run(cmd: Sequence[str], env: dict[str, str]) -> tuple[float, float, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run(list(cmd), env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.strip()[-600:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--assets", type=int, default=1000)
    parser.add_argument("--mb", type=int, default=500)
    parser.add_argument("--reps", type=int, default=2)
    args = parser.parse_args(argv)
    base = Path(tempfile.mkdtemp(prefix="sites-bench-"))
    env = {**os.environ, "SETPIECE_HOME": str(base / "home"), "UV_CACHE_DIR": str(base / "uv-cache"),
           "UV_PYTHON_DOWNLOADS": "never", "DVC_SITE_CACHE_DIR": str(base / "dvc-site")}
    env.pop("SETPIECE_SITE", None)
    os.environ.update({k: env[k] for k in ("SETPIECE_HOME", "UV_CACHE_DIR", "DVC_SITE_CACHE_DIR")})
    try:
        t = time.perf_counter()
        src = base / "repos" / "src"
        make_source(src, args.assets, args.mb * 1_000_000)
        print(f"setup: {args.assets} assets, {args.mb} MB, written and indexed in "
              f"{time.perf_counter() - t:.1f} s", flush=True)
        from setpiece.core.workspace import Workspace

        results: dict[str, list[tuple[float, float]]] = {}
        for rep in range(args.reps):
            dst = base / "repos" / f"dst{rep}"
            ws = Workspace.init(base / f"ws{rep}", repos=[("src", str(src)), ("dst", str(dst))],
                                blessed="src", default="src")
            sync = [SETPIECE, "-q", "-w", str(ws.root), "repo", "sync", "src", "dst",
                    "Shot[build]", "--json"]
            subprocess.run(["sync"], check=False)
            wall, cpu, out = run(sync, env)
            moved = json.loads(out)
            assert moved["wheels"] == args.assets + 1 and moved["objects"] == args.assets, moved
            results.setdefault("setpiece sync, empty site", []).append((wall, cpu))
            wall, cpu, out = run(sync, env)
            assert json.loads(out)["wheels"] == 0
            results.setdefault("setpiece sync, no-op", []).append((wall, cpu))
            copy = base / "rsync" / f"dst{rep}"
            copy.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(["sync"], check=False)
            results.setdefault("rsync -a, empty", []).append(
                run(["rsync", "-a", f"{src}/", f"{copy}/"], env)[:2])
            results.setdefault("rsync -a, no-op", []).append(
                run(["rsync", "-a", f"{src}/", f"{copy}/"], env)[:2])
            shutil.rmtree(dst)
            shutil.rmtree(copy)
        print(f"\n| what ({args.assets} assets, {args.mb} MB) | wall (min) | CPU (min) |")
        print("| --- | --- | --- |")
        for what, rows in results.items():
            print(f"| {what} | {min(w for w, _ in rows):.2f} s | {min(c for _, c in rows):.2f} s |")
        print(f"load average: {os.getloadavg()[0]:.1f}")
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
