"""``python -m setpiece.hosts.blender.selftest`` (with bpy) or, in Blender,
``blender -b --python-exit-code 1 --python-expr "import sys; from setpiece.hosts.blender import selftest; sys.exit(selftest.main([]))"``.

Builds the sample set (or loads ``--root-layer``), loads it with ``usd_import``, reads the
containers back, moves one container's empty and updates it to another version (the move
must survive), exports with ``usd_export``, saves, reopens, removes one; prints PASS/FAIL
per step; exit status 0 only when every step passed. ``setpiece selftest blender`` runs it.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from setpiece.hosts.blender.host import BlenderHost
from setpiece.hosts.protocol import Container
from setpiece.hosts.selftest import SelftestReport, TransformProbe, run_selftest, selftest_argv


def _probe(host: BlenderHost) -> TransformProbe:
    def set_(container: Container) -> None:
        host.container_empty(container).location = (1.0, 2.0, 3.0)

    def get(container: Container) -> Any:
        host.bpy.context.view_layer.update()
        return tuple(round(float(v), 6) for v in host.container_empty(container).location)

    return TransformProbe(set=set_, get=get)


def _operators(host: BlenderHost) -> Any:
    def check(loaded: Sequence[Container], work: Path) -> str:
        """What this Blender's USD operators take (4.2/4.3 lack merge_parent_xform,
        apply_unit_conversion_scale and convert_scene_units: setpiece works around them)."""
        from setpiece.hosts.blender.usd_io import OPTIONAL_PROPERTIES, operator_properties

        have = []
        for op, prop in OPTIONAL_PROPERTIES:
            if prop in operator_properties(host.bpy, op):
                have.append(f"{op}.{prop}")
        return f"Blender {host.app_version()}: " + (", ".join(have) or "none of the 4.4+ options")

    return check


def _units(host: BlenderHost) -> Any:
    def check(loaded: Sequence[Container], work: Path) -> str:
        """A 1 m cube exported for a centimetre, Y-up workspace: metersPerUnit 0.01 and
        100 units wide, whichever way this Blender gets there."""
        bpy = host.bpy
        mesh = bpy.data.meshes.new("setpiece_selftest_cube")
        half = 0.5
        verts = [(x, y, z) for x in (-half, half) for y in (-half, half) for z in (-half, half)]
        mesh.from_pydata(verts, [], [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6),
                                     (0, 2, 6, 4), (1, 5, 7, 3)])
        obj = bpy.data.objects.new("setpiece_selftest_cube", mesh)
        bpy.context.scene.collection.objects.link(obj)
        try:
            for other in bpy.context.view_layer.objects:
                other.select_set(other is obj)
            out = host.export_usd(str(work / "units.usda"), selection=True, up_axis="Y",
                                  meters_per_unit=0.01)
        finally:
            bpy.data.objects.remove(obj)
            bpy.data.meshes.remove(mesh)
        try:
            from pxr import Usd, UsdGeom
        except ImportError:
            return f"{out} written (no pxr here to measure it)"
        stage = Usd.Stage.Open(out)
        mpu = UsdGeom.GetStageMetersPerUnit(stage)
        box = UsdGeom.Imageable(stage.GetDefaultPrim()).ComputeWorldBound(
            Usd.TimeCode.Default(), "default").ComputeAlignedRange()
        width = round(float(box.GetMax()[0] - box.GetMin()[0]), 3)
        assert mpu == 0.01 and width == 100.0, f"metersPerUnit {mpu}, width {width} units"
        return "metersPerUnit 0.01, a 1 m cube 100 units wide"

    return check


def run(
    host: BlenderHost | None = None, *, root_layer: str | None = None, workdir: str | None = None
) -> SelftestReport:
    host = host or BlenderHost()
    return run_selftest(
        host, root_layer=root_layer, workdir=workdir, transform=_probe(host),
        extra_steps=[("USD operators (per Blender version)", _operators(host)),
                     ("export units (per Blender version)", _units(host))],
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = selftest_argv(argv, "blender")
    return run(root_layer=args["root_layer"], workdir=args["workdir"]).exit_code


if __name__ == "__main__":
    sys.exit(main())
