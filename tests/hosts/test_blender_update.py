"""Blender: updating a container swaps its content only once the new version imported.

A failed import (a broken layer) keeps the old content and the old metadata: the
container never says 2.0.0 while showing nothing.
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
    metersPerUnit = 1
    upAxis = "Z"
)

def Xform "Box" (
    assetInfo = {{
        string name = "Box"
        string version = "{version}"
    }}
)
{{
    def Cube "geo"
    {{
        double size = {size}
    }}
}}
"""

SCENE = """#usda 1.0
(
    defaultPrim = "World"
    metersPerUnit = 1
    upAxis = "Z"
)

def Xform "World"
{{
    def Xform "Box" (
        prepend references = @{asset}@
    )
    {{
    }}
}}
"""

PROBE = """
import json, sys
import bpy
from dataclasses import replace
from setpiece.core.containers import ContainerRecord
from setpiece.core.errors import SetpieceError
from setpiece.hosts.blender.host import BlenderHost
from setpiece.hosts.protocol import SceneLoad

scene, v1, broken, v2 = sys.argv[1:5]
bpy.ops.wm.read_factory_settings(use_empty=True)
host = BlenderHost()
record = ContainerRecord(prim_path="/World/Box", asset="Box", version="1.0.0",
                         identifier="box/asset.usda", layer=v1)
(container,) = host.load(SceneLoad(scene, (record,)))
empty = host.container_empty(container)
empty.location = (3.0, 0.0, 0.0)  # the artist moved it

def state():
    (c,) = host.ls()
    coll = host.collection(c)
    meshes = sorted(o.name for o in coll.all_objects if o.type == "MESH")
    return {
        "version": c.version,
        "layer": c.record.layer,
        "meshes": meshes,
        "parents": sorted({o.parent.name for o in coll.all_objects if o.type == "MESH"}),
        "size": [round(d, 3) for o in coll.all_objects if o.type == "MESH" for d in o.dimensions],
        "collections": sorted(x.name for x in bpy.data.collections),
        "empty": [round(x, 3) for x in host.container_empty(c).location],
    }

out = {"before": state()}
try:
    host.update(container, replace(record, version="2.0.0", layer=broken))
    out["error"] = None
except SetpieceError as exc:
    out["error"] = str(exc)
out["after_failure"] = state()
host.update(host.ls()[0], replace(record, version="2.0.0", layer=v2))
out["after_update"] = state()
sys.stdout.write("RESULT" + json.dumps(out))
"""


def test_failed_update_keeps_old_content_and_version(tmp_path: Path) -> None:
    v1 = tmp_path / "v1" / "box" / "asset.usda"
    v2 = tmp_path / "v2" / "box" / "asset.usda"
    for path, version, size in ((v1, "1.0.0", 1), (v2, "2.0.0", 2)):
        path.parent.mkdir(parents=True)
        path.write_text(ASSET.format(version=version, size=size))
    broken = tmp_path / "broken" / "box" / "asset.usda"
    broken.parent.mkdir(parents=True)
    broken.write_text("#usda 1.0\n(\n this is not USD {{{\n")
    scene = tmp_path / "scene.usda"
    scene.write_text(SCENE.format(asset=v1))
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(PROBE), str(scene), str(v1), str(broken), str(v2)],
        capture_output=True, text=True, timeout=300,
    )
    assert "RESULT" in proc.stdout, proc.stderr[-2000:]
    out = json.loads(proc.stdout.split("RESULT", 1)[1])
    before = out["before"]
    assert before["version"] == "1.0.0" and before["meshes"] == ["geo"]

    # the broken layer: one-line error naming the asset, the old content and label kept
    error = out["error"]
    assert error and "\n" not in error and "Box 2.0.0" in error
    assert out["after_failure"] == before

    # a good layer: new content, same names, under the artist's moved empty
    after = out["after_update"]
    assert after["version"] == "2.0.0" and after["layer"].endswith("v2/box/asset.usda")
    assert after["meshes"] == ["geo"] and after["parents"] == before["parents"]
    assert after["size"] == [2.0, 2.0, 2.0]
    assert after["empty"] == [3.0, 0.0, 0.0]
    assert after["collections"] == before["collections"]  # no staging collection left over
