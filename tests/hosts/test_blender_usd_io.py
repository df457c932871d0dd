"""Blender's USD operators on whichever Blender line this Python has (``dev.py lines`` runs
this on bpy 4.2, 4.5, 5.0 and the newest 5.x): true sizes both ways, and a one-line error
instead of a ``TypeError`` traceback. Each case runs in a fresh Python (bpy is global)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("bpy", reason="bpy (Blender as a Python module) is not installed")
pytestmark = pytest.mark.bpy


def run_bpy(script: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True,
        timeout=300,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT:")]
    assert proc.returncode == 0 and lines, proc.stdout[-2000:] + proc.stderr[-3000:]
    result: dict[str, Any] = json.loads(lines[-1][len("RESULT:"):])
    return result


def test_export_in_centimetres_keeps_true_sizes(tmp_path: Path) -> None:
    """A 1 m cube 2 m along X, exported for a centimetre, Y-up workspace: metersPerUnit is
    exactly 0.01 and the cube measures 100 units, 200 units out (4.2 and 4.3: converted by
    setpiece after the export; 4.4+: by Blender's ``convert_scene_units``)."""
    out = tmp_path / "cube.usda"
    result = run_bpy(f"""
        import json, bpy
        from setpiece.hosts.blender import BlenderHost
        host = BlenderHost()
        host.new_scene()
        bpy.ops.mesh.primitive_cube_add(size=1.0, location=(2.0, 0.0, 0.0))
        host.export_usd({str(out)!r}, up_axis="Y", meters_per_unit=0.01)
        from pxr import Usd, UsdGeom
        stage = Usd.Stage.Open({str(out)!r})
        box = UsdGeom.Imageable(stage.GetPrimAtPath("/root")).ComputeWorldBound(
            Usd.TimeCode.Default(), "default").ComputeAlignedRange()
        print("RESULT:" + json.dumps({{
            "mpu": UsdGeom.GetStageMetersPerUnit(stage),
            "up": UsdGeom.GetStageUpAxis(stage),
            "min": list(box.GetMin()), "max": list(box.GetMax()),
            "blender": bpy.app.version_string,
        }}))
    """)
    assert result["mpu"] == 0.01 and result["up"] == "Y", result
    size = [hi - lo for lo, hi in zip(result["min"], result["max"], strict=True)]
    assert size == pytest.approx([100.0, 100.0, 100.0], abs=1e-3), result
    centre = [(lo + hi) / 2 for lo, hi in zip(result["min"], result["max"], strict=True)]
    assert centre == pytest.approx([200.0, 0.0, 0.0], abs=1e-3), result


def test_import_of_a_centimetre_layer_is_true_size(tmp_path: Path) -> None:
    """A 100 cm cube of a ``metersPerUnit = 0.01``, Y-up layer is 1 m tall, standing up."""
    layer = tmp_path / "box.usda"
    layer.write_text(
        '#usda 1.0\n(\n    defaultPrim = "Box"\n    metersPerUnit = 0.01\n    upAxis = "Y"\n)\n'
        'def Xform "Box" (\n    kind = "component"\n    assetInfo = {\n'
        '        string name = "Box"\n        string version = "1.0.0"\n    }\n)\n'
        '{\n    def Cube "geo"\n    {\n        double size = 100\n'
        '        double3 xformOp:translate = (0, 50, 0)\n'
        '        uniform token[] xformOpOrder = ["xformOp:translate"]\n    }\n}\n',
        encoding="utf-8",
    )
    result = run_bpy(f"""
        import json, bpy
        from setpiece.hosts.blender import BlenderHost
        from setpiece.core.containers import ContainerRecord
        from setpiece.hosts.protocol import SceneLoad
        host = BlenderHost()
        host.new_scene()
        record = ContainerRecord(prim_path="/Box", asset="Box", version="1.0.0", identifier="",
                                 layer={str(layer)!r})
        host.load(SceneLoad({str(layer)!r}, (record,)))
        bpy.context.view_layer.update()
        mesh = [o for o in bpy.data.objects if o.type == "MESH"][0]
        zs = [(mesh.matrix_world @ v.co).z for v in mesh.data.vertices]
        print("RESULT:" + json.dumps({{"size": list(mesh.dimensions), "z": [min(zs), max(zs)]}}))
    """)
    assert result["size"] == pytest.approx([1.0, 1.0, 1.0], abs=1e-4)
    assert result["z"] == pytest.approx([0.0, 1.0], abs=1e-4)


def test_an_operator_failure_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    """A property this Blender lacks, and an operator that fails, are a SetpieceError line."""
    result = run_bpy("""
        import json, bpy
        from setpiece.core.errors import SetpieceError
        from setpiece.hosts.blender import usd_io
        out = {}
        try:
            usd_io.run_operator(bpy, "usd_export", {"filepath": "x.usda", "no_such_option": 1},
                                what="export x.usda", fix="fix it")
        except SetpieceError as exc:
            out["unknown"] = str(exc)
        try:
            usd_io.run_operator(bpy, "usd_export", {"filepath": "x.usda", "xform_op_mode": "NOPE"},
                                what="export x.usda", fix="check the options")
        except SetpieceError as exc:
            out["bad"] = str(exc)
        print("RESULT:" + json.dumps(out))
    """)
    assert "has no no_such_option" in result["unknown"], result
    assert "\n" not in result["unknown"]
    assert "could not export x.usda" in result["bad"] and result["bad"].endswith(
        "check the options"
    ), result
