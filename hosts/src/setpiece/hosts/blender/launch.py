"""How ``setpiece env/launch/batch blender`` starts Blender, and the bpy-module batch runner.

Headless: with the ``bpy`` module importable in this Python (``pip install bpy``: Blender
as a Python module), ``setpiece batch blender`` runs
``python -m setpiece.hosts.blender.launch SCRIPT [ARGS...]`` with no Blender install at
all; otherwise ``blender -b --python-use-system-env --python-exit-code 1 --python SCRIPT --
ARGS`` (``--python-use-system-env``: a real Blender ignores ``PYTHONPATH`` without it; the
GUI launch passes it too).

Python versions (Blender release notes, VFX Reference Platform; the PyPI ``bpy`` wheels
agree: 4.2 to 5.0 are built for CPython 3.11 only, 5.1 to 5.3 for 3.13 only): Blender 4.0
ships Python 3.10; 4.1 to 4.5 and 5.0 ship 3.11; 5.1 and later 3.13.

``BLENDER_SYSTEM_SCRIPTS`` is a list of folders from Blender 4.4 only: 4.2 and 4.3 read the
whole value as one folder (``bpy.utils.script_paths_system_environment`` in bpy 4.2.23 and
4.3.0 returns ``[normpath(value)]``; 4.4.0 splits it on ``os.pathsep``), so prepending
setpiece's folder to a studio's there hides both. :func:`adjust_plan` keeps a studio's value
untouched before 4.4 and starts setpiece's add-on with ``--python`` instead (Blender's
command line: "Run the given Python script file", after startup, before the file loads when
it comes first).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import re
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from setpiece.hosts.protocol import LaunchSpec

if TYPE_CHECKING:
    from setpiece.hosts.launching import Plan

PYTHON_BY_APP_VERSION = {
    "4.0": "3.10",
    "4.1": "3.11",
    "4.2": "3.11",
    "4.3": "3.11",
    "4.4": "3.11",
    "4.5": "3.11",
    "5.0": "3.11",
    "5.1": "3.13",
    "5.2": "3.13",
    "5.3": "3.13",
}

SYSTEM_SCRIPTS = "BLENDER_SYSTEM_SCRIPTS"
#: the first Blender that reads BLENDER_SYSTEM_SCRIPTS as a list of folders
SYSTEM_SCRIPTS_LIST_SINCE = (4, 4)


def launch_spec() -> LaunchSpec:
    return LaunchSpec(
        host="blender",
        executables=("blender",),
        batch_executables=("blender",),
        install_globs=(
            "/opt/blender*/blender",
            "/usr/local/blender*/blender",
            "/Applications/Blender*.app/Contents/MacOS/Blender",
            "C:/Program Files/Blender Foundation/Blender */blender.exe",
        ),
        python_by_app_version=dict(PYTHON_BY_APP_VERSION),
        # setpiece's add-on lives in <startup_dir>/startup/ (see setpiece.hosts.blender.startup_dir).
        # BLENDER_SYSTEM_SCRIPTS leaves the artist's own user scripts folder alone; setpiece
        # prepends its folder to the studio's from Blender 4.4 (a path list there; before
        # it, adjust_plan keeps the studio's value and passes --python instead).
        startup_var=SYSTEM_SCRIPTS,
        # Blender's Python ignores PYTHONPATH unless told otherwise
        batch_args=(
            "-b", "--python-use-system-env", "--python-exit-code", "1", "--python", "{script}",
            "--",
        ),
        launch_args=("--python-use-system-env",),
        # for a launcher that does not pass --python-use-system-env: the add-on adds these
        pythonpath_var="SETPIECE_PYTHONPATH",
    )


def app_info(executable: Path) -> tuple[str, str | None]:
    """Ask ``blender --version``; map the version to the Python it ships."""
    try:
        out = subprocess.run(
            [str(executable), "--version"], capture_output=True, text=True, timeout=60
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "", None
    match = re.search(r"Blender (\d+)\.(\d+)", out)
    if not match:
        return "", None
    version = f"{match.group(1)}.{match.group(2)}"
    return version, PYTHON_BY_APP_VERSION.get(version)


def startup_script() -> Path:
    """setpiece's add-on module (registers itself when run as ``--python`` script)."""
    from setpiece.hosts.blender import startup_dir

    return startup_dir() / "startup" / "setpiece_blender.py"


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", version)[:2])


def bpy_module_version() -> str:
    """The ``bpy`` module's Blender version in this Python ("" when none)."""
    try:
        return importlib.metadata.version("bpy")
    except importlib.metadata.PackageNotFoundError:
        return ""


def adjust_plan(plan: Plan, base: Mapping[str, str], *, batch: bool) -> None:
    """Before Blender 4.4 (or an unknown version), never prepend to a studio's
    ``BLENDER_SYSTEM_SCRIPTS`` (one folder there): keep the studio's value; a launch runs
    setpiece's add-on with ``--python`` (batch needs no add-on: its script imports setpiece
    through ``PYTHONPATH``)."""
    studio = base.get(SYSTEM_SCRIPTS, "")
    ours = plan.env.get(SYSTEM_SCRIPTS, "")
    if not studio or not ours or ours in studio.split(os.pathsep):
        return
    version = plan.app_version or (bpy_module_version() if not plan.executable else "")
    if version and _version_tuple(version) >= SYSTEM_SCRIPTS_LIST_SINCE:
        return
    del plan.env[SYSTEM_SCRIPTS]
    if not batch:
        at = 1 + len(launch_spec().launch_args)  # before the scene file: runs before it loads
        plan.command[at:at] = ["--python", str(startup_script())]


def bpy_module_available() -> bool:
    return importlib.util.find_spec("bpy") is not None


def batch_command(script: str, args: list[str], ws: Any) -> list[str] | None:
    """With ``bpy`` importable here, run headless in this Python (no Blender install)."""
    if not bpy_module_available():
        return None
    from setpiece.hosts.launching import check_python

    check_python("blender (bpy module)", f"{sys.version_info[0]}.{sys.version_info[1]}", ws)
    return [sys.executable, "-m", "setpiece.hosts.blender.launch", script, *args]


def main(argv: Sequence[str] | None = None) -> int:
    """Import bpy, run SCRIPT as ``__main__`` with ARGS; exit non-zero when it raises."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        print("usage: python -m setpiece.hosts.blender.launch SCRIPT [ARGS...]", file=sys.stderr)
        return 2
    import bpy  # noqa: F401  (starts Blender in this process)

    from setpiece.hosts.launching import run_script

    return run_script(args)


if __name__ == "__main__":
    sys.exit(main())
