"""Work files (setpiece.hosts.workfiles and its window), Qt offscreen, in real Blender (bpy
in this process) against a real workspace: save versioned work files with a comment and a
thumbnail, reopen an earlier one, and publish picks up the one that is open."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before anything imports Qt
bpy = pytest.importorskip("bpy", reason="bpy (Blender as a Python module) is not installed")
pytestmark = pytest.mark.bpy
pytest.importorskip("pxr")


@pytest.fixture
def blender(make_workspace: Callable[..., Any],
            monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any, Any]]:
    from setpiece.hosts.blender import BlenderHost
    from setpiece.hosts.runtime import Runtime

    monkeypatch.delenv("SETPIECE_NO_QT", raising=False)
    ws = make_workspace()
    ws.create("Chair", kind="prop")
    ws.create("Table", kind="prop")
    bpy.ops.wm.read_factory_settings(use_empty=True)
    host = BlenderHost()
    yield ws, host, Runtime(host, ws)
    bpy.ops.wm.read_factory_settings(use_empty=True)


def _open(runtime: Any) -> Any:
    """The window itself (bpy as a module is headless: the menu entry prints the list)."""
    from setpiece.hosts.ui.workfiles import WorkfilesWindow

    window = WorkfilesWindow(runtime)
    window.show()
    return window


def _rows(window: Any) -> list[tuple[str, ...]]:
    t = window.table
    return [tuple(t.item(i, j).text() for j in (0, 1, 4)) for i in range(t.rowCount())]


@pytest.mark.slow
def test_save_versions_reopen_and_publish_the_open_one(blender: tuple[Any, Any, Any]) -> None:
    from setpiece.core.events import read
    from setpiece.hosts.ui.publisher_model import publish

    ws, host, runtime = blender
    bpy.ops.mesh.primitive_cube_add(size=1.0, location=(0, 0, 0.5))
    bpy.context.active_object.name = "Seat"
    window = _open(runtime)
    try:
        assert [window.asset.itemText(i) for i in range(window.asset.count())] == ["Chair", "Table"]
        assert window.table.rowCount() == 0
        window.asset.setCurrentIndex(window.asset.findText("Chair"))
        window.comment.setText("blocking")
        window.save_button.click()  # with a thumbnail ([publish] thumbnail is on)
        assert window.status.text() == "saved chair_v001.blend: blocking"
        work = Path(ws.outputs) / "Chair" / "work"
        assert (work / "chair_v001.blend").is_file()
        assert host.current_scene() == str(work / "chair_v001.blend")
        meta = json.loads((work / ".workfiles" / "chair_v001.blend.json").read_text())
        assert meta["comment"] == "blocking" and meta["asset"] == "Chair" and meta["user"]
        assert (work / ".workfiles" / "chair_v001.blend.png").is_file()
        assert not window.thumbnail.pixmap().isNull()

        with ws.config.edit() as doc:  # the rest fast: no render per save or publish
            doc["publish"] = {"thumbnail": False}
        bpy.ops.mesh.primitive_cylinder_add(radius=0.05, depth=0.5)
        bpy.context.active_object.name = "Leg"
        window.comment.setText("a leg")
        window.save_button.click()
        assert _rows(window) == [("v002", "chair_v002.blend  (open)", "a leg"),
                                 ("v001", "chair_v001.blend", "blocking")]
        assert (work / "chair_v001.blend").is_file()  # never overwritten

        # open v001 again: asked first, then the scene is v001's (no leg)
        window.select_version(1)
        window.open_button.click()
        buttons: Any = __import__("Qt").QtWidgets.QMessageBox
        buttons = getattr(buttons, "StandardButton", buttons)
        window.confirmation.button(buttons.Yes).click()
        assert host.current_scene() == str(work / "chair_v001.blend")
        assert "Leg" not in bpy.data.objects and "Seat" in bpy.data.objects
        assert _rows(window)[1] == ("v001", "chair_v001.blend  (open)", "blocking")
        assert window.status.text() == "opened chair_v001.blend"

        # publish picks up the open work file: the asset from where it is saved, the file
        # named in the published event
        report = publish(host, ws, comment="from the blocking")
        assert report.success and report.asset == "Chair", report.format_text()
        (event,) = [e for e in read(Path(ws.root), "published") if e.get("asset") == "Chair"]
        assert event["workfile"] == "chair_v001.blend"
        assert event["comment"] == "from the blocking"
        # a save after that is v003, not over v002
        window.save_button.click()
        assert window.status.text() == "saved chair_v003.blend"
    finally:
        window.close()


def test_workfiles_of_a_missing_asset_is_one_line(blender: tuple[Any, Any, Any]) -> None:
    from setpiece.core.errors import SetpieceError
    from setpiece.hosts import workfiles

    ws, _host, runtime = blender
    with pytest.raises(SetpieceError) as info:
        workfiles.save(runtime, "Sofa", "x", thumbnail=False)
    assert "Sofa" in str(info.value) and "\n" not in str(info.value)
    assert not (Path(ws.outputs) / "Sofa").exists()
