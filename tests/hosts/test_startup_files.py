"""The Maya, Houdini and Nuke startup files never break the app's startup: with setpiece
not importable they print one line ``setpiece: not installed in <App>: <reason>`` and the
app goes on (exit 0), like the Blender startup add-on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

STARTUP = Path(__file__).resolve().parents[2] / "hosts" / "src" / "setpiece" / "hosts"

RUNNER = """
import runpy, sys
sys.path.insert(0, {stubs!r})
runpy.run_path({path!r}, run_name="__main__")
print("APP GOES ON")
"""


@pytest.mark.parametrize(
    ("app", "path", "gui"),
    [
        ("Maya", "maya/startup/userSetup.py", False),
        ("Houdini", "houdini/startup/setpiece/scripts/python/pythonrc.py", False),
        ("Nuke", "nuke/startup/init.py", False),  # nuke -t: init.py installs
        ("Nuke", "nuke/startup/menu.py", True),
    ],
)
def test_startup_file_without_setpiece_prints_one_line(
    tmp_path: Path, app: str, path: str, gui: bool
) -> None:
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    # a stub 'nuke' module (init.py reads nuke.env); setpiece itself cannot be imported:
    # -S (no site-packages) and -E (no PYTHONPATH), and a stub package that refuses
    (stubs / "nuke.py").write_text(f"env = {{'gui': {gui}}}\n")
    (stubs / "setpiece").mkdir()
    (stubs / "setpiece" / "__init__.py").write_text(
        "raise ImportError('setpiece is not on this Python path')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-S", "-E", "-c", RUNNER.format(stubs=str(stubs),
                                                          path=str(STARTUP / path))],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "APP GOES ON"
    lines = proc.stderr.splitlines()
    assert lines == [f"setpiece: not installed in {app}: setpiece is not on this Python path"]


def test_nuke_gui_init_leaves_the_report_to_menu(tmp_path: Path) -> None:
    """In the GUI, init.py does nothing (menu.py installs and reports): one line in all."""
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    (stubs / "nuke.py").write_text("env = {'gui': True}\n")
    proc = subprocess.run(
        [sys.executable, "-S", "-E", "-c",
         RUNNER.format(stubs=str(stubs), path=str(STARTUP / "nuke/startup/init.py"))],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0 and proc.stderr == ""
