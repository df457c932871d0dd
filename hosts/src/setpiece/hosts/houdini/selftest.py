"""``hython -m setpiece.hosts.houdini.selftest [--root-layer SCENE.usda] [--workdir DIR]``

Runs inside the real Houdini (``hython``, or the Python Shell:
``from setpiece.hosts.houdini import selftest; selftest.main([])``): builds the sample
set (or loads the root layer you give) as reference LOPs in /stage, checks that the
sample layout arrived on the cooked stage, reads the containers back from their spare
parameters, updates one to another version, exports the stage with
a USD ROP, saves the .hip, reopens it, removes one container, and prints a PASS/FAIL line
per step. Exit status 0 only when every step passed.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from setpiece.hosts._dcc_common import SelftestReport, TransformProbe, run_selftest, selftest_argv
from setpiece.hosts.houdini.adapter import HoudiniHost
from setpiece.hosts.protocol import Container

if TYPE_CHECKING:
    import hou


def _wiring(container: Container) -> Any:
    """In Solaris an artist's transform is a LOP wired after the container: an update
    must keep the container's node, its inputs and its outputs."""
    import hou

    node = hou.node(container.node)
    assert node is not None, f"{container.node} is gone"
    return (
        node.path(),
        tuple(i.path() if i is not None else None for i in node.inputs()),
        tuple(o.path() for o in node.outputs()),
    )


def _placement(container: Container) -> tuple[float, float, float]:
    """Where the container's prim is on the stage /stage displays (cooked), in its units."""
    import hou
    from pxr import Usd, UsdGeom

    stage_net = hou.node("/stage")
    assert stage_net is not None, "there is no /stage"
    shown = cast("hou.LopNode | None", cast("hou.LopNetwork", stage_net).displayNode())
    assert shown is not None, "/stage displays no LOP"
    shown.cook(force=True)  # hython cooks nothing by itself
    stage = shown.stage()
    prim = stage.GetPrimAtPath(container.record.prim_path)
    assert prim, f"{container.record.prim_path} is not on the stage /stage displays"
    m = UsdGeom.Xformable(prim).ComputeLocalToWorldTransform(Usd.TimeCode.EarliestTime())
    return (float(m[3][0]), float(m[3][1]), float(m[3][2]))


def _no_op(container: Container) -> None:
    return None


def run(
    host: HoudiniHost | None = None,
    *,
    root_layer: str | None = None,
    workdir: str | None = None,
) -> SelftestReport:
    """The selftest against ``host`` (a fresh ``HoudiniHost`` by default)."""
    return run_selftest(
        host or HoudiniHost(),
        root_layer=root_layer,
        workdir=workdir,
        transform=TransformProbe(set=_no_op, get=_wiring, label="node and wiring kept"),
        placement=_placement,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = selftest_argv(argv, "houdini")
    return run(root_layer=args["root_layer"], workdir=args["workdir"]).exit_code


if __name__ == "__main__":
    sys.exit(main())
