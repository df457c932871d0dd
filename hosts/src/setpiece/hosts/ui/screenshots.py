"""Pictures of every artist tool, made from a real workspace: ``python -m
setpiece.hosts.ui.screenshots OUTDIR``.

It builds ``setpiece demo`` (sample assets published to the review and blessed repos,
``KitchenSet[build]`` installed) in a temporary folder, opens it in Blender (bpy, as a
Python module) and drives each window offscreen (``QT_QPA_PLATFORM=offscreen``) as an
artist would, then saves ``QWidget.grab()`` of each window as a PNG in OUTDIR:

* ``inventory.png``: the KitchenSet scene, Table installed older than the scene (outdated),
  Lamp pinned with a newer version published (held);
* ``loader.png``: KitchenSet 1.0.0 chosen, its versions and dependencies;
* ``workfiles.png``: two work files of a new output asset, Stool;
* ``publisher.png``: Stool published from its work file with a comment, the report.

These are the pictures in docs/artist-tools.md (regenerated, never drawn by hand).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

WIDTH = 900  # pixels: every picture is scaled to this width (small PNGs)


def _save(window: Any, out: Path) -> Path:
    from Qt import QtWidgets

    window.show()
    for _ in range(5):
        QtWidgets.QApplication.processEvents()
    pixmap = window.grab()
    if pixmap.width() > WIDTH:
        pixmap = pixmap.scaledToWidth(WIDTH, _smooth())
    out.parent.mkdir(parents=True, exist_ok=True)
    if not pixmap.save(str(out), "PNG"):
        raise RuntimeError(f"could not write {out}")
    _dispose(window)
    return out


def _dispose(window: Any) -> None:
    """Close and delete the window now (left to Python's exit, Qt and bpy tear down in an
    order that aborts the process)."""
    from Qt import QtCore, QtWidgets

    from setpiece.hosts.ui.qtutil import enum

    window.close()
    window.deleteLater()
    QtWidgets.QApplication.sendPostedEvents(None, enum(QtCore.QEvent, "Type", "DeferredDelete"))


def _smooth() -> Any:
    from Qt import QtCore

    from setpiece.hosts.ui.qtutil import enum

    return enum(QtCore.Qt, "TransformationMode", "SmoothTransformation")


def make(outdir: Path, work: Path) -> list[Path]:
    """Make the demo in ``work`` and the pictures in ``outdir``; returns the PNGs."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import bpy

    from setpiece.core.demo import run_demo
    from setpiece.core.workspace import Workspace
    from setpiece.hosts import workfiles
    from setpiece.hosts.blender import BlenderHost
    from setpiece.hosts.runtime import Runtime
    from setpiece.hosts.ui.inventory import InventoryWindow
    from setpiece.hosts.ui.loader import LoaderWindow
    from setpiece.hosts.ui.publisher import PublisherWindow
    from setpiece.hosts.ui.qtutil import ensure_app
    from setpiece.hosts.ui.workfiles import WorkfilesWindow

    summary = run_demo(work / "demo", lambda _line: None)
    ws = Workspace(summary["workspace"])
    ensure_app()
    bpy.ops.wm.read_factory_settings(use_empty=True)
    host = BlenderHost()
    runtime = Runtime(host, ws)
    made: list[Path] = []

    # the inventory: the kitchen built, then Table 1.2.3 installed under the scene's 1.3.0
    runtime.build("KitchenSet")
    ws.install(["Table==1.2.3"], record=False)
    window = InventoryWindow(runtime)
    window.resize(1100, 330)
    window.wait_for_versions(60)
    window.select_nodes([r.node for r in window.rows if r.asset == "Table"])
    made.append(_save(window, outdir / "inventory.png"))

    window = LoaderWindow(runtime)
    window.resize(1100, 520)
    window.choose("KitchenSet", "1.0.0")
    made.append(_save(window, outdir / "loader.png"))

    # an output asset and two work files of it
    bpy.ops.wm.read_factory_settings(use_empty=True)
    ws.create("Stool", kind="prop", description="A bar stool")
    bpy.ops.mesh.primitive_cylinder_add(radius=0.3, depth=0.06, location=(0, 0, 0.75))
    bpy.context.active_object.name = "Seat"
    workfiles.save(runtime, "Stool", "blocking: the seat")
    for i, (x, y) in enumerate(((0.2, 0.2), (-0.2, 0.2), (0.2, -0.2), (-0.2, -0.2))):
        bpy.ops.mesh.primitive_cylinder_add(radius=0.02, depth=0.72, location=(x, y, 0.36))
        bpy.context.active_object.name = f"Leg{i + 1}"
    workfiles.save(runtime, "Stool", "four legs")
    window = WorkfilesWindow(runtime)
    window.resize(900, 420)
    made.append(_save(window, outdir / "workfiles.png"))

    window = PublisherWindow(runtime)
    window.resize(1000, 600)
    window.comment.setPlainText("first stool: seat and four legs")
    window.publish_button.click()
    window.steps.setCurrentItem(window.steps.topLevelItem(window.steps.topLevelItemCount() - 1))
    made.append(_save(window, outdir / "publisher.png"))
    bpy.ops.wm.read_factory_settings(use_empty=True)
    return made


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0].startswith("-"):
        print("usage: python -m setpiece.hosts.ui.screenshots OUTDIR", file=sys.stderr)
        return 2
    outdir = Path(args[0]).resolve()
    with tempfile.TemporaryDirectory(prefix="setpiece-shots-") as tmp:
        for path in make(outdir, Path(tmp)):
            print(f"{path}  ({path.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
