"""How ``setpiece env/launch/batch nuke`` starts Nuke.

Startup: the launcher prepends ``startup_dir()`` (``init.py``, ``menu.py``) to
``NUKE_PATH``. Batch: ``Nuke<version> -t SCRIPT [ARGS]`` (terminal mode: no GUI, init.py
runs, menu.py does not). Nuke also ships a ``python`` that can ``import nuke``
("Nuke as a Python Module"), which runs ``python -m setpiece.hosts.nuke.selftest``.

Python versions: Nuke 15.x ships Python 3.10, Nuke 16.x and 17.x ship 3.11 (Foundry
release notes; VFX Reference Platform CY2023/CY2024). Nuke 14 (3.9) is not supported:
setpiece needs 3.10+.
"""

from __future__ import annotations

from setpiece.hosts.protocol import LaunchSpec

PYTHON_BY_APP_VERSION = {"15": "3.10", "16": "3.11", "17": "3.11"}


def launch_spec() -> LaunchSpec:
    return LaunchSpec(
        host="nuke",
        executables=("nuke", "Nuke"),
        batch_executables=("nuke", "Nuke"),
        install_globs=(
            "/usr/local/Nuke*/Nuke[0-9]*.[0-9]",
            "C:/Program Files/Nuke*/Nuke[0-9]*.exe",
            "/Applications/Nuke*/Nuke*.app/Contents/MacOS/Nuke[0-9]*",
        ),
        python_by_app_version=dict(PYTHON_BY_APP_VERSION),
        # the folder holding init.py/menu.py (setpiece.hosts.nuke.startup_dir())
        startup_var="NUKE_PATH",
        batch_args=("-t", "{script}"),
    )
