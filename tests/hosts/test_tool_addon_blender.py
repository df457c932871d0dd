"""A Blender add-on shipped by a tool asset, in real bpy: enabled at setpiece's startup
while the asset is installed, gone after ``setpiece uninstall``, skipped in safe mode.
Each Blender session is a fresh subprocess (bpy keeps global state)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest

pytest.importorskip("bpy", reason="bpy (Blender as a Python module) is not installed")
pytestmark = pytest.mark.bpy

SESSION = """
import json, sys
import bpy
import addon_utils
from setpiece.hosts.blender import BlenderHost
from setpiece.hosts.runtime import install

runtime = install(BlenderHost(), sys.argv[1], defer=False)
runtime.finish_startup()   # what the app's first idle moment runs
module = "outlinertools.addon"
ok = False
if hasattr(bpy.types, "OUTLINERTOOLS_OT_hello"):
    ok = bpy.ops.outlinertools.hello() == {"FINISHED"}
print("RESULT:" + json.dumps({
    "check": list(addon_utils.check(module)),
    "operator": hasattr(bpy.types, "OUTLINERTOOLS_OT_hello"),
    "ran": ok,
    "in_preferences": module in bpy.context.preferences.addons,
}))
"""


def _session(ws: Any, **env: str) -> dict[str, Any]:
    base = {k: v for k, v in os.environ.items() if k not in ("SETPIECE_WORKSPACE",)}
    proc = subprocess.run([sys.executable, "-c", SESSION, str(ws.root)], capture_output=True,
                          text=True, timeout=300, env={**base, **env})
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT:")]
    assert proc.returncode == 0 and lines, proc.stdout + proc.stderr
    data: dict[str, Any] = json.loads(lines[-1][len("RESULT:"):])
    return data


def test_addon_enabled_while_installed_and_gone_after_uninstall(
    make_workspace: Callable[..., Any], run_cli: Callable[..., Any]
) -> None:
    ws = make_workspace()
    r = run_cli("-w", ws.root, "create", "OutlinerTools", "--template", "blender-addon")
    assert r.exit_code == 0, r.err
    assert run_cli("-w", ws.root, "publish", "OutlinerTools").exit_code == 0
    import shutil

    shutil.rmtree(ws.outputs / "OutlinerTools")
    assert run_cli("-w", ws.root, "uninstall", "OutlinerTools").exit_code == 0
    assert run_cli("-w", ws.root, "install", "OutlinerTools").exit_code == 0

    on = _session(ws)
    assert on == {"check": [True, True], "operator": True, "ran": True,
                  "in_preferences": False}

    safe = _session(ws, SETPIECE_SAFE_MODE="1")
    assert safe["operator"] is False and safe["check"][1] is False

    assert run_cli("-w", ws.root, "uninstall", "OutlinerTools").exit_code == 0
    off = _session(ws)
    assert off == {"check": [False, False], "operator": False, "ran": False,
                   "in_preferences": False}
