"""Nuke selftest: ``nuke -t <this file> [--root-layer SCENE.usda] [--workdir DIR]``
(or, with Nuke's own Python: ``python -m setpiece.hosts.nuke.selftest``).

Runs inside the real Nuke: builds the sample set (or loads the root layer you give) as
GeoImport nodes (ReadGeo2 in the classic 3D system), reads the containers back from
their knobs, updates one to another version (its node and connections must stay),
exports with GeoExport, saves the .nk, reopens it, removes one container, and prints a
PASS/FAIL line per step. Exit status 0 only when every step passed.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from setpiece.hosts._dcc_common import SelftestReport, TransformProbe, run_selftest, selftest_argv
from setpiece.hosts.nuke._nuke_api import import_nuke
from setpiece.hosts.nuke.adapter import NukeHost
from setpiece.hosts.protocol import Container


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


def run(
    host: NukeHost | None = None,
    *,
    root_layer: str | None = None,
    workdir: str | None = None,
) -> SelftestReport:
    """The selftest against ``host`` (a fresh ``NukeHost`` by default)."""
    return run_selftest(
        host or NukeHost(),
        root_layer=root_layer,
        workdir=workdir,
        transform=TransformProbe(set=_no_op, get=_wiring, label="node and wiring kept"),
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = selftest_argv(argv, "nuke")
    return run(root_layer=args["root_layer"], workdir=args["workdir"]).exit_code


if __name__ == "__main__":
    sys.exit(main())
