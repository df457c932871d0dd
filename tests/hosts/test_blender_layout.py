"""Blender: a container lands where the scene's layout puts it, in metres, exactly once.

An asset's own interface layer may move its root prim; the scene's stronger opinion
replaces that move, so the content must not be moved twice (the import shows the asset's
own transform, the container's empty applies the rest).
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

ASSET = """#usda 1.0
(
    defaultPrim = "Box"
    metersPerUnit = 0.01
    upAxis = "Y"
)

def Xform "Box" (
    assetInfo = {{
        string name = "Box"
        string version = "1.0.0"
    }}
)
{{
    double3 xformOp:translate = (0, 0, {own_z})
    uniform token[] xformOpOrder = ["xformOp:translate"]

    def Cube "geo"
    {{
        double size = 100
        double3 xformOp:translate = (0, 50, 0)
        uniform token[] xformOpOrder = ["xformOp:translate"]
    }}
}}
"""

SCENE = """#usda 1.0
(
    defaultPrim = "World"
    metersPerUnit = 0.01
    upAxis = "Y"
)

def Xform "World"
{{
    def Xform "Box" (
        prepend references = @{asset}@
    )
    {{
        double3 xformOp:translate = (200, 0, 0)
        uniform token[] xformOpOrder = ["xformOp:translate"]
    }}
}}
"""

PROBE = """
import json, sys
import bpy
from setpiece.core.containers import ContainerRecord
from setpiece.hosts.blender.host import BlenderHost
from setpiece.hosts.protocol import SceneLoad

bpy.ops.wm.read_factory_settings(use_empty=True)
record = ContainerRecord(prim_path="/World/Box", asset="Box", version="1.0.0",
                         identifier="box/asset.usda", layer=sys.argv[2])
BlenderHost().load(SceneLoad(sys.argv[1], (record,)))
meshes = [o for o in bpy.data.objects if o.type == "MESH"]
centre = [round(sum(v) / 8, 3) for v in zip(*[(o.matrix_world @ __import__("mathutils").Vector(c))[:] for o in meshes for c in o.bound_box])]
sys.stdout.write("RESULT" + json.dumps({"n": len(meshes), "centre": centre,
                                         "size": [round(d, 3) for d in meshes[0].dimensions]}))
"""


@pytest.mark.parametrize("own_z", [0, 100])
def test_layout_places_the_box_once_in_metres(tmp_path: Path, own_z: int) -> None:
    asset = tmp_path / "box" / "asset.usda"
    asset.parent.mkdir()
    asset.write_text(ASSET.format(own_z=own_z))
    scene = tmp_path / "scene.usda"
    scene.write_text(SCENE.format(asset=asset))
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(PROBE), str(scene), str(asset)],
        capture_output=True, text=True, timeout=300,
    )
    assert "RESULT" in proc.stdout, proc.stderr[-2000:]
    out = json.loads(proc.stdout.split("RESULT", 1)[1])
    assert out["n"] == 1
    assert out["size"] == [1.0, 1.0, 1.0]  # a 100 cm cube is 1 m in Blender
    # the layout's (200, 0, 0) cm replaces the asset's own move: 2 m along X, standing on
    # the ground (centre 0.5 m up in Blender's Z-up), whatever the asset's own z was
    assert out["centre"] == [2.0, 0.0, 0.5]
