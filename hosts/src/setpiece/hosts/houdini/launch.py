"""How ``setpiece env/launch/batch houdini`` starts Houdini.

Startup: the launcher points ``HOUDINI_PACKAGE_DIR`` at ``startup_dir()`` (the folder
holding ``setpiece.json``). Houdini reads package files from ``$HOUDINI_PACKAGE_DIR``
(and ``$HOUDINI_USER_PREF_DIR/packages``, ``$HSITE/houdiniX.Y/packages``); inside the
package file ``$HOUDINI_PACKAGE_PATH`` is the folder the file was found in, so the
package adds ``startup/setpiece`` (MainMenuCommon.xml, scripts/python/pythonrc.py) to
HOUDINI_PATH wherever setpiece is installed. (SideFX docs: "Houdini packages".)

Batch: ``hython SCRIPT`` (``hou`` is ready, pythonrc.py has run).

Python versions: Houdini 20.0 ships Python 3.10 (a 3.9 build exists), 20.5 and 21.0 ship
3.11 (SideFX release notes; VFX Reference Platform CY2023/CY2024). 19.5 and older are
Python 3.9 or 3.7: not supported, setpiece needs 3.10+.
"""

from __future__ import annotations

from setpiece.hosts.protocol import LaunchSpec

PYTHON_BY_APP_VERSION = {"20.0": "3.10", "20.5": "3.11", "21.0": "3.11"}


def launch_spec() -> LaunchSpec:
    return LaunchSpec(
        host="houdini",
        executables=("houdini", "houdinifx", "houdinicore"),
        batch_executables=("hython",),
        # GUI and batch executables (the launcher picks by name), newest last when sorted
        install_globs=(
            "/opt/hfs*/bin/houdini",
            "/opt/hfs*/bin/hython",
            "C:/Program Files/Side Effects Software/Houdini */bin/houdini.exe",
            "C:/Program Files/Side Effects Software/Houdini */bin/hython.exe",
            "/Applications/Houdini/Houdini*/Frameworks/Houdini.framework/Versions/Current/Resources/bin/houdini",
            "/Applications/Houdini/Houdini*/Frameworks/Houdini.framework/Versions/Current/Resources/bin/hython",
        ),
        python_by_app_version=dict(PYTHON_BY_APP_VERSION),
        # the folder holding setpiece.json (setpiece.hosts.houdini.startup_dir())
        startup_var="HOUDINI_PACKAGE_DIR",
        batch_args=("{script}",),
    )
