#!/usr/bin/env python3
"""Set up and run setpiece on a fresh machine with only Python and pip.

    python3 dev.py demo [PATH]   # the main job: a demo workspace on the embedded defaults
    python3 dev.py test [ARGS]   # the test suite (pytest ARGS...)
    python3 dev.py check         # tests, then ruff and mypy (what CI runs)

Each command installs what it needs by itself: uv (with pip, into .tools/, never into
your Python), then the development environment (.venv, Python 3.11) with uv.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
TOOLS = ROOT / ".tools"
PYTHON = os.environ.get("SETPIECE_DEV_PYTHON", "3.11")


def sh(cmd: list[str], **kw: object) -> int:
    print("+", " ".join(cmd), flush=True)
    return subprocess.call(cmd, cwd=ROOT, **kw)  # type: ignore[call-overload]


def uv() -> str:
    """A uv binary: .tools/ first, else install it there with pip."""
    exe = TOOLS / "uv" / "bin" / ("uv.exe" if os.name == "nt" else "uv")
    if exe.exists():
        return str(exe)
    found = shutil.which("uv")
    if found and os.environ.get("SETPIECE_DEV_SYSTEM_UV"):
        return found
    TOOLS.mkdir(exist_ok=True)
    rc = sh([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             "--target", str(TOOLS / "uv"), "uv>=0.9"])
    if rc != 0 or not exe.exists():
        sys.exit("error: could not install uv with pip: check your network or install uv by hand")
    return str(exe)


def env() -> dict[str, str]:
    e = dict(os.environ)
    e.setdefault("UV_PYTHON_DOWNLOADS", "never")
    e.pop("VIRTUAL_ENV", None)
    return e


def sync() -> str:
    u = uv()
    # bytecode compiled at install: this machine and many studio installs never write it later
    if sh([u, "sync", "--python", PYTHON, "--all-packages", "--compile-bytecode"], env=env()) != 0:
        sys.exit(f"error: 'uv sync' failed: is Python {PYTHON} installed? (set SETPIECE_DEV_PYTHON)")
    return u


def run(u: str, *args: str) -> int:
    return sh([u, "run", "--no-sync", *args], env=env())


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 2
    cmd, rest = argv[0], argv[1:]
    if cmd == "demo":
        u = sync()
        return run(u, "setpiece", "demo", *(rest or ["setpiece-demo"]))
    if cmd == "test":
        u = sync()
        return run(u, "pytest", *rest)
    if cmd == "check":
        u = sync()
        rc = run(u, "pytest", *rest)
        rc = rc or run(u, "ruff", "check", "core", "usd", "hosts", "tests", "benchmarks")
        rc = rc or run(u, "mypy", "core/src", "usd/src", "hosts/src")
        return rc
    print(f"error: unknown command '{cmd}': use demo, test or check", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
