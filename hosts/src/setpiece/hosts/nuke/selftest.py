"""Nuke selftest: ``nuke -t <this file> [--root-layer SCENE.usda] [--workdir DIR]``
(or, with Nuke's own Python: ``python -m setpiece.hosts.nuke.selftest``).

Runs inside the real Nuke: builds the sample set (or loads the root layer you give) as
GeoReference nodes (ReadGeo2 in the classic 3D system), reads the containers back from
their knobs, updates one to another version (its node and connections must stay),
exports with GeoExport, checks what differs across Nuke versions (each container at its
own prim path; the sample layout applied by a GeoTransform per placed container, whose
Mask knob is ``mask_patterns`` in Nuke 17 and unverified before (``mask`` is tried), read back from what
GeoExport writes; GeoExport writing USD, not Nuke 17's default Alembic), saves the .nk,
reopens it, removes one container, and prints a PASS/FAIL line per step. Exit status 0
only when every step passed.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from setpiece.hosts.nuke._nuke_api import import_nuke
from setpiece.hosts.nuke.adapter import NukeHost
from setpiece.hosts.protocol import Container
from setpiece.hosts.selftest import SelftestReport, TransformProbe, run_selftest, selftest_argv
from setpiece.hosts.tool_check import tool_folders_step


def _wiring(container: Container) -> Any:
    """A transform in Nuke is a node wired after the container: an update must keep the
    container node and its connections."""
    nuke = import_nuke()
    node = nuke.toNode(container.node)
    assert node is not None, f"{container.node} is gone"
    upstream = node.input(0) if node.inputs() else None
    return (
        node.fullName(),
        upstream.fullName() if upstream is not None else None,
        tuple(sorted(d.fullName() for d in node.dependent(nuke.INPUTS, forceEvaluate=False))),
    )


def _no_op(container: Container) -> None:
    return None


def _prim_paths(loaded: Sequence[Container], work: Path) -> str:
    nuke = import_nuke()
    found = []
    for container in loaded:
        node = nuke.toNode(container.node)
        assert node is not None, f"{container.node} is gone"
        knob = node.knob("prim_path")
        if knob is None:  # classic 3D (ReadGeo2): no prim paths
            return f"{node.Class()}: no prim paths in the classic 3D system"
        assert knob.value() == container.record.prim_path, (
            f"{node.name()}.prim_path is {knob.value()!r}, expected {container.record.prim_path!r}"
        )
        found.append(f"{node.name()} at {knob.value()}")
    return ", ".join(found)


def _export_is_usd(host: NukeHost) -> Any:
    def check(loaded: Sequence[Container], work: Path) -> str:
        if host.reader_class() != "GeoReference":
            return "classic 3D: no GeoExport"
        out = Path(host.export_usd(str(work / "export_check.usda")))
        head = out.read_bytes()[:8]
        assert head.startswith(b"#usda"), f"{out} starts {head!r}: not a USD text layer"
        return f"{out.name} is USD"

    return check


def _placement(host: NukeHost, work: Path) -> Any:
    """Where each container's prim lands in what GeoExport writes of the node chain (Nuke
    gives Python no documented composed stage): the real GeoTransform's mask, rotation order
    and Prim Transform Order decide it. Exported once per selftest run."""
    exported: dict[str, Any] = {}

    def where(container: Container) -> tuple[float, float, float]:
        from pxr import Usd, UsdGeom

        if "stage" not in exported:
            out = host.export_usd(str(work / "layout_check.usda"))
            exported["stage"] = Usd.Stage.Open(out, Usd.Stage.LoadNone)
        prim = exported["stage"].GetPrimAtPath(container.record.prim_path)
        assert prim, f"{container.record.prim_path} is not in what GeoExport wrote"
        m = UsdGeom.Xformable(prim).ComputeLocalToWorldTransform(Usd.TimeCode.EarliestTime())
        return (float(m[3][0]), float(m[3][1]), float(m[3][2]))

    return where


def _mask_knob(loaded: Sequence[Container], work: Path) -> str:
    from setpiece.hosts.nuke.adapter import LAYOUT_NODE, LAYOUT_OF, MASK_KNOBS

    nuke = import_nuke()
    placed = [n for n in nuke.allNodes(LAYOUT_NODE) if n.knob(LAYOUT_OF) is not None]
    if not placed:
        return "no container needed placing"
    names = [k for k in MASK_KNOBS if placed[0].knob(k) is not None]
    assert names, f"{placed[0].name()} has none of the Mask knobs {MASK_KNOBS}"
    return f"{placed[0].name()}: Mask knob '{names[0]}' = {placed[0][names[0]].value()!r}"


def _plugin_path() -> list[str]:
    """Where Nuke looks for gizmos and plug-ins (``nuke.pluginPath()``: NUKE_PATH's folders
    in place of ~/.nuke, its own plugins folder last; Foundry's Python reference)."""
    return list(import_nuke().pluginPath())


def run(
    host: NukeHost | None = None,
    *,
    root_layer: str | None = None,
    workdir: str | None = None,
) -> SelftestReport:
    """The selftest against ``host`` (a fresh ``NukeHost`` by default)."""
    host = host or NukeHost()
    import tempfile

    work = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="setpiece-selftest-nuke-"))
    classic = host.reader_class() != "GeoReference"
    return run_selftest(
        host,
        root_layer=root_layer,
        workdir=str(work),
        transform=TransformProbe(set=_no_op, get=_wiring, label="node and wiring kept"),
        placement=None if classic else _placement(host, work),
        extra_steps=[("containers at their prim paths", _prim_paths),
                     ("GeoTransform Mask knob", _mask_knob),
                     ("GeoExport writes USD", _export_is_usd(host)),
                     tool_folders_step("nuke", "NUKE_PATH", _plugin_path)],
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = selftest_argv(argv, "nuke")
    return run(root_layer=args["root_layer"], workdir=args["workdir"]).exit_code


if __name__ == "__main__":
    sys.exit(main())
