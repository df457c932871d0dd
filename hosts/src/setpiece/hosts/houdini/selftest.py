"""``hython -m setpiece.hosts.houdini.selftest [--root-layer SCENE.usda] [--workdir DIR]``

Runs inside the real Houdini (``hython``, or the Python Shell:
``from setpiece.hosts.houdini import selftest; selftest.main([])``): builds the sample
set (or loads the root layer you give) as reference LOPs in /stage, checks that the
sample layout arrived on the cooked stage, reads the containers back from their spare
parameters, updates one to another version, exports the stage with
a USD ROP, checks what differs across Houdini versions (Reference LOP 2.0's file entry
``primpath1``, not ``primpath``, holds each container's prim path), saves the .hip, reopens it, removes one container, and prints a PASS/FAIL line
per step. Exit status 0 only when every step passed.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from setpiece.hosts.houdini.adapter import HoudiniHost
from setpiece.hosts.protocol import Container
from setpiece.hosts.selftest import SelftestReport, TransformProbe, run_selftest, selftest_argv
from setpiece.hosts.tool_check import tool_folders_step

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


def _reference_entries(loaded: Sequence[Container], work: Any) -> str:
    """What differs across Houdini versions in the reference LOP: Reference LOP 2.0 (19.5+)
    keeps each file's prim path in its file entry (``num_files``, ``filepath#``,
    ``primpath#``, ``reftype#``), not in ``primpath`` (the multi-input's): each container's
    entry must hold its layer and prim path, and its prim must be on the cooked stage there."""
    import hou

    found = []
    for container in loaded:
        node = cast("hou.LopNode | None", hou.node(container.node))
        assert node is not None, f"{container.node} is gone"
        values = {}
        for name in ("num_files", "filepath1", "primpath1", "reftype1"):
            parm = node.parm(name)
            assert parm is not None, (
                f"{node.path()} ({node.type().name()}) has no {name!r}: not Reference LOP 2.0")
            values[name] = parm.evalAsString()
        assert values["num_files"] == "1", f"{node.path()}: num_files is {values['num_files']}"
        assert values["primpath1"] == container.record.prim_path, (
            f"{node.path()}.primpath1 is {values['primpath1']!r}, expected "
            f"{container.record.prim_path!r}")
        assert values["reftype1"] == "file", f"{node.path()}.reftype1 is {values['reftype1']!r}"
        node.cook(force=True)
        stage = node.stage()
        assert stage.GetPrimAtPath(container.record.prim_path), (
            f"{container.record.prim_path} is not on {node.path()}'s stage")
        found.append(f"{node.name()}: primpath1 {values['primpath1']}")
    return f"Houdini {hou.applicationVersionString()}: " + ", ".join(found)


def _otl_scan_path() -> list[str]:
    """The folders Houdini scans for digital assets, ``&`` and ``@`` expanded
    (``hou.houdiniPath("HOUDINI_OTLSCAN_PATH")``)."""
    import hou

    return list(hou.houdiniPath("HOUDINI_OTLSCAN_PATH"))


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
        extra_steps=[("Reference LOP 2.0 file entries (per Houdini version)",
                      _reference_entries),
                     tool_folders_step("houdini", "HOUDINI_OTLSCAN_PATH", _otl_scan_path)],
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = selftest_argv(argv, "houdini")
    return run(root_layer=args["root_layer"], workdir=args["workdir"]).exit_code


if __name__ == "__main__":
    sys.exit(main())
