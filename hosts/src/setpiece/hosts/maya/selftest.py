"""``mayapy -m setpiece.hosts.maya.selftest [--root-layer SCENE.usda] [--workdir DIR]``

Runs inside the real Maya (``mayapy``, or the Script Editor:
``from setpiece.hosts.maya import selftest; selftest.main([])``): builds the sample set
(or loads the root layer you give), loads it with mayaUsd proxy shapes, reads the
containers back, checks that the sample layout arrived, moves one container and updates it to another version (the move must
survive), exports with ``mayaUSDExport``, saves, reopens, removes one, and prints a
PASS/FAIL line per step. Exit status 0 only when every step passed.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from setpiece.hosts._dcc_common import SelftestReport, TransformProbe, run_selftest, selftest_argv
from setpiece.hosts.maya.adapter import MayaHost
from setpiece.hosts.protocol import Container


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


def run(
    host: MayaHost | None = None,
    *,
    root_layer: str | None = None,
    workdir: str | None = None,
) -> SelftestReport:
    """The selftest against ``host`` (a fresh ``MayaHost`` by default)."""
    return run_selftest(
        host or MayaHost(),
        root_layer=root_layer,
        workdir=workdir,
        transform=TransformProbe(set=_set_transform, get=_get_transform),
        placement=_placement,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = selftest_argv(argv, "maya")
    from setpiece.hosts.maya import initialize_standalone

    initialize_standalone()
    return run(root_layer=args["root_layer"], workdir=args["workdir"]).exit_code


if __name__ == "__main__":
    sys.exit(main())
