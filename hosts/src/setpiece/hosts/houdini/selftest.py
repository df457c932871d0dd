"""``hython -m setpiece.hosts.houdini.selftest [--root-layer SCENE.usda] [--workdir DIR]``

Runs inside the real Houdini (``hython``, or the Python Shell:
``from setpiece.hosts.houdini import selftest; selftest.main([])``): builds the sample
set (or loads the root layer you give) as reference LOPs in /stage, reads the containers
back from their spare parameters, updates one to another version, exports the stage with
a USD ROP, saves the .hip, reopens it, removes one container, and prints a PASS/FAIL line
per step. Exit status 0 only when every step passed.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from setpiece.hosts._dcc_common import SelftestReport, TransformProbe, run_selftest, selftest_argv
from setpiece.hosts.houdini.adapter import HoudiniHost
from setpiece.hosts.protocol import Container


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
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = selftest_argv(argv, "houdini")
    return run(root_layer=args["root_layer"], workdir=args["workdir"]).exit_code


if __name__ == "__main__":
    sys.exit(main())
