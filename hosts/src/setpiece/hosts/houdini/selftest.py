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

from setpiece.hosts._dcc_common import SelftestReport, run_selftest, selftest_argv
from setpiece.hosts.houdini.adapter import HoudiniHost


def run(
    host: HoudiniHost | None = None,
    *,
    root_layer: str | None = None,
    workdir: str | None = None,
) -> SelftestReport:
    """The selftest against ``host`` (a fresh ``HoudiniHost`` by default)."""
    return run_selftest(host or HoudiniHost(), root_layer=root_layer, workdir=workdir)


def main(argv: Sequence[str] | None = None) -> int:
    args = selftest_argv(argv, "houdini")
    return run(root_layer=args["root_layer"], workdir=args["workdir"]).exit_code


if __name__ == "__main__":
    sys.exit(main())
