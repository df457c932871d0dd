"""Blender: a menu entry that fails with a SetpieceError is one line (no traceback) in
the console; an unexpected error keeps its traceback. Real bpy, in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("bpy", reason="bpy (Blender as a Python module) is not installed")
pytestmark = pytest.mark.bpy

PROBE = """
import json, logging, sys
logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(message)s")
import bpy
from setpiece.core.errors import SetpieceError
from setpiece.hosts.blender.host import BlenderHost
from setpiece.hosts.protocol import MenuCommand
from setpiece.hosts.runtime import Runtime

bpy.ops.wm.read_factory_settings(use_empty=True)
host = BlenderHost()

def user_mistake(runtime):
    raise SetpieceError("this scene belongs to no output asset: save it under outputs/<Asset>/")

def bug(runtime):
    raise KeyError("oops")

rt = Runtime(host, workspace=".")
host.install_menu([MenuCommand("Build scene", rt._runner("build", "Build scene", user_mistake)),
                   MenuCommand("Broken tool", rt._runner("tool", "Broken tool", bug))])
out = {}
for key in ("000", "001"):
    sys.stderr.write(f"--- {key}\\n")
    sys.stderr.flush()
    try:
        out[key] = sorted(bpy.ops.setpiece.run_command(key=key))
    except RuntimeError as exc:  # background Blender turns an ERROR report into this
        out[key] = str(exc).strip()
sys.stdout.write("RESULT" + json.dumps(out))
"""


def test_menu_setpiece_error_is_one_line_and_a_bug_keeps_its_traceback() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(PROBE)], capture_output=True, text=True,
        timeout=300,
    )
    assert "RESULT" in proc.stdout, proc.stderr[-2000:]
    out = json.loads(proc.stdout.split("RESULT", 1)[1])
    assert "setpiece: Build scene: this scene belongs to no output asset" in out["000"]
    assert "setpiece: Broken tool failed" in out["001"]
    mistake, unexpected = proc.stderr.split("--- 000", 1)[1].split("--- 001", 1)
    assert "Traceback" not in mistake
    assert "ERROR setpiece: Build scene: this scene belongs to no output asset" in mistake
    assert "Traceback" in unexpected and "KeyError: 'oops'" in unexpected
