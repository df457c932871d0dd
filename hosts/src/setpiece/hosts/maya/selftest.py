"""``mayapy -m setpiece.hosts.maya.selftest [--root-layer SCENE.usda] [--workdir DIR]``

Runs inside the real Maya (``mayapy``, or the Script Editor:
``from setpiece.hosts.maya import selftest; selftest.main([])``): builds the sample set
(or loads the root layer you give), loads it with mayaUsd proxy shapes, reads the
containers back, checks that the sample layout arrived, moves one container and updates it to another version (the move must
survive), exports with ``mayaUSDExport`` (checking what differs per mayaUsd version: one
root prim as the default prim; metres and the other up axis, by ``-unit``/``-upAxis`` from
0.31 or converted after export before), saves, reopens, removes one, and prints a
PASS/FAIL line per step. Exit status 0 only when every step passed.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from setpiece.hosts.maya.adapter import MayaHost
from setpiece.hosts.protocol import Container
from setpiece.hosts.selftest import SelftestReport, TransformProbe, run_selftest, selftest_argv
from setpiece.hosts.tool_check import tool_folders_step


def _set_transform(container: Container) -> None:
    from maya import cmds

    cmds.xform(container.node, translation=(1.0, 2.0, 3.0), objectSpace=True)


def _get_transform(container: Container) -> Any:
    from maya import cmds

    value = cmds.xform(container.node, query=True, translation=True, objectSpace=True)
    return tuple(round(float(v), 6) for v in value) if isinstance(value, (list, tuple)) else value


def _placement(container: Container) -> tuple[float, float, float]:
    """Where the container transform is, in metres, Y up (converted from Maya's units)."""
    from maya import cmds

    from setpiece.hosts.maya.adapter import _LINEAR_METERS

    value = cmds.xform(container.node, query=True, translation=True, worldSpace=True)
    assert isinstance(value, (list, tuple)), f"xform returned {value!r}"
    k = _LINEAR_METERS[str(cmds.currentUnit(query=True, linear=True))]
    x, y, z = (float(v) * k for v in value)
    if str(cmds.upAxis(query=True, axis=True)).lower() == "z":
        return (x, z, -y)
    return (x, y, z)


def _no_shared_stage(loaded: Sequence[Container], work: Path) -> str:
    """Proxies never share their stage (so never save into the installed layer)."""
    from maya import cmds

    for container in loaded:
        for shape in cmds.listRelatives(container.node, shapes=True, fullPath=True) or []:
            assert not cmds.getAttr(f"{shape}.shareStage"), f"{shape}.shareStage is on"
    return f"shareStage off on {len(loaded)} proxies"


def _export_root_prim(host: MayaHost) -> Any:
    def check(loaded: Sequence[Container], work: Path) -> str:
        """This mayaUsd's export flags: one root prim, the default prim, in centimetres."""
        from maya import cmds
        from pxr import Sdf

        made = cmds.polyCube(name="setpiece_selftest_cube")
        assert isinstance(made, list) and made, f"polyCube returned {made!r}"
        cube = str(made[0])
        try:
            cmds.select(cube, replace=True)
            out = str(work / "root_prim.usda")
            host.export_usd(out, selection=True, root_prim="selftest", up_axis=str(
                cmds.upAxis(query=True, axis=True)).upper(), meters_per_unit=0.01)
            layer = Sdf.Layer.FindOrOpen(out)
            roots = [p.name for p in layer.rootPrims]
            assert layer.defaultPrim == "selftest" and roots == ["selftest"], (
                f"default prim {layer.defaultPrim!r}, root prims {roots}"
            )
            mpu = layer.pseudoRoot.GetInfo("metersPerUnit")
            assert abs(float(mpu) - 0.01) < 1e-9, f"metersPerUnit {mpu}"
        finally:
            cmds.delete(cube)
        version = ".".join(str(x) for x in host.mayausd_version())
        return f"mayaUsd {version}: root prim and default prim 'selftest', metersPerUnit 0.01"

    return check


def _export_units(host: MayaHost) -> Any:
    def check(loaded: Sequence[Container], work: Path) -> str:
        """A metre, other-up-axis export: ``-unit``/``-upAxis`` from mayaUsd 0.31, else
        setpiece's conversion after export; the cube must come out as wide in metres."""
        from maya import cmds
        from pxr import Usd, UsdGeom

        from setpiece.hosts.maya.adapter import _LINEAR_METERS

        k = _LINEAR_METERS[str(cmds.currentUnit(query=True, linear=True))]
        maya_up = str(cmds.upAxis(query=True, axis=True)).upper()
        other = "Z" if maya_up == "Y" else "Y"
        made = cmds.polyCube(name="setpiece_selftest_units", width=1.0)  # 1 x 1 x 1
        assert isinstance(made, list) and made, f"polyCube returned {made!r}"
        cube = str(made[0])
        try:
            cmds.select(cube, replace=True)
            out = str(work / "units.usda")
            host.export_usd(out, selection=True, root_prim="units", up_axis=other,
                            meters_per_unit=1.0)
            stage = Usd.Stage.Open(out)
            assert UsdGeom.GetStageMetersPerUnit(stage) == 1.0, "metersPerUnit is not 1"
            assert str(UsdGeom.GetStageUpAxis(stage)) == other, f"upAxis is not {other}"
            cache = UsdGeom.BBoxCache(Usd.TimeCode.Default(), ["default", "render"])
            size = cache.ComputeWorldBound(stage.GetPrimAtPath("/units")).ComputeAlignedRange().GetSize()
            assert all(abs(float(v) - k) < 1e-6 for v in size), f"the cube is {tuple(size)} m, not {k} m"
        finally:
            cmds.delete(cube)
        how = "-unit/-upAxis" if host.mayausd_version() >= (0, 31) else "converted after export"
        return f"1 m per unit, {other} up ({how}): the cube is {k:g} m wide"

    return check


def _plug_in_path() -> list[str]:
    """Where Maya looks for plug-ins: ``MAYA_PLUG_IN_PATH`` as the running Maya has it
    (Maya reads it from its environment and adds its own folders to it at start-up)."""
    import os

    return os.environ.get("MAYA_PLUG_IN_PATH", "").split(os.pathsep)

def run(
    host: MayaHost | None = None,
    *,
    root_layer: str | None = None,
    workdir: str | None = None,
) -> SelftestReport:
    """The selftest against ``host`` (a fresh ``MayaHost`` by default)."""
    host = host or MayaHost()
    return run_selftest(
        host,
        root_layer=root_layer,
        workdir=workdir,
        transform=TransformProbe(set=_set_transform, get=_get_transform),
        placement=_placement,
        extra_steps=[("proxies do not share their stage", _no_shared_stage),
                     ("export root prim (per mayaUsd version)", _export_root_prim(host)),
                     ("export units and up axis (per mayaUsd version)", _export_units(host)),
                     tool_folders_step("maya", "MAYA_PLUG_IN_PATH", _plug_in_path)],
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = selftest_argv(argv, "maya")
    from setpiece.hosts.maya import initialize_standalone

    initialize_standalone()
    return run(root_layer=args["root_layer"], workdir=args["workdir"]).exit_code


if __name__ == "__main__":
    sys.exit(main())
