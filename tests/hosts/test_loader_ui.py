"""The loader window (setpiece.hosts.ui.loader), Qt offscreen, against a real workspace
(the sample assets published to a folder repo) and real Blender (bpy in this process):
browse, search, filter, read a version's who/when/why and dependencies, Load into the open
scene, Load into a new scene."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before anything imports Qt
bpy = pytest.importorskip("bpy", reason="bpy (Blender as a Python module) is not installed")
pytestmark = pytest.mark.bpy
pytest.importorskip("pxr")


@pytest.fixture
def blender(sample_ws: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any, Any]]:
    """(workspace, BlenderHost on an empty scene, runtime)."""
    from setpiece.hosts.blender import BlenderHost
    from setpiece.hosts.runtime import Runtime

    monkeypatch.delenv("SETPIECE_NO_QT", raising=False)
    monkeypatch.setenv("PXR_AR_DEFAULT_SEARCH_PATH", "")
    bpy.ops.wm.read_factory_settings(use_empty=True)
    host = BlenderHost()
    yield sample_ws, host, Runtime(host, sample_ws)
    bpy.ops.wm.read_factory_settings(use_empty=True)


def _open(runtime: Any) -> Any:
    """The window itself: bpy as a module is always headless (``bpy.app.background``),
    where the menu entry prints the catalog instead (see test_menu_entries)."""
    from setpiece.hosts.ui.loader import LoaderWindow

    window = LoaderWindow(runtime)
    window.show()
    return window


@pytest.mark.slow
def test_browse_search_and_load(blender: tuple[Any, Any, Any], run_cli: Any) -> None:
    ws, host, runtime = blender
    # a comment on a version, as 'setpiece publish -m' leaves it, in the review repo
    ws.create("Stool", kind="prop", description="A bar stool")
    assert run_cli("publish", "Stool", "-m", "first stool", cwd=ws.root).exit_code == 0
    window = _open(runtime)
    try:
        assert window.visible_assets() == ["Apartment", "Chair", "KitchenSet", "Lamp", "Stool",
                                           "Table"]
        assert window.status.text() == "6 asset(s) in 2 repo(s)"
        repos = [window.repo.itemText(i) for i in range(window.repo.count())]
        assert repos == ["every repo", "blessed (blessed)", "review (default)"]
        window.search.setText("kitchen")  # name or description, any case
        assert window.visible_assets() == ["Chair", "KitchenSet", "Table"]
        window.search.setText("")
        window.kind.setCurrentIndex(window.kind.findData("set"))
        assert window.visible_assets() == ["Apartment", "KitchenSet"]
        window.kind.setCurrentIndex(0)
        window.repo.setCurrentIndex(window.repo.findData("review"))
        assert window.visible_assets() == ["Stool"]
        window.repo.setCurrentIndex(0)

        # Stool: its one version with who, when and the comment
        window.choose("Stool")
        row = [window.versions.item(0, j).text() for j in range(5)]
        assert row[:2] == ["0.1.0", "review"] and row[4] == "first stool"
        assert "@" in row[2] and row[3].startswith("20")

        # Table: three versions, newest first; the set KitchenSet's dependencies
        window.choose("Table")
        assert [window.versions.item(i, 0).text() for i in range(3)] == ["2.0.0", "1.3.0", "1.2.3"]
        window.choose("KitchenSet", "1.0.0")
        deps = {tuple(window.dependencies.topLevelItem(i).text(j) for j in range(3))
                for i in range(window.dependencies.topLevelItemCount())}
        assert deps == {("chair", "build", "push"), ("table<2,>=1.2.3", "build", "semi-push"),
                        ("lamp==3.2.1", "build", "pull")}  # as the wheel's metadata says

        # Load Chair 1.0.0: installed, in the open scene as a container
        window.choose("Chair", "1.0.0")
        window.load_button.click()
        assert window.status.text().startswith(
            "loaded 1 container(s) (Chair 1.0.0) after installing Chair==1.0.0"), \
            window.status.text()
        assert str(ws.installed_assets()["chair"].version) == "1.0.0"
        assert [(c.asset, c.version) for c in host.ls()] == [("Chair", "1.0.0")]
        # the inventory sees it, at 1.0.0 with 1.1.0 published
        from setpiece.hosts.ui.inventory_model import collect

        (row_,) = collect(runtime)
        assert (row_.asset, row_.container.version, row_.newest) == ("Chair", "1.0.0", "1.1.0")

        # Load into new scene: the set and everything it brings, in a new scene
        window.choose("KitchenSet", "1.0.0")
        window.new_scene_button.click()
        assert window.status.text().startswith("loaded 4 container(s)"), window.status.text()
        # (the Chair 1.0.0 installed above satisfies the set's 'Chair': install keeps it)
        assert sorted((c.asset, c.version) for c in host.ls()) == [
            ("Chair", "1.0.0"), ("KitchenSet", "1.0.0"), ("Lamp", "3.2.1"), ("Table", "1.3.0")]
    finally:
        window.close()


def test_loading_an_editable_output_is_refused(blender: tuple[Any, Any, Any]) -> None:
    ws, host, runtime = blender
    ws.create("Stool", kind="prop")
    ws.publish("Stool")
    window = _open(runtime)
    try:
        window.choose("Stool", "0.1.0")
        window.load_button.click()
        assert window.status.text().startswith("Stool is an editable output asset")
        assert "#c62828" in window.status.styleSheet()
        assert host.ls() == []
    finally:
        window.close()


def test_thumbnail_from_the_wheel(blender: tuple[Any, Any, Any], tmp_path: Path) -> None:
    from setpiece.hosts.ui.loader_model import thumbnail

    ws, _host, _runtime = blender
    ws.create("Stool", kind="prop")
    png = Path(ws.output("Stool").package_dir) / "thumbnail.png"
    from Qt import QtGui

    image = QtGui.QImage(32, 24, QtGui.QImage.Format.Format_RGB32)
    image.fill(QtGui.QColor("#3366cc"))
    assert image.save(str(png))
    ws.publish("Stool")
    assert thumbnail(ws, "review", "Stool", "0.1.0") == png  # the editable package's own
    ws.uninstall(["Stool"])  # not installed any more: read from the published wheel
    got = thumbnail(ws, "review", "Stool", "0.1.0")
    assert got is not None and got.read_bytes() == png.read_bytes()
    assert got.parent == Path(ws.state_dir) / "thumbnails"
    assert thumbnail(ws, "blessed", "Chair", "1.0.0") is None  # none in that wheel
