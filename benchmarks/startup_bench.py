"""Benchmark: start-up and no-op commands, side by side with the floor underneath.

Run: ``.venv/bin/python benchmarks/startup_bench.py [--assets 1000] [--rounds 7]``

A folder repo of N small asset wheels plus ``Shot`` (which requires them all, in its base
dependencies) is published with ``FolderRepo.publish``; a workspace installs ``Shot`` (N + 1
assets). Then, interleaved round by round (the machine is shared), each a fresh process:

  python -c pass                   the interpreter alone (the floor of every command)
  setpiece --help                  the console script (kept help: setpiece.core.quickhelp)
  setpiece --help, click           the same rendered by click (SETPIECE_NO_QUICK_HELP=1)
  setpiece list --installed        N + 1 installed assets (installed index)
  uv pip install (no-op)           raw uv: the same request, everything satisfied
  setpiece install Shot (no-op)    the CLI (fingerprint: no uv run)
  ... telemetry off                the last two with OTEL_SDK_DISABLED=true (the
                                   OpenTelemetry SDK's import is most of a command's start)

Bytecode: setpiece's own modules are editable sources, so a private PYTHONPYCACHEPREFIX is
filled by a warm-up run and read by every timed run (as an install with uv's
``--compile-bytecode`` does). Telemetry is as a workspace has it by default (on, to files).
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
import zipfile
from pathlib import Path

BIN = Path(sys.executable).parent
SETPIECE = BIN / ("setpiece.exe" if sys.platform == "win32" else "setpiece")


def wheel(folder: Path, name: str, version: str, requires: list[str] = ()) -> Path:  # type: ignore[assignment]
    import base64
    import hashlib

    dist = name.lower()
    di = f"{dist}-{version}.dist-info"
    reqs = "".join(f"Requires-Dist: {r}\n" for r in requires)
    files = {
        f"{dist}/__init__.py": f'ASSET = "{name}"\n'.encode(),
        f"{di}/METADATA": (
            f"Metadata-Version: 2.3\nName: {name}\nVersion: {version}\nSummary: bench asset\n"
            f"Keywords: setpiece-asset,setpiece-kind:prop\n{reqs}Requires-Python: >=3.10\n"
        ).encode(),
        f"{di}/WHEEL": b"Wheel-Version: 1.0\nGenerator: bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        f"{di}/entry_points.txt": f"[setpiece.asset]\n{name} = {dist}\n".encode(),
    }

    def digest(d: bytes) -> str:
        return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b"=").decode()

    record = "".join(f"{n},{digest(d)},{len(d)}\n" for n, d in files.items()) + f"{di}/RECORD,,\n"
    path = folder / f"{dist}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for n, d in files.items():
            zf.writestr(n, d)
        zf.writestr(f"{di}/RECORD", record)
    return path


def timed(cmd: list[str], env: dict[str, str], ok: tuple[int, ...] = (0,)) -> float:
    t = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    took = time.perf_counter() - t
    if proc.returncode not in ok:
        raise SystemExit(f"{cmd}: exit {proc.returncode}\n{proc.stderr}")
    return took


def main() -> None:
    from setpiece.core.repos.folder import FolderRepo
    from setpiece.core.uvrun import uv_bin
    from setpiece.core.workspace import Workspace

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--assets", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="setpiece-startup-bench-"))
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE", "SETPIECE_WORKSPACE")}
    env.update(SETPIECE_HOME=str(tmp / "home"), UV_CACHE_DIR=str(tmp / "uv-cache"),
               UV_PYTHON_DOWNLOADS="never", PYTHONPYCACHEPREFIX=str(tmp / "pycache"))
    os.environ.update(SETPIECE_HOME=env["SETPIECE_HOME"], UV_CACHE_DIR=env["UV_CACHE_DIR"])
    try:
        t = time.perf_counter()
        stage, repo = tmp / "stage", tmp / "repo"
        stage.mkdir()
        fr = FolderRepo("blessed", str(repo))
        fr.create()
        names = [f"Asset{i:04d}" for i in range(args.assets)]
        for name in names:
            fr.publish(wheel(stage, name, "1.0.0"))
        fr.publish(wheel(stage, "Shot", "1.0.0", names))
        ws_path = tmp / "ws"
        Workspace.init(ws_path, python=f"{sys.version_info[0]}.{sys.version_info[1]}",
                       repos=[("blessed", str(repo))], blessed="blessed", default="blessed")
        ws = Workspace(ws_path)
        ws.install(["Shot"])
        py = str(ws.python)
        print(f"set up {args.assets + 1} installed assets in {time.perf_counter() - t:.1f} s",
              flush=True)
        time.sleep(2.1)  # past the installed index's racy window, as any install a while ago
        cmds: dict[str, tuple[list[str], dict[str, str], tuple[int, ...]]] = {
            "python -c pass": ([sys.executable, "-c", "pass"], env, (0,)),
            "setpiece --help": ([str(SETPIECE), "--help"], env, (0,)),
            "setpiece --help, click (SETPIECE_NO_QUICK_HELP=1)":
                ([str(SETPIECE), "--help"], {**env, "SETPIECE_NO_QUICK_HELP": "1"}, (0,)),
            f"setpiece list --installed ({args.assets + 1} assets)":
                ([str(SETPIECE), "-w", str(ws_path), "list", "--installed"], env, (0,)),
            "uv pip install Shot (no-op, raw uv)":
                ([uv_bin(), "pip", "install", "--no-config", "--python", py, "--no-index",
                  "--find-links", str(repo), "Shot"], env, (0,)),
            "setpiece install Shot (no-op)":
                ([str(SETPIECE), "-q", "-w", str(ws_path), "install", "Shot"], env, (0,)),
            "setpiece list --installed, telemetry off (OTEL_SDK_DISABLED=true)":
                ([str(SETPIECE), "-w", str(ws_path), "list", "--installed"],
                 {**env, "OTEL_SDK_DISABLED": "true"}, (0,)),
            "setpiece install Shot (no-op), telemetry off":
                ([str(SETPIECE), "-q", "-w", str(ws_path), "install", "Shot"],
                 {**env, "OTEL_SDK_DISABLED": "true"}, (0,)),
        }
        for cmd, e, ok in cmds.values():  # warm-up: bytecode, kept help, no-op fingerprint
            timed(cmd, e, ok)
            timed(cmd, e, ok)
        got: dict[str, list[float]] = {k: [] for k in cmds}
        load = os.getloadavg()[0]
        for _ in range(args.rounds):
            for label, (cmd, e, ok) in cmds.items():
                got[label].append(timed(cmd, e, ok))
        print(f"\n{args.rounds} rounds, Python {sys.version.split()[0]}, load average "
              f"{load:.1f} -> {os.getloadavg()[0]:.1f}\n")
        print("| command | min (s) | median (s) |\n| --- | ---: | ---: |")
        for label, values in got.items():
            print(f"| {label} | {min(values):.3f} | {statistics.median(values):.3f} |")
        med = {k: statistics.median(v) for k, v in got.items()}
        floor = med["python -c pass"]
        print(f"\nsetpiece --help / python -c pass (medians): {med['setpiece --help'] / floor:.2f}x"
              f" (mins: {min(got['setpiece --help']) / min(got['python -c pass']):.2f}x)")
        raw = med["uv pip install Shot (no-op, raw uv)"]
        ours = med["setpiece install Shot (no-op)"]
        print(f"no-op install: setpiece - raw uv (medians) = {1000 * (ours - raw):+.0f} ms")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
