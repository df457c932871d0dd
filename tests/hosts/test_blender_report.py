"""Blender: "Report a problem" in the setpiece menu writes the problem report (the app's name
and version in it), traced and counted as a menu entry. Real bpy, in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from dcc_steps import reported_from_menu

pytest.importorskip("bpy", reason="bpy (Blender as a Python module) is not installed")
pytestmark = pytest.mark.bpy

PROBE = """
import json, sys
import bpy
import setpiece.hosts
from setpiece.hosts.blender.host import BlenderHost

bpy.ops.wm.read_factory_settings(use_empty=True)
host = BlenderHost()
runtime = setpiece.hosts.install(host, sys.argv[1], defer=False)
labels = [c.label for c in runtime.menu_commands()]
key = f"{labels.index('Report a problem'):03d}"
result = sorted(bpy.ops.setpiece.run_command(key=key))
sys.stdout.write("RESULT" + json.dumps({"labels": labels, "result": result,
                                         "version": host.app_version()}))
"""


def test_report_a_problem_from_the_blender_menu(make_workspace: Any) -> None:
    ws = make_workspace()
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(PROBE), str(ws.root)], capture_output=True,
        text=True, timeout=300,
    )
    assert "RESULT" in proc.stdout, proc.stderr[-2000:]
    out = json.loads(proc.stdout.split("RESULT", 1)[1])
    assert out["result"] == ["FINISHED"]
    assert "Report a problem" in out["labels"]
    path: Path = reported_from_menu(ws.root, "blender", out["version"])
    assert f"Problem report written: {path}" in proc.stderr
