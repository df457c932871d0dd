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
from typing import Any

from setpiece.hosts._dcc_common import SelftestReport, TransformProbe, run_selftest, selftest_argv
from setpiece.hosts.blender.host import BlenderHost
from setpiece.hosts.protocol import Container


def _probe(host: BlenderHost) -> TransformProbe:
    def set_(container: Container) -> None:
        host.container_empty(container).location = (1.0, 2.0, 3.0)

    def get(container: Container) -> Any:
        host.bpy.context.view_layer.update()
        return tuple(round(float(v), 6) for v in host.container_empty(container).location)

    return TransformProbe(set=set_, get=get)


def run(
    host: BlenderHost | None = None, *, root_layer: str | None = None, workdir: str | None = None
) -> SelftestReport:
    host = host or BlenderHost()
    return run_selftest(host, root_layer=root_layer, workdir=workdir, transform=_probe(host))


def main(argv: Sequence[str] | None = None) -> int:
    args = selftest_argv(argv, "blender")
    return run(root_layer=args["root_layer"], workdir=args["workdir"]).exit_code


if __name__ == "__main__":
    sys.exit(main())
