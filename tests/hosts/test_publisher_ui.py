"""The publisher window (setpiece.hosts.ui.publisher), Qt offscreen, in real Blender (bpy
in this process) against a real workspace: the collectors' instances with a tick each
and a comment, an instance turned off and the rest published, a failure read in full and
repaired from the window, and no command-line hints in it."""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before anything imports Qt
bpy = pytest.importorskip("bpy", reason="bpy (Blender as a Python module) is not installed")
pytestmark = pytest.mark.bpy
pytest.importorskip("pyblish")
pytest.importorskip("pxr")


@pytest.fixture
def blender(make_workspace: Callable[..., Any],
            monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any, Any]]:
    """(workspace with an output asset Chair, BlenderHost on an empty scene, runtime)."""
    from setpiece.hosts.blender import BlenderHost
    from setpiece.hosts.runtime import Runtime

    monkeypatch.delenv("SETPIECE_NO_QT", raising=False)
    ws = make_workspace()
    ws.create("Chair", kind="prop")
    with ws.config.edit() as doc:  # keep it fast: no render per publish
        doc["publish"] = {"thumbnail": False}
    bpy.ops.wm.read_factory_settings(use_empty=True)
    host = BlenderHost()
    yield ws, host, Runtime(host, ws)
    bpy.ops.wm.read_factory_settings(use_empty=True)


def chair_in_two_collections(host: Any, ws: Any, seat: str = "Seat") -> Path:
    """Two collections marked for publishing: Body (the seat) and Extras (a cushion)."""
    scene = bpy.context.scene
    for name, obj_name in (("Body", seat), ("Extras", "Cushion")):
        coll = bpy.data.collections.new(name)
        scene.collection.children.link(coll)
        coll["setpiece_publish"] = True
        mesh = bpy.data.meshes.new(obj_name)
        mesh.from_pydata([(0, 0, 0), (1, 0, 0), (0, 1, 0)], [], [(0, 1, 2)])
        coll.objects.link(bpy.data.objects.new(obj_name, mesh))
    path = Path(ws.outputs) / "Chair" / "work" / "chair.blend"
    host.save_scene(str(path))
    return path


def _open(runtime: Any) -> Any:
    """The window itself: bpy as a module is headless, where the Publish entry publishes
    at once and prints the report (tests/hosts/test_publish_surfaces.py)."""
    from setpiece.hosts.ui.publisher import PublisherWindow

    window = PublisherWindow(runtime)
    window.show()
    return window


def _status(window: Any) -> dict[str, str]:
    return {item.text(0): item.text(2) for item, _p in window._step_items() if not item.isHidden()}


@pytest.mark.slow
def test_turn_an_instance_off_comment_and_publish(blender: tuple[Any, Any, Any],
                                                  run_cli: Any) -> None:
    ws, host, runtime = blender
    chair_in_two_collections(host, ws)
    window = _open(runtime)
    try:
        assert window.headline.text() == "Publish Chair 0.1.0 to review"
        items = [window.instances.item(i).text() for i in range(window.instances.count())]
        assert items == ["Body  (setpiece.usd, 1 object(s))",
                         "Extras  (setpiece.usd, 1 object(s))"]
        # pyblish's own date / user / folder collectors: hidden unless asked for
        steps = window.visible_steps()
        assert "Output asset and version" in steps and "Publish to repo" in steps
        assert not {"Current date", "Current user", "Current working directory"} & set(steps)
        window.show_housekeeping.setChecked(True)
        assert {"Current date", "Current user"} <= set(window.visible_steps())
        window.show_housekeeping.setChecked(False)

        window.set_instance("Extras", False)
        assert window.turned_off() == ["Extras"]
        window.comment.setPlainText("new seat, cushion next time")
        seen: list[str] = []
        original = window._set_status
        window._set_status = lambda item, status, ms: (seen.append(status), original(item, status, ms))
        window.publish_button.click()

        assert window.report.success and window.report.published, window.summary.text()
        assert window.summary.text() == "Published Chair 0.1.0 to review."
        assert "success" in seen  # statuses came in while it ran
        status = _status(window)
        assert status["USD"] == "success" and status["Publish to repo"] == "success"
        assert set(status.values()) <= {"success", "skipped"}
        assert any(i.plugin == "SkipInstances" and i.status == "success"
                   for i in window.report.items)
        wheel = next((Path(ws.repo("review").location)).glob("chair-0.1.0-*.whl"))
        with zipfile.ZipFile(wheel) as zf:  # geo/ travels as a dvc pointer; geo.usda says
            geo = zf.read("chair/geo.usda").decode()  # which files the version holds
        assert "@./geo/Body.usdc@" in geo and "Extras" not in geo
        package = Path(ws.output("Chair").package_dir)
        assert (package / "geo" / "Body.usdc").is_file()
        assert not (package / "geo" / "Extras.usdc").exists()
        # the comment is the version's, as 'publish -m' leaves it
        out = run_cli("versions", "Chair", "--long", cwd=ws.root)
        assert out.exit_code == 0 and '"new seat, cushion next time"' in out.out
    finally:
        window.close()


@pytest.mark.slow
def test_failure_in_full_then_repair_and_publish(blender: tuple[Any, Any, Any]) -> None:
    ws, host, runtime = blender
    chair_in_two_collections(host, ws, seat="seat.001")  # not a valid USD name
    window = _open(runtime)
    try:
        window.publish_button.click()
        assert not window.report.success
        assert window.summary.text().startswith("Not published. publish of Chair 0.1.0 failed")
        item = window.steps.currentItem()  # the first failure is chosen
        assert item.text(0) == "Blender: object names" and item.text(2) == "failed"
        text = window.details.toPlainText()
        assert "'seat.001'" in text and "can be repaired: press Repair" in text
        assert "log:" in text
        assert window.repair_button.isEnabled()
        assert not window.finish_button.isVisibleTo(window)
        assert _status(window)["USD"] == "not-run"
        window.repair_button.click()
        assert window.summary.text() == "Repaired: Blender: object names. Publish again."
        assert "seat_001" in bpy.data.objects
        window.publish_button.click()
        assert window.report.success, window.summary.text()
        assert ws.repo("review").versions("Chair") == ["0.1.0"]
    finally:
        window.close()


def test_no_command_line_hints(blender: tuple[Any, Any, Any], tmp_path: Path) -> None:
    _ws, host, runtime = blender
    bpy.ops.mesh.primitive_cube_add()
    host.save_scene(str(tmp_path / "loose.blend"))
    window = _open(runtime)
    try:
        text = window.summary.text()
        assert text.startswith("Before publishing: Output asset and version: this scene "
                               "belongs to no output asset"), text
        assert "setpiece > Workfiles" in text
        assert "--asset" not in text and "'setpiece " not in text
        assert window.headline.text() == "Publish nothing to publish yet"
    finally:
        window.close()
