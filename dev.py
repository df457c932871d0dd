#!/usr/bin/env python3
"""Set up and run setpiece on a fresh machine with only Python and pip.

    python3 dev.py demo [PATH]   # the main job: a demo workspace on the embedded defaults
    python3 dev.py test [ARGS]   # the test suite (pytest ARGS...)
    python3 dev.py check         # tests, then ruff and mypy (what CI runs)
    python3 dev.py lines [NAME]  # the other Blender / Python lines (see LINES), each in its venv

Each command installs what it needs by itself: uv (with pip, into .tools/, never into
your Python), then the development environment (.venv, Python 3.11) with uv.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
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


# The lines CI runs besides the main .venv (Python 3.11 with the locked bpy, 5.0): each in
# its own venv .venvs/NAME made by uv from the lock (shared uv cache), with bpy swapped for
# the line's. (name, Python, bpy requirement or "", pytest marker selection, test paths):
# the Python lines run the tests of setpiece-core, -usd and -hosts (the packages a DCC
# imports), not the whole suite.
PACKAGE_TESTS = ("tests/core", "tests/usd", "tests/hosts", "tests/test_docs.py")
LINES = [
    ("bpy-4.2", "3.11", "bpy==4.2.*", "bpy", ("tests",)),          # Blender 4.2 LTS
    ("bpy-4.5", "3.11", "bpy==4.5.*", "bpy", ("tests",)),          # Blender 4.5 LTS
    ("py3.13", "3.13", "bpy>=5.1,<6", "", PACKAGE_TESTS),          # newest Blender 5.x too
    ("py3.10", "3.10", "", "not bpy", PACKAGE_TESTS),              # Maya 2024 / Houdini 20
]


def find_python(version: str) -> str:
    """An interpreter for ``version``: pyenv's (``$PYENV_ROOT/versions``), else PATH."""
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    found = sorted(root.glob(f"{version}.*/bin/python{version}"),
                   key=lambda p: [int(x) for x in p.parts[-3].split(".") if x.isdigit()])
    if found:
        return str(found[-1])
    on_path = shutil.which(f"python{version}")
    if on_path:
        return on_path
    sys.exit(f"error: Python {version} is not installed (looked in {root} and on PATH): "
             f"install it, e.g. 'pyenv install {version}'")


def line(u: str, name: str, python: str, bpy: str, marker: str, paths: tuple[str, ...],
         args: list[str]) -> int:
    venv = ROOT / ".venvs" / name
    interpreter = find_python(python)
    e = env()
    e["UV_PROJECT_ENVIRONMENT"] = str(venv)
    # --no-install-package bpy: the lock's bpy is the main line's (3.11 only); each line adds its own
    if sh([u, "sync", "--python", interpreter, "--all-packages", "--locked",
           "--no-install-package", "bpy"], env=e) != 0:
        sys.exit(f"error: 'uv sync' into {venv} failed: see above")
    exe = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    if bpy and sh([u, "pip", "install", "--python", str(exe), bpy], env=env()) != 0:
        sys.exit(f"error: could not install {bpy} into {venv}: see above")
    probe = "import sys; print('python', sys.version.split()[0])"
    if bpy:
        probe += "; import bpy; print('bpy', bpy.app.version_string)"
    if sh([str(exe), "-c", probe]) != 0:
        sys.exit(f"error: {venv} is broken: remove it and run 'python3 dev.py lines {name}'")
    select = ["-m", marker] if marker else []
    # workspaces made by the tests ask uv for "python3.X": find this one first (a pyenv
    # shim for a version that is not pyenv's global one would fail)
    e = env()
    e["PATH"] = str(Path(interpreter).parent) + os.pathsep + e.get("PATH", "")
    return sh([str(exe), "-m", "pytest", "-p", "no:cacheprovider", *select, *args, *paths], env=e)


def lines(argv: list[str]) -> int:
    """``lines [NAME...] [-- PYTEST ARGS]``: set up and test each line; the first failure's code."""
    cut = argv.index("--") if "--" in argv else len(argv)
    names, args = argv[:cut], argv[cut + 1:]
    known = {n for n, *_ in LINES}
    for n in names:
        if n not in known:
            print(f"error: unknown line '{n}': use one of {', '.join(sorted(known))}",
                  file=sys.stderr)
            return 2
    u = uv()
    failed = 0
    for name, python, bpy, marker, paths in LINES:
        if names and name not in names:
            continue
        start = time.monotonic()
        rc = line(u, name, python, bpy, marker, paths, args or ["-q"])
        print(f"line {name}: {'ok' if rc == 0 else f'FAILED (exit {rc})'} in "
              f"{time.monotonic() - start:.0f} s", flush=True)
        failed = failed or rc
    return failed


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
    if cmd == "lines":
        return lines(rest)
    print(f"error: unknown command '{cmd}': use demo, test, check or lines", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
