"""How ``setpiece env/launch/batch maya`` starts Maya, and the ``mayapy`` batch runner.

``python -m setpiece.hosts.maya.launch SCRIPT [ARGS...]`` (run by ``mayapy``) starts Maya
with ``maya.standalone.initialize()``, runs SCRIPT as ``__main__`` and exits non-zero when
it raises; that is what ``setpiece batch maya run SCRIPT`` executes.

Python versions: Maya 2024 ships Python 3.10, Maya 2025 and 2026 ship 3.11 (Autodesk
"Python in Maya" release notes; VFX Reference Platform CY2023/CY2024). Maya 2023 and
older (3.9 and below) are not supported: setpiece needs 3.10+.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Sequence

from setpiece.hosts.protocol import LaunchSpec

PYTHON_BY_APP_VERSION = {"2024": "3.10", "2025": "3.11", "2026": "3.11"}


def launch_spec() -> LaunchSpec:
    return LaunchSpec(
        host="maya",
        executables=("maya",),
        batch_executables=("mayapy",),
        # GUI and batch executables (the launcher picks by name), newest last when sorted
        install_globs=(
            "/usr/autodesk/maya*/bin/maya",
            "/usr/autodesk/maya*/bin/mayapy",
            "C:/Program Files/Autodesk/Maya*/bin/maya.exe",
            "C:/Program Files/Autodesk/Maya*/bin/mayapy.exe",
            "/Applications/Autodesk/maya*/Maya.app/Contents/bin/maya",
            "/Applications/Autodesk/maya*/Maya.app/Contents/bin/mayapy",
        ),
        python_by_app_version=dict(PYTHON_BY_APP_VERSION),
        # the folder holding userSetup.py (setpiece.hosts.maya.startup_dir())
        startup_var="PYTHONPATH",
        batch_args=("-m", "setpiece.hosts.maya.launch", "{script}"),
    )


def run_batch(argv: Sequence[str]) -> int:
    """Initialize Maya standalone, run ``argv[0]`` with ``argv[1:]`` as its arguments."""
    if not argv:
        print("usage: mayapy -m setpiece.hosts.maya.launch SCRIPT [ARGS...]", file=sys.stderr)
        return 2
    from setpiece.hosts.launching import run_script
    from setpiece.hosts.maya import initialize_standalone

    initialize_standalone()
    try:
        return run_script(argv)
    except Exception:
        traceback.print_exc()
        return 1


if __name__ == "__main__":
    sys.exit(run_batch(sys.argv[1:]))
