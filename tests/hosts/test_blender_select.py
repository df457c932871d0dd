"""Blender: the inventory's *Select in scene* (``BlenderHost.select``), in real ``bpy``.

Run in a subprocess: ``bpy`` is one Blender per process.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("bpy", reason="bpy (Blender as a Python module) is not installed")
pytestmark = pytest.mark.bpy

PROBE = """
import json, sys
import bpy
from setpiece.core.errors import SetpieceError
from setpiece.hosts.selftest import write_sample_scene
from setpiece.hosts.blender.host import BlenderHost
from setpiece.hosts.protocol import SceneLoad

bpy.ops.wm.read_factory_settings(use_empty=True)
sample = write_sample_scene(sys.argv[1])
host = BlenderHost()
chair, table = host.load(SceneLoad(sample.root_layer, sample.records))
stray = bpy.data.objects.new("Stray", None)
bpy.context.scene.collection.objects.link(stray)
stray.select_set(True)
bpy.context.view_layer.objects.active = stray

def state():
    layer = bpy.context.view_layer
    active = layer.objects.active
    return {"selected": sorted(o.name for o in layer.objects if o.select_get()),
            "active": active.name if active is not None else None}

out = {"chair": sorted(o.name for o in host.collection(chair).all_objects),
       "chair_empty": host.container_empty(chair).name,
       "table": sorted(o.name for o in host.collection(table).all_objects),
       "table_empty": host.container_empty(table).name}
host.select([chair.node])
out["one"] = state()
host.select([table.node, chair.node])
out["both"] = state()
try:
    host.select(["Gone"])
except SetpieceError as exc:
    out["gone"] = str(exc)
out["after_gone"] = state()
sys.stdout.write("RESULT" + json.dumps(out))
"""


def test_select_in_scene_selects_the_containers_objects_and_activates_its_empty(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(PROBE), str(tmp_path / "sample")],
        capture_output=True, text=True, timeout=300,
    )
    assert "RESULT" in proc.stdout, proc.stderr[-2000:]
    out = json.loads(proc.stdout.split("RESULT", 1)[1])

    assert out["chair_empty"] in out["chair"] and len(out["chair"]) > 1  # the empty and the cube
    # the artist's own selection is replaced; the Chair's empty is the active object
    assert out["one"] == {"selected": out["chair"], "active": out["chair_empty"]}
    # several containers: all their objects; the first one's empty is active
    assert out["both"] == {"selected": sorted(out["chair"] + out["table"]), "active": out["table_empty"]}
    # a container deleted since the inventory was read: one line naming the fix, selection kept
    assert "'Gone' is not in the scene any more: refresh the inventory" in out["gone"]
    assert out["after_gone"] == out["both"]
