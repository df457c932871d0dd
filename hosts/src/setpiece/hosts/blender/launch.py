"""How ``setpiece env/launch/batch blender`` starts Blender, and the bpy-module batch runner.

Headless: with the ``bpy`` module importable in this Python (``pip install bpy``: Blender
as a Python module), ``setpiece batch blender`` runs
``python -m setpiece.hosts.blender.launch SCRIPT [ARGS...]`` with no Blender install at
all; otherwise ``blender -b --python-use-system-env --python-exit-code 1 --python SCRIPT --
ARGS`` (``--python-use-system-env``: a real Blender ignores ``PYTHONPATH`` without it; the
GUI launch passes it too).

Python versions (Blender release notes, VFX Reference Platform): Blender 4.0 ships
Python 3.10; 4.1 to 4.5 and 5.0 ship 3.11.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from setpiece.hosts.protocol import LaunchSpec

PYTHON_BY_APP_VERSION = {
    "4.0": "3.10",
    "4.1": "3.11",
    "4.2": "3.11",
    "4.3": "3.11",
    "4.4": "3.11",
    "4.5": "3.11",
    "5.0": "3.11",
}


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
        # BLENDER_SYSTEM_SCRIPTS (a path list since Blender 4.2) leaves the artist's own
        # user scripts folder alone; setpiece prepends its folder to the studio's.
        startup_var="BLENDER_SYSTEM_SCRIPTS",
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
